//! Element-wise arithmetic: `add`, `sub`, `mul`, `div` with NumPy-style broadcasting (bias rows,
//! per-channel factors, scalars), and the one-input functions `neg`, `add_scalar`, `mul_scalar`,
//! `exp`, `log`, `sqrt`, `square`.

use super::parallel::for_halves;
use super::unary::UnaryFn;
use crate::error::{shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::{numel, Tensor};

#[derive(Clone, Copy, Debug, PartialEq)]
enum BinaryKind {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryKind {
    fn name(self) -> &'static str {
        match self {
            BinaryKind::Add => "add",
            BinaryKind::Sub => "sub",
            BinaryKind::Mul => "mul",
            BinaryKind::Div => "div",
        }
    }

    fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinaryKind::Add => a + b,
            BinaryKind::Sub => a - b,
            BinaryKind::Mul => a * b,
            BinaryKind::Div => a / b,
        }
    }

    /// (∂/∂a, ∂/∂b) of `a ∘ b`.
    fn partials(self, a: f32, b: f32) -> (f32, f32) {
        match self {
            BinaryKind::Add => (1.0, 1.0),
            BinaryKind::Sub => (1.0, -1.0),
            BinaryKind::Mul => (b, a),
            BinaryKind::Div => (1.0 / b, -a / (b * b)),
        }
    }
}

/// The shape both operands broadcast to (dimensions aligned at the right; a dimension of 1
/// stretches), or `None` when they are incompatible.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() {
            1
        } else {
            a[i - (rank - a.len())]
        };
        let db = if i < rank - b.len() {
            1
        } else {
            b[i - (rank - b.len())]
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Strides that read an operand of shape `shape` as if it had shape `out` (0 where it stretches).
fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let offset = out.len() - shape.len();
    let mut strides = vec![0; out.len()];
    let mut stride = 1;
    for i in (0..shape.len()).rev() {
        if shape[i] != 1 {
            strides[i + offset] = stride;
        }
        stride *= shape[i];
    }
    strides
}

/// Calls `f(i, ia, ib)` for every flat output index `i` in order, with the matching operand
/// indices. The innermost dimension runs as a tight loop with fixed strides; only the outer
/// dimensions keep a counter (a weight divided by a scalar is one row loop per row, not a counter
/// step per value).
fn for_each_broadcast(
    out: &[usize],
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize, usize),
) {
    let total = numel(out);
    let Some(&inner) = out.last() else {
        // A scalar.
        if total == 1 {
            f(0, 0, 0);
        }
        return;
    };
    if inner == 0 {
        return;
    }
    let rank = out.len();
    let (step_a, step_b) = (sa[rank - 1], sb[rank - 1]);
    let mut counter = vec![0usize; rank - 1];
    let (mut ia, mut ib) = (0usize, 0usize);
    for row in 0..total / inner {
        let first = row * inner;
        for j in 0..inner {
            f(first + j, ia + j * step_a, ib + j * step_b);
        }
        for d in (0..rank - 1).rev() {
            counter[d] += 1;
            ia += sa[d];
            ib += sb[d];
            if counter[d] < out[d] {
                break;
            }
            ia -= sa[d] * out[d];
            ib -= sb[d] * out[d];
            counter[d] = 0;
        }
    }
}

impl Graph<'_> {
    fn binary(&mut self, a: Var, b: Var, kind: BinaryKind) -> Result<Var> {
        let (sa, sb) = (self.shape(a)?.to_vec(), self.shape(b)?.to_vec());
        let out_shape = broadcast_shape(&sa, &sb).ok_or_else(|| {
            shape_mismatch(
                kind.name(),
                &sa,
                &sb,
                "shapes do not broadcast (each aligned dimension must be equal or 1)",
            )
        })?;
        let mut out = self.alloc(numel(&out_shape));
        {
            let (va, vb) = (self.value(a).data(), self.value(b).data());
            if sa == sb {
                for_halves(&mut out, |offset, chunk| {
                    let end = offset + chunk.len();
                    for ((y, &x1), &x2) in
                        chunk.iter_mut().zip(&va[offset..end]).zip(&vb[offset..end])
                    {
                        *y = kind.apply(x1, x2);
                    }
                });
            } else {
                let (ta, tb) = (
                    broadcast_strides(&sa, &out_shape),
                    broadcast_strides(&sb, &out_shape),
                );
                for_each_broadcast(&out_shape, &ta, &tb, |i, ia, ib| {
                    out[i] = kind.apply(va[ia], vb[ib]);
                });
            }
        }
        let value = Tensor::from_parts(out_shape, out);
        Ok(
            self.push_op(kind.name(), value, &[a, b], || BinaryBackward {
                a,
                b,
                kind,
            }),
        )
    }

    /// `a + b`, broadcasting.
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        self.binary(a, b, BinaryKind::Add)
    }

    /// `a − b`, broadcasting.
    pub fn sub(&mut self, a: Var, b: Var) -> Result<Var> {
        self.binary(a, b, BinaryKind::Sub)
    }

    /// `a · b` element-wise, broadcasting.
    pub fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.binary(a, b, BinaryKind::Mul)
    }

    /// `a / b` element-wise, broadcasting.
    pub fn div(&mut self, a: Var, b: Var) -> Result<Var> {
        self.binary(a, b, BinaryKind::Div)
    }

    /// `−x`.
    pub fn neg(&mut self, x: Var) -> Result<Var> {
        self.unary(x, Neg)
    }

    /// `x + c` for a constant `c`.
    pub fn add_scalar(&mut self, x: Var, c: f32) -> Result<Var> {
        self.unary(x, AddScalar(c))
    }

    /// `x · c` for a constant `c`.
    pub fn mul_scalar(&mut self, x: Var, c: f32) -> Result<Var> {
        self.unary(x, MulScalar(c))
    }

    /// `eˣ`.
    pub fn exp(&mut self, x: Var) -> Result<Var> {
        self.unary(x, Exp)
    }

    /// The natural logarithm.
    pub fn log(&mut self, x: Var) -> Result<Var> {
        self.unary(x, Log)
    }

    /// The square root.
    pub fn sqrt(&mut self, x: Var) -> Result<Var> {
        self.unary(x, Sqrt)
    }

    /// `x²`.
    pub fn square(&mut self, x: Var) -> Result<Var> {
        self.unary(x, Square)
    }

    /// `|x|` (gradient `sign(x)`, 0 at 0).
    pub fn abs(&mut self, x: Var) -> Result<Var> {
        self.unary(x, Abs)
    }
}

struct BinaryBackward {
    a: Var,
    b: Var,
    kind: BinaryKind,
}

impl Backward for BinaryBackward {
    fn backward(
        &self,
        out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let (av, bv) = (vals.get(self.a), vals.get(self.b));
        let (ta, tb) = (
            broadcast_strides(av.shape(), out.shape()),
            broadcast_strides(bv.shape(), out.shape()),
        );
        let (da, db, dy) = (av.data(), bv.data(), gout.data());
        let kind = self.kind;
        // One operand at a time: `a` and `b` may be the same variable (x·x).
        if let Some(ga) = grads.get(self.a) {
            let ga = ga.data_mut();
            for_each_broadcast(out.shape(), &ta, &tb, |i, ia, ib| {
                ga[ia] += dy[i] * kind.partials(da[ia], db[ib]).0;
            });
        }
        if let Some(gb) = grads.get(self.b) {
            let gb = gb.data_mut();
            for_each_broadcast(out.shape(), &ta, &tb, |i, ia, ib| {
                gb[ib] += dy[i] * kind.partials(da[ia], db[ib]).1;
            });
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
struct Neg;
impl UnaryFn for Neg {
    const NAME: &'static str = "neg";
    fn f(self, x: f32) -> f32 {
        -x
    }
    fn df(self, _: f32, _: f32) -> f32 {
        -1.0
    }
}

#[derive(Clone, Copy)]
struct AddScalar(f32);
impl UnaryFn for AddScalar {
    const NAME: &'static str = "add_scalar";
    fn f(self, x: f32) -> f32 {
        x + self.0
    }
    fn df(self, _: f32, _: f32) -> f32 {
        1.0
    }
}

#[derive(Clone, Copy)]
struct MulScalar(f32);
impl UnaryFn for MulScalar {
    const NAME: &'static str = "mul_scalar";
    fn f(self, x: f32) -> f32 {
        x * self.0
    }
    fn df(self, _: f32, _: f32) -> f32 {
        self.0
    }
}

#[derive(Clone, Copy)]
struct Exp;
impl UnaryFn for Exp {
    const NAME: &'static str = "exp";
    fn f(self, x: f32) -> f32 {
        x.exp()
    }
    fn df(self, _: f32, y: f32) -> f32 {
        y
    }
}

#[derive(Clone, Copy)]
struct Log;
impl UnaryFn for Log {
    const NAME: &'static str = "log";
    fn f(self, x: f32) -> f32 {
        x.ln()
    }
    fn df(self, x: f32, _: f32) -> f32 {
        1.0 / x
    }
}

#[derive(Clone, Copy)]
struct Sqrt;
impl UnaryFn for Sqrt {
    const NAME: &'static str = "sqrt";
    fn f(self, x: f32) -> f32 {
        x.sqrt()
    }
    fn df(self, _: f32, y: f32) -> f32 {
        0.5 / y
    }
}

#[derive(Clone, Copy)]
struct Square;
impl UnaryFn for Square {
    const NAME: &'static str = "square";
    fn f(self, x: f32) -> f32 {
        x * x
    }
    fn df(self, x: f32, _: f32) -> f32 {
        2.0 * x
    }
}

#[derive(Clone, Copy)]
struct Abs;
impl UnaryFn for Abs {
    const NAME: &'static str = "abs";
    fn f(self, x: f32) -> f32 {
        x.abs()
    }
    fn df(self, x: f32, _: f32) -> f32 {
        if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_shapes() {
        assert_eq!(broadcast_shape(&[4, 3], &[3]), Some(vec![4, 3]));
        assert_eq!(
            broadcast_shape(&[2, 3, 4, 4], &[1, 3, 1, 1]),
            Some(vec![2, 3, 4, 4])
        );
        assert_eq!(broadcast_shape(&[1], &[5, 2]), Some(vec![5, 2]));
        assert_eq!(broadcast_shape(&[4, 3], &[4]), None);
    }
}
