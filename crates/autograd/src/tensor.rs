//! [`Tensor`]: f32 values in row-major order and a shape. Deliberately boring.

use crate::error::{Error, Result};
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

/// A dense f32 tensor stored in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// The number of elements a shape holds (1 for a scalar shape `[]`).
///
/// # Panics
/// When the count does not fit a `usize`: no tensor can hold that many elements, and a wrapped
/// count would allocate the wrong size. Callers that take shapes from users or files check them
/// first with [`checked_numel`] (the `gan` crate bounds every size before building anything).
pub fn numel(shape: &[usize]) -> usize {
    checked_numel(shape)
        .unwrap_or_else(|| panic!("a tensor of shape {shape:?} has more elements than memory"))
}

/// The number of elements a shape holds, or `None` when it does not fit a `usize`.
pub fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

impl Tensor {
    /// A tensor from values in row-major order; fails when the length does not match the shape.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Tensor> {
        let expected = checked_numel(shape).unwrap_or(usize::MAX);
        if expected != data.len() {
            return Err(Error::DataLength {
                shape: shape.to_vec(),
                expected,
                found: data.len(),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor with every element equal to `value`.
    pub fn full(shape: &[usize], value: f32) -> Tensor {
        Tensor {
            shape: shape.to_vec(),
            data: vec![value; numel(shape)],
        }
    }

    /// A one-element tensor of shape `[1]`.
    pub fn scalar(value: f32) -> Tensor {
        Tensor::full(&[1], value)
    }

    /// Values drawn from N(mean, std²) with the given random source.
    pub fn normal(shape: &[usize], mean: f32, std: f32, rng: &mut impl Rng) -> Tensor {
        let mut t = Tensor::zeros(shape);
        t.fill_normal(mean, std, rng);
        t
    }

    /// Values drawn uniformly from [low, high) with the given random source.
    pub fn uniform(shape: &[usize], low: f32, high: f32, rng: &mut impl Rng) -> Tensor {
        let mut t = Tensor::zeros(shape);
        t.fill_uniform(low, high, rng);
        t
    }

    /// Overwrites every element with a draw from N(mean, std²); a non-positive or non-finite
    /// `std` gives `mean` everywhere.
    pub fn fill_normal(&mut self, mean: f32, std: f32, rng: &mut impl Rng) {
        match Normal::new(mean, std) {
            Ok(dist) if std > 0.0 => self.data.iter_mut().for_each(|x| *x = dist.sample(rng)),
            _ => self.data.fill(mean),
        }
    }

    /// Overwrites every element with a uniform draw from [low, high); an empty range gives `low`.
    pub fn fill_uniform(&mut self, low: f32, high: f32, rng: &mut impl Rng) {
        match Uniform::new(low, high) {
            Ok(dist) => self.data.iter_mut().for_each(|x| *x = dist.sample(rng)),
            Err(_) => self.data.fill(low),
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The values in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The values in row-major order, mutably.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Takes the values out, leaving the tensor empty (used to return buffers to a pool).
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// The same values under another shape with as many elements.
    pub fn reshaped(mut self, shape: &[usize]) -> Result<Tensor> {
        if checked_numel(shape) != Some(self.data.len()) {
            return Err(Error::DataLength {
                shape: shape.to_vec(),
                expected: checked_numel(shape).unwrap_or(usize::MAX),
                found: self.data.len(),
            });
        }
        self.shape = shape.to_vec();
        Ok(self)
    }

    /// The single value of a one-element tensor, or `None`.
    pub fn item(&self) -> Option<f32> {
        (self.data.len() == 1).then(|| self.data[0])
    }

    /// Size of dimension `axis`, counting from the front.
    pub fn dim(&self, axis: usize) -> usize {
        self.shape.get(axis).copied().unwrap_or(1)
    }

    /// Sets every element to zero, keeping the shape.
    pub fn zero(&mut self) {
        self.data.fill(0.0);
    }

    /// Builds a tensor around an existing buffer of the right length (internal, no checks beyond
    /// a debug assertion).
    pub(crate) fn from_parts(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(numel(&shape), data.len());
        Tensor { shape, data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn element_counts_are_checked() {
        assert_eq!(checked_numel(&[]), Some(1));
        assert_eq!(checked_numel(&[3, 4]), Some(12));
        assert_eq!(checked_numel(&[usize::MAX, 2]), None);
        assert!(Tensor::from_vec(&[usize::MAX, 2], vec![0.0; 2]).is_err());
        let wrapped = std::panic::catch_unwind(|| numel(&[1 << 40, 1 << 40]));
        assert!(wrapped.is_err());
    }

    #[test]
    fn from_vec_checks_length() {
        let err = Tensor::from_vec(&[2, 3], vec![0.0; 5]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tensor of shape [2, 3] needs 6 values, got 5"
        );
        assert_eq!(Tensor::from_vec(&[2, 3], vec![1.0; 6]).unwrap().len(), 6);
    }

    #[test]
    fn seeded_constructors_repeat() {
        let a = Tensor::normal(
            &[3, 4],
            0.0,
            1.0,
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(7),
        );
        let b = Tensor::normal(
            &[3, 4],
            0.0,
            1.0,
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(7),
        );
        assert_eq!(a, b);
        let u = Tensor::uniform(
            &[1000],
            -0.5,
            0.5,
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(1),
        );
        assert!(u.data().iter().all(|&x| (-0.5..0.5).contains(&x)));
    }

    #[test]
    fn reshape_keeps_values() {
        let t = Tensor::from_vec(&[2, 3], (0..6).map(|x| x as f32).collect()).unwrap();
        let r = t.reshaped(&[3, 2]).unwrap();
        assert_eq!(r.shape(), &[3, 2]);
        assert_eq!(r.data()[5], 5.0);
    }
}
