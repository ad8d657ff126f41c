//! [`GradSink`]: where the backward rule of an op writes the gradients of its inputs.
//!
//! The gradient of a parameter is the parameter's tensor in the [`Gradients`] store itself, so
//! an op writes into it directly. The gradient of any other node is a pooled buffer, created when
//! the first op writes into it: [`GradSink::get`] hands it out zero-filled, to add into;
//! [`GradSink::target`] hands it out unfilled, with a flag that tells the op to overwrite it.

use super::{Node, Var};
use crate::params::{Gradients, ParamId};
use crate::pool::BufferPool;
use crate::tensor::{numel, Tensor};

/// Write access to the gradients of a graph's nodes during its backward pass.
pub(crate) struct GradSink<'g> {
    pub(crate) nodes: &'g [Node],
    pub(crate) slots: &'g mut [Option<Tensor>],
    pub(crate) params: &'g mut Gradients,
    /// Per parameter: its gradient is to be set rather than added to, and nothing has been
    /// written into it yet ([`Graph::backward_set`]).
    pub(crate) fresh_params: &'g mut [bool],
    pub(crate) pool: &'g mut BufferPool,
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
