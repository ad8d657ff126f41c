//! Seeded random data for the metric tests (the crate has no `rand` dependency).

use super::Features;

/// SplitMix64: small, seeded, good enough for test data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `n × dim` features with independent N(mean, scale²) entries.
pub(crate) fn gaussian_features(
    rng: &mut Rng,
    n: usize,
    dim: usize,
    mean: f32,
    scale: f32,
) -> Features {
    let data = (0..n * dim)
        .map(|_| mean + scale * rng.normal() as f32)
        .collect();
    Features::new(n, dim, data).expect("shape is n * dim by construction")
}
