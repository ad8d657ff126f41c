//! The charts of a training run (`plots/losses.png`, `plots/accuracy.png`) and of a comparison
//! between runs, from per-epoch curves that know nothing of the training code.

use std::path::{Path, PathBuf};

use render::{save_line_chart, LineChart, RenderError, Result, Series};

/// Width of the charts written by this file, in pixels.
pub const CHART_WIDTH: u32 = 900;
/// Height of the charts written by this file, in pixels.
pub const CHART_HEIGHT: u32 = 600;

/// Per-epoch figures of one training run, one value per epoch in each vector.
///
/// A curve may be left empty when it was not recorded (it is then not drawn); otherwise it must
/// have one value per entry of `epoch`. NaN values (e.g. a diverged loss) leave a gap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingCurves {
    /// Epoch numbers (1, 2, ...), the horizontal axis.
    pub epoch: Vec<f64>,
    /// Mean discriminator loss.
    pub d_loss: Vec<f64>,
    /// Mean generator loss.
    pub g_loss: Vec<f64>,
    /// Discriminator accuracy on real digits, in [0, 1].
    pub d_acc_real: Vec<f64>,
    /// Discriminator accuracy on generated digits, in [0, 1].
    pub d_acc_fake: Vec<f64>,
    /// Discriminator accuracy on both, in [0, 1].
    pub d_acc: Vec<f64>,
}

impl TrainingCurves {
    /// Checks that every non-empty curve has one value per epoch; `name` labels the message.
    pub fn check(&self, name: &str) -> Result<()> {
        let n = self.epoch.len();
        for (field, v) in self.fields() {
            if !v.is_empty() && v.len() != n {
                return Err(RenderError::InvalidInput(format!(
                    "training curves{}: {field} has {} values for {n} epochs",
                    if name.is_empty() {
                        String::new()
                    } else {
                        format!(" of {name}")
                    },
                    v.len()
                )));
            }
        }
        Ok(())
    }

    fn fields(&self) -> [(&'static str, &[f64]); 5] {
        [
            ("d_loss", &self.d_loss),
            ("g_loss", &self.g_loss),
            ("d_acc_real", &self.d_acc_real),
            ("d_acc_fake", &self.d_acc_fake),
            ("d_acc", &self.d_acc),
        ]
    }

    /// `values` against epochs, or `None` when the curve was not recorded.
    fn series(&self, name: &str, values: &[f64]) -> Option<Series> {
        (!values.is_empty()).then(|| Series::from_xy(name, &self.epoch, values))
    }
}

/// Writes `losses.png` (discriminator and generator loss per epoch) and `accuracy.png`
/// (discriminator accuracy on real, on fake and overall, from 0 to 1, with chance level
/// dashed) into `plots_dir`, creating the folder if needed. Returns the paths written.
///
/// ```no_run
/// use gan::charts::{save_training_plots, TrainingCurves};
/// # fn main() -> Result<(), render::RenderError> {
/// let curves = TrainingCurves {
///     epoch: vec![1.0, 2.0],
///     d_loss: vec![1.2, 1.1],
///     g_loss: vec![0.9, 1.0],
///     ..TrainingCurves::default()
/// };
/// save_training_plots(&curves, "runs/x/plots")?;
/// # Ok(())
/// # }
/// ```
pub fn save_training_plots(
    curves: &TrainingCurves,
    plots_dir: impl AsRef<Path>,
) -> Result<Vec<PathBuf>> {
    let dir = plots_dir.as_ref();
    curves.check("")?;
    create_dir(dir)?;

    let mut losses = LineChart::new("Losses", "epoch", "mean loss");
    losses
        .series
        .extend(curves.series("discriminator", &curves.d_loss));
    losses
        .series
        .extend(curves.series("generator", &curves.g_loss));

    let mut acc = accuracy_chart("Discriminator accuracy");
    acc.series
        .extend(curves.series("on real", &curves.d_acc_real));
    acc.series
        .extend(curves.series("on fake", &curves.d_acc_fake));
    acc.series.extend(curves.series("overall", &curves.d_acc));

    write_all(dir, [("losses.png", losses), ("accuracy.png", acc)])
}

/// Writes overlaid charts of several named runs into `dir` (created if needed), one colour per
/// run, in the order given: `generator-loss.png`, `discriminator-loss.png` and
/// `discriminator-accuracy.png` (overall accuracy, 0 to 1). Returns the paths written.
pub fn save_comparison_plots<S: AsRef<str>>(
    runs: &[(S, TrainingCurves)],
    dir: impl AsRef<Path>,
) -> Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    if runs.is_empty() {
        return Err(RenderError::InvalidInput(format!(
            "{}: no runs to compare",
            dir.display()
        )));
    }
    for (name, curves) in runs {
        curves.check(name.as_ref())?;
    }
    create_dir(dir)?;
    let overlay = |title: &str, y_label: &str, pick: fn(&TrainingCurves) -> &[f64]| {
        let mut chart = LineChart::new(title, "epoch", y_label);
        for (name, curves) in runs {
            let values = pick(curves);
            // Keep colours tied to runs even when a run lacks this curve.
            chart.series.push(
                curves
                    .series(name.as_ref(), values)
                    .unwrap_or_else(|| Series::new(name.as_ref(), Vec::new())),
            );
        }
        chart
    };
    let g = overlay("Generator loss", "mean loss", |c| &c.g_loss);
    let d = overlay("Discriminator loss", "mean loss", |c| &c.d_loss);
    let mut acc = overlay("Discriminator accuracy", "accuracy", |c| &c.d_acc);
    let a = accuracy_chart("");
    acc.y_range = a.y_range;
    acc.ref_lines = a.ref_lines;
    write_all(
        dir,
        [
            ("generator-loss.png", g),
            ("discriminator-loss.png", d),
            ("discriminator-accuracy.png", acc),
        ],
    )
}

/// An accuracy chart: 0 to 1 (with a hair of room so points at 1 are not cut) and a dashed
/// chance line at 0.5.
fn accuracy_chart(title: &str) -> LineChart {
    LineChart::new(title, "epoch", "accuracy")
        .with_y_range(-0.02, 1.02)
        .with_ref_line(0.5, "chance (0.5)")
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| RenderError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_all<const N: usize>(dir: &Path, charts: [(&str, LineChart); N]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(N);
    for (file, chart) in charts {
        let path = dir.join(file);
        save_line_chart(&chart, &path, CHART_WIDTH, CHART_HEIGHT)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use render::load_png_gray;

    /// Made-up curves of `n` epochs: D loss falls to ~1.2, G loss rises to ~1.0.
    fn fake_curves(n: usize, shift: f64) -> TrainingCurves {
        let mut c = TrainingCurves::default();
        for i in 0..n {
            let t = i as f64;
            let wobble = (t * 1.3 + shift).sin() * 0.04;
            c.epoch.push(t + 1.0);
            c.d_loss
                .push(1.15 + 0.25 * (-t / 3.0).exp() + wobble + shift * 0.05);
            c.g_loss
                .push(1.05 - 0.35 * (-t / 4.0).exp() - wobble + shift * 0.1);
            c.d_acc_real
                .push(0.62 + 0.2 * (-t / 5.0).exp() + wobble + shift * 0.03);
            c.d_acc_fake
                .push(0.55 + 0.35 * (-t / 2.0).exp() - wobble * 0.5 - shift * 0.02);
            c.d_acc.push((c.d_acc_real[i] + c.d_acc_fake[i]) / 2.0);
        }
        c
    }

    #[test]
    fn training_plots_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let plots = dir.path().join("plots");
        let written = save_training_plots(&fake_curves(20, 0.0), &plots).unwrap();
        assert_eq!(
            written,
            vec![plots.join("losses.png"), plots.join("accuracy.png")]
        );
        for p in &written {
            let img = load_png_gray(p).unwrap();
            assert_eq!((img.width, img.height), (CHART_WIDTH, CHART_HEIGHT));
        }
    }

    #[test]
    fn comparison_plots_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let runs = vec![
            ("lr=2e-5".to_string(), fake_curves(20, 0.0)),
            ("lr=2e-4".to_string(), fake_curves(15, 1.0)),
        ];
        let written = save_comparison_plots(&runs, dir.path()).unwrap();
        assert_eq!(written.len(), 3);
        assert!(written.iter().all(|p| p.exists()));
        let none: &[(&str, TrainingCurves)] = &[];
        assert!(save_comparison_plots(none, dir.path()).is_err());
    }

    #[test]
    fn mismatched_lengths_are_named() {
        let mut c = fake_curves(20, 0.0);
        c.g_loss.pop();
        let dir = tempfile::tempdir().unwrap();
        let msg = save_training_plots(&c, dir.path()).unwrap_err().to_string();
        assert_eq!(msg, "training curves: g_loss has 19 values for 20 epochs");
        let msg = save_comparison_plots(&[("adam", c)], dir.path())
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "training curves of adam: g_loss has 19 values for 20 epochs"
        );
        // Empty curves are fine: not recorded.
        let partial = TrainingCurves {
            epoch: vec![1.0],
            d_loss: vec![0.7],
            ..TrainingCurves::default()
        };
        save_training_plots(&partial, dir.path()).unwrap();
    }
}
