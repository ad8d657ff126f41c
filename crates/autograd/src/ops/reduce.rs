//! Reductions: `sum` and `mean` over everything or along one axis.

use crate::error::{invalid, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::Tensor;

impl Graph<'_> {
    /// The sum of every element, as a `[1]` tensor.
    pub fn sum(&mut self, x: Var) -> Result<Var> {
        self.reduce_all(x, false)
    }

    /// The mean of every element, as a `[1]` tensor.
    pub fn mean(&mut self, x: Var) -> Result<Var> {
        self.reduce_all(x, true)
    }

    /// The sum along `axis` (removed from the shape).
    pub fn sum_axis(&mut self, x: Var, axis: usize) -> Result<Var> {
        self.reduce_axis(x, axis, false)
    }

    /// The mean along `axis` (removed from the shape).
    pub fn mean_axis(&mut self, x: Var, axis: usize) -> Result<Var> {
        self.reduce_axis(x, axis, true)
    }

    fn reduce_all(&mut self, x: Var, mean: bool) -> Result<Var> {
        let input = self.value(x);
        let n = input.len();
        if mean && n == 0 {
            return Err(invalid("mean", "the mean of an empty tensor is undefined"));
        }
        // Accumulate in f64: a sum over a large batch keeps its precision.
        let total: f64 = input.data().iter().map(|&v| f64::from(v)).sum();
        let scale = if mean { 1.0 / n as f64 } else { 1.0 };
        let mut out = self.alloc(1);
        out[0] = (total * scale) as f32;
        let scale = scale as f32;
        let op = if mean { "mean" } else { "sum" };
        Ok(
            self.push_op(op, Tensor::from_parts(vec![1], out), &[x], || {
                ReduceBackward {
                    x,
                    outer: 1,
                    axis_len: n,
                    inner: 1,
                    scale,
                }
            }),
        )
    }

    fn reduce_axis(&mut self, x: Var, axis: usize, mean: bool) -> Result<Var> {
        let shape = self.shape(x)?.to_vec();
        let op = if mean { "mean_axis" } else { "sum_axis" };
        if axis >= shape.len() {
            return Err(invalid(
                op,
                format!("axis {axis} does not exist in a tensor of shape {shape:?}"),
            ));
        }
        let (outer, axis_len): (usize, usize) = (shape[..axis].iter().product(), shape[axis]);
        let inner: usize = shape[axis + 1..].iter().product();
        if mean && axis_len == 0 {
            return Err(invalid(op, "the mean over an empty axis is undefined"));
        }
        let scale = if mean { 1.0 / axis_len as f32 } else { 1.0 };
        let mut out = self.alloc_zeroed(outer * inner);
        let data = self.value(x).data();
        for o in 0..outer {
            let dst = &mut out[o * inner..(o + 1) * inner];
            for a in 0..axis_len {
                let src = &data[(o * axis_len + a) * inner..][..inner];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d += s;
                }
            }
            dst.iter_mut().for_each(|d| *d *= scale);
        }
        let mut out_shape = shape;
        out_shape.remove(axis);
        let value = Tensor::from_parts(out_shape, out);
        Ok(self.push_op(op, value, &[x], || ReduceBackward {
            x,
            outer,
            axis_len,
            inner,
            scale,
        }))
    }
}

/// Every input element along the reduced axis receives the output's gradient times `scale`.
struct ReduceBackward {
    x: Var,
    outer: usize,
    axis_len: usize,
    inner: usize,
    scale: f32,
}

impl Backward for ReduceBackward {
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
        let (gx, dy) = (gx.data_mut(), gout.data());
        if self.inner == 1 {
            // Reducing the last axis (or everything): one value per run, a tight loop.
            for (o, run) in gx.chunks_exact_mut(self.axis_len.max(1)).enumerate() {
                let d = dy[o] * self.scale;
                run.iter_mut().for_each(|g| *g += d);
            }
            return Ok(());
        }
        for o in 0..self.outer {
            let src = &dy[o * self.inner..(o + 1) * self.inner];
            for a in 0..self.axis_len {
                let dst = &mut gx[(o * self.axis_len + a) * self.inner..][..self.inner];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d += s * self.scale;
                }
            }
        }
        Ok(())
    }
}
