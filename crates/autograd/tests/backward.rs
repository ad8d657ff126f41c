//! How `backward` and `backward_set` write parameter gradients.

use autograd::nn::Activation;
use autograd::{BufferPool, Gradients, Graph, ParamStore, Tensor};
use rand::SeedableRng;

/// A weight used twice, a bias, a bound parameter the loss does not reach and one left
/// unbound: `backward_set` over garbage gives the bits of zeroing and `backward`.
#[test]
fn backward_set_equals_zeroing_then_adding() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut params = ParamStore::new();
    let x = params
        .add("x", Tensor::normal(&[64, 300], 0.0, 1.0, &mut rng))
        .unwrap();
    let w = params
        .add("w", Tensor::normal(&[300, 300], 0.0, 0.05, &mut rng))
        .unwrap();
    let b = params
        .add("b", Tensor::normal(&[300], 0.0, 0.1, &mut rng))
        .unwrap();
    let unused = params.add("unused", Tensor::full(&[5], 1.0)).unwrap();
    let unbound = params.add("unbound", Tensor::full(&[3], 1.0)).unwrap();
    let run = |set: bool| {
        let mut grads = Gradients::zeros_like(&params);
        for id in params.ids() {
            grads
                .get_mut(id)
                .data_mut()
                .fill(if set { f32::NAN } else { 0.0 });
        }
        grads.get_mut(unbound).data_mut().fill(7.0);
        let mut pool = BufferPool::new();
        let mut g = Graph::new(&params, &mut pool);
        let (xv, wv, bv) = (g.param(x), g.param(w), g.param(b));
        g.param(unused);
        let h = g.linear_act(xv, wv, Some(bv), Activation::Tanh).unwrap();
        let y = g.linear(h, wv, None).unwrap();
        let loss = g.mean(y).unwrap();
        if set {
            g.backward_set(loss, &mut grads).unwrap();
        } else {
            g.backward(loss, &mut grads).unwrap();
        }
        params
            .ids()
            .flat_map(|id| {
                grads
                    .get(id)
                    .data()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<u32>>()
    };
    let (set, added) = (run(true), run(false));
    assert!(
        set == added,
        "backward_set differs from zeroing and backward"
    );
}

/// Suspending a graph, changing a parameter it has not bound, and resuming it gives the bits of
/// recording everything in one graph after the change; changing one it has bound is refused.
#[test]
fn a_suspended_graph_resumes_as_if_never_suspended() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let mut params = ParamStore::new();
    let x = params
        .add("x", Tensor::normal(&[64, 200], 0.0, 1.0, &mut rng))
        .unwrap();
    let w = params
        .add("w", Tensor::normal(&[100, 200], 0.0, 0.1, &mut rng))
        .unwrap();
    let v = params
        .add("v", Tensor::normal(&[1, 100], 0.0, 0.1, &mut rng))
        .unwrap();
    let bits = |grads: &Gradients, params: &ParamStore| -> Vec<u32> {
        params
            .ids()
            .flat_map(|id| grads.get(id).data().to_vec())
            .map(f32::to_bits)
            .collect()
    };
    let mut pool = BufferPool::new();

    // Suspended between the two layers; `v` changes meanwhile.
    let mut grads = Gradients::zeros_like(&params);
    let (tape, h) = {
        let mut g = Graph::new(&params, &mut pool);
        let (xv, wv) = (g.param(x), g.param(w));
        let h = g.linear_act(xv, wv, None, Activation::Tanh).unwrap();
        (g.suspend(), h)
    };
    assert_eq!(tape.value(h).unwrap().shape(), &[64, 100]);
    params.get_mut(v).data_mut()[0] += 1.0;
    let resumed_loss = {
        let mut g = Graph::resume(tape, &params, &mut pool).unwrap();
        let vv = g.param(v);
        let y = g.linear(h, vv, None).unwrap();
        let loss = g.mean(y).unwrap();
        g.backward(loss, &mut grads).unwrap();
        g.value(loss).data()[0].to_bits()
    };
    let resumed = bits(&grads, &params);

    // All in one graph, after the change.
    let mut grads = Gradients::zeros_like(&params);
    let mut g = Graph::new(&params, &mut pool);
    let (xv, wv, vv) = (g.param(x), g.param(w), g.param(v));
    let h = g.linear_act(xv, wv, None, Activation::Tanh).unwrap();
    let y = g.linear(h, vv, None).unwrap();
    let loss = g.mean(y).unwrap();
    g.backward(loss, &mut grads).unwrap();
    assert_eq!(g.value(loss).data()[0].to_bits(), resumed_loss);
    drop(g);
    assert!(
        bits(&grads, &params) == resumed,
        "resuming changed some gradient bits"
    );

    // A parameter the tape reads may not change while it is suspended.
    let tape = {
        let mut g = Graph::new(&params, &mut pool);
        let (xv, wv) = (g.param(x), g.param(w));
        g.linear(xv, wv, None).unwrap();
        g.suspend()
    };
    params.get_mut(w).data_mut()[0] += 1.0;
    let err = Graph::resume(tape, &params, &mut pool)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("w"), "{err}");
}
