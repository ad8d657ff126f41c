//! Quality figures of generated digits on the evaluator's features, each printed beside two
//! references scored the same way: training digits (the floor a perfect generator would reach)
//! and uniform noise (what no generator should be worse than).
//!
//! | figure | on | computed by |
//! |---|---|---|
//! | class histogram, largest/smallest class ratio | predicted labels | [`metrics::class_histogram`] |
//! | FID against the test digits | 128-D features | [`metrics::fid_from_stats`] |
//! | MNIST score | class probabilities | [`metrics::mnist_score`] |
//! | precision, recall (k = 3), density, coverage (k = 5) | 128-D features | [`metrics::precision_recall_against`] |
//!
//! Whole evaluations ([`evaluate`], what `gan eval` runs) build a [`Reference`] from the 10,000
//! test digits once. For a figure during training, [`quick_quality`] gives the FID and class
//! ratio against test statistics computed once with [`feature_stats`]:
//!
//! ```no_run
//! use digit_classifiers::evaluator::Classifier;
//! use digit_classifiers::quality::{feature_stats, quick_quality};
//! # fn main() -> digit_classifiers::Result<()> {
//! let mut evaluator = Classifier::load_default()?;
//! let mnist = mnist_idx::Mnist::load("data/mnist")?;
//! // Once, before training:
//! let test_stats = feature_stats(&mut evaluator, &mnist.test.images, mnist.test.len)?;
//! // Every N epochs, on digits from the generator (u8, n × 784):
//! # let digits = vec![0u8; 1000 * 784];
//! let q = quick_quality(&mut evaluator, &digits, 1000, &test_stats)?;
//! println!("FID {:.2}, class ratio {:?}", q.fid, q.class_ratio);
//! # Ok(())
//! # }
//! ```
//!
//! `report.rs` holds what `eval.json` contains, the printed table and the histogram chart.

mod conditional;
mod report;

pub use conditional::{
    conditional_figures, evaluate_conditional, ClassReference, ConditionalEvaluation,
    ConditionalFigures, MIN_PER_CLASS,
};
pub use report::{histogram_path, EvalReport, EvaluatorInfo};

use crate::error::{Error, Result};
use crate::evaluator::Classifier;
use crate::streams as rng;
use metrics::{
    class_histogram, fid_from_stats, mnist_score, precision_recall_against, FeatureStats, PrParams,
    PrReference, QualityReport, NUM_CLASSES,
};
use mnist_idx::Mnist;
use mnist_idx::PIXELS;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The real side of every figure, computed once: the reference digits' feature statistics (for
/// FID) and k-NN radii (for precision, recall, density, coverage).
pub struct Reference {
    /// Mean and covariance of the reference features.
    pub stats: FeatureStats,
    /// The reference features prepared for the k-NN figures (k = 3 and 5).
    pub knn: PrReference,
}

impl Reference {
    /// The reference made of `n` digits (`n × 784` u8 pixels), usually the 10,000 test digits.
    pub fn new(classifier: &mut Classifier, digits: &[u8], n: usize) -> Result<Reference> {
        let out = classifier.classify(digits, n)?;
        Ok(Reference {
            stats: FeatureStats::from_features(&out.features)?,
            knn: PrReference::new(&out.features, PrParams::default())?,
        })
    }

    /// Number of reference digits.
    pub fn n(&self) -> usize {
        self.stats.n()
    }
}

/// Mean and covariance of the evaluator's features of `n` digits (`n × 784` u8 pixels):
/// compute the test digits' statistics once and pass them to [`quick_quality`].
pub fn feature_stats(classifier: &mut Classifier, digits: &[u8], n: usize) -> Result<FeatureStats> {
    let out = classifier.classify(digits, n)?;
    Ok(FeatureStats::from_features(&out.features)?)
}

/// The two figures worth watching during training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuickQuality {
    /// Fréchet distance of the digits' features to the reference statistics.
    pub fid: f64,
    /// Largest/smallest predicted class count; `None` when a digit never appears.
    pub class_ratio: Option<f64>,
    /// Digits per predicted class, 0 first.
    pub class_counts: [u64; NUM_CLASSES],
}

/// FID against `test_stats` (from [`feature_stats`]) and the class balance of `n` digits
/// (`n × 784` u8 pixels, at least 2). Costs one forward pass of the evaluator over the digits
/// and a 128 × 128 eigendecomposition: about a second for 1,000 digits.
pub fn quick_quality(
    classifier: &mut Classifier,
    digits_u8: &[u8],
    n: usize,
    test_stats: &FeatureStats,
) -> Result<QuickQuality> {
    let out = classifier.classify(digits_u8, n)?;
    let stats = FeatureStats::from_features(&out.features)?;
    let hist = class_histogram(&out.labels)?;
    Ok(QuickQuality {
        fid: fid_from_stats(&stats, test_stats)?,
        class_ratio: hist.ratio(),
        class_counts: hist.counts(),
    })
}

/// Every figure of `n` digits (`n × 784` u8 pixels, more than 5) against `reference`.
pub fn figures(
    classifier: &mut Classifier,
    reference: &Reference,
    digits_u8: &[u8],
    n: usize,
) -> Result<QualityReport> {
    let out = classifier.classify(digits_u8, n)?;
    let stats = FeatureStats::from_features(&out.features)?;
    let fid = fid_from_stats(&stats, &reference.stats)?;
    let score = mnist_score(&out.probs)?;
    let pr = precision_recall_against(&reference.knn, &out.features)?;
    let hist = class_histogram(&out.labels)?;
    Ok(QualityReport::new(fid, score, &pr, &hist))
}

/// `n` images of uniformly random u8 pixels from the eval-noise stream of `seed`.
pub fn noise_digits(n: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; n * PIXELS];
    rng::stream(seed, rng::STREAM_EVAL_NOISE).fill_bytes(&mut out);
    out
}

/// The figures of one set of digits beside the two references.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The digits evaluated.
    pub samples: QualityReport,
    /// As many MNIST training digits (the first ones): the floor.
    pub train_digits: QualityReport,
    /// As many images of uniform noise: the ceiling no generator should reach.
    pub noise: QualityReport,
}

/// Evaluates `n` digits (`n × 784` u8 pixels, more than 5) against `reference` (normally the
/// test digits), beside the first `n` training digits of `mnist` and `n` noise images of
/// `seed`.
pub fn evaluate(
    classifier: &mut Classifier,
    reference: &Reference,
    mnist: &Mnist,
    digits_u8: &[u8],
    n: usize,
    seed: u64,
) -> Result<Evaluation> {
    if n > mnist.train.len {
        return Err(Error::Invalid(format!(
            "{n} digits to evaluate, but only {} training digits to compare them with: \
             evaluate at most that many (--n)",
            mnist.train.len
        )));
    }
    let train = &mnist.train.images[..n * PIXELS];
    Ok(Evaluation {
        samples: figures(classifier, reference, digits_u8, n)?,
        train_digits: figures(classifier, reference, train, n)?,
        noise: figures(classifier, reference, &noise_digits(n, seed), n)?,
    })
}

/// The requested digit of each sample, from an IDX file of `N` u8 values 0–9 (as
/// `gan sample --labels-out` or any tool writes them); at least `n` of them.
pub fn read_labels(path: &Path, n: usize) -> Result<Vec<u8>> {
    let bad = |reason: String| Error::Samples {
        path: path.to_path_buf(),
        reason,
    };
    let array = mnist_idx::read::<u8>(path)?;
    if array.dims.len() != 1 {
        return Err(bad(format!(
            "holds u8 {:?}, but labels are one dimension: N digits 0-9",
            array.dims
        )));
    }
    if array.data.len() < n {
        return Err(bad(format!(
            "holds {} labels for {n} digits: give one label per digit",
            array.data.len()
        )));
    }
    if let Some(i) = array.data.iter().position(|&d| d > 9) {
        return Err(bad(format!(
            "label {i} is {}, not a digit 0-9",
            array.data[i]
        )));
    }
    let mut labels = array.data;
    labels.truncate(n);
    Ok(labels)
}

/// The digits of an IDX file of u8 `N × 28 × 28` images (raw or gzipped), and `N`.
pub fn read_samples(path: &Path) -> Result<(Vec<u8>, usize)> {
    let bad = |reason: String| Error::Samples {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(bad(
            "no such file: give an IDX file of u8 N x 28 x 28 digits, as \
             `gan sample RUN --out FILE.idx` writes"
                .into(),
        ));
    }
    let array = mnist_idx::read::<u8>(path)?;
    if array.dims.len() != 3 || array.dims[1..] != [28, 28] || array.dims[0] == 0 {
        return Err(bad(format!(
            "holds u8 {:?}, but evaluation needs N x 28 x 28 digits (N >= 1), as \
             `gan sample RUN --out FILE.idx` writes",
            array.dims
        )));
    }
    let n = array.dims[0];
    Ok((array.data, n))
}

#[cfg(test)]
mod tests;
