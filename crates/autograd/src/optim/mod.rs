//! Optimizers, as in `torch.optim`: [`Optimizer`] applies Adam, RMSprop or SGD to a fixed list of
//! parameters, each following PyTorch's update rule to the letter (so a run here and a run there
//! differ only by rounding), with state that can be saved and restored by name.
//!
//! ```
//! use autograd::optim::{Optimizer, OptimizerSettings};
//! use autograd::{Gradients, ParamStore, Tensor};
//!
//! # fn main() -> Result<(), autograd::Error> {
//! let mut params = ParamStore::new();
//! let w = params.add("w", Tensor::from_vec(&[2], vec![1.0, -1.0])?)?;
//! let mut opt = Optimizer::new(OptimizerSettings::sgd(0.1), vec![w], &params)?;
//! let mut grads = Gradients::zeros_like(&params);
//! grads.get_mut(w).data_mut().copy_from_slice(&[1.0, 2.0]);
//! opt.step(&mut params, &grads)?;
//! assert_eq!(params.get(w).data(), &[0.9, -1.2]);
//! # Ok(())
//! # }
//! ```
//!
//! Updates of large tensors run in two fixed halves at once ([`crate::join`]); each element's
//! arithmetic is the same in either half, so results do not depend on the number of threads.

mod rules;
#[cfg(test)]
mod tests;

use crate::error::{invalid, Error, Result};
use crate::params::{Gradients, ParamId, ParamStore};
use crate::tensor::Tensor;
use rules::Rule;

/// Which update rule an [`Optimizer`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptimizerKind {
    /// Adam (`torch.optim.Adam`: β1, β2, ε).
    Adam,
    /// RMSprop (`torch.optim.RMSprop`: α, ε, momentum).
    Rmsprop,
    /// SGD with optional momentum (`torch.optim.SGD`).
    Sgd,
}

/// Hyperparameters of one optimizer. Fields a rule does not use are ignored by it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerSettings {
    /// Which rule.
    pub kind: OptimizerKind,
    /// Learning rate.
    pub lr: f32,
    /// Adam's β1.
    pub beta1: f32,
    /// Adam's β2.
    pub beta2: f32,
    /// Adam's and RMSprop's ε.
    pub eps: f32,
    /// RMSprop's α.
    pub alpha: f32,
    /// Momentum (SGD, RMSprop).
    pub momentum: f32,
}

impl OptimizerSettings {
    /// PyTorch's defaults for `kind` with the learning rate `lr`: betas (0.9, 0.999),
    /// ε = 1e-8, α = 0.99, no momentum.
    pub fn new(kind: OptimizerKind, lr: f32) -> OptimizerSettings {
        OptimizerSettings {
            kind,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            alpha: 0.99,
            momentum: 0.0,
        }
    }

    /// Adam with PyTorch's defaults: betas (0.9, 0.999), ε = 1e-8.
    pub fn adam(lr: f32) -> OptimizerSettings {
        OptimizerSettings::new(OptimizerKind::Adam, lr)
    }

    /// RMSprop with PyTorch's defaults: α = 0.99, ε = 1e-8, no momentum.
    pub fn rmsprop(lr: f32) -> OptimizerSettings {
        OptimizerSettings::new(OptimizerKind::Rmsprop, lr)
    }

    /// SGD without momentum (PyTorch's default).
    pub fn sgd(lr: f32) -> OptimizerSettings {
        OptimizerSettings::new(OptimizerKind::Sgd, lr)
    }

    /// The same settings with Adam's betas `(β1, β2)`.
    pub fn with_betas(self, (beta1, beta2): (f32, f32)) -> OptimizerSettings {
        OptimizerSettings {
            beta1,
            beta2,
            ..self
        }
    }

    /// The same settings with ε.
    pub fn with_eps(self, eps: f32) -> OptimizerSettings {
        OptimizerSettings { eps, ..self }
    }

    /// The same settings with RMSprop's α.
    pub fn with_alpha(self, alpha: f32) -> OptimizerSettings {
        OptimizerSettings { alpha, ..self }
    }

    /// The same settings with momentum (SGD, RMSprop).
    pub fn with_momentum(self, momentum: f32) -> OptimizerSettings {
        OptimizerSettings { momentum, ..self }
    }

    /// Refuses what PyTorch refuses: a negative or NaN learning rate, ε, α or momentum, and betas
    /// outside [0, 1).
    pub fn validate(&self) -> Result<()> {
        let at_least_zero = [
            ("learning rate", self.lr),
            ("eps", self.eps),
            ("alpha", self.alpha),
            ("momentum", self.momentum),
        ];
        for (what, v) in at_least_zero {
            if v.is_nan() || v < 0.0 {
                return Err(invalid("optimizer", format!("invalid {what}: {v}")));
            }
        }
        for (what, v) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&v) {
                return Err(invalid(
                    "optimizer",
                    format!("invalid {what}: {v} (must be in [0, 1))"),
                ));
            }
        }
        Ok(())
    }
}

/// An optimizer over a fixed list of parameters of one [`ParamStore`].
#[derive(Debug, Clone)]
pub struct Optimizer {
    settings: OptimizerSettings,
    params: Vec<ParamId>,
    /// Adam: exp_avg; RMSprop: square_avg; SGD: momentum_buffer.
    first: Vec<Tensor>,
    /// Adam: exp_avg_sq; RMSprop: momentum_buffer; SGD: unused.
    second: Vec<Tensor>,
    steps: u64,
}

impl Optimizer {
    /// An optimizer for `params` (ids of `store`, each once) with zeroed state; fails on invalid
    /// settings ([`OptimizerSettings::validate`]) or ids that are not in `store`.
    pub fn new(
        settings: OptimizerSettings,
        params: Vec<ParamId>,
        store: &ParamStore,
    ) -> Result<Optimizer> {
        settings.validate()?;
        for (i, &id) in params.iter().enumerate() {
            check_id(id, store)?;
            if params[..i].contains(&id) {
                return Err(Error::Parameter {
                    name: store.name(id).to_string(),
                    reason: "listed twice for one optimizer".into(),
                });
            }
        }
        let zeros = || {
            params
                .iter()
                .map(|&id| Tensor::zeros(store.get(id).shape()))
                .collect()
        };
        Ok(Optimizer {
            settings,
            first: zeros(),
            second: zeros(),
            params,
            steps: 0,
        })
    }

    /// Adam (`torch.optim.Adam(params, lr, betas)`, ε = 1e-8).
    pub fn adam(
        params: Vec<ParamId>,
        store: &ParamStore,
        lr: f32,
        betas: (f32, f32),
    ) -> Result<Optimizer> {
        Optimizer::new(OptimizerSettings::adam(lr).with_betas(betas), params, store)
    }

    /// RMSprop (`torch.optim.RMSprop(params, lr, alpha)`, ε = 1e-8, no momentum).
    pub fn rmsprop(
        params: Vec<ParamId>,
        store: &ParamStore,
        lr: f32,
        alpha: f32,
    ) -> Result<Optimizer> {
        let settings = OptimizerSettings::rmsprop(lr).with_alpha(alpha);
        Optimizer::new(settings, params, store)
    }

    /// SGD (`torch.optim.SGD(params, lr, momentum)`).
    pub fn sgd(
        params: Vec<ParamId>,
        store: &ParamStore,
        lr: f32,
        momentum: f32,
    ) -> Result<Optimizer> {
        let settings = OptimizerSettings::sgd(lr).with_momentum(momentum);
        Optimizer::new(settings, params, store)
    }

    /// The settings.
    pub fn settings(&self) -> &OptimizerSettings {
        &self.settings
    }

    /// Changes the learning rate of the next updates (for a schedule); the state is kept.
    pub fn set_lr(&mut self, lr: f32) {
        self.settings.lr = lr;
    }

    /// The parameters this optimizer updates.
    pub fn params(&self) -> &[ParamId] {
        &self.params
    }

    /// How many updates have been applied.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One update of every parameter from its gradient. Fails, changing nothing, when a
    /// parameter is not in `store` or its gradient or state has another shape than its value.
    pub fn step(&mut self, store: &mut ParamStore, grads: &Gradients) -> Result<()> {
        for (i, &id) in self.params.iter().enumerate() {
            check_id(id, store)?;
            let shape = store.get(id).shape();
            let mismatch = [
                (
                    "gradient",
                    (id.index() < grads.len()).then(|| grads.get(id).shape()),
                ),
                ("optimizer state", Some(self.first[i].shape())),
                ("optimizer state", Some(self.second[i].shape())),
            ]
            .into_iter()
            .find(|(_, s)| *s != Some(shape));
            if let Some((what, found)) = mismatch {
                return Err(Error::Parameter {
                    name: store.name(id).to_string(),
                    reason: format!("shape {shape:?}, but its {what} has shape {found:?}"),
                });
            }
        }
        self.steps += 1;
        let t = i32::try_from(self.steps).unwrap_or(i32::MAX);
        let rule = Rule::new(&self.settings, t);
        for (i, &id) in self.params.iter().enumerate() {
            let p = store.get_mut(id).data_mut();
            let g = grads.get(id).data();
            let (m, v) = (self.first[i].data_mut(), self.second[i].data_mut());
            rules::update_halves(rule, p, g, m, v);
        }
        Ok(())
    }

    /// The state tensors with their slot names (`exp_avg`, `exp_avg_sq` for Adam; `square_avg`,
    /// `momentum_buffer` for RMSprop; `momentum_buffer` for SGD, PyTorch's names) and the index
    /// of their parameter in [`Optimizer::params`], for checkpoints.
    pub fn state(&self) -> Vec<(&'static str, usize, &Tensor)> {
        let (a, b) = self.slot_names();
        let mut out = Vec::new();
        for i in 0..self.params.len() {
            if let Some(a) = a {
                out.push((a, i, &self.first[i]));
            }
            if let Some(b) = b {
                out.push((b, i, &self.second[i]));
            }
        }
        out
    }

    /// Mutable access to the state, in the same order as [`Optimizer::state`], and the step
    /// count (for loading checkpoints). A tensor given another shape makes [`Optimizer::step`]
    /// fail.
    pub fn state_mut(&mut self) -> (Vec<(&'static str, usize, &mut Tensor)>, &mut u64) {
        let (a, b) = self.slot_names();
        let mut out = Vec::new();
        for (i, (f, s)) in self
            .first
            .iter_mut()
            .zip(self.second.iter_mut())
            .enumerate()
        {
            if let Some(a) = a {
                out.push((a, i, f));
            }
            if let Some(b) = b {
                out.push((b, i, s));
            }
        }
        (out, &mut self.steps)
    }

    fn slot_names(&self) -> (Option<&'static str>, Option<&'static str>) {
        match self.settings.kind {
            OptimizerKind::Adam => (Some("exp_avg"), Some("exp_avg_sq")),
            OptimizerKind::Rmsprop => (Some("square_avg"), Some("momentum_buffer")),
            OptimizerKind::Sgd => (Some("momentum_buffer"), None),
        }
    }
}

fn check_id(id: ParamId, store: &ParamStore) -> Result<()> {
    if id.index() < store.len() {
        Ok(())
    } else {
        Err(invalid(
            "optimizer",
            format!(
                "parameter id {} is not in this store (it holds {})",
                id.index(),
                store.len()
            ),
        ))
    }
}
