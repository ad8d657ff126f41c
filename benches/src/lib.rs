//! Shared pieces of the workspace's end-to-end benchmarks (`benches/benches/*.rs`): FLOP counts
//! of a GAN training step ([`flops`]), the small DCGAN built from `autograd` layers ([`dcgan`]),
//! the thread pools the steps run in ([`pool`]) and the optimizer's settings ([`adam`]).
//!
//! Run the benchmarks: `cargo bench -p benches` (see `benches/README.md`).

pub mod dcgan;
pub mod flops;

use autograd::optim::Optimizer;
use autograd::{ParamId, ParamStore};

/// Adam with DCGAN's settings, lr 2e-4, β = (0.5, 0.999), ε = 1e-8, over `params`.
pub fn adam(params: Vec<ParamId>, store: &ParamStore) -> autograd::Result<Optimizer> {
    Optimizer::adam(params, store, 2e-4, (0.5, 0.999))
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
