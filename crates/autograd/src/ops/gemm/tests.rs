use super::*;
use rand::{Rng, SeedableRng};

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn close(want: &[f32], got: &[f32], what: &str) {
    assert_eq!(want.len(), got.len(), "{what}");
    for (w, g) in want.iter().zip(got) {
        assert!((w - g).abs() < 1e-4 * (1.0 + w.abs()), "{what}: {w} vs {g}");
    }
}

#[test]
fn every_kernel_matches_the_reference_for_every_transpose() {
    // Depths above 256 take several depth blocks; widths above 1024 several column blocks,
    // rows above 128 several row blocks; odd sizes leave partial tiles on both edges;
    // (64, 520, 48) is also large enough for `gemm_par` to split it, and (200, 300, 20) large
    // enough but too narrow.
    let shapes = [
        (1, 1, 1),
        (3, 5, 7),
        (64, 100, 256),
        (17, 33, 130),
        (5, 257, 16),
        (8, 300, 40),
        (20, 600, 33),
        (64, 520, 48),
        (130, 70, 1100),
        (9, 31, 1),
        (1, 40, 70),
        (200, 300, 20),
    ];
    for kernel in Kernel::all_available() {
        for &(m, k, n) in &shapes {
            for ta in [false, true] {
                for tb in [false, true] {
                    let what = format!("{kernel:?} {m}x{k}x{n} ta={ta} tb={tb}");
                    let a = random(m * k, 1);
                    let b = random(k * n, 2);
                    let a_view = MatRef::new(&a, if ta { k } else { m }, if ta { m } else { k });
                    let b_view = MatRef::new(&b, if tb { n } else { k }, if tb { k } else { n });
                    let (a_view, b_view) = (a_view.t_if(ta), b_view.t_if(tb));
                    let start = random(m * n, 3);
                    let mut want = start.clone();
                    gemm_reference(0.5, a_view, b_view, 2.0, MatMut::new(&mut want, m, n));
                    let mut got = start.clone();
                    gemm_with(
                        kernel,
                        0.5,
                        a_view,
                        b_view,
                        2.0,
                        MatMut::new(&mut got, m, n),
                    );
                    close(&want, &got, &what);
                    let mut par = start.clone();
                    let c = MatMut::new(&mut par, m, n);
                    gemm_par_with(kernel, 0.5, a_view, b_view, 2.0, c);
                    assert_eq!(
                        got, par,
                        "{what}: the parallel split must not change any bit"
                    );
                    // A left operand packed once gives the same bits, on one thread or two.
                    let left = PackedLeft::with(kernel, a_view);
                    for split in [false, true] {
                        let mut packed = start.clone();
                        let c = MatMut::new(&mut packed, m, n);
                        gemm_packed_with(split, &left, 0.5, b_view, 2.0, c);
                        assert_eq!(got, packed, "{what}: packed once (split {split})");
                    }
                    // A transposed output (column-major C) takes the kernel's strided store.
                    let mut t_start = vec![0.0; m * n];
                    for i in 0..m {
                        for j in 0..n {
                            t_start[j * m + i] = start[i * n + j];
                        }
                    }
                    let c = MatMut::new(&mut t_start, n, m).t();
                    gemm_with(kernel, 0.5, a_view, b_view, 2.0, c);
                    for i in 0..m {
                        for j in 0..n {
                            assert_eq!(t_start[j * m + i], got[i * n + j], "{what}: strided C");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_deep_transposed_right_operand_gives_the_bits_of_its_row_major_copy() {
    // k > 256: several depth blocks, the last one partial. The portable path copies such a
    // transposed view block by block; the AVX-512 path packs it through its strides. Either way
    // the product must equal the reference and, bit for bit, the product with a row-major copy
    // of Bᵀ made beforehand.
    for kernel in Kernel::all_available() {
        for &(m, k, n) in &[(3, 257, 16), (9, 513, 24), (16, 700, 40)] {
            let a = random(m * k, 4);
            let bt = random(n * k, 5); // row-major n×k: B = btᵀ
            let b_view = MatRef::new(&bt, n, k).t();
            let mut b_copy = vec![0.0; k * n];
            for p in 0..k {
                for j in 0..n {
                    b_copy[p * n + j] = bt[j * k + p];
                }
            }
            let start = random(m * n, 6);
            let mut want = start.clone();
            let a_view = MatRef::new(&a, m, k);
            gemm_reference(1.5, a_view, b_view, -1.0, MatMut::new(&mut want, m, n));
            let mut got = start.clone();
            gemm_with(
                kernel,
                1.5,
                a_view,
                b_view,
                -1.0,
                MatMut::new(&mut got, m, n),
            );
            let mut copied = start.clone();
            let b_rows = MatRef::new(&b_copy, k, n);
            gemm_with(
                kernel,
                1.5,
                a_view,
                b_rows,
                -1.0,
                MatMut::new(&mut copied, m, n),
            );
            close(&want, &got, &format!("{kernel:?} {m}x{k}x{n}"));
            assert_eq!(
                got, copied,
                "{kernel:?} {m}x{k}x{n}: the copy changed the result"
            );
        }
    }
}

#[test]
fn beta_zero_ignores_nan_in_the_output() {
    for kernel in Kernel::all_available() {
        let a = vec![1.0, 2.0];
        let b = vec![3.0, 4.0];
        let mut c = vec![f32::NAN];
        let (av, bv) = (MatRef::new(&a, 1, 2), MatRef::new(&b, 2, 1));
        gemm_with(kernel, 1.0, av, bv, 0.0, MatMut::new(&mut c, 1, 1));
        assert_eq!(c, vec![11.0], "{kernel:?}");
    }
}

#[test]
fn an_empty_depth_scales_the_output_by_beta() {
    for kernel in Kernel::all_available() {
        let mut c = vec![1.0, f32::NAN];
        let (av, bv) = (MatRef::new(&[], 1, 0), MatRef::new(&[], 0, 2));
        gemm_with(kernel, 1.0, av, bv, 0.0, MatMut::new(&mut c, 1, 2));
        assert_eq!(c, vec![0.0, 0.0], "{kernel:?}");
        let mut c = vec![1.0, 2.0];
        gemm_with(kernel, 1.0, av, bv, 3.0, MatMut::new(&mut c, 1, 2));
        assert_eq!(c, vec![3.0, 6.0], "{kernel:?}");
    }
}

#[test]
#[should_panic(expected = "exceeds")]
fn a_view_outside_its_slice_is_refused() {
    let a = vec![0.0; 5];
    let b = vec![0.0; 6];
    let mut c = vec![0.0; 6];
    gemm(
        1.0,
        MatRef::new(&a, 2, 3),
        MatRef::new(&b, 3, 2),
        0.0,
        MatMut::new(&mut c, 2, 2),
    );
}

#[test]
#[ignore = "a timing, not a test: cargo test --release -p autograd --lib gemm_throughput -- --ignored --nocapture"]
fn gemm_throughput() {
    let shapes = [
        ("fwd x·wT", 64, 784, 512, false, true),
        ("fwd x·wT", 64, 512, 784, false, true),
        ("dx dy·w", 64, 512, 784, false, false),
        ("dw dyT·x", 512, 64, 784, true, false),
        ("fwd x·wT", 128, 784, 512, false, true),
        ("square", 512, 512, 512, false, false),
        ("conv w·cols", 128, 1024, 49, false, false),
        ("conv w·cols b", 128, 1024, 3136, false, false),
    ];
    for kernel in Kernel::all_available() {
        for &(name, m, k, n, ta, tb) in &shapes {
            let a = random(m * k, 1);
            let b = random(k * n, 2);
            let av = MatRef::new(&a, if ta { k } else { m }, if ta { m } else { k }).t_if(ta);
            let bv = MatRef::new(&b, if tb { n } else { k }, if tb { k } else { n }).t_if(tb);
            let mut c = vec![0.0; m * n];
            let reps = (2e9 / (2.0 * (m * k * n) as f64)).ceil() as usize;
            let start = std::time::Instant::now();
            for _ in 0..reps {
                gemm_with(kernel, 1.0, av, bv, 0.0, MatMut::new(&mut c, m, n));
            }
            let s = start.elapsed().as_secs_f64();
            let gflops = 2.0 * (m * k * n * reps) as f64 / s / 1e9;
            println!("{kernel:?} {name:14} {m}x{k}x{n}: {gflops:.1} GFLOP/s");
        }
    }
}

#[test]
#[ignore = "a timing"]
fn tile_throughput() {
    if Kernel::best() != Kernel::Avx512 {
        return;
    }
    let kc = 256;
    let a = random(kc * avx512::MR, 1);
    let b = random(kc * avx512::NR, 2);
    let mut c = vec![0.0; avx512::MR * avx512::NR];
    let reps = 200_000;
    let update = avx512::Update {
        alpha: 1.0,
        beta: 1.0,
    };
    let start = std::time::Instant::now();
    for _ in 0..reps {
        // SAFETY: the CPU has AVX-512; the buffers hold a strip, a panel and a tile.
        unsafe {
            avx512::tile(
                kc,
                a.as_ptr(),
                b.as_ptr(),
                c.as_mut_ptr(),
                32,
                1,
                avx512::MR,
                32,
                update,
            );
        }
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "tile: {:.1} GFLOP/s",
        2.0 * (kc * avx512::MR * 32 * reps) as f64 / s / 1e9
    );
}

#[test]
fn a_fused_row_function_sees_every_row_once_whether_or_not_the_product_splits() {
    // (64, 300, 512) and (300, 200, 100) split by columns, (8, 8, 8) not at all.
    for &(m, k, n) in &[(64, 300, 512), (300, 200, 100), (8, 8, 8)] {
        let a = random(m * k, 7);
        let b = random(k * n, 8);
        let (av, bv) = (MatRef::new(&a, m, k), MatRef::new(&b, k, n));
        let mut want = vec![0.0; m * n];
        gemm(1.0, av, bv, 0.0, MatMut::new(&mut want, m, n));
        want.iter_mut().for_each(|v| *v = v.max(0.0) + 1.0);
        let mut got = vec![f32::NAN; m * n];
        let relu_plus_one = |row: &mut [f32]| row.iter_mut().for_each(|v| *v = v.max(0.0) + 1.0);
        gemm_par_map(1.0, av, bv, 0.0, MatMut::new(&mut got, m, n), relu_plus_one);
        assert_eq!(want, got, "{m}x{k}x{n}");
    }
}
