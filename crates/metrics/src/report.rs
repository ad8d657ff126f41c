//! [`QualityReport`]: the quality figures of one evaluation, as written to `eval.json`.

use serde::{Deserialize, Serialize};

use super::{ClassHistogram, PrecisionRecall, NUM_CLASSES};

/// The quality figures of one set of generated digits; serialises to the `eval.json` object.
///
/// `class_ratio` is `None` (JSON `null`) when some digit never appears: the largest/smallest
/// class ratio would be infinite, which JSON numbers cannot hold.
///
/// ```
/// use metrics::{class_histogram, PrecisionRecall, QualityReport};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pr = PrecisionRecall { precision: 0.8, recall: 0.6, density: 0.9, coverage: 0.7 };
/// let hist = class_histogram(&[1u8, 1, 7])?;
/// let report = QualityReport::new(12.5, 8.9, &pr, &hist);
/// let json = serde_json::to_string_pretty(&report)?;
/// assert!(json.contains("\"class_ratio\": null"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Fréchet distance to the reference features (lower is better, 0 at best).
    pub fid: f64,
    /// MNIST score, between 1 and 10 (higher is better; real digits about 9.9).
    pub mnist_score: f64,
    /// Share of generated digits inside the real manifold.
    pub precision: f64,
    /// Share of real digits inside the generated manifold.
    pub recall: f64,
    /// Density (Naeem et al.), about 1 for a perfect generator.
    pub density: f64,
    /// Coverage (Naeem et al.), in [0, 1].
    pub coverage: f64,
    /// Generated digits per predicted class, digit 0 first.
    pub class_counts: [u64; NUM_CLASSES],
    /// Largest/smallest class count; `None` when a digit is absent.
    pub class_ratio: Option<f64>,
}

impl QualityReport {
    /// Gathers the figures computed by [`fid`](super::fid), [`mnist_score`](super::mnist_score),
    /// [`precision_recall`](super::precision_recall) and
    /// [`class_histogram`](super::class_histogram).
    pub fn new(
        fid: f64,
        mnist_score: f64,
        pr: &PrecisionRecall,
        histogram: &ClassHistogram,
    ) -> Self {
        Self {
            fid,
            mnist_score,
            precision: pr.precision,
            recall: pr.recall,
            density: pr.density,
            coverage: pr.coverage,
            class_counts: histogram.counts(),
            class_ratio: histogram.ratio(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::class_histogram;
    use super::*;

    fn pr() -> PrecisionRecall {
        PrecisionRecall {
            precision: 0.75,
            recall: 0.5,
            density: 1.25,
            coverage: 0.625,
        }
    }

    #[test]
    fn json_round_trip_with_and_without_ratio() {
        let all: Vec<u8> = (0..20u8).map(|i| i % 10).collect();
        for labels in [all, vec![3u8, 3, 4]] {
            let h = class_histogram(&labels).unwrap();
            let report = QualityReport::new(3.5, 9.25, &pr(), &h);
            let json = serde_json::to_string(&report).unwrap();
            let back: QualityReport = serde_json::from_str(&json).unwrap();
            assert_eq!(back, report);
        }
    }

    #[test]
    fn json_field_names_are_stable() {
        let h = class_histogram(&[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]).unwrap();
        let report = QualityReport::new(1.0, 2.0, &pr(), &h);
        let v: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(v["fid"], 1.0);
        assert_eq!(v["mnist_score"], 2.0);
        assert_eq!(v["precision"], 0.75);
        assert_eq!(v["recall"], 0.5);
        assert_eq!(v["density"], 1.25);
        assert_eq!(v["coverage"], 0.625);
        assert_eq!(v["class_counts"][9], 2);
        assert_eq!(v["class_ratio"], 2.0);
        let missing = QualityReport::new(1.0, 2.0, &pr(), &class_histogram(&[1u8]).unwrap());
        assert!(serde_json::to_value(&missing).unwrap()["class_ratio"].is_null());
    }
}
