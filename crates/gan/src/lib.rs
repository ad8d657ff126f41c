//! Trains generative adversarial networks on handwritten digits: models, losses, the training
//! step, checkpoints, run folders, sweeps and latent traversals, on the `autograd` engine.
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | [`TrainConfig`]: every hyperparameter, as written to `config.toml` |
//! | [`model`], [`loss`] | the networks behind one seam ([`model::Network`]) and the adversarial losses |
//! | [`data`] | training digits, batches, pixel scaling |
//! | [`train`], [`epoch`] | [`Gan`], [`Trainer`] (the step and the epoch loop) and what they measure |
//! | [`checkpoint`], [`run`], [`session`] | safetensors checkpoints, run folders, a [`TrainingRun`] writing into one |
//! | [`charts`] | a run's and a sweep's loss and accuracy charts |
//! | [`sweep`], [`sweep_plan`], [`traverse`] | one run per setting (in process, or planned for a cluster and collected), and walks through the latent space |
//! | [`report`] | `report.html`: a run's and a sweep's page |
//!
//! # Example: train from code, then sample
//! ```
//! use gan::data::TrainingData;
//! use gan::{TrainConfig, Trainer};
//!
//! # fn main() -> gan::Result<()> {
//! // 64 made-up digits (a real run loads `data/mnist` with `TrainingData::load`).
//! let split = mnist_idx::Split {
//!     images: (0..64 * 784).map(|i| (i * 37 % 256) as u8).collect(),
//!     labels: (0..64).map(|i| (i % 10) as u8).collect(),
//!     len: 64,
//! };
//! let config = TrainConfig {
//!     batch: 16,
//!     g_hidden: vec![32],
//!     d_hidden: vec![32],
//!     ..TrainConfig::default()
//! };
//! let data = TrainingData::from_split(&split, &config.digit_list()?)?;
//! let mut trainer = Trainer::new(&config, data)?;
//! let epoch = trainer.train_epoch(|_progress| true)?.expect("not interrupted");
//! assert!(epoch.d_loss.is_finite() && epoch.g_loss.is_finite());
//!
//! // Four digits as grey levels, 28×28 each.
//! let digits = trainer.gan_mut().sample_u8(4, 7)?;
//! assert_eq!(digits.len(), 4 * 784);
//! # Ok(())
//! # }
//! ```
//!
//! [`TrainingRun`] does the same into a run folder (grids, `metrics.csv`, plots, checkpoints,
//! resume), as `gan train` does.
#![warn(missing_docs)]

pub mod charts;
pub mod checkpoint;
pub mod cleanup;
pub mod config;
pub mod data;
pub mod ema;
pub mod epoch;
pub mod error;
pub mod fixed_grid;
pub mod limits;
pub mod lock;
pub mod loss;
pub mod mode_seeking;
pub mod model;
pub mod report;
pub mod rng;
pub mod run;
pub mod session;
pub mod sweep;
pub mod sweep_plan;
pub mod train;
pub mod traverse;

pub use config::TrainConfig;
pub use error::{GanError, Result};
pub use run::RunDir;
pub use session::TrainingRun;
pub use train::{Gan, RealBatch, Trainer};
