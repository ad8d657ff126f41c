//! Finite-difference gradient checks for the convolution, pooling and dropout ops (batch norm:
//! `gradcheck_norm.rs`)
//! (batch 1, non-square kernels and inputs, stride 2, padding 1), and the convolutions compared
//! with direct loops, forward and backward, at sizes that take the parallel batch split too.

use autograd::nn::{Dropout, Module};
use autograd::{
    gradcheck, BufferPool, Error, Gradients, Graph, ParamStore, RunningStats, Tensor, Var,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::normal(shape, 0.0, 1.0, &mut rng(seed))
}

fn check(inputs: &[Tensor], f: impl Fn(&mut Graph<'_>, &[Var]) -> autograd::Result<Var>) {
    match gradcheck(inputs, f) {
        Ok(err) => assert!(err < 2e-3),
        Err(e) => panic!("{e}"),
    }
}

/// A convolution case: input shape, weight shape, stride, padding.
type Case = ([usize; 4], [usize; 4], usize, usize);

const CONV_CASES: [Case; 5] = [
    ([1, 1, 4, 4], [2, 1, 3, 3], 1, 0),
    ([2, 3, 5, 6], [4, 3, 3, 2], 2, 1),
    ([2, 2, 6, 5], [3, 2, 1, 1], 1, 0),
    ([3, 2, 7, 5], [2, 2, 2, 3], 2, 0),
    ([1, 2, 4, 3], [3, 2, 3, 3], 1, 1),
];

/// `(Cin, Cout, kh, kw)` weights for the transposed convolution.
const TRANSPOSE_CASES: [Case; 5] = [
    ([1, 2, 3, 3], [2, 3, 3, 3], 1, 0),
    ([2, 3, 3, 4], [3, 2, 4, 3], 2, 1),
    ([2, 2, 4, 3], [2, 3, 1, 1], 1, 0),
    ([1, 1, 2, 2], [1, 2, 2, 2], 2, 0),
    ([2, 2, 3, 2], [2, 2, 3, 3], 2, 1),
];

#[test]
fn conv2d_gradients() {
    for (i, &(sx, sw, s, p)) in CONV_CASES.iter().enumerate() {
        let seed = 10 * i as u64;
        let bias = randn(&[sw[0]], seed + 2);
        check(&[randn(&sx, seed), randn(&sw, seed + 1), bias], |g, v| {
            g.conv2d(v[0], v[1], Some(v[2]), s, p)
        });
        check(&[randn(&sx, seed + 3), randn(&sw, seed + 4)], |g, v| {
            g.conv2d(v[0], v[1], None, s, p)
        });
    }
}

#[test]
fn conv_transpose2d_gradients() {
    for (i, &(sx, sw, s, p)) in TRANSPOSE_CASES.iter().enumerate() {
        let seed = 10 * i as u64;
        let bias = randn(&[sw[1]], seed + 2);
        check(&[randn(&sx, seed), randn(&sw, seed + 1), bias], |g, v| {
            g.conv_transpose2d(v[0], v[1], Some(v[2]), s, p)
        });
        check(&[randn(&sx, seed + 3), randn(&sw, seed + 4)], |g, v| {
            g.conv_transpose2d(v[0], v[1], None, s, p)
        });
    }
}

#[test]
fn a_first_layer_needs_no_input_gradient() {
    let x = randn(&[2, 2, 6, 5], 1);
    check(&[randn(&[3, 2, 3, 3], 2), randn(&[3], 3)], |g, v| {
        let x = g.constant(x.clone());
        g.conv2d(x, v[0], Some(v[1]), 2, 1)
    });
    check(&[randn(&[2, 3, 4, 4], 4)], |g, v| {
        let x = g.constant(x.clone());
        g.conv_transpose2d(x, v[0], None, 2, 1)
    });
}

#[test]
fn only_the_bias_needs_a_gradient() {
    let (x, w) = (randn(&[2, 3, 5, 4], 1), randn(&[3, 2, 3, 3], 2));
    check(&[randn(&[2], 3)], |g, v| {
        let (x, w) = (g.constant(x.clone()), g.constant(w.clone()));
        g.conv_transpose2d(x, w, Some(v[0]), 2, 1)
    });
    let w = randn(&[4, 3, 3, 3], 4);
    check(&[randn(&[4], 5)], |g, v| {
        let (x, w) = (g.constant(x.clone()), g.constant(w.clone()));
        g.conv2d(x, w, Some(v[0]), 1, 1)
    });
}

/// Distinct values at least 0.05 apart, shuffled, so that ±ε never changes a window's maximum.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut values: Vec<f32> = (0..n).map(|i| i as f32 * 0.05 - n as f32 * 0.025).collect();
    values.shuffle(&mut rng(seed));
    Tensor::from_vec(shape, values).unwrap()
}

const POOL_CASES: [([usize; 4], usize, usize); 4] = [
    ([1, 1, 4, 4], 2, 2),
    ([2, 3, 5, 7], 3, 2),
    ([2, 2, 6, 6], 2, 1),
    ([1, 2, 3, 5], 3, 1),
];

#[test]
fn pooling_gradients() {
    for (i, &(shape, k, s)) in POOL_CASES.iter().enumerate() {
        check(&[distinct(&shape, i as u64)], |g, v| {
            g.max_pool2d(v[0], k, s)
        });
        check(&[randn(&shape, i as u64)], |g, v| g.avg_pool2d(v[0], k, s));
    }
}

#[test]
fn dropout_gradients_with_a_fixed_mask() {
    for (i, shape) in [vec![4, 5], vec![2, 3, 4, 4]].iter().enumerate() {
        check(&[randn(shape, i as u64)], |g, v| {
            // A fresh source from the same seed: the same mask in every evaluation.
            g.dropout(v[0], 0.3, &mut rng(99))
        });
    }
}

#[test]
fn a_small_conv_net() {
    // No conv bias before batch norm: the normalisation cancels it (its gradient is exactly 0).
    let inputs = [
        randn(&[2, 1, 6, 5], 1),
        randn(&[3, 1, 3, 3], 2),
        Tensor::uniform(&[3], 0.5, 1.5, &mut rng(4)),
        randn(&[3], 5),
        randn(&[3, 2, 2, 2], 6),
        randn(&[2], 7),
    ];
    check(&inputs, |g, v| {
        let h = g.conv2d(v[0], v[1], None, 1, 1)?;
        let mut stats = RunningStats::new(3);
        let h = g.batch_norm(h, v[2], v[3], &mut stats, 0.1, 1e-5)?;
        let h = g.tanh(h)?;
        let h = g.avg_pool2d(h, 2, 2)?;
        let h = g.conv_transpose2d(h, v[4], Some(v[5]), 2, 0)?;
        g.flatten(h)
    });
}

// ---- direct loops, the reference for the im2col + GEMM implementation ----

/// `y[n,o,i,j] = b[o] + Σ w[o,c,ki,kj]·x[n,c,i·s−p+ki, j·s−p+kj]`, by direct loops.
fn naive_conv2d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, s: usize, p: usize) -> Tensor {
    let [bn, cin, h, wd] = x.shape().try_into().unwrap();
    let [cout, _, kh, kw] = w.shape().try_into().unwrap();
    let (ho, wo) = ((h + 2 * p - kh) / s + 1, (wd + 2 * p - kw) / s + 1);
    let mut y = Tensor::zeros(&[bn, cout, ho, wo]);
    let (xd, wdat) = (x.data(), w.data());
    for n in 0..bn {
        for o in 0..cout {
            for i in 0..ho {
                for j in 0..wo {
                    let mut acc = b.map_or(0.0, |b| f64::from(b.data()[o]));
                    for c in 0..cin {
                        for ki in 0..kh {
                            for kj in 0..kw {
                                let (ih, iw) = (
                                    (i * s + ki) as isize - p as isize,
                                    (j * s + kj) as isize - p as isize,
                                );
                                if ih < 0 || iw < 0 || ih as usize >= h || iw as usize >= wd {
                                    continue;
                                }
                                let xv = xd[((n * cin + c) * h + ih as usize) * wd + iw as usize];
                                let wv = wdat[((o * cin + c) * kh + ki) * kw + kj];
                                acc += f64::from(xv) * f64::from(wv);
                            }
                        }
                    }
                    y.data_mut()[((n * cout + o) * ho + i) * wo + j] = acc as f32;
                }
            }
        }
    }
    y
}

/// `y[n,o,i·s−p+ki, j·s−p+kj] += x[n,c,i,j]·w[c,o,ki,kj]`, plus the bias, by direct loops.
fn naive_conv_transpose2d(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    s: usize,
    p: usize,
) -> Tensor {
    let [bn, cin, h, wd] = x.shape().try_into().unwrap();
    let [_, cout, kh, kw] = w.shape().try_into().unwrap();
    let (ho, wo) = ((h - 1) * s + kh - 2 * p, (wd - 1) * s + kw - 2 * p);
    let mut acc = vec![0.0f64; bn * cout * ho * wo];
    for n in 0..bn {
        for c in 0..cin {
            for i in 0..h {
                for j in 0..wd {
                    let xv = f64::from(x.data()[((n * cin + c) * h + i) * wd + j]);
                    for o in 0..cout {
                        for ki in 0..kh {
                            for kj in 0..kw {
                                let (oh, ow) = (
                                    (i * s + ki) as isize - p as isize,
                                    (j * s + kj) as isize - p as isize,
                                );
                                if oh < 0 || ow < 0 || oh as usize >= ho || ow as usize >= wo {
                                    continue;
                                }
                                let wv = f64::from(w.data()[((c * cout + o) * kh + ki) * kw + kj]);
                                acc[((n * cout + o) * ho + oh as usize) * wo + ow as usize] +=
                                    xv * wv;
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(b) = b {
        for (i, a) in acc.iter_mut().enumerate() {
            *a += f64::from(b.data()[(i / (ho * wo)) % cout]);
        }
    }
    Tensor::from_vec(
        &[bn, cout, ho, wo],
        acc.into_iter().map(|a| a as f32).collect(),
    )
    .unwrap()
}

fn assert_close(got: &Tensor, want: &Tensor, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    let scale = want.data().iter().fold(1.0f32, |m, v| m.max(v.abs()));
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.data().iter().zip(want.data()).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * scale,
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

/// Runs `op` on `inputs` bound as parameters; returns the output and the gradients of
/// `Σ y·dy` with respect to every input.
fn forward_backward(
    inputs: &[Tensor],
    dy_seed: u64,
    op: impl Fn(&mut Graph<'_>, &[Var]) -> autograd::Result<Var>,
) -> (Tensor, Tensor, Vec<Tensor>) {
    let mut params = ParamStore::new();
    for (i, t) in inputs.iter().enumerate() {
        params.add(format!("in.{i}"), t.clone()).unwrap();
    }
    let mut pool = BufferPool::new();
    let mut grads = Gradients::zeros_like(&params);
    let mut g = Graph::new(&params, &mut pool);
    let vars: Vec<Var> = params.ids().map(|id| g.param(id)).collect();
    let y = op(&mut g, &vars).unwrap();
    let dy = randn(g.value(y).shape(), dy_seed);
    let dyv = g.constant(dy.clone());
    let weighted = g.mul(y, dyv).unwrap();
    let loss = g.sum(weighted).unwrap();
    g.backward(loss, &mut grads).unwrap();
    let out = g.value(y).clone();
    drop(g);
    (
        out,
        dy,
        params.ids().map(|id| grads.get(id).clone()).collect(),
    )
}

/// The gradient of `Σ f(inputs)·dy` with respect to input `k` by the chain rule on the direct
/// loops: `f` is linear in each input, so `∂/∂in[k][e] = Σ (f(in with e_k) − f(in with 0))·dy`.
fn naive_grad(inputs: &[Tensor], k: usize, dy: &Tensor, f: impl Fn(&[Tensor]) -> Tensor) -> Tensor {
    let mut grad = Tensor::zeros(inputs[k].shape());
    let mut basis = inputs.to_vec();
    basis[k] = Tensor::zeros(inputs[k].shape());
    let base = f(&basis);
    for e in 0..inputs[k].len() {
        basis[k].data_mut()[e] = 1.0;
        let y = f(&basis);
        basis[k].data_mut()[e] = 0.0;
        assert_eq!((y.len(), base.len()), (dy.len(), dy.len()));
        grad.data_mut()[e] = y
            .data()
            .iter()
            .zip(base.data())
            .zip(dy.data())
            .map(|((a, b), d)| (a - b) * d)
            .sum();
    }
    grad
}

#[test]
fn conv2d_matches_direct_loops() {
    let cases: [Case; 5] = [
        ([1, 1, 5, 5], [1, 1, 3, 3], 1, 0),
        ([2, 3, 7, 6], [4, 3, 3, 2], 2, 1),
        ([3, 2, 9, 8], [5, 2, 1, 1], 1, 0),
        // Large enough to take the parallel batch split: 8·8·(4·9)·256 ≥ 2^19 multiply-adds.
        ([8, 4, 16, 16], [8, 4, 3, 3], 1, 1),
        // Columns of 18 × 4096 per sample: groups of 3 samples, so the halves of 3 and 4
        // samples end in a full and a partial group.
        ([7, 2, 64, 64], [2, 2, 3, 3], 1, 1),
    ];
    for (i, &(sx, sw, s, p)) in cases.iter().enumerate() {
        let seed = 10 * i as u64;
        let inputs = [
            randn(&sx, seed),
            randn(&sw, seed + 1),
            randn(&[sw[0]], seed + 2),
        ];
        let (y, dy, grads) = forward_backward(&inputs, seed + 3, |g, v| {
            g.conv2d(v[0], v[1], Some(v[2]), s, p)
        });
        let f = |t: &[Tensor]| naive_conv2d(&t[0], &t[1], Some(&t[2]), s, p);
        assert_close(&y, &f(&inputs), "conv2d forward");
        if sx[0] * sx[1] * sx[2] * sx[3] <= 256 {
            for (k, g) in grads.iter().enumerate() {
                assert_close(
                    g,
                    &naive_grad(&inputs, k, &dy, f),
                    &format!("conv2d grad {k}"),
                );
            }
        } else {
            // Too large for the basis-by-basis reference on the input: check the weight and
            // bias gradients, and the input gradient through conv_transpose2d's direct loops
            // (the input gradient of a convolution is the transposed convolution of dy).
            for k in [1, 2] {
                let g = &grads[k];
                assert_close(
                    g,
                    &naive_grad(&inputs, k, &dy, f),
                    &format!("conv2d grad {k}"),
                );
            }
            let gx = naive_conv_transpose2d(&dy, &inputs[1], None, s, p);
            assert_close(&grads[0], &gx, "conv2d input gradient");
        }
    }
}

#[test]
fn conv_transpose2d_matches_direct_loops() {
    let cases: [Case; 5] = [
        ([1, 1, 3, 3], [1, 1, 3, 3], 1, 0),
        ([2, 3, 4, 3], [3, 2, 4, 3], 2, 1),
        ([2, 4, 3, 5], [4, 3, 1, 1], 1, 0),
        // Large enough for the batch split: 8·8·(4·16)·64 ≥ 2^19 multiply-adds.
        ([8, 8, 8, 8], [8, 4, 4, 4], 2, 1),
        // Columns of 18 × 4096 per sample: groups of 3 samples, the last one partial.
        ([7, 2, 64, 64], [2, 2, 3, 3], 1, 1),
    ];
    for (i, &(sx, sw, s, p)) in cases.iter().enumerate() {
        let seed = 10 * i as u64;
        let inputs = [
            randn(&sx, seed),
            randn(&sw, seed + 1),
            randn(&[sw[1]], seed + 2),
        ];
        let (y, dy, grads) = forward_backward(&inputs, seed + 3, |g, v| {
            g.conv_transpose2d(v[0], v[1], Some(v[2]), s, p)
        });
        let f = |t: &[Tensor]| naive_conv_transpose2d(&t[0], &t[1], Some(&t[2]), s, p);
        assert_close(&y, &f(&inputs), "conv_transpose2d forward");
        for (k, g) in grads.iter().enumerate().skip(1) {
            let want = naive_grad(&inputs, k, &dy, f);
            assert_close(g, &want, &format!("conv_transpose2d grad {k}"));
        }
        // The input gradient of a transposed convolution is the convolution of dy.
        let gx = naive_conv2d(&dy, &inputs[1], None, s, p);
        assert_close(&grads[0], &gx, "conv_transpose2d input gradient");
    }
}

// ---- behaviour beyond gradients ----

#[test]
fn batch_norm_updates_running_statistics_like_pytorch() {
    let params = ParamStore::new();
    let mut pool = BufferPool::new();
    let mut g = Graph::new(&params, &mut pool);
    // Channel 0 sees 1, 3 (mean 2, biased var 1, unbiased 2); channel 1 sees 0, 0.
    let x = g.constant(Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 3.0, 0.0]).unwrap());
    let gamma = g.constant(Tensor::full(&[2], 1.0));
    let beta = g.constant(Tensor::zeros(&[2]));
    let mut stats = RunningStats::new(2);
    let y = g.batch_norm(x, gamma, beta, &mut stats, 0.1, 1e-5).unwrap();
    let want_mean = [0.1 * 2.0, 0.0];
    let want_var = [0.9 + 0.1 * 2.0, 0.9];
    for c in 0..2 {
        assert!((stats.mean.data()[c] - want_mean[c]).abs() < 1e-6);
        assert!((stats.var.data()[c] - want_var[c]).abs() < 1e-6);
    }
    assert_eq!(stats.num_batches_tracked, 1);
    let yv = g.value(y).data();
    assert!((yv[0] + 1.0).abs() < 1e-4 && (yv[2] - 1.0).abs() < 1e-4);

    // Evaluation mode normalises with the running statistics and leaves them alone.
    g.set_training(false);
    let before = stats.clone();
    let y = g.batch_norm(x, gamma, beta, &mut stats, 0.1, 1e-5).unwrap();
    assert_eq!(stats, before);
    let expect = (3.0 - 0.2) / (1.1f32 + 1e-5).sqrt();
    assert!((g.value(y).data()[2] - expect).abs() < 1e-5);
}

#[test]
fn dropout_masks_scale_and_follow_the_mode() {
    let params = ParamStore::new();
    let mut pool = BufferPool::new();
    let mut g = Graph::new(&params, &mut pool);
    let x = g.constant(Tensor::full(&[100, 100], 1.0));
    let y = g.dropout(x, 0.25, &mut rng(1)).unwrap();
    let values = g.value(y).data();
    let kept = values.iter().filter(|&&v| v != 0.0).count();
    assert!(values
        .iter()
        .all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    assert!((7000..8000).contains(&kept), "kept {kept} of 10000");
    // The same seed drops the same elements.
    let again = g.dropout(x, 0.25, &mut rng(1)).unwrap();
    assert_eq!(g.value(again).data(), g.value(y).data());

    g.set_training(false);
    assert_eq!(g.dropout(x, 0.5, &mut rng(1)).unwrap(), x);
    for p in [1.0, -0.1, f32::NAN] {
        assert!(matches!(
            g.dropout(x, p, &mut rng(1)),
            Err(Error::InvalidArgument { op: "dropout", .. })
        ));
    }
}

#[test]
fn dropout_layer_state_restores_the_mask_stream() {
    let params = ParamStore::new();
    let mut pool = BufferPool::new();
    let mut layer = Dropout::new(0.5, 7).unwrap();
    let mut g = Graph::new(&params, &mut pool);
    let x = g.constant(Tensor::full(&[4, 8], 1.0));
    layer.forward(&mut g, x).unwrap();
    let saved = layer.state();
    let a = layer.forward(&mut g, x).unwrap();
    layer.restore(&saved);
    let b = layer.forward(&mut g, x).unwrap();
    assert_eq!(g.value(a).data(), g.value(b).data());
    assert!(Dropout::new(1.0, 0).is_err());
}

#[test]
fn shape_errors_name_the_op_and_both_shapes() {
    let params = ParamStore::new();
    let mut pool = BufferPool::new();
    let mut g = Graph::new(&params, &mut pool);
    let x = g.constant(Tensor::zeros(&[2, 3, 5, 5]));
    let w = g.constant(Tensor::zeros(&[4, 2, 3, 3]));
    let err = g.conv2d(x, w, None, 1, 0).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { op: "conv2d", left, right, .. }
        if left == &[2, 3, 5, 5] && right == &[4, 2, 3, 3]),
        "{err}"
    );
    let big = g.constant(Tensor::zeros(&[4, 3, 7, 7]));
    assert!(matches!(
        g.conv2d(x, big, None, 1, 0),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        g.conv2d(x, x, None, 0, 0),
        Err(Error::InvalidArgument { .. })
    ));
    let wt = g.constant(Tensor::zeros(&[2, 4, 3, 3]));
    assert!(matches!(
        g.conv_transpose2d(x, wt, None, 1, 0),
        Err(Error::ShapeMismatch {
            op: "conv_transpose2d",
            ..
        })
    ));
    let flat = g.constant(Tensor::zeros(&[2, 3]));
    assert!(matches!(
        g.max_pool2d(flat, 2, 2),
        Err(Error::ShapeMismatch {
            op: "max_pool2d",
            ..
        })
    ));
    assert!(matches!(
        g.avg_pool2d(x, 6, 1),
        Err(Error::ShapeMismatch { .. })
    ));
    let one = g.constant(Tensor::zeros(&[1, 3]));
    let gamma = g.constant(Tensor::zeros(&[3]));
    let mut stats = RunningStats::new(3);
    assert!(matches!(
        g.batch_norm(one, gamma, gamma, &mut stats, 0.1, 1e-5),
        Err(Error::InvalidArgument {
            op: "batch_norm",
            ..
        })
    ));
    let mut wrong = RunningStats::new(4);
    assert!(matches!(
        g.batch_norm(flat, gamma, gamma, &mut wrong, 0.1, 1e-5),
        Err(Error::ShapeMismatch {
            op: "batch_norm",
            ..
        })
    ));
}
