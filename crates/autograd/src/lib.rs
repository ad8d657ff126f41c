//! A small f32 tensor engine with reverse-mode automatic differentiation, written to be read.
//!
//! - [`Tensor`]: f32 values in row-major order and a shape.
//! - [`ParamStore`]: named parameters that live across steps; [`Gradients`]: their gradients.
//! - [`Graph`]: one per step. Ops (`g.linear`, `g.relu`, `g.bce_with_logits`, ...) record their
//!   result and a backward rule; [`Graph::backward`] replays them in reverse and adds each
//!   parameter's gradient into a [`Gradients`] store ([`Graph::backward_set`] sets it instead).
//!   [`Graph::suspend`] keeps a recording as a [`Tape`] while other graphs run and an optimizer
//!   updates parameters it does not read; [`Graph::resume`] continues it.
//! - [`join`]: the engine's parallelism, two threads at most, in fixed halves, so that results
//!   are bit-identical with one thread or two.
//! - [`BufferPool`]: every buffer a graph uses comes from a pool and returns to it when the graph
//!   is dropped, so a steady training loop allocates no new large buffers.
//! - [`nn`]: layers ([`nn::Linear`], [`nn::Conv2d`], [`nn::ConvTranspose2d`],
//!   [`nn::BatchNorm2d`], [`nn::Dropout`], [`nn::MaxPool2d`], [`nn::Activation`],
//!   [`nn::Sequential`], ...) with PyTorch's initialisations and parameter names.
//! - [`optim`]: optimizers as in `torch.optim` ([`optim::Optimizer`] with Adam, RMSprop or SGD,
//!   PyTorch's update rules and state names), updating a [`ParamStore`] from its [`Gradients`].
//! - [`gradcheck()`]: checks any op's gradient against central finite differences.
//! - With the cargo feature `ndarray` (on by default): `Tensor::view_nd` and conversions between
//!   [`Tensor`] and `ndarray::ArrayD<f32>` (`From` both ways, copying only arrays that are not in
//!   row-major layout).
//!
//! # Example: an MLP learns XOR
//! ```
//! use autograd::nn::{Activation, Init, Linear, Module, Sequential};
//! use autograd::optim::Optimizer;
//! use autograd::{BufferPool, Gradients, Graph, ParamStore, Tensor};
//! use rand::SeedableRng;
//!
//! # fn main() -> Result<(), autograd::Error> {
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let mut params = ParamStore::new();
//! let mut net = Sequential::new();
//! net.push(Linear::new(&mut params, "layers.0", 2, 8, true, Init::PyTorchDefault, &mut rng)?);
//! net.push(Activation::Tanh);
//! net.push(Linear::new(&mut params, "layers.2", 8, 1, true, Init::PyTorchDefault, &mut rng)?);
//! let mut opt = Optimizer::adam(net.params(), &params, 0.05, (0.9, 0.999))?;
//!
//! let x = Tensor::from_vec(&[4, 2], vec![0., 0., 0., 1., 1., 0., 1., 1.])?;
//! let y = Tensor::from_vec(&[4, 1], vec![0., 1., 1., 0.])?;
//! let (mut grads, mut pool) = (Gradients::zeros_like(&params), BufferPool::new());
//! let mut loss_value = f32::INFINITY;
//! for _ in 0..500 {
//!     let mut g = Graph::new(&params, &mut pool);
//!     let (input, target) = (g.constant(x.clone()), g.constant(y.clone()));
//!     let logits = net.forward(&mut g, input)?;
//!     let loss = g.bce_with_logits(logits, target)?;
//!     g.backward_set(loss, &mut grads)?; // sets the gradients: no zeroing needed
//!     loss_value = g.value(loss).data()[0];
//!     drop(g);
//!     opt.step(&mut params, &grads)?;
//! }
//! assert!(loss_value < 0.05, "loss {loss_value}");
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod error;
mod gradcheck;
mod graph;
#[cfg(feature = "ndarray")]
mod nd;
pub mod nn;
pub mod ops;
pub mod optim;
mod params;
mod pool;
pub mod seed;
mod tape;
mod tensor;
pub mod tensor_file;

pub use error::{Error, Result};
pub use gradcheck::{gradcheck, gradcheck_with, GradCheckConfig, GradCheckError};
pub use graph::{Graph, Var};
pub use ops::norm::RunningStats;
#[doc(hidden)]
pub use ops::parallel::force_helper;
pub use ops::parallel::join;
pub use params::{Gradients, ParamId, ParamStore};
pub use pool::BufferPool;
pub use tape::Tape;
pub use tensor::{checked_numel, numel, Tensor};
