//! [`SpectralNorm`]: a layer's weight divided by its largest singular value σ, estimated by one
//! power iteration per training step, as PyTorch's `torch.nn.utils.spectral_norm` does (Miyato
//! et al. 2018). The weight parameter is renamed `{module}.weight_orig`; the power iteration's
//! vectors are the buffers `{module}.weight_u` `(out)` and `{module}.weight_v` `(in·kh·kw)`.
//!
//! Forward: `W = W_orig / σ` with `σ = uᵀ·W_orig·v`, `u` and `v` held constant (no gradient
//! flows through the power iteration, as in PyTorch), so the gradient reaching `W_orig` is
//! `(∂L/∂W)/σ − (Σ ∂L/∂W ⊙ W_orig)/σ² · u vᵀ` ([`Graph::spectral_normalize`]).

use crate::error::{Error, Result};
use crate::graph::{Graph, Var};
use crate::ops::lanes::dot_f32;
use crate::ops::parallel::join_if_large;
use crate::params::{ParamId, ParamStore};
use crate::tensor::Tensor;
use rand::Rng;
use rand_distr::StandardNormal;

/// PyTorch's `eps` of the normalisation in the power iteration.
const EPS: f32 = 1e-12;

/// The spectral normalisation of one weight parameter.
#[derive(Debug, Clone)]
pub struct SpectralNorm {
    /// The raw weight, registered as `{module}.weight_orig`.
    pub weight: ParamId,
    module: String,
    rows: usize,
    cols: usize,
    /// The left singular vector estimate, `(rows)`.
    pub u: Tensor,
    /// The right singular vector estimate, `(cols)`.
    pub v: Tensor,
}

impl SpectralNorm {
    /// Wraps the weight `weight` of the module `module` (shape `(out, …)`, seen as an
    /// `out × rest` matrix), renaming it `{module}.weight_orig`; `u` and `v` start as normalised
    /// normal draws from `rng`.
    pub fn new(
        store: &mut ParamStore,
        weight: ParamId,
        module: &str,
        rng: &mut impl Rng,
    ) -> Result<SpectralNorm> {
        let shape = store.get(weight).shape().to_vec();
        let rows = shape.first().copied().unwrap_or(0);
        let cols = shape.iter().skip(1).product::<usize>();
        if rows == 0 || cols == 0 {
            return Err(Error::InvalidArgument {
                op: "spectral_norm",
                reason: format!("weight of shape {shape:?} has no matrix to normalise"),
            });
        }
        store.rename(weight, format!("{module}.weight_orig"))?;
        let mut draw = |n: usize| {
            let mut values: Vec<f32> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
            normalize(&mut values);
            Tensor::from_vec(&[n], values)
        };
        Ok(SpectralNorm {
            weight,
            module: module.to_string(),
            rows,
            cols,
            u: draw(rows)?,
            v: draw(cols)?,
        })
    }

    /// The module's name (the buffers are `{module}.weight_u` and `{module}.weight_v`).
    pub fn module(&self) -> &str {
        &self.module
    }

    /// One power iteration on the current weight `w`: `v ← normalize(Wᵀu)`,
    /// `u ← normalize(W v)`. Each product is split into two fixed halves of rows (run at once
    /// on two threads), so the result does not depend on the number of threads.
    pub fn power_iteration(&mut self, w: &[f32]) {
        let (rows, cols) = (self.rows, self.cols);
        let half = rows / 2;
        let u = self.u.data().to_vec();
        // Wᵀu as the sum of two halves' partial sums.
        let partial = |r0: usize, r1: usize| {
            let mut v = vec![0.0f32; cols];
            for (r, &ur) in u.iter().enumerate().take(r1).skip(r0) {
                for (vc, &wrc) in v.iter_mut().zip(&w[r * cols..(r + 1) * cols]) {
                    *vc += wrc * ur;
                }
            }
            v
        };
        let (lo, hi) = join_if_large(w.len(), || partial(0, half), || partial(half, rows));
        let v = self.v.data_mut();
        for ((vc, a), b) in v.iter_mut().zip(lo).zip(hi) {
            *vc = a + b;
        }
        normalize(v);
        let v = self.v.data().to_vec();
        let u = self.u.data_mut();
        let (top, bottom) = u.split_at_mut(half);
        let rows_dot = |out: &mut [f32], r0: usize| {
            for (i, ur) in out.iter_mut().enumerate() {
                let r = r0 + i;
                *ur = dot_f32(&w[r * cols..(r + 1) * cols], &v);
            }
        };
        join_if_large(w.len(), || rows_dot(top, 0), || rows_dot(bottom, half));
        normalize(u);
    }

    /// Records `W_orig / σ` for the weight variable `w` (the parameter, or any variable of its
    /// shape) with the current `u` and `v`.
    pub fn normalized(&self, g: &mut Graph<'_>, w: Var) -> Result<Var> {
        g.spectral_normalize(w, self.u.data(), self.v.data())
    }

    /// The normalised weight of this step: in training mode one power iteration first (as
    /// PyTorch's forward hook does), in evaluation mode the stored vectors as they are.
    pub fn weight(&mut self, g: &mut Graph<'_>) -> Result<Var> {
        let w = g.param(self.weight);
        if g.is_training() {
            self.power_iteration(g.value(w).data());
        }
        self.normalized(g, w)
    }
}

/// `x / max(‖x‖, EPS)`.
fn normalize(x: &mut [f32]) {
    let norm = x.iter().map(|v| v * v).sum::<f32>().sqrt().max(EPS);
    for v in x {
        *v /= norm;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck;
    use rand::SeedableRng;

    #[test]
    fn sigma_converges_to_the_largest_singular_value_and_names_follow_pytorch() {
        let mut store = ParamStore::new();
        // diag(3, 1) padded: singular values 3 and 1.
        let w = store
            .add(
                "fc.weight",
                Tensor::from_vec(&[2, 3], vec![3.0, 0.0, 0.0, 0.0, 1.0, 0.0]).unwrap(),
            )
            .unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut sn = SpectralNorm::new(&mut store, w, "fc", &mut rng).unwrap();
        assert_eq!(store.name(w), "fc.weight_orig");
        let values = store.get(w).data().to_vec();
        for _ in 0..30 {
            sn.power_iteration(&values);
        }
        let mut pool = crate::BufferPool::new();
        let mut g = Graph::new(&store, &mut pool);
        g.set_training(false);
        let x = g.param(w);
        let normalized = sn.normalized(&mut g, x).unwrap();
        let out = g.value(normalized).data();
        assert!(
            (out[0] - 1.0).abs() < 1e-4 && (out[4] - 1.0 / 3.0).abs() < 1e-4,
            "{out:?}"
        );
    }

    #[test]
    fn a_large_weight_iterates_as_the_plain_formula_does() {
        // 200 × 300: over the size whose products are split into two halves of rows.
        let (rows, cols) = (200, 300);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let w: Vec<f32> = (0..rows * cols)
            .map(|_| rng.sample::<f32, _>(StandardNormal))
            .collect();
        let mut store = ParamStore::new();
        let id = store
            .add(
                "big.weight",
                Tensor::from_vec(&[rows, cols], w.clone()).unwrap(),
            )
            .unwrap();
        let mut sn = SpectralNorm::new(&mut store, id, "big", &mut rng).unwrap();
        let u0: Vec<f64> = sn.u.data().iter().map(|&x| f64::from(x)).collect();
        sn.power_iteration(&w);
        let at = |r: usize, c: usize| f64::from(w[r * cols + c]);
        let unit = |x: Vec<f64>| {
            let n = x.iter().map(|v| v * v).sum::<f64>().sqrt();
            x.into_iter().map(|v| v / n).collect::<Vec<f64>>()
        };
        let v = unit(
            (0..cols)
                .map(|c| (0..rows).map(|r| at(r, c) * u0[r]).sum())
                .collect(),
        );
        let u = unit(
            (0..rows)
                .map(|r| (0..cols).map(|c| at(r, c) * v[c]).sum())
                .collect(),
        );
        for (got, want) in sn.v.data().iter().zip(&v).chain(sn.u.data().iter().zip(&u)) {
            assert!((f64::from(*got) - want).abs() < 1e-5, "{got} vs {want}");
        }
    }

    #[test]
    fn the_normalised_weight_has_the_gradient_of_finite_differences() {
        let mut store = ParamStore::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let init: Vec<f32> = (0..12)
            .map(|_| rng.sample::<f32, _>(StandardNormal))
            .collect();
        let w = store
            .add(
                "c.weight",
                Tensor::from_vec(&[3, 1, 2, 2], init.clone()).unwrap(),
            )
            .unwrap();
        let mut sn = SpectralNorm::new(&mut store, w, "c", &mut rng).unwrap();
        sn.power_iteration(&init);
        let weights = Tensor::from_vec(
            &[3, 2, 2],
            (0..12).map(|i| (i as f32 * 0.37).sin()).collect(),
        )
        .unwrap();
        let w0 = Tensor::from_vec(&[3, 1, 2, 2], init).unwrap();
        // A scalar that depends on every element of the normalised weight.
        let err = gradcheck(&[w0, weights], |g, v| {
            let normalized = sn.normalized(g, v[0])?;
            let flat = g.reshape(normalized, &[1, 12])?;
            let other = g.reshape(v[1], &[12, 1])?;
            let y = g.matmul(flat, other)?;
            let y = g.square(y)?;
            g.sum(y)
        });
        assert!(err.is_ok(), "{err:?}");
    }
}
