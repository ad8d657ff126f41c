//! [`Activation`]: the parameter-free non-linearities as layers.

use super::Module;
use crate::error::Result;
use crate::graph::{Graph, Var};
use crate::params::ParamId;

/// An element-wise non-linearity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x` if positive, else `slope·x`.
    LeakyRelu(f32),
    /// The logistic function.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
}

impl Activation {
    /// Records the activation of `x`.
    pub fn apply(self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        match self {
            Activation::Relu => g.relu(x),
            Activation::LeakyRelu(slope) => g.leaky_relu(x, slope),
            Activation::Sigmoid => g.sigmoid(x),
            Activation::Tanh => g.tanh(x),
        }
    }
}

impl Module for Activation {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        self.apply(g, x)
    }

    fn params(&self) -> Vec<ParamId> {
        Vec::new()
    }
}
