//! Measures how close two sets of samples are, on plain feature and probability matrices: FID,
//! precision/recall, density/coverage, a classifier score and class histograms.
//!
//! Everything here works on [`Features`], a row-major `n × dim` matrix of `f32` (one row per
//! sample), not on tensors: typically the 128-dim penultimate-layer features or the 10 class
//! probabilities that the evaluator CNN gives for 10,000 digits.
//!
//! | figure | function | file |
//! |---|---|---|
//! | Fréchet distance (FID on classifier features) | [`fid`], [`fid_from_stats`], [`FeatureStats`] | `fid.rs` |
//! | precision, recall (k = 3), density, coverage (k = 5) | [`precision_recall`], [`PrReference`] | `precision_recall.rs` |
//! | MNIST score (inception-score analogue) | [`mnist_score`] | `score.rs` |
//! | class histogram, class ratio, confusion matrix | [`class_histogram`], [`confusion_matrix`] | `histogram.rs` |
//! | the summary written to `eval.json` | [`QualityReport`] | `report.rs` |
//!
//! Every function validates its input (shapes, finite values, enough samples) and returns a
//! [`MetricsError`] instead of panicking.
//!
//! ```
//! use metrics::{fid, Features, MetricsError};
//!
//! # fn main() -> Result<(), MetricsError> {
//! // Three samples of 2-dim features each.
//! let a = Features::new(3, 2, vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0])?;
//! let b = Features::new(3, 2, vec![1.0, 1.0, 2.0, 1.0, 1.0, 2.0])?;
//! // Same covariance, means one unit apart along each axis: FID = |Δμ|² = 2.
//! assert!((fid(&a, &b)? - 2.0).abs() < 1e-9);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

use thiserror::Error;

mod features;
mod fid;
mod histogram;
mod knn;
mod precision_recall;
mod report;
mod score;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod test_util;

pub use features::Features;
pub use fid::{fid, fid_from_stats, FeatureStats};
pub use histogram::{
    argmax_labels, class_histogram, confusion_matrix, ClassHistogram, ConfusionMatrix, NUM_CLASSES,
};
pub use precision_recall::{
    precision_recall, precision_recall_against, PrParams, PrReference, PrecisionRecall,
};
pub use report::QualityReport;
pub use score::mnist_score;

/// Everything that can go wrong when computing a metric.
///
/// Each variant carries the numbers that were wrong; the message says what to do about it.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The data vector does not hold `n * dim` values.
    #[error(
        "a {n} x {dim} feature matrix needs {expected} values but {len} were given: \
         pass exactly n * dim values, one row of dim values per sample"
    )]
    ShapeMismatch {
        /// Number of rows (samples) requested.
        n: usize,
        /// Number of columns (features per sample) requested.
        dim: usize,
        /// `n * dim`, computed without overflow.
        expected: u128,
        /// Number of values actually given.
        len: usize,
    },

    /// A feature matrix with zero columns.
    #[error(
        "a feature matrix with {n} rows has 0 columns: every sample needs at least one feature"
    )]
    ZeroDimension {
        /// Number of rows given.
        n: usize,
    },

    /// Two matrices that must have the same number of columns do not.
    #[error(
        "{left} have {left_dim} columns but {right} have {right_dim}: both must come from the \
         same feature extractor (the same layer of the same evaluator)"
    )]
    DimensionMismatch {
        /// Which matrix the first count belongs to ("real features", ...).
        left: &'static str,
        /// Its number of columns.
        left_dim: usize,
        /// Which matrix the second count belongs to.
        right: &'static str,
        /// Its number of columns.
        right_dim: usize,
    },

    /// Two label lists that must have the same length do not.
    #[error(
        "{left} has {left_len} entries but {right} has {right_len}: \
         pass one predicted label per true label"
    )]
    LengthMismatch {
        /// Which list the first length belongs to.
        left: &'static str,
        /// Its length.
        left_len: usize,
        /// Which list the second length belongs to.
        right: &'static str,
        /// Its length.
        right_len: usize,
    },

    /// Not enough samples for the statistic (covariance needs 2, k-NN needs k + 1, ...).
    #[error(
        "{what} needs at least {needed} samples in the {set} set but it has {found}: \
         pass more samples (for the k-NN metrics, or use a smaller k)"
    )]
    TooFewSamples {
        /// The statistic that was being computed.
        what: &'static str,
        /// Which input set was too small.
        set: &'static str,
        /// The minimum number of samples.
        needed: usize,
        /// The number of samples given (after any cap).
        found: usize,
    },

    /// A NaN or infinite value in the input.
    #[error(
        "{set}: row {row}, column {col} is {value}: metrics need finite numbers; \
         check the feature extractor or the generator (a diverged run produces NaN)"
    )]
    NonFinite {
        /// Which input set.
        set: &'static str,
        /// Row (sample) of the first bad value.
        row: usize,
        /// Column (feature) of the first bad value.
        col: usize,
        /// The value itself.
        value: f64,
    },

    /// Features so large that squared distances overflow `f32`.
    #[error(
        "{set}: row {row} has squared norm {norm_sq:e}, too large for f32 distances \
         (limit {limit:e}): rescale the features, e.g. divide them by their standard deviation"
    )]
    TooLarge {
        /// Which input set.
        set: &'static str,
        /// The row whose norm is too large.
        row: usize,
        /// Its squared Euclidean norm.
        norm_sq: f64,
        /// The largest squared norm accepted.
        limit: f64,
    },

    /// A parameter outside its valid range.
    #[error("{name} = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Parameter name as the caller spells it.
        name: &'static str,
        /// The value given, printed.
        value: String,
        /// What the valid range is.
        reason: &'static str,
    },

    /// A row of a class-probability matrix is not a probability distribution.
    #[error(
        "row {row} of the class-probability matrix is not a distribution (sum {sum}, smallest \
         entry {min}): pass softmax probabilities (non-negative, each row summing to 1), not logits"
    )]
    NotProbabilities {
        /// The first offending row.
        row: usize,
        /// Its sum.
        sum: f64,
        /// Its smallest entry.
        min: f64,
    },

    /// A class label outside `0..classes`.
    #[error(
        "{what}: label {label} at position {index} is outside 0..{classes}: \
         labels must be class indices below the number of classes"
    )]
    LabelOutOfRange {
        /// Which label list.
        what: &'static str,
        /// Position in the list.
        index: usize,
        /// The label found.
        label: usize,
        /// The number of classes.
        classes: usize,
    },

    /// Feature statistics whose mean and covariance do not fit together.
    #[error(
        "feature statistics are inconsistent: {reason} (mean of length {mean_len}, covariance \
         of length {cov_len}, n = {n}); recompute them with FeatureStats::from_features"
    )]
    BadStats {
        /// What is wrong.
        reason: &'static str,
        /// Length of the mean vector.
        mean_len: usize,
        /// Length of the flattened covariance.
        cov_len: usize,
        /// Number of samples the statistics claim.
        n: usize,
    },

    /// The symmetric eigendecomposition did not converge.
    #[error(
        "the eigendecomposition of a {dim} x {dim} covariance matrix did not converge: \
         the features are probably badly scaled (values above 1e100?); rescale them"
    )]
    NoConvergence {
        /// Size of the matrix.
        dim: usize,
    },
}
