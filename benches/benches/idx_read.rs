//! Reading the MNIST training images end to end through `mnist_idx`: open
//! `data/mnist/train-images-idx3-ubyte.gz`, check the header, gunzip and read 60,000 × 28 × 28
//! `u8` pixels (`mnist_idx::read::<u8>`). The crate's own micro-benchmarks are in
//! `crates/mnist-idx/benches/read.rs`.
//!
//! There are no FLOPs here: throughput is the decompressed bytes (47,040,016 per read), so
//! criterion prints MB/s (GiB/s) of IDX data.
//!
//! Run: `cargo bench -p benches --bench idx_read`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use std::time::Duration;

const TRAIN_IMAGES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/mnist/train-images-idx3-ubyte.gz"
);

fn idx_read(c: &mut Criterion) {
    let path = Path::new(TRAIN_IMAGES);
    // Read once up front: a missing or broken file is a message, not a panic in a benchmark.
    let bytes = match mnist_idx::read::<u8>(path) {
        Ok(images) => 16 + images.data.len() as u64,
        Err(e) => {
            eprintln!("idx_read: cannot read the MNIST training images: {e}");
            std::process::exit(2);
        }
    };
    let mut group = c.benchmark_group("idx_read");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("train_images", |b| {
        b.iter(|| mnist_idx::read::<u8>(path).expect("read above"))
    });
    group.finish();
}

criterion_group!(benches, idx_read);
criterion_main!(benches);
