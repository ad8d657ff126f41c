//! The adversarial training step and epoch loop, with no files involved (the run folder is [`crate::run`]).
//!
//! One step, for a batch of `B` real digits and `B` noise vectors `z`:
//! 1. Discriminator: `G(z)` is recorded once (the recording is suspended while `D` updates and
//!    reused by step 2, so the generator's forward pass runs once per step); real and fake
//!    digits go through `D` as one concatenated batch of `2B` (one product per layer instead of
//!    two, measured faster), and `d_loss = BCE(D(x), 1) + BCE(D(G(z)), 0)` updates `D`.
//! 2. Generator: with `D` frozen (its weight-gradient products are skipped), the same `z` goes
//!    through `G` and the updated `D`; the non-saturating loss `g_loss = BCE(D(G(z)), 1)`
//!    updates `G`.

use crate::config::TrainConfig;
use crate::data::TrainingData;
use crate::error::{GanError, Result};
use crate::model::{Mlp, IMAGE_PIXELS};
use crate::rng;
use autograd::nn::Module;
use autograd::optim::Optimizer;
use autograd::{BufferPool, Gradients, Graph, ParamStore, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// A generator and a discriminator with their parameters.
pub struct Gan {
    /// The configuration the networks were built from.
    pub config: TrainConfig,
    /// Both networks' parameters (`generator.*`, `discriminator.*`).
    pub params: ParamStore,
    /// The generator.
    pub generator: Mlp,
    /// The discriminator.
    pub discriminator: Mlp,
}

impl Gan {
    /// Builds both networks, initialised from the seed's init stream.
    pub fn new(config: &TrainConfig) -> Result<Gan> {
        config.validate()?;
        let mut params = ParamStore::new();
        let mut r = rng::stream(config.seed, rng::STREAM_INIT);
        let generator = Mlp::generator(&mut params, config, &mut r)?;
        let discriminator = Mlp::discriminator(&mut params, config, &mut r)?;
        Ok(Gan {
            config: config.clone(),
            params,
            generator,
            discriminator,
        })
    }

    /// `G(z)` for noise `z` of shape `[n, latent]`: `n × 784` pixels in the output's range.
    pub fn generate(&mut self, z: &Tensor, pool: &mut BufferPool) -> Result<Vec<f32>> {
        let mut g = Graph::new(&self.params, pool);
        g.freeze(self.params.ids());
        g.set_training(false);
        let zv = g.constant_from(z.shape(), z.data())?;
        let x = self.generator.forward(&mut g, zv)?;
        Ok(g.value(x).data().to_vec())
    }

    /// `n` digits from the sample stream of `seed`, as u8 grey levels (`n × 784`, 0 background,
    /// 255 ink), generated 1,000 at a time. The same seed gives the same digits.
    pub fn sample_u8(&mut self, n: usize, seed: u64) -> Result<Vec<u8>> {
        const CHUNK: usize = 1_000;
        let mut rng = rng::stream(seed, rng::STREAM_SAMPLE);
        let mut pool = BufferPool::new();
        let mut out = Vec::with_capacity(n * IMAGE_PIXELS);
        let mut left = n;
        while left > 0 {
            let take = left.min(CHUNK);
            let z = self.noise(take, &mut rng);
            let pixels = self.generate(&z, &mut pool)?;
            out.extend(crate::run::pixels_to_u8(&pixels, self.config.output));
            left -= take;
        }
        Ok(out)
    }

    /// Noise of shape `[n, latent]` from `rng`.
    pub fn noise(&self, n: usize, rng: &mut impl Rng) -> Tensor {
        let mut t = Tensor::zeros(&[n, self.config.latent]);
        fill_normal(t.data_mut(), rng);
        t
    }
}

fn fill_normal(out: &mut [f32], rng: &mut impl Rng) {
    for v in out {
        *v = rng.sample(StandardNormal);
    }
}

/// Figures of one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepStats {
    /// `BCE(D(x), 1) + BCE(D(G(z)), 0)`.
    pub d_loss: f32,
    /// `BCE(D(G(z)), 1)`.
    pub g_loss: f32,
    /// Share of real digits the discriminator calls real.
    pub acc_real: f32,
    /// Share of generated digits the discriminator calls fake.
    pub acc_fake: f32,
    /// Mean `D(x)` (probability) on real digits.
    pub d_real: f32,
    /// Mean `D(G(z))` on generated digits, before the discriminator's update.
    pub d_fake: f32,
}

/// Running sums over an epoch, weighted by batch size (saved in checkpoints so an interrupted
/// epoch resumes with its figures intact).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochAccumulator {
    /// Digits seen this epoch.
    pub images: u64,
    /// Σ batch · d_loss, and so on.
    pub sums: [f64; 6],
    /// Seconds spent in this epoch before an interruption.
    pub seconds: f64,
}

impl EpochAccumulator {
    fn add(&mut self, s: &StepStats, batch: usize) {
        let w = batch as f64;
        let values = [
            s.d_loss, s.g_loss, s.acc_real, s.acc_fake, s.d_real, s.d_fake,
        ];
        for (sum, v) in self.sums.iter_mut().zip(values) {
            *sum += w * f64::from(v);
        }
        self.images += batch as u64;
    }

    fn mean(&self, i: usize) -> f64 {
        self.sums[i] / (self.images.max(1) as f64)
    }
}

/// One row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Wall-clock seconds of the epoch's training steps.
    pub seconds: f64,
    /// Mean discriminator loss.
    pub d_loss: f64,
    /// Mean generator loss.
    pub g_loss: f64,
    /// Discriminator accuracy over real and generated digits.
    pub d_acc: f64,
    /// Discriminator accuracy on real digits.
    pub d_acc_real: f64,
    /// Discriminator accuracy on generated digits.
    pub d_acc_fake: f64,
    /// Mean D(x).
    pub d_real: f64,
    /// Mean D(G(z)).
    pub d_fake: f64,
    /// Training throughput (real digits per second).
    pub images_per_sec: f64,
    /// FID against the test digits, when evaluated this epoch.
    pub fid: Option<f64>,
    /// Largest/smallest class count among generated digits, when evaluated.
    pub class_ratio: Option<f64>,
}

impl EpochMetrics {
    /// The CSV header line of [`EpochMetrics::csv_row`].
    pub const CSV_HEADER: &'static str = "epoch,seconds,d_loss,g_loss,d_acc,d_acc_real,d_acc_fake,d_real,d_fake,images_per_sec,fid,class_ratio";

    /// The metrics as one CSV line.
    pub fn csv_row(&self) -> String {
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        format!(
            "{},{:.3},{:.6},{:.6},{:.4},{:.4},{:.4},{:.4},{:.4},{:.1},{},{}",
            self.epoch,
            self.seconds,
            self.d_loss,
            self.g_loss,
            self.d_acc,
            self.d_acc_real,
            self.d_acc_fake,
            self.d_real,
            self.d_fake,
            self.images_per_sec,
            opt(self.fid),
            opt(self.class_ratio)
        )
    }
}

/// Where a step stands, for progress displays.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// The epoch being trained (1-based).
    pub epoch: usize,
    /// Batches done in this epoch.
    pub batch: usize,
    /// Batches in an epoch.
    pub batches: usize,
    /// The last step's figures.
    pub stats: StepStats,
    /// Digits per second so far in this epoch.
    pub images_per_sec: f64,
}

/// A GAN with its optimizers, data and the exact position in training.
pub struct Trainer {
    /// The networks.
    pub gan: Gan,
    /// The generator's optimizer.
    pub opt_g: Optimizer,
    /// The discriminator's optimizer.
    pub opt_d: Optimizer,
    grads: Gradients,
    pool: BufferPool,
    /// The noise stream.
    pub noise_rng: ChaCha8Rng,
    /// Completed epochs.
    pub epoch: usize,
    /// Batches done in the current (incomplete) epoch.
    pub batch_in_epoch: usize,
    /// Steps done in total.
    pub step: u64,
    /// Running sums of the current epoch.
    pub acc: EpochAccumulator,
    /// Metrics of the completed epochs.
    pub history: Vec<EpochMetrics>,
    data: TrainingData,
    real_buf: Vec<f32>,
    targets_d: Vec<f32>,
    targets_g: Vec<f32>,
}

impl Trainer {
    /// A trainer at the very start: fresh networks, zeroed optimizer state.
    pub fn new(config: &TrainConfig, data: TrainingData) -> Result<Trainer> {
        let gan = Gan::new(config)?;
        let g_ids = gan.generator.params();
        let d_ids = gan.discriminator.params();
        let opt_g = Optimizer::new(config.optimizer_settings(config.lr_g), g_ids, &gan.params)?;
        let opt_d = Optimizer::new(config.optimizer_settings(config.lr_d), d_ids, &gan.params)?;
        Ok(Trainer {
            grads: Gradients::zeros_like(&gan.params),
            opt_g,
            opt_d,
            pool: BufferPool::new(),
            noise_rng: rng::stream(config.seed, rng::STREAM_NOISE),
            epoch: 0,
            batch_in_epoch: 0,
            step: 0,
            acc: EpochAccumulator::default(),
            history: Vec::new(),
            gan,
            data,
            real_buf: Vec::new(),
            targets_d: Vec::new(),
            targets_g: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.gan.config
    }

    /// The training digits.
    pub fn data(&self) -> &TrainingData {
        &self.data
    }

    /// Batches per epoch (the last one may be smaller).
    pub fn batches_per_epoch(&self) -> usize {
        self.data.len().div_ceil(self.config().batch)
    }

    /// How many new buffers the engine's pool has allocated (stops growing after warm-up).
    pub fn pool_allocations(&self) -> usize {
        self.pool.fresh_allocations()
    }

    /// `G(z)` for the given noise, in evaluation mode.
    pub fn generate(&mut self, z: &Tensor) -> Result<Vec<f32>> {
        self.gan.generate(z, &mut self.pool)
    }

    /// One discriminator and one generator update on the real digits in `real` (`b × 784`).
    pub fn train_step(&mut self, real: &[f32], b: usize) -> Result<StepStats> {
        let latent = self.gan.config.latent;
        if self.targets_d.len() != 2 * b {
            self.targets_d = (0..2 * b).map(|i| if i < b { 1.0 } else { 0.0 }).collect();
            self.targets_g = vec![1.0; b];
        }
        let d_ids = self.gan.discriminator.params();
        let mut stats = StepStats::default();

        // 0. G(z), once: recorded for the generator's update (3), suspended meanwhile so that
        //    the discriminator can be updated (2) without computing it a second time.
        let (tape, fake) = {
            let mut z = self.pool.take(b * latent);
            fill_normal(&mut z, &mut self.noise_rng);
            let mut g = Graph::new(&self.gan.params, &mut self.pool);
            let zv = g.constant_from(&[b, latent], &z)?;
            let fake = self.gan.generator.forward(&mut g, zv)?;
            let tape = g.suspend();
            self.pool.give(z);
            (tape, fake)
        };

        // 1. Discriminator on real and generated digits as one batch of 2B (one product per
        //    layer instead of two); the generator's parameters are not in this graph.
        {
            let rows = b * IMAGE_PIXELS;
            let mut both = self.pool.take(2 * rows);
            both[..rows].copy_from_slice(real);
            both[rows..].copy_from_slice(tape.value(fake)?.data());
            let mut g = Graph::new(&self.gan.params, &mut self.pool);
            let both = g.constant(Tensor::from_vec(&[2 * b, IMAGE_PIXELS], both)?);
            let logits = self.gan.discriminator.forward(&mut g, both)?;
            let targets = g.constant_from(&[2 * b, 1], &self.targets_d)?;
            let mean = g.bce_with_logits(logits, targets)?;
            // Mean over 2B = (BCE_real + BCE_fake) / 2: double it for the usual sum of the two.
            let loss = g.mul_scalar(mean, 2.0)?;
            // Sets (not adds) the discriminator's gradients: no zeroing beforehand.
            g.backward_set(loss, &mut self.grads)?;
            stats.d_loss = g.value(loss).data()[0];
            let l = g.value(logits).data();
            let (real_l, fake_l) = l.split_at(b);
            stats.acc_real = real_l.iter().filter(|&&v| v > 0.0).count() as f32 / b as f32;
            stats.acc_fake = fake_l.iter().filter(|&&v| v < 0.0).count() as f32 / b as f32;
            stats.d_real = mean_sigmoid(real_l);
            stats.d_fake = mean_sigmoid(fake_l);
        }
        // 2. The discriminator's update: parameters the suspended G(z) does not read.
        self.opt_d.step(&mut self.gan.params, &self.grads)?;

        // 3. Generator: G(z) resumed, through the updated discriminator, which is frozen.
        {
            let mut g = Graph::resume(tape, &self.gan.params, &mut self.pool)?;
            g.freeze(d_ids.iter().copied());
            let logits = self.gan.discriminator.forward(&mut g, fake)?;
            let targets = g.constant_from(&[b, 1], &self.targets_g)?;
            let loss = g.bce_with_logits(logits, targets)?;
            // Sets (not adds) the generator's gradients.
            g.backward_set(loss, &mut self.grads)?;
            stats.g_loss = g.value(loss).data()[0];
        }
        self.opt_g.step(&mut self.gan.params, &self.grads)?;
        self.step += 1;
        Ok(stats)
    }

    /// Trains the rest of the current epoch (resuming mid-epoch when a checkpoint stopped
    /// there). `on_step` sees every step and returns `false` to stop early (Ctrl-C): the
    /// trainer then stays mid-epoch, ready for a checkpoint, and this returns `Ok(None)`.
    pub fn train_epoch(
        &mut self,
        mut on_step: impl FnMut(&Progress) -> bool,
    ) -> Result<Option<EpochMetrics>> {
        let epoch = self.epoch + 1;
        let batch = self.config().batch;
        let order = self.data.epoch_order(self.config().seed, epoch);
        let batches = self.batches_per_epoch();
        let started = std::time::Instant::now();
        let seconds_before = self.acc.seconds;
        let mut real = std::mem::take(&mut self.real_buf);
        while self.batch_in_epoch < batches {
            let start = self.batch_in_epoch * batch;
            let indices = &order[start..(start + batch).min(order.len())];
            let output = self.config().output;
            self.data.fill_batch(indices, output, &mut real);
            let stats = self.train_step(&real, indices.len())?;
            for (what, value) in [("d_loss", stats.d_loss), ("g_loss", stats.g_loss)] {
                if !value.is_finite() {
                    self.real_buf = real;
                    return Err(GanError::Diverged {
                        epoch,
                        step: self.step,
                        what,
                        value,
                        checkpoint: Default::default(),
                    });
                }
            }
            self.acc.add(&stats, indices.len());
            self.batch_in_epoch += 1;
            self.acc.seconds = seconds_before + started.elapsed().as_secs_f64();
            let progress = Progress {
                epoch,
                batch: self.batch_in_epoch,
                batches,
                stats,
                images_per_sec: self.acc.images as f64 / self.acc.seconds.max(1e-9),
            };
            if !on_step(&progress) && self.batch_in_epoch < batches {
                self.real_buf = real;
                return Ok(None);
            }
        }
        self.real_buf = real;
        let a = std::mem::take(&mut self.acc);
        let metrics = EpochMetrics {
            epoch,
            seconds: a.seconds,
            d_loss: a.mean(0),
            g_loss: a.mean(1),
            d_acc: (a.mean(2) + a.mean(3)) / 2.0,
            d_acc_real: a.mean(2),
            d_acc_fake: a.mean(3),
            d_real: a.mean(4),
            d_fake: a.mean(5),
            images_per_sec: a.images as f64 / a.seconds.max(1e-9),
            fid: None,
            class_ratio: None,
        };
        self.epoch = epoch;
        self.batch_in_epoch = 0;
        self.history.push(metrics.clone());
        Ok(Some(metrics))
    }
}

fn mean_sigmoid(logits: &[f32]) -> f32 {
    let total: f32 = logits.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).sum();
    total / logits.len().max(1) as f32
}
