//! Read and write IDX files, the format of MNIST, and load MNIST-style datasets.
//!
//! - Every IDX dtype (`u8`, `i8`, `i16`, `i32`, `f32`, `f64`, big-endian) and any number of
//!   dimensions, from a path or any [`Read`](std::io::Read); gzip is recognised by its magic
//!   bytes, not by the file name.
//! - Typed ([`read()`], [`IdxArray<T>`]) when the element type is known at compile time, dynamic
//!   ([`read_dyn`], [`IdxData`]) when it is not.
//! - Streaming ([`IdxReader`]): the header first, then one item of the first dimension at a
//!   time, so files far larger than MNIST read in bounded memory.
//! - Writing ([`write()`], [`write_to`]), raw or gzipped; to a path atomically.
//! - [`Mnist::load`] / [`Split::load`] for the four MNIST files of a folder, checked.
//! - [`summary`]: dtype, dims, min, max, mean, streamed.
//! - MNIST's constants, defined once for the workspace: [`SIDE`] (28), [`PIXELS`] (784), and the
//!   training pixels' [`MEAN`] and [`STD`] on the [0, 1] scale.
//! - With the cargo feature `ndarray` (off by default): IDX arrays as `ndarray::ArrayD<T>` and
//!   back, MNIST images as `Array3<u8>` `[n, 28, 28]` (see the `nd` module). The crate's own
//!   tests turn the feature on through a dev-dependency on the crate itself, so plain
//!   `cargo test` covers it.
//!
//! Sizes promised by a header are checked (overflow, [`Limits`]) before anything is allocated,
//! data is read in bounded pieces, and no input makes the reader panic. Every failure is an
//! [`Error`] whose message names the file and gives the numbers; its [`ErrorKind`] carries them.
//!
//! ```
//! use mnist_idx::{Compression, IdxReader, Split, SplitKind};
//!
//! # fn main() -> Result<(), mnist_idx::Error> {
//! // The MNIST test split, as u8 pixels and labels.
//! let test = Split::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist"), SplitKind::Test)?;
//! assert_eq!((test.len, test.images.len()), (10_000, 10_000 * 28 * 28));
//!
//! // Write the first 16 digits as a gzipped IDX file, then stream it back image by image.
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("first-16-idx3-ubyte.gz");
//! mnist_idx::write(&path, &[16, 28, 28], &test.images[..16 * 784], Compression::Gzip)?;
//! let mut reader = IdxReader::open(&path)?;
//! assert_eq!(reader.dims(), &[16, 28, 28]);
//! let mut image = Vec::new();
//! let mut i = 0;
//! while reader.next_item_into::<u8>(&mut image)? {
//!     assert_eq!(image, test.image(i));
//!     i += 1;
//! }
//!
//! // What a file holds, whatever its dtype.
//! let summary = mnist_idx::summary(&path)?;
//! assert_eq!(summary.max, Some(255.0));
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod array;
pub mod atomic;
mod dtype;
mod error;
mod header;
pub mod mnist;
#[cfg(feature = "ndarray")]
pub mod nd;
mod read;
mod source;
mod stream;
mod summary;
mod write;

pub use array::{IdxArray, IdxData};
pub use dtype::{Dtype, IdxElement};
pub use error::{Error, ErrorKind, Result};
pub use header::{Header, Limits};
pub use mnist::{Mnist, Split, SplitKind, MEAN, PIXELS, SIDE, STD};
pub use read::{read, read_dyn, read_dyn_from, read_from};
pub use stream::{IdxReader, Items};
pub use summary::{summary, IdxSummary};
pub use write::{write, write_to, Compression};
