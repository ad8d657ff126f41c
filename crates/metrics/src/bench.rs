//! Timings at the real evaluation size (10,000 × 128), run by hand:
//! `cargo test --release -p gan metrics::bench -- --ignored --nocapture`.

use std::time::Instant;

use super::test_util::{gaussian_features, Rng};
use super::{fid_from_stats, precision_recall_against, FeatureStats, PrParams, PrReference};

const N: usize = 10_000;
const DIM: usize = 128;

#[test]
#[ignore = "timing at 10,000 x 128; run with --release --ignored --nocapture"]
fn time_fid_10k_x_128() {
    let mut rng = Rng::new(21);
    let real = gaussian_features(&mut rng, N, DIM, 0.0, 1.0);
    let fake = gaussian_features(&mut rng, N, DIM, 0.1, 1.1);

    let t = Instant::now();
    let sr = FeatureStats::from_features(&real).unwrap();
    let t_stats = t.elapsed();
    let sf = FeatureStats::from_features(&fake).unwrap();
    let t = Instant::now();
    let f = fid_from_stats(&sr, &sf).unwrap();
    let t_fid = t.elapsed();
    println!(
        "FID {N}x{DIM}: mean+covariance of one set {:.1} ms, Fréchet distance from stats \
         {:.1} ms, fid = {f:.4}",
        t_stats.as_secs_f64() * 1e3,
        t_fid.as_secs_f64() * 1e3,
    );
    // Population value 128·0.1² + 128·(1 − 1.1)² = 2.56; finite samples add a positive bias
    // of order dim²/n (≈ 1 here): measure it with a second sample of the real distribution.
    let again = gaussian_features(&mut rng, N, DIM, 0.0, 1.0);
    let floor = fid_from_stats(&sr, &FeatureStats::from_features(&again).unwrap()).unwrap();
    println!("FID between two samples of the same distribution (bias floor): {floor:.4}");
    assert!(floor > 0.3 && floor < 2.0, "floor = {floor}");
    assert!(f > 2.56 && f < 2.56 + 2.0 * floor, "fid = {f}");
}

#[test]
#[ignore = "timing at 10,000 x 128; run with --release --ignored --nocapture"]
fn time_precision_recall_10k_x_128() {
    let mut rng = Rng::new(22);
    let real = gaussian_features(&mut rng, N, DIM, 0.0, 1.0);
    let fake = gaussian_features(&mut rng, N, DIM, 0.0, 1.0); // same distribution

    let t = Instant::now();
    let reference = PrReference::new(&real, PrParams::default()).unwrap();
    let t_ref = t.elapsed();
    let t = Instant::now();
    let pr = precision_recall_against(&reference, &fake).unwrap();
    let t_fake = t.elapsed();
    println!(
        "precision/recall/density/coverage {N}x{DIM} vs {N}x{DIM}: real k-NN radii {:.2} s, \
         fake radii + cross pass {:.2} s, total {:.2} s; {pr:?}",
        t_ref.as_secs_f64(),
        t_fake.as_secs_f64(),
        (t_ref + t_fake).as_secs_f64(),
    );
    // Same distribution: density ≈ 1 and coverage near 1. In 128 dimensions with k = 3 the
    // k-NN balls are hub-dominated, so precision and recall stay well below 1 (≈ 0.5).
    assert!((pr.density - 1.0).abs() < 0.1, "{pr:?}");
    assert!(pr.coverage > 0.9, "{pr:?}");
    assert!(pr.precision > 0.3 && pr.recall > 0.3, "{pr:?}");
}
