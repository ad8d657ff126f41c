//! The detector's digits: the training split cut into a training and a validation part (seeded,
//! 10% of every digit held out), and batches of pixels in [0, 1] or standardised, optionally
//! shifted by a pixel or two.

use crate::augment::shift_into;
use crate::error::{Error, Result};
use crate::streams as rng;
use mnist_idx::{Split, MEAN, PIXELS as IMAGE_PIXELS, SIDE, STD};
use rand::seq::SliceRandom;
use rand::Rng;

/// How a grey level 0–255 becomes an input value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pixels {
    /// `p / 255`, in [0, 1].
    Unit,
    /// `(p / 255 − MEAN) / STD`: mean 0 and deviation 1 over the training digits.
    Standardized,
}

impl Pixels {
    /// `(scale, offset)` with input = `p · scale + offset`.
    pub fn affine(self) -> (f32, f32) {
        match self {
            Pixels::Unit => (1.0 / 255.0, 0.0),
            Pixels::Standardized => (1.0 / (255.0 * STD), -MEAN / STD),
        }
    }
}

/// Digits kept as `u8` with their labels 0–9.
#[derive(Debug, Clone, Default)]
pub struct Digits {
    images: Vec<u8>,
    labels: Vec<u8>,
}

impl Digits {
    /// The digits `indices` of `split`, in that order.
    pub fn pick(split: &Split, indices: &[usize]) -> Digits {
        let mut images = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend_from_slice(split.image(i));
            labels.push(split.labels[i]);
        }
        Digits { images, labels }
    }

    /// Every digit of `split`.
    pub fn all(split: &Split) -> Digits {
        Digits {
            images: split.images.clone(),
            labels: split.labels.clone(),
        }
    }

    /// The number of digits.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels, 0–9.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The pixels of digit `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
    }

    /// Whether each digit is `digit`.
    pub fn is_digit(&self, digit: u8) -> Vec<bool> {
        self.labels.iter().map(|&l| l == digit).collect()
    }

    /// How many digits are `digit`.
    pub fn count(&self, digit: u8) -> usize {
        self.labels.iter().filter(|&&l| l == digit).count()
    }

    /// Writes digits `indices` into `out` as rows of 784 values mapped by `pixels`, each moved
    /// by a random offset of up to `shift` pixels in both directions (drawn from `rng`; 0 draws
    /// nothing), the uncovered border left blank (background). Reuses `out`'s allocation.
    pub fn fill_batch(
        &self,
        indices: &[u32],
        pixels: Pixels,
        shift: usize,
        rng: &mut impl Rng,
        out: &mut Vec<f32>,
    ) {
        let (scale, offset) = pixels.affine();
        out.clear();
        out.resize(indices.len() * IMAGE_PIXELS, offset);
        let s = shift.min(SIDE - 1) as i32;
        for (row, &i) in out.chunks_exact_mut(IMAGE_PIXELS).zip(indices) {
            let image = self.image(i as usize);
            let (dy, dx) = if s == 0 {
                (0, 0)
            } else {
                (rng.random_range(-s..=s), rng.random_range(-s..=s))
            };
            shift_into(image, dx, dy, |p| f32::from(p) * scale + offset, row);
        }
    }
}

/// The training split cut in two: digits to train on and digits to validate on.
#[derive(Debug, Clone)]
pub struct TrainValSplit {
    /// Indices into the training split of the digits trained on, ascending.
    pub train: Vec<usize>,
    /// Indices of the held-out digits, ascending.
    pub val: Vec<usize>,
}

impl TrainValSplit {
    /// Holds out `fraction` (rounded) of every digit class of `labels`, chosen from the seed's
    /// split stream, so the same seed holds out the same digits whichever digit is detected.
    pub fn new(labels: &[u8], fraction: f64, seed: u64) -> Result<TrainValSplit> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(Error::Invalid(format!(
                "the validation fraction must lie strictly between 0 and 1, got {fraction}"
            )));
        }
        let mut r = rng::stream(seed, rng::STREAM_DETECT_SPLIT);
        let (mut train, mut val) = (Vec::new(), Vec::new());
        for class in 0..10u8 {
            let mut members: Vec<usize> =
                (0..labels.len()).filter(|&i| labels[i] == class).collect();
            members.shuffle(&mut r);
            let held = (members.len() as f64 * fraction).round() as usize;
            val.extend_from_slice(&members[..held]);
            train.extend_from_slice(&members[held..]);
        }
        if train.is_empty() || val.is_empty() {
            return Err(Error::Invalid(format!(
                "{} training digits are too few to hold out {:.0}% for validation",
                labels.len(),
                fraction * 100.0
            )));
        }
        train.sort_unstable();
        val.sort_unstable();
        Ok(TrainValSplit { train, val })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_validation_split_is_disjoint_stratified_and_seeded() {
        let labels: Vec<u8> = (0..1_000).map(|i| (i * 7 % 10) as u8).collect();
        let a = TrainValSplit::new(&labels, 0.1, 3).unwrap();
        assert_eq!((a.train.len(), a.val.len()), (900, 100));
        let mut all: Vec<usize> = a.train.iter().chain(&a.val).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            all.len(),
            1_000,
            "train and validation overlap or lose digits"
        );
        for class in 0..10u8 {
            assert_eq!(a.val.iter().filter(|&&i| labels[i] == class).count(), 10);
        }
        let b = TrainValSplit::new(&labels, 0.1, 3).unwrap();
        assert_eq!((a.train.clone(), a.val.clone()), (b.train, b.val));
        let c = TrainValSplit::new(&labels, 0.1, 4).unwrap();
        assert_ne!(a.val, c.val, "another seed should hold out other digits");
        assert!(TrainValSplit::new(&labels, 1.0, 3).is_err());
        assert!(TrainValSplit::new(&[1, 2], 0.1, 3).is_err());
    }

    fn one_dot_digit() -> Digits {
        // A single ink pixel at row 10, column 20.
        let mut images = vec![0u8; IMAGE_PIXELS];
        images[10 * SIDE + 20] = 255;
        Digits {
            images,
            labels: vec![4],
        }
    }

    #[test]
    fn shifts_move_ink_and_blank_the_border() {
        let mut out = vec![0.0; IMAGE_PIXELS];
        let d = one_dot_digit();
        let (scale, offset) = Pixels::Unit.affine();
        let unit = |p: u8| f32::from(p) * scale + offset;
        // Two down, one left.
        shift_into(d.image(0), -1, 2, unit, &mut out);
        assert_eq!(out[12 * SIDE + 19], 1.0);
        assert_eq!(out.iter().sum::<f32>(), 1.0);
        // Moving the ink off the image leaves it blank.
        out.fill(0.0);
        shift_into(d.image(0), 8, 0, unit, &mut out);
        assert_eq!(out.iter().sum::<f32>(), 0.0);
    }

    #[test]
    fn unshifted_batches_are_scaled_pixels() {
        let d = one_dot_digit();
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut out = Vec::new();
        d.fill_batch(&[0], Pixels::Standardized, 1, &mut r, &mut out);
        let background = -MEAN / STD;
        assert_eq!(
            out.iter().filter(|&&v| v == background).count(),
            IMAGE_PIXELS - 1
        );
        let ink = (1.0 - MEAN) / STD;
        assert!(out.iter().any(|&v| (v - ink).abs() < 1e-5));
        d.fill_batch(&[0, 0], Pixels::Unit, 0, &mut r, &mut out);
        assert_eq!(out.len(), 2 * IMAGE_PIXELS);
        assert_eq!(out[10 * SIDE + 20], 1.0);
        assert_eq!(out[IMAGE_PIXELS + 10 * SIDE + 20], 1.0);
        d.fill_batch(&[0; 50], Pixels::Unit, 2, &mut r, &mut out);
        let moved = out
            .chunks_exact(IMAGE_PIXELS)
            .filter(|row| row[10 * SIDE + 20] == 0.0)
            .count();
        assert!(moved > 30, "only {moved} of 50 digits moved");
        assert!(out
            .chunks_exact(IMAGE_PIXELS)
            .all(|r| r.iter().sum::<f32>() == 1.0));
    }
}
