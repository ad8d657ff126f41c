//! Fréchet distance between two feature sets (FID on classifier features).
//!
//! FID = |μ₁ − μ₂|² + Tr(Σ₁) + Tr(Σ₂) − 2·Tr((Σ₁^½ Σ₂ Σ₁^½)^½), with means and covariances
//! (divided by n − 1) accumulated in `f64` and the matrix square roots taken through nalgebra's
//! symmetric eigendecomposition, negative eigenvalues (rounding) clamped to 0.

use nalgebra::{DMatrix, DMatrixView, SymmetricEigen};
use serde::{Deserialize, Serialize};

use super::{Features, MetricsError};

/// Rows converted to `f64` and multiplied per block when accumulating XᵀX.
const BLOCK_ROWS: usize = 256;
/// Iteration cap of the eigendecomposition (it converges in a few hundred for 128 × 128).
const MAX_EIGEN_ITERATIONS: usize = 1_000_000;

/// Mean and covariance of a feature set: what FID needs, computed once and reusable.
///
/// Compute the statistics of the 10,000 test digits once with [`FeatureStats::from_features`],
/// keep them (they serialise with serde), and compare every generated set against them with
/// [`fid_from_stats`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    n: usize,
    mean: Vec<f64>,
    /// Row-major `dim × dim`, divided by `n − 1`.
    cov: Vec<f64>,
}

impl FeatureStats {
    /// Mean and covariance (divided by `n − 1`) of the rows of `x`.
    ///
    /// Two passes in `f64`: the mean, then Σ (x − μ)(x − μ)ᵀ accumulated as XᵀX over blocks of
    /// 256 centred rows (a `dgemm` each). Errors with fewer than 2 rows or a non-finite value.
    pub fn from_features(x: &Features) -> Result<Self, MetricsError> {
        x.check_count("a covariance", "feature", 2)?;
        x.check_finite("features")?;
        let dim = x.dim();
        let mean = x.column_means();

        let mut cov = DMatrix::<f64>::zeros(dim, dim);
        // The centred rows of a block twice, both as contiguous column-major matrices (nalgebra
        // mishandles row-strided views when a side is 5 or less): `xt` is the block transposed
        // (dim × rows: the rows one after another), `xb` the block itself (rows × dim).
        let mut xt = vec![0.0f64; BLOCK_ROWS * dim];
        let mut xb = vec![0.0f64; BLOCK_ROWS * dim];
        for chunk in x.data().chunks(BLOCK_ROWS * dim) {
            let rows = chunk.len() / dim;
            for (r, (dst, src)) in xt
                .chunks_exact_mut(dim)
                .zip(chunk.chunks_exact(dim))
                .enumerate()
            {
                for (c, ((d, &s), m)) in dst.iter_mut().zip(src).zip(&mean).enumerate() {
                    *d = f64::from(s) - m;
                    xb[c * rows + r] = *d;
                }
            }
            let xt_view = DMatrixView::from_slice(&xt[..rows * dim], dim, rows);
            let xb_view = DMatrixView::from_slice(&xb[..rows * dim], rows, dim);
            cov.gemm(1.0, &xt_view, &xb_view, 1.0);
        }
        let scale = 1.0 / (x.n() - 1) as f64;
        let cov = DMatrix::from_fn(dim, dim, |i, j| 0.5 * (cov[(i, j)] + cov[(j, i)]) * scale);
        Ok(Self {
            n: x.n(),
            mean,
            // nalgebra is column-major; the matrix is symmetric, so this is also row-major.
            cov: cov.as_slice().to_vec(),
        })
    }

    /// Statistics from a known mean and row-major `dim × dim` covariance (e.g. loaded from a
    /// file). Checks that the lengths fit, the values are finite and `n >= 2`.
    pub fn from_parts(n: usize, mean: Vec<f64>, cov: Vec<f64>) -> Result<Self, MetricsError> {
        let stats = Self { n, mean, cov };
        stats.validate()?;
        Ok(stats)
    }

    /// Number of samples the statistics were computed from.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of features.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The mean, one value per feature.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The covariance, row-major `dim × dim`, divided by `n − 1`.
    pub fn cov(&self) -> &[f64] {
        &self.cov
    }

    fn validate(&self) -> Result<(), MetricsError> {
        let bad = |reason| MetricsError::BadStats {
            reason,
            mean_len: self.mean.len(),
            cov_len: self.cov.len(),
            n: self.n,
        };
        if self.mean.is_empty() {
            return Err(bad("the mean is empty"));
        }
        if self.mean.len().checked_mul(self.mean.len()) != Some(self.cov.len()) {
            return Err(bad("the covariance is not dim x dim"));
        }
        if self.n < 2 {
            return Err(bad("a covariance needs at least 2 samples"));
        }
        if !self.mean.iter().chain(&self.cov).all(|v| v.is_finite()) {
            return Err(bad("a value is NaN or infinite"));
        }
        Ok(())
    }

    fn cov_matrix(&self) -> DMatrix<f64> {
        let d = self.dim();
        // Symmetrise: loaded statistics may be slightly asymmetric.
        DMatrix::from_fn(d, d, |i, j| {
            0.5 * (self.cov[i * d + j] + self.cov[j * d + i])
        })
    }
}

/// Fréchet distance between the feature sets `a` and `b` (each needs at least 2 rows, the same
/// number of columns, finite values). Symmetric in `a` and `b`; 0 for identical sets up to
/// rounding; never negative (rounding below 0 is clamped).
///
/// ```
/// use metrics::{fid, Features};
/// # fn main() -> Result<(), metrics::MetricsError> {
/// let a = Features::new(4, 1, vec![0.0, 1.0, 2.0, 3.0])?;
/// assert!(fid(&a, &a)?.abs() < 1e-9);
/// # Ok(())
/// # }
/// ```
pub fn fid(a: &Features, b: &Features) -> Result<f64, MetricsError> {
    if a.dim() != b.dim() {
        return Err(MetricsError::DimensionMismatch {
            left: "first features",
            left_dim: a.dim(),
            right: "second features",
            right_dim: b.dim(),
        });
    }
    fid_from_stats(
        &FeatureStats::from_features(a)?,
        &FeatureStats::from_features(b)?,
    )
}

/// Fréchet distance between two sets of precomputed statistics (see [`FeatureStats`]).
pub fn fid_from_stats(a: &FeatureStats, b: &FeatureStats) -> Result<f64, MetricsError> {
    a.validate()?;
    b.validate()?;
    if a.dim() != b.dim() {
        return Err(MetricsError::DimensionMismatch {
            left: "first statistics",
            left_dim: a.dim(),
            right: "second statistics",
            right_dim: b.dim(),
        });
    }
    let mean_term: f64 = a
        .mean
        .iter()
        .zip(&b.mean)
        .map(|(x, y)| (x - y).powi(2))
        .sum();
    let (s1, s2) = (a.cov_matrix(), b.cov_matrix());
    let cross = trace_sqrt_product(&s1, &s2)?;
    Ok((mean_term + s1.trace() + s2.trace() - 2.0 * cross).max(0.0))
}

/// Tr((Σ₁^½ Σ₂ Σ₁^½)^½) for symmetric positive semi-definite Σ₁, Σ₂.
fn trace_sqrt_product(s1: &DMatrix<f64>, s2: &DMatrix<f64>) -> Result<f64, MetricsError> {
    let root1 = psd_sqrt(s1)?;
    let m = &root1 * s2 * &root1;
    let m = (&m + m.transpose()) * 0.5;
    let eig = symmetric_eigen(m)?;
    Ok(eig.eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).sum())
}

/// Symmetric square root V·diag(√max(λ, 0))·Vᵀ of a symmetric positive semi-definite matrix.
fn psd_sqrt(s: &DMatrix<f64>) -> Result<DMatrix<f64>, MetricsError> {
    let eig = symmetric_eigen(s.clone())?;
    let v = &eig.eigenvectors;
    let mut scaled = v.clone();
    for (mut col, &l) in scaled.column_iter_mut().zip(eig.eigenvalues.iter()) {
        col *= l.max(0.0).sqrt();
    }
    Ok(scaled * v.transpose())
}

fn symmetric_eigen(m: DMatrix<f64>) -> Result<SymmetricEigen<f64, nalgebra::Dyn>, MetricsError> {
    let dim = m.nrows();
    SymmetricEigen::try_new(m, f64::EPSILON, MAX_EIGEN_ITERATIONS)
        .ok_or(MetricsError::NoConvergence { dim })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gaussian_features, Rng};
    use super::*;

    /// Several blocks of rows; also a last block of 1 row and 5 columns (nalgebra's
    /// small-matrix path).
    #[test]
    fn covariance_matches_naive_two_pass() {
        for (n, d) in [(700, 6), (2 * BLOCK_ROWS + 1, 5)] {
            let x = gaussian_features(&mut Rng::new(1), n, d, 3.0, 2.0);
            let stats = FeatureStats::from_features(&x).unwrap();
            let mean: Vec<f64> = (0..d)
                .map(|c| x.rows().map(|r| f64::from(r[c])).sum::<f64>() / n as f64)
                .collect();
            for i in 0..d {
                assert!((stats.mean()[i] - mean[i]).abs() < 1e-12);
                for j in 0..d {
                    let naive: f64 = x
                        .rows()
                        .map(|r| (f64::from(r[i]) - mean[i]) * (f64::from(r[j]) - mean[j]))
                        .sum::<f64>()
                        / (n - 1) as f64;
                    let got = stats.cov()[i * d + j];
                    assert!(
                        (got - naive).abs() < 1e-10,
                        "n {n}: ({i},{j}) {got} vs {naive}"
                    );
                }
            }
        }
    }

    #[test]
    fn fid_of_a_set_with_itself_is_zero() {
        let x = gaussian_features(&mut Rng::new(2), 500, 8, 0.5, 1.5);
        let f = fid(&x, &x).unwrap();
        assert!(f.abs() < 1e-3, "fid = {f}");
    }

    /// Diagonal covariances: FID = |Δμ|² + Σ (σ₁ − σ₂)², worked by hand.
    #[test]
    fn fid_matches_worked_diagonal_example() {
        // Four points μ ± (a, 0), μ ± (0, b): mean μ, covariance diag(2a²/3, 2b²/3), off-diagonal
        // 0. Set a = √(3/2)·σx and b = √(3/2)·σy to get standard deviations σx, σy.
        let set = |mx: f32, my: f32, sx: f32, sy: f32| {
            let (a, b) = (1.5f32.sqrt() * sx, 1.5f32.sqrt() * sy);
            let pts = [mx + a, my, mx - a, my, mx, my + b, mx, my - b];
            Features::new(4, 2, pts.to_vec()).unwrap()
        };
        let x = set(0.0, 0.0, 1.0, 2.0);
        let y = set(3.0, -1.0, 2.0, 0.5);
        // |Δμ|² = 9 + 1 = 10; (1 − 2)² + (2 − 0.5)² = 1 + 2.25 = 3.25; FID = 13.25.
        let f = fid(&x, &y).unwrap();
        assert!((f - 13.25).abs() < 1e-5, "fid = {f}");
    }

    /// Full 2 × 2 covariances: for 2 × 2 matrices Tr((Σ₁^½ Σ₂ Σ₁^½)^½) has the closed form
    /// √(Tr(Σ₁Σ₂) + 2√(det Σ₁ · det Σ₂)), computed here without any eigendecomposition.
    #[test]
    fn fid_matches_closed_form_for_2x2() {
        let mut rng = Rng::new(3);
        let mut correlated = |n: usize, shift: f32, mix: f32| {
            let mut data = Vec::with_capacity(2 * n);
            for _ in 0..n {
                let (u, v) = (rng.normal() as f32, rng.normal() as f32);
                data.extend_from_slice(&[u + shift, mix * u + 0.5 * v - shift]);
            }
            Features::new(n, 2, data).unwrap()
        };
        let x = correlated(300, 0.0, 0.8);
        let y = correlated(200, 1.0, -1.5);

        let stats = |f: &Features| {
            let n = f.n() as f64;
            let m: Vec<f64> = (0..2)
                .map(|c| f.rows().map(|r| f64::from(r[c])).sum::<f64>() / n)
                .collect();
            let c = |i: usize, j: usize| {
                f.rows()
                    .map(|r| (f64::from(r[i]) - m[i]) * (f64::from(r[j]) - m[j]))
                    .sum::<f64>()
                    / (n - 1.0)
            };
            let cov = [c(0, 0), c(0, 1), c(1, 1)];
            (m, cov)
        };
        let ((m1, [a1, b1, d1]), (m2, [a2, b2, d2])) = (stats(&x), stats(&y));
        let mean_term = (m1[0] - m2[0]).powi(2) + (m1[1] - m2[1]).powi(2);
        let tr_prod = a1 * a2 + 2.0 * b1 * b2 + d1 * d2;
        let det_prod = (a1 * d1 - b1 * b1) * (a2 * d2 - b2 * b2);
        let cross = (tr_prod + 2.0 * det_prod.sqrt()).sqrt();
        let expected = mean_term + a1 + d1 + a2 + d2 - 2.0 * cross;

        let f = fid(&x, &y).unwrap();
        assert!(
            (f - expected).abs() < 1e-9 * expected.max(1.0),
            "{f} vs {expected}"
        );
    }

    #[test]
    fn fid_is_symmetric_and_positive() {
        let mut rng = Rng::new(4);
        let x = gaussian_features(&mut rng, 400, 16, 0.0, 1.0);
        let y = gaussian_features(&mut rng, 300, 16, 0.3, 2.0);
        let (xy, yx) = (fid(&x, &y).unwrap(), fid(&y, &x).unwrap());
        assert!(xy > 1.0, "fid = {xy}");
        assert!((xy - yx).abs() < 1e-8 * xy, "{xy} vs {yx}");
    }

    #[test]
    fn fid_from_stats_equals_fid_and_stats_round_trip() {
        let mut rng = Rng::new(5);
        let x = gaussian_features(&mut rng, 100, 6, 0.0, 1.0);
        let y = gaussian_features(&mut rng, 120, 6, 1.0, 1.0);
        let (sx, sy) = (
            FeatureStats::from_features(&x).unwrap(),
            FeatureStats::from_features(&y).unwrap(),
        );
        assert_eq!(fid_from_stats(&sx, &sy).unwrap(), fid(&x, &y).unwrap());
        let json = serde_json::to_string(&sx).unwrap();
        let back: FeatureStats = serde_json::from_str(&json).unwrap();
        // serde_json without its `float_roundtrip` feature may change the last bit of a float.
        let (via_json, direct) = (fid_from_stats(&back, &sy).unwrap(), fid(&x, &y).unwrap());
        assert!(
            (via_json - direct).abs() < 1e-12 * direct,
            "{via_json} vs {direct}"
        );
        let parts =
            FeatureStats::from_parts(sx.n(), sx.mean().to_vec(), sx.cov().to_vec()).unwrap();
        assert_eq!(parts, sx);
    }

    #[test]
    fn errors_instead_of_panics() {
        let one = Features::new(1, 3, vec![0.0; 3]).unwrap();
        let two = Features::new(2, 3, vec![0.0; 6]).unwrap();
        let other_dim = Features::new(2, 4, vec![0.0; 8]).unwrap();
        let nan = Features::new(2, 3, vec![0.0, 0.0, 0.0, f32::NAN, 0.0, 0.0]).unwrap();
        assert!(matches!(
            fid(&one, &two),
            Err(MetricsError::TooFewSamples {
                needed: 2,
                found: 1,
                ..
            })
        ));
        assert!(matches!(
            fid(&two, &other_dim),
            Err(MetricsError::DimensionMismatch { .. })
        ));
        assert!(matches!(
            fid(&two, &nan),
            Err(MetricsError::NonFinite { row: 1, col: 0, .. })
        ));
        assert!(matches!(
            FeatureStats::from_parts(10, vec![0.0; 3], vec![0.0; 8]),
            Err(MetricsError::BadStats { .. })
        ));
        assert!(matches!(
            FeatureStats::from_parts(10, vec![0.0; 2], vec![0.0, f64::NAN, 0.0, 0.0]),
            Err(MetricsError::BadStats { .. })
        ));
        // Constant features: zero covariance, FID is the squared mean distance.
        assert_eq!(fid(&two, &two).unwrap(), 0.0);
    }
}
