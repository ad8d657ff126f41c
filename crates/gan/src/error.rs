//! The `gan` crate's error type: every message says what went wrong and, where a user can fix
//! it, how.

use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong while configuring, training, sampling or saving a GAN.
#[derive(Debug, Error)]
pub enum GanError {
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The data set could not be loaded.
    #[error(transparent)]
    Data(#[from] mnist_idx::Error),
    /// The engine refused an op (a bug in a model definition, reported with shapes).
    #[error("engine: {0}")]
    Engine(#[from] autograd::Error),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint is unreadable or does not match the model.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A run folder cannot be used as asked.
    #[error("{}: {reason}", path.display())]
    Run {
        /// The run folder.
        path: PathBuf,
        /// What was wrong and what to do.
        reason: String,
    },
    /// Training produced a non-finite loss.
    #[error(
        "training diverged at epoch {epoch}, step {step}: {what} became {value}; {}; try a lower \
         learning rate (--lr)",
        kept_checkpoint(checkpoint)
    )]
    Diverged {
        /// The epoch (1-based) in which it happened.
        epoch: usize,
        /// The global step.
        step: u64,
        /// Which quantity.
        what: &'static str,
        /// Its value.
        value: f32,
        /// The last good checkpoint, untouched, if one was written before.
        checkpoint: Option<PathBuf>,
    },
    /// Drawing an image or plot failed.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// A quality metric could not be computed.
    /// The evaluator or a quality figure of generated digits.
    #[error(transparent)]
    Classifiers(#[from] digit_classifiers::Error),
    /// An argument is out of its domain; the message says which and what is accepted.
    #[error("{0}")]
    InvalidInput(String),
    /// Training was interrupted (Ctrl-C) after a checkpoint was written.
    #[error(
        "interrupted; a checkpoint was written to {}: continue with `gan train --resume {}`",
        checkpoint.display(),
        run_of(checkpoint).display()
    )]
    Interrupted {
        /// The checkpoint written on the way out.
        checkpoint: PathBuf,
    },
}

fn run_of(checkpoint: &std::path::Path) -> &std::path::Path {
    checkpoint
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap_or(checkpoint)
}

fn kept_checkpoint(checkpoint: &Option<PathBuf>) -> String {
    match checkpoint {
        Some(path) => format!("the last good checkpoint is kept in {}", path.display()),
        None => "no checkpoint had been written yet".into(),
    }
}

/// The `gan` crate's result type.
pub type Result<T> = std::result::Result<T, GanError>;

/// Wraps an I/O error with the path it concerns.
pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> GanError {
    let path = path.into();
    move |source| GanError::Io { path, source }
}

/// Writes `bytes` to `path` atomically with the workspace's one writer
/// ([`mnist_idx::atomic`]), an I/O error naming `path`. The folder must exist. A kill in
/// mid-write can leave the temporary file `.NAME.tmp-PID-N`; [`crate::cleanup`] removes it when
/// the run is next trained.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    mnist_idx::atomic::write_file(path, bytes).map_err(io_error(path))
}

/// [`write_atomic`] for writers that write a file at a path themselves (the checkpoint, streamed
/// tensor by tensor): `fill` writes the temporary file at the path it is given, which is then
/// synced and renamed to `path`. Errors of `fill` are returned as they are.
pub(crate) fn write_atomic_via_path(
    path: &std::path::Path,
    fill: impl FnOnce(&std::path::Path) -> Result<()>,
) -> Result<()> {
    let pause = slow_write_for_tests(path);
    let mut failure = None;
    let written = mnist_idx::atomic::write_via_path(path, |tmp| {
        fill(tmp).map_err(|e| {
            failure = Some(e);
            std::io::Error::other("the file could not be filled")
        })?;
        if let Some(pause) = pause {
            std::thread::sleep(pause);
        }
        Ok(())
    });
    match (written, failure) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(io_error(path)(e)),
        (Ok(()), None) => Ok(()),
    }
}

/// A test-only switch for `scripts/crash-soak.sh`: with `GAN_TEST_SLOW_WRITE_MS=N` set, every
/// checkpoint write pauses N ms after its temporary file is written and before it is renamed, so
/// that a kill can land during a checkpoint write. Unset (always, outside that script), it costs one lookup.
fn slow_write_for_tests(path: &std::path::Path) -> Option<std::time::Duration> {
    if !matches!(path.extension(), Some(e) if e == "safetensors") {
        return None;
    }
    let ms = std::env::var("GAN_TEST_SLOW_WRITE_MS").ok()?.parse().ok()?;
    Some(std::time::Duration::from_millis(ms))
}

/// Writes a CSV file atomically: the `header` line, then one line per record, each field
/// quoted by the `csv` crate when it holds a comma, a quote or a line break.
pub(crate) fn write_csv<const N: usize>(
    path: &std::path::Path,
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
