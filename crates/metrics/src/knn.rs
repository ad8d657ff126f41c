//! Tiled squared Euclidean distances: k-nearest-neighbour radii and the real × fake sweep.
//!
//! Squared distances are ‖a‖² + ‖b‖² − 2·a·b, with the dot products of a `TILE × TILE` block of
//! pairs computed by one `sgemm` (nalgebra → matrixmultiply) into a reused buffer: a full
//! `n × m` distance matrix is never stored. A pair's distance is computed the same way (same
//! norms, same dot product of the same two rows) wherever it appears, so a distance compared
//! against a radius made from the same pair compares equal.

use nalgebra::{DMatrixView, DMatrixViewMut};

use super::{Features, MetricsError};

/// Rows per side of a distance tile: 256 × 256 dot products (256 KiB of `f32`) per `sgemm`.
pub(crate) const TILE: usize = 256;

/// Largest squared norm accepted: any squared distance between two such rows stays below
/// `f32::MAX` (‖a − b‖² ≤ 2‖a‖² + 2‖b‖²).
const MAX_NORM_SQ: f64 = f32::MAX as f64 / 4.0;

/// Squared Euclidean norm of every row (accumulated in `f64`, stored as `f32`).
///
/// Errors if a norm is so large that distances would overflow `f32`.
pub(crate) fn squared_norms(x: &Features, set: &'static str) -> Result<Vec<f32>, MetricsError> {
    x.rows()
        .enumerate()
        .map(|(row, r)| {
            let norm_sq: f64 = r.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            if norm_sq > MAX_NORM_SQ {
                return Err(MetricsError::TooLarge {
                    set,
                    row,
                    norm_sq,
                    limit: MAX_NORM_SQ,
                });
            }
            Ok(norm_sq as f32)
        })
        .collect()
}

/// Squared distance from norms and dot product, clamped at 0 (rounding can go below).
#[inline(always)]
pub(crate) fn sq_dist(norm_a: f32, norm_b: f32, dot: f32) -> f32 {
    ((norm_a + norm_b) - 2.0 * dot).max(0.0)
}

/// Copies the rows `a` (`ri × dim`, row-major) into `packed` in column-major order, the layout
/// [`dot_tile`] takes for its left operand.
///
/// (nalgebra's fallback for matrices with a side of 5 or less mishandles views whose row stride
/// is not 1, so every operand handed to `gemm` here is a plain contiguous column-major view.)
pub(crate) fn pack_columns(a: &[f32], dim: usize, packed: &mut Vec<f32>) {
    let ri = a.len() / dim;
    packed.clear();
    packed.resize(ri * dim, 0.0);
    for (i, row) in a.chunks_exact(dim).enumerate() {
        for (d, &v) in row.iter().enumerate() {
            packed[d * ri + i] = v;
        }
    }
}

/// Dot products of `ri` rows (given by [`pack_columns`]) with the rows of `b` (`rj × dim`,
/// row-major): `out[i + j·ri] = a_i · b_j`, column-major `ri × rj`. `out` must hold `ri·rj`
/// values.
pub(crate) fn dot_tile(a_packed: &[f32], b: &[f32], dim: usize, out: &mut [f32]) {
    let (ri, rj) = (a_packed.len() / dim, b.len() / dim);
    let av = DMatrixView::from_slice(a_packed, ri, dim); // ri × dim
    let bv = DMatrixView::from_slice(b, dim, rj); // dim × rj, i.e. bᵀ
    let mut cv = DMatrixViewMut::from_slice(&mut out[..ri * rj], ri, rj);
    cv.gemm(1.0, &av, &bv, 0.0);
}

/// Inserts `d` into `best` (sorted ascending, fixed length) if it beats the largest entry.
#[inline(always)]
fn push_smallest(best: &mut [f32], d: f32) {
    let k = best.len();
    if d < best[k - 1] {
        let mut p = k - 1;
        while p > 0 && best[p - 1] > d {
            best[p] = best[p - 1];
            p -= 1;
        }
        best[p] = d;
    }
}

/// For every row of `x`, its `k` smallest squared distances to the *other* rows, ascending:
/// row `i` owns `out[i·k .. (i+1)·k]`, so its k-th nearest neighbour is at `out[i·k + k − 1]`
/// and, for `k' ≤ k`, the k'-th at `out[i·k + k' − 1]`.
///
/// The self-pair is excluded by index (a duplicate row is a neighbour at distance 0). Only
/// tiles on and above the diagonal are computed; each off-diagonal distance updates both rows.
/// Needs `1 <= k < n` (checked by the caller); `norms` from [`squared_norms`].
pub(crate) fn knn_sq_radii(x: &Features, norms: &[f32], k: usize) -> Vec<f32> {
    let (n, dim) = (x.n(), x.dim());
    debug_assert!(k >= 1 && k < n && norms.len() == n);
    let mut best = vec![f32::INFINITY; n * k];
    let mut tile = vec![0.0f32; TILE * TILE];
    let mut a = Vec::new();
    let data = x.data();
    for i0 in (0..n).step_by(TILE) {
        let ri = TILE.min(n - i0);
        pack_columns(&data[i0 * dim..(i0 + ri) * dim], dim, &mut a);
        let norms_i = &norms[i0..i0 + ri];
        for j0 in (i0..n).step_by(TILE) {
            let rj = TILE.min(n - j0);
            dot_tile(&a, &data[j0 * dim..(j0 + rj) * dim], dim, &mut tile);
            if j0 == i0 {
                // Diagonal tile: it holds both (i, j) and (j, i); update row i only.
                let best_i = &mut best[i0 * k..(i0 + ri) * k];
                for jj in 0..rj {
                    let col = &tile[jj * ri..(jj + 1) * ri];
                    let nj = norms[j0 + jj];
                    for (ii, (&dot, &ni)) in col.iter().zip(norms_i).enumerate() {
                        if ii != jj {
                            push_smallest(&mut best_i[ii * k..(ii + 1) * k], sq_dist(ni, nj, dot));
                        }
                    }
                }
            } else {
                // Rows of tile i end before j0: split to update rows i and j together.
                let (head, tail) = best.split_at_mut(j0 * k);
                let best_i = &mut head[i0 * k..(i0 + ri) * k];
                for jj in 0..rj {
                    let col = &tile[jj * ri..(jj + 1) * ri];
                    let nj = norms[j0 + jj];
                    let best_j = &mut tail[jj * k..(jj + 1) * k];
                    for (ii, (&dot, &ni)) in col.iter().zip(norms_i).enumerate() {
                        let d = sq_dist(ni, nj, dot);
                        push_smallest(&mut best_i[ii * k..(ii + 1) * k], d);
                        push_smallest(best_j, d);
                    }
                }
            }
        }
    }
    best
}

/// What one sweep over all real × fake distances collects.
pub(crate) struct CrossCounts {
    /// Fake j lies inside some real ball (precision).
    pub(crate) fake_in_real: Vec<bool>,
    /// Real i lies inside some fake ball (recall).
    pub(crate) real_in_fake: Vec<bool>,
    /// Σ_j #{i : fake_j inside the density ball of real i}.
    pub(crate) density_hits: u64,
    /// Squared distance from real i to its nearest fake sample (coverage).
    pub(crate) nearest_fake: Vec<f32>,
}

/// One pass over all real × fake squared distances, tile by tile (real rows × fake rows), for
/// precision, recall, density and coverage. Per real row: its squared radii `radius_pr` and
/// `radius_dc`; per fake row: its squared radius `fake_radius`. Norms from [`squared_norms`].
pub(crate) fn cross_pass(
    real: &Features,
    real_norms: &[f32],
    radius_pr: &[f32],
    radius_dc: &[f32],
    fake: &Features,
    fake_norms: &[f32],
    fake_radius: &[f32],
) -> CrossCounts {
    let (n, m, dim) = (real.n(), fake.n(), real.dim());
    let mut out = CrossCounts {
        fake_in_real: vec![false; m],
        real_in_fake: vec![false; n],
        density_hits: 0,
        nearest_fake: vec![f32::INFINITY; n],
    };
    let mut tile = vec![0.0f32; TILE * TILE];
    let mut a = Vec::new();
    for i0 in (0..n).step_by(TILE) {
        let ri = TILE.min(n - i0);
        pack_columns(&real.data()[i0 * dim..(i0 + ri) * dim], dim, &mut a);
        let span = i0..i0 + ri;
        let (norms_i, rad_pr, rad_dc) = (
            &real_norms[span.clone()],
            &radius_pr[span.clone()],
            &radius_dc[span.clone()],
        );
        let real_hit = &mut out.real_in_fake[span.clone()];
        let nearest = &mut out.nearest_fake[span];
        for j0 in (0..m).step_by(TILE) {
            let rj = TILE.min(m - j0);
            dot_tile(&a, &fake.data()[j0 * dim..(j0 + rj) * dim], dim, &mut tile);
            for jj in 0..rj {
                let (nj, rad_j) = (fake_norms[j0 + jj], fake_radius[j0 + jj]);
                let col = &tile[jj * ri..(jj + 1) * ri];
                let mut inside_real = false;
                let mut hits = 0u32;
                for (ii, (&dot, &ni)) in col.iter().zip(norms_i).enumerate() {
                    let d = sq_dist(ni, nj, dot);
                    inside_real |= d <= rad_pr[ii];
                    hits += u32::from(d <= rad_dc[ii]);
                    real_hit[ii] |= d <= rad_j;
                    nearest[ii] = nearest[ii].min(d);
                }
                out.fake_in_real[j0 + jj] |= inside_real;
                out.density_hits += u64::from(hits);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gaussian_features, Rng};
    use super::*;

    fn naive_sq(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
            .sum()
    }

    #[test]
    fn dot_tile_matches_naive() {
        let x = gaussian_features(&mut Rng::new(7), 13, 9, 0.0, 1.0);
        let (a, b) = (&x.data()[..7 * 9], &x.data()[7 * 9..]);
        let mut packed = Vec::new();
        pack_columns(a, 9, &mut packed);
        let mut out = vec![0.0; 7 * 6];
        dot_tile(&packed, b, 9, &mut out);
        for i in 0..7 {
            for j in 0..6 {
                let want: f32 = (0..9).map(|d| a[i * 9 + d] * b[j * 9 + d]).sum();
                assert!((out[i + j * 7] - want).abs() < 1e-4);
            }
        }
    }

    /// Several tiles (n > 2·TILE, with a ragged last one; and a last tile of 3 rows, which
    /// takes nalgebra's small-matrix path) against a brute-force sort.
    #[test]
    fn knn_radii_match_brute_force() {
        for (n, dim, k) in [(2 * TILE + 37, 6, 4), (TILE + 3, 3, 2)] {
            let x = gaussian_features(&mut Rng::new(8), n, dim, 1.0, 1.0);
            let norms = squared_norms(&x, "test").unwrap();
            let best = knn_sq_radii(&x, &norms, k);
            for i in (0..n).step_by(7).chain(n - 3..n) {
                let ri = x.row(i).unwrap();
                let mut d: Vec<f64> = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| naive_sq(ri, x.row(j).unwrap()))
                    .collect();
                d.sort_by(f64::total_cmp);
                for m in 0..k {
                    let got = f64::from(best[i * k + m]);
                    assert!(
                        (got - d[m]).abs() < 1e-4 * d[m].max(1.0),
                        "n {n}, row {i}, {m}"
                    );
                }
            }
        }
    }

    #[test]
    fn duplicates_are_neighbours_at_zero() {
        let x = Features::new(3, 2, vec![1.0, 1.0, 1.0, 1.0, 4.0, 5.0]).unwrap();
        let norms = squared_norms(&x, "test").unwrap();
        let best = knn_sq_radii(&x, &norms, 1);
        assert_eq!(best, vec![0.0, 0.0, 25.0]);
    }

    #[test]
    fn huge_norms_are_rejected() {
        let x = Features::new(1, 2, vec![3e19, 0.0]).unwrap();
        assert!(matches!(
            squared_norms(&x, "real features"),
            Err(MetricsError::TooLarge { row: 0, .. })
        ));
    }
}
