//! [`BatchNorm1d`] for `(B, C)` and [`BatchNorm2d`] for `(B, C, H, W)`: parameters
//! `{name}.weight` (γ, starts at 1) and `{name}.bias` (β, starts at 0) in the store; the running
//! statistics in the layer, readable and writable for checkpoints (PyTorch names them
//! `{name}.running_mean`, `{name}.running_var`, `{name}.num_batches_tracked`).

use super::{Activation, Module};
use crate::error::{shape_mismatch, Result};
use crate::graph::{Graph, Var};
use crate::ops::norm::RunningStats;
use crate::params::{ParamId, ParamStore};
use crate::tensor::Tensor;

macro_rules! batch_norm_layer {
    ($(#[$doc:meta])* $name:ident, $rank:expr, $expects:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            /// γ, `(C)`.
            pub weight: ParamId,
            /// β, `(C)`.
            pub bias: ParamId,
            /// The weight of the newest batch in the running statistics (PyTorch's 0.1).
            pub momentum: f32,
            /// Added to the variance before the square root (PyTorch's 1e-5).
            pub eps: f32,
            name: String,
            running: RunningStats,
        }

        impl $name {
            /// Registers `{name}.weight` (ones) and `{name}.bias` (zeros), both `(C)`, with
            /// running mean 0 and variance 1, momentum 0.1 and eps 1e-5.
            pub fn new(store: &mut ParamStore, name: &str, channels: usize) -> Result<$name> {
                let weight = store.add(format!("{name}.weight"), Tensor::full(&[channels], 1.0))?;
                let bias = store.add(format!("{name}.bias"), Tensor::zeros(&[channels]))?;
                Ok($name {
                    weight,
                    bias,
                    momentum: 0.1,
                    eps: 1e-5,
                    name: name.to_string(),
                    running: RunningStats::new(channels),
                })
            }

            /// The name the layer was registered under.
            pub fn name(&self) -> &str {
                &self.name
            }

            /// The running statistics (to save them).
            pub fn running(&self) -> &RunningStats {
                &self.running
            }

            /// The running statistics, mutably (to load them).
            pub fn running_mut(&mut self) -> &mut RunningStats {
                &mut self.running
            }
        }

        impl $name {
            /// The layer followed by `act`, as one op ([`Graph::batch_norm_act`]): one pass
            /// over memory and one stored tensor instead of three.
            pub fn forward_act(
                &mut self,
                g: &mut Graph<'_>,
                x: Var,
                act: Activation,
            ) -> Result<Var> {
                self.normalise(g, x, Some(act))
            }

            fn normalise(
                &mut self,
                g: &mut Graph<'_>,
                x: Var,
                act: Option<Activation>,
            ) -> Result<Var> {
                let shape = g.shape(x)?;
                if shape.len() != $rank {
                    return Err(shape_mismatch(
                        stringify!($name),
                        shape,
                        &[self.running.channels()],
                        $expects,
                    ));
                }
                let (w, b) = (g.param(self.weight), g.param(self.bias));
                let (m, eps) = (self.momentum, self.eps);
                g.batch_norm_act(x, w, b, &mut self.running, m, eps, act)
            }
        }

        impl Module for $name {
            fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
                self.normalise(g, x, None)
            }

            fn params(&self) -> Vec<ParamId> {
                vec![self.weight, self.bias]
            }
        }
    };
}

batch_norm_layer!(
    /// Batch normalisation of features: `x: (B, C)` → `(B, C)` (see [`Graph::batch_norm`]).
    BatchNorm1d,
    2,
    "the input must be (B, C)"
);

batch_norm_layer!(
    /// Batch normalisation of feature maps, per channel: `x: (B, C, H, W)` → `(B, C, H, W)`
    /// (see [`Graph::batch_norm`]).
    BatchNorm2d,
    4,
    "the input must be (B, C, H, W)"
);
