//! Sample quality during and after training, through the evaluator classifier: FID against the
//! test digits and the class balance, for `gan train --eval-every N` and `gan sweep`'s summary.

use anyhow::{Context, Result};
use digit_classifiers::evaluator::Classifier;
use digit_classifiers::quality::{feature_stats, quick_quality, QuickQuality};
use gan::sweep::SettingQuality;
use gan::{Gan, RunDir, TrainingRun};
use metrics::FeatureStats;
use mnist_idx::{Split, SplitKind};

/// Digits generated per measurement during training (FID is biased by sample size, so the
/// figures in `metrics.csv` compare across epochs, not with `gan eval`'s 10,000).
pub const TRAINING_SAMPLES: usize = 2_000;
/// Digits generated per run for a sweep's summary (as many as `gan eval`).
pub const SWEEP_SAMPLES: usize = 10_000;

/// The evaluator with the test digits' feature statistics, ready to measure generators.
pub struct QualityMeter {
    classifier: Classifier,
    test_stats: FeatureStats,
    samples: usize,
}

impl QualityMeter {
    /// Loads the committed evaluator and measures the test digits in `data_dir` once.
    pub fn new(data_dir: &str, samples: usize) -> Result<QualityMeter> {
        let mut classifier = Classifier::load_default()?;
        let test = Split::load(data_dir, SplitKind::Test)
            .with_context(|| format!("the test digits are needed for FID (in {data_dir})"))?;
        let test_stats = feature_stats(&mut classifier, &test.images, test.len)?;
        Ok(QualityMeter {
            classifier,
            test_stats,
            samples,
        })
    }

    /// FID and class balance of `samples` digits from `gan` (noise from the run's seed).
    pub fn measure(&mut self, gan: &mut Gan) -> gan::Result<QuickQuality> {
        let seed = gan.config.seed;
        let digits = gan.sample_u8(self.samples, seed)?;
        let q = quick_quality(
            &mut self.classifier,
            &digits,
            self.samples,
            &self.test_stats,
        )?;
        Ok(q)
    }
}

/// With `eval_every > 0`, makes the run measure FID and class balance at those epochs.
pub fn attach_probe(session: &mut TrainingRun) -> Result<()> {
    let config = session.trainer().config();
    if config.eval_every == 0 {
        return Ok(());
    }
    let mut meter = QualityMeter::new(&config.data_dir, TRAINING_SAMPLES)?;
    session.set_quality_probe(Box::new(move |gan| {
        let q = meter.measure(gan)?;
        Ok((q.fid, q.class_ratio.unwrap_or(f64::INFINITY)))
    }));
    Ok(())
}

/// A function measuring a finished run for a sweep's summary (`None` when disabled).
pub fn sweep_evaluator(
    enabled: bool,
    data_dir: &str,
) -> Result<impl FnMut(&RunDir) -> gan::Result<Option<SettingQuality>>> {
    let mut meter = if enabled {
        Some(QualityMeter::new(data_dir, SWEEP_SAMPLES)?)
    } else {
        None
    };
    Ok(move |run: &RunDir| {
        let Some(meter) = meter.as_mut() else {
            return Ok(None);
        };
        if crate::interrupt::stop_requested() {
            return Err(gan::GanError::InvalidInput(format!(
                "interrupted during the sweep's evaluation (before {}); every run is trained \
                 and kept: `gan sweep --resume` on the sweep folder evaluates them again",
                run.path().display()
            )));
        }
        let q = meter.measure(&mut run.load_gan()?)?;
        Ok(Some(SettingQuality {
            fid: q.fid,
            class_ratio: q.class_ratio.unwrap_or(f64::INFINITY),
            counts: q.class_counts,
        }))
    })
}
