//! The digit classifiers' error type: every message says what went wrong and, where a user can
//! fix it, how.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// Everything that can go wrong while training, loading or using a digit classifier, or while
/// measuring digits with the evaluator.
#[derive(Debug, Error)]
pub enum Error {
    /// A setting or an argument that cannot be used (the message names it).
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// The MNIST files.
    #[error(transparent)]
    Data(#[from] mnist_idx::Error),
    /// The engine refused an operation.
    #[error("engine: {0}")]
    Engine(#[from] autograd::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A weights file that cannot be used.
    #[error("weights {}: {reason}", path.display())]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The evaluator cannot be used as asked (missing record, wrong hash, bad input).
    #[error("evaluator classifier: {0}")]
    Evaluator(String),
    /// A file of digits to evaluate that cannot be used.
    #[error("{}: {reason}", path.display())]
    Samples {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A chart could not be drawn or written.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// A quality figure could not be computed.
    #[error(transparent)]
    Metrics(#[from] metrics::MetricsError),
}

/// The digit classifiers' result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Maps an I/O error to [`Error::Io`] naming `path`.
pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

/// Writes `bytes` to `path` atomically (see [`mnist_idx::atomic`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    mnist_idx::atomic::write_file(path, bytes).map_err(io_error(path))
}

/// Writes a CSV file atomically: the `header` line, then one line per record, each field
/// quoted by the `csv` crate when it holds a comma, a quote or a line break.
pub(crate) fn write_csv<const N: usize>(
    path: &Path,
    header: [&str; N],
    records: impl IntoIterator<Item = [String; N]>,
) -> Result<()> {
    mnist_idx::atomic::write_with(path, |file| {
        let mut w = csv::Writer::from_writer(file);
        w.write_record(header)?;
        for record in records {
            w.write_record(&record)?;
        }
        w.flush()
    })
    .map_err(io_error(path))
}
