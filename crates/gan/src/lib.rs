//! GAN models, optimizers, the training loop, checkpoints, evaluation metrics, images and plots.

pub mod metrics;
pub mod render;
