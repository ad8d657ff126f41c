//! Layers built from the ops: each registers its parameters in a [`crate::ParamStore`] under a
//! stable name (`layers.0.weight`) and records its forward pass into a [`crate::Graph`].

mod activation;
mod conv;
mod dropout;
mod init;
mod linear;
mod norm;
mod pool;
mod sequential;
mod spectral;

pub use activation::Activation;
pub use conv::{Conv2d, ConvSpec, ConvTranspose2d};
pub use dropout::{Dropout, DropoutState};
pub use init::Init;
pub use linear::Linear;
pub use norm::{BatchNorm1d, BatchNorm2d};
pub use pool::{AvgPool2d, Flatten, MaxPool2d};
pub use sequential::Sequential;
pub use spectral::SpectralNorm;

use crate::error::Result;
use crate::graph::{Graph, Var};
use crate::params::ParamId;

/// A layer or a network of layers.
pub trait Module {
    /// Records the forward pass of `x` into `g`. Layers with state that changes in training
    /// (batch-norm running statistics) update it here, hence `&mut self`.
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var>;

    /// The parameters this module owns, in a stable order.
    fn params(&self) -> Vec<ParamId>;
}
