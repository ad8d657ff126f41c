//! The small DCGAN for 28×28 digits that tutorials reach for, as `nn.Sequential`s so that the
//! parameter and buffer names are PyTorch's (`generator.layers.0.weight`,
//! `generator.layers.1.running_mean`, ...):
//!
//! ```text
//! G: z (latent [+10])          D: x [1 + 10, 28, 28]
//!  0 Linear → 6272               0 Conv2d →64 k4 s2 p1
//!  1 BatchNorm1d(6272)           1 LeakyReLU(0.2)
//!  2 ReLU                        2 Conv2d 64→128 k4 s2 p1
//!  3 Unflatten → [128, 7, 7]     3 BatchNorm2d(128)
//!  4 ConvTranspose2d 128→64      4 LeakyReLU(0.2)
//!  5 BatchNorm2d(64)             5 Flatten
//!  6 ReLU                        6 Linear 6272→1
//!  7 ConvTranspose2d 64→1
//!  8 Tanh (or Sigmoid)
//! ```
//!
//! Every layer has a bias and PyTorch's default initialisation. A conditional generator reads
//! `[z, one_hot(y)]`; a conditional discriminator reads the image with ten one-hot planes
//! stacked on it (`[x, planes(y)]`, 11 channels), or with `conditioning = "projection"` adds
//! `⟨embed(y), features⟩` to its logit (`discriminator.embed.weight` `[10, 6272]`). Both hold batch statistics, so the training
//! step shows the discriminator real and generated digits in separate passes.

use super::labels::{self, Projection};
use super::{spectral_buffers, spectral_buffers_mut, BatchCoupling, Network};
use crate::config::{OutputKind, TrainConfig};
use crate::error::Result;
use autograd::nn::{
    Activation, BatchNorm1d, BatchNorm2d, Conv2d, ConvSpec, ConvTranspose2d, Init, Linear, Module,
    SpectralNorm,
};
use autograd::{Graph, ParamId, ParamStore, RunningStats, Tensor, Var};
use mnist_idx::{PIXELS, SIDE};
use rand::Rng;

/// Channels of the generator's first feature map and of the discriminator's last.
const WIDE: usize = 128;
/// Channels of the middle feature maps.
const NARROW: usize = 64;
/// Side of the smallest feature map.
const SMALL: usize = SIDE / 4;
/// Features between the linear layers and the 7×7 maps.
const FEATURES: usize = WIDE * SMALL * SMALL;

/// The batch-norm layers' module names (their buffers are saved under them).
const G_BN0: &str = "generator.layers.1";
const G_BN1: &str = "generator.layers.5";
const D_BN2: &str = "discriminator.layers.3";

fn k4s2p1(cin: usize, cout: usize) -> ConvSpec {
    ConvSpec::new(cin, cout, 4).stride(2).padding(1)
}

/// The DCGAN generator: `z [n, latent]` → pixels `[n, 784]`.
#[derive(Debug, Clone)]
pub struct DcganGenerator {
    fc: Linear,
    bn0: BatchNorm1d,
    up1: ConvTranspose2d,
    bn1: BatchNorm2d,
    up2: ConvTranspose2d,
    output: OutputKind,
    conditional: bool,
}

impl DcganGenerator {
    /// The generator of `c`, registered under `generator.layers.*`.
    pub fn new(store: &mut ParamStore, c: &TrainConfig, rng: &mut impl Rng) -> Result<Self> {
        let init = Init::PyTorchDefault;
        let inputs = c.latent + c.label_inputs();
        Ok(DcganGenerator {
            fc: Linear::new(
                store,
                "generator.layers.0",
                inputs,
                FEATURES,
                true,
                init,
                rng,
            )?,
            bn0: BatchNorm1d::new(store, G_BN0, FEATURES)?,
            up1: ConvTranspose2d::new(
                store,
                "generator.layers.4",
                k4s2p1(WIDE, NARROW),
                init,
                rng,
            )?,
            bn1: BatchNorm2d::new(store, G_BN1, NARROW)?,
            up2: ConvTranspose2d::new(store, "generator.layers.7", k4s2p1(NARROW, 1), init, rng)?,
            output: c.output,
            conditional: c.conditional,
        })
    }
}

impl Network for DcganGenerator {
    fn forward(&mut self, g: &mut Graph<'_>, z: Var, labels: Option<&[u8]>) -> Result<Var> {
        let n = g.shape(z)?[0];
        let mut h = z;
        if self.conditional {
            let y = labels::required(labels, n, "the conditional DCGAN generator")?;
            let y = labels::one_hot(g, y)?;
            h = g.concat(&[h, y], 1)?;
        }
        h = self.fc.forward(g, h)?;
        h = self.bn0.forward_act(g, h, Activation::Relu)?;
        h = g.reshape(h, &[n, WIDE, SMALL, SMALL])?;
        h = self.up1.forward(g, h)?;
        h = self.bn1.forward_act(g, h, Activation::Relu)?;
        h = self.up2.forward(g, h)?;
        h = match self.output {
            OutputKind::Tanh => g.tanh(h)?,
            OutputKind::Sigmoid => g.sigmoid(h)?,
        };
        Ok(g.reshape(h, &[n, PIXELS])?)
    }

    fn params(&self) -> Vec<ParamId> {
        let mut ids = self.fc.params();
        ids.extend(self.bn0.params());
        ids.extend(self.up1.params());
        ids.extend(self.bn1.params());
        ids.extend(self.up2.params());
        ids
    }

    fn conditional(&self) -> bool {
        self.conditional
    }

    fn batch_coupling(&self) -> BatchCoupling {
        BatchCoupling::Batch
    }

    fn running_stats(&self) -> Vec<(&str, &RunningStats)> {
        vec![(G_BN0, self.bn0.running()), (G_BN1, self.bn1.running())]
    }

    fn running_stats_mut(&mut self) -> Vec<(&str, &mut RunningStats)> {
        vec![
            (G_BN0, self.bn0.running_mut()),
            (G_BN1, self.bn1.running_mut()),
        ]
    }
}

/// The DCGAN discriminator: pixels `[n, 784]` → one logit `[n, 1]`.
#[derive(Debug, Clone)]
pub struct DcganDiscriminator {
    down1: Conv2d,
    down2: Conv2d,
    bn2: BatchNorm2d,
    fc: Linear,
    slope: f32,
    conditional: bool,
    /// With spectral normalisation: one per weighted layer (0, 2, 6), in that order.
    spectral: Vec<SpectralNorm>,
    /// A conditional discriminator's projection term (else ten label planes are stacked on
    /// the image).
    projection: Option<Projection>,
    /// The group size of a minibatch standard-deviation feature appended to the flattened
    /// features.
    stddev_group: Option<usize>,
}

impl DcganDiscriminator {
    /// The discriminator of `c`, registered under `discriminator.layers.*`.
    pub fn new(store: &mut ParamStore, c: &TrainConfig, rng: &mut impl Rng) -> Result<Self> {
        let init = Init::PyTorchDefault;
        let projects = c.projects();
        // One channel of pixels, and ten one-hot planes when the label is concatenated.
        let channels = 1 + c.discriminator_label_inputs();
        let features = FEATURES + c.stddev_features();
        let mut d = DcganDiscriminator {
            down1: Conv2d::new(
                store,
                "discriminator.layers.0",
                k4s2p1(channels, NARROW),
                init,
                rng,
            )?,
            down2: Conv2d::new(
                store,
                "discriminator.layers.2",
                k4s2p1(NARROW, WIDE),
                init,
                rng,
            )?,
            bn2: BatchNorm2d::new(store, D_BN2, WIDE)?,
            fc: Linear::new(
                store,
                "discriminator.layers.6",
                features,
                1,
                true,
                init,
                rng,
            )?,
            slope: c.leaky_slope as f32,
            conditional: c.conditional,
            spectral: Vec::new(),
            projection: None,
            stddev_group: (c.minibatch_stddev > 0).then_some(c.minibatch_stddev),
        };
        if projects {
            d.projection = Some(Projection::new(
                store,
                "discriminator.embed",
                features,
                rng,
            )?);
        }
        if c.spectral_norm {
            let layers = [
                (d.down1.weight, "discriminator.layers.0"),
                (d.down2.weight, "discriminator.layers.2"),
                (d.fc.weight, "discriminator.layers.6"),
            ];
            for (weight, module) in layers {
                d.spectral
                    .push(SpectralNorm::new(store, weight, module, rng)?);
            }
        }
        Ok(d)
    }

    /// The weight of layer `i` of (0: down1, 1: down2, 2: fc): normalised, or the parameter.
    fn weight(&mut self, g: &mut Graph<'_>, i: usize, param: ParamId) -> Result<Var> {
        Ok(match self.spectral.get_mut(i) {
            Some(sn) => sn.weight(g)?,
            None => g.param(param),
        })
    }
}

impl Network for DcganDiscriminator {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var, labels: Option<&[u8]>) -> Result<Var> {
        let n = g.shape(x)?[0];
        let mut h = g.reshape(x, &[n, 1, SIDE, SIDE])?;
        let labels = match self.conditional {
            true => Some(labels::required(
                labels,
                n,
                "the conditional DCGAN discriminator",
            )?),
            false => None,
        };
        if let (Some(y), None) = (labels, &self.projection) {
            let planes = labels::one_hot_planes(g, y)?;
            h = g.concat(&[h, planes], 1)?;
        }
        let conv = |g: &mut Graph<'_>, h, w, layer: &Conv2d| {
            let b = layer.bias.map(|b| g.param(b));
            g.conv2d(h, w, b, layer.spec.stride, layer.spec.padding)
        };
        let w = self.weight(g, 0, self.down1.weight)?;
        h = conv(g, h, w, &self.down1)?;
        h = g.leaky_relu(h, self.slope)?;
        let w = self.weight(g, 1, self.down2.weight)?;
        h = conv(g, h, w, &self.down2)?;
        h = self
            .bn2
            .forward_act(g, h, Activation::LeakyRelu(self.slope))?;
        h = g.flatten(h)?;
        if let Some(group) = self.stddev_group {
            let s = g.minibatch_stddev(h, group)?;
            h = g.concat(&[h, s], 1)?;
        }
        let w = self.weight(g, 2, self.fc.weight)?;
        let b = self.fc.bias.map(|b| g.param(b));
        let logit = g.linear(h, w, b)?;
        match (labels, &self.projection) {
            (Some(y), Some(p)) => {
                let term = p.term(g, h, y)?;
                Ok(g.add(logit, term)?)
            }
            _ => Ok(logit),
        }
    }

    fn params(&self) -> Vec<ParamId> {
        let mut ids = self.down1.params();
        ids.extend(self.down2.params());
        ids.extend(self.bn2.params());
        ids.extend(self.fc.params());
        ids.extend(self.projection.as_ref().map(Projection::param));
        ids
    }

    fn conditional(&self) -> bool {
        self.conditional
    }

    fn batch_coupling(&self) -> BatchCoupling {
        BatchCoupling::Batch
    }

    fn running_stats(&self) -> Vec<(&str, &RunningStats)> {
        vec![(D_BN2, self.bn2.running())]
    }

    fn buffers(&self) -> Vec<(String, &Tensor)> {
        spectral_buffers(&self.spectral)
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        spectral_buffers_mut(&mut self.spectral)
    }

    fn running_stats_mut(&mut self) -> Vec<(&str, &mut RunningStats)> {
        vec![(D_BN2, self.bn2.running_mut())]
    }
}
