//! Dropout: in training mode each element is zeroed with probability `p` and the others are
//! scaled by `1/(1 − p)`, so the expected value is unchanged; in evaluation mode it is the
//! identity. The mask comes from the caller's seeded random source, one draw per element in
//! row-major order, so the same seed drops the same elements.

use super::parallel::for_halves;
use crate::error::{invalid, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::pool::BufferPool;
use crate::tensor::Tensor;
use rand::distr::{Bernoulli, Distribution};
use rand::Rng;

impl Graph<'_> {
    /// Zeroes each element of `x` with probability `p` and scales the rest by `1/(1 − p)` in
    /// training mode; returns `x` itself in evaluation mode (drawing nothing from `rng`).
    ///
    /// `x: any shape` → the same shape. `p` must lie in `[0, 1)`.
    pub fn dropout(&mut self, x: Var, p: f32, rng: &mut impl Rng) -> Result<Var> {
        if !(0.0..1.0).contains(&p) {
            return Err(invalid(
                "dropout",
                format!("the drop probability must lie in [0, 1), got {p}"),
            ));
        }
        let shape = self.shape(x)?.to_vec();
        if !self.is_training() {
            return Ok(x);
        }
        let drop = Bernoulli::new(f64::from(p))
            .map_err(|e| invalid("dropout", format!("probability {p}: {e}")))?;
        let keep = 1.0 / (1.0 - p);
        let len = self.value(x).len();
        let mut mask = self.alloc(len);
        for m in mask.iter_mut() {
            *m = if drop.sample(rng) { 0.0 } else { keep };
        }
        let mut out = self.alloc(len);
        {
            let (input, mask) = (self.value(x).data(), &mask[..]);
            for_halves(&mut out, |offset, chunk| {
                let end = offset + chunk.len();
                for ((y, &v), &m) in chunk
                    .iter_mut()
                    .zip(&input[offset..end])
                    .zip(&mask[offset..end])
                {
                    *y = v * m;
                }
            });
        }
        let value = Tensor::from_parts(shape, out);
        if !self.requires_grad(x) {
            self.pool.give(mask);
            return Ok(self.push_op("dropout", value, &[x], || DropoutBackward {
                x,
                mask: Vec::new(),
            }));
        }
        Ok(self.push_op("dropout", value, &[x], || DropoutBackward { x, mask }))
    }
}

/// `dx += dy · mask`, the mask holding 0 or `1/(1 − p)`.
struct DropoutBackward {
    x: Var,
    mask: Vec<f32>,
}

impl Backward for DropoutBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        _vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let Some(gx) = grads.get(self.x) else {
            return Ok(());
        };
        let (dy, mask) = (gout.data(), &self.mask[..]);
        for_halves(gx.data_mut(), |offset, chunk| {
            let end = offset + chunk.len();
            for ((g, &d), &m) in chunk
                .iter_mut()
                .zip(&dy[offset..end])
                .zip(&mask[offset..end])
            {
                *g += d * m;
            }
        });
        Ok(())
    }

    fn recycle(self: Box<Self>, pool: &mut BufferPool) {
        pool.give(self.mask);
    }
}
