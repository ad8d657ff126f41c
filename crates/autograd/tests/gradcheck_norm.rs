//! Batch normalisation: finite-difference gradient checks in training and evaluation mode, alone
//! and fused with an activation (`batch_norm_act`), and the fused op against the two ops it
//! replaces, bit for bit.

use autograd::nn::Activation;
use autograd::{gradcheck, BufferPool, Gradients, Graph, ParamStore, RunningStats, Tensor, Var};
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
        Ok(err) => assert!(err < 2e-3, "relative error {err}"),
        Err(e) => panic!("{e}"),
    }
}

/// `(B, C)`, two `(B, C, H, W)` with runs shorter than 16 values, one with longer runs (the
/// fused activation then runs per channel run).
const SHAPES: [&[usize]; 4] = [&[4, 3], &[2, 3, 3, 2], &[1, 2, 2, 3], &[2, 2, 5, 4]];

/// Input, γ (away from 0) and β for `shape`.
fn inputs(shape: &[usize], seed: u64) -> [Tensor; 3] {
    let c = shape[1];
    [
        randn(shape, seed),
        Tensor::uniform(&[c], 0.5, 1.5, &mut rng(seed + 1)),
        randn(&[c], seed + 2),
    ]
}

/// Eval-mode statistics for `c` channels.
fn eval_stats(c: usize) -> RunningStats {
    let mut stats = RunningStats::new(c);
    stats.mean = randn(&[c], 1);
    stats.var = Tensor::uniform(&[c], 0.5, 2.0, &mut rng(2));
    stats
}

const ACTIVATIONS: [Option<Activation>; 5] = [
    None,
    Some(Activation::Relu),
    Some(Activation::LeakyRelu(0.2)),
    Some(Activation::Tanh),
    Some(Activation::Sigmoid),
];

/// [`inputs`] from the first seed from `seed` on whose normalised values `γ·x̂ + β` all lie at
/// least 0.05 away from 0, so that ±ε never crosses a (leaky) ReLU's kink.
fn inputs_off_the_kink(shape: &[usize], seed: u64, train: bool) -> [Tensor; 3] {
    (seed..seed + 1000)
        .map(|s| inputs(shape, s))
        .find(|inputs| {
            let (z, _, _) = run(inputs, train, |g, v, s| {
                g.batch_norm(v[0], v[1], v[2], s, 0.1, 1e-5)
            });
            z.data().iter().all(|z| z.abs() > 0.05)
        })
        .expect("a seed whose values miss the kink")
}

#[test]
fn batch_norm_gradients_in_training_mode() {
    for (i, shape) in SHAPES.iter().enumerate() {
        for act in ACTIVATIONS {
            check(&inputs_off_the_kink(shape, 10 * i as u64, true), |g, v| {
                let mut stats = RunningStats::new(shape[1]);
                g.batch_norm_act(v[0], v[1], v[2], &mut stats, 0.1, 1e-5, act)
            });
        }
    }
}

#[test]
fn batch_norm_gradients_in_eval_mode() {
    for (i, shape) in SHAPES.iter().enumerate() {
        for act in ACTIVATIONS {
            let stats = eval_stats(shape[1]);
            check(
                &inputs_off_the_kink(shape, 10 * i as u64 + 3, false),
                |g, v| {
                    g.set_training(false);
                    let mut stats = stats.clone();
                    let y = g.batch_norm_act(v[0], v[1], v[2], &mut stats, 0.1, 1e-5, act)?;
                    assert_eq!(
                        stats.num_batches_tracked, 0,
                        "eval mode leaves the statistics"
                    );
                    Ok(y)
                },
            );
        }
    }
}

/// The output, its running statistics and every input's gradient of `Σ f(inputs)·dy`.
fn run(
    inputs: &[Tensor],
    train: bool,
    f: impl Fn(&mut Graph<'_>, &[Var], &mut RunningStats) -> autograd::Result<Var>,
) -> (Tensor, RunningStats, Vec<Tensor>) {
    let mut params = ParamStore::new();
    for (i, t) in inputs.iter().enumerate() {
        params.add(format!("in.{i}"), t.clone()).unwrap();
    }
    // Eval mode reads these; training mode overwrites them in part.
    let mut stats = eval_stats(inputs[1].len());
    let mut pool = BufferPool::new();
    let mut grads = Gradients::zeros_like(&params);
    let mut g = Graph::new(&params, &mut pool);
    g.set_training(train);
    let vars: Vec<Var> = params.ids().map(|id| g.param(id)).collect();
    let y = f(&mut g, &vars, &mut stats).unwrap();
    let dy = g.constant(randn(g.value(y).shape(), 99));
    let weighted = g.mul(y, dy).unwrap();
    let loss = g.sum(weighted).unwrap();
    g.backward(loss, &mut grads).unwrap();
    let out = g.value(y).clone();
    drop(g);
    let grads = params.ids().map(|id| grads.get(id).clone()).collect();
    (out, stats, grads)
}

#[test]
fn the_fused_activation_equals_the_two_ops_bit_for_bit() {
    // Leaky ReLU of negative slope is not fused (its output hides its input's sign): it must
    // still give the two ops' result.
    let acts = [
        Activation::Relu,
        Activation::LeakyRelu(0.2),
        Activation::LeakyRelu(-0.5),
        Activation::Tanh,
        Activation::Sigmoid,
    ];
    for (i, shape) in SHAPES.iter().chain([&[3, 4, 6, 6][..]].iter()).enumerate() {
        let inputs = inputs(shape, 7 * i as u64);
        for act in acts {
            for train in [true, false] {
                let fused = run(&inputs, train, |g, v, s| {
                    g.batch_norm_act(v[0], v[1], v[2], s, 0.1, 1e-5, Some(act))
                });
                let apart = run(&inputs, train, |g, v, s| {
                    let y = g.batch_norm(v[0], v[1], v[2], s, 0.1, 1e-5)?;
                    act.apply(g, y)
                });
                assert_eq!(fused, apart, "{shape:?} {act:?} train={train}");
            }
        }
    }
}
