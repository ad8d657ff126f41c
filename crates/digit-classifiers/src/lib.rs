//! Digit classifiers trained with `autograd` on MNIST: the evaluator CNN that measures generated
//! digits (and the quality figures it gives), and the one-digit detector.
//!
//! | module | what it holds |
//! |---|---|
//! | [`evaluator`] | the evaluator CNN, its training loop, its shipped weights and their record |
//! | [`quality`] | what the evaluator says about a set of digits, beside the floor (training digits) and noise |
//! | [`detector`] | the one-digit detector (`gan detect`): one digit against all others |
//! | [`augment`] | random shifts of training digits, shared by both trainers |
//! | [`streams`] | the random streams of one seed that each of them draws from |
#![warn(missing_docs)]

pub mod augment;
pub mod detector;
pub mod error;
pub mod evaluator;
pub mod quality;
pub mod streams;

pub use error::{Error, Result};
