//! Losses, each the mean over all elements (or rows), returned as a `[1]` tensor:
//! `bce_with_logits`, `bce_with_logits_weighted` (a weight per element, for imbalanced
//! classes), `bce` (on probabilities, clamped like PyTorch's `BCELoss`), `cross_entropy`
//! (integer labels) and `mse`.

use super::activation::{log_softmax_row, sigmoid};
use crate::error::{invalid, shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::Tensor;

/// PyTorch's `BCELoss` clamps each log to at least −100, so a probability of exactly 0 or 1
/// gives a large finite loss instead of infinity.
const LOG_FLOOR: f32 = -100.0;

impl Graph<'_> {
    fn same_shape(&self, op: &'static str, a: Var, b: Var) -> Result<usize> {
        let (sa, sb) = (self.shape(a)?, self.shape(b)?);
        if sa != sb {
            return Err(shape_mismatch(
                op,
                sa,
                sb,
                "prediction and target must have the same shape",
            ));
        }
        let n = self.value(a).len();
        if n == 0 {
            return Err(invalid(op, "the loss of an empty batch is undefined"));
        }
        Ok(n)
    }

    fn scalar(&mut self, value: f64) -> Tensor {
        let mut out = self.alloc(1);
        out[0] = value as f32;
        Tensor::from_parts(vec![1], out)
    }

    /// Binary cross-entropy on logits: `mean(max(x, 0) − x·t + log(1 + e^(−|x|)))`, stable for
    /// logits of any size.
    pub fn bce_with_logits(&mut self, logits: Var, targets: Var) -> Result<Var> {
        let n = self.same_shape("bce_with_logits", logits, targets)?;
        let (x, t) = (self.value(logits).data(), self.value(targets).data());
        let total: f64 = x
            .iter()
            .zip(t)
            .map(|(&x, &t)| f64::from(bce_logit_term(x, t)))
            .sum();
        let value = self.scalar(total / n as f64);
        Ok(
            self.push_op("bce_with_logits", value, &[logits, targets], || {
                PairBackward {
                    a: logits,
                    b: targets,
                    rule: PairLoss::BceWithLogits,
                }
            }),
        )
    }

    /// Binary cross-entropy on logits with a weight per element:
    /// `mean(w · (max(x, 0) − x·t + log(1 + e^(−|x|))))`, PyTorch's
    /// `BCEWithLogitsLoss(weight=w)`. Weighting the rare class up (e.g. by the ratio of the
    /// class counts) makes both classes count alike in the loss.
    ///
    /// `logits, targets, weights: same shape` → `[1]`.
    pub fn bce_with_logits_weighted(
        &mut self,
        logits: Var,
        targets: Var,
        weights: Var,
    ) -> Result<Var> {
        let op = "bce_with_logits_weighted";
        let n = self.same_shape(op, logits, targets)?;
        self.same_shape(op, logits, weights)?;
        let (x, t) = (self.value(logits).data(), self.value(targets).data());
        let w = self.value(weights).data();
        let total: f64 = x
            .iter()
            .zip(t)
            .zip(w)
            .map(|((&x, &t), &w)| f64::from(w) * f64::from(bce_logit_term(x, t)))
            .sum();
        let value = self.scalar(total / n as f64);
        Ok(self.push_op(op, value, &[logits, targets, weights], || {
            WeightedBceBackward {
                logits,
                targets,
                weights,
            }
        }))
    }

    /// Binary cross-entropy on probabilities in [0, 1], each log clamped at −100 as PyTorch's
    /// `BCELoss` does (for discriminators that end in a sigmoid).
    pub fn bce(&mut self, probs: Var, targets: Var) -> Result<Var> {
        let n = self.same_shape("bce", probs, targets)?;
        let (p, t) = (self.value(probs).data(), self.value(targets).data());
        if let Some(bad) = p.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(invalid(
                "bce",
                format!("probabilities must lie in [0, 1], found {bad}; use bce_with_logits on raw scores"),
            ));
        }
        let total: f64 = p
            .iter()
            .zip(t)
            .map(|(&p, &t)| {
                let (lp, lq) = (p.ln().max(LOG_FLOOR), (1.0 - p).ln().max(LOG_FLOOR));
                -f64::from(t * lp + (1.0 - t) * lq)
            })
            .sum();
        let value = self.scalar(total / n as f64);
        Ok(
            self.push_op("bce", value, &[probs, targets], || PairBackward {
                a: probs,
                b: targets,
                rule: PairLoss::Bce,
            }),
        )
    }

    /// Mean squared error `mean((a − b)²)`.
    pub fn mse(&mut self, a: Var, b: Var) -> Result<Var> {
        let n = self.same_shape("mse", a, b)?;
        let (x, y) = (self.value(a).data(), self.value(b).data());
        let total: f64 = x
            .iter()
            .zip(y)
            .map(|(&x, &y)| f64::from((x - y) * (x - y)))
            .sum();
        let value = self.scalar(total / n as f64);
        Ok(self.push_op("mse", value, &[a, b], || PairBackward {
            a,
            b,
            rule: PairLoss::Mse,
        }))
    }

    /// Cross-entropy of `logits` `[N, C]` against integer `labels` (N of them, each below C),
    /// averaged over the rows.
    pub fn cross_entropy(&mut self, logits: Var, labels: &[usize]) -> Result<Var> {
        let shape = self.shape(logits)?.to_vec();
        let [rows, classes] = shape[..] else {
            return Err(invalid(
                "cross_entropy",
                format!("logits must be [N, C], got {shape:?}"),
            ));
        };
        if labels.len() != rows || rows == 0 {
            return Err(invalid(
                "cross_entropy",
                format!(
                    "{} labels for {rows} rows of logits (need one per row, at least one)",
                    labels.len()
                ),
            ));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
            return Err(invalid(
                "cross_entropy",
                format!("label {bad} is out of range for {classes} classes"),
            ));
        }
        let mut scratch = self.alloc(classes);
        let mut total = 0.0f64;
        for (row, &label) in self.value(logits).data().chunks_exact(classes).zip(labels) {
            log_softmax_row(row, &mut scratch);
            total -= f64::from(scratch[label]);
        }
        self.pool.give(scratch);
        let value = self.scalar(total / rows as f64);
        let labels = labels.to_vec();
        Ok(
            self.push_op("cross_entropy", value, &[logits], || CrossEntropyBackward {
                logits,
                labels,
                classes,
            }),
        )
    }
}

#[derive(Clone, Copy)]
enum PairLoss {
    BceWithLogits,
    Bce,
    Mse,
}

impl PairLoss {
    /// (∂/∂a, ∂/∂b) of one element's loss (before the 1/n of the mean).
    fn partials(self, a: f32, b: f32) -> (f32, f32) {
        match self {
            PairLoss::BceWithLogits => (sigmoid(a) - b, -a),
            PairLoss::Bce => {
                // PyTorch's rule: (p − t) / max(p·(1 − p), 1e-12).
                let dp = (a - b) / (a * (1.0 - a)).max(1e-12);
                let dt = -(a.ln().max(LOG_FLOOR) - (1.0 - a).ln().max(LOG_FLOOR));
                (dp, dt)
            }
            PairLoss::Mse => (2.0 * (a - b), -2.0 * (a - b)),
        }
    }
}

/// Backward of a mean loss over two same-shaped operands.
struct PairBackward {
    a: Var,
    b: Var,
    rule: PairLoss,
}

impl Backward for PairBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let (a, b) = (vals.get(self.a).data(), vals.get(self.b).data());
        let scale = gout.data()[0] / a.len() as f32;
        for (which, var) in [(0, self.a), (1, self.b)] {
            if let Some(g) = grads.get(var) {
                for ((g, &x), &y) in g.data_mut().iter_mut().zip(a).zip(b) {
                    let (da, db) = self.rule.partials(x, y);
                    *g += scale * if which == 0 { da } else { db };
                }
            }
        }
        Ok(())
    }
}

/// One element's binary cross-entropy on a logit, in the stable form
/// `max(x, 0) − x·t + log(1 + e^(−|x|))`.
fn bce_logit_term(x: f32, t: f32) -> f32 {
    x.max(0.0) - x * t + (-x.abs()).exp().ln_1p()
}

/// One element's partial derivative given (logit, target, weight).
type WeightedPartial = fn(f32, f32, f32) -> f32;

/// Backward of [`Graph::bce_with_logits_weighted`]: per element, before the 1/n of the mean,
/// ∂/∂x = w·(σ(x) − t), ∂/∂t = −w·x, ∂/∂w = the unweighted loss term.
struct WeightedBceBackward {
    logits: Var,
    targets: Var,
    weights: Var,
}

impl Backward for WeightedBceBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let x = vals.get(self.logits).data();
        let t = vals.get(self.targets).data();
        let w = vals.get(self.weights).data();
        let scale = gout.data()[0] / x.len() as f32;
        let rules: [(Var, WeightedPartial); 3] = [
            (self.logits, |x, t, w| w * (sigmoid(x) - t)),
            (self.targets, |x, _, w| -w * x),
            (self.weights, |x, t, _| bce_logit_term(x, t)),
        ];
        for (var, rule) in rules {
            if let Some(g) = grads.get(var) {
                for (((g, &x), &t), &w) in g.data_mut().iter_mut().zip(x).zip(t).zip(w) {
                    *g += scale * rule(x, t, w);
                }
            }
        }
        Ok(())
    }
}

struct CrossEntropyBackward {
    logits: Var,
    labels: Vec<usize>,
    classes: usize,
}

impl Backward for CrossEntropyBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let x = vals.get(self.logits).data();
        let Some(g) = grads.get(self.logits) else {
            return Ok(());
        };
        let c = self.classes;
        let scale = gout.data()[0] / self.labels.len() as f32;
        let mut logp = vec![0.0; c];
        for ((g, row), &label) in g
            .data_mut()
            .chunks_exact_mut(c)
            .zip(x.chunks_exact(c))
            .zip(&self.labels)
        {
            log_softmax_row(row, &mut logp);
            for (k, (g, lp)) in g.iter_mut().zip(&logp).enumerate() {
                let target = if k == label { 1.0 } else { 0.0 };
                *g += scale * (lp.exp() - target);
            }
        }
        Ok(())
    }
}
