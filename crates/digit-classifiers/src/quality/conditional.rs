//! Figures for digits generated on request (class-conditional generators): how often the
//! evaluator sees the digit that was asked for (label accuracy), and each digit's Fréchet
//! distance to the test digits of that class (per-class FID), beside the same figures for
//! training digits with their true labels (the floor).

use crate::error::{Error, Result};
use crate::evaluator::Classifier;
use metrics::{fid_from_stats, FeatureStats, Features, NUM_CLASSES};
use mnist_idx::{Mnist, PIXELS};
use serde::{Deserialize, Serialize};

/// Fewest digits of a class for its FID (a class with fewer gets none).
pub const MIN_PER_CLASS: usize = 20;

/// The test digits' feature statistics, one per class.
pub struct ClassReference {
    stats: Vec<Option<FeatureStats>>,
}

impl ClassReference {
    /// The per-class statistics of `n` digits (`n × 784` u8 pixels) labelled `labels`.
    pub fn new(
        classifier: &mut Classifier,
        digits: &[u8],
        labels: &[u8],
        n: usize,
    ) -> Result<ClassReference> {
        let out = classifier.classify(digits, n)?;
        Ok(ClassReference {
            stats: per_class_stats(&out.features, labels)?,
        })
    }
}

/// The conditional figures of one set of digits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalFigures {
    /// Share of digits the evaluator assigns to the class they were asked for.
    pub label_accuracy: f64,
    /// Each class's FID against the test digits of that class (`None`: fewer than
    /// [`MIN_PER_CLASS`] digits asked for it).
    pub class_fid: Vec<Option<f64>>,
    /// The mean of the classes' FIDs that exist.
    pub mean_class_fid: Option<f64>,
}

/// The conditional figures of the samples and of the floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalEvaluation {
    /// The generated digits against the classes asked for.
    pub samples: ConditionalFigures,
    /// As many training digits (the first ones) against their true labels.
    pub train_digits: ConditionalFigures,
}

/// The figures of `n` digits (`n × 784` u8 pixels) asked to be of the classes `requested`.
pub fn conditional_figures(
    classifier: &mut Classifier,
    reference: &ClassReference,
    digits: &[u8],
    requested: &[u8],
    n: usize,
) -> Result<ConditionalFigures> {
    if requested.len() != n {
        return Err(Error::Invalid(format!(
            "{} labels for {n} digits: give one requested digit per sample",
            requested.len()
        )));
    }
    let out = classifier.classify(digits, n)?;
    let hits = out
        .labels
        .iter()
        .zip(requested)
        .filter(|(a, b)| a == b)
        .count();
    let stats = per_class_stats(&out.features, requested)?;
    let mut class_fid = Vec::with_capacity(NUM_CLASSES);
    for (ours, theirs) in stats.iter().zip(&reference.stats) {
        class_fid.push(match (ours, theirs) {
            (Some(a), Some(b)) => Some(fid_from_stats(a, b)?),
            _ => None,
        });
    }
    let present: Vec<f64> = class_fid.iter().flatten().copied().collect();
    Ok(ConditionalFigures {
        label_accuracy: hits as f64 / n.max(1) as f64,
        mean_class_fid: (!present.is_empty())
            .then(|| present.iter().sum::<f64>() / present.len() as f64),
        class_fid,
    })
}

/// The conditional figures of `n` generated digits asked to be `requested`, beside the first
/// `n` training digits of `mnist` with their labels; the reference is the test digits.
pub fn evaluate_conditional(
    classifier: &mut Classifier,
    mnist: &Mnist,
    digits: &[u8],
    requested: &[u8],
    n: usize,
) -> Result<ConditionalEvaluation> {
    if n > mnist.train.len {
        return Err(Error::Invalid(format!(
            "{n} digits to evaluate, but only {} training digits to compare them with",
            mnist.train.len
        )));
    }
    let reference = ClassReference::new(
        classifier,
        &mnist.test.images,
        &mnist.test.labels,
        mnist.test.len,
    )?;
    Ok(ConditionalEvaluation {
        samples: conditional_figures(classifier, &reference, digits, requested, n)?,
        train_digits: conditional_figures(
            classifier,
            &reference,
            &mnist.train.images[..n * PIXELS],
            &mnist.train.labels[..n],
            n,
        )?,
    })
}

/// Feature statistics of the rows of each class (`None` for a class with too few rows).
fn per_class_stats(features: &Features, labels: &[u8]) -> Result<Vec<Option<FeatureStats>>> {
    let dim = features.dim();
    let mut out = Vec::with_capacity(NUM_CLASSES);
    for class in 0..NUM_CLASSES {
        let rows: Vec<f32> = features
            .rows()
            .zip(labels)
            .filter(|(_, &l)| usize::from(l) == class)
            .flat_map(|(row, _)| row.iter().copied())
            .collect();
        let count = rows.len() / dim.max(1);
        out.push(if count >= MIN_PER_CLASS {
            Some(FeatureStats::from_features(&Features::new(
                count, dim, rows,
            )?)?)
        } else {
            None
        });
    }
    Ok(out)
}
