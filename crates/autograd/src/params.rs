//! Parameters live outside the graph, in a [`ParamStore`]; their gradients in [`Gradients`].
//!
//! Each training step binds the parameters it uses into a fresh [`crate::Graph`], runs forward
//! and backward, and an optimizer then updates the store from the gradients.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The handle of one parameter in a [`ParamStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub(crate) usize);

impl ParamId {
    /// The parameter's position in its store (stable: the order of registration).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Named parameter tensors, in registration order.
#[derive(Debug, Clone, Default)]
pub struct ParamStore {
    names: Vec<String>,
    values: Vec<Tensor>,
    /// Per parameter: how many times it was handed out for writing.
    versions: Vec<u64>,
}

impl ParamStore {
    /// An empty store.
    pub fn new() -> ParamStore {
        ParamStore::default()
    }

    /// Registers a parameter under a unique name (such as `generator.layers.0.weight`).
    pub fn add(&mut self, name: impl Into<String>, value: Tensor) -> Result<ParamId> {
        let name = name.into();
        if self.find(&name).is_some() {
            return Err(Error::Parameter {
                name,
                reason: "a parameter of this name is already registered".into(),
            });
        }
        self.names.push(name);
        self.values.push(value);
        self.versions.push(0);
        Ok(ParamId(self.values.len() - 1))
    }

    /// Gives the parameter `id` a new unique name (as PyTorch's `spectral_norm` turns a layer's
    /// `weight` into `weight_orig`).
    pub fn rename(&mut self, id: ParamId, name: impl Into<String>) -> Result<()> {
        let name = name.into();
        if self.find(&name).is_some_and(|other| other != id) {
            return Err(Error::Parameter {
                name,
                reason: "a parameter of this name is already registered".into(),
            });
        }
        self.names[id.0] = name;
        Ok(())
    }

    /// The id of the parameter called `name`.
    pub fn find(&self, name: &str) -> Option<ParamId> {
        self.names.iter().position(|n| n == name).map(ParamId)
    }

    /// The parameter's value.
    pub fn get(&self, id: ParamId) -> &Tensor {
        &self.values[id.0]
    }

    /// The parameter's value, mutably (optimizers, loading). Counts as a change for
    /// [`ParamStore::version`].
    pub fn get_mut(&mut self, id: ParamId) -> &mut Tensor {
        self.versions[id.0] += 1;
        &mut self.values[id.0]
    }

    /// How many times the parameter was handed out for writing ([`ParamStore::get_mut`],
    /// [`ParamStore::set`]): equal versions mean equal values. A suspended graph
    /// ([`crate::Tape`]) checks it.
    pub fn version(&self, id: ParamId) -> u64 {
        self.versions[id.0]
    }

    /// The parameter's name.
    pub fn name(&self, id: ParamId) -> &str {
        &self.names[id.0]
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every parameter id, in registration order.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> {
        (0..self.values.len()).map(ParamId)
    }

    /// The total number of scalar values in all parameters.
    pub fn total_len(&self) -> usize {
        self.values.iter().map(Tensor::len).sum()
    }

    /// Replaces a parameter's values by `data`, which must have the same shape.
    pub fn set(&mut self, id: ParamId, data: &Tensor) -> Result<()> {
        self.versions[id.0] += 1;
        let current = &mut self.values[id.0];
        if current.shape() != data.shape() {
            return Err(Error::Parameter {
                name: self.names[id.0].clone(),
                reason: format!(
                    "expected shape {:?}, got {:?}",
                    current.shape(),
                    data.shape()
                ),
            });
        }
        current.data_mut().copy_from_slice(data.data());
        Ok(())
    }
}

/// Gradients of the parameters of one [`ParamStore`], accumulated (`+=`) by backward passes.
#[derive(Debug, Clone)]
pub struct Gradients {
    grads: Vec<Tensor>,
}

impl Gradients {
    /// Zero gradients shaped like every parameter of `params`.
    pub fn zeros_like(params: &ParamStore) -> Gradients {
        Gradients {
            grads: params
                .values
                .iter()
                .map(|v| Tensor::zeros(v.shape()))
                .collect(),
        }
    }

    /// The gradient of one parameter.
    pub fn get(&self, id: ParamId) -> &Tensor {
        &self.grads[id.0]
    }

    /// The gradient of one parameter, mutably.
    pub fn get_mut(&mut self, id: ParamId) -> &mut Tensor {
        &mut self.grads[id.0]
    }

    /// The gradients of two distinct parameters, mutably.
    pub(crate) fn pair_mut(&mut self, a: ParamId, b: ParamId) -> (&mut Tensor, &mut Tensor) {
        assert_ne!(a, b, "pair_mut needs two distinct parameters");
        let (lo, hi) = (a.0.min(b.0), a.0.max(b.0));
        let (left, right) = self.grads.split_at_mut(hi);
        let (first, second) = (&mut left[lo], &mut right[0]);
        if a.0 < b.0 {
            (first, second)
        } else {
            (second, first)
        }
    }

    /// Sets every gradient to zero (call before each step's backward).
    pub fn zero(&mut self) {
        self.grads.iter_mut().for_each(Tensor::zero);
    }

    /// Sets the gradients of the given parameters to zero.
    pub fn zero_some(&mut self, ids: &[ParamId]) {
        for id in ids {
            self.grads[id.0].zero();
        }
    }

    /// The number of gradient tensors (one per parameter).
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// Whether there is no gradient.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }
}
