//! The detector network: an MLP 784 → hidden… → one logit with LeakyReLU between the layers and
//! optional dropout after each hidden activation.

use super::data::{Digits, Pixels};
use super::DetectConfig;
use crate::error::Result;
use crate::streams as rng;
use autograd::nn::{Init, Linear};
use autograd::{BufferPool, Graph, ParamId, ParamStore, Var};
use mnist_idx::PIXELS as IMAGE_PIXELS;
use rand_chacha::ChaCha8Rng;

/// Digits scored per forward pass when evaluating.
const EVAL_CHUNK: usize = 1_000;

/// A one-digit detector: its parameters (`detector.layers.{0,2,4}.weight/bias`, shaped as
/// PyTorch's `nn.Linear` keeps them) and the network that reads them.
pub struct Detector {
    /// The parameters.
    pub params: ParamStore,
    /// The layers and the dropout source.
    pub net: DetectorNet,
}

/// The detector's layers and its dropout source, apart from the parameters so that a graph can
/// borrow those while the network draws dropout masks.
pub struct DetectorNet {
    layers: Vec<Linear>,
    slope: f32,
    dropout: f32,
    dropout_rng: ChaCha8Rng,
    pixels: Pixels,
}

impl Detector {
    /// A freshly initialised detector for `c` (weights from the seed's init stream).
    pub fn new(c: &DetectConfig) -> Result<Detector> {
        let mut params = ParamStore::new();
        let mut r = rng::stream(c.seed, rng::STREAM_DETECT_INIT);
        let slope = c.leaky_slope;
        let sizes: Vec<usize> = std::iter::once(IMAGE_PIXELS)
            .chain(c.hidden.iter().copied())
            .chain([1])
            .collect();
        let mut layers = Vec::with_capacity(sizes.len() - 1);
        for (i, pair) in sizes.windows(2).enumerate() {
            let name = format!("detector.layers.{}", 2 * i);
            let init = Init::PyTorchDefault;
            layers.push(Linear::new(
                &mut params,
                &name,
                pair[0],
                pair[1],
                true,
                init,
                &mut r,
            )?);
        }
        let net = DetectorNet {
            layers,
            slope,
            dropout: c.dropout,
            dropout_rng: rng::stream(c.seed, rng::STREAM_DETECT_DROPOUT),
            pixels: c.pixels(),
        };
        Ok(Detector { params, net })
    }

    /// The trainable parameters, in layer order.
    pub fn param_ids(&self) -> Vec<ParamId> {
        self.net
            .layers
            .iter()
            .flat_map(|l| std::iter::once(l.weight).chain(l.bias))
            .collect()
    }

    /// The logit of every digit of `digits` (unshifted, dropout off): above 0 means "the target
    /// digit" at the default threshold.
    pub fn logits(&mut self, digits: &Digits, pool: &mut BufferPool) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(digits.len());
        let mut batch = Vec::new();
        let mut unused = rng::stream(0, 0);
        let all: Vec<u32> = (0..digits.len() as u32).collect();
        for chunk in all.chunks(EVAL_CHUNK) {
            digits.fill_batch(chunk, self.net.pixels, 0, &mut unused, &mut batch);
            let mut g = Graph::new(&self.params, pool);
            g.freeze(self.params.ids());
            g.set_training(false);
            let x = g.constant_from(&[chunk.len(), IMAGE_PIXELS], &batch)?;
            let y = self.net.forward(&mut g, x)?;
            out.extend_from_slice(g.value(y).data());
        }
        Ok(out)
    }
}

impl DetectorNet {
    /// How the network expects its input pixels.
    pub fn pixels(&self) -> Pixels {
        self.pixels
    }

    /// Records the logits `[B, 1]` of the pixels `x` `[B, 784]` into `g`; dropout (when
    /// configured) is active only in training mode.
    pub fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        let mut h = x;
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            let w = g.param(layer.weight);
            let b = layer.bias.map(|b| g.param(b));
            h = g.linear(h, w, b)?;
            if i < last {
                h = g.leaky_relu(h, self.slope)?;
                if self.dropout > 0.0 {
                    h = g.dropout(h, self.dropout, &mut self.dropout_rng)?;
                }
            }
        }
        Ok(h)
    }
}
