//! The engine's error type.

use thiserror::Error;

/// Everything that can go wrong when building or differentiating a graph.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// Two operands (or an operand and the op's expectations) have incompatible shapes.
    #[error("{op}: incompatible shapes {left:?} and {right:?}: {reason}")]
    ShapeMismatch {
        /// The op that was asked.
        op: &'static str,
        /// The first operand's shape.
        left: Vec<usize>,
        /// The second operand's shape (or the expected shape).
        right: Vec<usize>,
        /// What the op needed.
        reason: String,
    },
    /// An argument is outside the range the op accepts.
    #[error("{op}: invalid argument: {reason}")]
    InvalidArgument {
        /// The op that was asked.
        op: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A tensor was built from data whose length does not match its shape.
    #[error("tensor of shape {shape:?} needs {expected} values, got {found}")]
    DataLength {
        /// The requested shape.
        shape: Vec<usize>,
        /// The number of values that shape holds.
        expected: usize,
        /// The number of values given.
        found: usize,
    },
    /// `backward` was called on something that is not a single value.
    #[error("backward needs a scalar loss, got shape {shape:?}; reduce it first (sum or mean)")]
    NonScalarLoss {
        /// The shape of the value `backward` was called on.
        shape: Vec<usize>,
    },
    /// A node needs a gradient but its op has no backward rule.
    #[error("op {op} has no backward rule, yet a gradient flows through it")]
    MissingBackward {
        /// The op without a backward rule.
        op: &'static str,
    },
    /// A variable from another graph (or a stale one) was used.
    #[error("variable {index} does not belong to this graph (it has {len} nodes)")]
    UnknownVar {
        /// The variable's index.
        index: usize,
        /// The number of nodes in the graph.
        len: usize,
    },
    /// A named parameter is missing or has another shape than expected.
    #[error("parameter {name}: {reason}")]
    Parameter {
        /// The parameter's name.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// Safetensors bytes that cannot be encoded or decoded, or lack an expected tensor.
    #[error("safetensors: {reason}")]
    TensorFile {
        /// What is wrong.
        reason: String,
    },
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds a [`Error::ShapeMismatch`].
pub(crate) fn shape_mismatch(
    op: &'static str,
    left: &[usize],
    right: &[usize],
    reason: impl Into<String>,
) -> Error {
    Error::ShapeMismatch {
        op,
        left: left.to_vec(),
        right: right.to_vec(),
        reason: reason.into(),
    }
}

/// Builds an [`Error::InvalidArgument`].
pub(crate) fn invalid(op: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidArgument {
        op,
        reason: reason.into(),
    }
}
