//! Spectral normalisation's division, `W / σ` with `σ = uᵀ·W·v` for fixed vectors `u` and `v`
//! (Miyato et al. 2018, with PyTorch's convention that no gradient flows through the power
//! iteration that produced `u` and `v`). One op instead of a product, a sum and a division:
//! no packing of `W` for a matrix-vector product, no outer product through the matrix kernel,
//! two passes over `W` per direction.

use super::lanes;
use super::parallel::{for_halves, join_if_large};
use crate::error::{shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::Tensor;

impl Graph<'_> {
    /// `W / σ` with `σ = uᵀ·W·v`, for `w` of shape `(rows, …)` seen as a `rows × cols` matrix
    /// (`cols` the product of the other dimensions), `u` of length `rows` and `v` of length
    /// `cols` (constants: they get no gradient) → the shape of `w`.
    /// Gradient: `dW = (dY − ⟨dY, W/σ⟩ · u vᵀ) / σ`.
    pub fn spectral_normalize(&mut self, w: Var, u: &[f32], v: &[f32]) -> Result<Var> {
        let shape = self.shape(w)?.to_vec();
        let rows = shape.first().copied().unwrap_or(0);
        let cols = shape.iter().skip(1).product::<usize>();
        if shape.len() < 2 || u.len() != rows || v.len() != cols || rows == 0 || cols == 0 {
            return Err(shape_mismatch(
                "spectral_normalize",
                &shape,
                &[u.len(), v.len()],
                "the weight must be (rows, …) with u of length rows and v of the other \
                 dimensions' product",
            ));
        }
        let ws = self.value(w).data();
        // σ as two fixed halves of rows (at once on two threads for a large weight).
        let half = rows / 2;
        let part = |r0: usize, r1: usize| -> f32 {
            ws[r0 * cols..r1 * cols]
                .chunks_exact(cols)
                .zip(&u[r0..r1])
                .map(|(row, &ur)| ur * lanes::dot_f32(row, v))
                .sum()
        };
        let (lo, hi) = join_if_large(ws.len(), || part(0, half), || part(half, rows));
        let sigma = lo + hi;
        let mut out = self.alloc(ws.len());
        {
            let ws = self.value(w).data();
            let inv = 1.0 / sigma;
            for_halves(&mut out, |offset, chunk| {
                for (y, &x) in chunk.iter_mut().zip(&ws[offset..]) {
                    *y = x * inv;
                }
            });
        }
        let value = Tensor::from_parts(shape, out);
        Ok(self.push_op("spectral_normalize", value, &[w], || {
            SpectralNormalizeBackward {
                w,
                u: u.to_vec(),
                v: v.to_vec(),
                sigma,
            }
        }))
    }
}

struct SpectralNormalizeBackward {
    w: Var,
    u: Vec<f32>,
    v: Vec<f32>,
    sigma: f32,
}

impl Backward for SpectralNormalizeBackward {
    fn backward(
        &self,
        out: &Tensor,
        gout: &Tensor,
        _vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let Some(gw) = grads.get(self.w) else {
            return Ok(());
        };
        let dy = gout.data();
        // ⟨dY, W/σ⟩ from the output, which is W/σ.
        let (y, mid) = (out.data(), dy.len() / 2);
        let (lo, hi) = join_if_large(
            dy.len(),
            || lanes::dot_f32(&dy[..mid], &y[..mid]),
            || lanes::dot_f32(&dy[mid..], &y[mid..]),
        );
        let inner = lo + hi;
        let inv = 1.0 / self.sigma;
        let cols = self.v.len();
        let (u, v) = (&self.u, &self.v);
        for_halves(gw.data_mut(), |offset, chunk| {
            // Halves start on any element: walk row by row from `offset`.
            let mut at = 0;
            while at < chunk.len() {
                let flat = offset + at;
                let (r, c0) = (flat / cols, flat % cols);
                let len = (cols - c0).min(chunk.len() - at);
                let coef = inner * u[r];
                let rows_dy = &dy[flat..flat + len];
                for ((g, &d), &vc) in chunk[at..at + len].iter_mut().zip(rows_dy).zip(&v[c0..]) {
                    *g += (d - coef * vc) * inv;
                }
                at += len;
            }
        });
        Ok(())
    }
}
