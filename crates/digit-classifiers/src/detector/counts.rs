//! The confusion matrix of a yes/no detector and the figures read from it, and the choice of a
//! decision threshold on held-out digits.

use serde::{Deserialize, Serialize};

/// The confusion matrix of a detector: how many digits of the target class it found (`tp`) or
/// missed (`fn_`), and how many other digits it took for the target (`fp`) or rightly rejected
/// (`tn`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryCounts {
    /// True positives: target digits called the target.
    pub tp: u64,
    /// False positives: other digits called the target.
    pub fp: u64,
    /// False negatives: target digits missed.
    pub fn_: u64,
    /// True negatives: other digits rejected.
    pub tn: u64,
}

impl BinaryCounts {
    /// Counts the decisions `score > threshold` against the truth `positive`.
    pub fn from_scores(scores: &[f32], positive: &[bool], threshold: f32) -> BinaryCounts {
        let mut c = BinaryCounts::default();
        for (&s, &p) in scores.iter().zip(positive) {
            c.add(s > threshold, p);
        }
        c
    }

    /// Adds one decision.
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    /// All decisions.
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    /// Share of right decisions: (TP + TN) / all; 0 when empty.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.total())
    }

    /// Share of the digits called the target that are the target: TP / (TP + FP); 0 when nothing
    /// was called the target.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Share of the target digits that were found: TP / (TP + FN); 0 when there is none.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// The harmonic mean of precision and recall, 2·TP / (2·TP + FP + FN); 0 when both are 0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// The logit threshold that maximises F1 on labelled scores (decision: `score > threshold`),
/// halfway between the two neighbouring distinct scores where the decision flips. With no
/// positive at all, or no scores, it is 0 (probability ½).
pub fn best_f1_threshold(scores: &[f32], positive: &[bool]) -> f32 {
    let positives = positive.iter().filter(|&&p| p).count() as u64;
    if positives == 0 || scores.is_empty() {
        return 0.0;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // Walk down the sorted scores; a cut is only possible between distinct values.
    let (mut tp, mut fp) = (0u64, 0u64);
    let (mut best_f1, mut best_cut) = (-1.0f64, None);
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let next = order.get(k + 1).map(|&j| scores[j]);
        if next == Some(scores[i]) {
            continue;
        }
        // Predict positive for everything down to position k.
        let f1 = (2 * tp) as f64 / (tp + fp + positives) as f64;
        if f1 > best_f1 {
            best_f1 = f1;
            best_cut = Some((scores[i], next));
        }
    }
    match best_cut {
        Some((last_in, Some(first_out))) => first_out + (last_in - first_out) / 2.0,
        Some((last_in, None)) => last_in - 1.0,
        None => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_a_hand_made_example() {
        // Ten digits, four of them the target. Scores above 0 are called the target:
        // targets 0.9, 0.4, −0.2, 2.0 (three found, one missed); others 0.1 (a false alarm),
        // −1, −2, −3, −0.5, −0.7 (five rejected).
        let scores = [0.9, 0.1, 0.4, -1.0, -0.2, -2.0, 2.0, -3.0, -0.5, -0.7];
        let truth = [
            true, false, true, false, true, false, true, false, false, false,
        ];
        let c = BinaryCounts::from_scores(&scores, &truth, 0.0);
        assert_eq!(
            c,
            BinaryCounts {
                tp: 3,
                fp: 1,
                fn_: 1,
                tn: 5
            }
        );
        assert_eq!(c.total(), 10);
        assert!((c.accuracy() - 0.8).abs() < 1e-12);
        assert!((c.precision() - 0.75).abs() < 1e-12);
        assert!((c.recall() - 0.75).abs() < 1e-12);
        assert!((c.f1() - 0.75).abs() < 1e-12);
        // Precision and recall apart: TP 2, FP 0, FN 2 → precision 1, recall ½, F1 ⅔.
        let c = BinaryCounts {
            tp: 2,
            fp: 0,
            fn_: 2,
            tn: 6,
        };
        assert_eq!((c.precision(), c.recall()), (1.0, 0.5));
        assert!((c.f1() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(BinaryCounts::default().f1(), 0.0);
        assert_eq!(BinaryCounts::default().precision(), 0.0);
    }

    #[test]
    fn the_threshold_separates_where_f1_is_best() {
        // Positives score 3, 2, 0.5; negatives 1, −1, −2. Cutting below 0.5 catches all three
        // positives with one false alarm (F1 6/7); cutting between 1 and 2 gives F1 4/5.
        let scores = [3.0, 2.0, 0.5, 1.0, -1.0, -2.0];
        let truth = [true, true, true, false, false, false];
        let t = best_f1_threshold(&scores, &truth);
        assert!((t - (-0.25)).abs() < 1e-6, "{t}");
        let c = BinaryCounts::from_scores(&scores, &truth, t);
        assert_eq!((c.tp, c.fp, c.fn_), (3, 1, 0));
        // Separable scores: the cut falls in the gap.
        let t = best_f1_threshold(&[5.0, 4.0, -4.0], &[true, true, false]);
        assert!((t - 0.0).abs() < 1e-6, "{t}");
        // Tied scores are never split.
        let t = best_f1_threshold(&[1.0, 1.0, 1.0], &[true, false, false]);
        assert!(t < 1.0);
        assert_eq!(best_f1_threshold(&[1.0], &[false]), 0.0);
    }
}
