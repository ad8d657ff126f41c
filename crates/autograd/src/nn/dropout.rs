//! [`Dropout`]: a layer that owns its seeded random source, whose position can be saved and
//! restored so that a resumed run drops the same elements as an uninterrupted one.

use super::Module;
use crate::error::{invalid, Result};
use crate::graph::{Graph, Var};
use crate::params::ParamId;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Dropout with probability `p` (see [`Graph::dropout`]); the identity in evaluation mode.
/// `x: any shape` → the same shape.
#[derive(Debug, Clone)]
pub struct Dropout {
    p: f32,
    rng: ChaCha8Rng,
}

/// Where a [`Dropout`]'s random source stands: enough to continue the same stream of masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropoutState {
    /// The ChaCha8 seed.
    pub seed: [u8; 32],
    /// The ChaCha stream number.
    pub stream: u64,
    /// The position in the stream, in 32-bit words.
    pub word_pos: u128,
}

impl Dropout {
    /// A dropout layer with drop probability `p` in `[0, 1)` whose masks come from a ChaCha8
    /// source seeded with `seed`.
    pub fn new(p: f32, seed: u64) -> Result<Dropout> {
        if !(0.0..1.0).contains(&p) {
            return Err(invalid(
                "Dropout",
                format!("the drop probability must lie in [0, 1), got {p}"),
            ));
        }
        Ok(Dropout {
            p,
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// The random source's current position (for a checkpoint).
    pub fn state(&self) -> DropoutState {
        DropoutState {
            seed: self.rng.get_seed(),
            stream: self.rng.get_stream(),
            word_pos: self.rng.get_word_pos(),
        }
    }

    /// Moves the random source to a saved position.
    pub fn restore(&mut self, state: &DropoutState) {
        let mut rng = ChaCha8Rng::from_seed(state.seed);
        rng.set_stream(state.stream);
        rng.set_word_pos(state.word_pos);
        self.rng = rng;
    }
}

impl Module for Dropout {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
        g.dropout(x, self.p, &mut self.rng)
    }

    fn params(&self) -> Vec<ParamId> {
        Vec::new()
    }
}
