//! Property tests: write → read round-trips every dtype and rank (0..=4 dimensions, small
//! sizes), raw and gzipped, through a path and in memory, typed, dynamic and streamed.

use mnist_idx::{
    read, read_dyn, read_dyn_from, read_from, write, write_to, Compression, IdxElement, IdxReader,
};
use proptest::prelude::*;

/// Values compared by their bytes, so NaN equals NaN and -0.0 differs from 0.0.
fn bytes_of<T: IdxElement>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    T::encode_be(values, &mut out);
    out
}

/// Dims of rank 0..=4 with sizes 0..4, and matching data.
fn array<T: IdxElement + Arbitrary>() -> impl Strategy<Value = (Vec<usize>, Vec<T>)> {
    prop::collection::vec(0usize..4, 0..=4).prop_flat_map(|dims| {
        let n: usize = dims.iter().product();
        (Just(dims), prop::collection::vec(any::<T>(), n))
    })
}

fn compression() -> impl Strategy<Value = Compression> {
    prop_oneof![Just(Compression::None), Just(Compression::Gzip)]
}

fn check<T: IdxElement>(dims: &[usize], data: &[T], c: Compression) -> Result<(), TestCaseError> {
    let want = bytes_of(data);

    // In memory: typed, dynamic, streamed.
    let bytes = write_to(Vec::new(), dims, data, c).unwrap();
    prop_assert_eq!(bytes.starts_with(&[0x1f, 0x8b]), c == Compression::Gzip);
    let a = read_from::<T, _>(&bytes[..]).unwrap();
    prop_assert_eq!(&a.dims, dims);
    prop_assert_eq!(bytes_of(&a.data), want.clone());
    let d = read_dyn_from(&bytes[..]).unwrap();
    prop_assert_eq!(d.dtype(), T::DTYPE);
    prop_assert_eq!(d.dims(), dims);
    let reader = IdxReader::new(&bytes[..]).unwrap();
    let items = reader.header().items();
    let mut streamed = Vec::new();
    let mut count = 0;
    for item in reader.items::<T>().unwrap() {
        streamed.extend(item.unwrap());
        count += 1;
    }
    prop_assert_eq!(count, items);
    prop_assert_eq!(bytes_of(&streamed), want.clone());

    // Through a path (atomic write), whatever the name says.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.idx");
    write(&path, dims, data, c).unwrap();
    prop_assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let a = read::<T>(&path).unwrap();
    prop_assert_eq!(&a.dims, dims);
    prop_assert_eq!(bytes_of(&a.data), want.clone());
    let d = read_dyn(&path).unwrap();
    let back = d.into_typed::<T>().unwrap();
    prop_assert_eq!(bytes_of(&back.data), want);
    Ok(())
}

macro_rules! roundtrip {
    ($name:ident, $t:ty) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            #[test]
            fn $name((dims, data) in array::<$t>(), c in compression()) {
                check(&dims, &data, c)?;
            }
        }
    };
}

roundtrip!(roundtrip_u8, u8);
roundtrip!(roundtrip_i8, i8);
roundtrip!(roundtrip_i16, i16);
roundtrip!(roundtrip_i32, i32);
roundtrip!(roundtrip_f32, f32);
roundtrip!(roundtrip_f64, f64);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Any bytes at all: an error or a value, never a panic; and what reads, writes back the same.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(d) = read_dyn_from(&bytes[..]) {
            let again = d.write_to(Vec::new(), Compression::None).unwrap();
            prop_assert_eq!(again, bytes);
        }
    }

    /// Any valid file cut anywhere fails (never a panic, never a short success).
    #[test]
    fn every_prefix_fails((dims, data) in array::<i16>(), c in compression(), cut in any::<prop::sample::Index>()) {
        let bytes = write_to(Vec::new(), &dims, &data, c).unwrap();
        let cut = cut.index(bytes.len());
        prop_assert!(read_dyn_from(&bytes[..cut]).is_err());
    }
}
