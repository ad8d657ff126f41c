//! How a convolution's batch is cut: into two fixed halves computed at once on the two threads,
//! and each half into groups of samples whose columns make one product.
//!
//! The cuts depend only on the shapes, never on the number of threads, so results are
//! bit-identical with 1 or 2 threads. In backward, the first half adds its weight gradient into
//! the gradient store and the second into a scratch buffer added afterwards (a fixed order).

use crate::graph::{GradSink, Var};

/// Batches doing fewer multiply-adds than this stay on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 19;

/// A group's column matrix holds at most this many values (1 MiB: it stays in the L2 cache
/// between being written and being packed).
const GROUP_VALUES: usize = 1 << 18;

/// Where to cut a batch into two halves computed at once, or `None` to stay on one thread.
/// Depends only on the shapes.
pub(super) fn batch_split(batch: usize, work_per_sample: usize) -> Option<usize> {
    (batch >= 2 && batch.saturating_mul(work_per_sample) >= PARALLEL_MIN_WORK).then_some(batch / 2)
}

/// Samples per grouped product for a column matrix of `rows × positions` per sample, among
/// `samples`: as many as fit in [`GROUP_VALUES`], at least one.
pub(super) fn group_size(rows: usize, positions: usize, samples: usize) -> usize {
    (GROUP_VALUES / (rows * positions).max(1)).clamp(1, samples.max(1))
}

/// The samples of one half, `start..start + len` of the half, in groups of `size`.
pub(super) fn groups(samples: usize, size: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..samples)
        .step_by(size.max(1))
        .map(move |s| (s, size.min(samples - s)))
}

/// Three scratch buffers per half (their roles are the op's: columns, their gradient, a
/// channel-major matrix), each long enough for the half's largest group.
pub(super) type Buffers = [Vec<f32>; 3];

/// Runs `f(x_n.., y_n.., buffers, par)` over the whole batch, or over its two halves at once.
/// `x: (B, x_len)`, `y: (B, y_len)`.
pub(super) fn forward_in_halves<F>(
    split: Option<usize>,
    (x, x_len): (&[f32], usize),
    (y, y_len): (&mut [f32], usize),
    bufs: &mut [Buffers; 2],
    f: &F,
) where
    F: Fn(&[f32], &mut [f32], &mut Buffers, bool) + Sync,
{
    let [b0, b1] = bufs;
    match split {
        None => f(x, y, b0, true),
        Some(mid) => {
            let (x0, x1) = x.split_at(mid * x_len);
            let (y0, y1) = y.split_at_mut(mid * y_len);
            crate::ops::parallel::join(|| f(x0, y0, b0, false), || f(x1, y1, b1, false));
        }
    }
}

/// One half of a batch in backward: its inputs, output gradients, where its gradients go, and
/// its scratch buffers.
pub(super) struct Half<'a> {
    /// The half's inputs, `(n, x_len)`.
    pub x: &'a [f32],
    /// The half's output gradients, `(n, y_len)`.
    pub dy: &'a [f32],
    /// Its input gradients, if wanted.
    pub gx: Option<&'a mut [f32]>,
    /// Where its weight gradient is added, if wanted.
    pub gw: Option<&'a mut [f32]>,
    /// Where its bias gradient is added, if wanted (a zeroed scratch buffer per half).
    pub db: Option<&'a mut [f32]>,
    /// Its three scratch buffers.
    pub bufs: &'a mut Buffers,
}

/// Scratch buffers of a backward pass: three and a bias gradient per half, and the second half's
/// weight gradient.
pub(super) struct Scratch {
    bufs: [Buffers; 2],
    db: [Vec<f32>; 2],
    dw_hi: Vec<f32>,
}

impl Scratch {
    /// Takes the buffers a backward pass needs from the pool (none of length 0): `bufs` gives the
    /// three buffers' lengths, `db` and `dw` those of the bias and weight gradients.
    pub fn take(
        grads: &mut GradSink<'_>,
        split: bool,
        bufs: [usize; 3],
        db: usize,
        dw: usize,
    ) -> Scratch {
        let mut take = |len: usize, needed: bool| {
            if needed && len > 0 {
                grads.scratch(len)
            } else {
                Vec::new()
            }
        };
        let mut half = |needed: bool| bufs.map(|len| take(len, needed));
        let bufs = [half(true), half(split)];
        let mut s = Scratch {
            bufs,
            db: [take(db, true), take(db, split)],
            dw_hi: take(dw, split),
        };
        s.dw_hi.fill(0.0);
        s.db.iter_mut().for_each(|d| d.fill(0.0));
        s
    }

    /// Returns every buffer to the pool.
    pub fn give(self, grads: &mut GradSink<'_>) {
        let [b0, b1] = self.bufs;
        let all = b0.into_iter().chain(b1).chain(self.db).chain([self.dw_hi]);
        for buf in all {
            if buf.capacity() > 0 {
                grads.give(buf);
            }
        }
    }

    /// Adds the per-half bias gradients into the bias's gradient, first half first.
    pub fn add_bias_grads(&self, bias: Option<Var>, grads: &mut GradSink<'_>) {
        if let Some(gb) = bias.and_then(|b| grads.get(b)) {
            for half in &self.db {
                for (g, d) in gb.data_mut().iter_mut().zip(half) {
                    *g += d;
                }
            }
        }
    }
}

/// Runs `f(half, par)` over the whole batch, or over its two halves at once; the second half's
/// weight gradient goes to a scratch buffer added into `gw` after both are done (a fixed order).
/// Bias gradients go to one scratch buffer per half, added by [`Scratch::add_bias_grads`].
pub(super) fn backward_in_halves<F>(
    split: Option<usize>,
    (x, x_len): (&[f32], usize),
    (dy, y_len): (&[f32], usize),
    gx: Option<&mut [f32]>,
    mut gw: Option<&mut [f32]>,
    s: &mut Scratch,
    f: &F,
) where
    F: Fn(Half<'_>, bool) + Sync,
{
    let [bufs0, bufs1] = &mut s.bufs;
    let [db0, db1] = &mut s.db;
    let Some(mid) = split else {
        let whole = Half {
            x,
            dy,
            gx,
            gw,
            db: bias(db0),
            bufs: bufs0,
        };
        return f(whole, true);
    };
    let (x0, x1) = x.split_at(mid * x_len);
    let (dy0, dy1) = dy.split_at(mid * y_len);
    let (gx0, gx1) = match gx {
        Some(g) => {
            let (a, b) = g.split_at_mut(mid * x_len);
            (Some(a), Some(b))
        }
        None => (None, None),
    };
    let wants_w = gw.is_some();
    let lo = Half {
        x: x0,
        dy: dy0,
        gx: gx0,
        gw: gw.as_deref_mut(),
        db: bias(db0),
        bufs: bufs0,
    };
    let hi = Half {
        x: x1,
        dy: dy1,
        gx: gx1,
        gw: wants_w.then_some(&mut s.dw_hi[..]),
        db: bias(db1),
        bufs: bufs1,
    };
    crate::ops::parallel::join(|| f(lo, false), || f(hi, false));
    if let Some(gw) = gw {
        for (acc, d) in gw.iter_mut().zip(&s.dw_hi) {
            *acc += d;
        }
    }
}

/// A bias-gradient scratch buffer, or `None` when the bias needs no gradient (empty buffer).
fn bias(b: &mut [f32]) -> Option<&mut [f32]> {
    (!b.is_empty()).then_some(b)
}
