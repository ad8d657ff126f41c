//! [`Linear`]: `y = x·Wᵀ + b`, the weight stored `[out, in]` as in PyTorch's `nn.Linear`.

use super::{Activation, Init, Module};
use crate::error::Result;
use crate::graph::{Graph, Var};
use crate::params::{ParamId, ParamStore};
use rand::Rng;

/// A fully connected layer.
#[derive(Debug, Clone)]
pub struct Linear {
    /// The weight, `[out, in]`.
    pub weight: ParamId,
    /// The bias, `[out]`, if any.
    pub bias: Option<ParamId>,
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
}

impl Linear {
    /// Registers `{name}.weight` (and `{name}.bias`) in `store`, initialised by `init`.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        inputs: usize,
        outputs: usize,
        bias: bool,
        init: Init,
        rng: &mut impl Rng,
    ) -> Result<Linear> {
        let weight = store.add(
            format!("{name}.weight"),
            init.weight(&[outputs, inputs], inputs, rng),
        )?;
        let bias = if bias {
            Some(store.add(format!("{name}.bias"), init.bias(&[outputs], inputs, rng))?)
        } else {
            None
        };
        Ok(Linear {
            weight,
            bias,
            inputs,
            outputs,
        })
    }
}

impl Linear {
    /// Records `act(x·Wᵀ + b)` as one fused op ([`Graph::linear_act`]).
    pub fn forward_act(&self, g: &mut Graph<'_>, x: Var, act: Activation) -> Result<Var> {
        let w = g.param(self.weight);
        let b = self.bias.map(|b| g.param(b));
        g.linear_act(x, w, b, act)
    }
}

impl Module for Linear {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        let w = g.param(self.weight);
        let b = self.bias.map(|b| g.param(b));
        g.linear(x, w, b)
    }

    fn params(&self) -> Vec<ParamId> {
        std::iter::once(self.weight).chain(self.bias).collect()
    }
}
