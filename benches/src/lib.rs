//! Shared pieces of the workspace's end-to-end benchmarks (`benches/benches/*.rs`): FLOP counts
//! of a GAN training step ([`flops`]), the small DCGAN built from `autograd` layers ([`dcgan`]),
//! the thread pools the steps run in ([`pool`]) and the one place that picks the optimizer
//! ([`adam`]).
//!
//! Run the benchmarks: `cargo bench -p benches` (see `benches/README.md`).

pub mod dcgan;
pub mod flops;

use autograd::{ParamId, ParamStore};
use gan::config::OptimizerKind;
use gan::optim::{Optimizer, OptimizerSettings};

/// The optimizer type the benchmarks use (Adam through [`adam`]).
pub type Adam = Optimizer;

/// Adam with DCGAN's settings, lr 2e-4, β = (0.5, 0.999), ε = 1e-8, over `params`. The only
/// place the benchmarks name the optimizer's crate: when optimizers move to `autograd::optim`,
/// this function and [`Adam`] are all that change.
pub fn adam(params: Vec<ParamId>, store: &ParamStore) -> Adam {
    let settings = OptimizerSettings {
        kind: OptimizerKind::Adam,
        lr: 2e-4,
        beta1: 0.5,
        beta2: 0.999,
        eps: 1e-8,
        alpha: 0.99,
        momentum: 0.0,
    };
    Optimizer::new(settings, params, store)
}

/// A rayon pool of `threads` threads. The engine computes on two threads (`autograd::join`) when
/// the current pool has two or more and on one otherwise, so a step run inside
/// `pool(1).install(..)` is sequential and one inside `pool(2).install(..)` uses both cores.
/// Panics if the pool cannot be built (the operating system refuses a thread): a benchmark
/// cannot run then.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap_or_else(|e| panic!("a rayon pool of {threads} threads: {e}"))
}
