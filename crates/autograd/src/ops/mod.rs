//! The ops, one file per family. Each op is a method on [`crate::Graph`] with its backward rule
//! beside it in the same file.

pub(crate) mod activation;
pub(crate) mod conv;
pub(crate) mod dropout;
pub mod elementwise;
pub(crate) mod gemm;
pub(crate) mod lanes;
pub(crate) mod loss;
pub(crate) mod matmul;
pub(crate) mod minibatch_stddev;
pub(crate) mod norm;
pub(crate) mod parallel;
pub(crate) mod pool2d;
pub(crate) mod reduce;
pub(crate) mod shape;
pub(crate) mod spectral;
mod transpose;
pub(crate) mod unary;
