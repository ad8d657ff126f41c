//! Reading the 60,000 MNIST training images (47 MB decompressed): raw and gzipped, whole and
//! streamed image by image. Throughput is in decompressed bytes.
//!
//! ```text
//! cargo bench -p mnist-idx
//! ```
//! For comparison, `zcat data/mnist/train-images-idx3-ubyte.gz > /dev/null` does the
//! decompression alone.

use std::io::Read;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mnist_idx::IdxReader;

const GZ: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/mnist/train-images-idx3-ubyte.gz"
);

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let raw = dir.path().join("train-images-idx3-ubyte");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(GZ).expect("MNIST in data/mnist"))
        .read_to_end(&mut bytes)
        .expect("decompress");
    std::fs::write(&raw, &bytes).expect("write raw copy");

    let mut group = c.benchmark_group("train-images");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    for (name, path) in [("raw", raw.as_path()), ("gz", Path::new(GZ))] {
        group.bench_function(format!("read/{name}"), |b| {
            b.iter(|| mnist_idx::read::<u8>(path).expect("read").data.len())
        });
        group.bench_function(format!("stream/{name}"), |b| {
            b.iter(|| {
                let mut reader = IdxReader::open(path).expect("open");
                let mut image = Vec::new();
                let mut ink = 0u64;
                while reader.next_item_into::<u8>(&mut image).expect("item") {
                    ink += u64::from(image[400]);
                }
                ink
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
