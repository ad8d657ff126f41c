//! [`Conv2d`] and [`ConvTranspose2d`], with weights stored as PyTorch stores them and PyTorch's
//! default initialisation.

use super::{Init, Module};
use crate::error::Result;
use crate::graph::{Graph, Var};
use crate::params::{ParamId, ParamStore};
use rand::Rng;

/// The sizes of a convolution layer: channels, kernel, stride, padding, and whether it has a
/// bias. Built with [`ConvSpec::new`] and refined with the setters:
/// `ConvSpec::new(1, 32, 5).padding(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// The step between windows (both directions).
    pub stride: usize,
    /// Zero padding on each side (both directions).
    pub padding: usize,
    /// Whether the layer adds a bias per output channel.
    pub bias: bool,
}

impl ConvSpec {
    /// A `kernel × kernel` convolution from `in_channels` to `out_channels` with stride 1, no
    /// padding and a bias (PyTorch's defaults).
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> ConvSpec {
        ConvSpec {
            in_channels,
            out_channels,
            kernel: [kernel, kernel],
            stride: 1,
            padding: 0,
            bias: true,
        }
    }

    /// A non-square `kh × kw` kernel.
    pub fn kernel_hw(mut self, kh: usize, kw: usize) -> ConvSpec {
        self.kernel = [kh, kw];
        self
    }

    /// Sets the stride.
    pub fn stride(mut self, stride: usize) -> ConvSpec {
        self.stride = stride;
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, padding: usize) -> ConvSpec {
        self.padding = padding;
        self
    }

    /// With or without a bias.
    pub fn bias(mut self, bias: bool) -> ConvSpec {
        self.bias = bias;
        self
    }
}

/// Registers a convolution's weight of `shape` and bias of `channels` in `store`.
fn register(
    store: &mut ParamStore,
    name: &str,
    shape: [usize; 4],
    fan_in: usize,
    bias_len: Option<usize>,
    init: Init,
    rng: &mut impl Rng,
) -> Result<(ParamId, Option<ParamId>)> {
    let weight = store.add(format!("{name}.weight"), init.weight(&shape, fan_in, rng))?;
    let bias = match bias_len {
        Some(n) => Some(store.add(format!("{name}.bias"), init.bias(&[n], fan_in, rng))?),
        None => None,
    };
    Ok((weight, bias))
}

/// A 2-D convolution layer: `x: (B, Cin, H, W)` → `(B, Cout, Ho, Wo)`
/// (see [`Graph::conv2d`]).
#[derive(Debug, Clone)]
pub struct Conv2d {
    /// The weight, `(Cout, Cin, kh, kw)`.
    pub weight: ParamId,
    /// The bias, `(Cout)`, if any.
    pub bias: Option<ParamId>,
    /// The layer's sizes.
    pub spec: ConvSpec,
}

impl Conv2d {
    /// Registers `{name}.weight` `(Cout, Cin, kh, kw)` (and `{name}.bias` `(Cout)`) in `store`.
    /// With [`Init::PyTorchDefault`] both are U(±1/√fan_in), `fan_in = Cin·kh·kw`.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        spec: ConvSpec,
        init: Init,
        rng: &mut impl Rng,
    ) -> Result<Conv2d> {
        let [kh, kw] = spec.kernel;
        let (weight, bias) = register(
            store,
            name,
            [spec.out_channels, spec.in_channels, kh, kw],
            spec.in_channels * kh * kw,
            spec.bias.then_some(spec.out_channels),
            init,
            rng,
        )?;
        Ok(Conv2d { weight, bias, spec })
    }
}

impl Module for Conv2d {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        let w = g.param(self.weight);
        let b = self.bias.map(|b| g.param(b));
        g.conv2d(x, w, b, self.spec.stride, self.spec.padding)
    }

    fn params(&self) -> Vec<ParamId> {
        std::iter::once(self.weight).chain(self.bias).collect()
    }
}

/// A 2-D transposed convolution layer: `x: (B, Cin, H, W)` → `(B, Cout, Ho, Wo)` with
/// `Ho = (H − 1)·s − 2p + kh` (see [`Graph::conv_transpose2d`]).
#[derive(Debug, Clone)]
pub struct ConvTranspose2d {
    /// The weight, `(Cin, Cout, kh, kw)` as PyTorch stores it.
    pub weight: ParamId,
    /// The bias, `(Cout)`, if any.
    pub bias: Option<ParamId>,
    /// The layer's sizes.
    pub spec: ConvSpec,
}

impl ConvTranspose2d {
    /// Registers `{name}.weight` `(Cin, Cout, kh, kw)` (and `{name}.bias` `(Cout)`) in `store`.
    /// With [`Init::PyTorchDefault`] both are U(±1/√fan_in) with PyTorch's
    /// `fan_in = weight.size(1)·kh·kw = Cout·kh·kw`.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        spec: ConvSpec,
        init: Init,
        rng: &mut impl Rng,
    ) -> Result<ConvTranspose2d> {
        let [kh, kw] = spec.kernel;
        let (weight, bias) = register(
            store,
            name,
            [spec.in_channels, spec.out_channels, kh, kw],
            spec.out_channels * kh * kw,
            spec.bias.then_some(spec.out_channels),
            init,
            rng,
        )?;
        Ok(ConvTranspose2d { weight, bias, spec })
    }
}

impl Module for ConvTranspose2d {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        let w = g.param(self.weight);
        let b = self.bias.map(|b| g.param(b));
        g.conv_transpose2d(x, w, b, self.spec.stride, self.spec.padding)
    }

    fn params(&self) -> Vec<ParamId> {
        std::iter::once(self.weight).chain(self.bias).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn pytorch_default_bounds_use_the_right_fan_in() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut store = ParamStore::new();
        let spec = ConvSpec::new(4, 16, 3);
        let conv = Conv2d::new(&mut store, "c", spec, Init::PyTorchDefault, &mut rng).unwrap();
        let up =
            ConvTranspose2d::new(&mut store, "t", spec, Init::PyTorchDefault, &mut rng).unwrap();
        let max = |id| {
            store
                .get(id)
                .data()
                .iter()
                .fold(0.0f32, |m: f32, v: &f32| m.max(v.abs()))
        };
        assert_eq!(store.get(conv.weight).shape(), &[16, 4, 3, 3]);
        assert_eq!(store.get(up.weight).shape(), &[4, 16, 3, 3]);
        // fan_in 4·9 = 36 for Conv2d (bound 1/6) and 16·9 = 144 for ConvTranspose2d (1/12).
        assert!(max(conv.weight) <= 1.0 / 6.0 && max(conv.weight) > 0.9 / 6.0);
        assert!(max(up.weight) <= 1.0 / 12.0 && max(up.weight) > 0.9 / 12.0);
        assert!(up.bias.is_some_and(|b| max(b) <= 1.0 / 12.0));
        assert_eq!(store.name(conv.bias.unwrap()), "c.bias");
    }
}
