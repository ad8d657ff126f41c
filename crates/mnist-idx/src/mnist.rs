//! The MNIST loader: the four files of a folder, checked, images kept as `u8`.

use std::path::{Path, PathBuf};

use crate::dtype::Dtype;
use crate::error::{Error, ErrorKind, Result};
use crate::stream::IdxReader;

/// Side of an MNIST image: 28 (images are square).
pub const SIDE: usize = 28;
/// Rows of an MNIST image (`SIDE`).
pub const ROWS: usize = SIDE;
/// Columns of an MNIST image (`SIDE`).
pub const COLS: usize = SIDE;
/// Pixels of an MNIST image: 784 (`ROWS * COLS`).
pub const PIXELS: usize = ROWS * COLS;
/// Mean of the 60,000 training images' pixels on the [0, 1] scale (`p / 255`), for
/// standardising inputs as `(p / 255 - MEAN) / STD` (PyTorch's `Normalize((0.1307,), (0.3081,))`).
pub const MEAN: f32 = 0.1307;
/// Standard deviation of the training images' pixels on the [0, 1] scale (see [`MEAN`]).
pub const STD: f32 = 0.3081;

/// The training and the test split of MNIST.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// The 60,000 training digits.
    pub train: Split,
    /// The 10,000 test digits.
    pub test: Split,
}

impl Mnist {
    /// Loads both splits from `dir` (see [`Split::load`] for the file names accepted).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), mnist_idx::Error> {
    /// let mnist = mnist_idx::Mnist::load("data/mnist")?;
    /// assert_eq!((mnist.train.len, mnist.test.len), (60_000, 10_000));
    /// # Ok(())
    /// # }
    /// ```
    pub fn load(dir: impl AsRef<Path>) -> Result<Mnist> {
        let dir = dir.as_ref();
        Ok(Mnist {
            train: Split::load(dir, SplitKind::Train)?,
            test: Split::load(dir, SplitKind::Test)?,
        })
    }
}

/// Which split of MNIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SplitKind {
    /// The training split: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`.
    Train,
    /// The test split: `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`.
    Test,
}

impl SplitKind {
    /// The prefix of the split's file names: `train` or `t10k`.
    pub fn prefix(self) -> &'static str {
        match self {
            SplitKind::Train => "train",
            SplitKind::Test => "t10k",
        }
    }

    /// The split's name in messages: `training` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            SplitKind::Train => "training",
            SplitKind::Test => "test",
        }
    }

    /// The file names tried for the images (`what` = "images", `idx` = 3) or labels ("labels",
    /// 1), in order: gzipped, decompressed, and the `train-images.idx3-ubyte` spelling.
    fn candidates(self, what: &str, idx: u8) -> Vec<String> {
        let p = self.prefix();
        vec![
            format!("{p}-{what}-idx{idx}-ubyte.gz"),
            format!("{p}-{what}-idx{idx}-ubyte"),
            format!("{p}-{what}.idx{idx}-ubyte"),
            format!("{p}-{what}.idx{idx}-ubyte.gz"),
        ]
    }
}

/// One split of MNIST: `len` images of 28×28 `u8` pixels (row-major, one after the other) and
/// their labels 0–9.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// `len * PIXELS` pixels, 0 (background) to 255 (ink), image after image, row-major.
    pub images: Vec<u8>,
    /// `len` labels, each 0–9.
    pub labels: Vec<u8>,
    /// The number of digits.
    pub len: usize,
}

impl Split {
    /// Loads one split from `dir`, accepting for each file the gzipped name
    /// (`train-images-idx3-ubyte.gz`), the decompressed name (`train-images-idx3-ubyte`) and the
    /// `train-images.idx3-ubyte` spelling (`t10k-...` for the test split). Checks that the images
    /// are 28×28 `u8`, the labels `u8` and 0–9, and that their counts agree.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), mnist_idx::Error> {
    /// use mnist_idx::{Split, SplitKind};
    /// let train = Split::load("data/mnist", SplitKind::Train)?;
    /// let (first_image, first_label) = (train.image(0), train.labels[0]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn load(dir: impl AsRef<Path>, kind: SplitKind) -> Result<Split> {
        let dir = dir.as_ref();
        let images_path = find(dir, kind, "images", 3)?;
        let labels_path = find(dir, kind, "labels", 1)?;

        let mut images = open_u8(&images_path, "images")?;
        if images.dims().len() != 3 || images.dims()[1..] != [ROWS, COLS] {
            let found = images.dims().to_vec();
            return Err(shape_error("N x 28 x 28 images", found, &images_path));
        }
        let mut labels = open_u8(&labels_path, "labels")?;
        if labels.dims().len() != 1 {
            let found = labels.dims().to_vec();
            return Err(shape_error("N labels (one dimension)", found, &labels_path));
        }
        // Compare counts before reading 47 MB of pixels.
        let (n_images, n_labels) = (images.header().items(), labels.header().items());
        if n_images != n_labels {
            return Err(Error::from(ErrorKind::CountMismatch {
                split: kind.name(),
                images: n_images,
                labels: n_labels,
                images_file: file_name(&images_path),
                labels_file: file_name(&labels_path),
            })
            .at(dir));
        }
        images.set_noun("images");
        labels.set_noun("labels");
        let labels = labels.read_all::<u8>()?.data;
        if let Some(index) = labels.iter().position(|&l| l > 9) {
            return Err(Error::from(ErrorKind::LabelOutOfRange {
                index,
                label: labels[index],
            })
            .at(&labels_path));
        }
        let images = images.read_all::<u8>()?.data;
        Ok(Split {
            images,
            labels,
            len: n_labels,
        })
    }

    /// Image `i`: `PIXELS` bytes, row-major. Panics if `i >= len`, like slice indexing.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * PIXELS..(i + 1) * PIXELS]
    }

    /// The digits as (image, label) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], u8)> + '_ {
        self.images
            .chunks_exact(PIXELS)
            .zip(self.labels.iter().copied())
    }
}

fn find(dir: &Path, kind: SplitKind, what: &'static str, idx: u8) -> Result<PathBuf> {
    let tried = kind.candidates(what, idx);
    if let Some(path) = tried.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
        return Ok(path);
    }
    let what = match (kind, what) {
        (SplitKind::Train, "images") => "training images",
        (SplitKind::Train, _) => "training labels",
        (SplitKind::Test, "images") => "test images",
        (SplitKind::Test, _) => "test labels",
    };
    Err(Error::from(ErrorKind::MissingFile {
        what,
        tried,
        folder_exists: dir.is_dir(),
    })
    .at(dir))
}

fn open_u8(path: &Path, noun: &'static str) -> Result<IdxReader<std::fs::File>> {
    let mut reader = IdxReader::open(path)?;
    reader.set_noun(noun);
    if reader.dtype() != Dtype::U8 {
        return Err(Error::from(ErrorKind::DtypeMismatch {
            expected: Dtype::U8,
            found: reader.dtype(),
        })
        .at(path));
    }
    Ok(reader)
}

fn shape_error(expected: &str, found: Vec<usize>, path: &Path) -> Error {
    Error::from(ErrorKind::ShapeMismatch {
        expected: expected.to_string(),
        found,
    })
    .at(path)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{write, Compression};

    /// Writes a small fake split (n images of 28x28, n labels) under the given names.
    fn fake(dir: &Path, images: &str, labels: &str, n: usize, labels_n: usize, bad: bool) {
        let pixels: Vec<u8> = (0..n * PIXELS).map(|i| (i % 251) as u8).collect();
        write(
            dir.join(images),
            &[n, 28, 28],
            &pixels,
            Compression::from_path(images),
        )
        .unwrap();
        let mut l: Vec<u8> = (0..labels_n).map(|i| (i % 10) as u8).collect();
        if bad {
            l[labels_n - 1] = 10;
        }
        write(dir.join(labels), &[labels_n], &l, Compression::None).unwrap();
    }

    #[test]
    fn accepts_every_spelling() {
        for (images, labels) in [
            ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            ("train-images.idx3-ubyte", "train-labels.idx1-ubyte"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            fake(dir.path(), images, labels, 3, 3, false);
            let s = Split::load(dir.path(), SplitKind::Train).unwrap();
            assert_eq!(
                (s.len, s.images.len(), s.labels.as_slice()),
                (3, 3 * 784, &[0, 1, 2][..])
            );
            assert_eq!(s.image(1)[0], (784 % 251) as u8);
            assert_eq!(s.iter().count(), 3);
        }
    }

    #[test]
    fn missing_file_says_where_and_how() {
        let dir = tempfile::tempdir().unwrap();
        let e = Split::load(dir.path(), SplitKind::Test).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: no test images file: looked for t10k-images-idx3-ubyte.gz, \
                 t10k-images-idx3-ubyte, t10k-images.idx3-ubyte, t10k-images.idx3-ubyte.gz; \
                 copy the four MNIST files (train-images-idx3-ubyte.gz, \
                 train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, \
                 t10k-labels-idx1-ubyte.gz) from the repository's data/mnist/ folder into this \
                 folder, or download MNIST there",
                dir.path().display()
            )
        );
        let e = Mnist::load(dir.path().join("nope")).unwrap_err();
        assert!(
            e.to_string()
                .contains("no training images file (the folder does not exist)"),
            "{e}"
        );
    }

    #[test]
    fn counts_must_agree() {
        let dir = tempfile::tempdir().unwrap();
        fake(
            dir.path(),
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            3,
            2,
            false,
        );
        let e = Split::load(dir.path(), SplitKind::Train).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: training images and labels disagree: 3 images (train-images-idx3-ubyte) \
                 but 2 labels (train-labels-idx1-ubyte)",
                dir.path().display()
            )
        );
    }

    #[test]
    fn labels_must_be_digits() {
        let dir = tempfile::tempdir().unwrap();
        fake(
            dir.path(),
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
            4,
            4,
            true,
        );
        let e = Split::load(dir.path(), SplitKind::Test).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: label 10 at index 3 is out of range 0-9",
                dir.path().join("t10k-labels-idx1-ubyte").display()
            )
        );
    }

    #[test]
    fn images_must_be_28x28_u8() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("train-images-idx3-ubyte");
        write(&images, &[2, 32, 32], &[0u8; 2048], Compression::None).unwrap();
        write(
            dir.path().join("train-labels-idx1-ubyte"),
            &[2],
            &[1u8, 2],
            Compression::None,
        )
        .unwrap();
        let e = Split::load(dir.path(), SplitKind::Train).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: unexpected shape: expected N x 28 x 28 images, found dims 2x32x32",
                images.display()
            )
        );
        write(&images, &[2, 28, 28], &[0f32; 1568], Compression::None).unwrap();
        let e = Split::load(dir.path(), SplitKind::Train).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: dtype mismatch: the file holds f32 values, u8 were asked for",
                images.display()
            )
        );
    }

    #[test]
    fn truncated_images_say_images() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("train-images-idx3-ubyte.gz");
        let mut bytes = vec![0u8, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28];
        bytes.extend([0u8; 1200]);
        let packed = write_gz(&bytes);
        std::fs::write(&images, packed).unwrap();
        let labels: Vec<u8> = vec![0; 60000];
        write(
            dir.path().join("train-labels-idx1-ubyte.gz"),
            &[60000],
            &labels,
            Compression::Gzip,
        )
        .unwrap();
        let e = Split::load(dir.path(), SplitKind::Train).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: truncated: header promises 60000 images of 28x28 (47040000 bytes), found 1200",
                images.display()
            )
        );
    }

    fn write_gz(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }
}
