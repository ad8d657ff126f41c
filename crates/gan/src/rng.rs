//! Seeded random streams. One `--seed` reaches every random choice; each purpose draws from its
//! own ChaCha8 stream of that seed, so (for example) changing the number of epochs does not
//! change the initial weights, and a stream's position can be saved and restored exactly.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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
/// The stream of the evaluator classifier's initial weights.
pub const STREAM_CLASSIFIER_INIT: u64 = 20;
/// The stream that seeds the evaluator classifier's dropout masks.
pub const STREAM_CLASSIFIER_DROPOUT: u64 = 21;
/// The stream of the evaluator classifier's shuffles and random shifts of training digits.
pub const STREAM_CLASSIFIER_DATA: u64 = 22;
/// The stream of the uniform-noise images `gan eval` uses as its worst-case reference.
pub const STREAM_EVAL_NOISE: u64 = 23;
/// The stream choosing `gan detect`'s held-out validation digits.
pub const STREAM_DETECT_SPLIT: u64 = 30;
/// The stream of `gan detect`'s random shifts of training digits.
pub const STREAM_DETECT_SHIFT: u64 = 31;
/// The stream of `gan detect`'s dropout masks.
pub const STREAM_DETECT_DROPOUT: u64 = 32;
/// Epoch `e` of `gan detect` shuffles with stream `STREAM_DETECT_SHUFFLE_BASE + e`.
pub const STREAM_DETECT_SHUFFLE_BASE: u64 = 30_000;
/// Epoch `e`'s shuffle uses stream `STREAM_SHUFFLE_BASE + e`.
pub const STREAM_SHUFFLE_BASE: u64 = 1_000;

/// The random stream `stream` of `seed`, at its start.
pub fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// A stream restored at `word_pos` (as saved by [`position`]).
pub fn restore(seed: u64, stream_id: u64, word_pos: u128) -> ChaCha8Rng {
    let mut rng = stream(seed, stream_id);
    rng.set_word_pos(word_pos);
    rng
}

/// The position of a stream, to save in a checkpoint.
pub fn position(rng: &ChaCha8Rng) -> u128 {
    rng.get_word_pos()
}

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
