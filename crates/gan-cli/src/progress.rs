//! The training progress display: one bar over the whole run (epoch, step, losses, images per
//! second, time left) and one summary line per epoch.

use gan::epoch::Progress;
use gan::session::EpochReport;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::time::Duration;

/// A progress bar for the steps left in a run.
pub struct TrainingProgress {
    bar: ProgressBar,
    epochs: usize,
    label: String,
}

impl TrainingProgress {
    /// A bar for `steps_left` steps of a run of `epochs` epochs; `label` prefixes every line
    /// (e.g. a sweep's setting; may be empty).
    pub fn new(steps_left: u64, epochs: usize, label: &str) -> TrainingProgress {
        TrainingProgress::with_bar(ProgressBar::new(steps_left), epochs, label)
    }

    /// The same, as one of several bars shown together (parallel sweep runs).
    pub fn in_group(
        group: &MultiProgress,
        steps_left: u64,
        epochs: usize,
        label: &str,
    ) -> TrainingProgress {
        let bar = group.add(ProgressBar::new(steps_left));
        TrainingProgress::with_bar(bar, epochs, label)
    }

    fn with_bar(bar: ProgressBar, epochs: usize, label: &str) -> TrainingProgress {
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:28.cyan/blue}] {pos}/{len} {msg} {elapsed_precise} elapsed, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(500));
        TrainingProgress {
            bar,
            epochs,
            label: if label.is_empty() {
                String::new()
            } else {
                format!("{label} ")
            },
        }
    }

    /// Shows a finished step.
    pub fn step(&self, p: &Progress) {
        self.bar.inc(1);
        if p.batch.is_multiple_of(10) || p.batch == p.batches {
            self.bar.set_prefix(format!(
                "{}epoch {}/{} batch {}/{}",
                self.label, p.epoch, self.epochs, p.batch, p.batches
            ));
            self.bar.set_message(format!(
                "d_loss {:.3} g_loss {:.3} {:.0} img/s",
                p.stats.d_loss, p.stats.g_loss, p.images_per_sec
            ));
        }
    }

    /// Prints the summary line of a finished epoch above the bar.
    pub fn epoch(&self, r: &EpochReport) {
        let m = &r.metrics;
        let mut line = format!(
            "{}epoch {:>3}/{}: d_loss {:.4} g_loss {:.4} D acc {:.3} (real {:.3}, fake {:.3}) \
             D(x) {:.3} D(G(z)) {:.3} {:.1} s {:.0} img/s",
            self.label,
            m.epoch,
            self.epochs,
            m.d_loss,
            m.g_loss,
            m.d_acc,
            m.d_acc_real,
            m.d_acc_fake,
            m.d_real,
            m.d_fake,
            m.seconds,
            m.images_per_sec
        );
        if let (Some(fid), Some(ratio)) = (m.fid, m.class_ratio) {
            line.push_str(&format!(" FID {fid:.2} class ratio {ratio:.2}"));
        }
        self.bar.suspend(|| {
            println!("{line}");
            for w in &r.warnings {
                eprintln!("warning: {w}");
            }
        });
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
