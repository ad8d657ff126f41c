//! [`Activation`] (defined beside its ops, in `ops/activation.rs`) as a layer.

use super::Module;
use crate::error::Result;
use crate::graph::{Graph, Var};
pub use crate::ops::activation::Activation;
use crate::params::ParamId;

impl Module for Activation {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        self.apply(g, x)
    }

    fn params(&self) -> Vec<ParamId> {
        Vec::new()
    }
}
