//! The same seed gives bit-identical parameters after training with 1 and with 2 threads.
//!
//! The sizes are chosen so that every parallel path is taken: the MLP's products do at least
//! 2^19 multiply-adds with at least 16 output columns (`gemm_par` splits them, and backward runs
//! the weight and input gradients at once), its activations hold at least 2^15 elements (the
//! element-wise ops split them), and the convolutions do at least 2^19 multiply-adds per call
//! (the batch is cut in two halves). Adam's updates of tensors of at least 2^15 elements are cut
//! in two halves too.
//!
//! With two threads every run goes through [`autograd::force_helper`], which hands every second
//! half to the helper thread whatever the machine's load and counts them: the tests fail if the
//! two-thread path did not run, instead of passing by comparing one thread with itself.

use autograd::nn::{
    Activation, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, ConvSpec, ConvTranspose2d, Dropout,
    Flatten, Init, Linear, MaxPool2d, Module, Sequential,
};
use autograd::optim::Optimizer;
use autograd::BufferPool;
use autograd::{Gradients, Graph, ParamStore, Result, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const STEPS: usize = 3;

/// A model, its input batch and its loss.
struct Task {
    params: ParamStore,
    net: Sequential,
    x: Tensor,
    loss: fn(&mut Graph<'_>, Var) -> Result<Var>,
}

/// 784→512→256→1 with batch norm and dropout, batch 64: every product ≥ 2^19 multiply-adds
/// and every activation ≥ 2^15 elements.
fn mlp(seed: u64) -> Task {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = ParamStore::new();
    let mut net = Sequential::new();
    let init = Init::PyTorchDefault;
    net.push(Linear::new(&mut params, "l0", 784, 512, true, init, &mut rng).unwrap());
    net.push(BatchNorm1d::new(&mut params, "bn0", 512).unwrap());
    net.push(Activation::LeakyRelu(0.2));
    net.push(Dropout::new(0.3, seed).unwrap());
    net.push(Linear::new(&mut params, "l1", 512, 256, true, init, &mut rng).unwrap());
    net.push(Activation::LeakyRelu(0.2));
    net.push(Linear::new(&mut params, "l2", 256, 1, true, init, &mut rng).unwrap());
    let x = Tensor::uniform(&[64, 784], -1.0, 1.0, &mut rng);
    Task {
        params,
        net,
        x,
        loss: |g, y| {
            let t = g.constant(Tensor::full(&[64, 1], 1.0));
            g.bce_with_logits(y, t)
        },
    }
}

/// A small classifier CNN, batch 16 on 28×28: conv 1→16 5×5 (16·16·25·784 ≈ 5M multiply-adds),
/// batch norm, max-pool, conv 16→32 3×3, avg-pool, dropout, linear.
fn cnn(seed: u64) -> Task {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = ParamStore::new();
    let mut net = Sequential::new();
    let init = Init::PyTorchDefault;
    let c1 = ConvSpec::new(1, 16, 5).padding(2).bias(false);
    net.push(Conv2d::new(&mut params, "c1", c1, init, &mut rng).unwrap());
    net.push(BatchNorm2d::new(&mut params, "bn1", 16).unwrap());
    net.push(Activation::Relu);
    net.push(MaxPool2d::new(2, 2));
    let c2 = ConvSpec::new(16, 32, 3).padding(1);
    net.push(Conv2d::new(&mut params, "c2", c2, init, &mut rng).unwrap());
    net.push(Activation::Relu);
    net.push(AvgPool2d::new(2, 2));
    net.push(Flatten);
    net.push(Dropout::new(0.25, seed).unwrap());
    net.push(Linear::new(&mut params, "fc", 32 * 7 * 7, 10, true, init, &mut rng).unwrap());
    let x = Tensor::normal(&[16, 1, 28, 28], 0.0, 1.0, &mut rng);
    Task {
        params,
        net,
        x,
        loss: |g, y| g.cross_entropy(y, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5]),
    }
}

/// A DCGAN-style generator, batch 16: linear to 32×7×7, then two stride-2 transposed
/// convolutions (32→16→1, 4×4, padding 1) with batch norm, up to 28×28.
fn generator(seed: u64) -> Task {
    struct Unflatten;
    impl Module for Unflatten {
        fn forward(&mut self, g: &mut Graph<'_>, x: Var) -> Result<Var> {
            let b = g.shape(x)?[0];
            g.reshape(x, &[b, 32, 7, 7])
        }
        fn params(&self) -> Vec<autograd::ParamId> {
            Vec::new()
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = ParamStore::new();
    let mut net = Sequential::new();
    let init = Init::DCGAN;
    net.push(Linear::new(&mut params, "fc", 64, 32 * 7 * 7, true, init, &mut rng).unwrap());
    net.push(Unflatten);
    net.push(BatchNorm2d::new(&mut params, "bn0", 32).unwrap());
    net.push(Activation::Relu);
    let up1 = ConvSpec::new(32, 16, 4).stride(2).padding(1).bias(false);
    net.push(ConvTranspose2d::new(&mut params, "up1", up1, init, &mut rng).unwrap());
    net.push(BatchNorm2d::new(&mut params, "bn1", 16).unwrap());
    net.push(Activation::Relu);
    let up2 = ConvSpec::new(16, 1, 4).stride(2).padding(1);
    net.push(ConvTranspose2d::new(&mut params, "up2", up2, init, &mut rng).unwrap());
    net.push(Activation::Tanh);
    let x = Tensor::normal(&[16, 64], 0.0, 1.0, &mut rng);
    Task {
        params,
        net,
        x,
        loss: |g, y| {
            let t = g.constant(Tensor::full(&[16, 1, 28, 28], 0.5));
            g.mse(y, t)
        },
    }
}

/// Trains for `STEPS` Adam steps on a pool of `threads` threads; returns the bits of every
/// parameter and of every step's loss, and how many halves the helper thread computed.
fn train(threads: usize, task: fn(u64) -> Task) -> (Vec<u32>, u64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| autograd::force_helper(|| train_here(task)))
}

fn train_here(task: fn(u64) -> Task) -> Vec<u32> {
    {
        let Task {
            mut params,
            mut net,
            x,
            loss,
        } = task(42);
        let mut grads = Gradients::zeros_like(&params);
        let mut opt = Optimizer::adam(params.ids().collect(), &params, 1e-3, (0.5, 0.999)).unwrap();
        let mut buffers = BufferPool::new();
        let mut bits = Vec::new();
        for _ in 0..STEPS {
            grads.zero();
            {
                let mut g = Graph::new(&params, &mut buffers);
                let input = g.constant(x.clone());
                let y = net.forward(&mut g, input).unwrap();
                let l = loss(&mut g, y).unwrap();
                g.backward(l, &mut grads).unwrap();
                bits.push(g.value(l).data()[0].to_bits());
            }
            opt.step(&mut params, &grads).unwrap();
        }
        for id in params.ids() {
            bits.extend(params.get(id).data().iter().map(|v| v.to_bits()));
        }
        bits
    }
}

fn assert_same_bits(task: fn(u64) -> Task, what: &str) {
    let (one, on_helper_one) = train(1, task);
    let (two, on_helper_two) = train(2, task);
    assert_eq!(on_helper_one, 0, "{what}: one thread used the helper");
    // Each task's step splits several ops' work in forward and backward (sized for it above).
    assert!(
        on_helper_two >= 3 * STEPS as u64,
        "{what}: the helper computed only {on_helper_two} halves in {STEPS} steps"
    );
    assert_eq!(one.len(), two.len());
    let differ = one.iter().zip(&two).filter(|(a, b)| a != b).count();
    assert_eq!(
        differ,
        0,
        "{what}: {differ} of {} values differ between 1 and 2 threads",
        one.len()
    );
}

#[test]
fn an_mlp_trains_to_the_same_bits_with_one_and_two_threads() {
    assert_same_bits(mlp, "mlp");
}

#[test]
fn a_cnn_trains_to_the_same_bits_with_one_and_two_threads() {
    assert_same_bits(cnn, "cnn");
}

#[test]
fn a_transposed_conv_generator_trains_to_the_same_bits_with_one_and_two_threads() {
    assert_same_bits(generator, "generator");
}
