//! Per-channel bias of convolutions: filling output planes with it, and summing its gradient
//! in a fixed order (so results are the same bits on every run).

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
        *g += lane_sum(plane);
    }
}

/// The sum of `v` in eight interleaved partial sums (vectorisable; a fixed order, so the same
/// bits on every run).
pub(super) fn lane_sum(v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for chunk in &mut chunks {
        for (l, x) in lanes.iter_mut().zip(chunk) {
            *l += x;
        }
    }
    let tail: f32 = chunks.remainder().iter().sum();
    lanes.iter().sum::<f32>() + tail
}
