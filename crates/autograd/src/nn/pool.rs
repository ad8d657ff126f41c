//! Parameter-free layers that reshape or pool: [`MaxPool2d`], [`AvgPool2d`], [`Flatten`].

use super::Module;
use crate::error::Result;
use crate::graph::{Graph, Var};
use crate::params::ParamId;

/// Max pooling: `x: (B, C, H, W)` → `(B, C, (H − k)/s + 1, (W − k)/s + 1)`
/// (see [`Graph::max_pool2d`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2d {
    /// The window side.
    pub kernel: usize,
    /// The step between windows.
    pub stride: usize,
}

impl MaxPool2d {
    /// A `kernel × kernel` window moved by `stride` (PyTorch's default stride is `kernel`).
    pub fn new(kernel: usize, stride: usize) -> MaxPool2d {
        MaxPool2d { kernel, stride }
    }
}

impl Module for MaxPool2d {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        g.max_pool2d(x, self.kernel, self.stride)
    }

    fn params(&self) -> Vec<ParamId> {
        Vec::new()
    }
}

/// Average pooling: `x: (B, C, H, W)` → `(B, C, (H − k)/s + 1, (W − k)/s + 1)`
/// (see [`Graph::avg_pool2d`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvgPool2d {
    /// The window side.
    pub kernel: usize,
    /// The step between windows.
    pub stride: usize,
}

impl AvgPool2d {
    /// A `kernel × kernel` window moved by `stride`.
    pub fn new(kernel: usize, stride: usize) -> AvgPool2d {
        AvgPool2d { kernel, stride }
    }
}

impl Module for AvgPool2d {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        g.avg_pool2d(x, self.kernel, self.stride)
    }

    fn params(&self) -> Vec<ParamId> {
        Vec::new()
    }
}

/// Keeps the first axis and merges the others: `(B, C, H, W)` → `(B, C·H·W)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        g.flatten(x)
    }

    fn params(&self) -> Vec<ParamId> {
        Vec::new()
    }
}
