//! Activations: `relu`, `leaky_relu`, `sigmoid`, `tanh` (element-wise), and `softmax`,
//! `log_softmax` over the last axis.

use super::unary::UnaryFn;
use crate::error::{invalid, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::Tensor;

impl Graph<'_> {
    /// `max(x, 0)`.
    pub fn relu(&mut self, x: Var) -> Result<Var> {
        self.unary(x, LeakyRelu(0.0))
    }

    /// `x` where positive, `slope · x` elsewhere.
    pub fn leaky_relu(&mut self, x: Var, slope: f32) -> Result<Var> {
        self.unary(x, LeakyRelu(slope))
    }

    /// `1 / (1 + e^(−x))`, computed without overflow for large |x|.
    pub fn sigmoid(&mut self, x: Var) -> Result<Var> {
        self.unary(x, Sigmoid)
    }

    /// The hyperbolic tangent.
    pub fn tanh(&mut self, x: Var) -> Result<Var> {
        self.unary(x, Tanh)
    }

    /// Softmax over the last axis.
    pub fn softmax(&mut self, x: Var) -> Result<Var> {
        self.softmax_op(x, false)
    }

    /// `log(softmax(x))` over the last axis, computed stably.
    pub fn log_softmax(&mut self, x: Var) -> Result<Var> {
        self.softmax_op(x, true)
    }

    fn softmax_op(&mut self, x: Var, log: bool) -> Result<Var> {
        let shape = self.shape(x)?.to_vec();
        let op = if log { "log_softmax" } else { "softmax" };
        let classes = *shape
            .last()
            .ok_or_else(|| invalid(op, "needs at least one axis"))?;
        if classes == 0 {
            return Err(invalid(op, "the last axis is empty"));
        }
        let len = self.value(x).len();
        let mut out = self.alloc(len);
        for (row_out, row_in) in out
            .chunks_exact_mut(classes)
            .zip(self.value(x).data().chunks_exact(classes))
        {
            log_softmax_row(row_in, row_out);
            if !log {
                row_out.iter_mut().for_each(|v| *v = v.exp());
            }
        }
        let value = Tensor::from_parts(shape, out);
        Ok(self.push_op(op, value, &[x], || SoftmaxBackward { x, classes, log }))
    }
}

/// Writes `log softmax(row)` into `out` (max-shifted, so no overflow).
pub(crate) fn log_softmax_row(row: &[f32], out: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|&v| (v - max).exp()).sum();
    let log_sum = sum.ln() + max;
    for (o, &v) in out.iter_mut().zip(row) {
        *o = v - log_sum;
    }
}

struct SoftmaxBackward {
    x: Var,
    classes: usize,
    log: bool,
}

impl Backward for SoftmaxBackward {
    fn backward(
        &self,
        out: &Tensor,
        gout: &Tensor,
        _vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let Some(gx) = grads.get(self.x) else {
            return Ok(());
        };
        let c = self.classes;
        let rows = gx
            .data_mut()
            .chunks_exact_mut(c)
            .zip(out.data().chunks_exact(c))
            .zip(gout.data().chunks_exact(c));
        for ((g, y), dy) in rows {
            if self.log {
                // y = log p: dx = dy − p · Σ dy
                let total: f32 = dy.iter().sum();
                for ((g, &y), &d) in g.iter_mut().zip(y).zip(dy) {
                    *g += d - y.exp() * total;
                }
            } else {
                // y = p: dx = p · (dy − Σ p·dy)
                let dot: f32 = y.iter().zip(dy).map(|(p, d)| p * d).sum();
                for ((g, &p), &d) in g.iter_mut().zip(y).zip(dy) {
                    *g += p * (d - dot);
                }
            }
        }
        Ok(())
    }
}

/// Leaky ReLU with the given negative slope (ReLU when 0).
#[derive(Clone, Copy)]
struct LeakyRelu(f32);
impl UnaryFn for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    fn f(self, x: f32) -> f32 {
        if x > 0.0 {
            x
        } else {
            self.0 * x
        }
    }
    fn df(self, x: f32, _: f32) -> f32 {
        if x > 0.0 {
            1.0
        } else {
            self.0
        }
    }
}

/// The logistic function.
#[derive(Clone, Copy)]
struct Sigmoid;
impl UnaryFn for Sigmoid {
    const NAME: &'static str = "sigmoid";
    fn f(self, x: f32) -> f32 {
        sigmoid(x)
    }
    fn df(self, _: f32, y: f32) -> f32 {
        y * (1.0 - y)
    }
}

/// The logistic function, stable for large |x|.
pub(crate) fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[derive(Clone, Copy)]
struct Tanh;
impl UnaryFn for Tanh {
    const NAME: &'static str = "tanh";
    fn f(self, x: f32) -> f32 {
        x.tanh()
    }
    fn df(self, _: f32, y: f32) -> f32 {
        1.0 - y * y
    }
}
