//! Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et
//! al. 2020) between real and fake feature sets.
//!
//! Each sample gets a ball whose radius is the distance to its k-th nearest neighbour in its own
//! set (itself excluded). With N real and M fake samples:
//! - precision = share of fake samples inside at least one real ball (k = 3);
//! - recall = share of real samples inside at least one fake ball (k = 3);
//! - density = (1 / kM) · Σ_j #{i : fake_j inside real ball i} (k = 5), unbounded above;
//! - coverage = share of real samples whose nearest fake sample is inside their ball (k = 5).
//!
//! "Inside" means distance ≤ radius. Both sets are shifted by the mean of the real set before the
//! distances are computed (distances do not change, `f32` rounding shrinks).

use serde::{Deserialize, Serialize};

use super::knn::{cross_pass, knn_sq_radii, squared_norms};
use super::{Features, MetricsError};

/// Largest k accepted (the papers use 3 and 5).
const MAX_K: usize = 100;

/// Parameters of [`precision_recall`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrParams {
    /// k of the k-NN balls for precision and recall (3 in Kynkäänniemi et al.).
    pub k_precision_recall: usize,
    /// k of the k-NN balls for density and coverage (5 in Naeem et al.).
    pub k_density_coverage: usize,
    /// If set, each set larger than this is reduced to this many rows, spread evenly over the
    /// set (rows ⌊i·n/cap⌋). The cost grows with the square of the number of samples.
    pub max_samples: Option<usize>,
}

impl Default for PrParams {
    /// k = 3 for precision/recall, k = 5 for density/coverage, no cap.
    fn default() -> Self {
        Self {
            k_precision_recall: 3,
            k_density_coverage: 5,
            max_samples: None,
        }
    }
}

impl PrParams {
    fn validate(&self) -> Result<(), MetricsError> {
        for (name, k) in [
            ("k_precision_recall", self.k_precision_recall),
            ("k_density_coverage", self.k_density_coverage),
        ] {
            if k == 0 || k > MAX_K {
                return Err(MetricsError::InvalidParameter {
                    name,
                    value: k.to_string(),
                    reason: "k must be between 1 and 100 (the papers use 3 and 5)",
                });
            }
        }
        if self.max_samples == Some(0) {
            return Err(MetricsError::InvalidParameter {
                name: "max_samples",
                value: "0".into(),
                reason: "the cap must be above k, or None for no cap",
            });
        }
        Ok(())
    }

    fn cap(&self, x: &Features) -> Features {
        match self.max_samples {
            Some(cap) => x.strided_subset(cap),
            None => x.clone(),
        }
    }
}

/// Precision, recall, density and coverage of a fake set against a real set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecall {
    /// Share of fake samples inside the real manifold, in [0, 1].
    pub precision: f64,
    /// Share of real samples inside the fake manifold, in [0, 1].
    pub recall: f64,
    /// Mean number of real balls containing a fake sample, divided by k; about 1 when both
    /// sets come from the same distribution, and `(k + 1) / k` for a set against itself.
    pub density: f64,
    /// Share of real samples with a fake sample inside their ball, in [0, 1].
    pub coverage: f64,
}

/// The real side of [`precision_recall`], computed once: the (capped, centred) real features and
/// their k-NN radii. Reuse it to evaluate many fake sets against the same real digits.
#[derive(Debug, Clone)]
pub struct PrReference {
    params: PrParams,
    center: Vec<f32>,
    real: Features,
    norms: Vec<f32>,
    /// Squared k-NN radius per real row, k = `k_precision_recall`.
    radius_pr: Vec<f32>,
    /// Squared k-NN radius per real row, k = `k_density_coverage`.
    radius_dc: Vec<f32>,
}

impl PrReference {
    /// Caps and centres `real` and computes its k-NN radii for both k.
    ///
    /// Errors on invalid parameters, non-finite or huge values, or not more than k real samples
    /// (after the cap).
    pub fn new(real: &Features, params: PrParams) -> Result<Self, MetricsError> {
        params.validate()?;
        real.check_finite("real features")?;
        let real = params.cap(real);
        let k = params.k_precision_recall.max(params.k_density_coverage);
        real.check_count("k-NN radii (k + 1 samples)", "real", k + 1)?;
        let center: Vec<f32> = real.column_means().iter().map(|&m| m as f32).collect();
        let real = real.centered(&center);
        let norms = squared_norms(&real, "real features")?;
        let best = knn_sq_radii(&real, &norms, k);
        let kth = |kk: usize| (0..real.n()).map(|i| best[i * k + kk - 1]).collect();
        Ok(Self {
            radius_pr: kth(params.k_precision_recall),
            radius_dc: kth(params.k_density_coverage),
            params,
            center,
            real,
            norms,
        })
    }

    /// The parameters the reference was built with (also used for the fake set).
    pub fn params(&self) -> PrParams {
        self.params
    }

    /// Number of real samples used (after the cap).
    pub fn n(&self) -> usize {
        self.real.n()
    }

    /// Number of features per sample.
    pub fn dim(&self) -> usize {
        self.real.dim()
    }
}

/// Precision, recall, density and coverage of `fake` against `real` (see the module docs).
///
/// Costs about (N² / 2 + M² / 2 + N·M)·dim multiply-adds; 10,000 × 10,000 samples of 128
/// features take about a second in release. Build a [`PrReference`] once to skip the real half
/// on later calls.
///
/// ```
/// use metrics::{precision_recall, Features, PrParams};
/// # fn main() -> Result<(), metrics::MetricsError> {
/// let real = Features::new(6, 1, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0])?;
/// let fake = Features::new(6, 1, vec![100.0, 101.0, 102.0, 103.0, 104.0, 105.0])?;
/// let params = PrParams { k_precision_recall: 2, k_density_coverage: 2, max_samples: None };
/// let pr = precision_recall(&real, &fake, &params)?;
/// assert_eq!((pr.precision, pr.recall), (0.0, 0.0));
/// # Ok(())
/// # }
/// ```
pub fn precision_recall(
    real: &Features,
    fake: &Features,
    params: &PrParams,
) -> Result<PrecisionRecall, MetricsError> {
    if real.dim() != fake.dim() {
        return Err(MetricsError::DimensionMismatch {
            left: "real features",
            left_dim: real.dim(),
            right: "fake features",
            right_dim: fake.dim(),
        });
    }
    fake.check_finite("fake features")?;
    precision_recall_against(&PrReference::new(real, *params)?, fake)
}

/// Like [`precision_recall`], with the real side precomputed.
pub fn precision_recall_against(
    reference: &PrReference,
    fake: &Features,
) -> Result<PrecisionRecall, MetricsError> {
    if reference.dim() != fake.dim() {
        return Err(MetricsError::DimensionMismatch {
            left: "real features",
            left_dim: reference.dim(),
            right: "fake features",
            right_dim: fake.dim(),
        });
    }
    fake.check_finite("fake features")?;
    let params = reference.params;
    let kpr = params.k_precision_recall;
    let fake = params.cap(fake);
    fake.check_count("k-NN radii (k + 1 samples)", "fake", kpr + 1)?;
    let fake = fake.centered(&reference.center);
    let fake_norms = squared_norms(&fake, "fake features")?;
    let best = knn_sq_radii(&fake, &fake_norms, kpr);
    let fake_radius: Vec<f32> = (0..fake.n()).map(|j| best[j * kpr + kpr - 1]).collect();

    let c = cross_pass(
        &reference.real,
        &reference.norms,
        &reference.radius_pr,
        &reference.radius_dc,
        &fake,
        &fake_norms,
        &fake_radius,
    );
    let (n, m) = (reference.n() as f64, fake.n() as f64);
    let covered = c
        .nearest_fake
        .iter()
        .zip(&reference.radius_dc)
        .filter(|(d, r)| d <= r)
        .count();
    Ok(PrecisionRecall {
        precision: count_true(&c.fake_in_real) as f64 / m,
        recall: count_true(&c.real_in_fake) as f64 / n,
        density: c.density_hits as f64 / (params.k_density_coverage as f64 * m),
        coverage: covered as f64 / n,
    })
}

fn count_true(flags: &[bool]) -> usize {
    flags.iter().filter(|&&f| f).count()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gaussian_features, Rng};
    use super::*;

    fn params(kpr: usize, kdc: usize) -> PrParams {
        PrParams {
            k_precision_recall: kpr,
            k_density_coverage: kdc,
            max_samples: None,
        }
    }

    /// The definitions written out in f64, all pairs, no tiles.
    fn brute_force(real: &Features, fake: &Features, kpr: usize, kdc: usize) -> PrecisionRecall {
        let dist = |a: &[f32], b: &[f32]| -> f64 {
            let d: f64 = a
                .iter()
                .zip(b)
                .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
                .sum();
            d.sqrt()
        };
        let radius = |x: &Features, i: usize, k: usize| {
            let mut d: Vec<f64> = (0..x.n())
                .filter(|&j| j != i)
                .map(|j| dist(x.row(i).unwrap(), x.row(j).unwrap()))
                .collect();
            d.sort_by(f64::total_cmp);
            d[k - 1]
        };
        let (n, m) = (real.n(), fake.n());
        let r_pr: Vec<f64> = (0..n).map(|i| radius(real, i, kpr)).collect();
        let r_dc: Vec<f64> = (0..n).map(|i| radius(real, i, kdc)).collect();
        let f_pr: Vec<f64> = (0..m).map(|j| radius(fake, j, kpr)).collect();
        let d = |i: usize, j: usize| dist(real.row(i).unwrap(), fake.row(j).unwrap());
        let precision = (0..m)
            .filter(|&j| (0..n).any(|i| d(i, j) <= r_pr[i]))
            .count();
        let recall = (0..n)
            .filter(|&i| (0..m).any(|j| d(i, j) <= f_pr[j]))
            .count();
        let density: usize = (0..m)
            .map(|j| (0..n).filter(|&i| d(i, j) <= r_dc[i]).count())
            .sum();
        let coverage = (0..n)
            .filter(|&i| (0..m).map(|j| d(i, j)).fold(f64::INFINITY, f64::min) <= r_dc[i])
            .count();
        PrecisionRecall {
            precision: precision as f64 / m as f64,
            recall: recall as f64 / n as f64,
            density: density as f64 / (kdc * m) as f64,
            coverage: coverage as f64 / n as f64,
        }
    }

    /// Against itself: every sample is inside its own ball, so precision, recall and coverage
    /// are 1; each real ball holds its centre plus its k neighbours, so density is (k + 1) / k.
    #[test]
    fn a_set_against_itself() {
        // More than two tiles, so off-diagonal tiles and ragged edges are exercised.
        let x = gaussian_features(
            &mut Rng::new(11),
            2 * super::super::knn::TILE + 91,
            16,
            2.0,
            1.0,
        );
        let pr = precision_recall(&x, &x, &PrParams::default()).unwrap();
        assert_eq!(pr.precision, 1.0);
        assert_eq!(pr.recall, 1.0);
        assert_eq!(pr.coverage, 1.0);
        assert_eq!(pr.density, 6.0 / 5.0);
    }

    #[test]
    fn far_apart_sets_score_zero() {
        let mut rng = Rng::new(12);
        let real = gaussian_features(&mut rng, 300, 8, 0.0, 1.0);
        let fake = gaussian_features(&mut rng, 200, 8, 50.0, 1.0);
        let pr = precision_recall(&real, &fake, &PrParams::default()).unwrap();
        assert_eq!(
            pr,
            PrecisionRecall {
                precision: 0.0,
                recall: 0.0,
                density: 0.0,
                coverage: 0.0
            }
        );
    }

    #[test]
    fn matches_brute_force_definitions() {
        let mut rng = Rng::new(13);
        let real = gaussian_features(&mut rng, 310, 7, 0.0, 1.0);
        let fake = gaussian_features(&mut rng, 280, 7, 0.7, 0.6);
        for (kpr, kdc) in [(3, 5), (1, 2), (4, 4)] {
            let got = precision_recall(&real, &fake, &params(kpr, kdc)).unwrap();
            let want = brute_force(&real, &fake, kpr, kdc);
            assert_eq!(got, want, "k = ({kpr}, {kdc})");
        }
        // A narrow fake set: high precision, low recall.
        let got = precision_recall(&real, &fake, &PrParams::default()).unwrap();
        assert!(got.precision > 0.8 && got.recall < 0.6, "{got:?}");
    }

    #[test]
    fn reference_is_reusable_and_cap_subsamples() {
        let mut rng = Rng::new(14);
        let real = gaussian_features(&mut rng, 400, 6, 0.0, 1.0);
        let fake = gaussian_features(&mut rng, 300, 6, 0.5, 1.0);
        let reference = PrReference::new(&real, PrParams::default()).unwrap();
        assert_eq!(
            precision_recall_against(&reference, &fake).unwrap(),
            precision_recall(&real, &fake, &PrParams::default()).unwrap()
        );
        let capped = PrParams {
            max_samples: Some(150),
            ..PrParams::default()
        };
        let got = precision_recall(&real, &fake, &capped).unwrap();
        let want = brute_force(&real.strided_subset(150), &fake.strided_subset(150), 3, 5);
        assert_eq!(got, want);
    }

    #[test]
    fn errors_instead_of_panics() {
        let mut rng = Rng::new(15);
        let x = gaussian_features(&mut rng, 10, 4, 0.0, 1.0);
        let small = gaussian_features(&mut rng, 5, 4, 0.0, 1.0);
        let other = gaussian_features(&mut rng, 10, 3, 0.0, 1.0);
        let d = PrParams::default();
        assert!(matches!(
            precision_recall(&small, &x, &d),
            Err(MetricsError::TooFewSamples {
                set: "real",
                needed: 6,
                found: 5,
                ..
            })
        ));
        assert!(precision_recall(&x, &small.strided_subset(4), &d).is_ok());
        assert!(matches!(
            precision_recall(&x, &small.strided_subset(3), &d),
            Err(MetricsError::TooFewSamples {
                set: "fake",
                needed: 4,
                ..
            })
        ));
        assert!(matches!(
            precision_recall(&x, &other, &d),
            Err(MetricsError::DimensionMismatch { .. })
        ));
        for bad in [params(0, 5), params(3, 101)] {
            assert!(matches!(
                precision_recall(&x, &x, &bad),
                Err(MetricsError::InvalidParameter { .. })
            ));
        }
        let zero_cap = PrParams {
            max_samples: Some(0),
            ..d
        };
        assert!(matches!(
            precision_recall(&x, &x, &zero_cap),
            Err(MetricsError::InvalidParameter { .. })
        ));
        let mut data = x.data().to_vec();
        data[13] = f32::INFINITY;
        let inf = Features::new(10, 4, data).unwrap();
        assert!(matches!(
            precision_recall(&x, &inf, &d),
            Err(MetricsError::NonFinite { row: 3, col: 1, .. })
        ));
    }
}
