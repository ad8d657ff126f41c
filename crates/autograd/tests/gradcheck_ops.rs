//! A finite-difference gradient check for every op, on random inputs including non-square shapes
//! and batch 1.

use autograd::nn::Activation;
use autograd::{gradcheck, BufferPool, Gradients, Graph, ParamStore, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::normal(shape, 0.0, 1.0, &mut rng(seed))
}

/// Values at least 0.1 away from zero, so that ±ε never crosses a kink (relu, leaky_relu).
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    let mut t = randn(shape, seed);
    let mut r = rng(seed + 1);
    for v in t.data_mut() {
        let sign = if *v < 0.0 { -1.0 } else { 1.0 };
        *v = sign * (0.1 + v.abs() + r.random_range(0.0..0.1));
    }
    t
}

fn positive(shape: &[usize], seed: u64) -> Tensor {
    Tensor::uniform(shape, 0.5, 2.0, &mut rng(seed))
}

fn check(inputs: &[Tensor], f: impl Fn(&mut Graph<'_>, &[Var]) -> autograd::Result<Var>) {
    if let Err(e) = gradcheck(inputs, f) {
        panic!("{e}");
    }
}

const SHAPES: [[usize; 2]; 3] = [[1, 5], [3, 4], [7, 2]];

#[test]
fn matmul_every_transpose() {
    for &(m, k, n) in &[(1, 3, 2), (4, 5, 3), (2, 2, 2)] {
        check(&[randn(&[m, k], 1), randn(&[k, n], 2)], |g, v| {
            g.matmul(v[0], v[1])
        });
        check(&[randn(&[k, m], 3), randn(&[k, n], 4)], |g, v| {
            g.matmul_t(v[0], true, v[1], false)
        });
        check(&[randn(&[m, k], 5), randn(&[n, k], 6)], |g, v| {
            g.matmul_t(v[0], false, v[1], true)
        });
        check(&[randn(&[k, m], 7), randn(&[n, k], 8)], |g, v| {
            g.matmul_t(v[0], true, v[1], true)
        });
    }
    // The same operand on both sides: x·xᵀ.
    check(&[randn(&[3, 4], 9)], |g, v| {
        g.matmul_t(v[0], false, v[0], true)
    });
}

#[test]
fn linear_with_and_without_bias() {
    for &(batch, inputs, outputs) in &[(1, 4, 3), (5, 3, 6), (2, 7, 1)] {
        check(
            &[
                randn(&[batch, inputs], 1),
                randn(&[outputs, inputs], 2),
                randn(&[outputs], 3),
            ],
            |g, v| g.linear(v[0], v[1], Some(v[2])),
        );
        check(
            &[randn(&[batch, inputs], 4), randn(&[outputs, inputs], 5)],
            |g, v| g.linear(v[0], v[1], None),
        );
    }
}

/// `act(x·Wᵀ + b)` as one fused op. For the (leaky) ReLU the weights are small and the biases
/// large, so that no pre-activation crosses the kink under ±ε.
#[test]
fn linear_with_a_fused_activation() {
    let acts = [
        Activation::Relu,
        Activation::LeakyRelu(0.2),
        Activation::Sigmoid,
        Activation::Tanh,
    ];
    for act in acts {
        for &(batch, inputs, outputs) in &[(1, 4, 3), (5, 3, 6), (2, 7, 1)] {
            let kinked = matches!(act, Activation::Relu | Activation::LeakyRelu(_));
            let (w_scale, b_scale) = if kinked { (0.1, 5.0) } else { (1.0, 1.0) };
            let mut w = randn(&[outputs, inputs], 2);
            w.data_mut().iter_mut().for_each(|v| *v *= w_scale);
            let mut b = away_from_zero(&[outputs], 3);
            b.data_mut().iter_mut().for_each(|v| *v *= b_scale);
            check(&[randn(&[batch, inputs], 1), w, b], |g, v| {
                g.linear_act(v[0], v[1], Some(v[2]), act)
            });
        }
    }
    // A leaky ReLU of negative slope is not fused, and still differentiates correctly.
    let mut w = randn(&[2, 4], 5);
    w.data_mut().iter_mut().for_each(|v| *v *= 0.1);
    let mut b = away_from_zero(&[2], 6);
    b.data_mut().iter_mut().for_each(|v| *v *= 5.0);
    check(&[randn(&[3, 4], 4), w, b], |g, v| {
        g.linear_act(v[0], v[1], Some(v[2]), Activation::LeakyRelu(-0.5))
    });
}

/// The fused op gives the same bits as the product followed by the activation's own op, in its
/// value and in every gradient, at a size where the product is split across threads.
#[test]
fn a_fused_activation_changes_no_bit() {
    let mut params = ParamStore::new();
    let mut r = rng(7);
    let x = params
        .add("x", Tensor::normal(&[64, 200], 0.0, 1.0, &mut r))
        .unwrap();
    let w = params
        .add("w", Tensor::normal(&[96, 200], 0.0, 0.1, &mut r))
        .unwrap();
    let b = params
        .add("b", Tensor::normal(&[96], 0.0, 0.1, &mut r))
        .unwrap();
    let c = params
        .add("c", Tensor::normal(&[1, 96], 0.0, 0.1, &mut r))
        .unwrap();
    for act in [
        Activation::LeakyRelu(0.2),
        Activation::Tanh,
        Activation::Sigmoid,
    ] {
        let run = |fused: bool| {
            let mut pool = BufferPool::new();
            let mut grads = Gradients::zeros_like(&params);
            let mut g = Graph::new(&params, &mut pool);
            let (xv, wv, bv, cv) = (g.param(x), g.param(w), g.param(b), g.param(c));
            let h = if fused {
                g.linear_act(xv, wv, Some(bv), act).unwrap()
            } else {
                let z = g.linear(xv, wv, Some(bv)).unwrap();
                act.apply(&mut g, z).unwrap()
            };
            let y = g.linear(h, cv, None).unwrap();
            let loss = g.mean(y).unwrap();
            g.backward(loss, &mut grads).unwrap();
            let mut bits: Vec<u32> = g.value(h).data().iter().map(|v| v.to_bits()).collect();
            for id in params.ids() {
                bits.extend(grads.get(id).data().iter().map(|v| v.to_bits()));
            }
            bits
        };
        assert!(
            run(true) == run(false),
            "{act:?}: the fused op changed some bits"
        );
    }
}

#[test]
fn binary_ops_with_broadcasts() {
    let pairs: [(&[usize], &[usize]); 4] = [
        (&[3, 4], &[3, 4]),
        (&[3, 4], &[4]),
        (&[2, 3, 2, 2], &[1, 3, 1, 1]),
        (&[1], &[2, 3]),
    ];
    for (sa, sb) in pairs {
        check(&[randn(sa, 1), randn(sb, 2)], |g, v| g.add(v[0], v[1]));
        check(&[randn(sa, 3), randn(sb, 4)], |g, v| g.sub(v[0], v[1]));
        check(&[randn(sa, 5), randn(sb, 6)], |g, v| g.mul(v[0], v[1]));
        check(&[randn(sa, 7), positive(sb, 8)], |g, v| g.div(v[0], v[1]));
    }
    // The same operand twice: x·x.
    check(&[randn(&[3, 4], 9)], |g, v| g.mul(v[0], v[0]));
}

#[test]
fn unary_math() {
    for (i, s) in SHAPES.iter().enumerate() {
        let seed = i as u64 * 10;
        check(&[randn(s, seed)], |g, v| g.neg(v[0]));
        check(&[randn(s, seed + 1)], |g, v| g.add_scalar(v[0], 1.5));
        check(&[randn(s, seed + 2)], |g, v| g.mul_scalar(v[0], -2.5));
        check(&[randn(s, seed + 3)], |g, v| g.exp(v[0]));
        check(&[positive(s, seed + 4)], |g, v| g.log(v[0]));
        check(&[positive(s, seed + 5)], |g, v| g.sqrt(v[0]));
        check(&[randn(s, seed + 6)], |g, v| g.square(v[0]));
        check(&[away_from_zero(s, seed + 7)], |g, v| g.abs(v[0]));
    }
}

#[test]
fn activations() {
    for (i, s) in SHAPES.iter().enumerate() {
        let seed = i as u64 * 10;
        check(&[away_from_zero(s, seed)], |g, v| g.relu(v[0]));
        check(&[away_from_zero(s, seed + 1)], |g, v| {
            g.leaky_relu(v[0], 0.2)
        });
        check(&[randn(s, seed + 2)], |g, v| g.sigmoid(v[0]));
        check(&[randn(s, seed + 3)], |g, v| g.tanh(v[0]));
        check(&[randn(s, seed + 4)], |g, v| g.softmax(v[0]));
        check(&[randn(s, seed + 5)], |g, v| g.log_softmax(v[0]));
    }
}

#[test]
fn reductions() {
    check(&[randn(&[3, 4], 1)], |g, v| g.sum(v[0]));
    check(&[randn(&[3, 4], 2)], |g, v| g.mean(v[0]));
    for axis in 0..3 {
        check(&[randn(&[2, 3, 4], 3 + axis as u64)], |g, v| {
            g.sum_axis(v[0], axis)
        });
        check(&[randn(&[2, 3, 4], 6 + axis as u64)], |g, v| {
            g.mean_axis(v[0], axis)
        });
    }
}

#[test]
fn shape_ops() {
    check(&[randn(&[2, 6], 1)], |g, v| g.reshape(v[0], &[3, 4]));
    check(&[randn(&[2, 3, 2, 2], 2)], |g, v| g.flatten(v[0]));
    check(&[randn(&[2, 3], 3), randn(&[4, 3], 4)], |g, v| {
        g.concat(&[v[0], v[1]], 0)
    });
    check(&[randn(&[2, 3], 5), randn(&[2, 10], 6)], |g, v| {
        g.concat(&[v[0], v[1]], 1)
    });
    check(&[randn(&[5, 3], 7)], |g, v| g.slice_rows(v[0], 1, 4));
    check(&[randn(&[1, 3], 8)], |g, v| g.slice_rows(v[0], 0, 1));
}

#[test]
fn losses() {
    let targets = |shape: &[usize], seed| {
        let mut t = Tensor::zeros(shape);
        let mut r = rng(seed);
        t.data_mut()
            .iter_mut()
            .for_each(|v| *v = if r.random_bool(0.5) { 1.0 } else { 0.0 });
        t
    };
    for s in [[1, 1], [6, 1], [3, 4]] {
        let t = targets(&s, 1);
        check(&[randn(&s, 2)], |g, v| {
            let t = g.constant(t.clone());
            g.bce_with_logits(v[0], t)
        });
        let probs = Tensor::uniform(&s, 0.1, 0.9, &mut rng(3));
        check(&[probs], |g, v| {
            let t = g.constant(t.clone());
            g.bce(v[0], t)
        });
        check(&[randn(&s, 4), randn(&s, 5)], |g, v| g.mse(v[0], v[1]));
        // Soft targets get a gradient too.
        check(
            &[randn(&s, 6), Tensor::uniform(&s, 0.0, 1.0, &mut rng(7))],
            |g, v| g.bce_with_logits(v[0], v[1]),
        );
    }
    for s in [[1, 1], [6, 1], [3, 4]] {
        // Weighted BCE: gradients into the logits, soft targets and the weights themselves.
        let t = targets(&s, 10);
        let w = positive(&s, 11);
        check(&[randn(&s, 12)], |g, v| {
            let (t, w) = (g.constant(t.clone()), g.constant(w.clone()));
            g.bce_with_logits_weighted(v[0], t, w)
        });
        check(
            &[
                randn(&s, 13),
                Tensor::uniform(&s, 0.0, 1.0, &mut rng(14)),
                positive(&s, 15),
            ],
            |g, v| g.bce_with_logits_weighted(v[0], v[1], v[2]),
        );
    }
    check(&[randn(&[4, 3], 8)], |g, v| {
        g.cross_entropy(v[0], &[0, 2, 1, 2])
    });
    check(&[randn(&[1, 10], 9)], |g, v| g.cross_entropy(v[0], &[7]));
}

#[test]
fn a_composite_network() {
    check(
        &[
            randn(&[3, 5], 1),
            randn(&[4, 5], 2),
            randn(&[4], 3),
            randn(&[1, 4], 4),
        ],
        |g, v| {
            let h = g.linear(v[0], v[1], Some(v[2]))?;
            let h = g.tanh(h)?;
            let y = g.linear(h, v[3], None)?;
            g.sigmoid(y)
        },
    );
}

#[test]
fn weighted_bce_values() {
    use autograd::{BufferPool, ParamStore};
    let params = ParamStore::new();
    let mut pool = BufferPool::new();
    let mut g = Graph::new(&params, &mut pool);
    let x = g.constant(Tensor::from_vec(&[3], vec![2.0, -1.0, 0.5]).unwrap());
    let t = g.constant(Tensor::from_vec(&[3], vec![1.0, 0.0, 0.0]).unwrap());
    let ones = g.constant(Tensor::full(&[3], 1.0));
    let w = g.constant(Tensor::from_vec(&[3], vec![9.0, 1.0, 0.0]).unwrap());
    let plain = g.bce_with_logits(x, t).unwrap();
    let unit = g.bce_with_logits_weighted(x, t, ones).unwrap();
    let weighted = g.bce_with_logits_weighted(x, t, w).unwrap();
    let (plain, unit) = (g.value(plain).data()[0], g.value(unit).data()[0]);
    assert!((plain - unit).abs() < 1e-7, "{plain} vs {unit}");
    // By hand: −log σ(2) = log(1 + e^−2), −log(1 − σ(−1)) = log(1 + e^−1); the third is weighted 0.
    let want = (9.0 * (1.0 + (-2.0f64).exp()).ln() + (1.0 + (-1.0f64).exp()).ln()) / 3.0;
    let got = f64::from(g.value(weighted).data()[0]);
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    let wrong = g.constant(Tensor::full(&[2], 1.0));
    assert!(g.bce_with_logits_weighted(x, t, wrong).is_err());
}

#[test]
fn minibatch_stddev_gradients() {
    // Groups of 4 (two whole), of 3 with a last group of one (its σ is √1e-8 and its gradient
    // 0), and one group larger than the batch.
    for (i, (shape, group)) in [([8, 5], 4), ([7, 3], 3), ([5, 4], 8)].iter().enumerate() {
        check(&[randn(shape, 40 + i as u64)], |g, v| {
            let s = g.minibatch_stddev(v[0], *group)?;
            // Through a concat, as a discriminator uses it.
            g.concat(&[v[0], s], 1)
        });
    }
}

#[test]
fn minibatch_stddev_values() {
    let params = ParamStore::new();
    let mut pool = BufferPool::new();
    let mut g = Graph::new(&params, &mut pool);
    // Two groups of two samples with two features: σ of (1, 3) is 1, of (0, 4) is 2; of
    // (5, 5) is √1e-8 and of (2, −2) is 2.
    let x = Tensor::from_vec(&[4, 2], vec![1.0, 0.0, 3.0, 4.0, 5.0, 2.0, 5.0, -2.0]).unwrap();
    let x = g.constant(x);
    let y = g.minibatch_stddev(x, 2).unwrap();
    assert_eq!(g.shape(y).unwrap(), &[4, 1]);
    let want = [1.5, 1.5, (1e-4 + 2.0) / 2.0, (1e-4 + 2.0) / 2.0];
    for (got, want) in g.value(y).data().iter().zip(want) {
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
    assert!(g.minibatch_stddev(x, 0).is_err());
    let flat = g.constant(Tensor::zeros(&[4]));
    assert!(g.minibatch_stddev(flat, 2).is_err());
}

#[test]
fn spectral_normalize_on_a_large_weight_matches_the_composed_ops() {
    // 181 × 367 (odd, over the size split across two threads): the backward pass walks rows
    // from an offset inside one; compare with matmul, mul, sum and a broadcast division.
    let (rows, cols) = (181, 367);
    let w = randn(&[rows, cols], 70);
    let u = randn(&[rows], 71).data().to_vec();
    let v = randn(&[cols], 72).data().to_vec();
    let dy = randn(&[rows, cols], 73);
    let mut params = ParamStore::new();
    let id = params.add("w", w).unwrap();
    let mut pool = BufferPool::new();
    let mut run = |fused: bool| {
        let mut grads = Gradients::zeros_like(&params);
        let mut g = Graph::new(&params, &mut pool);
        let x = g.param(id);
        let y = if fused {
            g.spectral_normalize(x, &u, &v).unwrap()
        } else {
            let vv = g.constant(Tensor::from_vec(&[cols, 1], v.clone()).unwrap());
            let uu = g.constant(Tensor::from_vec(&[rows, 1], u.clone()).unwrap());
            let wv = g.matmul(x, vv).unwrap();
            let uwv = g.mul(uu, wv).unwrap();
            let sigma = g.sum(uwv).unwrap();
            g.div(x, sigma).unwrap()
        };
        let weights = g.constant(dy.clone());
        let loss = g.mul(y, weights).unwrap();
        let loss = g.sum(loss).unwrap();
        g.backward(loss, &mut grads).unwrap();
        let y = g.value(y).data().to_vec();
        (y, grads.get(id).data().to_vec())
    };
    let (y1, g1) = run(true);
    let (y2, g2) = run(false);
    for (a, b) in y1.iter().zip(&y2).chain(g1.iter().zip(&g2)) {
        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

#[test]
fn spectral_normalize_gradients() {
    for (i, shape) in [&[3, 4][..], &[2, 3, 2, 2], &[5, 1]].iter().enumerate() {
        let seed = 60 + 3 * i as u64;
        let rows = shape[0];
        let cols: usize = shape[1..].iter().product();
        // Positive weights and vectors keep σ away from zero, where W/σ is steep.
        let u = positive(&[rows], seed + 1).data().to_vec();
        let v = positive(&[cols], seed + 2).data().to_vec();
        check(&[positive(shape, seed)], |g, x| {
            g.spectral_normalize(x[0], &u, &v)
        });
    }
    // Values: W / (uᵀ W v).
    let params = ParamStore::new();
    let mut pool = BufferPool::new();
    let mut g = Graph::new(&params, &mut pool);
    let w = g.constant(Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap());
    let y = g.spectral_normalize(w, &[1.0, 0.0], &[0.0, 1.0]).unwrap();
    assert_eq!(g.value(y).data(), &[0.5, 1.0, 1.5, 2.0]);
    // u and v must fit the weight's matrix.
    assert!(g.spectral_normalize(w, &[1.0], &[0.0, 1.0]).is_err());
    assert!(g.spectral_normalize(w, &[1.0, 0.0], &[1.0]).is_err());
    let flat = g.constant(Tensor::zeros(&[4]));
    assert!(g.spectral_normalize(flat, &[1.0; 4], &[]).is_err());
}
