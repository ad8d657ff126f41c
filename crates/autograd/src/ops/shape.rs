//! Ops that move values without arithmetic: `reshape`, `flatten`, `concat`, `slice_rows`.

use crate::error::{invalid, shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::{numel, Tensor};

impl Graph<'_> {
    /// The same values under another shape with as many elements.
    pub fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        let from = self.shape(x)?.to_vec();
        if numel(&from) != numel(shape) {
            return Err(shape_mismatch(
                "reshape",
                &from,
                shape,
                "the new shape must hold as many elements",
            ));
        }
        let mut out = self.alloc(numel(shape));
        out.copy_from_slice(self.value(x).data());
        let value = Tensor::from_parts(shape.to_vec(), out);
        Ok(self.push_op("reshape", value, &[x], || CopyBackward { x }))
    }

    /// Keeps the first axis and merges all others: `[B, C, H, W]` → `[B, C·H·W]`.
    pub fn flatten(&mut self, x: Var) -> Result<Var> {
        let shape = self.shape(x)?.to_vec();
        let batch = shape.first().copied().unwrap_or(1);
        let rest = shape.iter().skip(1).product();
        self.reshape(x, &[batch, rest])
    }

    /// Joins tensors along `axis`; every other dimension must agree. Along axis 0 this stacks
    /// batches; along axis 1 of 2-D tensors it appends features (one-hot labels for a
    /// conditional GAN).
    pub fn concat(&mut self, xs: &[Var], axis: usize) -> Result<Var> {
        let first = *xs
            .first()
            .ok_or_else(|| invalid("concat", "needs at least one tensor"))?;
        let base = self.shape(first)?.to_vec();
        if axis >= base.len() {
            return Err(invalid(
                "concat",
                format!("axis {axis} does not exist in shape {base:?}"),
            ));
        }
        let mut widths = Vec::with_capacity(xs.len());
        for &x in xs {
            let s = self.shape(x)?;
            let agrees = s.len() == base.len()
                && s.iter()
                    .zip(&base)
                    .enumerate()
                    .all(|(d, (a, b))| d == axis || a == b);
            if !agrees {
                return Err(shape_mismatch(
                    "concat",
                    &base,
                    s,
                    format!("all dimensions but axis {axis} must agree"),
                ));
            }
            widths.push(s[axis]);
        }
        let outer: usize = base[..axis].iter().product();
        let inner: usize = base[axis + 1..].iter().product();
        let total: usize = widths.iter().sum();
        let mut out_shape = base.clone();
        out_shape[axis] = total;
        let mut out = self.alloc(numel(&out_shape));
        let mut offset = 0;
        for (&x, &w) in xs.iter().zip(&widths) {
            let src = self.value(x).data();
            for o in 0..outer {
                let dst = &mut out[(o * total + offset) * inner..][..w * inner];
                dst.copy_from_slice(&src[o * w * inner..][..w * inner]);
            }
            offset += w;
        }
        let value = Tensor::from_parts(out_shape, out);
        let parts = xs.to_vec();
        Ok(self.push_op("concat", value, xs, || ConcatBackward {
            parts,
            widths,
            outer,
            inner,
        }))
    }

    /// Rows `start..end` of the first axis.
    pub fn slice_rows(&mut self, x: Var, start: usize, end: usize) -> Result<Var> {
        let shape = self.shape(x)?.to_vec();
        let rows = shape.first().copied().unwrap_or(0);
        if start > end || end > rows {
            return Err(invalid(
                "slice_rows",
                format!("rows {start}..{end} are outside 0..{rows} of shape {shape:?}"),
            ));
        }
        let row_len: usize = shape[1..].iter().product();
        let mut out_shape = shape;
        out_shape[0] = end - start;
        let mut out = self.alloc(numel(&out_shape));
        out.copy_from_slice(&self.value(x).data()[start * row_len..end * row_len]);
        let value = Tensor::from_parts(out_shape, out);
        Ok(
            self.push_op("slice_rows", value, &[x], || SliceRowsBackward {
                x,
                offset: start * row_len,
            }),
        )
    }
}

/// The gradient passes through unchanged (reshape: same flat order).
struct CopyBackward {
    x: Var,
}

impl Backward for CopyBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        _vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        if let Some(gx) = grads.get(self.x) {
            for (g, d) in gx.data_mut().iter_mut().zip(gout.data()) {
                *g += d;
            }
        }
        Ok(())
    }
}

struct ConcatBackward {
    parts: Vec<Var>,
    widths: Vec<usize>,
    outer: usize,
    inner: usize,
}

impl Backward for ConcatBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        _vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let total: usize = self.widths.iter().sum();
        let mut offset = 0;
        for (&x, &w) in self.parts.iter().zip(&self.widths) {
            if let Some(gx) = grads.get(x) {
                let gx = gx.data_mut();
                for o in 0..self.outer {
                    let src = &gout.data()[(o * total + offset) * self.inner..][..w * self.inner];
                    let dst = &mut gx[o * w * self.inner..][..w * self.inner];
                    for (g, d) in dst.iter_mut().zip(src) {
                        *g += d;
                    }
                }
            }
            offset += w;
        }
        Ok(())
    }
}

struct SliceRowsBackward {
    x: Var,
    offset: usize,
}

impl Backward for SliceRowsBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        _vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        if let Some(gx) = grads.get(self.x) {
            let dst = &mut gx.data_mut()[self.offset..self.offset + gout.len()];
            for (g, d) in dst.iter_mut().zip(gout.data()) {
                *g += d;
            }
        }
        Ok(())
    }
}
