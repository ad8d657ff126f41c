//! The crate's one error type, [`Error`], and what went wrong, [`ErrorKind`].

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::dtype::Dtype;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error while reading, writing or loading IDX files.
///
/// It holds what went wrong ([`ErrorKind`], with the numbers) and, when known, the file or folder
/// it concerns. Its message is `PATH: WHAT`, e.g.
/// `data/mnist/train-images-idx3-ubyte.gz: truncated: header promises 60000 images of 28x28
/// (47040000 bytes), found 1200`.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    path: Option<PathBuf>,
    kind: ErrorKind,
}

impl Error {
    /// An error of the given kind, about no file in particular.
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner { path: None, kind }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// What went wrong, by value.
    pub fn into_kind(self) -> ErrorKind {
        self.0.kind
    }

    /// The file or folder the error concerns, when known.
    pub fn path(&self) -> Option<&Path> {
        self.0.path.as_deref()
    }

    /// Names the file or folder the error concerns (keeps a path already set).
    pub(crate) fn at(mut self, path: &Path) -> Self {
        if self.0.path.is_none() {
            self.0.path = Some(path.to_path_buf());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.path {
            Some(path) => write!(f, "{}: {}", path.display(), self.0.kind),
            None => write!(f, "{}", self.0.kind),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Io(e) | ErrorKind::Gzip(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::new(ErrorKind::Io(e))
    }
}

/// What went wrong, with the numbers. Grouped by who caused it: the system (I/O), the file's
/// contents (format), the caller (parameters), the caller's [`Limits`](crate::Limits), and the
/// MNIST loader's checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    // ---- the system ----
    /// Opening, reading, writing or renaming failed.
    #[error("I/O error: {0}")]
    Io(#[source] io::Error),

    // ---- the file's contents ----
    /// The file starts with the gzip magic bytes but its compressed data is corrupt.
    #[error("corrupt gzip data: {0}")]
    Gzip(#[source] io::Error),
    /// The header (4-byte magic number, then 4 bytes per dimension) ends early.
    #[error("truncated header: {}, found {found} bytes", header_need(*rank, *expected))]
    TruncatedHeader {
        /// How many dimensions the magic number announced, if it was read.
        rank: Option<u8>,
        /// How many header bytes were needed.
        expected: usize,
        /// How many were there.
        found: usize,
    },
    /// The first two bytes are not zero: this is not an IDX file.
    #[error(
        "bad magic number {}: an IDX file starts with 00 00, then a dtype byte and the number \
         of dimensions{}",
        hex(found),
        magic_hint(found)
    )]
    BadMagic {
        /// The first four bytes of the file.
        found: [u8; 4],
    },
    /// The third byte of the magic number is not a known dtype.
    #[error(
        "unknown dtype 0x{code:02x}: expected 0x08 (u8), 0x09 (i8), 0x0b (i16), 0x0c (i32), \
         0x0d (f32) or 0x0e (f64)"
    )]
    UnknownDtype {
        /// The dtype byte found.
        code: u8,
    },
    /// The number of values or bytes the dimensions describe does not fit in 64 bits
    /// (or in memory addresses on this machine).
    #[error(
        "dimensions {} of {dtype} ({} bytes each) describe more bytes than fit in {}-bit sizes",
        join_dims(dims), dtype.size(), usize::BITS.min(64)
    )]
    DimensionOverflow {
        /// The dimensions from the header.
        dims: Vec<u64>,
        /// The element type from the header.
        dtype: Dtype,
    },
    /// The data ends before the header's promise is kept.
    #[error(
        "truncated: header promises {} ({expected} bytes), found {found}",
        describe(dims, *dtype, noun)
    )]
    Truncated {
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// The element type from the header.
        dtype: Dtype,
        /// What one item of the first dimension is called ("items", "images", "labels").
        noun: &'static str,
        /// Bytes of data the header promises (after the header).
        expected: u64,
        /// Bytes of data found.
        found: u64,
    },
    /// Bytes follow the data the header promises.
    #[error(
        "{extra} trailing bytes after the {expected} bytes of data the header promises \
         (dims {}, {dtype})",
        join_dims(dims)
    )]
    TrailingBytes {
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// The element type from the header.
        dtype: Dtype,
        /// Bytes of data the header promises.
        expected: u64,
        /// How many bytes follow them.
        extra: u64,
    },

    // ---- the caller ----
    /// The file holds another element type than the one asked for.
    #[error("dtype mismatch: the file holds {found} values, {expected} were asked for")]
    DtypeMismatch {
        /// The element type asked for.
        expected: Dtype,
        /// The element type in the file.
        found: Dtype,
    },
    /// The file's dimensions are not the ones expected.
    #[error(
        "unexpected shape: expected {expected}, found dims {}",
        join_dims(found)
    )]
    ShapeMismatch {
        /// The shape expected, in words (e.g. "N x 28 x 28 images").
        expected: String,
        /// The dimensions found.
        found: Vec<usize>,
    },
    /// Data to write does not have as many values as its dimensions describe.
    #[error(
        "data length mismatch: dims {} need {expected} values, got {found}",
        join_dims(dims)
    )]
    DataLength {
        /// The dimensions given.
        dims: Vec<usize>,
        /// Values the dimensions describe.
        expected: u64,
        /// Values given.
        found: usize,
    },
    /// More than 255 dimensions to write.
    #[error("{rank} dimensions: an IDX file holds at most 255")]
    TooManyDims {
        /// The number of dimensions given.
        rank: usize,
    },
    /// A dimension to write does not fit in the header's 32 bits.
    #[error("dimension {index} is {size}: an IDX dimension is at most 4294967295")]
    DimTooLarge {
        /// Which dimension (from 0).
        index: usize,
        /// Its size.
        size: usize,
    },

    // ---- the limits ----
    /// The header promises more data than [`Limits::max_bytes`](crate::Limits::max_bytes).
    #[error(
        "limit exceeded: header promises dims {} of {dtype} ({bytes} bytes), more than the \
         limit of {limit} bytes (raise Limits::max_bytes to read it)",
        join_dims(dims)
    )]
    LimitExceeded {
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// The element type from the header.
        dtype: Dtype,
        /// Bytes of data the header promises.
        bytes: u64,
        /// The limit in force.
        limit: u64,
    },

    // ---- the MNIST loader ----
    /// None of the usual names of an MNIST file is in the folder.
    #[error(
        "no {what} file{}: looked for {}; copy the four MNIST files (train-images-idx3-ubyte.gz, \
         train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from \
         the repository's data/mnist/ folder into this folder, or download MNIST there",
        if *folder_exists { "" } else { " (the folder does not exist)" },
        tried.join(", ")
    )]
    MissingFile {
        /// Which file ("training images", "test labels", ...).
        what: &'static str,
        /// The names tried, in order.
        tried: Vec<String>,
        /// Whether the folder exists at all.
        folder_exists: bool,
    },
    /// The images file and the labels file of a split hold different counts.
    #[error("{split} images and labels disagree: {images} images ({images_file}) but {labels} labels ({labels_file})")]
    CountMismatch {
        /// "training" or "test".
        split: &'static str,
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
        /// The images file's name.
        images_file: String,
        /// The labels file's name.
        labels_file: String,
    },
    /// A label is not a digit 0-9.
    #[error("label {label} at index {index} is out of range 0-9")]
    LabelOutOfRange {
        /// Its position in the file (from 0).
        index: usize,
        /// Its value.
        label: u8,
    },
}

fn header_need(rank: Option<u8>, expected: usize) -> String {
    match rank {
        None => format!("an IDX file starts with a {expected}-byte magic number"),
        Some(r) => format!(
            "{r} dimension{} need a {expected}-byte header",
            if r == 1 { "" } else { "s" }
        ),
    }
}

fn hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(" ")
}

fn magic_hint(found: &[u8; 4]) -> &'static str {
    match found {
        [0x50, 0x4b, ..] => " (this looks like a zip archive: unzip it first)",
        [0x89, 0x50, 0x4e, 0x47] => " (this is a PNG image)",
        [0x42, 0x5a, 0x68, _] => " (this looks like a bzip2 file: decompress it first)",
        [0xfd, 0x37, 0x7a, 0x58] => " (this looks like an xz file: decompress it first)",
        [b'<', ..] => " (this looks like an HTML page: was the download an error page?)",
        _ => "",
    }
}

/// `60000x28x28`; `scalar` for no dimensions.
pub(crate) fn join_dims<T: fmt::Display>(dims: &[T]) -> String {
    if dims.is_empty() {
        return "() (a scalar)".to_string();
    }
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    parts.join("x")
}

/// What a header promises, in words: `60000 images of 28x28`, `10 items of 3x4 f32`,
/// `60000 labels`, `5 f64 values`, `1 f64 value`.
fn describe(dims: &[usize], dtype: Dtype, noun: &str) -> String {
    // For u8, values and bytes are the same count: the dtype adds nothing.
    let ty = if dtype == Dtype::U8 {
        String::new()
    } else {
        format!(" {dtype}")
    };
    match dims {
        [] => format!("1 {dtype} value"),
        [n] if dtype == Dtype::U8 => format!("{n} {noun}"),
        [n] => format!("{n} {dtype} values"),
        [n, rest @ ..] => format!("{n} {noun} of {}{ty}", join_dims(rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_reads_well() {
        assert_eq!(
            describe(&[60000, 28, 28], Dtype::U8, "images"),
            "60000 images of 28x28"
        );
        assert_eq!(
            describe(&[10, 3, 4], Dtype::F32, "items"),
            "10 items of 3x4 f32"
        );
        assert_eq!(describe(&[7], Dtype::U8, "labels"), "7 labels");
        assert_eq!(describe(&[7], Dtype::I16, "items"), "7 i16 values");
        assert_eq!(describe(&[], Dtype::F64, "items"), "1 f64 value");
    }

    #[test]
    fn display_names_the_path() {
        let e = Error::new(ErrorKind::LabelOutOfRange {
            index: 3,
            label: 12,
        })
        .at(Path::new("data/mnist/train-labels-idx1-ubyte.gz"));
        assert_eq!(
            e.to_string(),
            "data/mnist/train-labels-idx1-ubyte.gz: label 12 at index 3 is out of range 0-9"
        );
        assert_eq!(
            e.path(),
            Some(Path::new("data/mnist/train-labels-idx1-ubyte.gz"))
        );
    }

    #[test]
    fn bad_magic_gives_a_hint() {
        let e = Error::new(ErrorKind::BadMagic {
            found: [0x50, 0x4b, 3, 4],
        });
        assert_eq!(
            e.to_string(),
            "bad magic number 50 4b 03 04: an IDX file starts with 00 00, then a dtype byte and \
             the number of dimensions (this looks like a zip archive: unzip it first)"
        );
    }
}
