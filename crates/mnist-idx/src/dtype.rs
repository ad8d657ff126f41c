//! The six IDX element types: the runtime tag [`Dtype`] and the compile-time trait
//! [`IdxElement`].

use std::fmt;

use byteorder::{BigEndian, ByteOrder};

use crate::array::{IdxArray, IdxData};

/// An IDX element type, as coded in the third byte of the magic number. Values are big-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// `0x08`: unsigned byte.
    U8,
    /// `0x09`: signed byte.
    I8,
    /// `0x0B`: 16-bit signed integer.
    I16,
    /// `0x0C`: 32-bit signed integer.
    I32,
    /// `0x0D`: 32-bit IEEE float.
    F32,
    /// `0x0E`: 64-bit IEEE float.
    F64,
}

impl Dtype {
    /// Every dtype, in code order.
    pub const ALL: [Dtype; 6] = [
        Dtype::U8,
        Dtype::I8,
        Dtype::I16,
        Dtype::I32,
        Dtype::F32,
        Dtype::F64,
    ];

    /// The dtype coded by `code` (the magic number's third byte), if any.
    pub fn from_code(code: u8) -> Option<Dtype> {
        Some(match code {
            0x08 => Dtype::U8,
            0x09 => Dtype::I8,
            0x0B => Dtype::I16,
            0x0C => Dtype::I32,
            0x0D => Dtype::F32,
            0x0E => Dtype::F64,
            _ => return None,
        })
    }

    /// The code of this dtype in the magic number.
    pub fn code(self) -> u8 {
        match self {
            Dtype::U8 => 0x08,
            Dtype::I8 => 0x09,
            Dtype::I16 => 0x0B,
            Dtype::I32 => 0x0C,
            Dtype::F32 => 0x0D,
            Dtype::F64 => 0x0E,
        }
    }

    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            Dtype::U8 | Dtype::I8 => 1,
            Dtype::I16 => 2,
            Dtype::I32 | Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    /// The Rust name of the type: `u8`, `i8`, `i16`, `i32`, `f32`, `f64`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::U8 => "u8",
            Dtype::I8 => "i8",
            Dtype::I16 => "i16",
            Dtype::I32 => "i32",
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }

    /// The dtype named `name` (as [`Dtype::name`] spells it), if any.
    pub fn from_name(name: &str) -> Option<Dtype> {
        Dtype::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is an IDX element type: `u8`, `i8`, `i16`, `i32`, `f32` or `f64`.
///
/// It lets the typed API ([`read`](crate::read()), [`IdxArray<T>`],
/// [`IdxReader::next_item`](crate::IdxReader::next_item)) know the element type at compile time.
/// This trait is sealed: the six implementations are all there is.
pub trait IdxElement:
    Copy
    + PartialEq
    + PartialOrd
    + fmt::Debug
    + fmt::Display
    + Default
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// The dtype this type is stored as.
    const DTYPE: Dtype;

    /// The value as an `f64` (exact for every type but `f64` itself, which it returns).
    fn to_f64(self) -> f64;

    /// Appends the values coded big-endian in `bytes` to `out`. `bytes.len()` is a multiple of
    /// the size of `Self`; a remainder is ignored.
    fn decode_be(bytes: &[u8], out: &mut Vec<Self>);

    /// Appends the big-endian bytes of `values` to `out`.
    fn encode_be(values: &[Self], out: &mut Vec<u8>);

    /// Wraps a typed array into the dynamic form.
    fn into_data(array: IdxArray<Self>) -> IdxData;

    /// Unwraps the dynamic form if it holds this type, or gives it back.
    fn from_data(data: IdxData) -> Result<IdxArray<Self>, IdxData>;
}

/// Grows `out` by `n` default values and returns the new tail.
fn grow<T: Default + Copy>(out: &mut Vec<T>, n: usize) -> &mut [T] {
    let old = out.len();
    out.resize(old + n, T::default());
    &mut out[old..]
}

macro_rules! element {
    ($t:ty, $variant:ident, $decode:expr, $encode:expr) => {
        impl sealed::Sealed for $t {}

        impl IdxElement for $t {
            const DTYPE: Dtype = Dtype::$variant;

            fn to_f64(self) -> f64 {
                self as f64
            }

            fn decode_be(bytes: &[u8], out: &mut Vec<Self>) {
                const SIZE: usize = std::mem::size_of::<$t>();
                let n = bytes.len() / SIZE;
                let decode: fn(&[u8], &mut [$t]) = $decode;
                decode(&bytes[..n * SIZE], grow(out, n));
            }

            fn encode_be(values: &[Self], out: &mut Vec<u8>) {
                const SIZE: usize = std::mem::size_of::<$t>();
                let encode: fn(&[$t], &mut [u8]) = $encode;
                encode(values, grow(out, values.len() * SIZE));
            }

            fn into_data(array: IdxArray<Self>) -> IdxData {
                IdxData::$variant(array)
            }

            fn from_data(data: IdxData) -> Result<IdxArray<Self>, IdxData> {
                match data {
                    IdxData::$variant(a) => Ok(a),
                    other => Err(other),
                }
            }
        }
    };
}

element!(u8, U8, |b, o| o.copy_from_slice(b), |v, o| o
    .copy_from_slice(v));
element!(
    i8,
    I8,
    |b, o| o.iter_mut().zip(b).for_each(|(o, &b)| *o = b as i8),
    |v, o| o.iter_mut().zip(v).for_each(|(o, &v)| *o = v as u8)
);
element!(
    i16,
    I16,
    BigEndian::read_i16_into,
    BigEndian::write_i16_into
);
element!(
    i32,
    I32,
    BigEndian::read_i32_into,
    BigEndian::write_i32_into
);
element!(
    f32,
    F32,
    BigEndian::read_f32_into,
    BigEndian::write_f32_into
);
element!(
    f64,
    F64,
    BigEndian::read_f64_into,
    BigEndian::write_f64_into
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for d in Dtype::ALL {
            assert_eq!(Dtype::from_code(d.code()), Some(d));
            assert_eq!(Dtype::from_name(d.name()), Some(d));
        }
        assert_eq!(Dtype::from_code(0x0A), None);
        assert_eq!(Dtype::from_name("u16"), None);
    }

    #[test]
    fn big_endian_coding() {
        let mut bytes = Vec::new();
        i16::encode_be(&[0x0102, -2], &mut bytes);
        assert_eq!(bytes, [1, 2, 0xff, 0xfe]);
        let mut back = Vec::new();
        i16::decode_be(&bytes, &mut back);
        assert_eq!(back, [0x0102, -2]);

        let mut bytes = Vec::new();
        f32::encode_be(&[1.0], &mut bytes);
        assert_eq!(bytes, [0x3f, 0x80, 0, 0]);

        let mut back = Vec::new();
        i8::decode_be(&[0xff, 0x7f], &mut back);
        assert_eq!(back, [-1, 127]);
    }

    #[test]
    fn decode_ignores_a_partial_value() {
        let mut back = Vec::new();
        i32::decode_be(&[0, 0, 0, 5, 1, 2], &mut back);
        assert_eq!(back, [5]);
    }
}
