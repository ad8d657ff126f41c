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
use crate::tensor::{numel, Tensor};

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
    op: &'static str,
    shape: Vec<usize>,
    /// `None` for parameters, whose values stay in the store.
    value: Option<Tensor>,
    param: Option<ParamId>,
    requires_grad: bool,
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

/// Write access to the gradients of a graph's nodes during its backward pass.
///
/// The gradient of a parameter is the parameter's tensor in the [`Gradients`] store itself, so
/// an op adds into it directly. The gradient of any other node is a pooled buffer, created when
/// the first op writes into it.
pub(crate) struct GradSink<'g> {
    nodes: &'g [Node],
    slots: &'g mut [Option<Tensor>],
    params: &'g mut Gradients,
    /// Per parameter: its gradient is to be set rather than added to, and nothing has been
    /// written into it yet ([`Graph::backward_set`]).
    fresh_params: &'g mut [bool],
    pool: &'g mut BufferPool,
}

/// Where a backward pass writes the gradient of one of its inputs.
pub(crate) struct GradTarget<'t> {
    /// The gradient buffer.
    pub tensor: &'t mut Tensor,
    /// The buffer is new and its contents are unspecified: the op must write (`=`) every element
    /// instead of adding (`+=`). When `false`, the op adds into what is there.
    pub fresh: bool,
}

/// Where a node's gradient lives.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Param(ParamId),
    Slot(usize),
}

impl GradSink<'_> {
    /// Makes sure `v`'s gradient buffer exists (zero-filled when new and `zeroed`); returns its
    /// place and whether it is new and unfilled, or `None` when `v` needs no gradient.
    fn prepare(&mut self, v: Var, zeroed: bool) -> Option<(Place, bool)> {
        let node = &self.nodes[v.0];
        if !node.requires_grad {
            return None;
        }
        if let Some(id) = node.param {
            let fresh = std::mem::replace(&mut self.fresh_params[id.0], false);
            if fresh && zeroed {
                self.params.get_mut(id).zero();
            }
            return Some((Place::Param(id), fresh && !zeroed));
        }
        let slot = &mut self.slots[v.0];
        if slot.is_some() {
            return Some((Place::Slot(v.0), false));
        }
        let len = numel(&node.shape);
        let buf = if zeroed {
            self.pool.take_zeroed(len)
        } else {
            self.pool.take(len)
        };
        *slot = Some(Tensor::from_parts(node.shape.clone(), buf));
        Some((Place::Slot(v.0), !zeroed))
    }

    fn tensor(&mut self, place: Place) -> &mut Tensor {
        match place {
            Place::Param(id) => self.params.get_mut(id),
            Place::Slot(i) => self.slots[i]
                .as_mut()
                .expect("prepared slots hold a tensor"),
        }
    }

    /// The gradient buffer of `v` to add into (zero-filled when new), or `None` when `v` needs no
    /// gradient.
    pub(crate) fn get(&mut self, v: Var) -> Option<&mut Tensor> {
        let (place, _) = self.prepare(v, true)?;
        Some(self.tensor(place))
    }

    /// The gradient of `v` as a [`GradTarget`]: a new buffer is not zero-filled, and the op
    /// overwrites it.
    pub(crate) fn target(&mut self, v: Var) -> Option<GradTarget<'_>> {
        let (place, fresh) = self.prepare(v, false)?;
        Some(GradTarget {
            tensor: self.tensor(place),
            fresh,
        })
    }

    /// A pooled scratch buffer of `len` elements, contents unspecified, for backward passes that
    /// need temporary space (convolution columns, per-channel sums). Return it with
    /// [`GradSink::give`] so the next step finds it again.
    pub(crate) fn scratch(&mut self, len: usize) -> Vec<f32> {
        self.pool.take(len)
    }

    /// Returns a scratch buffer to the pool.
    pub(crate) fn give(&mut self, buf: Vec<f32>) {
        self.pool.give(buf);
    }

    /// Gradient buffers of two distinct vars at once, to add into (for ops whose backward writes
    /// both in parallel). `None` for a var that needs no gradient.
    pub(crate) fn get_two(&mut self, a: Var, b: Var) -> (Option<&mut Tensor>, Option<&mut Tensor>) {
        let (ta, tb) = self.two(a, b, true);
        (ta.map(|t| t.tensor), tb.map(|t| t.tensor))
    }

    /// [`GradSink::target`] of two distinct vars at once.
    pub(crate) fn targets_two(
        &mut self,
        a: Var,
        b: Var,
    ) -> (Option<GradTarget<'_>>, Option<GradTarget<'_>>) {
        self.two(a, b, false)
    }

    fn two(
        &mut self,
        a: Var,
        b: Var,
        zeroed: bool,
    ) -> (Option<GradTarget<'_>>, Option<GradTarget<'_>>) {
        assert_ne!(
            a, b,
            "a backward pass asked for the gradient of one var twice at once"
        );
        let pa = self.prepare(a, zeroed);
        let pb = self.prepare(b, zeroed);
        let (ta, tb) = match (pa, pb) {
            (None, None) => return (None, None),
            (Some((p, fresh)), None) => {
                let tensor = self.tensor(p);
                return (Some(GradTarget { tensor, fresh }), None);
            }
            (None, Some((p, fresh))) => {
                let tensor = self.tensor(p);
                return (None, Some(GradTarget { tensor, fresh }));
            }
            (Some((p, fa)), Some((q, fb))) => {
                let (x, y) = match (p, q) {
                    (Place::Param(i), Place::Param(j)) => self.params.pair_mut(i, j),
                    (Place::Param(i), Place::Slot(j)) => {
                        (self.params.get_mut(i), slot(self.slots, j))
                    }
                    (Place::Slot(i), Place::Param(j)) => {
                        (slot(self.slots, i), self.params.get_mut(j))
                    }
                    (Place::Slot(i), Place::Slot(j)) => pair_slots(self.slots, i, j),
                };
                (
                    GradTarget {
                        tensor: x,
                        fresh: fa,
                    },
                    GradTarget {
                        tensor: y,
                        fresh: fb,
                    },
                )
            }
        };
        (Some(ta), Some(tb))
    }
}

fn slot(slots: &mut [Option<Tensor>], i: usize) -> &mut Tensor {
    slots[i].as_mut().expect("prepared slots hold a tensor")
}

/// Two distinct slots, mutably.
fn pair_slots(slots: &mut [Option<Tensor>], i: usize, j: usize) -> (&mut Tensor, &mut Tensor) {
    let (lo, hi) = (i.min(j), i.max(j));
    let (left, right) = slots.split_at_mut(hi);
    let (first, second) = (slot(left, lo), slot(right, 0));
    if i < j {
        (first, second)
    } else {
        (second, first)
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
    params: &'a ParamStore,
    pub(crate) pool: &'a mut BufferPool,
    nodes: Vec<Node>,
    bound: Vec<Option<Var>>,
    frozen: Vec<bool>,
    training: bool,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Activation;
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
}
