//! The streaming reader: header first, then one item of the first dimension at a time, in
//! bounded memory whatever the file's size.

use std::fs::File;
use std::io::{self, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::array::{IdxArray, IdxData};
use crate::dtype::{Dtype, IdxElement};
use crate::error::{Error, ErrorKind, Result};
use crate::header::{read_full, Header, Limits};
use crate::source::Source;

/// Data is read in pieces of at most this many bytes, so a header that lies about the size
/// cannot make the reader allocate more than the file holds (plus one piece).
const CHUNK: usize = 256 * 1024;

/// A streaming IDX reader: the header is read and checked on creation, then the data is read
/// on demand, one item of the first dimension at a time ([`next_item`](IdxReader::next_item),
/// [`items`](IdxReader::items)) or all at once ([`read_all`](IdxReader::read_all)).
///
/// Gzip is detected by its magic bytes. When the last item has been read, the next call checks
/// that no bytes trail the data.
///
/// Memory stays bounded whatever the header says; time is the caller's: a file whose later
/// dimension is 0 (say `4294967295x0`) is 12 bytes long yet holds 2^32 - 1 empty items, which
/// [`read_all`](IdxReader::read_all) returns at once but an item-by-item loop visits one by one.
///
/// ```
/// # fn main() -> Result<(), mnist_idx::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("images.idx");
/// # mnist_idx::write(&path, &[2, 3], &[1u8, 2, 3, 4, 5, 6], mnist_idx::Compression::None)?;
/// let mut reader = mnist_idx::IdxReader::open(&path)?;
/// assert_eq!(reader.dims(), &[2, 3]);
/// let mut item = Vec::new();
/// let mut sums = Vec::new();
/// while reader.next_item_into::<u8>(&mut item)? {
///     sums.push(item.iter().map(|&v| u32::from(v)).sum::<u32>());
/// }
/// assert_eq!(sums, [6, 15]);
/// # Ok(())
/// # }
/// ```
pub struct IdxReader<R: Read> {
    source: Source<R>,
    header: Header,
    path: Option<PathBuf>,
    noun: &'static str,
    /// Bytes of data (after the header) read so far.
    bytes_read: u64,
    items_left: usize,
    scratch: Vec<u8>,
    /// The input's size in bytes, when known (a file opened by path).
    input_len: Option<u64>,
    /// Whether the end has been checked for trailing bytes (or an error stopped the reading).
    finished: bool,
}

impl IdxReader<File> {
    /// Opens the file at `path` and reads its header, with the default [`Limits`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_limits(path, Limits::default())
    }

    /// Opens the file at `path` and reads its header, with the given [`Limits`].
    pub fn open_with_limits(path: impl AsRef<Path>, limits: Limits) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::from(e).at(path))?;
        let input_len = file.metadata().ok().map(|m| m.len());
        let mut reader = Self::build(file, limits, Some(path.to_path_buf()))?;
        reader.input_len = input_len;
        Ok(reader)
    }
}

impl<R: Read> IdxReader<R> {
    /// Reads the header from `reader`, with the default [`Limits`].
    pub fn new(reader: R) -> Result<Self> {
        Self::with_limits(reader, Limits::default())
    }

    /// Reads the header from `reader`, with the given [`Limits`].
    pub fn with_limits(reader: R, limits: Limits) -> Result<Self> {
        Self::build(reader, limits, None)
    }

    fn build(reader: R, limits: Limits, path: Option<PathBuf>) -> Result<Self> {
        let at = |e: Error| match &path {
            Some(p) => e.at(p),
            None => e,
        };
        let mut source = Source::new(reader).map_err(|e| at(e.into()))?;
        let is_gzip = source.is_gzip();
        let header =
            Header::read_from(&mut source, &limits).map_err(|e| at(classify(e, is_gzip)))?;
        Ok(IdxReader {
            source,
            items_left: header.items(),
            header,
            path,
            noun: "items",
            bytes_read: 0,
            scratch: Vec::new(),
            input_len: None,
            finished: false,
        })
    }

    /// Calls one item of the first dimension `noun` in error messages ("images", "labels").
    pub(crate) fn set_noun(&mut self, noun: &'static str) {
        self.noun = noun;
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.header.dtype()
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        self.header.dims()
    }

    /// Whether the input is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.source.is_gzip()
    }

    /// The path this reader was opened from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Items of the first dimension not yet read.
    pub fn items_left(&self) -> usize {
        self.items_left
    }

    /// Reads the next item into `buf` (cleared first) and returns `true`, or returns `false`
    /// when every item has been read (after checking that no bytes trail the data). Fails if
    /// `T` is not the file's element type.
    pub fn next_item_into<T: IdxElement>(&mut self, buf: &mut Vec<T>) -> Result<bool> {
        self.check_dtype::<T>()?;
        buf.clear();
        if self.items_left == 0 {
            self.finish()?;
            return Ok(false);
        }
        if self.finished {
            return Ok(false);
        }
        self.read_values(buf, self.header.item_len())?;
        self.items_left -= 1;
        Ok(true)
    }

    /// The next item, or `None` when every item has been read (see
    /// [`next_item_into`](IdxReader::next_item_into), which reuses a buffer).
    pub fn next_item<T: IdxElement>(&mut self) -> Result<Option<Vec<T>>> {
        let mut buf = Vec::new();
        Ok(self.next_item_into(&mut buf)?.then_some(buf))
    }

    /// An iterator over the remaining items, each a `Vec<T>` of
    /// [`Header::item_len`] values. Fails at once if `T` is not the file's element type.
    pub fn items<T: IdxElement>(self) -> Result<Items<R, T>> {
        self.check_dtype::<T>()?;
        Ok(Items {
            reader: self,
            done: false,
            _t: PhantomData,
        })
    }

    /// Reads the remaining items into memory (all of them, unless some were read already: then
    /// the first dimension of the result counts the rest), and checks that no bytes trail.
    pub fn read_all<T: IdxElement>(mut self) -> Result<IdxArray<T>> {
        self.check_dtype::<T>()?;
        let mut dims = self.header.dims().to_vec();
        if let Some(first) = dims.first_mut() {
            *first = self.items_left;
        }
        let n = if self.finished {
            0
        } else {
            self.items_left * self.header.item_len()
        };
        let mut data = Vec::with_capacity(self.capacity_for::<T>(n));
        self.read_values(&mut data, n)?;
        self.items_left = 0;
        self.finish()?;
        Ok(IdxArray { dims, data })
    }

    /// [`read_all`](IdxReader::read_all) with the element type chosen by the file.
    pub fn read_all_dyn(self) -> Result<IdxData> {
        Ok(match self.dtype() {
            Dtype::U8 => self.read_all::<u8>()?.into(),
            Dtype::I8 => self.read_all::<i8>()?.into(),
            Dtype::I16 => self.read_all::<i16>()?.into(),
            Dtype::I32 => self.read_all::<i32>()?.into(),
            Dtype::F32 => self.read_all::<f32>()?.into(),
            Dtype::F64 => self.read_all::<f64>()?.into(),
        })
    }

    /// Calls `f` with the remaining values in pieces of bounded size (whatever the item size),
    /// then checks that no bytes trail. For statistics over files of any size.
    pub fn for_each_chunk<T: IdxElement>(&mut self, mut f: impl FnMut(&[T])) -> Result<()> {
        self.check_dtype::<T>()?;
        let mut left = if self.finished {
            0
        } else {
            self.items_left * self.header.item_len()
        };
        let per_chunk = CHUNK / T::DTYPE.size();
        let mut buf = Vec::with_capacity(left.min(per_chunk));
        while left > 0 {
            let n = left.min(per_chunk);
            buf.clear();
            self.read_values(&mut buf, n)?;
            f(&buf);
            left -= n;
        }
        self.items_left = 0;
        self.finish()
    }

    /// How many of `n` values to reserve room for up front: all of them if the input is large
    /// enough to hold them (a raw file's size, or 8 times a gzipped file's size), else what the
    /// input could hold, and one chunk's worth when the input's size is unknown. So what is
    /// reserved stays proportional to the input, whatever the header claims; past that the
    /// vector grows as data actually arrives.
    fn capacity_for<T: IdxElement>(&self, n: usize) -> usize {
        let size = T::DTYPE.size() as u64;
        let room = match self.input_len {
            Some(len) if self.is_gzip() => len.saturating_mul(8),
            Some(len) => len,
            None => CHUNK as u64,
        };
        // <= n, so fits in usize.
        (n as u64).min(room / size) as usize
    }

    fn check_dtype<T: IdxElement>(&self) -> Result<()> {
        if T::DTYPE == self.dtype() {
            Ok(())
        } else {
            Err(self.err(ErrorKind::DtypeMismatch {
                expected: T::DTYPE,
                found: self.dtype(),
            }))
        }
    }

    /// Names the file in `e` and sorts gzip errors from I/O errors.
    fn err(&self, e: impl Into<Error>) -> Error {
        let e = classify(e.into(), self.is_gzip());
        match &self.path {
            Some(p) => e.at(p),
            None => e,
        }
    }

    /// Reads `n` values into `out`, in pieces of at most `CHUNK` bytes.
    fn read_values<T: IdxElement>(&mut self, out: &mut Vec<T>, n: usize) -> Result<()> {
        // n <= the header's value count, whose byte count fits in usize.
        let mut left = n * T::DTYPE.size();
        while left > 0 {
            let want = left.min(CHUNK);
            if self.scratch.len() < want {
                self.scratch.resize(want, 0);
            }
            let got = match read_full(&mut self.source, &mut self.scratch[..want]) {
                Ok(got) => got,
                Err(e) => {
                    self.stop();
                    return Err(self.err(e));
                }
            };
            self.bytes_read += got as u64;
            if got < want {
                self.stop();
                return Err(self.err(ErrorKind::Truncated {
                    dims: self.header.dims().to_vec(),
                    dtype: self.dtype(),
                    noun: self.noun,
                    expected: self.header.data_bytes(),
                    found: self.bytes_read,
                }));
            }
            T::decode_be(&self.scratch[..want], out);
            left -= want;
        }
        Ok(())
    }

    /// After an error: nothing more is read.
    fn stop(&mut self) {
        self.finished = true;
        self.items_left = 0;
    }

    /// Checks, once, that nothing follows the data.
    fn finish(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        let extra = io::copy(&mut self.source, &mut io::sink()).map_err(|e| self.err(e))?;
        if self.source.ended_early() {
            return Err(self.err(ErrorKind::Gzip(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the compressed stream ends before its end marker and checksum",
            ))));
        }
        if extra > 0 {
            return Err(self.err(ErrorKind::TrailingBytes {
                dims: self.header.dims().to_vec(),
                dtype: self.dtype(),
                expected: self.header.data_bytes(),
                extra,
            }));
        }
        Ok(())
    }
}

/// I/O errors from the gzip decoder that mean corrupt data become [`ErrorKind::Gzip`].
fn classify(e: Error, is_gzip: bool) -> Error {
    let corrupt =
        |k: io::ErrorKind| matches!(k, io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData);
    match e.kind() {
        ErrorKind::Io(io) if is_gzip && corrupt(io.kind()) => match e.into_kind() {
            ErrorKind::Io(io) => ErrorKind::Gzip(io).into(),
            other => other.into(),
        },
        _ => e,
    }
}

/// An iterator over the items of an IDX file's first dimension, made by
/// [`IdxReader::items`]. Yields each item's values, then checks that no bytes trail; after an
/// error it yields nothing more.
pub struct Items<R: Read, T> {
    reader: IdxReader<R>,
    done: bool,
    _t: PhantomData<T>,
}

impl<R: Read, T> Items<R, T> {
    /// The reader, e.g. for its header.
    pub fn reader(&self) -> &IdxReader<R> {
        &self.reader
    }
}

impl<R: Read, T: IdxElement> Iterator for Items<R, T> {
    type Item = Result<Vec<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut item = Vec::with_capacity(self.reader.header.item_len().min(CHUNK));
        match self.reader.next_item_into(&mut item) {
            Ok(true) => Some(Ok(item)),
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, Some(self.reader.items_left + 1))
        }
    }
}
