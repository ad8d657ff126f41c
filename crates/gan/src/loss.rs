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
            GanLoss::Bce => 1,
        }
    }

    /// The discriminator's loss. `targets` is a scratch buffer the caller keeps between steps.
    pub fn discriminator(
        self,
        g: &mut Graph<'_>,
        logits: DiscriminatorLogits,
        targets: &mut Vec<f32>,
    ) -> Result<Var> {
        match self {
            GanLoss::Bce => match logits {
                DiscriminatorLogits::Joined(both) => {
                    let rows = g.shape(both)?[0];
                    fill_targets(targets, rows, rows / 2);
                    let t = g.constant_from(&[rows, 1], targets)?;
                    let mean = g.bce_with_logits(both, t)?;
                    // Mean over 2B = (BCE_real + BCE_fake) / 2: doubled, the usual sum of two.
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
            },
        }
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
        }
    }
}

/// `targets` becomes `rows` values: 1 for the first `ones`, 0 after.
fn fill_targets(targets: &mut Vec<f32>, rows: usize, ones: usize) {
    targets.clear();
    targets.extend((0..rows).map(|i| if i < ones { 1.0 } else { 0.0 }));
}
