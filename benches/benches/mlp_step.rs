//! One full training step of the reference MLP GAN (`gan::train::Trainer::train_step`: G(z)
//! once; the discriminator's forward and backward on real and generated digits as one batch of
//! 2B, its Adam update; the generator's forward and backward through the updated, frozen
//! discriminator, its Adam update) at batch 64 and 128, on 1 and 2 threads.
//!
//! Throughput is FLOPs per step (criterion prints it as `elem/s`: read `Gelem/s` as GFLOP/s),
//! matrix products only, `2·B·(3·G − G₁ + 8·D − 2·D₁)` with `G`, `D` the forward multiply-adds
//! per sample of the generator's and discriminator's linear layers and `G₁`, `D₁` those of their
//! first layer (see `benches::flops`): for the reference G 100→256→512→784 and D 784→512→256→1,
//! 10.2 MFLOP per sample, 0.654 GFLOP per step at batch 64. As a share of the machine's peak:
//! GFLOP/s ÷ the `fma_peak` bench's figure (418 on 2 threads and 218 on 1 on the AVX-512
//! development machine; about 190 and 95 on the AVX2 machine of earlier tables).
//!
//! An epoch of 60,000 digits is `60000 / batch` steps: the time per step times that count is the
//! training time of one epoch without data loading.
//!
//! Run: `cargo bench -p benches --bench mlp_step`.

use benches::{flops, pool};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gan::config::TrainConfig;
use gan::data::TrainingData;
use gan::train::Trainer;
use mnist_idx::{Split, PIXELS};
use std::time::Duration;

/// 1,024 synthetic digits (the step's cost does not depend on the pixels).
fn data() -> TrainingData {
    const N: usize = 1024;
    let split = Split {
        images: (0..N * PIXELS).map(|i| ((i * 37) % 256) as u8).collect(),
        labels: (0..N).map(|i| (i % 10) as u8).collect(),
        len: N,
    };
    TrainingData::from_split(&split, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).expect("synthetic digits")
}

fn mlp_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_step");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for threads in [1, 2] {
        let pool = pool(threads);
        for batch in [64usize, 128] {
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
            group.throughput(Throughput::Elements(flops::mlp_gan_step(&config)));
            group.bench_function(BenchmarkId::new(format!("{threads}t"), batch), |b| {
                pool.install(|| b.iter(|| trainer.train_step(&real).expect("a step")))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, mlp_step);
criterion_main!(benches);
