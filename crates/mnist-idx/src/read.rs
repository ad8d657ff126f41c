//! Whole-file reading in one call, typed or dynamic, from a path or any [`Read`].
//!
//! These use the default [`Limits`](crate::Limits); for others, or to stream, use
//! [`IdxReader`].

use std::io::Read;
use std::path::Path;

use crate::array::{IdxArray, IdxData};
use crate::dtype::IdxElement;
use crate::error::Result;
use crate::stream::IdxReader;

/// Reads the IDX file at `path` (raw or gzipped) whose element type is `T`.
///
/// ```
/// # fn main() -> Result<(), mnist_idx::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("x.idx.gz");
/// # mnist_idx::write(&path, &[2], &[-1.5f32, 2.0], mnist_idx::Compression::Gzip)?;
/// let array = mnist_idx::read::<f32>(&path)?;
/// assert_eq!(array.dims, [2]);
/// assert_eq!(array.data, [-1.5, 2.0]);
/// # Ok(())
/// # }
/// ```
pub fn read<T: IdxElement>(path: impl AsRef<Path>) -> Result<IdxArray<T>> {
    IdxReader::open(path)?.read_all()
}

/// Reads an IDX stream (raw or gzipped) whose element type is `T` from `reader`.
pub fn read_from<T: IdxElement, R: Read>(reader: R) -> Result<IdxArray<T>> {
    IdxReader::new(reader)?.read_all()
}

/// Reads the IDX file at `path` (raw or gzipped), whatever its element type.
pub fn read_dyn(path: impl AsRef<Path>) -> Result<IdxData> {
    IdxReader::open(path)?.read_all_dyn()
}

/// Reads an IDX stream (raw or gzipped) from `reader`, whatever its element type.
pub fn read_dyn_from<R: Read>(reader: R) -> Result<IdxData> {
    IdxReader::new(reader)?.read_all_dyn()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Compression, Dtype, ErrorKind, Limits};

    fn gz(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    const IMAGES_HEADER: [u8; 16] = [0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28];

    #[test]
    fn reads_each_dtype() {
        let a = read_from::<i16, _>(&[0u8, 0, 0x0b, 1, 0, 0, 0, 2, 0x80, 0, 0x7f, 0xff][..]);
        assert_eq!(a.unwrap().data, [i16::MIN, i16::MAX]);
        let d = read_dyn_from(&[0u8, 0, 0x0e, 0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0][..]).unwrap();
        assert_eq!(d.dtype(), Dtype::F64);
        assert_eq!(d.dims(), &[] as &[usize]);
        assert_eq!(d.get_f64(0), Some(1.0));
    }

    #[test]
    fn truncated_data_names_the_promise() {
        let mut bytes = IMAGES_HEADER.to_vec();
        bytes.extend(std::iter::repeat_n(0, 1200));
        let e = read_from::<u8, _>(&bytes[..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated: header promises 60000 items of 28x28 (47040000 bytes), found 1200"
        );
        match e.kind() {
            ErrorKind::Truncated {
                expected, found, ..
            } => assert_eq!((*expected, *found), (47_040_000, 1200)),
            k => panic!("{k:?}"),
        }
        // The same through gzip.
        let e = read_from::<u8, _>(&gz(&bytes)[..]).unwrap_err();
        assert!(
            e.to_string().ends_with("(47040000 bytes), found 1200"),
            "{e}"
        );
    }

    #[test]
    fn truncated_gzip_stream_is_truncated_data() {
        let mut bytes = vec![0, 0, 0x0d, 1, 0, 0, 0x10, 0];
        bytes.extend((0..4096u32).flat_map(|i| (i as f32).to_be_bytes()));
        let packed = gz(&bytes);
        let e = read_from::<f32, _>(&packed[..packed.len() / 2]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("truncated: header promises 4096 f32 values (16384 bytes), found"),
            "{e}"
        );
    }

    #[test]
    fn gzip_without_its_checksum_fails() {
        let packed = gz(&[0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]);
        let e = read_from::<u8, _>(&packed[..packed.len() - 8]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "corrupt gzip data: the compressed stream ends before its end marker and checksum"
        );
    }

    #[test]
    fn corrupt_gzip() {
        let mut packed = gz(&[0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]);
        let n = packed.len();
        packed[n - 8] ^= 0xff; // the CRC
        let e = read_from::<u8, _>(&packed[..]).unwrap_err();
        assert!(e.to_string().starts_with("corrupt gzip data: "), "{e}");
        assert!(matches!(e.kind(), ErrorKind::Gzip(_)));
    }

    #[test]
    fn trailing_bytes() {
        let e = read_from::<u8, _>(&[0u8, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 2, 7, 7, 9, 9, 9][..])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "3 trailing bytes after the 2 bytes of data the header promises (dims 1x2, u8)"
        );
        let e = read_from::<u8, _>(&gz(&[0, 0, 8, 1, 0, 0, 0, 1, 7, 9])[..]).unwrap_err();
        assert!(e.to_string().starts_with("1 trailing bytes after"), "{e}");
    }

    #[test]
    fn lying_header_fails_at_once() {
        // A 30-byte file that claims 2^31 x 2^31 f64 values.
        let mut bytes = vec![0u8, 0, 0x0e, 2, 0x80, 0, 0, 0, 0x80, 0, 0, 0];
        bytes.resize(30, 0);
        let e = read_dyn_from(&bytes[..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dimensions 2147483648x2147483648 of f64 (8 bytes each) describe more bytes than fit \
             in 64-bit sizes"
        );
        // Within the limit but far more than the file: fails on the data, having allocated at
        // most one chunk.
        let bytes = [0u8, 0, 0x0e, 1, 0x10, 0, 0, 0, 1, 2, 3];
        let e = read_dyn_from(&bytes[..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated: header promises 268435456 f64 values (2147483648 bytes), found 3"
        );
    }

    #[test]
    fn limits_can_be_lowered() {
        let reader = IdxReader::with_limits(&[0u8, 0, 8, 1, 0, 0, 1, 0][..], Limits::max_bytes(10));
        let e = reader.err().unwrap();
        assert_eq!(
            e.to_string(),
            "limit exceeded: header promises dims 256 of u8 (256 bytes), more than the limit of \
             10 bytes (raise Limits::max_bytes to read it)"
        );
    }

    #[test]
    fn wrong_dtype_asked() {
        let e = read_from::<f32, _>(&[0u8, 0, 8, 1, 0, 0, 0, 1, 5][..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dtype mismatch: the file holds u8 values, f32 were asked for"
        );
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.idx");
        std::fs::write(&path, [0u8, 0, 8, 1, 0, 0, 0, 4, 1]).unwrap();
        let e = read::<u8>(&path).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: truncated: header promises 4 items (4 bytes), found 1",
                path.display()
            )
        );
        let missing = dir.path().join("missing.idx");
        let e = read_dyn(&missing).unwrap_err();
        assert!(e
            .to_string()
            .starts_with(&format!("{}: I/O error: ", missing.display())));
    }

    #[test]
    fn gzip_by_content_not_name() {
        let dir = tempfile::tempdir().unwrap();
        let gz_named_raw = dir.path().join("raw.gz");
        let raw_named_gz = dir.path().join("packed.idx");
        crate::write(&gz_named_raw, &[2], &[1u8, 2], Compression::None).unwrap();
        crate::write(&raw_named_gz, &[2], &[1u8, 2], Compression::Gzip).unwrap();
        assert_eq!(read::<u8>(&gz_named_raw).unwrap().data, [1, 2]);
        assert_eq!(read::<u8>(&raw_named_gz).unwrap().data, [1, 2]);
        assert!(IdxReader::open(&raw_named_gz).unwrap().is_gzip());
        assert!(!IdxReader::open(&gz_named_raw).unwrap().is_gzip());
    }

    /// Fuzzing found that a 12-byte header may promise 2^32 - 1 empty items. Legal: reading
    /// it whole or summarising it is instant and allocates nothing; only a caller that
    /// iterates every item spends time.
    #[test]
    fn billions_of_empty_items() {
        let bytes = [0u8, 0, 8, 2, 255, 255, 255, 255, 0, 0, 0, 0];
        let a = read_from::<u8, _>(&bytes[..]).unwrap();
        assert_eq!(
            (a.dims.as_slice(), a.data.len()),
            (&[4_294_967_295, 0][..], 0)
        );
        let reader = IdxReader::new(&bytes[..]).unwrap();
        assert_eq!(reader.items_left(), 4_294_967_295);
        let s = crate::IdxSummary::from_reader(reader).unwrap();
        assert_eq!((s.count, s.min), (0, None));
        let mut items = IdxReader::new(&bytes[..]).unwrap().items::<u8>().unwrap();
        assert_eq!(items.next().unwrap().unwrap(), Vec::<u8>::new());
    }

    /// The input of the one crash fuzzing found (in the harness's own product of the dims).
    #[test]
    fn fuzz_crash_826af0aa() {
        let bytes = [
            0x00, 0x00, 0x0d, 0x08, 0xff, 0xff, 0xff, 0xff, 0x32, 0xff, 0xd2, 0x77, 0xec, 0xe9,
            0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0xfc, 0xcd, 0x0f, 0xb6,
            0x00, 0x0a, 0xf1, 0xf4, 0x81, 0x45, 0x00, 0x00,
        ];
        // 8 dims, one of them 0: an empty f32 array, though the dims before the 0 multiply to
        // more than 64 bits.
        let d = read_dyn_from(&bytes[..]).unwrap();
        assert_eq!(d.dims()[..4], [4294967295, 855626359, 3974702080, 0]);
        assert_eq!(d.len(), 0);
        let a = d.clone().into_typed::<f32>().unwrap();
        assert_eq!(
            (a.item_len(), a.item(0), a.items()),
            (0, Some(&[][..]), 4294967295)
        );
        assert_eq!(d.write_to(Vec::new(), Compression::None).unwrap(), bytes);
        let e = read_dyn_from(&[&bytes[..], &[1, 2][..]].concat()[..]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("2 trailing bytes after the 0 bytes"),
            "{e}"
        );
    }

    #[test]
    fn one_byte_input() {
        let e = read_dyn_from(&[0x1fu8][..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "truncated header: an IDX file starts with a 4-byte magic number, found 1 bytes"
        );
    }
}
