//! The graph: one per training step, recording every op so that `backward` can replay them in
//! reverse.
//!
//! Values of intermediate results live in the graph; parameters stay in their
//! [`ParamStore`] and are bound by reference ([`Graph::param`]). Gradients flow back node by
//! node; the ones reaching a parameter are added (`+=`) into a [`Gradients`] store. Every buffer
//! comes from a [`BufferPool`] and returns to it when the graph is dropped.

use crate::error::{Error, Result};
use crate::params::{Gradients, ParamId, ParamStore};
use crate::pool::BufferPool;
mod sink;
use crate::tensor::{numel, Tensor};
pub(crate) use sink::{GradSink, GradTarget};

/// A handle to one value recorded in a [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Var(pub(crate) usize);

/// The backward rule of one recorded op: given the gradient of its output, add the gradients of
/// its inputs into `grads`. Each op's implementation sits beside its forward pass.
pub(crate) trait Backward {
    /// Adds `d(loss)/d(input)` into `grads` for each input that needs it.
    fn backward(
        &self,
        out: &Tensor,
        gout: &Tensor,
        vals: &Values<'_>,
        grads: &mut GradSink<'_>,
    ) -> Result<()>;

    /// Returns any buffers the op saved for its backward pass to the pool.
    fn recycle(self: Box<Self>, _pool: &mut BufferPool) {}
}

pub(crate) struct Node {
    pub(crate) op: &'static str,
    pub(crate) shape: Vec<usize>,
    /// `None` for parameters, whose values stay in the store.
    pub(crate) value: Option<Tensor>,
    pub(crate) param: Option<ParamId>,
    pub(crate) requires_grad: bool,
    backward: Option<Box<dyn Backward>>,
}

/// Read access to every value of a graph during its backward pass.
pub(crate) struct Values<'g> {
    nodes: &'g [Node],
    params: &'g ParamStore,
}

impl<'g> Values<'g> {
    /// The value of `v`.
    pub(crate) fn get(&self, v: Var) -> &'g Tensor {
        value_of(self.nodes, self.params, v).expect("backward only sees its own graph's vars")
    }
}

fn value_of<'g>(nodes: &'g [Node], params: &'g ParamStore, v: Var) -> Result<&'g Tensor> {
    let node = nodes.get(v.0).ok_or(Error::UnknownVar {
        index: v.0,
        len: nodes.len(),
    })?;
    Ok(match (&node.value, node.param) {
        (Some(t), _) => t,
        (None, Some(id)) => params.get(id),
        (None, None) => unreachable!("a node holds a value or a parameter"),
    })
}

/// A computation recorded for reverse-mode differentiation.
pub struct Graph<'a> {
    pub(crate) params: &'a ParamStore,
    pub(crate) pool: &'a mut BufferPool,
    pub(crate) nodes: Vec<Node>,
    pub(crate) bound: Vec<Option<Var>>,
    pub(crate) frozen: Vec<bool>,
    pub(crate) training: bool,
}

impl<'a> Graph<'a> {
    /// A new, empty graph over `params`, taking its buffers from `pool`. Training mode is on.
    pub fn new(params: &'a ParamStore, pool: &'a mut BufferPool) -> Graph<'a> {
        Graph {
            params,
            pool,
            nodes: Vec::with_capacity(64),
            bound: vec![None; params.len()],
            frozen: vec![false; params.len()],
            training: true,
        }
    }

    /// Switches between training mode (dropout active, batch norm uses batch statistics) and
    /// evaluation mode.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Whether the graph is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Marks parameters as constants for this graph: no gradient is computed for them, and the
    /// products that would only serve their gradient are skipped. Call before binding them.
    pub fn freeze(&mut self, ids: impl IntoIterator<Item = ParamId>) {
        for id in ids {
            if let Some(f) = self.frozen.get_mut(id.0) {
                *f = true;
            }
        }
    }

    /// The parameters this graph reads.
    pub fn params(&self) -> &'a ParamStore {
        self.params
    }

    /// Binds a parameter into the graph (once; later calls return the same var).
    pub fn param(&mut self, id: ParamId) -> Var {
        if let Some(v) = self.bound[id.0] {
            return v;
        }
        let node = Node {
            op: "param",
            shape: self.params.get(id).shape().to_vec(),
            value: None,
            param: Some(id),
            requires_grad: !self.frozen[id.0],
            backward: None,
        };
        self.nodes.push(node);
        let v = Var(self.nodes.len() - 1);
        self.bound[id.0] = Some(v);
        v
    }

    /// Records a constant (input data, targets): no gradient flows into it.
    pub fn constant(&mut self, value: Tensor) -> Var {
        self.push("constant", value, false, None)
    }

    /// Records a constant copied from `data` into a pooled buffer (no allocation in a steady loop).
    pub fn constant_from(&mut self, shape: &[usize], data: &[f32]) -> Result<Var> {
        if numel(shape) != data.len() {
            return Err(Error::DataLength {
                shape: shape.to_vec(),
                expected: numel(shape),
                found: data.len(),
            });
        }
        let mut buf = self.pool.take(data.len());
        buf.copy_from_slice(data);
        Ok(self.constant(Tensor::from_parts(shape.to_vec(), buf)))
    }

    /// The value of `v`.
    ///
    /// # Panics
    /// If `v` was made by another graph with more nodes (a programming error).
    pub fn value(&self, v: Var) -> &Tensor {
        match value_of(&self.nodes, self.params, v) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// The value of `v`, or an error when `v` does not belong to this graph.
    pub fn try_value(&self, v: Var) -> Result<&Tensor> {
        value_of(&self.nodes, self.params, v)
    }

    /// The shape of `v`.
    pub fn shape(&self, v: Var) -> Result<&[usize]> {
        self.try_value(v).map(Tensor::shape)
    }

    /// Whether a gradient will flow into `v`.
    pub fn requires_grad(&self, v: Var) -> bool {
        self.nodes.get(v.0).is_some_and(|n| n.requires_grad)
    }

    /// The number of recorded nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether nothing is recorded yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A buffer of `len` elements from the pool, contents unspecified.
    pub(crate) fn alloc(&mut self, len: usize) -> Vec<f32> {
        self.pool.take(len)
    }

    /// A zeroed buffer of `len` elements from the pool.
    pub(crate) fn alloc_zeroed(&mut self, len: usize) -> Vec<f32> {
        self.pool.take_zeroed(len)
    }

    /// Records an op's output. `backward` is built only when an input needs a gradient, so
    /// forward-only work (sampling, evaluation) records no backward state.
    pub(crate) fn push_op<B: Backward + 'static>(
        &mut self,
        op: &'static str,
        value: Tensor,
        inputs: &[Var],
        backward: impl FnOnce() -> B,
    ) -> Var {
        let requires_grad = inputs.iter().any(|&v| self.requires_grad(v));
        let backward: Option<Box<dyn Backward>> = if requires_grad {
            Some(Box::new(backward()))
        } else {
            None
        };
        self.push(op, value, requires_grad, backward)
    }

    fn push(
        &mut self,
        op: &'static str,
        value: Tensor,
        requires_grad: bool,
        backward: Option<Box<dyn Backward>>,
    ) -> Var {
        self.nodes.push(Node {
            op,
            shape: value.shape().to_vec(),
            value: Some(value),
            param: None,
            requires_grad,
            backward,
        });
        Var(self.nodes.len() - 1)
    }

    /// Reverse-mode differentiation from the scalar `loss`: adds d(loss)/d(param) into `grads`
    /// for every trainable parameter the loss depends on.
    pub fn backward(&mut self, loss: Var, grads: &mut Gradients) -> Result<()> {
        self.backward_into(loss, grads, false)
    }

    /// Like [`Graph::backward`], but sets the gradient of every trainable parameter bound in this
    /// graph to d(loss)/d(param) (zero where the loss does not depend on it) instead of adding
    /// into it: the gradients need no zeroing beforehand, and the first product into each one
    /// writes it directly instead of adding to zeros. Gradients of parameters not bound in this
    /// graph are left as they are.
    pub fn backward_set(&mut self, loss: Var, grads: &mut Gradients) -> Result<()> {
        self.backward_into(loss, grads, true)
    }

    fn backward_into(&mut self, loss: Var, grads: &mut Gradients, set: bool) -> Result<()> {
        let shape = self.shape(loss)?.to_vec();
        if numel(&shape) != 1 {
            return Err(Error::NonScalarLoss { shape });
        }
        if grads.len() != self.params.len() {
            return Err(Error::Parameter {
                name: "<gradients>".into(),
                reason: format!(
                    "the gradient store holds {} tensors but the parameter store {}",
                    grads.len(),
                    self.params.len()
                ),
            });
        }
        let mut fresh = vec![false; self.params.len()];
        if set {
            for node in self.nodes.iter().filter(|n| n.requires_grad) {
                if let Some(id) = node.param {
                    fresh[id.0] = true;
                }
            }
        }
        let mut slots: Vec<Option<Tensor>> = Vec::new();
        slots.resize_with(loss.0 + 1, || None);
        if self.nodes[loss.0].requires_grad {
            let mut one = self.pool.take(1);
            one[0] = 1.0;
            slots[loss.0] = Some(Tensor::from_parts(shape, one));
        }
        let result = self.run_backward(loss, &mut slots, grads, &mut fresh);
        for t in slots.into_iter().flatten() {
            self.pool.give(t.into_data());
        }
        // Bound parameters that no gradient reached: d(loss)/d(param) = 0.
        for (i, _) in fresh.iter().enumerate().filter(|(_, f)| **f) {
            grads.get_mut(ParamId(i)).zero();
        }
        result
    }

    fn run_backward(
        &mut self,
        loss: Var,
        slots: &mut [Option<Tensor>],
        grads: &mut Gradients,
        fresh_params: &mut [bool],
    ) -> Result<()> {
        for i in (0..=loss.0).rev() {
            let Some(gout) = slots[i].take() else {
                continue;
            };
            let node = &self.nodes[i];
            if let Some(id) = node.param {
                // Only when the loss itself is a parameter: ops write into `grads` directly.
                let g = grads.get_mut(id);
                if std::mem::replace(&mut fresh_params[id.0], false) {
                    g.zero();
                }
                for (acc, d) in g.data_mut().iter_mut().zip(gout.data()) {
                    *acc += d;
                }
            } else if let Some(backward) = &node.backward {
                let out = node.value.as_ref().expect("op nodes hold values");
                let vals = Values {
                    nodes: &self.nodes,
                    params: self.params,
                };
                let mut sink = GradSink {
                    nodes: &self.nodes,
                    slots,
                    params: grads,
                    fresh_params,
                    pool: self.pool,
                };
                backward.backward(out, &gout, &vals, &mut sink)?;
            } else if node.requires_grad {
                return Err(Error::MissingBackward { op: node.op });
            }
            self.pool.give(gout.into_data());
        }
        Ok(())
    }
}

impl Drop for Graph<'_> {
    fn drop(&mut self) {
        for node in self.nodes.drain(..) {
            if let Some(v) = node.value {
                self.pool.give(v.into_data());
            }
            if let Some(b) = node.backward {
                b.recycle(self.pool);
            }
        }
    }
}
