//! The IDX header (magic number and dimensions), checked before anything is allocated, and the
//! [`Limits`] the caller sets on what a header may promise.

use std::io::{self, Read};

use crate::dtype::Dtype;
use crate::error::{ErrorKind, Result};

/// Caps on what a file's header can make the reader allocate.
///
/// The default allows 4 GiB of data, enough for EMNIST. Raise it to read bigger files:
///
/// ```
/// let mut limits = mnist_idx::Limits::default();
/// limits.max_bytes = 16 << 30;
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most bytes of data (after the header) a header may promise.
    pub max_bytes: u64,
}

impl Limits {
    /// Limits allowing `max_bytes` bytes of data.
    pub fn max_bytes(max_bytes: u64) -> Self {
        Limits { max_bytes }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 4 << 30 }
    }
}

/// A checked IDX header: element type and dimensions. Its sizes are known to fit in `u64` and
/// `usize`, so [`len`](Header::len) and [`data_bytes`](Header::data_bytes) cannot overflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    dtype: Dtype,
    dims: Vec<usize>,
    len: usize,
    item_len: usize,
}

impl Header {
    /// A header for `dims` of `dtype`; fails if there are more than 255 dimensions, a dimension
    /// exceeds `u32::MAX`, or the byte count overflows.
    pub fn new(dtype: Dtype, dims: Vec<usize>) -> Result<Header> {
        if dims.len() > 255 {
            return Err(ErrorKind::TooManyDims { rank: dims.len() }.into());
        }
        let mut wide = Vec::with_capacity(dims.len());
        for (index, &size) in dims.iter().enumerate() {
            match u32::try_from(size) {
                Ok(d) => wide.push(u64::from(d)),
                Err(_) => return Err(ErrorKind::DimTooLarge { index, size }.into()),
            }
        }
        Self::checked(dtype, &wide)
    }

    /// Checks the sizes of `dims` (each at most `u32::MAX`, at most 255 of them).
    fn checked(dtype: Dtype, dims: &[u64]) -> Result<Header> {
        let overflow = || ErrorKind::DimensionOverflow {
            dims: dims.to_vec(),
            dtype,
        };
        let size = dtype.size() as u64;
        // The bytes of one item, and of all: both must fit (the item may be huge when the first
        // dimension is 0). A zero anywhere makes the product 0, whatever comes before it.
        let item_bytes = checked_product(dims.get(1..).unwrap_or(&[]))
            .and_then(|p| p.checked_mul(size))
            .ok_or_else(overflow)?;
        let items = dims.first().copied().unwrap_or(1);
        let bytes = item_bytes.checked_mul(items).ok_or_else(overflow)?;
        let to_usize = |v: u64| usize::try_from(v).map_err(|_| overflow());
        // Values fit in usize when bytes do (size >= 1); item values likewise.
        to_usize(bytes)?;
        to_usize(item_bytes)?;
        Ok(Header {
            dtype,
            dims: dims.iter().map(|&d| d as usize).collect(),
            len: (bytes / size) as usize,
            item_len: (item_bytes / size) as usize,
        })
    }

    /// Reads and checks a header from `reader`: magic number, dtype, dimensions, sizes against
    /// `limits`. Reads nothing past the header and allocates nothing the header asks for.
    pub fn read_from<R: Read>(reader: &mut R, limits: &Limits) -> Result<Header> {
        let mut magic = [0u8; 4];
        let got = read_full(reader, &mut magic)?;
        if got < 4 {
            return Err(ErrorKind::TruncatedHeader {
                rank: None,
                expected: 4,
                found: got,
            }
            .into());
        }
        if magic[0] != 0 || magic[1] != 0 {
            return Err(ErrorKind::BadMagic { found: magic }.into());
        }
        let dtype = Dtype::from_code(magic[2]).ok_or(ErrorKind::UnknownDtype { code: magic[2] })?;
        let rank = magic[3];
        let mut raw = [0u8; 4 * 255];
        let raw = &mut raw[..4 * usize::from(rank)];
        let got = read_full(reader, raw)?;
        if got < raw.len() {
            return Err(ErrorKind::TruncatedHeader {
                rank: Some(rank),
                expected: 4 + raw.len(),
                found: 4 + got,
            }
            .into());
        }
        let dims: Vec<u64> = raw
            .chunks_exact(4)
            .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
        let header = Header::checked(dtype, &dims)?;
        if header.data_bytes() > limits.max_bytes {
            return Err(ErrorKind::LimitExceeded {
                dims: header.dims.clone(),
                dtype,
                bytes: header.data_bytes(),
                limit: limits.max_bytes,
            }
            .into());
        }
        Ok(header)
    }

    /// The header's bytes: `00 00 <dtype> <rank>`, then each dimension as a big-endian `u32`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header_bytes());
        // `new` and `checked` keep rank <= 255 and every dimension <= u32::MAX.
        out.extend_from_slice(&[0, 0, self.dtype.code(), self.dims.len() as u8]);
        for &d in &self.dims {
            out.extend_from_slice(&(d as u32).to_be_bytes());
        }
        out
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The number of items along the first dimension (1 when there are no dimensions).
    pub fn items(&self) -> usize {
        Self::items_of(&self.dims)
    }

    pub(crate) fn items_of(dims: &[usize]) -> usize {
        dims.first().copied().unwrap_or(1)
    }

    /// The number of values in one item: the product of every dimension but the first.
    pub fn item_len(&self) -> usize {
        self.item_len
    }

    /// The number of values: the product of the dimensions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of data after the header.
    pub fn data_bytes(&self) -> u64 {
        // Checked in `checked`: fits.
        self.len as u64 * self.dtype.size() as u64
    }

    /// Bytes of the header itself: 4 + 4 per dimension.
    pub fn header_bytes(&self) -> usize {
        4 + 4 * self.dims.len()
    }
}

/// The product of `dims`: 0 if any is 0 (even when the others overflow), `None` if it
/// overflows, 1 for none.
pub(crate) fn checked_product<T>(dims: &[T]) -> Option<T>
where
    T: Copy + From<u8> + PartialEq + CheckedMul,
{
    let zero = T::from(0);
    if dims.contains(&zero) {
        return Some(zero);
    }
    dims.iter().try_fold(T::from(1), |acc, &d| acc.checked(d))
}

/// `checked_mul` for the integer types dimensions come in.
pub(crate) trait CheckedMul: Sized {
    /// `self * other`, or `None` on overflow.
    fn checked(self, other: Self) -> Option<Self>;
}

impl CheckedMul for u64 {
    fn checked(self, other: Self) -> Option<Self> {
        self.checked_mul(other)
    }
}

impl CheckedMul for usize {
    fn checked(self, other: Self) -> Option<Self> {
        self.checked_mul(other)
    }
}

/// Reads until `buf` is full or the reader ends; returns how many bytes were read.
pub(crate) fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Header> {
        Header::read_from(&mut &bytes[..], &Limits::default())
    }

    #[test]
    fn parses_mnist_images_header() {
        let h = parse(&[0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]).unwrap();
        assert_eq!(h.dtype(), Dtype::U8);
        assert_eq!(h.dims(), &[60000, 28, 28]);
        assert_eq!(h.items(), 60000);
        assert_eq!(h.item_len(), 784);
        assert_eq!(h.data_bytes(), 47_040_000);
        assert_eq!(h.header_bytes(), 16);
        assert_eq!(
            h.to_bytes(),
            [0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]
        );
    }

    #[test]
    fn empty_input() {
        assert_eq!(
            parse(&[]).unwrap_err().to_string(),
            "truncated header: an IDX file starts with a 4-byte magic number, found 0 bytes"
        );
    }

    #[test]
    fn short_dims() {
        assert_eq!(
            parse(&[0, 0, 8, 3, 0, 0, 0, 1, 0, 0])
                .unwrap_err()
                .to_string(),
            "truncated header: 3 dimensions need a 16-byte header, found 10 bytes"
        );
    }

    #[test]
    fn bad_magic() {
        assert_eq!(
            parse(b"\x01\x00\x08\x01").unwrap_err().to_string(),
            "bad magic number 01 00 08 01: an IDX file starts with 00 00, then a dtype byte and \
             the number of dimensions"
        );
    }

    #[test]
    fn unknown_dtype() {
        assert_eq!(
            parse(&[0, 0, 0x0a, 1, 0, 0, 0, 1]).unwrap_err().to_string(),
            "unknown dtype 0x0a: expected 0x08 (u8), 0x09 (i8), 0x0b (i16), 0x0c (i32), \
             0x0d (f32) or 0x0e (f64)"
        );
    }

    #[test]
    fn overflow_fails_before_allocation() {
        // 4 + 4*4 = 20 bytes claiming 2^32-1 ^ 4 f64 values.
        let e = parse(&[
            0, 0, 0x0e, 4, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
            255, 255,
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "dimensions 4294967295x4294967295x4294967295x4294967295 of f64 (8 bytes each) \
             describe more bytes than fit in 64-bit sizes"
        );
    }

    #[test]
    fn huge_item_with_no_items_overflows_too() {
        let e = parse(&[
            0, 0, 0x0e, 4, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        ])
        .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::DimensionOverflow { .. }),
            "{e}"
        );
    }

    /// Fuzzing found dims like 4294967295x4294967295x0: the product is 0 (an empty file),
    /// though multiplying from the left overflows first.
    #[test]
    fn zero_after_huge_dims_is_empty_not_overflow() {
        let h = parse(&[
            0, 0, 0x0d, 4, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0,
        ])
        .unwrap();
        assert_eq!((h.len(), h.item_len(), h.data_bytes()), (0, 0, 0));
        assert_eq!(checked_product(&[usize::MAX, 2, 0]), Some(0));
        assert_eq!(checked_product(&[usize::MAX, 2]), None);
        assert_eq!(checked_product::<u64>(&[]), Some(1));
    }

    #[test]
    fn limit_exceeded() {
        // 2^31 x 2^31 f64: 2^65 bytes overflows; 2^31 x 2 f64 = 2^35 bytes exceeds 4 GiB.
        let e = parse(&[0, 0, 0x0e, 2, 0x80, 0, 0, 0, 0, 0, 0, 2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "limit exceeded: header promises dims 2147483648x2 of f64 (34359738368 bytes), more \
             than the limit of 4294967296 bytes (raise Limits::max_bytes to read it)"
        );
        let raised = Limits::max_bytes(1 << 40);
        let h = Header::read_from(
            &mut &[0u8, 0, 0x0e, 2, 0x80, 0, 0, 0, 0, 0, 0, 2][..],
            &raised,
        )
        .unwrap();
        assert_eq!(h.len(), 1 << 32);
    }

    #[test]
    fn scalar_header() {
        let h = parse(&[0, 0, 0x0d, 0]).unwrap();
        assert_eq!(h.dims(), &[] as &[usize]);
        assert_eq!(
            (h.len(), h.items(), h.item_len(), h.data_bytes()),
            (1, 1, 1, 4)
        );
    }

    #[test]
    fn new_checks_dims() {
        assert_eq!(
            Header::new(Dtype::U8, vec![1; 256])
                .unwrap_err()
                .to_string(),
            "256 dimensions: an IDX file holds at most 255"
        );
        #[cfg(target_pointer_width = "64")]
        assert_eq!(
            Header::new(Dtype::U8, vec![2, 1 << 32])
                .unwrap_err()
                .to_string(),
            "dimension 1 is 4294967296: an IDX dimension is at most 4294967295"
        );
    }
}
