//! Per-channel bias of convolutions: filling output planes with it, and summing its gradient
//! in a fixed order (so results are the same bits on every run).

use crate::ops::lanes;

/// Fills each `positions`-long channel plane of `y: (Cout, Ho·Wo)` with its bias; returns the
/// β with which a product should then add into `y` (1 with a bias, 0 without).
pub(super) fn fill_bias(y: &mut [f32], bias: Option<&[f32]>, positions: usize) -> f32 {
    match bias {
        Some(b) => {
            for (plane, &v) in y.chunks_exact_mut(positions).zip(b) {
                plane.fill(v);
            }
            1.0
        }
        None => 0.0,
    }
}

/// `db[c] += Σ_p dy[c, p]` for one sample's `dy: (C, P)`.
pub(super) fn bias_grad(db: &mut [f32], dy: &[f32], positions: usize) {
    for (g, plane) in db.iter_mut().zip(dy.chunks_exact(positions)) {
        *g += lanes::sum_f32(plane);
    }
}
