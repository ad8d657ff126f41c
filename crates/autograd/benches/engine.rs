//! The engine against raw `matrixmultiply::sgemm` on the same products.
//!
//! - `linear/*`: one layer's forward + backward at the reference GAN's sizes (batch 64) through
//!   the graph API (bind x, W, b; `linear`; `sum`; `backward`), which computes three products:
//!   `Y = X·Wᵀ`, `dX = dY·W`, `dW = dYᵀ·X`, each `2·B·in·out` FLOP.
//! - `conv/*`: `conv2d` forward + backward at a small CNN's sizes (batch 64: 1→32 5×5 on 28×28
//!   padding 2, without an input gradient as for a first layer; 32→64 5×5 on 14×14 padding 2,
//!   with one), against the equivalent im2col products as single GEMMs over the whole batch
//!   (`Y = W·cols`, `dW = dY·colsᵀ`, `dcols = Wᵀ·dY`, each `2·Cout·K·B·P` FLOP), without the
//!   im2col and col2im copies the engine has to make.
//!
//! Each shape runs four ways: `ours` (from the main thread on rayon's global pool, as a training
//! loop calls it); `ours_1t` (inside a one-thread pool); `sgemm`, the raw products one after
//! another on one thread; and `sgemm_2t`, the raw products on two threads with the engine's own
//! plan (forward split into two column halves or two batch halves, backward products at once).
//! Throughput is in FLOP, so criterion's `elem/s` reads as FLOP/s. `sum/*` times the `sum` +
//! backward that ends each `ours` step, alone, so that it can be told apart from the op.
//! `fused/*`: a hidden layer's `linear` followed by `leaky_relu` (two ops), against `linear_act`
//! (one op, the activation applied to each half of the product while it is in cache), forward
//! and backward (the weight's gradient; the input is a constant).
//!
//! Run: `cargo bench -p autograd --bench engine`.

use autograd::nn::Activation;
use autograd::{BufferPool, Gradients, Graph, ParamStore, Tensor};
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

const BATCH: usize = 64;

/// `C ← A·B + β·C` on the calling thread; each matrix given by its first element and its
/// (row, column) strides.
///
/// # Safety
/// The strides must describe m×k, k×n and m×n matrices inside valid buffers, and no other thread
/// may touch the elements of `C` meanwhile.
unsafe fn sgemm(
    (m, k, n): (usize, usize, usize),
    a: (*const f32, usize, usize),
    b: (*const f32, usize, usize),
    beta: f32,
    c: (*mut f32, usize, usize),
) {
    matrixmultiply::sgemm(
        m,
        k,
        n,
        1.0,
        a.0,
        a.1 as isize,
        a.2 as isize,
        b.0,
        b.1 as isize,
        b.2 as isize,
        beta,
        c.0,
        c.1 as isize,
        c.2 as isize,
    );
}

fn random(len: usize, seed: u64) -> Vec<f32> {
    Tensor::uniform(&[len], -1.0, 1.0, &mut ChaCha8Rng::seed_from_u64(seed)).into_data()
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// Benches one engine step as `ours` (called from the main thread, as a training loop would,
/// on rayon's global pool of one thread per core) and as `ours_1t` (inside a one-thread pool).
fn bench_ours(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    step: &mut (impl FnMut() + Send),
) {
    group.bench_function(BenchmarkId::new("ours", id), |bench| bench.iter(&mut *step));
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build();
    let one = one.expect("a one-thread pool");
    group.bench_function(BenchmarkId::new("ours_1t", id), |bench| {
        one.install(|| bench.iter(&mut *step))
    });
}

/// The reference GAN's layers: G 100→256→512→784, D 784→512→256→1.
const LINEAR_SHAPES: [(usize, usize); 6] = [
    (100, 256),
    (256, 512),
    (512, 784),
    (784, 512),
    (512, 256),
    (256, 1),
];

fn linear(c: &mut Criterion) {
    let mut group = c.benchmark_group("linear");
    for (inputs, outputs) in LINEAR_SHAPES {
        let flops = 3 * 2 * BATCH * inputs * outputs;
        group.throughput(Throughput::Elements(flops as u64));
        let id = format!("{BATCH}x{inputs}x{outputs}");

        let mut params = ParamStore::new();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = params
            .add("x", Tensor::uniform(&[BATCH, inputs], -1.0, 1.0, &mut rng))
            .unwrap();
        let w = params
            .add(
                "w",
                Tensor::uniform(&[outputs, inputs], -0.1, 0.1, &mut rng),
            )
            .unwrap();
        let b = params.add("b", Tensor::zeros(&[outputs])).unwrap();
        let mut grads = Gradients::zeros_like(&params);
        let mut pool = BufferPool::new();
        let mut step = || {
            let mut g = Graph::new(&params, &mut pool);
            let (xv, wv, bv) = (g.param(x), g.param(w), g.param(b));
            let y = g.linear(xv, wv, Some(bv)).unwrap();
            let s = g.sum(y).unwrap();
            g.backward(s, &mut grads).unwrap();
        };
        bench_ours(&mut group, &id, &mut step);

        let xs = random(BATCH * inputs, 2);
        let ws = random(outputs * inputs, 3);
        let dy = random(BATCH * outputs, 4);
        let mut y = vec![0.0; BATCH * outputs];
        let mut dx = vec![0.0; BATCH * inputs];
        let mut dw = vec![0.0; outputs * inputs];
        let (bt, i, o) = (BATCH, inputs, outputs);
        let (xs, ws, dy) = (&xs[..], &ws[..], &dy[..]);
        // Y = X·Wᵀ (B×in · in×out), columns `cols` of it; dX = dY·W (B×out · out×in);
        // dW = dYᵀ·X (out×B · B×in).
        // SAFETY (all three): the views lie inside their buffers, and the callers below never
        // let two threads write the same elements.
        let forward = |y: SendMut, cols: std::ops::Range<usize>| unsafe {
            let (j, n) = (cols.start, cols.len());
            sgemm(
                (bt, i, n),
                (xs.as_ptr(), i, 1),
                (ws.as_ptr().add(j * i), 1, i),
                0.0,
                (y.ptr().add(j), o, 1),
            );
        };
        let grad_x = |dx: SendMut| unsafe {
            sgemm(
                (bt, o, i),
                (dy.as_ptr(), o, 1),
                (ws.as_ptr(), i, 1),
                1.0,
                (dx.ptr(), i, 1),
            );
        };
        let grad_w = |dw: SendMut| unsafe {
            sgemm(
                (o, bt, i),
                (dy.as_ptr(), 1, o),
                (xs.as_ptr(), i, 1),
                1.0,
                (dw.ptr(), i, 1),
            );
        };
        let (yp, dxp, dwp) = (
            SendMut(y.as_mut_ptr()),
            SendMut(dx.as_mut_ptr()),
            SendMut(dw.as_mut_ptr()),
        );
        group.bench_function(BenchmarkId::new("sgemm", &id), |bench| {
            bench.iter(|| {
                forward(yp, 0..outputs);
                grad_x(dxp);
                grad_w(dwp);
            })
        });
        group.bench_function(BenchmarkId::new("sgemm_2t", &id), |bench| {
            bench.iter(|| {
                if outputs >= 16 {
                    // Two column halves of Y at once, split at a multiple of 8 as gemm_par does.
                    let half = (outputs / 2).div_ceil(8) * 8;
                    rayon::join(|| forward(yp, 0..half), || forward(yp, half..outputs));
                } else {
                    forward(yp, 0..outputs);
                }
                rayon::join(|| grad_x(dxp), || grad_w(dwp));
            })
        });
        drop((y, dx, dw));
    }
    group.finish();
}

/// A buffer's first element, handed to the sides of a `rayon::join` that write disjoint parts.
#[derive(Clone, Copy)]
struct SendMut(*mut f32);
// SAFETY: only used to write disjoint elements from the two sides of a join.
unsafe impl Send for SendMut {}
unsafe impl Sync for SendMut {}
impl SendMut {
    fn ptr(self) -> *mut f32 {
        self.0
    }
}

/// A convolution layer of the bench: channels, image side, kernel side, padding, and whether
/// its input needs a gradient.
struct ConvCase {
    cin: usize,
    cout: usize,
    side: usize,
    kernel: usize,
    padding: usize,
    input_grad: bool,
}

const CONV_CASES: [ConvCase; 2] = [
    ConvCase {
        cin: 1,
        cout: 32,
        side: 28,
        kernel: 5,
        padding: 2,
        input_grad: false,
    },
    ConvCase {
        cin: 32,
        cout: 64,
        side: 14,
        kernel: 5,
        padding: 2,
        input_grad: true,
    },
];

fn conv(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv");
    for case in CONV_CASES {
        let ConvCase {
            cin,
            cout,
            side,
            kernel,
            padding,
            input_grad,
        } = case;
        let out_side = side + 2 * padding - kernel + 1;
        let (k, p) = (cin * kernel * kernel, out_side * out_side);
        let products = if input_grad { 3 } else { 2 };
        let flops = products * 2 * cout * k * BATCH * p;
        group.throughput(Throughput::Elements(flops as u64));
        let id = format!("{BATCH}x{cin}x{side}x{side}_{cout}x{kernel}x{kernel}_pad{padding}");

        let mut params = ParamStore::new();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x_value = Tensor::uniform(&[BATCH, cin, side, side], -1.0, 1.0, &mut rng);
        let x = input_grad.then(|| params.add("x", x_value.clone()).unwrap());
        let w = params
            .add(
                "w",
                Tensor::uniform(&[cout, cin, kernel, kernel], -0.1, 0.1, &mut rng),
            )
            .unwrap();
        let b = params.add("b", Tensor::zeros(&[cout])).unwrap();
        let mut grads = Gradients::zeros_like(&params);
        let mut pool = BufferPool::new();
        let mut step = || {
            let mut g = Graph::new(&params, &mut pool);
            let xv = match x {
                Some(id) => g.param(id),
                None => g.constant_from(x_value.shape(), x_value.data()).unwrap(),
            };
            let (wv, bv) = (g.param(w), g.param(b));
            let y = g.conv2d(xv, wv, Some(bv), 1, padding).unwrap();
            let s = g.sum(y).unwrap();
            g.backward(s, &mut grads).unwrap();
        };
        bench_ours(&mut group, &id, &mut step);

        // The same products over a batch laid out as one K × (B·P) column matrix.
        let n = BATCH * p;
        let cols = random(k * n, 6);
        let ws = random(cout * k, 7);
        let dy = random(cout * n, 8);
        let mut y = vec![0.0; cout * n];
        let mut dw = vec![0.0; cout * k];
        let mut dw_hi = vec![0.0; cout * k];
        let mut dcols = vec![0.0; k * n];
        let (cols, ws, dy) = (&cols[..], &ws[..], &dy[..]);
        let (yp, dcp) = (SendMut(y.as_mut_ptr()), SendMut(dcols.as_mut_ptr()));
        // Columns `range` of Y = W·cols (Cout×K · K×n); dW (+)= dY·colsᵀ (Cout×n · n×K) into
        // `dw`; dcols = Wᵀ·dY (K×Cout · Cout×n).
        // SAFETY: the views lie inside their buffers; the two halves below write disjoint
        // columns of Y and dcols and their own weight-gradient buffers.
        let products = |range: std::ops::Range<usize>, dw: SendMut| unsafe {
            let (j, m) = (range.start, range.len());
            sgemm(
                (cout, k, m),
                (ws.as_ptr(), k, 1),
                (cols.as_ptr().add(j), n, 1),
                0.0,
                (yp.ptr().add(j), n, 1),
            );
            sgemm(
                (cout, m, k),
                (dy.as_ptr().add(j), n, 1),
                (cols.as_ptr().add(j), 1, n),
                1.0,
                (dw.ptr(), k, 1),
            );
            if input_grad {
                sgemm(
                    (k, cout, m),
                    (ws.as_ptr(), 1, k),
                    (dy.as_ptr().add(j), n, 1),
                    0.0,
                    (dcp.ptr().add(j), n, 1),
                );
            }
        };
        let (dwp, dwhp) = (SendMut(dw.as_mut_ptr()), SendMut(dw_hi.as_mut_ptr()));
        group.bench_function(BenchmarkId::new("sgemm", &id), |bench| {
            bench.iter(|| products(0..n, dwp))
        });
        group.bench_function(BenchmarkId::new("sgemm_2t", &id), |bench| {
            bench.iter(|| {
                let mid = BATCH / 2 * p;
                rayon::join(|| products(0..mid, dwp), || products(mid..n, dwhp));
                // SAFETY: both halves are done; nothing else holds these buffers.
                let (dw, hi) = unsafe {
                    (
                        std::slice::from_raw_parts_mut(dwp.ptr(), cout * k),
                        std::slice::from_raw_parts(dwhp.ptr(), cout * k),
                    )
                };
                for (a, d) in dw.iter_mut().zip(hi) {
                    *a += d;
                }
            })
        });
        drop((y, dw, dw_hi, dcols));
    }
    group.finish();
}

/// The `sum` + backward that every `ours` step above ends with, alone, on each op's output
/// shape: what it costs is engine overhead that a real loss (on a 64×1 logit) does not have.
fn sum_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("sum");
    let shapes: [&[usize]; 6] = [
        &[BATCH, 256],
        &[BATCH, 512],
        &[BATCH, 784],
        &[BATCH, 1],
        &[BATCH, 32, 28, 28],
        &[BATCH, 64, 14, 14],
    ];
    for shape in shapes {
        let mut params = ParamStore::new();
        let y = params.add("y", Tensor::full(shape, 0.5)).unwrap();
        let mut grads = Gradients::zeros_like(&params);
        let mut pool = BufferPool::new();
        let id = format!("{shape:?}");
        group.throughput(Throughput::Elements(params.get(y).len() as u64));
        group.bench_function(BenchmarkId::new("sum_fwd_bwd", id), |bench| {
            bench.iter(|| {
                let mut g = Graph::new(&params, &mut pool);
                let yv = g.param(y);
                let s = g.sum(yv).unwrap();
                g.backward(s, &mut grads).unwrap();
            })
        });
    }
    group.finish();
}

/// A hidden layer with its activation, as two ops and as one fused op.
fn fused(c: &mut Criterion) {
    let mut group = c.benchmark_group("fused");
    for (batch, inputs, outputs) in [(64, 256, 512), (128, 784, 512)] {
        group.throughput(Throughput::Elements(
            (3 * 2 * batch * inputs * outputs) as u64,
        ));
        let id = format!("{batch}x{inputs}x{outputs}");
        let mut params = ParamStore::new();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let x = Tensor::uniform(&[batch, inputs], -1.0, 1.0, &mut rng);
        let w = params
            .add(
                "w",
                Tensor::uniform(&[outputs, inputs], -0.1, 0.1, &mut rng),
            )
            .unwrap();
        let b = params.add("b", Tensor::zeros(&[outputs])).unwrap();
        let mut grads = Gradients::zeros_like(&params);
        let mut pool = BufferPool::new();
        for fused in [false, true] {
            let name = if fused {
                "linear_act"
            } else {
                "linear+leaky_relu"
            };
            group.bench_function(BenchmarkId::new(name, &id), |bench| {
                bench.iter(|| {
                    let mut g = Graph::new(&params, &mut pool);
                    let xv = g.constant_from(x.shape(), x.data()).unwrap();
                    let (wv, bv) = (g.param(w), g.param(b));
                    let y = if fused {
                        g.linear_act(xv, wv, Some(bv), Activation::LeakyRelu(0.2))
                    } else {
                        g.linear(xv, wv, Some(bv))
                            .and_then(|z| g.leaky_relu(z, 0.2))
                    };
                    let s = g.sum(y.unwrap()).unwrap();
                    g.backward_set(s, &mut grads).unwrap();
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = linear, conv, sum_only, fused
}
criterion_main!(benches);
