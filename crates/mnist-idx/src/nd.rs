//! IDX arrays and MNIST images as [`ndarray`] arrays (cargo feature `ndarray`).
//!
//! - [`IdxArray::into_ndarray`] / `ArrayD::from(idx)`: an [`ArrayD<T>`] whose shape is the IDX
//!   dims, without copying; [`IdxArray::view_ndarray`]: a view of it.
//! - [`IdxArray::from_ndarray`] (any array or view, copied in row-major order) and
//!   `IdxArray::try_from(array)` (an owned array, moved when it is in standard layout): back to an
//!   [`IdxArray`] to [`write`](IdxArray::write). They fail only where an IDX header cannot hold
//!   the shape (more than 255 dimensions, a dimension over `u32::MAX`).
//! - [`Split::images_view`] (`[n, 28, 28]`), [`Split::labels_view`] (`[n]`) and
//!   [`Split::into_arrays`] (owned).
//!
//! ```
//! use mnist_idx::{Compression, IdxArray, Split, SplitKind};
//! use ndarray::{s, Array3};
//!
//! # fn main() -> Result<(), mnist_idx::Error> {
//! let test = Split::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist"), SplitKind::Test)?;
//! let images = test.images_view()?; // [10000, 28, 28]
//! assert_eq!(images.shape(), &[10_000, 28, 28]);
//! assert_eq!(images[[0, 14, 14]], test.image(0)[14 * 28 + 14]);
//!
//! // Every digit mirrored left to right, written as an IDX file and read back as an ndarray.
//! let mirrored: Array3<u8> = images.slice(s![..16, .., ..;-1]).to_owned();
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("mirrored-idx3-ubyte.gz");
//! IdxArray::try_from(mirrored.clone())?.write(&path, Compression::Gzip)?;
//! let back = mnist_idx::read::<u8>(&path)?.into_ndarray();
//! assert_eq!(back, mirrored.into_dyn());
//! # Ok(())
//! # }
//! ```

use ndarray::{
    Array, Array1, Array3, ArrayBase, ArrayD, ArrayView1, ArrayView3, ArrayViewD, Data, Dimension,
    IxDyn,
};

use crate::array::IdxArray;
use crate::dtype::IdxElement;
use crate::error::{ErrorKind, Result};
use crate::mnist::{Split, COLS, ROWS};

impl<T: IdxElement> IdxArray<T> {
    /// The array as an [`ArrayD<T>`] of shape `dims` (a 0-dimensional array for no dims), without
    /// copying the values.
    pub fn into_ndarray(self) -> ArrayD<T> {
        ArrayD::from_shape_vec(IxDyn(&self.dims), self.data)
            .expect("an IdxArray's data length is the product of its dims")
    }

    /// A view of the array as an [`ArrayViewD<T>`] of shape `dims`.
    pub fn view_ndarray(&self) -> ArrayViewD<'_, T> {
        ArrayViewD::from_shape(IxDyn(&self.dims), &self.data)
            .expect("an IdxArray's data length is the product of its dims")
    }

    /// An `IdxArray` with the shape of `array` and its values in row-major (logical) order,
    /// whatever its memory layout; fails if an IDX header cannot hold the shape.
    pub fn from_ndarray<S, D>(array: &ArrayBase<S, D>) -> Result<IdxArray<T>>
    where
        S: Data<Elem = T>,
        D: Dimension,
    {
        let data = match array.as_slice() {
            Some(slice) => slice.to_vec(),
            None => array.iter().copied().collect(),
        };
        IdxArray::new(array.shape().to_vec(), data)
    }
}

impl<T: IdxElement> From<IdxArray<T>> for ArrayD<T> {
    fn from(array: IdxArray<T>) -> ArrayD<T> {
        array.into_ndarray()
    }
}

/// An owned array into an `IdxArray`: its buffer is moved when the array is in standard
/// (row-major, contiguous) layout, copied in row-major order otherwise. Fails if an IDX header
/// cannot hold the shape.
impl<T: IdxElement, D: Dimension> TryFrom<Array<T, D>> for IdxArray<T> {
    type Error = crate::Error;

    fn try_from(array: Array<T, D>) -> Result<IdxArray<T>> {
        if !array.is_standard_layout() {
            return IdxArray::from_ndarray(&array);
        }
        let dims = array.shape().to_vec();
        let len = array.len();
        let (mut data, offset) = array.into_raw_vec_and_offset();
        // Standard layout: the values are `len` contiguous elements from `offset` on.
        let start = offset.unwrap_or(0);
        data.truncate(start + len);
        data.drain(..start);
        IdxArray::new(dims, data)
    }
}

impl Split {
    /// The images as a view of shape `[len, 28, 28]`; fails if `images` does not hold
    /// `len * 784` pixels (possible only for a `Split` built by hand).
    pub fn images_view(&self) -> Result<ArrayView3<'_, u8>> {
        ArrayView3::from_shape((self.len, ROWS, COLS), &self.images)
            .map_err(|_| self.images_shape_error())
    }

    /// The labels as a view of shape `[len]`; fails if `labels` does not hold `len` values.
    pub fn labels_view(&self) -> Result<ArrayView1<'_, u8>> {
        if self.labels.len() != self.len {
            return Err(self.labels_shape_error());
        }
        Ok(ArrayView1::from(&self.labels[..]))
    }

    /// The images `[len, 28, 28]` and labels `[len]` as owned arrays, without copying; fails
    /// like [`Split::images_view`] and [`Split::labels_view`].
    pub fn into_arrays(self) -> Result<(Array3<u8>, Array1<u8>)> {
        if self.labels.len() != self.len {
            return Err(self.labels_shape_error());
        }
        let error = self.images_shape_error();
        let images =
            Array3::from_shape_vec((self.len, ROWS, COLS), self.images).map_err(|_| error)?;
        Ok((images, Array1::from(self.labels)))
    }

    fn images_shape_error(&self) -> crate::Error {
        ErrorKind::DataLength {
            dims: vec![self.len, ROWS, COLS],
            expected: (self.len as u64).saturating_mul((ROWS * COLS) as u64),
            found: self.images.len(),
        }
        .into()
    }

    fn labels_shape_error(&self) -> crate::Error {
        ErrorKind::DataLength {
            dims: vec![self.len],
            expected: self.len as u64,
            found: self.labels.len(),
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr2, s, Array2, ShapeBuilder};

    #[test]
    fn idx_to_ndarray_keeps_shape_and_order() {
        let idx = IdxArray::new(vec![2, 3], vec![1i16, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(
            idx.view_ndarray(),
            arr2(&[[1i16, 2, 3], [4, 5, 6]]).into_dyn()
        );
        let nd = ArrayD::from(idx.clone());
        assert_eq!(nd.shape(), &[2, 3]);
        assert_eq!(nd[[1, 0]], 4);
        assert_eq!(IdxArray::try_from(nd).unwrap(), idx);
        // No dims: one value, a 0-dimensional array.
        let scalar = IdxArray::new(vec![], vec![2.5f64]).unwrap().into_ndarray();
        assert_eq!((scalar.ndim(), scalar[[]]), (0, 2.5));
        assert_eq!(
            IdxArray::try_from(scalar).unwrap().dims,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn ndarray_to_idx_in_row_major_order_whatever_the_layout() {
        let c = arr2(&[[1u8, 2, 3], [4, 5, 6]]);
        let expected = IdxArray::new(vec![2, 3], vec![1u8, 2, 3, 4, 5, 6]).unwrap();
        // Column-major memory.
        let mut f = Array2::<u8>::zeros((2, 3).f());
        f.assign(&c);
        assert!(!f.is_standard_layout());
        assert_eq!(IdxArray::from_ndarray(&f).unwrap(), expected);
        assert_eq!(IdxArray::try_from(f).unwrap(), expected);
        // A transposed view, a strided slice, an owned slice with an offset.
        let t = c.t();
        assert_eq!(IdxArray::from_ndarray(&t).unwrap().data, [1, 4, 2, 5, 3, 6]);
        let every_other = IdxArray::from_ndarray(&c.slice(s![.., ..;2])).unwrap();
        assert_eq!(
            (every_other.dims, every_other.data),
            (vec![2, 2], vec![1, 3, 4, 6])
        );
        let tail = c.slice_move(s![1.., ..]);
        assert_eq!(IdxArray::try_from(tail).unwrap().data, [4, 5, 6]);
    }

    #[test]
    fn a_shape_idx_cannot_hold_is_an_error() {
        let too_many_dims = ArrayD::<f32>::zeros(IxDyn(&[1; 256]));
        let e = IdxArray::try_from(too_many_dims).unwrap_err();
        assert!(e.to_string().contains("256"), "{e}");
    }

    #[test]
    fn split_as_arrays() {
        let split = Split {
            images: (0..2 * 784).map(|i| (i % 256) as u8).collect(),
            labels: vec![3, 7],
            len: 2,
        };
        let images = split.images_view().unwrap();
        assert_eq!(images.shape(), &[2, 28, 28]);
        assert_eq!(images[[1, 2, 3]], split.image(1)[2 * 28 + 3]);
        assert_eq!(split.labels_view().unwrap().to_vec(), [3, 7]);
        let (owned, labels) = split.clone().into_arrays().unwrap();
        assert_eq!((owned.view(), labels.to_vec()), (images, vec![3, 7]));

        let short = Split {
            images: vec![0; 784],
            ..split.clone()
        };
        assert_eq!(
            short.images_view().unwrap_err().to_string(),
            "data length mismatch: dims 2x28x28 need 1568 values, got 784"
        );
        let mislabelled = Split {
            labels: vec![1],
            ..split
        };
        assert!(mislabelled.into_arrays().is_err());
    }
}
