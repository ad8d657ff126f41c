//! [`Tape`]: a graph's recording, kept while the graph lets go of its parameter store and its
//! buffer pool, to be continued later.
//!
//! A GAN step needs it: the generator's forward pass feeds the discriminator's update, and its
//! recording is needed again for the generator's update, which runs through the updated
//! discriminator. Suspending the generator's graph lets the discriminator's graph run and the
//! optimizer change the discriminator's parameters in between, without computing the
//! generator's forward pass twice. The parameters the tape itself reads must not change
//! meanwhile (their gradients would be wrong): [`Graph::resume`] checks their versions.

use crate::error::{Error, Result};
use crate::graph::{Graph, Node, Var};
use crate::params::{ParamId, ParamStore};
use crate::pool::BufferPool;
use crate::tensor::Tensor;

/// A suspended [`Graph`]: every recorded value and backward rule, without the borrows of the
/// parameter store and the buffer pool. Continue it with [`Graph::resume`]; a tape dropped
/// instead frees its buffers instead of returning them to the pool.
pub struct Tape {
    pub(crate) nodes: Vec<Node>,
    pub(crate) bound: Vec<Option<Var>>,
    pub(crate) frozen: Vec<bool>,
    pub(crate) training: bool,
    /// The version of every parameter bound in the tape, when it was suspended.
    pub(crate) versions: Vec<(ParamId, u64)>,
}

impl Tape {
    /// The value of `v`, an op's result or a constant recorded in the tape (a parameter's value
    /// lives in the parameter store).
    pub fn value(&self, v: Var) -> Result<&Tensor> {
        let node = self.nodes.get(v.0).ok_or(Error::UnknownVar {
            index: v.0,
            len: self.nodes.len(),
        })?;
        node.value.as_ref().ok_or(Error::UnknownVar {
            index: v.0,
            len: self.nodes.len(),
        })
    }
}

impl<'a> Graph<'a> {
    /// Ends this graph's use of its parameter store and buffer pool, keeping what it recorded
    /// in a [`Tape`] to continue with [`Graph::resume`].
    pub fn suspend(mut self) -> Tape {
        let versions = self
            .bound
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_some())
            .map(|(i, _)| (ParamId(i), self.params.version(ParamId(i))))
            .collect();
        Tape {
            nodes: std::mem::take(&mut self.nodes),
            bound: std::mem::take(&mut self.bound),
            frozen: std::mem::take(&mut self.frozen),
            training: self.training,
            versions,
        }
    }

    /// Continues a suspended graph over `params` (the store it was recorded with) and `pool`:
    /// its vars stay valid, and new ops and [`Graph::backward`] work as if it had never been
    /// suspended. Fails if the store has another number of parameters, or if a parameter the
    /// tape reads changed since [`Graph::suspend`].
    pub fn resume(tape: Tape, params: &'a ParamStore, pool: &'a mut BufferPool) -> Result<Self> {
        // Built first, so that on an error the recording's buffers go back to the pool.
        let g = Graph {
            params,
            pool,
            nodes: tape.nodes,
            bound: tape.bound,
            frozen: tape.frozen,
            training: tape.training,
        };
        if g.bound.len() != params.len() {
            return Err(Error::Parameter {
                name: "<tape>".into(),
                reason: format!(
                    "the tape was recorded over {} parameters, the store holds {}",
                    g.bound.len(),
                    params.len()
                ),
            });
        }
        if let Some(&(id, _)) = tape
            .versions
            .iter()
            .find(|&&(id, version)| params.version(id) != version)
        {
            return Err(Error::Parameter {
                name: params.name(id).to_string(),
                reason: "changed while a graph reading it was suspended; update it after \
                         resuming that graph and running its backward pass"
                    .into(),
            });
        }
        Ok(g)
    }
}
