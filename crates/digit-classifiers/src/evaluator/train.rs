//! Training the evaluator: Adam, a learning rate that warms up linearly and then follows a
//! cosine down to zero, mini-batches in a seeded random order, each digit randomly shifted by up
//! to ±`max_shift` pixels, dropout before the last layer. Everything random comes from the
//! seed's classifier streams, so the same seed gives the same weights.

use super::model::standard_value;
use super::Classifier;
use crate::augment::shift_into;
use crate::error::{Error, Result};
use crate::streams as rng;
use autograd::optim::{Optimizer, OptimizerKind, OptimizerSettings};
use autograd::{Gradients, Graph};
use mnist_idx::{PIXELS, SIDE};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// How the evaluator is trained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainSettings {
    /// Passes over the training digits.
    pub epochs: usize,
    /// Digits per batch.
    pub batch: usize,
    /// Peak learning rate (reached after the warm-up).
    pub lr: f32,
    /// Steps of linear warm-up from 0 to `lr`.
    pub warmup_steps: u64,
    /// Largest random shift in pixels, each direction (0 turns shifting off).
    pub max_shift: usize,
    /// The seed of every random choice.
    pub seed: u64,
}

impl Default for TrainSettings {
    /// 10 epochs of 128 digits per batch, peak lr 1e-3 after 300 warm-up steps, shifts of up to
    /// 2 pixels, seed 1.
    fn default() -> Self {
        TrainSettings {
            epochs: 10,
            batch: 128,
            lr: 1e-3,
            warmup_steps: 300,
            max_shift: 2,
            seed: 1,
        }
    }
}

impl TrainSettings {
    fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Invalid(what));
        if self.epochs == 0 {
            return bad("the evaluator needs at least one epoch".into());
        }
        if self.batch == 0 || self.batch > 4096 {
            return bad(format!("batch {}: choose between 1 and 4096", self.batch));
        }
        if !(self.lr > 0.0 && self.lr < 1.0) {
            return bad(format!("learning rate {}: choose one in (0, 1)", self.lr));
        }
        if self.max_shift > 8 {
            return bad(format!(
                "max shift {} pixels: at most 8 (a 28x28 digit shifted further leaves the frame)",
                self.max_shift
            ));
        }
        Ok(())
    }

    /// The learning rate of update `step` (0-based) out of `total`: linear warm-up, then a
    /// cosine from `lr` to 0.
    pub fn lr_at(&self, step: u64, total: u64) -> f32 {
        let warm = self.warmup_steps.min(total / 2);
        if step < warm {
            return self.lr * (step + 1) as f32 / warm as f32;
        }
        let span = (total - warm).max(1) as f64;
        let t = ((step - warm) as f64 / span).min(1.0);
        (f64::from(self.lr) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())) as f32
    }
}

/// Figures of one training epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluatorEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean cross-entropy over the epoch's batches.
    pub loss: f64,
    /// Share of the epoch's (shifted, dropout-on) training digits classified right.
    pub train_accuracy: f64,
    /// Learning rate of the epoch's last update.
    pub lr: f32,
}

/// Trains a [`Classifier`] epoch by epoch.
pub struct EvaluatorTrainer {
    classifier: Classifier,
    settings: TrainSettings,
    optimizer: Optimizer,
    grads: Gradients,
    data_rng: ChaCha8Rng,
    step: u64,
    total_steps: u64,
    epoch: usize,
    batch_x: Vec<f32>,
    batch_y: Vec<usize>,
}

impl EvaluatorTrainer {
    /// A fresh evaluator (initialised from `settings.seed`) ready to train on `train_len` digits.
    pub fn new(settings: TrainSettings, train_len: usize) -> Result<EvaluatorTrainer> {
        settings.validate()?;
        if train_len == 0 {
            return Err(Error::Invalid("no training digits".into()));
        }
        let classifier = Classifier::new(settings.seed)?;
        let opt = OptimizerSettings {
            kind: OptimizerKind::Adam,
            lr: settings.lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            alpha: 0.99,
            momentum: 0.0,
        };
        let ids = classifier.params.ids().collect();
        let optimizer = Optimizer::new(opt, ids, &classifier.params)?;
        let grads = Gradients::zeros_like(&classifier.params);
        let per_epoch = train_len.div_ceil(settings.batch) as u64;
        Ok(EvaluatorTrainer {
            classifier,
            settings,
            optimizer,
            grads,
            data_rng: rng::stream(settings.seed, rng::STREAM_CLASSIFIER_DATA),
            step: 0,
            total_steps: per_epoch * settings.epochs as u64,
            epoch: 0,
            batch_x: Vec::new(),
            batch_y: Vec::new(),
        })
    }

    /// The evaluator being trained.
    pub fn classifier(&mut self) -> &mut Classifier {
        &mut self.classifier
    }

    /// The trained evaluator.
    pub fn into_classifier(self) -> Classifier {
        self.classifier
    }

    /// The settings.
    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// One pass over `images` (`labels.len()` digits of 784 u8 pixels) in a fresh random order.
    pub fn train_epoch(&mut self, images: &[u8], labels: &[u8]) -> Result<EvaluatorEpoch> {
        let n = labels.len();
        if images.len() != n * PIXELS || n == 0 {
            return Err(Error::Evaluator(format!(
                "{} labels need {} pixels, got {}",
                n,
                n * PIXELS,
                images.len()
            )));
        }
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.shuffle(&mut self.data_rng);
        let (mut loss_sum, mut batches, mut correct) = (0.0f64, 0usize, 0usize);
        let mut lr = self.settings.lr;
        for chunk in order.chunks(self.settings.batch) {
            self.fill_batch(images, labels, chunk);
            lr = self.settings.lr_at(self.step, self.total_steps);
            self.optimizer.set_lr(lr);
            let (loss, right) = self.step_on_batch()?;
            loss_sum += f64::from(loss);
            batches += 1;
            correct += right;
        }
        self.epoch += 1;
        Ok(EvaluatorEpoch {
            epoch: self.epoch,
            loss: loss_sum / batches as f64,
            train_accuracy: correct as f64 / n as f64,
            lr,
        })
    }

    /// Copies the digits of `chunk`, each randomly shifted, into the batch buffers.
    fn fill_batch(&mut self, images: &[u8], labels: &[u8], chunk: &[u32]) {
        let s = self.settings.max_shift as i32;
        self.batch_x.resize(chunk.len() * PIXELS, 0.0);
        self.batch_y.clear();
        for (&i, out) in chunk.iter().zip(self.batch_x.chunks_exact_mut(PIXELS)) {
            let i = i as usize;
            let (dx, dy) = if s > 0 {
                (
                    self.data_rng.random_range(-s..=s),
                    self.data_rng.random_range(-s..=s),
                )
            } else {
                (0, 0)
            };
            shift_into(
                &images[i * PIXELS..(i + 1) * PIXELS],
                dx,
                dy,
                standard_value,
                out,
            );
            self.batch_y.push(usize::from(labels[i]));
        }
    }

    /// One Adam update on the current batch; returns its loss and how many it got right.
    fn step_on_batch(&mut self) -> Result<(f32, usize)> {
        let b = self.batch_y.len();
        self.grads.zero();
        let c = &mut self.classifier;
        let (loss, correct) = {
            let mut g = Graph::new(&c.params, &mut c.pool);
            let x = g.constant_from(&[b, 1, SIDE, SIDE], &self.batch_x)?;
            let out = c.layers.forward(&mut g, x)?;
            let loss = g.cross_entropy(out.logits, &self.batch_y)?;
            g.backward(loss, &mut self.grads)?;
            let logits = g.value(out.logits).data();
            let correct = logits
                .chunks_exact(super::CLASSES)
                .zip(&self.batch_y)
                .filter(|(row, &y)| usize::from(super::argmax(row)) == y)
                .count();
            (g.value(loss).data()[0], correct)
        };
        if !loss.is_finite() {
            return Err(Error::Evaluator(format!(
                "training diverged at step {}: the loss became {loss}; try a lower learning rate",
                self.step + 1
            )));
        }
        self.optimizer.step(&mut c.params, &self.grads)?;
        self.step += 1;
        Ok((loss, correct))
    }
}

/// Share of `labels.len()` digits (784 u8 pixels each) that `classifier` labels right.
pub fn accuracy(classifier: &mut Classifier, images: &[u8], labels: &[u8]) -> Result<f64> {
    let out = classifier.classify(images, labels.len())?;
    let right = out
        .labels
        .iter()
        .zip(labels)
        .filter(|(p, t)| p == t)
        .count();
    Ok(right as f64 / labels.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_warms_up_then_decays_to_zero() {
        let s = TrainSettings {
            warmup_steps: 10,
            ..TrainSettings::default()
        };
        assert!((s.lr_at(0, 100) - 1e-4).abs() < 1e-9);
        assert!((s.lr_at(9, 100) - 1e-3).abs() < 1e-9);
        assert!((s.lr_at(10, 100) - 1e-3).abs() < 1e-9);
        assert!(s.lr_at(55, 100) < 6e-4 && s.lr_at(55, 100) > 4e-4);
        assert!(s.lr_at(99, 100) < 1e-5);
    }
}
