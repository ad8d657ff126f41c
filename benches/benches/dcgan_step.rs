//! One training step of the small DCGAN (`benches::dcgan`: G z(100) → Linear → BatchNorm1d →
//! 2 × ConvTranspose2d up to 28×28; D 2 × Conv2d → Linear; BCE with logits; one D update with
//! real and fake as two passes, one non-saturating G update, Adam 2e-4 (0.5, 0.999)) at batch 64
//! and 128, on 1 and 2 threads.
//!
//! Throughput is FLOPs per step (criterion prints it as `elem/s`: read `Gelem/s` as GFLOP/s),
//! matrix products only, `2·B·(3·G − G₁ + 8·D − 2·D₁)` with `G`, `D` the forward multiply-adds
//! per sample of the generator's and discriminator's products and `G₁`, `D₁` those of their first
//! layer (see `benches::flops`): G = 627,200 + 6,422,528 + 200,704, D = 200,704 + 6,422,528 +
//! 6,272, so 147.5 MFLOP per sample, 9.44 GFLOP per step at batch 64. As a share of the
//! machine's peak: GFLOP/s ÷ the `fma_peak` bench's figure (418 on 2 threads and 218 on 1 on
//! the AVX-512 development machine; about 190 and 95 on the AVX2 machine of earlier tables).
//!
//! Run: `cargo bench -p benches --bench dcgan_step`.

use benches::dcgan::{synthetic_batch, Dcgan};
use benches::pool;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

fn dcgan_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("dcgan_step");
    // A step takes a tenth of a second or more: criterion's fewest samples.
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    for threads in [1, 2] {
        let pool = pool(threads);
        for batch in [64usize, 128] {
            let real = synthetic_batch(batch);
            let mut gan = Dcgan::new(0).expect("a DCGAN");
            group.throughput(Throughput::Elements(Dcgan::step_flops(batch)));
            group.bench_function(BenchmarkId::new(format!("{threads}t"), batch), |b| {
                pool.install(|| b.iter(|| gan.step(&real, batch).expect("a step")))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, dcgan_step);
criterion_main!(benches);
