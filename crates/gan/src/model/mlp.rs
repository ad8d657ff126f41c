//! The MLP generator and discriminator (optionally class-conditional: the one-hot label is
//! concatenated to the noise, and to the pixels).
//!
//! Both are `nn.Sequential`-shaped: linear layers at even indices, activations at odd ones, so
//! parameter names match a PyTorch module holding `self.layers = nn.Sequential(...)`:
//! `generator.layers.0.weight` `[256, 100]`, `generator.layers.2.weight`, ... (`[out, in]` as
//! `nn.Linear` keeps them).

use super::labels::{self, Projection};
use super::{spectral_buffers, spectral_buffers_mut, BatchCoupling, Network, IMAGE_PIXELS};
use crate::config::{HiddenActivation, OutputKind, TrainConfig};
use crate::error::Result;
use autograd::nn::{Activation, Init, Linear, Module, SpectralNorm};
use autograd::{Graph, ParamId, ParamStore, Tensor, Var};
use rand::Rng;

/// A multi-layer perceptron: linear layers with one activation between them and an optional
/// activation on the output.
#[derive(Debug, Clone)]
pub struct Mlp {
    prefix: String,
    layers: Vec<Linear>,
    hidden: Activation,
    output: Option<Activation>,
    conditional: bool,
    /// One per layer when the weights are spectrally normalised.
    spectral: Vec<SpectralNorm>,
    /// A conditional discriminator's projection term (else the label is concatenated).
    projection: Option<Projection>,
    /// The group size of a minibatch standard-deviation feature appended to the last layer's
    /// inputs.
    stddev_group: Option<usize>,
}

impl Mlp {
    /// Registers the layers `{prefix}.layers.{2i}` for the sizes `inputs → hidden… → outputs`,
    /// the last one with `extra_last_inputs` more inputs (features appended before it).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &mut ParamStore,
        prefix: &str,
        inputs: usize,
        hidden_sizes: &[usize],
        outputs: usize,
        extra_last_inputs: usize,
        hidden: Activation,
        output: Option<Activation>,
        rng: &mut impl Rng,
    ) -> Result<Mlp> {
        let sizes: Vec<usize> = std::iter::once(inputs)
            .chain(hidden_sizes.iter().copied())
            .chain([outputs])
            .collect();
        let mut layers = Vec::with_capacity(sizes.len() - 1);
        let last = sizes.len() - 2;
        for (i, pair) in sizes.windows(2).enumerate() {
            let name = format!("{prefix}.layers.{}", 2 * i);
            let extra = if i == last { extra_last_inputs } else { 0 };
            layers.push(Linear::new(
                store,
                &name,
                pair[0] + extra,
                pair[1],
                true,
                Init::PyTorchDefault,
                rng,
            )?);
        }
        Ok(Mlp {
            prefix: prefix.to_string(),
            layers,
            hidden,
            output,
            conditional: false,
            spectral: Vec::new(),
            projection: None,
            stddev_group: None,
        })
    }

    /// The generator of a configuration: latent → g_hidden → 784, tanh or sigmoid output.
    pub fn generator(store: &mut ParamStore, c: &TrainConfig, rng: &mut impl Rng) -> Result<Mlp> {
        let output = match c.output {
            OutputKind::Tanh => Activation::Tanh,
            OutputKind::Sigmoid => Activation::Sigmoid,
        };
        let hidden = hidden_activation(c);
        let mut mlp = Mlp::new(
            store,
            "generator",
            c.latent + c.label_inputs(),
            &c.g_hidden,
            IMAGE_PIXELS,
            0,
            hidden,
            Some(output),
            rng,
        )?;
        mlp.conditional = c.conditional;
        Ok(mlp)
    }

    /// The discriminator of a configuration: 784 → d_hidden → one logit.
    pub fn discriminator(
        store: &mut ParamStore,
        c: &TrainConfig,
        rng: &mut impl Rng,
    ) -> Result<Mlp> {
        let hidden = hidden_activation(c);
        let mut mlp = Mlp::new(
            store,
            "discriminator",
            IMAGE_PIXELS + c.discriminator_label_inputs(),
            &c.d_hidden,
            1,
            c.stddev_features(),
            hidden,
            None,
            rng,
        )?;
        mlp.conditional = c.conditional;
        mlp.stddev_group = (c.minibatch_stddev > 0).then_some(c.minibatch_stddev);
        if c.projects() {
            let last = c.d_hidden.last().copied().unwrap_or(IMAGE_PIXELS);
            let features = last + c.stddev_features();
            mlp.projection = Some(Projection::new(
                store,
                "discriminator.embed",
                features,
                rng,
            )?);
        }
        if c.spectral_norm {
            for (i, layer) in mlp.layers.iter().enumerate() {
                let module = format!("discriminator.layers.{}", 2 * i);
                mlp.spectral
                    .push(SpectralNorm::new(store, layer.weight, &module, rng)?);
            }
        }
        Ok(mlp)
    }

    /// The name prefix of this network's parameters.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Input features.
    pub fn inputs(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inputs)
    }

    /// The linear layers, in order.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }
}

fn hidden_activation(c: &TrainConfig) -> Activation {
    match c.activation {
        HiddenActivation::LeakyRelu => Activation::LeakyRelu(c.leaky_slope as f32),
        HiddenActivation::Relu => Activation::Relu,
    }
}

impl Network for Mlp {
    fn forward(&mut self, g: &mut Graph<'_>, x: Var, labels: Option<&[u8]>) -> Result<Var> {
        let mut h = x;
        let n = g.shape(x)?[0];
        let labels = match self.conditional {
            true => Some(labels::required(labels, n, &self.prefix)?),
            false => None,
        };
        if let (Some(y), None) = (labels, &self.projection) {
            let y = labels::one_hot(g, y)?;
            h = g.concat(&[h, y], 1)?;
        }
        let last = self.layers.len() - 1;
        let mut features = h;
        for (i, layer) in self.layers.iter_mut().enumerate() {
            if i == last {
                if let Some(group) = self.stddev_group {
                    let s = g.minibatch_stddev(h, group)?;
                    h = g.concat(&[h, s], 1)?;
                }
                features = h;
            }
            // Each activation is fused into its linear layer (one op, no extra pass).
            let act = if i < last {
                Some(self.hidden)
            } else {
                self.output
            };
            h = match (self.spectral.get_mut(i), act) {
                (None, Some(act)) => layer.forward_act(g, h, act)?,
                (None, None) => layer.forward(g, h)?,
                (Some(sn), act) => {
                    let w = sn.weight(g)?;
                    let b = layer.bias.map(|b| g.param(b));
                    match act {
                        Some(act) => g.linear_act(h, w, b, act)?,
                        None => g.linear(h, w, b)?,
                    }
                }
            };
        }
        if let (Some(y), Some(p)) = (labels, &self.projection) {
            let term = p.term(g, features, y)?;
            h = g.add(h, term)?;
        }
        Ok(h)
    }

    fn params(&self) -> Vec<ParamId> {
        let layers = self.layers.iter().flat_map(|l| l.params());
        layers
            .chain(self.projection.as_ref().map(Projection::param))
            .collect()
    }

    fn conditional(&self) -> bool {
        self.conditional
    }

    fn batch_coupling(&self) -> BatchCoupling {
        // Each sample's stddev feature depends on its group of consecutive samples.
        match self.stddev_group {
            Some(group) => BatchCoupling::Groups(group),
            None => BatchCoupling::Independent,
        }
    }

    fn buffers(&self) -> Vec<(String, &Tensor)> {
        spectral_buffers(&self.spectral)
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        spectral_buffers_mut(&mut self.spectral)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn reference_shapes_and_pytorch_names() {
        let mut store = ParamStore::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let c = TrainConfig::default();
        let g = Mlp::generator(&mut store, &c, &mut rng).unwrap();
        let d = Mlp::discriminator(&mut store, &c, &mut rng).unwrap();
        let w0 = store.find("generator.layers.0.weight").unwrap();
        assert_eq!(store.get(w0).shape(), &[256, 100]);
        let w4 = store.find("generator.layers.4.weight").unwrap();
        assert_eq!(store.get(w4).shape(), &[784, 512]);
        let d4 = store.find("discriminator.layers.4.bias").unwrap();
        assert_eq!(store.get(d4).shape(), &[1]);
        assert_eq!(g.params().len() + d.params().len(), store.len());
        // 100·256 + 256 + 256·512 + 512 + 512·784 + 784 = 559,632 generator parameters.
        let g_total: usize = g.params().iter().map(|&id| store.get(id).len()).sum();
        assert_eq!(g_total, 559_632);
    }
}
