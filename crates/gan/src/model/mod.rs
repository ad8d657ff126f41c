//! The models behind one seam: a [`Network`] is anything that records a forward pass into a
//! [`Graph`] and owns named parameters. [`ModelKind`] (the configuration's `model = "mlp"`) picks
//! the generator and the discriminator that [`build`] makes; adding a model means adding a file
//! here and a variant to [`ModelKind`], not editing the training step.
//!
//! What the training step asks of a network, beyond its forward pass:
//! - labels, for class-conditional models ([`Network::conditional`]): the step passes the real
//!   digits' labels with real digits and uniformly drawn labels with generated ones;
//! - how one digit's output depends on the rest of its batch ([`Network::batch_coupling`]): a
//!   discriminator with batch normalisation sees real and generated digits in two separate
//!   passes, as two PyTorch calls would; one whose digits are independent, or coupled only in
//!   groups that do not straddle the two halves, sees them as one concatenated batch (one
//!   product per layer instead of two, same results);
//! - a hook after each of its optimizer's updates ([`Network::after_update`]), for weight
//!   clipping or spectral normalisation;
//! - its non-trainable state ([`Network::running_stats`]), which checkpoints save as PyTorch's
//!   buffers (`running_mean`, `running_var`, `num_batches_tracked`).
//!
//! Parameter names follow PyTorch's, so checkpoints load into the equivalent `nn.Module`.

mod dcgan;
mod labels;
mod mlp;

pub use dcgan::{DcganDiscriminator, DcganGenerator};
pub use labels::{Projection, CLASSES};
pub use mlp::Mlp;

use crate::config::{ModelKind, TrainConfig};
use crate::error::Result;
use autograd::nn::SpectralNorm;
use autograd::{Graph, ParamId, ParamStore, RunningStats, Tensor, Var};
use rand::Rng;

/// Pixels of one MNIST digit.
pub const IMAGE_PIXELS: usize = mnist_idx::PIXELS;

/// A generator or a discriminator.
pub trait Network: Send {
    /// Records the forward pass of the batch `x` into `g`: noise `[n, latent]` to pixels
    /// `[n, 784]` for a generator, pixels to one logit per digit `[n, 1]` for a discriminator.
    /// `labels` holds one class per row when the network is [`conditional`](Network::conditional)
    /// and is `None` otherwise.
    fn forward(&mut self, g: &mut Graph<'_>, x: Var, labels: Option<&[u8]>) -> Result<Var>;

    /// The parameters it owns, in a stable order (its optimizer updates them in this order).
    fn params(&self) -> Vec<ParamId>;

    /// Whether its forward pass takes the class labels.
    fn conditional(&self) -> bool {
        false
    }

    /// How its output for one digit depends on the other digits of the batch.
    fn batch_coupling(&self) -> BatchCoupling {
        BatchCoupling::Independent
    }

    /// Called after each update of its parameters by its optimizer.
    fn after_update(&mut self, _params: &mut ParamStore) -> Result<()> {
        Ok(())
    }

    /// Non-trainable state (batch-norm running statistics) under its PyTorch module name.
    fn running_stats(&self) -> Vec<(&str, &RunningStats)> {
        Vec::new()
    }

    /// Other non-trainable f32 state under its full name (spectral normalisation's
    /// `{module}.weight_u` and `{module}.weight_v`).
    fn buffers(&self) -> Vec<(String, &Tensor)> {
        Vec::new()
    }

    /// [`Network::buffers`], mutably (to load a checkpoint).
    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        Vec::new()
    }

    /// [`Network::running_stats`], mutably (to load a checkpoint).
    fn running_stats_mut(&mut self) -> Vec<(&str, &mut RunningStats)> {
        Vec::new()
    }
}

/// How a network's output for one digit depends on the other digits of its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchCoupling {
    /// Not at all.
    Independent,
    /// Through its group of this many consecutive digits (minibatch standard deviation).
    Groups(usize),
    /// Through the whole batch (batch normalisation in training mode).
    Batch,
}

impl BatchCoupling {
    /// Whether two batches of `batch` digits each can pass as one concatenated batch of
    /// `2·batch` with the same result for every digit: no coupling, or groups that end where
    /// the first batch ends.
    pub fn allows_joining(self, batch: usize) -> bool {
        match self {
            BatchCoupling::Independent => true,
            BatchCoupling::Groups(group) => group > 0 && batch.is_multiple_of(group),
            BatchCoupling::Batch => false,
        }
    }
}

/// The generator and the discriminator of `config`, their parameters registered in `store`
/// (generator first) and initialised from `rng`.
pub fn build(
    config: &TrainConfig,
    store: &mut ParamStore,
    rng: &mut impl Rng,
) -> Result<(Box<dyn Network>, Box<dyn Network>)> {
    match config.model {
        ModelKind::Mlp => {
            let generator = Mlp::generator(store, config, rng)?;
            let discriminator = Mlp::discriminator(store, config, rng)?;
            Ok((Box::new(generator), Box::new(discriminator)))
        }
        ModelKind::Dcgan => {
            let generator = DcganGenerator::new(store, config, rng)?;
            let discriminator = DcganDiscriminator::new(store, config, rng)?;
            Ok((Box::new(generator), Box::new(discriminator)))
        }
    }
}

/// The power-iteration vectors of spectrally normalised layers, as PyTorch names them.
pub(crate) fn spectral_buffers(layers: &[SpectralNorm]) -> Vec<(String, &Tensor)> {
    layers
        .iter()
        .flat_map(|sn| {
            [
                (format!("{}.weight_u", sn.module()), &sn.u),
                (format!("{}.weight_v", sn.module()), &sn.v),
            ]
        })
        .collect()
}

/// [`spectral_buffers`], mutably.
pub(crate) fn spectral_buffers_mut(layers: &mut [SpectralNorm]) -> Vec<(String, &mut Tensor)> {
    let mut out = Vec::new();
    for sn in layers {
        let module = sn.module().to_string();
        out.push((format!("{module}.weight_u"), &mut sn.u));
        out.push((format!("{module}.weight_v"), &mut sn.v));
    }
    out
}
