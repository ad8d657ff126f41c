//! Class labels as network inputs: one-hot rows `[n, 10]` (concatenated to the noise or to the
//! pixels) and one-hot planes `[n, 10, 28, 28]` (concatenated to the image channels), as
//! `F.one_hot(y, 10)` and its broadcast to the image size would give in PyTorch.

use crate::error::{GanError, Result};
use autograd::nn::Init;
use autograd::{Graph, ParamId, ParamStore, Var};
use mnist_idx::PIXELS;
use rand::Rng;

/// Classes a label can take.
pub const CLASSES: usize = 10;

/// The labels a conditional network needs, or an error naming the network.
pub(crate) fn required<'a>(labels: Option<&'a [u8]>, n: usize, who: &str) -> Result<&'a [u8]> {
    match labels {
        Some(l) if l.len() == n && l.iter().all(|&d| usize::from(d) < CLASSES) => Ok(l),
        Some(l) => Err(GanError::InvalidInput(format!(
            "{who}: {} labels for {n} rows, or a label above 9",
            l.len()
        ))),
        None => Err(GanError::InvalidInput(format!(
            "{who} is class-conditional: it needs a digit for every row"
        ))),
    }
}

/// One-hot rows `[n, 10]` as a constant of `g`.
pub(crate) fn one_hot(g: &mut Graph<'_>, labels: &[u8]) -> Result<Var> {
    let mut data = vec![0.0f32; labels.len() * CLASSES];
    for (row, &d) in data.chunks_exact_mut(CLASSES).zip(labels) {
        row[usize::from(d)] = 1.0;
    }
    Ok(g.constant_from(&[labels.len(), CLASSES], &data)?)
}

/// One-hot planes `[n, 10, 28, 28]`: plane `d` of row `i` is all ones when `labels[i] == d`.
pub(crate) fn one_hot_planes(g: &mut Graph<'_>, labels: &[u8]) -> Result<Var> {
    let mut data = vec![0.0f32; labels.len() * CLASSES * PIXELS];
    for (row, &d) in data.chunks_exact_mut(CLASSES * PIXELS).zip(labels) {
        let d = usize::from(d);
        row[d * PIXELS..(d + 1) * PIXELS].fill(1.0);
    }
    Ok(g.constant_from(&[labels.len(), CLASSES, 28, 28], &data)?)
}

/// A projection discriminator's class term (Miyato & Koyama 2018): `⟨embed(y), φ(x)⟩` per row,
/// added to the unconditional logit `ψ(φ(x))`. The embedding is `{module}.weight` `[10, f]`,
/// as PyTorch's `nn.Embedding(10, f)` holds it, initialised U(±1/√f) so that the term starts
/// as small as the logit.
#[derive(Debug, Clone)]
pub struct Projection {
    embed: ParamId,
}

impl Projection {
    /// Registers `{module}.weight` `[10, features]` in `store`.
    pub fn new(
        store: &mut ParamStore,
        module: &str,
        features: usize,
        rng: &mut impl Rng,
    ) -> Result<Projection> {
        let weight = Init::PyTorchDefault.weight(&[CLASSES, features], features, rng);
        let embed = store.add(format!("{module}.weight"), weight)?;
        Ok(Projection { embed })
    }

    /// The embedding parameter.
    pub fn param(&self) -> ParamId {
        self.embed
    }

    /// `⟨embed(labels[i]), phi[i]⟩` as `[n, 1]`, for the features `phi` `[n, f]`.
    pub fn term(&self, g: &mut Graph<'_>, phi: Var, labels: &[u8]) -> Result<Var> {
        let e = g.param(self.embed);
        projection_term(g, e, phi, labels)
    }
}

/// `⟨e[labels[i]], phi[i]⟩` as `[n, 1]` for an embedding `e` `[10, f]` and features `phi`
/// `[n, f]`: the rows of `e` picked by a one-hot product, so the gradient reaches both.
fn projection_term(g: &mut Graph<'_>, e: Var, phi: Var, labels: &[u8]) -> Result<Var> {
    {
        let n = g.shape(phi)?[0];
        let y = one_hot(g, labels)?;
        let rows = g.matmul(y, e)?;
        let products = g.mul(rows, phi)?;
        let sums = g.sum_axis(products, 1)?;
        Ok(g.reshape(sums, &[n, 1])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::Tensor;

    #[test]
    fn the_projection_term_picks_the_class_row_and_has_the_right_gradients() {
        let e =
            Tensor::from_vec(&[10, 3], (0..30).map(|i| (i as f32 * 0.7).sin()).collect()).unwrap();
        let phi =
            Tensor::from_vec(&[4, 3], (0..12).map(|i| (i as f32 * 1.3).cos()).collect()).unwrap();
        let labels = [2u8, 7, 2, 9];
        let mut params = ParamStore::new();
        let ei = params.add("e", e.clone()).unwrap();
        let pi = params.add("phi", phi.clone()).unwrap();
        let mut pool = autograd::BufferPool::new();
        let mut g = Graph::new(&params, &mut pool);
        let (ev, pv) = (g.param(ei), g.param(pi));
        let t = projection_term(&mut g, ev, pv, &labels).unwrap();
        let got = g.value(t).data().to_vec();
        for (i, &d) in labels.iter().enumerate() {
            let want: f32 = (0..3)
                .map(|k| e.data()[usize::from(d) * 3 + k] * phi.data()[i * 3 + k])
                .sum();
            assert!(
                (got[i] - want).abs() < 1e-6,
                "row {i}: {} vs {want}",
                got[i]
            );
        }
        let err = autograd::gradcheck(&[e, phi], |g, v| {
            let t = projection_term(g, v[0], v[1], &labels).map_err(|e| match e {
                crate::GanError::Engine(e) => e,
                other => autograd::Error::InvalidArgument {
                    op: "projection",
                    reason: other.to_string(),
                },
            })?;
            let sq = g.square(t)?;
            g.sum(sq)
        });
        assert!(err.is_ok(), "{err:?}");
    }
}
