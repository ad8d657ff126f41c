//! The random streams of the digit classifiers (see [`autograd::seed`]): one seed reaches every
//! random choice, each purpose from its own stream.

pub use autograd::seed::stream;

/// The stream of the one-digit detector's initial weights.
pub const STREAM_DETECT_INIT: u64 = 1;
/// The stream of the evaluator classifier's initial weights.
pub const STREAM_CLASSIFIER_INIT: u64 = 20;
/// The stream that seeds the evaluator classifier's dropout masks.
pub const STREAM_CLASSIFIER_DROPOUT: u64 = 21;
/// The stream of the evaluator classifier's shuffles and random shifts of training digits.
pub const STREAM_CLASSIFIER_DATA: u64 = 22;
/// The stream of the uniform-noise images `gan eval` uses as its worst-case reference.
pub const STREAM_EVAL_NOISE: u64 = 23;
/// The stream choosing `gan detect`'s held-out validation digits.
pub const STREAM_DETECT_SPLIT: u64 = 30;
/// The stream of `gan detect`'s random shifts of training digits.
pub const STREAM_DETECT_SHIFT: u64 = 31;
/// The stream of `gan detect`'s dropout masks.
pub const STREAM_DETECT_DROPOUT: u64 = 32;
/// Epoch `e` of `gan detect` shuffles with stream `STREAM_DETECT_SHUFFLE_BASE + e`.
pub const STREAM_DETECT_SHUFFLE_BASE: u64 = 30_000;
