//! Writing IDX data, raw or gzipped, to any [`Write`] or atomically to a path.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use flate2::write::GzEncoder;

use crate::dtype::IdxElement;
use crate::error::{Error, ErrorKind, Result};
use crate::header::Header;

/// Values are encoded in pieces of this many bytes.
const CHUNK: usize = 64 * 1024;

/// Whether to gzip what is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Plain IDX.
    #[default]
    None,
    /// Gzip-compressed IDX (the default level), as the MNIST files are distributed.
    Gzip,
}

impl Compression {
    /// `Gzip` if the file name ends in `.gz`, `None` otherwise. (Only a convention for choosing
    /// what to write: reading looks at the bytes, not the name.)
    pub fn from_path(path: impl AsRef<Path>) -> Compression {
        let gz = path
            .as_ref()
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        if gz {
            Compression::Gzip
        } else {
            Compression::None
        }
    }
}

/// Checks that `len` values fill `dims` and that the dims fit an IDX header.
pub(crate) fn check_shape<T: IdxElement>(dims: &[usize], len: usize) -> Result<Header> {
    let header = Header::new(T::DTYPE, dims.to_vec())?;
    if header.len() != len {
        return Err(ErrorKind::DataLength {
            dims: dims.to_vec(),
            expected: header.len() as u64,
            found: len,
        }
        .into());
    }
    Ok(header)
}

/// Writes `data` (row-major, `dims` outermost first) as an IDX file at `path`, atomically: to a
/// temporary file in the same folder, synced, then renamed over `path`. A failure leaves any
/// previous file at `path` untouched.
///
/// ```
/// # fn main() -> Result<(), mnist_idx::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("samples-idx3-ubyte.gz");
/// let images = vec![0u8; 2 * 28 * 28];
/// mnist_idx::write(&path, &[2, 28, 28], &images, mnist_idx::Compression::from_path(&path))?;
/// assert_eq!(mnist_idx::read::<u8>(&path)?.dims, [2, 28, 28]);
/// # Ok(())
/// # }
/// ```
pub fn write<T: IdxElement>(
    path: impl AsRef<Path>,
    dims: &[usize],
    data: &[T],
    compression: Compression,
) -> Result<()> {
    let path = path.as_ref();
    let header = check_shape::<T>(dims, data.len()).map_err(|e| e.at(path))?;
    atomic_write(path, |file| {
        let out = BufWriter::with_capacity(CHUNK, file);
        encode(out, &header, data, compression)?
            .into_inner()
            .map_err(|e| Error::from(e.into_error()))?;
        Ok(())
    })
}

/// Writes `data` (row-major, `dims` outermost first) as an IDX stream to `writer`, and gives the
/// writer back. Nothing is written if the dimensions and the data disagree.
pub fn write_to<T: IdxElement, W: Write>(
    writer: W,
    dims: &[usize],
    data: &[T],
    compression: Compression,
) -> Result<W> {
    let header = check_shape::<T>(dims, data.len())?;
    encode(writer, &header, data, compression)
}

fn encode<T: IdxElement, W: Write>(
    writer: W,
    header: &Header,
    data: &[T],
    compression: Compression,
) -> Result<W> {
    match compression {
        Compression::None => encode_raw(writer, header, data),
        Compression::Gzip => {
            let gz = GzEncoder::new(writer, flate2::Compression::default());
            Ok(encode_raw(gz, header, data)?.finish()?)
        }
    }
}

fn encode_raw<T: IdxElement, W: Write>(mut w: W, header: &Header, data: &[T]) -> Result<W> {
    w.write_all(&header.to_bytes())?;
    let mut buf = Vec::with_capacity(CHUNK.min(std::mem::size_of_val(data)));
    for piece in data.chunks(CHUNK / T::DTYPE.size()) {
        buf.clear();
        T::encode_be(piece, &mut buf);
        w.write_all(&buf)?;
    }
    w.flush()?;
    Ok(w)
}

/// [`crate::atomic::write_with`] with errors that name `path`.
pub(crate) fn atomic_write(path: &Path, fill: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    crate::atomic::write_with(path, fill).map_err(|e: Error| e.at(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{fs, io};

    #[test]
    fn writes_the_header_and_big_endian_values() {
        let out = write_to(Vec::new(), &[2], &[1i16, -2], Compression::None).unwrap();
        assert_eq!(out, [0, 0, 0x0b, 1, 0, 0, 0, 2, 0, 1, 0xff, 0xfe]);
    }

    #[test]
    fn gzip_output_starts_with_gzip_magic() {
        let out = write_to(Vec::new(), &[1], &[1.0f64], Compression::Gzip).unwrap();
        assert_eq!(&out[..2], [0x1f, 0x8b]);
    }

    #[test]
    fn shape_errors_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        let e = write(&path, &[2, 2], &[1u8, 2, 3], Compression::None).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: data length mismatch: dims 2x2 need 4 values, got 3",
                path.display()
            )
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let e = write_to(Vec::new(), &[1; 300], &[0u8], Compression::None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "300 dimensions: an IDX file holds at most 255"
        );
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        fs::write(&path, b"old").unwrap();
        write(&path, &[3], &[1u8, 2, 3], Compression::None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.idx"]);
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        fs::write(&path, b"old").unwrap();
        let e = atomic_write(&path, |_| Err(io::Error::other("disk full").into())).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: I/O error: disk full", path.display())
        );
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_folder_names_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/x.idx");
        let e = write(&path, &[1], &[1u8], Compression::None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("{}: I/O error: ", path.display())),
            "{e}"
        );
    }

    #[test]
    fn compression_from_path() {
        assert_eq!(Compression::from_path("a/b.idx.gz"), Compression::Gzip);
        assert_eq!(Compression::from_path("b.GZ"), Compression::Gzip);
        assert_eq!(Compression::from_path("b-idx3-ubyte"), Compression::None);
    }
}
