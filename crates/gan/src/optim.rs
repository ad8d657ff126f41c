//! Optimizers: Adam, RMSprop and SGD, each following PyTorch's update rule to the letter (so a
//! run here and a run there differ only by rounding), with state that checkpoints save.
//!
//! Updates of large tensors run in two fixed halves at once; each element's arithmetic is the
//! same in either half, so results do not depend on the number of threads.

use crate::config::{OptimizerKind, TrainConfig};
use autograd::{Gradients, ParamId, ParamStore, Tensor};

/// Hyperparameters of one optimizer.
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
    /// The settings of a configuration, with the given learning rate.
    pub fn from_config(c: &TrainConfig, lr: f64) -> OptimizerSettings {
        OptimizerSettings {
            kind: c.optimizer,
            lr: lr as f32,
            beta1: c.beta1 as f32,
            beta2: c.beta2 as f32,
            eps: c.eps as f32,
            alpha: c.rms_alpha as f32,
            momentum: c.momentum as f32,
        }
    }
}

/// An optimizer over a fixed list of parameters.
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

/// Elements below which an update stays on one thread.
const PARALLEL_MIN_LEN: usize = 1 << 15;

impl Optimizer {
    /// An optimizer for `params` with zeroed state.
    pub fn new(settings: OptimizerSettings, params: Vec<ParamId>, store: &ParamStore) -> Optimizer {
        let zeros = || {
            params
                .iter()
                .map(|&id| Tensor::zeros(store.get(id).shape()))
                .collect()
        };
        Optimizer {
            settings,
            first: zeros(),
            second: zeros(),
            params,
            steps: 0,
        }
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

    /// One update of every parameter from its gradient.
    pub fn step(&mut self, store: &mut ParamStore, grads: &Gradients) {
        self.steps += 1;
        let s = self.settings;
        let t = self.steps as i32;
        let rule = Rule::new(&s, t);
        for (i, &id) in self.params.iter().enumerate() {
            let p = store.get_mut(id).data_mut();
            let g = grads.get(id).data();
            let (m, v) = (self.first[i].data_mut(), self.second[i].data_mut());
            update_halves(rule, p, g, m, v);
        }
    }

    /// The state tensors with names (`exp_avg`, `exp_avg_sq`, `square_avg`, `momentum_buffer`)
    /// per parameter, for checkpoints.
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
    /// count (for loading checkpoints).
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

/// The per-element rule with its step-dependent constants precomputed.
#[derive(Clone, Copy)]
enum Rule {
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
        bias_correction1: f32,
        bias_correction2_sqrt: f32,
    },
    Rmsprop {
        lr: f32,
        alpha: f32,
        eps: f32,
        momentum: f32,
    },
    Sgd {
        lr: f32,
        momentum: f32,
        first_step: bool,
    },
}

impl Rule {
    fn new(s: &OptimizerSettings, t: i32) -> Rule {
        match s.kind {
            OptimizerKind::Adam => Rule::Adam {
                lr: s.lr,
                beta1: s.beta1,
                beta2: s.beta2,
                eps: s.eps,
                bias_correction1: 1.0 - s.beta1.powi(t),
                bias_correction2_sqrt: (1.0 - s.beta2.powi(t)).sqrt(),
            },
            OptimizerKind::Rmsprop => Rule::Rmsprop {
                lr: s.lr,
                alpha: s.alpha,
                eps: s.eps,
                momentum: s.momentum,
            },
            OptimizerKind::Sgd => Rule::Sgd {
                lr: s.lr,
                momentum: s.momentum,
                first_step: t == 1,
            },
        }
    }

    /// Updates `p` and the state `m`, `v` from the gradient `g`, element by element.
    fn apply(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            return unsafe { self.apply_avx2(p, g, m, v) };
        }
        self.apply_portable(p, g, m, v)
    }

    /// [`Rule::apply`] compiled for AVX2: the same operations on eight values at a time instead
    /// of four, which halves the time of Adam's square roots and divisions. Each value's
    /// arithmetic is unchanged (no operation is fused), so the bits are the same.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn apply_avx2(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        self.apply_portable(p, g, m, v)
    }

    #[inline(always)]
    fn apply_portable(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        match self {
            Rule::Adam {
                lr,
                beta1,
                beta2,
                eps,
                bias_correction1,
                bias_correction2_sqrt,
            } => {
                // PyTorch: m.lerp_(g, 1 − β1); v = β2·v + (1 − β2)·g²;
                // p −= (lr / bc1) · m / (√v / √bc2 + ε).
                let step_size = lr / bias_correction1;
                for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    *m += (1.0 - beta1) * (g - *m);
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    let denom = v.sqrt() / bias_correction2_sqrt + eps;
                    *p -= step_size * (*m / denom);
                }
            }
            Rule::Rmsprop {
                lr,
                alpha,
                eps,
                momentum,
            } => {
                // PyTorch: v = α·v + (1 − α)·g²; avg = √v + ε;
                // momentum: buf = μ·buf + g / avg, p −= lr·buf; else p −= lr · g / avg.
                for (((p, &g), sq), buf) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                {
                    *sq = alpha * *sq + (1.0 - alpha) * g * g;
                    let avg = sq.sqrt() + eps;
                    if momentum > 0.0 {
                        *buf = momentum * *buf + g / avg;
                        *p -= lr * *buf;
                    } else {
                        *p -= lr * (g / avg);
                    }
                }
            }
            Rule::Sgd {
                lr,
                momentum,
                first_step,
            } => {
                // PyTorch: buf = g on the first step, then buf = μ·buf + g; p −= lr·buf.
                for ((p, &g), buf) in p.iter_mut().zip(g).zip(m.iter_mut()) {
                    if momentum > 0.0 {
                        *buf = if first_step { g } else { momentum * *buf + g };
                        *p -= lr * *buf;
                    } else {
                        *p -= lr * g;
                    }
                }
            }
        }
    }
}

fn update_halves(rule: Rule, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    if p.len() < PARALLEL_MIN_LEN {
        return rule.apply(p, g, m, v);
    }
    let mid = p.len() / 2;
    let (p0, p1) = p.split_at_mut(mid);
    let (m0, m1) = m.split_at_mut(mid);
    let (v0, v1) = v.split_at_mut(mid);
    let (g0, g1) = g.split_at(mid);
    autograd::join(|| rule.apply(p0, g0, m0, v0), || rule.apply(p1, g1, m1, v1));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimises f(p) = Σ (p − target)² / 2 (gradient p − target) for a few steps and returns
    /// the parameter trajectory.
    fn run(kind: OptimizerKind, lr: f32, momentum: f32, steps: usize) -> Vec<Vec<f32>> {
        let mut store = ParamStore::new();
        let id = store
            .add("w", Tensor::from_vec(&[3], vec![1.0, -2.0, 0.5]).unwrap())
            .unwrap();
        let settings = OptimizerSettings {
            kind,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            alpha: 0.99,
            momentum,
        };
        let mut opt = Optimizer::new(settings, vec![id], &store);
        let target = [0.0f32, 1.0, 2.0];
        let mut grads = Gradients::zeros_like(&store);
        let mut out = Vec::new();
        for _ in 0..steps {
            let p = store.get(id).data().to_vec();
            for (g, (p, t)) in grads
                .get_mut(id)
                .data_mut()
                .iter_mut()
                .zip(p.iter().zip(target))
            {
                *g = p - t;
            }
            opt.step(&mut store, &grads);
            out.push(store.get(id).data().to_vec());
        }
        out
    }

    fn close(got: &[f32], want: &[f64]) {
        for (g, w) in got.iter().zip(want) {
            assert!(
                (f64::from(*g) - w).abs() < 1e-6,
                "got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn adam_matches_a_worked_example() {
        // By hand: step 1, m̂ = g and v̂ = g², so each weight moves by lr·sign(g) (ε aside):
        // g = (1, −3, −1.5) → p = (1 − 0.1, −2 + 0.1, 0.5 + 0.1).
        let traj = run(OptimizerKind::Adam, 0.1, 0.0, 3);
        close(&traj[0], &[0.9, -1.9, 0.6]);
        // Step 2 (worked in f64): g = (0.9, −2.9, −1.4); m = 0.9·m + 0.1·g; v = 0.999·v + 0.001·g²,
        // p −= 0.1·(m / 0.19) / (√(v / (1 − 0.999²)) + 1e-8).
        let want: Vec<f64> = [(0.9, 1.0, 0.9), (-1.9, -3.0, -2.9), (0.6, -1.5, -1.4)]
            .iter()
            .map(|&(p, g1, g2): &(f64, f64, f64)| {
                let m = 0.9 * (0.1 * g1) + 0.1 * g2;
                let v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
                p - 0.1 * (m / (1.0 - 0.81)) / ((v / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8)
            })
            .collect();
        close(&traj[1], &want);
    }

    #[test]
    fn rmsprop_matches_a_worked_example() {
        // Step 1: v = 0.01·g², p −= lr·g / (√v + ε) = lr·g / (0.1·|g|) = 10·lr·sign(g).
        let traj = run(OptimizerKind::Rmsprop, 0.01, 0.0, 2);
        close(&traj[0], &[0.9, -1.9, 0.6]);
        // Step 2: g = (0.9, −2.9, −1.4); v = 0.99·0.01·g1² + 0.01·g2².
        let want: Vec<f64> = [(0.9, 1.0, 0.9), (-1.9, -3.0, -2.9), (0.6, -1.5, -1.4)]
            .iter()
            .map(|&(p, g1, g2): &(f64, f64, f64)| {
                let v = 0.99 * 0.01 * g1 * g1 + 0.01 * g2 * g2;
                p - 0.01 * g2 / (v.sqrt() + 1e-8)
            })
            .collect();
        close(&traj[1], &want);
    }

    #[test]
    fn sgd_with_momentum_matches_a_worked_example() {
        // buf1 = g1 = (1, −3, −1.5): p1 = p0 − 0.1·buf1 = (0.9, −1.7, 0.65).
        // g2 = (0.9, −2.7, −1.35); buf2 = 0.9·buf1 + g2 = (1.8, −5.4, −2.7);
        // p2 = p1 − 0.1·buf2 = (0.72, −1.16, 0.92).
        let traj = run(OptimizerKind::Sgd, 0.1, 0.9, 2);
        close(&traj[0], &[0.9, -1.7, 0.65]);
        close(&traj[1], &[0.72, -1.16, 0.92]);
        let plain = run(OptimizerKind::Sgd, 0.1, 0.0, 1);
        close(&plain[0], &[0.9, -1.7, 0.65]);
    }
}
