//! Seeded random streams. One `--seed` reaches every random choice; each purpose draws from its
//! own ChaCha8 stream of that seed, so (for example) changing the number of epochs does not
//! change the initial weights, and a stream's position can be saved and restored exactly. The
//! streams themselves are [`autograd::seed`]'s; this file names the ones `gan` uses (the digit
//! classifiers name theirs in `digit_classifiers::streams`).

/// The stream of initial weights.
pub const STREAM_INIT: u64 = 1;
/// The stream of training noise.
pub const STREAM_NOISE: u64 = 2;
/// The stream of the fixed noise behind the sample grids.
pub const STREAM_FIXED_NOISE: u64 = 3;
/// The stream of `gan sample`'s noise.
pub const STREAM_SAMPLE: u64 = 4;
/// The stream of `gan traverse`'s random points and coordinates.
pub const STREAM_TRAVERSE: u64 = 5;
/// The class labels of generated digits during training (conditional models).
pub const STREAM_FAKE_LABELS: u64 = 6;
/// Epoch `e`'s shuffle uses stream `STREAM_SHUFFLE_BASE + e`.
pub const STREAM_SHUFFLE_BASE: u64 = 1_000;

pub use autograd::seed::{position, restore, stream};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_restored_stream_continues_exactly() {
        let mut a = stream(7, STREAM_NOISE);
        let _: Vec<f32> = (0..13).map(|_| a.random()).collect();
        let mut b = restore(7, STREAM_NOISE, position(&a));
        let next_a: Vec<u32> = (0..5).map(|_| a.random()).collect();
        let next_b: Vec<u32> = (0..5).map(|_| b.random()).collect();
        assert_eq!(next_a, next_b);
        assert_ne!(stream(7, 1).random::<u64>(), stream(7, 2).random::<u64>());
    }
}
