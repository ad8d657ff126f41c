//! [`Sequential`]: layers applied one after another.

use super::Module;
use crate::error::Result;
use crate::graph::{Graph, Var};
use crate::params::ParamId;

/// A chain of modules; parameter names follow PyTorch's `nn.Sequential` (`layers.{i}.weight`)
/// when each layer is registered as `{prefix}.layers.{i}`.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module + Send>>,
}

impl Sequential {
    /// An empty chain.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a module.
    pub fn push(&mut self, module: impl Module + Send + 'static) {
        self.layers.push(Box::new(module));
    }

    /// The number of modules.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the chain is empty.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward(&mut self, g: &mut Graph<'_>, mut x: Var) -> Result<Var> {
        for layer in &mut self.layers {
            x = layer.forward(g, x)?;
        }
        Ok(x)
    }

    fn params(&self) -> Vec<ParamId> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }
}
