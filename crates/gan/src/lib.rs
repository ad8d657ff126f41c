//! GAN models, the training loop, checkpoints, evaluation metrics, images and plots
//! for handwritten digits, on the `autograd` engine.
#![warn(missing_docs)]

pub mod charts;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod epoch;
pub mod error;
pub mod loss;
pub mod model;
pub mod rng;
pub mod run;
pub mod session;
pub mod sweep;
pub mod train;
pub mod traverse;

pub use config::TrainConfig;
pub use error::{GanError, Result};
pub use run::RunDir;
pub use session::TrainingRun;
pub use train::{Gan, RealBatch, Trainer};
