//! The bridge to [`ndarray`] (cargo feature `ndarray`, on by default): a [`Tensor`] is a
//! row-major buffer and a shape, which is exactly an `ndarray` array in standard layout.
//!
//! - [`Tensor::view_nd`] / [`Tensor::view_nd_mut`]: borrowed views, no copy.
//! - `ArrayD::<f32>::from(tensor)`: takes the buffer over, no copy; [`Tensor::to_ndarray`] copies.
//! - `Tensor::from(array)` for an owned [`Array`]: takes its buffer over when it is in standard
//!   layout, copies otherwise; `Tensor::from(view)` and [`Tensor::from_ndarray`] (any array,
//!   view or layout) copy. Arrays in any layout (transposed, Fortran-order, sliced with steps)
//!   give their elements in logical row-major order.
//!
//! ```
//! use autograd::Tensor;
//! use ndarray::{array, ArrayD, Axis};
//!
//! # fn main() -> Result<(), autograd::Error> {
//! let t = Tensor::from_vec(&[2, 3], vec![1., 2., 3., 4., 5., 6.])?;
//! // A view: the tensor's own buffer, read by ndarray.
//! assert_eq!(t.view_nd().sum_axis(Axis(0)), array![5f32, 7., 9.].into_dyn());
//!
//! // A transposed array is copied into row-major order.
//! let back = Tensor::from(array![[1f32, 2., 3.], [4., 5., 6.]].reversed_axes());
//! assert_eq!(back.shape(), &[3, 2]);
//! assert_eq!(back.data(), &[1., 4., 2., 5., 3., 6.]);
//!
//! // Into an owned array and back, without copying.
//! let a: ArrayD<f32> = t.clone().into();
//! assert_eq!(Tensor::from(a), t);
//! # Ok(())
//! # }
//! ```

use crate::tensor::Tensor;
use ndarray::{
    Array, ArrayBase, ArrayD, ArrayView, ArrayViewD, ArrayViewMutD, Data, Dimension, IxDyn,
};

impl Tensor {
    /// A read-only `ndarray` view of the values, without copying.
    pub fn view_nd(&self) -> ArrayViewD<'_, f32> {
        ArrayViewD::from_shape(IxDyn(self.shape()), self.data())
            .expect("a tensor's shape matches its data")
    }

    /// A writable `ndarray` view of the values, without copying.
    pub fn view_nd_mut(&mut self) -> ArrayViewMutD<'_, f32> {
        let shape = IxDyn(self.shape());
        ArrayViewMutD::from_shape(shape, self.data_mut())
            .expect("a tensor's shape matches its data")
    }

    /// A copy of the values as an owned `ndarray` array (`ArrayD::from(tensor)` moves instead).
    pub fn to_ndarray(&self) -> ArrayD<f32> {
        self.view_nd().to_owned()
    }

    /// A copy of any `ndarray` array or view of f32, in any layout, with its shape; the
    /// elements are taken in logical row-major order.
    pub fn from_ndarray<S, D>(array: &ArrayBase<S, D>) -> Tensor
    where
        S: Data<Elem = f32>,
        D: Dimension,
    {
        let data = match array.as_slice() {
            Some(contiguous) => contiguous.to_vec(),
            None => array.iter().copied().collect(),
        };
        Tensor::from_parts(array.shape().to_vec(), data)
    }
}

impl From<Tensor> for ArrayD<f32> {
    /// The tensor's buffer as an array of its shape, without copying.
    fn from(t: Tensor) -> ArrayD<f32> {
        let shape = IxDyn(t.shape());
        ArrayD::from_shape_vec(shape, t.into_data()).expect("a tensor's shape matches its data")
    }
}

impl<D: Dimension> From<Array<f32, D>> for Tensor {
    /// The array's buffer when it is in standard (row-major) layout, a row-major copy otherwise.
    fn from(array: Array<f32, D>) -> Tensor {
        if !array.is_standard_layout() {
            return Tensor::from_ndarray(&array);
        }
        let (shape, len) = (array.shape().to_vec(), array.len());
        let (data, offset) = array.into_raw_vec_and_offset();
        let offset = offset.unwrap_or(0);
        let data = if offset == 0 && data.len() == len {
            data
        } else {
            // Standard layout: the elements are the `len` values from `offset` on.
            data[offset..offset + len].to_vec()
        };
        Tensor::from_parts(shape, data)
    }
}

impl<D: Dimension> From<ArrayView<'_, f32, D>> for Tensor {
    /// A row-major copy of the viewed elements.
    fn from(view: ArrayView<'_, f32, D>) -> Tensor {
        Tensor::from_ndarray(&view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2, Array3, ShapeBuilder};

    fn counting(shape: &[usize]) -> Tensor {
        let n = shape.iter().product::<usize>();
        Tensor::from_vec(shape, (0..n).map(|v| v as f32).collect()).unwrap()
    }

    #[test]
    fn views_share_the_buffer() {
        let mut t = counting(&[2, 3, 4]);
        let v = t.view_nd();
        assert_eq!(v.shape(), &[2, 3, 4]);
        assert_eq!(v[[1, 2, 3]], 23.0);
        assert_eq!(v.as_ptr(), t.data().as_ptr());
        t.view_nd_mut()[[0, 1, 2]] = -1.0;
        assert_eq!(t.data()[6], -1.0);
        // A scalar shape is a 0-d array.
        let s = Tensor::from_vec(&[], vec![7.0]).unwrap();
        assert_eq!(s.view_nd().ndim(), 0);
        assert_eq!(Tensor::from(s.to_ndarray()), s);
    }

    #[test]
    fn owned_round_trips_keep_shape_and_values() {
        for shape in [vec![5], vec![2, 3], vec![2, 0, 3], vec![1, 2, 3, 4]] {
            let t = counting(&shape);
            let copy = t.to_ndarray();
            assert_eq!(copy.shape(), shape.as_slice());
            let moved = ArrayD::from(t.clone());
            assert_eq!(moved, copy);
            assert_eq!(Tensor::from(moved), t);
            assert_eq!(Tensor::from(copy.view()), t);
            assert_eq!(Tensor::from_ndarray(&copy), t);
        }
    }

    #[test]
    fn non_standard_layouts_are_copied_in_row_major_order() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as f32);
        let want_t: Vec<f32> = (0..4)
            .flat_map(|j| (0..3).map(move |i| (10 * i + j) as f32))
            .collect();
        // A transposed view, and an owned array in Fortran order.
        let t = Tensor::from(a.t());
        assert_eq!((t.shape(), t.data()), (&[4, 3][..], want_t.as_slice()));
        let f = Tensor::from(a.clone().reversed_axes());
        assert_eq!((f.shape(), f.data()), (&[4, 3][..], want_t.as_slice()));
        let fortran = Array2::from_shape_vec((3, 4).f(), (0..12).map(|v| v as f32).collect());
        let fortran = fortran.unwrap();
        assert!(!fortran.is_standard_layout());
        let ft = Tensor::from(fortran.clone());
        assert_eq!(ft.view_nd(), fortran.into_dyn());
        // A view with steps, and an owned array sliced in place (standard layout at an offset).
        let stepped = Tensor::from(a.slice(s![..;2, 1..;2]));
        assert_eq!(
            (stepped.shape(), stepped.data()),
            (&[2, 2][..], &[1.0, 3.0, 21.0, 23.0][..])
        );
        let offset = Tensor::from(a.clone().slice_move(s![1.., ..]));
        assert_eq!(offset.shape(), &[2, 4]);
        assert_eq!(offset.data(), &a.as_slice().unwrap()[4..]);
        let inner = Tensor::from(a.clone().slice_move(s![.., 1..3]));
        assert_eq!(inner.data(), &[1.0, 2.0, 11.0, 12.0, 21.0, 22.0]);
    }

    #[test]
    fn a_tensor_viewed_with_permuted_axes_converts_back_transposed() {
        let t = counting(&[2, 3, 4]);
        let permuted = t.view_nd().permuted_axes(vec![2, 0, 1]);
        let back = Tensor::from(permuted);
        assert_eq!(back.shape(), &[4, 2, 3]);
        let want = Array3::from_shape_fn((4, 2, 3), |(k, i, j)| (12 * i + 4 * j + k) as f32);
        assert_eq!(back.view_nd(), want.into_dyn());
    }
}
