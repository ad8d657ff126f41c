//! The adversarial training step and epoch loop, with no files involved (the run folder is
//! [`crate::session`]). The networks come from [`crate::model`] and the loss from
//! [`crate::loss`]; nothing here knows which ones.
//!
//! One step, for `k` = [`GanLoss::d_steps`] batches of `B` real digits:
//! 1. `k` discriminator updates, each on its own real batch and new noise `z`. `G(z)` of the
//!    last one is recorded once and kept (suspended while `D` updates) for step 2, so the
//!    generator's forward pass runs once per update. A discriminator without batch statistics
//!    sees real and generated digits as one batch of `2B` (one product per layer instead of two,
//!    measured faster); one with batch normalisation sees them in two passes, as two PyTorch
//!    calls would, so their statistics do not mix.
//! 2. One generator update: with `D` frozen (its weight-gradient products are skipped), the
//!    recorded `G(z)` goes through the updated `D`, and the generator's loss updates `G`.
//!
//! After each discriminator update, a loss that asks for it clips the discriminator's weights
//! ([`GanLoss::weight_clip`]); each network's [`Network::after_update`] hook runs after its
//! optimizer's update.

use crate::config::TrainConfig;
use crate::data::{pixels_to_u8, TrainingData};
use crate::ema::Ema;
use crate::epoch::{EpochAccumulator, EpochMetrics, Progress, StepStats};
use crate::error::{GanError, Result};
use crate::loss::{DiscriminatorLogits, GanLoss};
use crate::mode_seeking;
use crate::model::{self, Network, IMAGE_PIXELS};
use crate::rng;
use autograd::optim::Optimizer;
use autograd::{BufferPool, Gradients, Graph, ParamStore, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A generator and a discriminator with their parameters.
pub struct Gan {
    /// The configuration the networks were built from.
    pub config: TrainConfig,
    /// Both networks' parameters (`generator.*`, `discriminator.*`).
    pub params: ParamStore,
    /// The generator.
    pub generator: Box<dyn Network>,
    /// The discriminator.
    pub discriminator: Box<dyn Network>,
    /// The moving average of the generator's weights, when the configuration asks for one.
    pub ema: Option<Ema>,
}

impl Gan {
    /// Builds both networks of `config.model`, initialised from the seed's init stream.
    pub fn new(config: &TrainConfig) -> Result<Gan> {
        config.validate()?;
        let mut params = ParamStore::new();
        let mut r = rng::stream(config.seed, rng::STREAM_INIT);
        let (generator, discriminator) = model::build(config, &mut params, &mut r)?;
        let ema = (config.ema > 0.0).then(|| Ema::new(config.ema as f32, &params));
        Ok(Gan {
            config: config.clone(),
            params,
            generator,
            discriminator,
            ema,
        })
    }

    /// `G(z)` for noise `z` of shape `[n, latent]` (and a digit per row for a conditional
    /// generator), in evaluation mode (batch norm with its running statistics) and with the
    /// averaged weights when there are some: `n × 784` pixels in the output's range.
    pub fn generate_labeled(
        &mut self,
        z: &Tensor,
        labels: Option<&[u8]>,
        pool: &mut BufferPool,
    ) -> Result<Vec<f32>> {
        let params = self.ema.as_ref().map_or(&self.params, |e| &e.params);
        let mut g = Graph::new(params, pool);
        g.freeze(params.ids());
        g.set_training(false);
        let zv = g.constant_from(z.shape(), z.data())?;
        let x = self.generator.forward(&mut g, zv, labels)?;
        Ok(g.value(x).data().to_vec())
    }

    /// [`Gan::generate_labeled`] for an unconditional generator; a conditional one gets the
    /// digits 0, 1, …, 9, 0, … in turn (those it was trained on, with `--digits`).
    pub fn generate(&mut self, z: &Tensor, pool: &mut BufferPool) -> Result<Vec<f32>> {
        if !self.generator.conditional() {
            return self.generate_labeled(z, None, pool);
        }
        let labels = self.cycled_labels(z.shape()[0])?;
        self.generate_labeled(z, Some(&labels), pool)
    }

    /// `n` labels cycling through the digits the configuration trains on.
    pub fn cycled_labels(&self, n: usize) -> Result<Vec<u8>> {
        let digits = self.config.digit_list()?;
        Ok((0..n).map(|i| digits[i % digits.len()]).collect())
    }

    /// `n` digits from the sample stream of `seed` (a conditional generator cycles through the
    /// digits it was trained on), as u8 grey levels (`n × 784`, 0 background,
    /// 255 ink), generated 1,000 at a time. The same seed gives the same digits.
    pub fn sample_u8(&mut self, n: usize, seed: u64) -> Result<Vec<u8>> {
        let labels = match self.generator.conditional() {
            true => Some(self.cycled_labels(n)?),
            false => None,
        };
        self.sample_u8_labeled(n, seed, labels.as_deref())
    }

    /// [`Gan::sample_u8`] with the digit of each sample given (`labels.len() == n`) for a
    /// conditional generator.
    pub fn sample_u8_labeled(
        &mut self,
        n: usize,
        seed: u64,
        labels: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        const CHUNK: usize = 1_000;
        if let Some(l) = labels {
            if l.len() != n {
                return Err(GanError::InvalidInput(format!(
                    "{} labels for {n} samples: give one digit per sample",
                    l.len()
                )));
            }
        }
        let mut rng = rng::stream(seed, rng::STREAM_SAMPLE);
        let mut pool = BufferPool::new();
        let mut out = Vec::with_capacity(n * IMAGE_PIXELS);
        let mut done = 0;
        while done < n {
            let take = (n - done).min(CHUNK);
            let z = self.noise(take, &mut rng);
            let chunk_labels = labels.map(|l| &l[done..done + take]);
            let pixels = self.generate_labeled(&z, chunk_labels, &mut pool)?;
            out.extend(pixels_to_u8(&pixels, self.config.output));
            done += take;
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

/// One batch of real digits.
#[derive(Debug, Clone, Copy)]
pub struct RealBatch<'a> {
    /// `B × 784` pixels in the generator's output range.
    pub pixels: &'a [f32],
    /// The `B` digits' classes (read only by conditional networks).
    pub labels: &'a [u8],
}

impl RealBatch<'_> {
    /// Digits in the batch.
    pub fn len(&self) -> usize {
        self.pixels.len() / IMAGE_PIXELS
    }

    /// Whether the batch holds no digit.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }
}

/// Where training stands: everything besides the networks and optimizers that a checkpoint
/// must restore for a resumed run to continue bit for bit.
#[derive(Debug, Clone)]
pub struct Position {
    /// Completed epochs.
    pub epoch: usize,
    /// Batches done in the current (incomplete) epoch.
    pub batch_in_epoch: usize,
    /// Steps done in total.
    pub step: u64,
    /// The noise stream.
    pub noise_rng: ChaCha8Rng,
    /// The stream of generated digits' labels (conditional models).
    pub label_rng: ChaCha8Rng,
    /// Running sums of the current epoch.
    pub acc: EpochAccumulator,
    /// Metrics of the completed epochs.
    pub history: Vec<EpochMetrics>,
}

impl Position {
    /// The start of training with `seed`.
    pub fn start(seed: u64) -> Position {
        Position {
            epoch: 0,
            batch_in_epoch: 0,
            step: 0,
            noise_rng: rng::stream(seed, rng::STREAM_NOISE),
            label_rng: rng::stream(seed, rng::STREAM_FAKE_LABELS),
            acc: EpochAccumulator::default(),
            history: Vec::new(),
        }
    }
}

/// A GAN with its optimizers, data and the exact position in training.
pub struct Trainer {
    gan: Gan,
    opt_g: Optimizer,
    opt_d: Optimizer,
    position: Position,
    loss: GanLoss,
    grads: Gradients,
    pool: BufferPool,
    data: TrainingData,
    /// The digits `--digits` selects: generated digits' labels are drawn among them.
    classes: Vec<u8>,
    real_buf: Vec<f32>,
    label_buf: Vec<u8>,
    fake_labels: Vec<u8>,
    /// `mean|z₁ − z₂|` of the last recorded noise's pairs ([`crate::mode_seeking`]).
    noise_distance: f32,
    targets: Vec<f32>,
}

impl Trainer {
    /// A trainer at the very start: fresh networks, zeroed optimizer state.
    pub fn new(config: &TrainConfig, data: TrainingData) -> Result<Trainer> {
        let gan = Gan::new(config)?;
        let opt_g = Optimizer::new(
            config.optimizer_settings(config.lr_g),
            gan.generator.params(),
            &gan.params,
        )?;
        let opt_d = Optimizer::new(
            config.optimizer_settings(config.lr_d),
            gan.discriminator.params(),
            &gan.params,
        )?;
        Ok(Trainer {
            grads: Gradients::zeros_like(&gan.params),
            opt_g,
            opt_d,
            position: Position::start(config.seed),
            loss: config.loss,
            pool: BufferPool::new(),
            classes: config.digit_list()?,
            gan,
            data,
            real_buf: Vec::new(),
            label_buf: Vec::new(),
            fake_labels: Vec::new(),
            noise_distance: 0.0,
            targets: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.gan.config
    }

    /// The networks.
    pub fn gan(&self) -> &Gan {
        &self.gan
    }

    /// The networks, mutably (e.g. to measure samples between epochs).
    pub fn gan_mut(&mut self) -> &mut Gan {
        &mut self.gan
    }

    /// The generator's and the discriminator's optimizers.
    pub fn optimizers(&self) -> (&Optimizer, &Optimizer) {
        (&self.opt_g, &self.opt_d)
    }

    /// The networks and both optimizers, mutably, for loading a checkpoint into them.
    pub fn state_mut(&mut self) -> (&mut Gan, &mut Optimizer, &mut Optimizer) {
        (&mut self.gan, &mut self.opt_g, &mut self.opt_d)
    }

    /// Where training stands.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// Continues from `position` (read from a checkpoint); refuses one whose place within the
    /// epoch is past the end of an epoch of this trainer's data.
    pub fn restore(&mut self, position: Position) -> Result<()> {
        if position.batch_in_epoch >= self.batches_per_epoch() {
            return Err(GanError::Config(format!(
                "a position of batch {} within an epoch of {} batches is past its end",
                position.batch_in_epoch,
                self.batches_per_epoch()
            )));
        }
        self.position = position;
        Ok(())
    }

    /// Sets the quality figures of the last finished epoch.
    pub fn record_quality(&mut self, fid: f64, class_ratio: f64) {
        if let Some(last) = self.position.history.last_mut() {
            last.fid = Some(fid);
            last.class_ratio = Some(class_ratio);
        }
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

    /// The fixed-noise grid `grid` of the networks as they are now.
    pub fn draw(&mut self, grid: &crate::fixed_grid::FixedGrid) -> Result<render::GrayImage> {
        grid.draw(&mut self.gan, &mut self.pool)
    }

    /// One training step: a discriminator update per batch of `real` (as many as the loss's
    /// [`GanLoss::d_steps`], fewer at the end of an epoch), then one generator update.
    pub fn train_step(&mut self, real: &[RealBatch<'_>]) -> Result<StepStats> {
        let Some((last, earlier)) = real.split_last() else {
            return Err(GanError::InvalidInput(
                "a training step needs a batch".into(),
            ));
        };
        let mut stats = StepStats::default();
        for batch in earlier {
            let (tape, fake) = self.record_fake(batch.len())?;
            self.update_discriminator(batch, tape.value(fake)?.data(), &mut stats)?;
        }
        // G(z), once: recorded for the generator's update, suspended meanwhile so that the
        // discriminator can be updated without computing it a second time.
        let (tape, fake) = self.record_fake(last.len())?;
        self.update_discriminator(last, tape.value(fake)?.data(), &mut stats)?;

        // The generator: G(z) resumed, through the updated discriminator, which is frozen.
        {
            let mut g = Graph::resume(tape, &self.gan.params, &mut self.pool)?;
            g.freeze(self.opt_d.params().iter().copied());
            let labels = self
                .gan
                .discriminator
                .conditional()
                .then_some(&self.fake_labels[..]);
            let logits = self.gan.discriminator.forward(&mut g, fake, labels)?;
            let mut loss = self.loss.generator(&mut g, logits, &mut self.targets)?;
            let lambda = self.gan.config.mode_seeking as f32;
            if lambda > 0.0 && mode_seeking::pairs(last.len()) > 0 {
                let term = mode_seeking::term(&mut g, fake, self.noise_distance, lambda)?;
                loss = g.add(loss, term)?;
            }
            // Sets (not adds) the generator's gradients.
            g.backward_set(loss, &mut self.grads)?;
            stats.g_loss = g.value(loss).data()[0];
        }
        self.opt_g.step(&mut self.gan.params, &self.grads)?;
        self.gan.generator.after_update(&mut self.gan.params)?;
        if let Some(ema) = &mut self.gan.ema {
            ema.update(&self.gan.params, self.opt_g.params());
        }
        self.position.step += 1;
        Ok(stats)
    }

    /// Records `G(z)` for `b` new noise vectors (and labels, for a conditional generator) and
    /// suspends the recording.
    fn record_fake(&mut self, b: usize) -> Result<(autograd::Tape, Var)> {
        let latent = self.gan.config.latent;
        let conditional = self.gan.generator.conditional() || self.gan.discriminator.conditional();
        let mode_seeking = self.gan.config.mode_seeking > 0.0;
        if conditional {
            let classes = &self.classes;
            let rng = &mut self.position.label_rng;
            if mode_seeking {
                mode_seeking::paired_labels(&mut self.fake_labels, b, classes, rng);
            } else {
                self.fake_labels.clear();
                self.fake_labels
                    .extend((0..b).map(|_| classes[rng.random_range(0..classes.len())]));
            }
        }
        let mut z = self.pool.take(b * latent);
        fill_normal(&mut z, &mut self.position.noise_rng);
        if mode_seeking {
            self.noise_distance = mode_seeking::noise_distance(&z, latent);
        }
        let mut g = Graph::new(&self.gan.params, &mut self.pool);
        let zv = g.constant_from(&[b, latent], &z)?;
        let labels = self
            .gan
            .generator
            .conditional()
            .then_some(&self.fake_labels[..]);
        let fake = self.gan.generator.forward(&mut g, zv, labels)?;
        let tape = g.suspend();
        self.pool.give(z);
        Ok((tape, fake))
    }

    /// One discriminator update on `real` and the generated `fake` pixels; fills the
    /// discriminator's figures of `stats`.
    fn update_discriminator(
        &mut self,
        real: &RealBatch<'_>,
        fake: &[f32],
        stats: &mut StepStats,
    ) -> Result<()> {
        let b = real.len();
        let rows = b * IMAGE_PIXELS;
        let d = &mut self.gan.discriminator;
        let conditional = d.conditional();
        let joined = d.batch_coupling().allows_joining(b);
        // One batch of 2B when D allows it (one product per layer instead of two).
        let both = joined.then(|| {
            let mut both = self.pool.take(2 * rows);
            both[..rows].copy_from_slice(real.pixels);
            both[rows..].copy_from_slice(fake);
            both
        });
        let mut g = Graph::new(&self.gan.params, &mut self.pool);
        let logits = if let Some(both) = both {
            let x = g.constant(Tensor::from_vec(&[2 * b, IMAGE_PIXELS], both)?);
            let labels = if conditional {
                self.label_buf.clear();
                self.label_buf.extend_from_slice(real.labels);
                self.label_buf.extend_from_slice(&self.fake_labels);
                Some(&self.label_buf[..])
            } else {
                None
            };
            DiscriminatorLogits::Joined(d.forward(&mut g, x, labels)?)
        } else {
            let x = g.constant_from(&[b, IMAGE_PIXELS], real.pixels)?;
            let real_logits = d.forward(&mut g, x, conditional.then_some(real.labels))?;
            let x = g.constant_from(&[b, IMAGE_PIXELS], fake)?;
            let fake_labels = conditional.then_some(&self.fake_labels[..]);
            let fake_logits = d.forward(&mut g, x, fake_labels)?;
            DiscriminatorLogits::Split {
                real: real_logits,
                fake: fake_logits,
            }
        };
        let loss = self.loss.discriminator(&mut g, logits, &mut self.targets)?;
        // Sets (not adds) the discriminator's gradients: no zeroing beforehand.
        g.backward_set(loss, &mut self.grads)?;
        stats.d_loss = g.value(loss).data()[0];
        let (real_l, fake_l) = match logits {
            DiscriminatorLogits::Joined(both) => g.value(both).data().split_at(b),
            DiscriminatorLogits::Split { real, fake } => {
                (g.value(real).data(), g.value(fake).data())
            }
        };
        stats.acc_real = real_l.iter().filter(|&&v| v > 0.0).count() as f32 / b as f32;
        stats.acc_fake = fake_l.iter().filter(|&&v| v < 0.0).count() as f32 / b as f32;
        stats.d_real = mean_sigmoid(real_l);
        stats.d_fake = mean_sigmoid(fake_l);
        drop(g);
        // Parameters the suspended G(z) does not read.
        self.opt_d.step(&mut self.gan.params, &self.grads)?;
        if let Some(bound) = self.loss.weight_clip() {
            for &id in self.opt_d.params() {
                for w in self.gan.params.get_mut(id).data_mut() {
                    *w = w.clamp(-bound, bound);
                }
            }
        }
        self.gan.discriminator.after_update(&mut self.gan.params)
    }

    /// Trains the rest of the current epoch (resuming mid-epoch when a checkpoint stopped
    /// there). `on_step` sees every step and returns `false` to stop early (Ctrl-C): the
    /// trainer then stays mid-epoch, ready for a checkpoint, and this returns `Ok(None)`.
    pub fn train_epoch(
        &mut self,
        mut on_step: impl FnMut(&Progress) -> bool,
    ) -> Result<Option<EpochMetrics>> {
        let epoch = self.position.epoch + 1;
        let batch = self.config().batch;
        let output = self.config().output;
        let d_steps = self.loss.d_steps();
        let order = self.data.epoch_order(self.config().seed, epoch);
        let batches = self.batches_per_epoch();
        let started = std::time::Instant::now();
        let seconds_before = self.position.acc.seconds;
        let mut real = std::mem::take(&mut self.real_buf);
        let mut labels = Vec::new();
        while self.position.batch_in_epoch < batches {
            let first = self.position.batch_in_epoch;
            let count = d_steps.min(batches - first);
            let digits = &order[first * batch..((first + count) * batch).min(order.len())];
            self.data.fill_batch(digits, output, &mut real);
            self.data.fill_labels(digits, &mut labels);
            let parts: Vec<RealBatch<'_>> = real
                .chunks(batch * IMAGE_PIXELS)
                .zip(labels.chunks(batch))
                .map(|(pixels, labels)| RealBatch { pixels, labels })
                .collect();
            let result = self.train_step(&parts);
            let stats = match result {
                Ok(stats) => stats,
                Err(e) => {
                    self.real_buf = real;
                    return Err(e);
                }
            };
            if let Some((what, value)) = diverged(&stats) {
                self.real_buf = real;
                return Err(GanError::Diverged {
                    epoch,
                    step: self.position.step,
                    what,
                    value,
                    checkpoint: Default::default(),
                });
            }
            let last_batch = parts.last().map_or(0, RealBatch::len);
            self.position.acc.add(&stats, last_batch);
            self.position.batch_in_epoch += count;
            self.position.acc.seconds = seconds_before + started.elapsed().as_secs_f64();
            let progress = Progress {
                epoch,
                batch: self.position.batch_in_epoch,
                batches,
                stats,
                images_per_sec: self.position.acc.images as f64
                    / self.position.acc.seconds.max(1e-9),
            };
            if !on_step(&progress) && self.position.batch_in_epoch < batches {
                self.real_buf = real;
                return Ok(None);
            }
        }
        self.real_buf = real;
        let metrics = std::mem::take(&mut self.position.acc).finish(epoch);
        self.position.epoch = epoch;
        self.position.batch_in_epoch = 0;
        self.position.history.push(metrics.clone());
        Ok(Some(metrics))
    }
}

/// The first non-finite loss of a step, if any.
fn diverged(stats: &StepStats) -> Option<(&'static str, f32)> {
    [("d_loss", stats.d_loss), ("g_loss", stats.g_loss)]
        .into_iter()
        .find(|(_, v)| !v.is_finite())
}

fn mean_sigmoid(logits: &[f32]) -> f32 {
    let total: f32 = logits.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).sum();
    total / logits.len().max(1) as f32
}
