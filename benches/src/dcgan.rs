//! The small DCGAN for 28×28 digits, built from `autograd` layers (the `gan` crate has no DCGAN
//! yet), and one training step of it as PyTorch's DCGAN example runs one.
//!
//! - G: `z (100)` → Linear 100→6272 → BatchNorm1d → ReLU → reshape `[B, 128, 7, 7]` →
//!   ConvTranspose2d 128→64 (k4, s2, p1) → BatchNorm2d → ReLU → ConvTranspose2d 64→1
//!   (k4, s2, p1) → tanh: `[B, 1, 28, 28]`.
//! - D: Conv2d 1→64 (k4, s2, p1) → LeakyReLU(0.2) → Conv2d 64→128 (k4, s2, p1) → BatchNorm2d
//!   → LeakyReLU(0.2) → flatten → Linear 6272→1: one logit.
//!
//! As the models issue specifies it: every layer with a bias (even before batch norm, where it
//! cancels out: PyTorch's layers have one unless told otherwise) and PyTorch's default
//! initialisation; batch-norm γ starts at 1.

use crate::{adam, flops};
use autograd::nn::{
    Activation, BatchNorm1d, BatchNorm2d, Conv2d, ConvSpec, ConvTranspose2d, Init, Linear, Module,
};
use autograd::optim::Optimizer;
use autograd::{BufferPool, Gradients, Graph, ParamId, ParamStore, Result, Var};
use mnist_idx::{PIXELS, SIDE};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Length of the generator's input `z`.
pub const LATENT: usize = 100;

/// Channels of the generator's first feature map (and of the discriminator's last).
const WIDE: usize = 128;
/// Channels of the middle feature maps.
const NARROW: usize = 64;
/// Side of the 7×7 feature maps.
const SMALL: usize = SIDE / 4;
/// Values of one `[128, 7, 7]` feature map: 6272.
const FEATURES: usize = WIDE * SMALL * SMALL;

/// A `k4, s2, p1` convolution spec (doubles or halves the side).
fn k4s2p1(cin: usize, cout: usize, bias: bool) -> ConvSpec {
    ConvSpec::new(cin, cout, 4).stride(2).padding(1).bias(bias)
}

/// The generator: `z: [B, 100]` → images `[B, 1, 28, 28]` in [−1, 1].
#[derive(Debug, Clone)]
pub struct Generator {
    fc: Linear,
    bn0: BatchNorm1d,
    up1: ConvTranspose2d,
    bn1: BatchNorm2d,
    up2: ConvTranspose2d,
}

impl Generator {
    /// Registers the layers under `generator.*` in `store`.
    pub fn new(store: &mut ParamStore, rng: &mut impl Rng) -> Result<Generator> {
        let init = Init::PyTorchDefault;
        Ok(Generator {
            fc: Linear::new(store, "generator.fc", LATENT, FEATURES, true, init, rng)?,
            bn0: BatchNorm1d::new(store, "generator.bn0", FEATURES)?,
            up1: ConvTranspose2d::new(
                store,
                "generator.up1",
                k4s2p1(WIDE, NARROW, true),
                init,
                rng,
            )?,
            bn1: BatchNorm2d::new(store, "generator.bn1", NARROW)?,
            up2: ConvTranspose2d::new(store, "generator.up2", k4s2p1(NARROW, 1, true), init, rng)?,
        })
    }

    /// Forward multiply-adds per sample of each product layer, first layer first.
    pub fn layer_macs() -> [u64; 3] {
        [
            flops::linear(LATENT, FEATURES),
            flops::conv_transpose2d(WIDE, NARROW, 4, (SMALL, SMALL)),
            flops::conv_transpose2d(NARROW, 1, 4, (2 * SMALL, 2 * SMALL)),
        ]
    }
}

impl Module for Generator {
    fn forward(&mut self, g: &mut Graph<'_>, z: Var) -> Result<Var> {
        let batch = g.shape(z)?[0];
        let h = self.fc.forward(g, z)?;
        let h = self.bn0.forward_act(g, h, Activation::Relu)?;
        let h = g.reshape(h, &[batch, WIDE, SMALL, SMALL])?;
        let h = self.up1.forward(g, h)?;
        let h = self.bn1.forward_act(g, h, Activation::Relu)?;
        let h = self.up2.forward(g, h)?;
        g.tanh(h)
    }

    fn params(&self) -> Vec<ParamId> {
        [
            self.fc.params(),
            self.bn0.params(),
            self.up1.params(),
            self.bn1.params(),
            self.up2.params(),
        ]
        .concat()
    }
}

/// The discriminator: images `[B, 1, 28, 28]` → logits `[B, 1]`.
#[derive(Debug, Clone)]
pub struct Discriminator {
    down1: Conv2d,
    down2: Conv2d,
    bn2: BatchNorm2d,
    fc: Linear,
}

impl Discriminator {
    /// Registers the layers under `discriminator.*` in `store`.
    pub fn new(store: &mut ParamStore, rng: &mut impl Rng) -> Result<Discriminator> {
        let init = Init::PyTorchDefault;
        Ok(Discriminator {
            down1: Conv2d::new(
                store,
                "discriminator.down1",
                k4s2p1(1, NARROW, true),
                init,
                rng,
            )?,
            down2: Conv2d::new(
                store,
                "discriminator.down2",
                k4s2p1(NARROW, WIDE, true),
                init,
                rng,
            )?,
            bn2: BatchNorm2d::new(store, "discriminator.bn2", WIDE)?,
            fc: Linear::new(store, "discriminator.fc", FEATURES, 1, true, init, rng)?,
        })
    }

    /// Forward multiply-adds per sample of each product layer, first layer first.
    pub fn layer_macs() -> [u64; 3] {
        [
            flops::conv2d(1, NARROW, 4, (2 * SMALL, 2 * SMALL)),
            flops::conv2d(NARROW, WIDE, 4, (SMALL, SMALL)),
            flops::linear(FEATURES, 1),
        ]
    }
}

impl Module for Discriminator {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        let h = self.down1.forward(g, x)?;
        let h = g.leaky_relu(h, 0.2)?;
        let h = self.down2.forward(g, h)?;
        let h = self.bn2.forward_act(g, h, Activation::LeakyRelu(0.2))?;
        let h = g.flatten(h)?;
        self.fc.forward(g, h)
    }

    fn params(&self) -> Vec<ParamId> {
        [
            self.down1.params(),
            self.down2.params(),
            self.bn2.params(),
            self.fc.params(),
        ]
        .concat()
    }
}

/// The losses of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLosses {
    /// The discriminator's: `BCE(D(x), 1) + BCE(D(G(z)), 0)`.
    pub d_loss: f32,
    /// The generator's (non-saturating): `BCE(D(G(z)), 1)`.
    pub g_loss: f32,
}

/// A DCGAN with its optimizers (Adam 2e-4, β = (0.5, 0.999)), ready to train.
#[derive(Debug)]
pub struct Dcgan {
    /// Both networks' parameters.
    pub params: ParamStore,
    /// The generator.
    pub generator: Generator,
    /// The discriminator.
    pub discriminator: Discriminator,
    grads: Gradients,
    pool: BufferPool,
    opt_g: Optimizer,
    opt_d: Optimizer,
    noise: ChaCha8Rng,
    z: Vec<f32>,
    ones: Vec<f32>,
    zeros: Vec<f32>,
}

impl Dcgan {
    /// Both networks initialised from `seed`.
    pub fn new(seed: u64) -> Result<Dcgan> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut params = ParamStore::new();
        let generator = Generator::new(&mut params, &mut rng)?;
        let discriminator = Discriminator::new(&mut params, &mut rng)?;
        Ok(Dcgan {
            grads: Gradients::zeros_like(&params),
            pool: BufferPool::new(),
            opt_g: adam(generator.params(), &params)?,
            opt_d: adam(discriminator.params(), &params)?,
            noise: ChaCha8Rng::seed_from_u64(seed.wrapping_add(1)),
            z: Vec::new(),
            ones: Vec::new(),
            zeros: Vec::new(),
            params,
            generator,
            discriminator,
        })
    }

    /// FLOPs of one [`Dcgan::step`] at batch `batch` (products only; see [`crate::flops`]).
    pub fn step_flops(batch: usize) -> u64 {
        flops::gan_step(
            batch,
            &Generator::layer_macs(),
            &Discriminator::layer_macs(),
        )
    }

    /// One training step on `batch` real images (`real`: `batch·784` values in [−1, 1]): G(z)
    /// once; D on the real batch and on G(z) (detached) as two passes, so that batch norm sees
    /// them apart, and D's update; then G(z) through the updated, frozen D with the
    /// non-saturating loss, and G's update. Fails if `real` does not hold `batch` images or
    /// `batch < 2` (batch norm needs two samples).
    pub fn step(&mut self, real: &[f32], batch: usize) -> Result<StepLosses> {
        let b = batch;
        let image = [b, 1, SIDE, SIDE];
        if self.ones.len() != b {
            self.ones = vec![1.0; b];
            self.zeros = vec![0.0; b];
        }
        self.z.resize(b * LATENT, 0.0);
        for v in &mut self.z {
            *v = self.noise.sample(StandardNormal);
        }

        // 0. G(z), once: suspended while D is updated, resumed for G's update.
        let (tape, fake) = {
            let mut g = Graph::new(&self.params, &mut self.pool);
            let z = g.constant_from(&[b, LATENT], &self.z)?;
            let fake = self.generator.forward(&mut g, z)?;
            (g.suspend(), fake)
        };

        // 1. D on real, then on G(z) as a constant: two passes, one backward.
        let d_loss = {
            let mut g = Graph::new(&self.params, &mut self.pool);
            let x = g.constant_from(&image, real)?;
            let real_logits = self.discriminator.forward(&mut g, x)?;
            let ones = g.constant_from(&[b, 1], &self.ones)?;
            let loss_real = g.bce_with_logits(real_logits, ones)?;
            let x = g.constant_from(&image, tape.value(fake)?.data())?;
            let fake_logits = self.discriminator.forward(&mut g, x)?;
            let zeros = g.constant_from(&[b, 1], &self.zeros)?;
            let loss_fake = g.bce_with_logits(fake_logits, zeros)?;
            let loss = g.add(loss_real, loss_fake)?;
            // Sets (not adds) D's gradients: no zeroing beforehand.
            g.backward_set(loss, &mut self.grads)?;
            g.value(loss).data()[0]
        };
        self.opt_d.step(&mut self.params, &self.grads)?;

        // 2. G: G(z) resumed, through the updated D, frozen.
        let g_loss = {
            let mut g = Graph::resume(tape, &self.params, &mut self.pool)?;
            g.freeze(self.discriminator.params());
            let logits = self.discriminator.forward(&mut g, fake)?;
            let ones = g.constant_from(&[b, 1], &self.ones)?;
            let loss = g.bce_with_logits(logits, ones)?;
            g.backward_set(loss, &mut self.grads)?;
            g.value(loss).data()[0]
        };
        self.opt_g.step(&mut self.params, &self.grads)?;
        Ok(StepLosses { d_loss, g_loss })
    }
}

/// `batch` synthetic images in [−1, 1] (`batch·784` values; a step's cost does not depend on
/// the pixels).
pub fn synthetic_batch(batch: usize) -> Vec<f32> {
    (0..batch * PIXELS)
        .map(|i| ((i * 37) % 256) as f32 / 127.5 - 1.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_and_discriminator_shapes() {
        let mut gan = Dcgan::new(0).unwrap();
        let mut pool = BufferPool::new();
        let mut g = Graph::new(&gan.params, &mut pool);
        let z = g.constant_from(&[3, LATENT], &[0.5; 3 * LATENT]).unwrap();
        let images = gan.generator.forward(&mut g, z).unwrap();
        assert_eq!(g.shape(images).unwrap(), &[3, 1, 28, 28]);
        assert!(g.value(images).data().iter().all(|v| v.abs() <= 1.0));
        let logits = gan.discriminator.forward(&mut g, images).unwrap();
        assert_eq!(g.shape(logits).unwrap(), &[3, 1]);
    }

    #[test]
    fn a_step_updates_both_networks() {
        let mut gan = Dcgan::new(1).unwrap();
        let before = gan.params.clone();
        let losses = gan.step(&synthetic_batch(4), 4).unwrap();
        assert!(losses.d_loss.is_finite() && losses.g_loss.is_finite());
        // At the start D cannot tell: each BCE is near ln 2.
        assert!((losses.d_loss - 2.0 * 2f32.ln()).abs() < 0.3, "{losses:?}");
        for net in [gan.generator.params(), gan.discriminator.params()] {
            for id in net {
                let (a, b) = (before.get(id).data(), gan.params.get(id).data());
                assert_ne!(a, b, "{} did not change", gan.params.name(id));
            }
        }
    }

    #[test]
    fn a_wrong_batch_is_an_error() {
        let mut gan = Dcgan::new(2).unwrap();
        assert!(gan.step(&synthetic_batch(3), 4).is_err());
    }

    #[test]
    fn step_flops_by_hand() {
        // G = 627,200 + 6,422,528 + 200,704 = 7,250,432, G₁ = 627,200;
        // D = 200,704 + 6,422,528 + 6,272 = 6,629,504, D₁ = 200,704;
        // 3G − G₁ + 8D − 2D₁ = 21,124,096 + 52,634,624 = 73,758,720 per sample.
        assert_eq!(Dcgan::step_flops(64), 2 * 64 * 73_758_720);
    }
}
