//! GAN models, optimizers, the training loop, checkpoints, evaluation metrics, images and plots
//! for handwritten digits, on the `autograd` engine.
#![warn(missing_docs)]

pub mod atomic;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod detect;
pub mod error;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod render;
pub mod rng;
pub mod run;
pub mod train;

pub use config::TrainConfig;
pub use error::{GanError, Result};
pub use run::RunDir;
pub use train::{Gan, Trainer};
