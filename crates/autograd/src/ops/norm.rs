//! Batch normalisation over `(B, C)` or `(B, C, H, W)`, per channel `C`, as PyTorch's
//! `batch_norm`: in training mode with the batch's statistics (the biased variance normalises,
//! the unbiased one updates the running variance), in evaluation mode with the running ones.
//!
//! Per-channel sums accumulate in f64, each channel in a fixed order; large tensors are cut into
//! two fixed halves (by channel for sums, by element for the rest), so results are bit-identical
//! with 1 or 2 threads.

use super::activation::Activation;
use super::lanes;
use super::parallel::for_halves;
use crate::error::{invalid, shape_mismatch, Result};
use crate::graph::{Backward, GradSink, Graph, Values, Var};
use crate::pool::BufferPool;
use crate::tensor::Tensor;

/// Work on fewer elements than this stays on one thread.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// The running statistics of one batch-norm layer, as PyTorch's `running_mean`, `running_var`
/// and `num_batches_tracked` buffers.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningStats {
    /// The running mean, `(C)`; starts at 0.
    pub mean: Tensor,
    /// The running (unbiased) variance, `(C)`; starts at 1.
    pub var: Tensor,
    /// How many training batches have updated the statistics.
    pub num_batches_tracked: u64,
}

impl RunningStats {
    /// Fresh statistics for `channels` channels: mean 0, variance 1.
    pub fn new(channels: usize) -> RunningStats {
        RunningStats {
            mean: Tensor::zeros(&[channels]),
            var: Tensor::full(&[channels], 1.0),
            num_batches_tracked: 0,
        }
    }

    /// The number of channels.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }
}

/// How the elements of `(B, C, inner)` are laid out: `inner = H·W` (1 for `(B, C)`).
#[derive(Clone, Copy, Debug)]
struct Layout {
    batch: usize,
    channels: usize,
    inner: usize,
}

impl Layout {
    /// The values per channel, `B·inner`.
    fn count(&self) -> usize {
        self.batch * self.inner
    }

    /// The `B` runs of channel `c` in `data`.
    fn runs<'a>(&self, data: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> + 'a {
        let (channels, inner) = (self.channels, self.inner);
        (0..self.batch).map(move |n| &data[(n * channels + c) * inner..][..inner])
    }

    /// `Σ f(x)` over channel `c`'s values in `data`, in f64 and a fixed order: [`lanes::sum_f64`] of
    /// each run, run after run. Runs of one value (a `(B, C)` input) are read directly: the same
    /// sum, without a slice per value.
    fn channel_sum(&self, data: &[f32], c: usize, f: impl Fn(f32) -> f64) -> f64 {
        if self.inner == 1 {
            let values = data.iter().skip(c).step_by(self.channels);
            return values.fold(0.0, |t, &x| t + f(x));
        }
        self.runs(data, c)
            .fold(0.0, |t, r| t + lanes::sum_f64(r, &f))
    }

    /// `Σ f(a, b)` over channel `c`'s values in two tensors of this layout, like
    /// [`Layout::channel_sum`].
    fn channel_sum2(&self, a: &[f32], b: &[f32], c: usize, f: impl Fn(f32, f32) -> f64) -> f64 {
        if self.inner == 1 {
            let pairs = a.iter().zip(b).skip(c).step_by(self.channels);
            return pairs.fold(0.0, |t, (&x, &y)| t + f(x, y));
        }
        let runs = self.runs(a, c).zip(self.runs(b, c));
        runs.fold(0.0, |t, (x, y)| t + lanes::sum2_f64(x, y, &f))
    }

    /// Calls `f(c, start, end)` for each run of one channel within the flat element range
    /// `offset..offset + len` (`start`, `end` relative to `offset`). For a `(B, C)` input every
    /// run is one value, and the channel is counted along instead of divided out.
    fn channel_runs(&self, offset: usize, len: usize, mut f: impl FnMut(usize, usize, usize)) {
        if self.inner == 1 {
            let mut c = offset % self.channels;
            for i in 0..len {
                f(c, i, i + 1);
                c += 1;
                if c == self.channels {
                    c = 0;
                }
            }
            return;
        }
        let end = offset + len;
        let mut i = offset;
        while i < end {
            let row = i / self.inner;
            let stop = ((row + 1) * self.inner).min(end);
            f(row % self.channels, i - offset, stop - offset);
            i = stop;
        }
    }
}

/// Runs `f(first_channel, a, b)` over two per-channel buffers cut into two halves by channel,
/// processed at once when the tensor behind them (`work` elements) is large.
fn channel_halves<F>(work: usize, a: &mut [f32], b: &mut [f32], f: F)
where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync,
{
    let channels = a.len();
    if work < PARALLEL_MIN_LEN || channels < 2 {
        return f(0, a, b);
    }
    let mid = channels / 2;
    let (a0, a1) = a.split_at_mut(mid);
    let (b0, b1) = b.split_at_mut(mid);
    super::parallel::join(|| f(0, a0, b0), || f(mid, a1, b1));
}

impl Graph<'_> {
    /// Batch normalisation: `y = γ·(x − μ)/√(σ² + eps) + β` per channel.
    ///
    /// `x: (B, C)` or `(B, C, H, W)`, `gamma: (C)`, `beta: (C)` → the shape of `x`. In training
    /// mode ([`Graph::is_training`]) μ and σ² are the batch's mean and biased variance over
    /// `B·H·W` values, and `running` is updated as
    /// `mean ← (1 − momentum)·mean + momentum·μ`, `var ← (1 − momentum)·var + momentum·σ²·n/(n − 1)`;
    /// in evaluation mode μ and σ² are `running`'s, which stays unchanged.
    pub fn batch_norm(
        &mut self,
        x: Var,
        gamma: Var,
        beta: Var,
        running: &mut RunningStats,
        momentum: f32,
        eps: f32,
    ) -> Result<Var> {
        self.batch_norm_act(x, gamma, beta, running, momentum, eps, None)
    }

    /// [`Graph::batch_norm`] followed by `act`, in one op: `y = act(γ·x̂ + β)`. One pass over
    /// memory, and one stored tensor (the output) where the two ops store three (`x̂`, the
    /// normalised output, the activation's): the backward pass recomputes `x̂` from `x`, and the
    /// activation's derivative from `y`. A leaky ReLU of negative slope (its output does not show
    /// the sign of its input) runs as an op of its own after the normalisation.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm_act(
        &mut self,
        x: Var,
        gamma: Var,
        beta: Var,
        running: &mut RunningStats,
        momentum: f32,
        eps: f32,
        act: Option<Activation>,
    ) -> Result<Var> {
        if let Some(a) = act.filter(|a| !a.fusable()) {
            let y = self.batch_norm_act(x, gamma, beta, running, momentum, eps, None)?;
            return a.apply(self, y);
        }
        let op = "batch_norm";
        let shape = self.shape(x)?.to_vec();
        let sg = self.shape(gamma)?.to_vec();
        let layout = match shape[..] {
            [batch, channels] => Layout {
                batch,
                channels,
                inner: 1,
            },
            [batch, channels, h, w] => Layout {
                batch,
                channels,
                inner: h * w,
            },
            _ => {
                return Err(shape_mismatch(
                    op,
                    &shape,
                    &sg,
                    "the input must be (B, C) or (B, C, H, W)",
                ))
            }
        };
        let c = layout.channels;
        for (what, s) in [
            ("gamma", &sg[..]),
            ("beta", self.shape(beta)?),
            ("the running mean", running.mean.shape()),
            ("the running variance", running.var.shape()),
        ] {
            if s != [c] {
                return Err(shape_mismatch(
                    op,
                    &shape,
                    s,
                    format!("{what} must have one value per channel ({c})"),
                ));
            }
        }
        if !(0.0..=1.0).contains(&momentum) {
            return Err(invalid(
                op,
                format!("momentum must lie in [0, 1], got {momentum}"),
            ));
        }
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(invalid(
                op,
                format!("eps must be positive and finite, got {eps}"),
            ));
        }
        let train = self.is_training();
        let n = layout.count();
        if train && n < 2 {
            return Err(invalid(
                op,
                format!(
                    "training needs more than one value per channel, got input shape {shape:?}"
                ),
            ));
        }
        let len = self.value(x).len();
        let mut mean = self.alloc(c);
        let mut inv_std = self.alloc(c);
        let mut out = self.alloc(len);
        {
            let input = self.value(x).data();
            if train {
                // Two passes per channel: the mean, then the biased variance about it.
                channel_halves(len, &mut mean, &mut inv_std, |first, mean, var| {
                    for (i, (m, v)) in mean.iter_mut().zip(var.iter_mut()).enumerate() {
                        let total = layout.channel_sum(input, first + i, f64::from);
                        let mu = total / n as f64;
                        let sq =
                            layout.channel_sum(input, first + i, |x| (f64::from(x) - mu).powi(2));
                        (*m, *v) = (mu as f32, (sq / n as f64) as f32);
                    }
                });
                let unbiased = n as f32 / (n - 1) as f32;
                let (rm, rv) = (running.mean.data_mut(), running.var.data_mut());
                for c in 0..c {
                    rm[c] = (1.0 - momentum) * rm[c] + momentum * mean[c];
                    rv[c] = (1.0 - momentum) * rv[c] + momentum * inv_std[c] * unbiased;
                    inv_std[c] = 1.0 / (inv_std[c] + eps).sqrt();
                }
                running.num_batches_tracked += 1;
            } else {
                mean.copy_from_slice(running.mean.data());
                for (s, &v) in inv_std.iter_mut().zip(running.var.data()) {
                    *s = 1.0 / (v + eps).sqrt();
                }
            }
            let (mean, inv_std) = (&mean[..], &inv_std[..]);
            let (g, b) = (self.value(gamma).data(), self.value(beta).data());
            // The activation runs on each channel's run while it is in cache, or on the whole
            // chunk when runs are too short to pay for a call each.
            let per_run = layout.inner >= 16;
            for_halves(&mut out, |offset, chunk| {
                layout.channel_runs(offset, chunk.len(), |c, s, e| {
                    let src = &input[offset + s..offset + e];
                    let run = &mut chunk[s..e];
                    for (y, &x) in run.iter_mut().zip(src) {
                        *y = g[c] * ((x - mean[c]) * inv_std[c]) + b[c];
                    }
                    if let (Some(act), true) = (act, per_run) {
                        act.apply_in_place(run);
                    }
                });
                if let (Some(act), false) = (act, per_run) {
                    act.apply_in_place(chunk);
                }
            });
        }
        let value = Tensor::from_parts(shape, out);
        let needs_grad = [x, gamma, beta].iter().any(|&v| self.requires_grad(v));
        let (mean, inv_std) = match needs_grad {
            true => (mean, inv_std),
            false => {
                self.pool.give(mean);
                self.pool.give(inv_std);
                (Vec::new(), Vec::new())
            }
        };
        Ok(
            self.push_op(op, value, &[x, gamma, beta], || BatchNormBackward {
                x,
                gamma,
                beta,
                layout,
                train,
                act,
                mean,
                inv_std,
            }),
        )
    }
}

/// With `x̂ = (x − μ)·s` (`s = 1/√(σ² + eps)`), `z = γ·x̂ + β` and `y = act(z)`, per channel over
/// its `n` values: `dz = dy·act'(z)` (from `y`), `dβ = Σ dz`, `dγ = Σ dz·x̂`, and in training mode
/// (μ, σ² depend on x) `dx = γ·s·(dz − Σdz/n − x̂·Σ(dz·x̂)/n)`; in evaluation mode `dx = γ·s·dz`.
/// `x̂` is recomputed from `x`, as the forward pass computed it.
struct BatchNormBackward {
    x: Var,
    gamma: Var,
    beta: Var,
    layout: Layout,
    train: bool,
    act: Option<Activation>,
    mean: Vec<f32>,
    inv_std: Vec<f32>,
}

impl Backward for BatchNormBackward {
    fn backward(
        &self,
        out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let layout = self.layout;
        let c = layout.channels;
        let (x, mean, inv_std) = (vals.get(self.x).data(), &self.mean[..], &self.inv_std[..]);
        let xhat = |c: usize, x: f32| (x - mean[c]) * inv_std[c];
        // dz: the gradient before the activation (dy itself without one).
        let dz_buf = self.act.map(|act| {
            let (y, dy) = (out.data(), gout.data());
            let mut dz = grads.scratch(dy.len());
            for_halves(&mut dz, |offset, chunk| {
                let n = chunk.len();
                act.backprop(&y[offset..][..n], &dy[offset..][..n], chunk);
            });
            dz
        });
        let dz = dz_buf.as_deref().unwrap_or(gout.data());
        let mut sum_dz = grads.scratch(c);
        let mut sum_dz_xhat = grads.scratch(c);
        channel_halves(dz.len(), &mut sum_dz, &mut sum_dz_xhat, |first, s1, s2| {
            for (i, (a, b)) in s1.iter_mut().zip(s2.iter_mut()).enumerate() {
                let ch = first + i;
                let t1 = layout.channel_sum(dz, ch, f64::from);
                let t2 =
                    layout.channel_sum2(dz, x, ch, |d, x| f64::from(d) * f64::from(xhat(ch, x)));
                (*a, *b) = (t1 as f32, t2 as f32);
            }
        });
        if let Some(gb) = grads.get(self.beta) {
            for (g, s) in gb.data_mut().iter_mut().zip(&sum_dz) {
                *g += s;
            }
        }
        if let Some(gg) = grads.get(self.gamma) {
            for (g, s) in gg.data_mut().iter_mut().zip(&sum_dz_xhat) {
                *g += s;
            }
        }
        if let Some(gx) = grads.get(self.x) {
            let gamma = vals.get(self.gamma).data();
            let (s1, s2) = (&sum_dz[..], &sum_dz_xhat[..]);
            let inv_n = 1.0 / layout.count() as f32;
            let train = self.train;
            for_halves(gx.data_mut(), |offset, chunk| {
                layout.channel_runs(offset, chunk.len(), |c, s, e| {
                    let k = gamma[c] * inv_std[c];
                    let (d, xs) = (&dz[offset + s..offset + e], &x[offset + s..offset + e]);
                    let parts = chunk[s..e].iter_mut().zip(d).zip(xs);
                    if train {
                        let (m1, m2) = (s1[c] * inv_n, s2[c] * inv_n);
                        for ((g, &d), &x) in parts {
                            *g += k * (d - m1 - xhat(c, x) * m2);
                        }
                    } else {
                        for ((g, &d), _) in parts {
                            *g += k * d;
                        }
                    }
                });
            });
        }
        grads.give(sum_dz);
        grads.give(sum_dz_xhat);
        if let Some(buf) = dz_buf {
            grads.give(buf);
        }
        Ok(())
    }

    fn recycle(self: Box<Self>, pool: &mut BufferPool) {
        pool.give(self.mean);
        pool.give(self.inv_std);
    }
}
