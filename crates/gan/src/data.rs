//! Training digits: kept as u8 as loaded, converted batch by batch into a reused f32 buffer.

use crate::config::OutputKind;
use crate::error::{GanError, Result};
use crate::model::IMAGE_PIXELS;
use crate::rng;
use mnist_idx::{Split, SplitKind};
use rand::seq::SliceRandom;
use render::PixelRange;
use std::path::Path;

/// The training digits of the selected classes.
#[derive(Debug, Clone)]
pub struct TrainingData {
    images: Vec<u8>,
    labels: Vec<u8>,
}

impl TrainingData {
    /// Loads the MNIST training split from `dir` and keeps the digits whose label is in
    /// `digits`.
    pub fn load(dir: impl AsRef<Path>, digits: &[u8]) -> Result<TrainingData> {
        let split = Split::load(dir.as_ref(), SplitKind::Train)?;
        TrainingData::from_split(&split, digits)
    }

    /// Keeps the digits of `split` whose label is in `digits`.
    pub fn from_split(split: &Split, digits: &[u8]) -> Result<TrainingData> {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for (image, label) in split.iter() {
            if digits.contains(&label) {
                images.extend_from_slice(image);
                labels.push(label);
            }
        }
        if labels.is_empty() {
            return Err(GanError::Config(format!(
                "no training digit has a label in {digits:?}"
            )));
        }
        Ok(TrainingData { images, labels })
    }

    /// Keeps only the first `n` digits (all of them when `n` is 0 or larger than the set).
    pub fn truncate(&mut self, n: usize) {
        if n > 0 && n < self.len() {
            self.labels.truncate(n);
            self.images.truncate(n * IMAGE_PIXELS);
        }
    }

    /// The number of digits.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no digit.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of digit `i` (0–255).
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
    }

    /// The order in which epoch `epoch` (1-based) visits the digits: a permutation drawn from
    /// the seed's shuffle stream for that epoch, so any epoch's order can be recomputed on
    /// resume.
    pub fn epoch_order(&self, seed: u64, epoch: usize) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        let mut r = rng::stream(seed, rng::STREAM_SHUFFLE_BASE + epoch as u64);
        order.shuffle(&mut r);
        order
    }

    /// Writes the labels of the digits `indices` into `out`, reusing its allocation.
    pub fn fill_labels(&self, indices: &[u32], out: &mut Vec<u8>) {
        out.clear();
        out.extend(indices.iter().map(|&i| self.labels[i as usize]));
    }

    /// Writes the digits `indices` into `out` as f32 rows of 784 pixels scaled for `output`
    /// ([-1, 1] for tanh, [0, 1] for sigmoid), reusing `out`'s allocation.
    pub fn fill_batch(&self, indices: &[u32], output: OutputKind, out: &mut Vec<f32>) {
        out.clear();
        out.reserve(indices.len() * IMAGE_PIXELS);
        let (scale, shift) = pixel_scale(output);
        for &i in indices {
            out.extend(
                self.image(i as usize)
                    .iter()
                    .map(|&p| f32::from(p) * scale + shift),
            );
        }
    }
}

/// How generated pixels map to grey levels for a given output activation.
pub fn pixel_range(output: OutputKind) -> PixelRange {
    match output {
        OutputKind::Tanh => PixelRange::MinusOneToOne,
        OutputKind::Sigmoid => PixelRange::ZeroToOne,
    }
}

/// Generated pixels (in the range of `output`) as u8 grey levels, 0 background, 255 ink.
pub fn pixels_to_u8(pixels: &[f32], output: OutputKind) -> Vec<u8> {
    let range = pixel_range(output);
    pixels.iter().map(|&v| range.to_u8(v)).collect()
}

/// `(scale, shift)` mapping a pixel 0–255 to the generator's output range.
pub fn pixel_scale(output: OutputKind) -> (f32, f32) {
    match output {
        OutputKind::Tanh => (2.0 / 255.0, -1.0),
        OutputKind::Sigmoid => (1.0 / 255.0, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> TrainingData {
        let split = Split {
            images: (0..3 * IMAGE_PIXELS).map(|i| (i % 256) as u8).collect(),
            labels: vec![1, 3, 1],
            len: 3,
        };
        TrainingData::from_split(&split, &[1]).unwrap()
    }

    #[test]
    fn filters_digits_and_scales_pixels() {
        let data = tiny();
        assert_eq!(data.len(), 2);
        let mut buf = Vec::new();
        data.fill_batch(&[0], OutputKind::Tanh, &mut buf);
        assert_eq!(buf.len(), IMAGE_PIXELS);
        assert_eq!(buf[0], -1.0);
        assert!((buf[255] - 1.0).abs() < 1e-6);
        data.fill_batch(&[0], OutputKind::Sigmoid, &mut buf);
        assert!((buf[255] - 1.0).abs() < 1e-6 && buf[0] == 0.0);
    }

    #[test]
    fn truncate_keeps_the_first_digits() {
        let mut data = tiny();
        data.truncate(1);
        assert_eq!(data.len(), 1);
        assert_eq!(data.image(0)[1], 1);
        data.truncate(0);
        assert_eq!(data.len(), 1);
    }

    #[test]
    fn epoch_orders_are_seeded_permutations() {
        let data = tiny();
        let a = data.epoch_order(5, 1);
        assert_eq!(a, data.epoch_order(5, 1));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1]);
    }

    #[test]
    fn an_empty_selection_is_an_error() {
        let split = Split {
            images: vec![0; IMAGE_PIXELS],
            labels: vec![2],
            len: 1,
        };
        assert!(TrainingData::from_split(&split, &[7]).is_err());
    }
}
