//! The evaluator: a small CNN trained by us on MNIST with our engine, frozen and shipped in
//! `data/evaluator/classifier.safetensors` with its record `classifier.json` (test accuracy,
//! SHA-256, the command that made it). Its predictions give class histograms; its 128-D
//! penultimate features give FID, precision/recall and density/coverage.
//!
//! ```no_run
//! use digit_classifiers::evaluator::Classifier;
//! # fn main() -> digit_classifiers::Result<()> {
//! let mut evaluator = Classifier::load_default()?;
//! let mnist = mnist_idx::Mnist::load("data/mnist")?;
//! let out = evaluator.classify(&mnist.test.images[..100 * 784], 100)?;
//! assert_eq!(out.labels.len(), 100);
//! assert_eq!(out.features.dim(), 128);
//! # Ok(())
//! # }
//! ```
//!
//! Files: `model.rs` (the layers), `weights.rs` (the safetensors file and the JSON record),
//! `train.rs` (the training loop); random shifts are [`crate::augment`].

mod model;
mod train;
mod weights;

pub use model::{CLASSES, DROPOUT, FEATURE_DIM};
pub use train::{accuracy, EvaluatorEpoch, EvaluatorTrainer, TrainSettings};
pub use weights::{
    record_path, sha256_hex, verify_sha256, ClassifierRecord, EpochRecord, WEIGHTS_FORMAT,
};

use crate::error::{io_error, Error, Result};
use crate::streams as rng;
use autograd::{BufferPool, Graph, ParamStore};
use metrics::Features;
use mnist_idx::{PIXELS, SIDE};
use model::Layers;
use rand::Rng;
use std::path::{Path, PathBuf};

/// Where the shipped weights live, relative to the workspace root.
pub const DEFAULT_WEIGHTS: &str = "data/evaluator/classifier.safetensors";

/// Digits per forward pass in [`Classifier::classify`].
pub const EVAL_BATCH: usize = 500;

/// The evaluator CNN (see `model.rs` for its layers) with its parameters.
pub struct Classifier {
    params: ParamStore,
    layers: Layers,
    pool: BufferPool,
    input: Vec<f32>,
}

/// What the evaluator says about `n` digits.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The predicted digit of each input (the most probable class, the lowest on ties).
    pub labels: Vec<u8>,
    /// `n × 10` class probabilities (softmax), one row per digit.
    pub probs: Features,
    /// `n × 128` penultimate-layer features (after the ReLU), one row per digit.
    pub features: Features,
}

impl Classifier {
    /// An untrained evaluator: weights from the init stream of `seed` (PyTorch's default
    /// initialisation), dropout masks from its dropout stream.
    pub fn new(seed: u64) -> Result<Classifier> {
        let mut params = ParamStore::new();
        let mut init = rng::stream(seed, rng::STREAM_CLASSIFIER_INIT);
        let dropout_seed: u64 = rng::stream(seed, rng::STREAM_CLASSIFIER_DROPOUT).random();
        let layers = Layers::new(&mut params, &mut init, dropout_seed)?;
        Ok(Classifier {
            params,
            layers,
            pool: BufferPool::new(),
            input: Vec::new(),
        })
    }

    /// Loads weights written by `gan classifier train` (or [`Classifier::save`]). Does not
    /// check the SHA-256 record (see [`Classifier::load_verified`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Classifier> {
        let path = path.as_ref();
        let bytes = read_weights(path)?;
        let mut c = Classifier::new(0)?;
        weights::decode(path, &bytes, &mut c.params)?;
        Ok(c)
    }

    /// Loads weights and checks their SHA-256 against the JSON record beside them; returns the
    /// record too.
    pub fn load_verified(path: impl AsRef<Path>) -> Result<(Classifier, ClassifierRecord)> {
        let path = path.as_ref();
        let bytes = read_weights(path)?;
        let record = verify_sha256(path, &bytes)?;
        let mut c = Classifier::new(0)?;
        weights::decode(path, &bytes, &mut c.params)?;
        Ok((c, record))
    }

    /// Loads the shipped evaluator ([`Classifier::default_path`]), checking its SHA-256
    /// against `classifier.json`.
    pub fn load_default() -> Result<Classifier> {
        Ok(Classifier::load_verified(Classifier::default_path()?)?.0)
    }

    /// Where the shipped weights are: `data/evaluator/classifier.safetensors` under the current
    /// folder, else under the workspace this crate was built from. Errors naming both places.
    pub fn default_path() -> Result<PathBuf> {
        let here = PathBuf::from(DEFAULT_WEIGHTS);
        if here.is_file() {
            return Ok(here);
        }
        let built = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(DEFAULT_WEIGHTS);
        if built.is_file() {
            return Ok(built);
        }
        Err(Error::Evaluator(format!(
            "no evaluator weights at {} (relative to the current folder) nor at {}: run from the \
             workspace root, pass --weights PATH, or train them with `gan classifier train`",
            here.display(),
            built.display()
        )))
    }

    /// Writes the weights (safetensors, `classifier.*`) to `path` atomically and returns the
    /// SHA-256 of the bytes written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<String> {
        let bytes = weights::save(path.as_ref(), &self.params)?;
        Ok(sha256_hex(&bytes))
    }

    /// The parameters (names `classifier.conv1.weight`, ...).
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// Labels, class probabilities and 128-D features of `n` digits of 28×28 u8 pixels
    /// (`digits_u8.len() == n · 784`, 0 background, 255 ink as in MNIST), evaluated
    /// [`EVAL_BATCH`] at a time in evaluation mode (no dropout).
    pub fn classify(&mut self, digits_u8: &[u8], n: usize) -> Result<Classified> {
        let expected = n.checked_mul(PIXELS);
        if expected != Some(digits_u8.len()) || n == 0 {
            return Err(Error::Evaluator(format!(
                "classify needs n · 784 pixels for n = {n} digits of 28x28, got {} pixels \
                 (and at least one digit)",
                digits_u8.len()
            )));
        }
        let mut labels = Vec::with_capacity(n);
        let mut probs = Vec::with_capacity(n * CLASSES);
        let mut features = Vec::with_capacity(n * FEATURE_DIM);
        for chunk in digits_u8.chunks(EVAL_BATCH * PIXELS) {
            let b = chunk.len() / PIXELS;
            model::standardise(chunk, &mut self.input);
            let mut g = Graph::new(&self.params, &mut self.pool);
            g.freeze(self.params.ids());
            g.set_training(false);
            let x = g.constant_from(&[b, 1, SIDE, SIDE], &self.input)?;
            let out = self.layers.forward(&mut g, x)?;
            let p = g.softmax(out.logits)?;
            let p = g.value(p).data();
            labels.extend(p.chunks_exact(CLASSES).map(argmax));
            probs.extend_from_slice(p);
            features.extend_from_slice(g.value(out.features).data());
        }
        Ok(Classified {
            labels,
            probs: Features::new(n, CLASSES, probs)?,
            features: Features::new(n, FEATURE_DIM, features)?,
        })
    }
}

fn read_weights(path: &Path) -> Result<Vec<u8>> {
    if !path.is_file() {
        return Err(Error::Evaluator(format!(
            "no weights file {}: pass the path of a file written by `gan classifier train` \
             (the shipped one is {DEFAULT_WEIGHTS})",
            path.display()
        )));
    }
    std::fs::read(path).map_err(io_error(path))
}

/// The index of the largest value, the lowest on ties (as a digit).
fn argmax(row: &[f32]) -> u8 {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best as u8
}

#[cfg(test)]
mod tests;
