//! Division of a tensor by a scalar variable, `y = x / s`: spectral normalisation's `W/σ`. The
//! broadcasting [`Graph::div`] computes the same values through a walk over the broadcast shape
//! and reduces the scalar's gradient through it; this op is one pass per direction.

use super::lanes;
use super::parallel::for_halves;
use crate::error::{shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::Tensor;

impl Graph<'_> {
    /// `x / s` element-wise, for `x` of any shape and `s` holding one value (any shape of one
    /// element) → the shape of `x`. Gradients: `dx = dy / s`, `ds = −Σ dy·x / s²`.
    pub fn div_by_scalar(&mut self, x: Var, s: Var) -> Result<Var> {
        let (sx, ss) = (self.shape(x)?.to_vec(), self.shape(s)?.to_vec());
        if self.value(s).len() != 1 {
            return Err(shape_mismatch(
                "div_by_scalar",
                &sx,
                &ss,
                "the divisor must hold one value",
            ));
        }
        let d = self.value(s).data()[0];
        let mut out = self.alloc(self.value(x).len());
        {
            let xs = self.value(x).data();
            for_halves(&mut out, |offset, chunk| {
                for (y, &v) in chunk.iter_mut().zip(&xs[offset..]) {
                    *y = v / d;
                }
            });
        }
        let value = Tensor::from_parts(sx, out);
        Ok(
            self.push_op("div_by_scalar", value, &[x, s], || DivByScalarBackward {
                x,
                s,
            }),
        )
    }
}

struct DivByScalarBackward {
    x: Var,
    s: Var,
}

impl Backward for DivByScalarBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let (dy, xs) = (gout.data(), vals.get(self.x).data());
        let d = vals.get(self.s).data()[0];
        if let Some(gx) = grads.get(self.x) {
            let inv = 1.0 / d;
            for_halves(gx.data_mut(), |offset, chunk| {
                for (g, &v) in chunk.iter_mut().zip(&dy[offset..]) {
                    *g += v * inv;
                }
            });
        }
        if let Some(gs) = grads.get(self.s) {
            let dot = lanes::sum2_f64(dy, xs, |a, b| f64::from(a) * f64::from(b));
            let d = f64::from(d);
            gs.data_mut()[0] += (-dot / (d * d)) as f32;
        }
        Ok(())
    }
}
