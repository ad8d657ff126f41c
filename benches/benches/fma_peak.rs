//! The machine's peak: fused multiply-adds on sixteen independent registers, nothing loaded or
//! stored, on 1 and 2 threads; the ceiling against which the training steps' GFLOP/s are read.
//! Uses AVX-512 (16 lanes) where the CPU has it, else AVX2 with FMA (8 lanes), else reports
//! nothing. One FMA on one lane counts 2 FLOPs.
//!
//! Run: `cargo bench -p benches --bench fma_peak`. On the development machine (AVX-512, about
//! 3.7 GHz): 218 GFLOP/s on one thread, 418 on two (the same loop in C reached 238 on one).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

/// Rounds of 16 FMAs per call.
const ROUNDS: usize = 1 << 20;

/// FLOPs of one call of [`fmas`] on each thread, for `lanes` lanes.
fn flops(lanes: usize) -> u64 {
    (ROUNDS * 16 * lanes * 2) as u64
}

#[cfg(target_arch = "x86_64")]
mod kernels {
    use super::ROUNDS;
    use std::arch::x86_64::*;

    /// One FMA on each of the sixteen accumulators, written out: a loop over the array let LLVM
    /// rotate the registers through memory (measured: two thirds of the peak).
    macro_rules! rounds {
        ($acc:ident, $f:expr) => {{
            let f = $f;
            let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15] = $acc;
            $acc = [
                f(a0),
                f(a1),
                f(a2),
                f(a3),
                f(a4),
                f(a5),
                f(a6),
                f(a7),
                f(a8),
                f(a9),
                f(a10),
                f(a11),
                f(a12),
                f(a13),
                f(a14),
                f(a15),
            ];
        }};
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512(seed: f32) -> f32 {
        let (a, b) = (_mm512_set1_ps(0.999_9), _mm512_set1_ps(seed));
        let mut acc = [_mm512_set1_ps(seed); 16];
        for _ in 0..ROUNDS {
            rounds!(acc, |r| _mm512_fmadd_ps(r, a, b));
        }
        acc.iter().map(|&r| _mm512_reduce_add_ps(r)).sum()
    }

    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2(seed: f32) -> f32 {
        let (a, b) = (_mm256_set1_ps(0.999_9), _mm256_set1_ps(seed));
        let mut acc = [_mm256_set1_ps(seed); 16];
        for _ in 0..ROUNDS {
            rounds!(acc, |r| _mm256_fmadd_ps(r, a, b));
        }
        let mut out = [0.0f32; 8];
        let mut total = 0.0;
        for r in acc {
            _mm256_storeu_ps(out.as_mut_ptr(), r);
            total += out.iter().sum::<f32>();
        }
        total
    }
}

/// A kernel: one call runs [`ROUNDS`] rounds and returns a sum that keeps the work alive.
type Kernel = fn(f32) -> f32;

/// The widest FMA kernel this CPU runs and its lane count, if any.
fn fmas() -> Option<(Kernel, usize)> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return Some((|s| unsafe { kernels::avx512(s) }, 16));
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA.
            return Some((|s| unsafe { kernels::avx2(s) }, 8));
        }
    }
    None
}

fn fma_peak(c: &mut Criterion) {
    let Some((kernel, lanes)) = fmas() else {
        eprintln!("fma_peak: this CPU has neither AVX-512 nor AVX2 with FMA");
        return;
    };
    let mut group = c.benchmark_group("fma_peak");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for threads in [1u64, 2] {
        group.throughput(Throughput::Elements(flops(lanes) * threads));
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| {
                if threads == 1 {
                    kernel(std::hint::black_box(1e-6))
                } else {
                    // Spawning costs ~50 µs against ~4 ms of work per call.
                    std::thread::scope(|s| {
                        let other = s.spawn(|| kernel(std::hint::black_box(1e-6)));
                        kernel(std::hint::black_box(2e-6)) + other.join().unwrap_or(0.0)
                    })
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, fma_peak);
criterion_main!(benches);
