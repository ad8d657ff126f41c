//! The adversarial losses, chosen by the configuration's `loss`. Each one is a pair: what the
//! discriminator minimises on real and generated digits, and what the generator minimises on
//! generated ones. [`GanLoss::d_steps`] says how many discriminator updates it wants per
//! generator update.

use crate::error::Result;
use autograd::{Graph, Var};
use serde::{Deserialize, Serialize};

/// An adversarial loss.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum GanLoss {
    /// Binary cross-entropy on logits, with the non-saturating generator loss:
    /// `d = BCE(D(x), 1) + BCE(D(G(z)), 0)`, `g = BCE(D(G(z)), 1)`.
    #[default]
    Bce,
    /// Hinge loss (Lim & Ye 2017; Miyato et al. 2018): `d = mean(relu(1 − D(x))) +
    /// mean(relu(1 + D(G(z))))`, `g = −mean(D(G(z)))`.
    Hinge,
    /// Least squares (Mao et al. 2017, targets 1 and 0): `d = ½·mean((D(x) − 1)²) +
    /// ½·mean(D(G(z))²)`, `g = ½·mean((D(G(z)) − 1)²)`.
    Lsgan,
    /// Wasserstein (Arjovsky et al. 2017): `d = mean(D(G(z))) − mean(D(x))`, `g = −mean(D(G(z)))`,
    /// five critic updates per generator update, the critic's weights clipped to ±0.01 after
    /// each of them. The paper trains both with RMSprop at 5e-5 (`configs/wgan.toml`).
    Wasserstein,
}

/// The discriminator's logits on `B` real and `B` generated digits: one `[2B, 1]` batch (real
/// first) when the discriminator saw them together, or two `[B, 1]` batches.
#[derive(Debug, Clone, Copy)]
pub enum DiscriminatorLogits {
    /// Real rows first, then generated ones.
    Joined(Var),
    /// Real and generated, from two passes.
    Split {
        /// `D(x)`.
        real: Var,
        /// `D(G(z))`.
        fake: Var,
    },
}

impl GanLoss {
    /// Discriminator updates per generator update.
    pub fn d_steps(self) -> usize {
        match self {
            GanLoss::Wasserstein => 5,
            GanLoss::Bce | GanLoss::Hinge | GanLoss::Lsgan => 1,
        }
    }

    /// The bound the critic's weights are clipped to after each of its updates, if any.
    pub fn weight_clip(self) -> Option<f32> {
        match self {
            GanLoss::Wasserstein => Some(0.01),
            GanLoss::Bce | GanLoss::Hinge | GanLoss::Lsgan => None,
        }
    }

    /// The discriminator's loss. `targets` is a scratch buffer the caller keeps between steps.
    pub fn discriminator(
        self,
        g: &mut Graph<'_>,
        logits: DiscriminatorLogits,
        targets: &mut Vec<f32>,
    ) -> Result<Var> {
        let terms = match self {
            GanLoss::Bce => return bce_discriminator(g, logits, targets),
            GanLoss::Hinge => {
                let (real, fake) = split(g, logits)?;
                // mean(relu(1 − D(x))) and mean(relu(1 + D(G(z)))).
                let r = g.neg(real)?;
                let r = g.add_scalar(r, 1.0)?;
                let r = g.relu(r)?;
                let f = g.add_scalar(fake, 1.0)?;
                let f = g.relu(f)?;
                (g.mean(r)?, g.mean(f)?)
            }
            GanLoss::Lsgan => {
                let (real, fake) = split(g, logits)?;
                let r = g.add_scalar(real, -1.0)?;
                let r = g.square(r)?;
                let f = g.square(fake)?;
                let (r, f) = (g.mean(r)?, g.mean(f)?);
                (g.mul_scalar(r, 0.5)?, g.mul_scalar(f, 0.5)?)
            }
            GanLoss::Wasserstein => {
                let (real, fake) = split(g, logits)?;
                let r = g.mean(real)?;
                (g.neg(r)?, g.mean(fake)?)
            }
        };
        Ok(g.add(terms.0, terms.1)?)
    }

    /// The generator's loss on the discriminator's logits `[B, 1]` for generated digits.
    pub fn generator(self, g: &mut Graph<'_>, fake: Var, targets: &mut Vec<f32>) -> Result<Var> {
        match self {
            GanLoss::Bce => {
                let b = g.shape(fake)?[0];
                fill_targets(targets, b, b);
                let ones = g.constant_from(&[b, 1], targets)?;
                Ok(g.bce_with_logits(fake, ones)?)
            }
            GanLoss::Hinge | GanLoss::Wasserstein => {
                let m = g.mean(fake)?;
                Ok(g.neg(m)?)
            }
            GanLoss::Lsgan => {
                let f = g.add_scalar(fake, -1.0)?;
                let f = g.square(f)?;
                let m = g.mean(f)?;
                Ok(g.mul_scalar(m, 0.5)?)
            }
        }
    }
}

/// The BCE discriminator loss: on one joined batch the mean over 2B, doubled (the usual sum of
/// the real and the generated halves' means, in one product per layer).
fn bce_discriminator(
    g: &mut Graph<'_>,
    logits: DiscriminatorLogits,
    targets: &mut Vec<f32>,
) -> Result<Var> {
    match logits {
        DiscriminatorLogits::Joined(both) => {
            let rows = g.shape(both)?[0];
            fill_targets(targets, rows, rows / 2);
            let t = g.constant_from(&[rows, 1], targets)?;
            let mean = g.bce_with_logits(both, t)?;
            Ok(g.mul_scalar(mean, 2.0)?)
        }
        DiscriminatorLogits::Split { real, fake } => {
            let b = g.shape(real)?[0];
            fill_targets(targets, b, b);
            let ones = g.constant_from(&[b, 1], targets)?;
            let real_loss = g.bce_with_logits(real, ones)?;
            let b = g.shape(fake)?[0];
            fill_targets(targets, b, 0);
            let zeros = g.constant_from(&[b, 1], targets)?;
            let fake_loss = g.bce_with_logits(fake, zeros)?;
            Ok(g.add(real_loss, fake_loss)?)
        }
    }
}

/// The real and the generated halves of the logits.
fn split(g: &mut Graph<'_>, logits: DiscriminatorLogits) -> Result<(Var, Var)> {
    Ok(match logits {
        DiscriminatorLogits::Joined(both) => {
            let rows = g.shape(both)?[0];
            let real = g.slice_rows(both, 0, rows / 2)?;
            let fake = g.slice_rows(both, rows / 2, rows)?;
            (real, fake)
        }
        DiscriminatorLogits::Split { real, fake } => (real, fake),
    })
}

/// `targets` becomes `rows` values: 1 for the first `ones`, 0 after.
fn fill_targets(targets: &mut Vec<f32>, rows: usize, ones: usize) {
    targets.clear();
    targets.extend((0..rows).map(|i| if i < ones { 1.0 } else { 0.0 }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::{BufferPool, Gradients, ParamStore, Tensor};

    /// Each loss's value on fixed logits, and its gradient against finite differences.
    #[test]
    fn values_and_gradients_of_every_loss() {
        let real = [0.5f32, -1.5, 2.0];
        let fake = [-0.25f32, 1.25, -2.0];
        let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        let bce = |v: &[f32], t: f32| {
            mean(
                &v.iter()
                    .map(|&x| -(t * sigmoid(x).ln() + (1.0 - t) * (1.0 - sigmoid(x)).ln()))
                    .collect::<Vec<_>>(),
            )
        };
        for loss in [
            GanLoss::Bce,
            GanLoss::Hinge,
            GanLoss::Lsgan,
            GanLoss::Wasserstein,
        ] {
            let expected_d = match loss {
                GanLoss::Bce => bce(&real, 1.0) + bce(&fake, 0.0),
                GanLoss::Hinge => {
                    mean(&real.map(|x| (1.0 - x).max(0.0)))
                        + mean(&fake.map(|x| (1.0 + x).max(0.0)))
                }
                GanLoss::Lsgan => {
                    0.5 * mean(&real.map(|x| (x - 1.0) * (x - 1.0)))
                        + 0.5 * mean(&fake.map(|x| x * x))
                }
                GanLoss::Wasserstein => mean(&fake) - mean(&real),
            };
            let expected_g = match loss {
                GanLoss::Bce => bce(&fake, 1.0),
                GanLoss::Hinge | GanLoss::Wasserstein => -mean(&fake),
                GanLoss::Lsgan => 0.5 * mean(&fake.map(|x| (x - 1.0) * (x - 1.0))),
            };
            // The joined and the split forms agree.
            let mut store = ParamStore::new();
            let both: Vec<f32> = real.iter().chain(&fake).copied().collect();
            let p = store
                .add("logits", Tensor::from_vec(&[6, 1], both).unwrap())
                .unwrap();
            let mut pool = BufferPool::new();
            let mut targets = Vec::new();
            for joined in [true, false] {
                let mut g = Graph::new(&store, &mut pool);
                let x = g.param(p);
                let logits = if joined {
                    DiscriminatorLogits::Joined(x)
                } else {
                    let real = g.slice_rows(x, 0, 3).unwrap();
                    let fake = g.slice_rows(x, 3, 6).unwrap();
                    DiscriminatorLogits::Split { real, fake }
                };
                let d = loss.discriminator(&mut g, logits, &mut targets).unwrap();
                let got = g.value(d).data()[0];
                assert!(
                    (got - expected_d).abs() < 1e-5,
                    "{loss}: d {got} vs {expected_d}"
                );
                let mut grads = Gradients::zeros_like(&store);
                g.backward(d, &mut grads).unwrap();
                // Central differences of the loss in each logit.
                let h = 1e-2f32;
                for i in 0..6 {
                    let value_at = |delta: f32| {
                        let mut moved = store.clone();
                        moved.get_mut(p).data_mut()[i] += delta;
                        let mut pool = BufferPool::new();
                        let mut g = Graph::new(&moved, &mut pool);
                        let x = g.param(p);
                        let l = loss
                            .discriminator(&mut g, DiscriminatorLogits::Joined(x), &mut Vec::new())
                            .unwrap();
                        g.value(l).data()[0]
                    };
                    let numeric = (value_at(h) - value_at(-h)) / (2.0 * h);
                    let analytic = grads.get(p).data()[i];
                    assert!(
                        (numeric - analytic).abs() < 2e-3,
                        "{loss}: d/dlogit {i}: {analytic} vs {numeric}"
                    );
                }
            }
            let mut g = Graph::new(&store, &mut pool);
            let x = g.param(p);
            let f = g.slice_rows(x, 3, 6).unwrap();
            let l = loss.generator(&mut g, f, &mut targets).unwrap();
            let got = g.value(l).data()[0];
            assert!(
                (got - expected_g).abs() < 1e-5,
                "{loss}: g {got} vs {expected_g}"
            );
        }
    }
}
