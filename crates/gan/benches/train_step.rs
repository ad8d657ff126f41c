//! One full training step of the reference GAN (`Trainer::train_step`: the discriminator's
//! forward and backward on real and generated digits, its Adam update, the generator's forward
//! and backward through the updated discriminator, its Adam update) at batch 32, 64 and 128.
//!
//! An epoch of 60,000 digits is `60000 / batch` steps, so the time per step times that count is
//! the training time of one epoch (what `metrics.csv` reports as `seconds`, without data
//! loading). Each step runs two ways: `step` on rayon's global pool (one thread per core, as
//! `gan train` runs) and `step_1t` inside a one-thread pool.
//!
//! Run: `cargo bench -p gan --bench train_step`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gan::config::TrainConfig;
use gan::data::TrainingData;
use gan::train::Trainer;
use mnist_idx::Split;
use std::time::Duration;

/// 1,024 synthetic digits (the step's cost does not depend on the pixels).
fn data() -> TrainingData {
    const N: usize = 1024;
    let split = Split {
        images: (0..N * 784).map(|i| ((i * 37) % 256) as u8).collect(),
        labels: (0..N).map(|i| (i % 10) as u8).collect(),
        len: N,
    };
    TrainingData::from_split(&split, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).expect("synthetic digits")
}

fn train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    for batch in [32usize, 64, 128] {
        let config = TrainConfig {
            batch,
            ..TrainConfig::default()
        };
        let digits = data();
        let mut real = Vec::new();
        let indices: Vec<u32> = (0..batch as u32).collect();
        digits.fill_batch(&indices, config.output, &mut real);
        let labels = vec![0u8; batch];
        let real = [gan::RealBatch {
            pixels: &real,
            labels: &labels,
        }];
        let mut trainer = Trainer::new(&config, digits).expect("a trainer");
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new("step", batch), |b| {
            b.iter(|| trainer.train_step(&real).expect("a step"))
        });
        group.bench_function(BenchmarkId::new("step_1t", batch), |b| {
            one.install(|| b.iter(|| trainer.train_step(&real).expect("a step")))
        });
    }
    group.finish();
}

criterion_group!(benches, train_step);
criterion_main!(benches);
