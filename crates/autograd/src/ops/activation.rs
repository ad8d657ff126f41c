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

/// An element-wise non-linearity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x` if positive, else `slope·x`.
    LeakyRelu(f32),
    /// The logistic function.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
}

impl Activation {
    /// Records the activation of `x`.
    pub fn apply(self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        match self {
            Activation::Relu => g.relu(x),
            Activation::LeakyRelu(slope) => g.leaky_relu(x, slope),
            Activation::Sigmoid => g.sigmoid(x),
            Activation::Tanh => g.tanh(x),
        }
    }
}

/// Activations applied in place to the output of the op that computes their input
/// ([`Graph::linear_act`]): one pass fewer over memory, and no node of their own.
impl Activation {
    /// Whether the derivative can be told from the output alone: true for every activation but
    /// a leaky ReLU of negative slope, whose output does not show the sign of its input.
    pub(crate) fn fusable(self) -> bool {
        match self {
            Activation::LeakyRelu(slope) => slope >= 0.0,
            Activation::Relu | Activation::Sigmoid | Activation::Tanh => true,
        }
    }

    /// `v ← f(v)`.
    pub(crate) fn apply_in_place(self, v: &mut [f32]) {
        fn map<F: UnaryFn>(v: &mut [f32], f: F) {
            v.iter_mut().for_each(|x| *x = f.f(*x));
        }
        match self {
            Activation::Relu => map(v, LeakyRelu(0.0)),
            Activation::LeakyRelu(slope) => map(v, LeakyRelu(slope)),
            Activation::Sigmoid => map(v, Sigmoid),
            Activation::Tanh => map(v, Tanh),
        }
    }

    /// `dz ← dy · f'(x)` from the output `y = f(x)` of a [`Activation::fusable`] activation.
    pub(crate) fn backprop(self, y: &[f32], dy: &[f32], dz: &mut [f32]) {
        // Every fusable derivative reads its input only through its sign (leaky ReLU with a
        // slope ≥ 0), which the output shares, or not at all (sigmoid, tanh): y stands for x.
        fn map<F: UnaryFn>(y: &[f32], dy: &[f32], dz: &mut [f32], f: F) {
            for ((z, &y), &d) in dz.iter_mut().zip(y).zip(dy) {
                *z = d * f.df(y, y);
            }
        }
        match self {
            Activation::Relu => map(y, dy, dz, LeakyRelu(0.0)),
            Activation::LeakyRelu(slope) => map(y, dy, dz, LeakyRelu(slope)),
            Activation::Sigmoid => map(y, dy, dz, Sigmoid),
            Activation::Tanh => map(y, dy, dz, Tanh),
        }
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
        tanh(x)
    }
    fn df(self, _: f32, y: f32) -> f32 {
        1.0 - y * y
    }
}

/// The hyperbolic tangent within 1 ulp of the correctly rounded value (checked below over
/// every 1009th float), written without branches or library calls so that a loop over a buffer
/// vectorises: the platform's `tanhf` costs about 20 ns a value, and a generator's output layer
/// calls it for every pixel. Cephes' `tanhf`: an odd polynomial below 0.625, `1 − 2/(e^{2|x|} + 1)`
/// above, both computed and one selected.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let ax = x.abs();
    let z = x * x;
    // The sign is copied back so that tanh(−0) = −0.
    let small =
        (((((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
            - 3.333_328e-1)
            * z
            * x
            + x)
            .copysign(x);
    // tanh rounds to ±1 from 9.01 on; clamping keeps e^{2|x|} finite.
    let a = ax.min(10.0);
    let e = exp(a + a);
    let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    // NaN fails the comparison and takes the polynomial, which keeps it NaN.
    if ax >= 0.625 {
        large
    } else {
        small
    }
}

/// `e^x` within 1 ulp for x in [−87, 88] (clamped there), vectorisable (Cephes' `expf`):
/// x = n·ln 2 + r with |r| ≤ ln 2 / 2, `e^r` by a degree-7 polynomial, `2^n` through the exponent
/// bits.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // Adding 1.5·2^23 rounds to an integer (to nearest, ties to even) in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let n_int = t.to_bits() as i32 - ROUND.to_bits() as i32;
    // ln 2 in two parts, so that n·ln 2 is subtracted without rounding error.
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e_r = p * (r * r) + r + 1.0;
    e_r * f32::from_bits(((n_int + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> i64 {
        (i64::from(a.to_bits() as i32) - i64::from(b.to_bits() as i32)).abs()
    }

    #[test]
    fn tanh_is_within_one_ulp_of_the_correctly_rounded_value() {
        let mut x = 1e-30f32;
        while x < 20.0 {
            for v in [x, -x] {
                let want = f64::from(v).tanh() as f32;
                assert!(
                    ulps(tanh(v), want) <= 1,
                    "tanh({v}) = {}, want {want}",
                    tanh(v)
                );
            }
            x = f32::from_bits(x.to_bits() + 1009);
        }
    }

    #[test]
    fn tanh_keeps_its_special_values() {
        assert_eq!(tanh(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh(9.1), 1.0);
        assert!(tanh(f32::NAN).is_nan());
    }

    #[test]
    fn exp_is_within_one_ulp_over_its_range() {
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = f64::from(x).exp() as f32;
            assert!(
                ulps(exp(x), want) <= 1,
                "exp({x}) = {}, want {want}",
                exp(x)
            );
            x += 0.0137;
        }
    }
}
