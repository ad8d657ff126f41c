//! Class histograms of predicted labels, and confusion matrices.

use serde::{Deserialize, Serialize};

use super::{Features, MetricsError};

/// Number of digit classes.
pub const NUM_CLASSES: usize = 10;

/// Largest number of classes a [`ConfusionMatrix`] accepts (it allocates classes² counters).
const MAX_CLASSES: usize = 4096;

/// How many samples were assigned to each digit 0–9 (at least one sample in total).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassHistogram {
    counts: [u64; NUM_CLASSES],
}

/// Counts the predicted digit labels (each in 0..10).
///
/// Errors on an empty list or a label of 10 or more. Works with `u8` (dataset labels) and
/// `usize` (argmax) labels alike.
///
/// ```
/// use metrics::class_histogram;
/// # fn main() -> Result<(), metrics::MetricsError> {
/// let h = class_histogram(&[3u8, 3, 3, 8])?;
/// assert_eq!(h.share(3)?, 0.75);
/// assert_eq!(h.ratio(), None); // most digits never appear
/// # Ok(())
/// # }
/// ```
pub fn class_histogram<L: Copy + Into<usize>>(
    labels: &[L],
) -> Result<ClassHistogram, MetricsError> {
    let mut counts = [0u64; NUM_CLASSES];
    for (index, &label) in labels.iter().enumerate() {
        let label = label.into();
        match counts.get_mut(label) {
            Some(c) => *c += 1,
            None => {
                return Err(MetricsError::LabelOutOfRange {
                    what: "predicted labels",
                    index,
                    label,
                    classes: NUM_CLASSES,
                })
            }
        }
    }
    ClassHistogram::from_counts(counts)
}

impl ClassHistogram {
    /// A histogram from counts per class; errors if all counts are 0.
    pub fn from_counts(counts: [u64; NUM_CLASSES]) -> Result<Self, MetricsError> {
        if counts.iter().all(|&c| c == 0) {
            return Err(MetricsError::TooFewSamples {
                what: "a class histogram",
                set: "label",
                needed: 1,
                found: 0,
            });
        }
        Ok(Self { counts })
    }

    /// Samples per class, digit 0 first.
    pub fn counts(&self) -> [u64; NUM_CLASSES] {
        self.counts
    }

    /// Total number of samples (at least 1).
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Largest class count divided by the smallest: 1 for perfectly balanced classes.
    ///
    /// `None` when some class has no sample at all (the ratio would be infinite), which is the
    /// mode-collapse case worth reporting; [`ClassHistogram::missing`] says which classes.
    pub fn ratio(&self) -> Option<f64> {
        let max = self.counts.iter().max().copied().unwrap_or(0);
        let min = self.counts.iter().min().copied().unwrap_or(0);
        (min > 0).then(|| max as f64 / min as f64)
    }

    /// The classes with no sample, ascending.
    pub fn missing(&self) -> Vec<usize> {
        (0..NUM_CLASSES).filter(|&c| self.counts[c] == 0).collect()
    }

    /// Share of the samples assigned to `class`, in [0, 1]: for a one-digit generator, "the
    /// share of samples the classifier calls 3". Errors if `class >= 10`.
    pub fn share(&self, class: usize) -> Result<f64, MetricsError> {
        let count = self
            .counts
            .get(class)
            .ok_or_else(|| MetricsError::InvalidParameter {
                name: "class",
                value: class.to_string(),
                reason: "digit classes are 0 to 9",
            })?;
        Ok(*count as f64 / self.total() as f64)
    }
}

/// The predicted class of every row of a probability (or logit) matrix: the index of its largest
/// value, the lowest index on ties. Errors on non-finite values.
pub fn argmax_labels(scores: &Features) -> Result<Vec<usize>, MetricsError> {
    scores.check_finite("class scores")?;
    Ok(scores
        .rows()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                    if v > best.1 {
                        (i, v)
                    } else {
                        best
                    }
                })
                .0
        })
        .collect())
}

/// Counts of (true class, predicted class) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `classes × classes`: row = true class, column = predicted class.
    counts: Vec<u64>,
}

/// Confusion matrix of `pred` against `truth` (same length, at least one pair, every label
/// below `classes`, `1 <= classes <= 4096`).
///
/// ```
/// use metrics::confusion_matrix;
/// # fn main() -> Result<(), metrics::MetricsError> {
/// let m = confusion_matrix(&[0u8, 0, 1, 1], &[0usize, 1, 1, 1], 2)?;
/// assert_eq!(m.get(0, 1), Some(1));
/// assert_eq!(m.accuracy(), 0.75);
/// # Ok(())
/// # }
/// ```
pub fn confusion_matrix<T: Copy + Into<usize>, P: Copy + Into<usize>>(
    truth: &[T],
    pred: &[P],
    classes: usize,
) -> Result<ConfusionMatrix, MetricsError> {
    if classes == 0 || classes > MAX_CLASSES {
        return Err(MetricsError::InvalidParameter {
            name: "classes",
            value: classes.to_string(),
            reason: "the number of classes must be between 1 and 4096",
        });
    }
    if truth.len() != pred.len() {
        return Err(MetricsError::LengthMismatch {
            left: "the true labels",
            left_len: truth.len(),
            right: "the predicted labels",
            right_len: pred.len(),
        });
    }
    if truth.is_empty() {
        return Err(MetricsError::TooFewSamples {
            what: "a confusion matrix",
            set: "label",
            needed: 1,
            found: 0,
        });
    }
    let mut counts = vec![0u64; classes * classes];
    for (index, (&t, &p)) in truth.iter().zip(pred).enumerate() {
        let (t, p) = (t.into(), p.into());
        for (what, label) in [("true labels", t), ("predicted labels", p)] {
            if label >= classes {
                return Err(MetricsError::LabelOutOfRange {
                    what,
                    index,
                    label,
                    classes,
                });
            }
        }
        counts[t * classes + p] += 1;
    }
    Ok(ConfusionMatrix { classes, counts })
}

impl ConfusionMatrix {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How many samples of true class `truth` were predicted as `pred` (`None` out of range).
    pub fn get(&self, truth: usize, pred: usize) -> Option<u64> {
        if truth >= self.classes || pred >= self.classes {
            return None;
        }
        Some(self.counts[truth * self.classes + pred])
    }

    /// The predictions for true class `truth`, one count per predicted class.
    pub fn row(&self, truth: usize) -> Option<&[u64]> {
        let c = self.classes;
        (truth < c).then(|| &self.counts[truth * c..(truth + 1) * c])
    }

    /// Total number of pairs (at least 1).
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Share of pairs on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.classes)
            .map(|c| self.counts[c * self.classes + c])
            .sum();
        correct as f64 / self.total() as f64
    }

    /// Share of the samples of class `c` predicted as `c`; `None` if `c` is out of range or
    /// has no true sample.
    pub fn recall(&self, c: usize) -> Option<f64> {
        let row_total: u64 = self.row(c)?.iter().sum();
        (row_total > 0).then(|| self.counts[c * self.classes + c] as f64 / row_total as f64)
    }

    /// Share of the samples predicted as `c` that are `c`; `None` if `c` is out of range or
    /// was never predicted.
    pub fn precision(&self, c: usize) -> Option<f64> {
        if c >= self.classes {
            return None;
        }
        let col_total: u64 = (0..self.classes)
            .map(|t| self.counts[t * self.classes + c])
            .sum();
        (col_total > 0).then(|| self.counts[c * self.classes + c] as f64 / col_total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_ratio_and_share() {
        // Class c appears c + 1 times: ratio 10 / 1.
        let labels: Vec<u8> = (0..10u8)
            .flat_map(|c| std::iter::repeat_n(c, usize::from(c) + 1))
            .collect();
        let h = class_histogram(&labels).unwrap();
        assert_eq!(h.counts(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(h.total(), 55);
        assert_eq!(h.ratio(), Some(10.0));
        assert_eq!(h.share(9).unwrap(), 10.0 / 55.0);
        assert!(h.missing().is_empty());

        let balanced = class_histogram(&(0..100usize).map(|i| i % 10).collect::<Vec<_>>());
        assert_eq!(balanced.unwrap().ratio(), Some(1.0));
    }

    #[test]
    fn absent_class_gives_no_ratio() {
        let h = class_histogram(&[3usize, 3, 3, 5]).unwrap();
        assert_eq!(h.ratio(), None);
        assert_eq!(h.missing(), vec![0, 1, 2, 4, 6, 7, 8, 9]);
        assert_eq!(h.share(3).unwrap(), 0.75);
        assert_eq!(h.share(0).unwrap(), 0.0);
        assert!(matches!(
            h.share(10),
            Err(MetricsError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn histogram_rejects_bad_input() {
        assert!(matches!(
            class_histogram(&[1u8, 12]),
            Err(MetricsError::LabelOutOfRange {
                index: 1,
                label: 12,
                ..
            })
        ));
        assert!(matches!(
            class_histogram::<u8>(&[]),
            Err(MetricsError::TooFewSamples { .. })
        ));
        assert!(ClassHistogram::from_counts([0; 10]).is_err());
    }

    #[test]
    fn argmax_picks_largest_and_first_on_ties() {
        let s = Features::new(3, 3, vec![0.1, 0.7, 0.2, 0.5, 0.5, 0.0, -3.0, -1.0, -2.0]).unwrap();
        assert_eq!(argmax_labels(&s).unwrap(), vec![1, 0, 1]);
    }

    #[test]
    fn confusion_matrix_counts_pairs() {
        let truth = [0u8, 0, 0, 1, 1, 2, 2, 2];
        let pred = [0usize, 0, 1, 1, 2, 2, 2, 0];
        let m = confusion_matrix(&truth, &pred, 3).unwrap();
        assert_eq!(m.row(0), Some(&[2, 1, 0][..]));
        assert_eq!(m.row(1), Some(&[0, 1, 1][..]));
        assert_eq!(m.row(2), Some(&[1, 0, 2][..]));
        assert_eq!(m.row(3), None);
        assert_eq!(m.get(2, 0), Some(1));
        assert_eq!(m.get(0, 3), None);
        assert_eq!(m.total(), 8);
        assert_eq!(m.accuracy(), 5.0 / 8.0);
        assert_eq!(m.recall(0), Some(2.0 / 3.0));
        assert_eq!(m.precision(0), Some(2.0 / 3.0));
        assert_eq!(m.precision(1), Some(0.5));
    }

    #[test]
    fn confusion_matrix_rejects_bad_input() {
        assert!(matches!(
            confusion_matrix(&[0u8, 1], &[0u8], 2),
            Err(MetricsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            confusion_matrix(&[0u8, 1], &[0u8, 2], 2),
            Err(MetricsError::LabelOutOfRange {
                what: "predicted labels",
                index: 1,
                label: 2,
                ..
            })
        ));
        assert!(matches!(
            confusion_matrix::<u8, u8>(&[], &[], 2),
            Err(MetricsError::TooFewSamples { .. })
        ));
        assert!(matches!(
            confusion_matrix(&[0u8], &[0u8], 0),
            Err(MetricsError::InvalidParameter { .. })
        ));
    }
}
