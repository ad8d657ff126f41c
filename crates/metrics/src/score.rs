//! The MNIST score: the inception score computed with the evaluator CNN.
//!
//! score = exp(E_x[KL(p(y|x) ‖ p(y))]), with p(y) the mean of the rows. It is high when every
//! sample is classified confidently (sharp rows) and the classes are balanced (flat p(y)); it
//! lies between 1 (every sample gets the same distribution, e.g. a single class) and the number
//! of classes (confident and perfectly balanced). Real MNIST digits score about 9.9.

use super::{Features, MetricsError};

/// Largest allowed deviation of a row sum from 1.
const SUM_TOLERANCE: f64 = 1e-3;

/// MNIST score of an `n × classes` matrix of class probabilities (softmax outputs, one row per
/// sample).
///
/// Each row must be finite and non-negative and sum to 1 within 1e-3 (it is then divided by its
/// sum). Zero probabilities contribute 0 to the KL divergence (0·log 0 = 0). Accumulated in
/// `f64`. Errors if `n == 0` or a row is not a distribution.
///
/// ```
/// use metrics::{mnist_score, Features};
/// # fn main() -> Result<(), metrics::MetricsError> {
/// // Two samples, each confidently a different class out of two: score 2.
/// let probs = Features::new(2, 2, vec![1.0, 0.0, 0.0, 1.0])?;
/// assert!((mnist_score(&probs)? - 2.0).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
pub fn mnist_score(probs: &Features) -> Result<f64, MetricsError> {
    probs.check_count("the MNIST score", "probability", 1)?;
    probs.check_finite("class probabilities")?;
    let classes = probs.dim();

    let mut sums = Vec::with_capacity(probs.n());
    let mut marginal = vec![0.0f64; classes];
    for (row, p) in probs.rows().enumerate() {
        let sum: f64 = p.iter().map(|&v| f64::from(v)).sum();
        let min = p.iter().fold(f32::INFINITY, |a, &b| a.min(b));
        if min < 0.0 || (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(MetricsError::NotProbabilities {
                row,
                sum,
                min: f64::from(min),
            });
        }
        for (q, &v) in marginal.iter_mut().zip(p) {
            *q += f64::from(v) / sum;
        }
        sums.push(sum);
    }
    let n = probs.n() as f64;
    marginal.iter_mut().for_each(|q| *q /= n);

    let mut kl_total = 0.0f64;
    for (p, sum) in probs.rows().zip(&sums) {
        for (&v, &q) in p.iter().zip(&marginal) {
            let pv = f64::from(v) / sum;
            // pv > 0 implies q >= pv / n > 0, so the logarithms are finite.
            if pv > 0.0 {
                kl_total += pv * (pv.ln() - q.ln());
            }
        }
    }
    Ok((kl_total / n).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(labels: &[usize], classes: usize) -> Features {
        let mut data = vec![0.0; labels.len() * classes];
        for (i, &l) in labels.iter().enumerate() {
            data[i * classes + l] = 1.0;
        }
        Features::new(labels.len(), classes, data).unwrap()
    }

    #[test]
    fn one_hot_balanced_scores_number_of_classes() {
        let labels: Vec<usize> = (0..1000).map(|i| i % 10).collect();
        let s = mnist_score(&one_hot(&labels, 10)).unwrap();
        assert!((s - 10.0).abs() < 1e-9, "score = {s}");
    }

    #[test]
    fn single_class_scores_one() {
        let s = mnist_score(&one_hot(&[3; 50], 10)).unwrap();
        assert!((s - 1.0).abs() < 1e-12, "score = {s}");
        // Identical soft rows: also 1 (p(y|x) = p(y) for every x).
        let row = [0.05f32, 0.1, 0.05, 0.3, 0.1, 0.1, 0.1, 0.05, 0.05, 0.1];
        let soft = Features::new(4, 10, row.repeat(4)).unwrap();
        assert!((mnist_score(&soft).unwrap() - 1.0).abs() < 1e-9);
    }

    /// Two classes, rows (0.9, 0.1) and (0.1, 0.9): p(y) = (0.5, 0.5), each KL is
    /// 0.9·ln 1.8 + 0.1·ln 0.2 ≈ 0.36806, score = exp(0.36806) ≈ 1.44491.
    #[test]
    fn worked_two_class_example() {
        let probs = Features::new(2, 2, vec![0.9, 0.1, 0.1, 0.9]).unwrap();
        let kl = 0.9 * (1.8f64).ln() + 0.1 * (0.2f64).ln();
        let s = mnist_score(&probs).unwrap();
        assert!((s - kl.exp()).abs() < 1e-6, "score = {s}");
        assert!((s - 1.44491).abs() < 1e-4);
    }

    #[test]
    fn rejects_logits_and_empty_input() {
        let logits = Features::new(1, 3, vec![2.0, -1.0, 0.5]).unwrap();
        assert!(matches!(
            mnist_score(&logits),
            Err(MetricsError::NotProbabilities { row: 0, .. })
        ));
        let negative = Features::new(1, 2, vec![1.5, -0.5]).unwrap();
        assert!(matches!(
            mnist_score(&negative),
            Err(MetricsError::NotProbabilities { .. })
        ));
        let empty = Features::new(0, 10, vec![]).unwrap();
        assert!(matches!(
            mnist_score(&empty),
            Err(MetricsError::TooFewSamples { .. })
        ));
        let nan = Features::new(1, 2, vec![f32::NAN, 1.0]).unwrap();
        assert!(matches!(
            mnist_score(&nan),
            Err(MetricsError::NonFinite { .. })
        ));
    }
}
