//! Training a detector: Adam on (optionally weighted) binary cross-entropy with logits, an
//! epoch at a time, with validation figures after each epoch and test figures at the end.

use super::counts::{best_f1_threshold, BinaryCounts};
use super::data::{Digits, TrainValSplit};
use super::model::Detector;
use super::{DetectConfig, LrSchedule};
use crate::error::{Error, Result};
use crate::streams as rng;
use autograd::optim::{Optimizer, OptimizerKind, OptimizerSettings};
use autograd::{BufferPool, Gradients, Graph};
use mnist_idx::Mnist;
use mnist_idx::PIXELS as IMAGE_PIXELS;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The three parts of the data a detector sees: digits to train on, held-out validation digits
/// (both from the MNIST training split) and the test digits.
#[derive(Debug, Clone)]
pub struct DetectData {
    /// Digits trained on (90% of the training split by default).
    pub train: Digits,
    /// Held-out digits for validation figures and the threshold.
    pub val: Digits,
    /// The 10,000 test digits.
    pub test: Digits,
}

impl DetectData {
    /// Splits `mnist`'s training digits by `val_fraction` with the split stream of `seed`.
    pub fn new(mnist: &Mnist, val_fraction: f64, seed: u64) -> Result<DetectData> {
        let split = TrainValSplit::new(&mnist.train.labels, val_fraction, seed)?;
        Ok(DetectData {
            train: Digits::pick(&mnist.train, &split.train),
            val: Digits::pick(&mnist.train, &split.val),
            test: Digits::all(&mnist.test),
        })
    }
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Seconds of training steps.
    pub seconds: f64,
    /// The learning rate of the epoch's last step.
    pub lr: f32,
    /// Mean training loss (weighted, as optimised).
    pub train_loss: f64,
    /// Mean unweighted binary cross-entropy on the validation digits.
    pub val_loss: f64,
    /// Validation decisions at probability ½.
    pub val: BinaryCounts,
}

/// The result of training one detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectOutcome {
    /// The configuration trained.
    pub config: DetectConfig,
    /// Per-epoch figures.
    pub epochs: Vec<EpochFigures>,
    /// The decision threshold on the logit (0 is probability ½).
    pub threshold: f32,
    /// Validation decisions at that threshold.
    pub val: BinaryCounts,
    /// Test decisions at that threshold.
    pub test: BinaryCounts,
    /// Test false positives by their true digit (what the detector confuses with its digit).
    pub test_fp_by_digit: [u64; 10],
    /// Seconds of the whole training and evaluation.
    pub seconds: f64,
}

impl DetectOutcome {
    /// The threshold as a probability.
    pub fn threshold_probability(&self) -> f32 {
        1.0 / (1.0 + (-self.threshold).exp())
    }
}

/// A detector with its optimizer and reused buffers, trained a step or an epoch at a time.
pub struct DetectTrainer {
    /// The detector being trained.
    pub detector: Detector,
    config: DetectConfig,
    optimizer: Optimizer,
    grads: Gradients,
    pool: BufferPool,
    shift_rng: ChaCha8Rng,
    pos_weight: f32,
    total_steps: u64,
    x: Vec<f32>,
    targets: Vec<f32>,
    weights: Vec<f32>,
}

impl DetectTrainer {
    /// A fresh detector for `config`, to be trained on `train` (whose class counts set the
    /// weight of the target digits when weighting is on).
    pub fn new(config: &DetectConfig, train: &Digits) -> Result<DetectTrainer> {
        config.validate()?;
        let positives = train.count(config.digit);
        if positives == 0 || positives == train.len() {
            return Err(Error::Invalid(format!(
                "the training digits must include both digit {} and other digits ({positives} \
                 of {} are {})",
                config.digit,
                train.len(),
                config.digit
            )));
        }
        let detector = Detector::new(config)?;
        let settings = OptimizerSettings {
            kind: OptimizerKind::Adam,
            lr: config.lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            alpha: 0.99,
            momentum: 0.0,
        };
        let optimizer = Optimizer::new(settings, detector.param_ids(), &detector.params)?;
        let pos_weight = if config.weighting {
            (train.len() - positives) as f32 / positives as f32
        } else {
            1.0
        };
        let steps_per_epoch = train.len().div_ceil(config.batch) as u64;
        Ok(DetectTrainer {
            grads: Gradients::zeros_like(&detector.params),
            detector,
            config: config.clone(),
            optimizer,
            pool: BufferPool::new(),
            shift_rng: rng::stream(config.seed, rng::STREAM_DETECT_SHIFT),
            pos_weight,
            total_steps: steps_per_epoch * config.epochs as u64,
            x: Vec::new(),
            targets: Vec::new(),
            weights: Vec::new(),
        })
    }

    /// The weight of a target digit in the loss (1 without weighting).
    pub fn pos_weight(&self) -> f32 {
        self.pos_weight
    }

    /// The learning rate the next step will use.
    pub fn current_lr(&self) -> f32 {
        let lr = self.config.lr;
        match self.config.schedule {
            LrSchedule::Constant => lr,
            LrSchedule::Cosine => {
                let t = self.optimizer.steps() as f64 / self.total_steps.max(1) as f64;
                (f64::from(lr) * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())) as f32
            }
        }
    }

    /// One Adam step on the digits `indices` of `train`; returns the batch's loss.
    pub fn step(&mut self, train: &Digits, indices: &[u32]) -> Result<f32> {
        let c = &self.config;
        let b = indices.len();
        let pixels = self.detector.net.pixels();
        train.fill_batch(indices, pixels, c.shift, &mut self.shift_rng, &mut self.x);
        self.targets.clear();
        self.weights.clear();
        for &i in indices {
            let yes = train.labels()[i as usize] == c.digit;
            self.targets.push(if yes { 1.0 } else { 0.0 });
            self.weights.push(if yes { self.pos_weight } else { 1.0 });
        }
        self.grads.zero();
        let loss = {
            let mut g = Graph::new(&self.detector.params, &mut self.pool);
            let x = g.constant_from(&[b, IMAGE_PIXELS], &self.x)?;
            let t = g.constant_from(&[b, 1], &self.targets)?;
            let logits = self.detector.net.forward(&mut g, x)?;
            let loss = if c.weighting {
                let w = g.constant_from(&[b, 1], &self.weights)?;
                g.bce_with_logits_weighted(logits, t, w)?
            } else {
                g.bce_with_logits(logits, t)?
            };
            g.backward(loss, &mut self.grads)?;
            g.value(loss).data()[0]
        };
        self.optimizer.set_lr(self.current_lr());
        self.optimizer
            .step(&mut self.detector.params, &self.grads)?;
        Ok(loss)
    }

    /// One pass over `train` in the seed's shuffled order for `epoch` (from 1); returns the mean
    /// loss.
    pub fn epoch(&mut self, train: &Digits, epoch: usize) -> Result<f64> {
        let mut order: Vec<u32> = (0..train.len() as u32).collect();
        let mut r = rng::stream(
            self.config.seed,
            rng::STREAM_DETECT_SHUFFLE_BASE + epoch as u64,
        );
        order.shuffle(&mut r);
        let mut total = 0.0f64;
        for chunk in order.chunks(self.config.batch) {
            let loss = self.step(train, chunk)?;
            if !loss.is_finite() {
                return Err(Error::Invalid(format!(
                    "the detector's training diverged in epoch {epoch}: the loss became {loss}; \
                     try a lower learning rate (--lr)"
                )));
            }
            total += f64::from(loss) * chunk.len() as f64;
        }
        Ok(total / train.len().max(1) as f64)
    }

    /// The logits of `digits` (no shift, no dropout).
    pub fn logits(&mut self, digits: &Digits) -> Result<Vec<f32>> {
        self.detector.logits(digits, &mut self.pool)
    }
}

/// Mean binary cross-entropy of logits against the truth.
fn mean_bce(logits: &[f32], truth: &[bool]) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(truth)
        .map(|(&x, &p)| {
            let t = if p { 1.0 } else { 0.0 };
            f64::from(x.max(0.0) - x * t + (-x.abs()).exp().ln_1p())
        })
        .sum();
    total / logits.len().max(1) as f64
}

/// Trains a detector for `config` on `data`, calling `on_epoch` after each epoch with its
/// validation figures, and reports on the test digits at the chosen threshold.
pub fn train_detector(
    config: &DetectConfig,
    data: &DetectData,
    mut on_epoch: impl FnMut(&EpochFigures),
) -> Result<DetectOutcome> {
    let start = Instant::now();
    let mut trainer = DetectTrainer::new(config, &data.train)?;
    let val_truth = data.val.is_digit(config.digit);
    let mut epochs = Vec::with_capacity(config.epochs);
    let mut val_logits = Vec::new();
    for epoch in 1..=config.epochs {
        let t0 = Instant::now();
        let train_loss = trainer.epoch(&data.train, epoch)?;
        let seconds = t0.elapsed().as_secs_f64();
        val_logits = trainer.logits(&data.val)?;
        let figures = EpochFigures {
            epoch,
            seconds,
            lr: trainer.optimizer.settings().lr,
            train_loss,
            val_loss: mean_bce(&val_logits, &val_truth),
            val: BinaryCounts::from_scores(&val_logits, &val_truth, 0.0),
        };
        on_epoch(&figures);
        epochs.push(figures);
    }
    let threshold = if config.tune_threshold {
        best_f1_threshold(&val_logits, &val_truth)
    } else {
        0.0
    };
    let test_logits = trainer.logits(&data.test)?;
    let test_truth = data.test.is_digit(config.digit);
    let mut test_fp_by_digit = [0u64; 10];
    for (&x, &label) in test_logits.iter().zip(data.test.labels()) {
        if x > threshold && label != config.digit {
            test_fp_by_digit[usize::from(label)] += 1;
        }
    }
    Ok(DetectOutcome {
        config: config.clone(),
        epochs,
        threshold,
        val: BinaryCounts::from_scores(&val_logits, &val_truth, threshold),
        test: BinaryCounts::from_scores(&test_logits, &test_truth, threshold),
        test_fp_by_digit,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mnist_idx::Split;

    /// 64 synthetic digits: the target (label 3) has ink in the top half, the others (label 5)
    /// in the bottom half, with a little variation.
    fn synthetic() -> Digits {
        let n = 64;
        let mut images = vec![0u8; n * IMAGE_PIXELS];
        let mut labels = Vec::with_capacity(n);
        for (i, image) in images.chunks_exact_mut(IMAGE_PIXELS).enumerate() {
            let top = i % 4 == 0;
            labels.push(if top { 3 } else { 5 });
            let rows = if top { 4..12 } else { 16..24 };
            for y in rows {
                for x in 6 + i % 5..20 {
                    image[y * 28 + x] = 200;
                }
            }
        }
        let split = Split {
            images,
            labels,
            len: n,
        };
        Digits::all(&split)
    }

    #[test]
    fn a_few_steps_lower_the_loss() {
        let data = synthetic();
        let config = DetectConfig {
            digit: 3,
            hidden: vec![32, 16],
            batch: 64,
            schedule: LrSchedule::Constant,
            weighting: true,
            ..DetectConfig::default()
        };
        let mut trainer = DetectTrainer::new(&config, &data).unwrap();
        assert!((trainer.pos_weight() - 3.0).abs() < 1e-6);
        let all: Vec<u32> = (0..64).collect();
        let first = trainer.step(&data, &all).unwrap();
        let mut last = first;
        for _ in 0..15 {
            last = trainer.step(&data, &all).unwrap();
        }
        assert!(last < 0.5 * first, "loss {first} → {last}");
        let logits = trainer.logits(&data).unwrap();
        let c = BinaryCounts::from_scores(&logits, &data.is_digit(3), 0.0);
        assert_eq!(c.accuracy(), 1.0, "{c:?}");
    }

    #[test]
    fn a_cosine_schedule_decays_to_zero() {
        let data = synthetic();
        let config = DetectConfig {
            digit: 3,
            hidden: vec![8],
            batch: 32,
            epochs: 2,
            ..DetectConfig::default()
        };
        let mut trainer = DetectTrainer::new(&config, &data).unwrap();
        assert_eq!(trainer.current_lr(), config.lr);
        for epoch in 1..=2 {
            trainer.epoch(&data, epoch).unwrap();
        }
        // Four steps of four: the last used lr·(1 + cos(3π/4))/2.
        let want = config.lr * 0.5 * (1.0 + (3.0 * std::f32::consts::PI / 4.0).cos());
        assert!((trainer.optimizer.settings().lr - want).abs() < 1e-9);
        assert!(trainer.current_lr() < 1e-12);
    }

    #[test]
    fn a_detector_needs_both_classes() {
        let data = synthetic();
        let config = DetectConfig {
            digit: 7,
            ..DetectConfig::default()
        };
        let e = DetectTrainer::new(&config, &data)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("digit 7"), "{e}");
    }
}
