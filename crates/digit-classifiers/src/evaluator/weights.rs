//! The evaluator's weights file (safetensors, tensor names `classifier.*`, one metadata entry
//! `format = gan-classifier-v1`, so the same weights always give the same bytes) and the JSON
//! record written beside it (test accuracy, SHA-256 of the weights file, how it was trained).

use crate::error::write_atomic;
use crate::error::{io_error, Error, Result};
use autograd::tensor_file::{self, TensorFile};
use autograd::ParamStore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The format tag in the weights file's metadata.
pub const WEIGHTS_FORMAT: &str = "gan-classifier-v1";

/// One epoch of the evaluator's training, as recorded in the JSON file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean cross-entropy over the epoch's batches (dropout on, shifted digits).
    pub loss: f64,
    /// Share of the epoch's (shifted) training digits classified right while training.
    pub train_accuracy: f64,
    /// Share of the 10,000 test digits classified right after the epoch.
    pub test_accuracy: f64,
    /// Seconds since training started.
    pub seconds: f64,
}

/// What `classifier.json` holds: how the weights beside it were made and how good they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierRecord {
    /// The weights file's name (in the same folder).
    pub weights: String,
    /// Lower-case hex SHA-256 of the weights file.
    pub sha256: String,
    /// Share of the 10,000 MNIST test digits classified right.
    pub test_accuracy: f64,
    /// The command that trained the weights.
    pub command: String,
    /// Wall-clock seconds of the training.
    pub seconds: f64,
    /// Passes over the 60,000 training digits.
    pub epochs: usize,
    /// The seed of every random choice.
    pub seed: u64,
    /// Digits per batch.
    pub batch: usize,
    /// Peak learning rate of the schedule.
    pub lr: f64,
    /// Largest random shift of a training digit, in pixels (each direction).
    pub max_shift: usize,
    /// The network, in words.
    pub architecture: String,
    /// Per-epoch figures.
    pub history: Vec<EpochRecord>,
}

impl ClassifierRecord {
    /// Reads a record written by [`ClassifierRecord::save`].
    pub fn load(path: &Path) -> Result<ClassifierRecord> {
        let text = std::fs::read_to_string(path).map_err(io_error(path))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Evaluator(format!(
                "{}: not a classifier record ({e}); retrain with `gan classifier train`",
                path.display()
            ))
        })
    }

    /// Writes the record as pretty JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Evaluator(format!("cannot encode the record: {e}")))?;
        text.push('\n');
        write_atomic(path, text.as_bytes())
    }
}

/// Where the JSON record of a weights file lives: the same path ending in `.json`.
pub fn record_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks that the SHA-256 of `bytes` (read from `weights`) is the one recorded in the JSON
/// file beside it.
pub fn verify_sha256(weights: &Path, bytes: &[u8]) -> Result<ClassifierRecord> {
    let json = record_path(weights);
    if !json.is_file() {
        return Err(Error::Evaluator(format!(
            "{} has no record {} beside it to check its SHA-256 against; retrain with \
             `gan classifier train --out {}` (it writes both)",
            weights.display(),
            json.display(),
            weights.display()
        )));
    }
    let record = ClassifierRecord::load(&json)?;
    let actual = sha256_hex(bytes);
    if actual != record.sha256 {
        return Err(Error::Evaluator(format!(
            "{}: SHA-256 {actual} does not match {} recorded in {}: the weights were changed or \
             the record belongs to other weights; restore both files (git checkout data/evaluator) \
             or retrain with `gan classifier train`",
            weights.display(),
            record.sha256,
            json.display()
        )));
    }
    Ok(record)
}

/// Encodes every parameter of `params` (f32, little-endian) as safetensors bytes.
pub(crate) fn encode(params: &ParamStore) -> Result<Vec<u8>> {
    let meta = HashMap::from([("format".to_string(), WEIGHTS_FORMAT.to_string())]);
    tensor_file::encode_params(params, &meta)
        .map_err(|e| Error::Evaluator(format!("cannot encode the weights: {e}")))
}

/// Writes the parameters to `path` atomically; returns the bytes written (to hash them).
pub(crate) fn save(path: &Path, params: &ParamStore) -> Result<Vec<u8>> {
    let bytes = encode(params)?;
    write_atomic(path, &bytes)?;
    Ok(bytes)
}

/// Fills every parameter of `params` from safetensors `bytes` read from `path`, checking the
/// format tag, each tensor's presence, dtype and shape.
pub(crate) fn decode(path: &Path, bytes: &[u8], params: &mut ParamStore) -> Result<()> {
    let bad = |reason: String| Error::Weights {
        path: path.to_path_buf(),
        reason,
    };
    let file = TensorFile::parse(bytes).map_err(|e| bad(e.to_string()))?;
    let format = file.metadata().get("format").cloned();
    if format.as_deref() != Some(WEIGHTS_FORMAT) {
        return Err(bad(format!(
            "not evaluator weights (format {:?}, expected {WEIGHTS_FORMAT}); pass a file written \
             by `gan classifier train`",
            format.unwrap_or_default()
        )));
    }
    file.load_params(params).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn record_path_replaces_the_extension() {
        assert_eq!(
            record_path(Path::new("data/evaluator/classifier.safetensors")),
            PathBuf::from("data/evaluator/classifier.json")
        );
    }
}
