//! The MNIST files committed in data/mnist/ load, hold what MNIST holds, and decompress to the
//! published bytes (checked by MD5); writing them back reproduces those bytes exactly.

use std::io::Read;

use md5::{Digest, Md5};
use mnist_idx::{write_to, Compression, Mnist, Split, SplitKind, MEAN, PIXELS, SIDE, STD};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist");

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decompressed(name: &str) -> Vec<u8> {
    let file = std::fs::File::open(format!("{DATA}/{name}")).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn committed_files_have_the_published_md5() {
    for (name, md5) in [
        (
            "train-images-idx3-ubyte.gz",
            "6bbc9ace898e44ae57da46a324031adb",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "a25bea736e30d166cdddb491f175f624",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "2646ac647ad5339dbf082846283269ea",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "27ae3e4e09519cfbb04c329615203637",
        ),
    ] {
        assert_eq!(md5_hex(&decompressed(name)), md5, "{name}");
    }
}

#[test]
fn mnist_loads_and_writes_back_byte_for_byte() {
    let mnist = Mnist::load(DATA).unwrap();
    for (split, n, images_md5, labels_md5) in [
        (
            &mnist.train,
            60_000,
            "6bbc9ace898e44ae57da46a324031adb",
            "a25bea736e30d166cdddb491f175f624",
        ),
        (
            &mnist.test,
            10_000,
            "2646ac647ad5339dbf082846283269ea",
            "27ae3e4e09519cfbb04c329615203637",
        ),
    ] {
        assert_eq!(split.len, n);
        assert_eq!(split.images.len(), n * 28 * 28);
        assert_eq!(split.labels.len(), n);
        assert!(split.labels.iter().all(|&l| l <= 9));
        // Every digit occurs.
        for d in 0..10 {
            assert!(split.labels.contains(&d));
        }
        let images = write_to(Vec::new(), &[n, 28, 28], &split.images, Compression::None).unwrap();
        assert_eq!(md5_hex(&images), images_md5);
        let labels = write_to(Vec::new(), &[n], &split.labels, Compression::None).unwrap();
        assert_eq!(md5_hex(&labels), labels_md5);
    }
    // The well-known first training label is 5, the first test label 7.
    assert_eq!((mnist.train.labels[0], mnist.test.labels[0]), (5, 7));
}

#[test]
fn one_split_alone() {
    let test = Split::load(DATA, SplitKind::Test).unwrap();
    assert_eq!(test.len, 10_000);
    assert_eq!(test.iter().count(), 10_000);
}

#[test]
fn constants_match_the_training_images() {
    let train = Split::load(DATA, SplitKind::Train).unwrap();
    assert_eq!((SIDE, PIXELS), (28, 28 * 28));
    assert_eq!(train.images.len(), train.len * PIXELS);
    let n = train.images.len() as f64;
    let sum: f64 = train.images.iter().map(|&p| p as f64 / 255.0).sum();
    let mean = sum / n;
    let var = train
        .images
        .iter()
        .map(|&p| (p as f64 / 255.0 - mean).powi(2))
        .sum::<f64>()
        / n;
    // The constants are the measured values rounded to four decimals.
    assert!((mean - MEAN as f64).abs() < 5e-5, "mean {mean}");
    assert!((var.sqrt() - STD as f64).abs() < 5e-5, "std {}", var.sqrt());
}
