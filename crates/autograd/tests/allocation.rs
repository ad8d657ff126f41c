//! In a steady training loop a step allocates no new large buffers: after two warm-up steps,
//! the pool's count of fresh allocations stops growing.

use autograd::nn::{
    Activation, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, ConvSpec, ConvTranspose2d, Dropout,
    Flatten, Init, Linear, MaxPool2d, Module, Sequential,
};
use autograd::{BufferPool, Gradients, Graph, ParamStore, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Runs `steps` SGD steps; returns the pool's fresh-allocation count after each.
fn fresh_allocations_per_step(
    params: &mut ParamStore,
    net: &mut Sequential,
    x: &Tensor,
    labels: &[usize],
    steps: usize,
) -> Vec<usize> {
    let mut grads = Gradients::zeros_like(params);
    let mut pool = BufferPool::new();
    let mut counts = Vec::new();
    for step in 0..steps {
        grads.zero();
        {
            let mut g = Graph::new(params, &mut pool);
            let input = g.constant_from(x.shape(), x.data()).unwrap();
            let y = net.forward(&mut g, input).unwrap();
            let loss = g.cross_entropy(y, labels).unwrap();
            g.backward(loss, &mut grads).unwrap();
            // An evaluation pass in the same loop (as a GAN's sampling would) must not leak either.
            if step % 2 == 1 {
                g.set_training(false);
                net.forward(&mut g, input).unwrap();
            }
        }
        for id in params.ids().collect::<Vec<_>>() {
            let (p, d) = (params.get_mut(id).data_mut(), grads.get(id).data());
            for (p, d) in p.iter_mut().zip(d) {
                *p -= 0.01 * d;
            }
        }
        counts.push(pool.fresh_allocations());
    }
    counts
}

/// Two warm-up steps (the second also runs the evaluation pass), then 5 more that must find
/// every buffer they need in the pool.
fn assert_steady(counts: &[usize], what: &str) {
    assert_eq!(counts.len(), 7);
    assert!(
        counts[2..].iter().all(|&c| c == counts[1]),
        "{what}: fresh allocations after each step {counts:?}"
    );
}

#[test]
fn an_mlp_step_allocates_nothing_new_after_warm_up() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut params = ParamStore::new();
    let mut net = Sequential::new();
    let init = Init::PyTorchDefault;
    net.push(Linear::new(&mut params, "l0", 100, 256, true, init, &mut rng).unwrap());
    net.push(BatchNorm1d::new(&mut params, "bn0", 256).unwrap());
    net.push(Activation::LeakyRelu(0.2));
    net.push(Dropout::new(0.5, 3).unwrap());
    net.push(Linear::new(&mut params, "l1", 256, 10, true, init, &mut rng).unwrap());
    let x = Tensor::normal(&[64, 100], 0.0, 1.0, &mut rng);
    let labels: Vec<usize> = (0..64).map(|i| i % 10).collect();
    let counts = fresh_allocations_per_step(&mut params, &mut net, &x, &labels, 7);
    assert_steady(&counts, "mlp");
}

#[test]
fn a_conv_net_step_allocates_nothing_new_after_warm_up() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut params = ParamStore::new();
    let mut net = Sequential::new();
    let init = Init::PyTorchDefault;
    // Large enough for the batch split (two column buffers) in every convolution.
    let c1 = ConvSpec::new(1, 8, 5).padding(2).bias(false);
    net.push(Conv2d::new(&mut params, "c1", c1, init, &mut rng).unwrap());
    net.push(BatchNorm2d::new(&mut params, "bn1", 8).unwrap());
    net.push(Activation::Relu);
    net.push(MaxPool2d::new(2, 2));
    let up = ConvSpec::new(8, 8, 4).stride(2).padding(1);
    net.push(ConvTranspose2d::new(&mut params, "up", up, init, &mut rng).unwrap());
    let c2 = ConvSpec::new(8, 4, 3).stride(2).padding(1);
    net.push(Conv2d::new(&mut params, "c2", c2, init, &mut rng).unwrap());
    net.push(AvgPool2d::new(2, 2));
    net.push(Flatten);
    net.push(Dropout::new(0.2, 4).unwrap());
    net.push(Linear::new(&mut params, "fc", 4 * 7 * 7, 10, true, init, &mut rng).unwrap());
    let x = Tensor::normal(&[32, 1, 28, 28], 0.0, 1.0, &mut rng);
    let labels: Vec<usize> = (0..32).map(|i| i % 10).collect();
    let counts = fresh_allocations_per_step(&mut params, &mut net, &x, &labels, 7);
    assert_steady(&counts, "cnn");
}
