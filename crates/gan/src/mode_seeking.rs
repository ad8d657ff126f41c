//! The mode-seeking regulariser of Mao et al. 2019 (*Mode Seeking Generative Adversarial
//! Networks for Diverse Image Synthesis*, `--mode-seeking λ`): the generator is rewarded for
//! drawing different digits from different noise. The batch's noise vectors are taken in pairs
//! (row `i` with row `i + b/2`; for a conditional generator both rows of a pair ask for the same
//! digit), and the generator's loss gains
//!
//! `λ / (mean|G(z₁) − G(z₂)| / mean|z₁ − z₂| + ε)`,
//!
//! which falls as the pairs' images move apart relative to their noise. It is the paper's term
//! (L1 distances over the whole batch, ε = 1e-5), added to whichever adversarial loss is chosen.

use crate::error::Result;
use autograd::{Graph, Var};
use rand::Rng;

/// The paper's ε.
const EPS: f32 = 1e-5;

/// Pairs in a batch of `b`: rows `0..pairs` against `pairs..2·pairs` (an odd last row is left
/// out).
pub fn pairs(b: usize) -> usize {
    b / 2
}

/// Fills `labels` with `b` labels drawn uniformly from `classes`, the second half of each pair
/// repeating the first (so each pair asks for one digit).
pub fn paired_labels(labels: &mut Vec<u8>, b: usize, classes: &[u8], rng: &mut impl Rng) {
    let p = pairs(b);
    labels.clear();
    labels.extend((0..p).map(|_| classes[rng.random_range(0..classes.len())]));
    labels.extend_from_within(..p);
    labels.extend((2 * p..b).map(|_| classes[rng.random_range(0..classes.len())]));
}

/// `mean|z₁ − z₂|` over the pairs of the noise `z` (`b` rows of `latent`); a constant of the
/// term, since no gradient flows into the noise.
pub fn noise_distance(z: &[f32], latent: usize) -> f32 {
    let p = pairs(z.len() / latent.max(1));
    let (first, second) = (&z[..p * latent], &z[p * latent..2 * p * latent]);
    let sum: f64 = first
        .iter()
        .zip(second)
        .map(|(a, b)| f64::from((a - b).abs()))
        .sum();
    (sum / (p * latent).max(1) as f64) as f32
}

/// Records `λ / (mean|G(z₁) − G(z₂)| / noise_distance + ε)` for the generated batch `fake`
/// (`b` rows).
pub fn term(g: &mut Graph<'_>, fake: Var, noise_distance: f32, lambda: f32) -> Result<Var> {
    let rows = g.shape(fake)?[0];
    let p = pairs(rows);
    let first = g.slice_rows(fake, 0, p)?;
    let second = g.slice_rows(fake, p, 2 * p)?;
    let diff = g.sub(first, second)?;
    let diff = g.abs(diff)?;
    let images = g.mean(diff)?;
    let ratio = g.mul_scalar(images, 1.0 / noise_distance.max(EPS))?;
    let ratio = g.add_scalar(ratio, EPS)?;
    let shape = g.shape(ratio)?.to_vec();
    let numerator = g.constant(autograd::Tensor::full(&shape, lambda));
    Ok(g.div(numerator, ratio)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::{gradcheck, Tensor};
    use rand::SeedableRng;

    #[test]
    fn pairs_ask_for_the_same_digit_and_odd_rows_get_their_own() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut labels = Vec::new();
        paired_labels(&mut labels, 7, &[2, 5, 9], &mut rng);
        assert_eq!(labels.len(), 7);
        assert_eq!(labels[..3], labels[3..6]);
        assert!(labels.iter().all(|l| [2, 5, 9].contains(l)));
    }

    #[test]
    fn noise_distance_is_the_mean_absolute_difference_of_the_pairs() {
        // Rows (0,0), (1,3) against (2,0), (1,1); an odd fifth row ignored.
        let z = [0.0, 0.0, 1.0, 3.0, 2.0, 0.0, 1.0, 1.0, 9.0, 9.0];
        assert_eq!(noise_distance(&z, 2), (2.0 + 0.0 + 0.0 + 2.0) / 4.0);
    }

    #[test]
    fn the_term_has_its_value_and_the_gradient_of_finite_differences() {
        let fake =
            Tensor::from_vec(&[4, 3], (0..12).map(|i| (i as f32 * 0.7).sin()).collect()).unwrap();
        // Value: pairs (row 0, row 2) and (row 1, row 3).
        let d = fake.data();
        let l1: f32 = (0..6).map(|i| (d[i] - d[i + 6]).abs()).sum::<f32>() / 6.0;
        let want = 2.0 / (l1 / 0.5 + EPS);
        let params = autograd::ParamStore::new();
        let mut pool = autograd::BufferPool::new();
        let mut g = Graph::new(&params, &mut pool);
        let x = g.constant(fake.clone());
        let t = term(&mut g, x, 0.5, 2.0).unwrap();
        let got = g.value(t).data()[0];
        assert!((got - want).abs() < 1e-5 * want, "{got} vs {want}");
        let err = gradcheck(&[fake], |g, v| Ok(term(g, v[0], 0.5, 2.0).unwrap()));
        assert!(err.is_ok(), "{err:?}");
    }
}
