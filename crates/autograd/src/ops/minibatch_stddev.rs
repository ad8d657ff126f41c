//! Minibatch standard deviation (Karras et al. 2018, *Progressive Growing of GANs*, §3): one
//! feature per sample that tells a discriminator how varied the samples of its group are, so
//! that a generator drawing too alike a batch is told apart from real digits.

use crate::error::{invalid, shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::tensor::Tensor;

/// Added to each variance before its square root (as in the paper's code).
const EPS: f64 = 1e-8;

/// The groups of `group` consecutive samples among `n` (the last one may be smaller).
fn groups(n: usize, group: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n).step_by(group).map(move |a| a..(a + group).min(n))
}

/// Per feature of the rows `rows` of `x: (N, F)`: the mean `μ_f` and `σ_f = √(var_f + EPS)`
/// (the biased variance over the rows), in f64.
fn column_stats(x: &[f32], f: usize, rows: std::ops::Range<usize>, mu: &mut [f64], sd: &mut [f64]) {
    let m = rows.len() as f64;
    mu.fill(0.0);
    sd.fill(0.0);
    for r in rows.clone() {
        for (u, &v) in mu.iter_mut().zip(&x[r * f..(r + 1) * f]) {
            *u += f64::from(v);
        }
    }
    mu.iter_mut().for_each(|u| *u /= m);
    for r in rows {
        for ((s, &u), &v) in sd.iter_mut().zip(&*mu).zip(&x[r * f..(r + 1) * f]) {
            *s += (f64::from(v) - u).powi(2);
        }
    }
    sd.iter_mut().for_each(|s| *s = (*s / m + EPS).sqrt());
}

impl Graph<'_> {
    /// `x: (N, F)` → `(N, 1)`: for each group of `group` consecutive samples (the last group may
    /// be smaller), `y = mean_f σ_f` for every sample of the group, where `σ_f` is the standard
    /// deviation of feature `f` over the group's samples (biased, `+1e-8` under the root).
    /// Concatenated to the features (`concat(&[x, y], 1)`), it gives a discriminator a view of
    /// the batch's variety. Samples of different groups never mix: keep real and generated
    /// samples in separate calls or in groups that do not straddle them.
    pub fn minibatch_stddev(&mut self, x: Var, group: usize) -> Result<Var> {
        let op = "minibatch_stddev";
        let shape = self.shape(x)?.to_vec();
        let &[n, f] = &shape[..] else {
            return Err(shape_mismatch(op, &shape, &[], "the input must be (N, F)"));
        };
        if group == 0 || n == 0 || f == 0 {
            return Err(invalid(
                op,
                format!("the group size, samples and features must be at least 1 (group {group}, input {shape:?})"),
            ));
        }
        let mut out = self.alloc(n);
        {
            let xs = self.value(x).data();
            let (mut mu, mut sd) = (vec![0.0; f], vec![0.0; f]);
            for rows in groups(n, group) {
                column_stats(xs, f, rows.clone(), &mut mu, &mut sd);
                let y = (sd.iter().sum::<f64>() / f as f64) as f32;
                out[rows].fill(y);
            }
        }
        let value = Tensor::from_parts(vec![n, 1], out);
        Ok(self.push_op(op, value, &[x], || MinibatchStddevBackward { x, group }))
    }
}

/// Per group of `m` samples: `dx_sf += (Σ_group dy / F) · (x_sf − μ_f) / (m·σ_f)`. The
/// statistics are recomputed from `x`.
struct MinibatchStddevBackward {
    x: Var,
    group: usize,
}

impl Backward for MinibatchStddevBackward {
    fn backward(
        &self,
        _out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let x = vals.get(self.x);
        let (n, f) = (x.dim(0), x.dim(1));
        let (xs, dy) = (x.data(), gout.data());
        let Some(gx) = grads.get(self.x) else {
            return Ok(());
        };
        let gx = gx.data_mut();
        let (mut mu, mut sd) = (vec![0.0; f], vec![0.0; f]);
        for rows in groups(n, self.group) {
            column_stats(xs, f, rows.clone(), &mut mu, &mut sd);
            let m = rows.len() as f64;
            let d = rows.clone().map(|r| f64::from(dy[r])).sum::<f64>() / f as f64;
            for r in rows {
                let (xr, gr) = (&xs[r * f..(r + 1) * f], &mut gx[r * f..(r + 1) * f]);
                for (((g, &v), &u), &s) in gr.iter_mut().zip(xr).zip(&mu).zip(&sd) {
                    *g += (d * (f64::from(v) - u) / (m * s)) as f32;
                }
            }
        }
        Ok(())
    }
}
