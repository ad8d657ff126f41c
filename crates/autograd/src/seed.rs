//! Seeded random streams: one seed, many independent streams. Each purpose (initialisation,
//! noise, shuffling, dropout, ...) draws from its own ChaCha8 stream of the seed, so changing
//! how much one purpose draws never changes what another gets, and a stream's position can be
//! saved and restored exactly.
//!
//! ```
//! use autograd::seed;
//! use rand::Rng;
//!
//! let mut init = seed::stream(7, 1);
//! let mut noise = seed::stream(7, 2);
//! let a: f32 = init.random();
//! let _: f32 = noise.random();
//! // Restoring a stream at a saved position continues it exactly.
//! let at = seed::position(&init);
//! let next: u32 = init.random();
//! assert_eq!(seed::restore(7, 1, at).random::<u32>(), next);
//! # let _ = a;
//! ```

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Stream `stream` of `seed`.
pub fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Stream `stream_id` of `seed`, continued from `word_pos` (a [`position`]).
pub fn restore(seed: u64, stream_id: u64, word_pos: u128) -> ChaCha8Rng {
    let mut rng = stream(seed, stream_id);
    rng.set_word_pos(word_pos);
    rng
}

/// Where `rng` stands, for [`restore`].
pub fn position(rng: &ChaCha8Rng) -> u128 {
    rng.get_word_pos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_restored_stream_continues_exactly_and_streams_differ() {
        let mut a = stream(7, 2);
        let _: Vec<f32> = (0..13).map(|_| a.random()).collect();
        let mut b = restore(7, 2, position(&a));
        let next_a: Vec<u32> = (0..5).map(|_| a.random()).collect();
        let next_b: Vec<u32> = (0..5).map(|_| b.random()).collect();
        assert_eq!(next_a, next_b);
        assert_ne!(stream(7, 1).random::<u64>(), stream(7, 2).random::<u64>());
    }
}
