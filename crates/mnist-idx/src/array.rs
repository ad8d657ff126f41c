//! In-memory IDX contents: typed ([`IdxArray<T>`]) and dynamic ([`IdxData`]).

use std::path::Path;

use crate::dtype::{Dtype, IdxElement};
use crate::error::{ErrorKind, Result};
use crate::header::{checked_product, Header};
use crate::write::{self, Compression};

/// The contents of an IDX file whose element type is known at compile time: its dimensions and
/// its values in row-major order (`data.len()` is the product of `dims`; 1 for no dimensions).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdxArray<T> {
    /// The dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<T>,
}

impl<T: IdxElement> IdxArray<T> {
    /// An array of the given dimensions and values; fails if `data.len()` is not the product of
    /// `dims`.
    pub fn new(dims: Vec<usize>, data: Vec<T>) -> Result<Self> {
        write::check_shape::<T>(&dims, data.len())?;
        Ok(IdxArray { dims, data })
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        T::DTYPE
    }

    /// The number of items along the first dimension (1 for no dimensions).
    pub fn items(&self) -> usize {
        Header::items_of(&self.dims)
    }

    /// The number of values in one item: the product of every dimension but the first
    /// (`usize::MAX` if that overflows, which dims checked by [`IdxArray::new`] never do).
    pub fn item_len(&self) -> usize {
        checked_product(self.dims.get(1..).unwrap_or(&[])).unwrap_or(usize::MAX)
    }

    /// Item `i` of the first dimension (e.g. one 28×28 image), if there is one.
    pub fn item(&self, i: usize) -> Option<&[T]> {
        if i >= self.items() {
            return None;
        }
        let len = self.item_len();
        let start = i.checked_mul(len)?;
        self.data.get(start..start.checked_add(len)?)
    }

    /// Writes the array to `path` atomically (see [`write()`](crate::write())).
    pub fn write(&self, path: impl AsRef<Path>, compression: Compression) -> Result<()> {
        write::write(path, &self.dims, &self.data, compression)
    }

    /// Into the dynamic form.
    pub fn into_data(self) -> IdxData {
        T::into_data(self)
    }
}

/// The contents of an IDX file whose element type is known only at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum IdxData {
    /// dtype `0x08`.
    U8(IdxArray<u8>),
    /// dtype `0x09`.
    I8(IdxArray<i8>),
    /// dtype `0x0B`.
    I16(IdxArray<i16>),
    /// dtype `0x0C`.
    I32(IdxArray<i32>),
    /// dtype `0x0D`.
    F32(IdxArray<f32>),
    /// dtype `0x0E`.
    F64(IdxArray<f64>),
}

/// Runs `$body` with `$a` bound to the typed array inside an `IdxData`.
macro_rules! with_array {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            IdxData::U8($a) => $body,
            IdxData::I8($a) => $body,
            IdxData::I16($a) => $body,
            IdxData::I32($a) => $body,
            IdxData::F32($a) => $body,
            IdxData::F64($a) => $body,
        }
    };
}

impl IdxData {
    /// The element type.
    pub fn dtype(&self) -> Dtype {
        with_array!(self, a => a.dtype())
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        with_array!(self, a => &a.dims)
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        with_array!(self, a => a.data.len())
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as an `f64`, if there is one.
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        with_array!(self, a => a.data.get(i).map(|v| v.to_f64()))
    }

    /// The typed array, if it holds `T`; otherwise a
    /// [`DtypeMismatch`](ErrorKind::DtypeMismatch) error.
    pub fn into_typed<T: IdxElement>(self) -> Result<IdxArray<T>> {
        let found = self.dtype();
        T::from_data(self).map_err(|_| {
            ErrorKind::DtypeMismatch {
                expected: T::DTYPE,
                found,
            }
            .into()
        })
    }

    /// Writes the data to `path` atomically (see [`write()`](crate::write())).
    pub fn write(&self, path: impl AsRef<Path>, compression: Compression) -> Result<()> {
        with_array!(self, a => a.write(path.as_ref(), compression))
    }

    /// Writes the data to `writer` (see [`write_to`](crate::write_to)).
    pub fn write_to<W: std::io::Write>(&self, writer: W, compression: Compression) -> Result<W> {
        with_array!(self, a => write::write_to(writer, &a.dims, &a.data, compression))
    }
}

impl<T: IdxElement> From<IdxArray<T>> for IdxData {
    fn from(a: IdxArray<T>) -> Self {
        T::into_data(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_item() {
        let a = IdxArray::new(vec![3, 2], vec![1u8, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(a.items(), 3);
        assert_eq!(a.item_len(), 2);
        assert_eq!(a.item(1), Some(&[3u8, 4][..]));
        assert_eq!(a.item(3), None);
        assert_eq!(a.item(usize::MAX), None);
        let scalar = IdxArray::new(vec![], vec![2.5f64]).unwrap();
        assert_eq!(scalar.items(), 1);
        assert_eq!(scalar.item(0), Some(&[2.5][..]));
        // Regression (fuzzing): dims whose left-to-right product overflows before a 0.
        let big = u32::MAX as usize;
        let empty = IdxArray::<f32>::new(vec![2, big, big, big, 0], vec![]).unwrap();
        assert_eq!(
            (empty.item_len(), empty.item(1), empty.item(2)),
            (0, Some(&[][..]), None)
        );
    }

    #[test]
    fn new_checks_the_length() {
        let e = IdxArray::new(vec![2, 3], vec![0i16; 5]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data length mismatch: dims 2x3 need 6 values, got 5"
        );
    }

    #[test]
    fn dynamic_to_typed() {
        let d: IdxData = IdxArray::new(vec![2], vec![1i32, -1]).unwrap().into();
        assert_eq!(d.dtype(), Dtype::I32);
        assert_eq!(d.dims(), &[2]);
        assert_eq!(d.get_f64(1), Some(-1.0));
        let e = d.clone().into_typed::<u8>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "dtype mismatch: the file holds i32 values, u8 were asked for"
        );
        assert_eq!(d.into_typed::<i32>().unwrap().data, [1, -1]);
    }
}
