//! The machinery shared by element-wise ops of one input (`y = f(x)`, `dx += dy · f'(x, y)`).
//! The ops themselves ([`crate::ops::elementwise`], [`crate::ops::activation`]) say only their
//! function and derivative.

use super::parallel::for_halves;
use crate::error::Result;
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::Tensor;

/// An element-wise function with its derivative, written in terms of the input `x` and the
/// output `y` (whichever is cheaper: `tanh' = 1 − y²`).
pub(crate) trait UnaryFn: Copy + Send + Sync + 'static {
    /// The op's name, for errors.
    const NAME: &'static str;
    /// `f(x)`.
    fn f(self, x: f32) -> f32;
    /// `f'(x)`, given `x` and `y = f(x)`.
    fn df(self, x: f32, y: f32) -> f32;
}

impl Graph<'_> {
    /// Records `y = f(x)` element-wise.
    pub(crate) fn unary<F: UnaryFn>(&mut self, x: Var, func: F) -> Result<Var> {
        let shape = self.shape(x)?.to_vec();
        let len = self.value(x).len();
        let mut out = self.alloc(len);
        {
            let input = self.value(x).data();
            for_halves(&mut out, |offset, chunk| {
                let src = &input[offset..offset + chunk.len()];
                for (y, &v) in chunk.iter_mut().zip(src) {
                    *y = func.f(v);
                }
            });
        }
        let value = Tensor::from_parts(shape, out);
        Ok(self.push_op(F::NAME, value, &[x], || UnaryBackward { x, func }))
    }
}

struct UnaryBackward<F> {
    x: Var,
    func: F,
}

impl<F: UnaryFn> Backward for UnaryBackward<F> {
    fn backward(
        &self,
        out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let input = vals.get(self.x).data();
        let Some(gx) = grads.target(self.x) else {
            return Ok(());
        };
        let (y, dy, func, fresh) = (out.data(), gout.data(), self.func, gx.fresh);
        for_halves(gx.tensor.data_mut(), |offset, chunk| {
            let end = offset + chunk.len();
            let parts = input[offset..end]
                .iter()
                .zip(&y[offset..end])
                .zip(&dy[offset..end]);
            if fresh {
                for (acc, ((&x, &y), &d)) in chunk.iter_mut().zip(parts) {
                    *acc = d * func.df(x, y);
                }
            } else {
                for (acc, ((&x, &y), &d)) in chunk.iter_mut().zip(parts) {
                    *acc += d * func.df(x, y);
                }
            }
        });
        Ok(())
    }
}
