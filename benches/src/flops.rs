//! FLOP counts of a GAN training step, counting matrix products only: `2·M·N·K` for each product
//! of an `M×K` by a `K×N` matrix, forward and the backward products that actually run.
//! Element-wise work (activations, batch norm, biases, the loss, Adam) is left out: it is a few
//! percent of the products' count for these models.
//!
//! A layer that does `m` multiply-adds per sample in its forward product (`in·out` for a linear
//! layer, `Cout·Ho·Wo·Cin·k²` for a convolution, `Cin·H·W·Cout·k²` for a transposed convolution
//! on an `H×W` input) does `m` more for its weight gradient and `m` more for its input gradient;
//! the engine skips a gradient nobody needs (a constant input, a frozen weight).
//!
//! One step as `gan::train::Trainer::train_step` and `dcgan::Dcgan::step` run it, batch `B`,
//! `G` and `D` the forward multiply-adds per sample of all of the generator's and the
//! discriminator's products, `G₁` and `D₁` those of their first layer:
//!
//! | part | multiply-adds |
//! | --- | --- |
//! | `G(z)` once, forward | `B·G` |
//! | D on real and fake (`2B` samples), forward | `2B·D` |
//! | ... its weight gradients | `2B·D` |
//! | ... its input gradients, but not the first layer's (the images are constants) | `2B·(D − D₁)` |
//! | D on `G(z)` for G's update (frozen), forward | `B·D` |
//! | ... input gradients down to `G(z)` (no weight gradients) | `B·D` |
//! | G's weight gradients | `B·G` |
//! | G's input gradients, but not the first layer's (`z` is a constant) | `B·(G − G₁)` |
//!
//! In all `FLOPs = 2·B·(3·G − G₁ + 8·D − 2·D₁)`.

/// Forward multiply-adds per sample of a linear layer `inputs → outputs`.
pub fn linear(inputs: usize, outputs: usize) -> u64 {
    (inputs * outputs) as u64
}

/// Forward multiply-adds per sample of a convolution `cin → cout` with a `k×k` kernel producing
/// an `out_h × out_w` map: `Cout·Ho·Wo·Cin·k²`.
pub fn conv2d(cin: usize, cout: usize, k: usize, out_hw: (usize, usize)) -> u64 {
    (cout * out_hw.0 * out_hw.1 * cin * k * k) as u64
}

/// Forward multiply-adds per sample of a transposed convolution `cin → cout` with a `k×k`
/// kernel on an `in_h × in_w` input: `Cin·H·W·Cout·k²` (the adjoint of a convolution).
pub fn conv_transpose2d(cin: usize, cout: usize, k: usize, in_hw: (usize, usize)) -> u64 {
    (cin * in_hw.0 * in_hw.1 * cout * k * k) as u64
}

/// The layers of an MLP with the given sizes (`inputs, hidden…, outputs`), forward multiply-adds
/// per sample, in order.
pub fn mlp(sizes: &[usize]) -> Vec<u64> {
    sizes.windows(2).map(|w| linear(w[0], w[1])).collect()
}

/// FLOPs of one GAN training step at batch `batch`: `2·B·(3·G − G₁ + 8·D − 2·D₁)` (see the module
/// docs), from the forward multiply-adds per sample of each product layer of the generator and
/// the discriminator, first layer first.
pub fn gan_step(batch: usize, generator: &[u64], discriminator: &[u64]) -> u64 {
    let (g, d) = (
        generator.iter().sum::<u64>(),
        discriminator.iter().sum::<u64>(),
    );
    let g1 = generator.first().copied().unwrap_or(0);
    let d1 = discriminator.first().copied().unwrap_or(0);
    2 * batch as u64 * (3 * g - g1 + 8 * d - 2 * d1)
}

/// FLOPs of one step of the reference MLP GAN of `config` (latent → g_hidden → 784,
/// 784 → d_hidden → 1).
pub fn mlp_gan_step(config: &gan::config::TrainConfig) -> u64 {
    let pixels = mnist_idx::PIXELS;
    let g: Vec<usize> = std::iter::once(config.latent)
        .chain(config.g_hidden.iter().copied())
        .chain([pixels])
        .collect();
    let d: Vec<usize> = std::iter::once(pixels)
        .chain(config.d_hidden.iter().copied())
        .chain([1])
        .collect();
    gan_step(config.batch, &mlp(&g), &mlp(&d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_mlp_step_by_hand() {
        // G 100→256→512→784: G = 25,600 + 131,072 + 401,408 = 558,080, G₁ = 25,600.
        // D 784→512→256→1: D = 401,408 + 131,072 + 256 = 532,736, D₁ = 401,408.
        // 3G − G₁ + 8D − 2D₁ = 1,674,240 − 25,600 + 4,261,888 − 802,816 = 5,107,712.
        let config = gan::config::TrainConfig::default();
        assert_eq!(config.batch, 64);
        assert_eq!(mlp_gan_step(&config), 2 * 64 * 5_107_712);
    }

    #[test]
    fn layer_counts() {
        // DCGAN's ConvTranspose2d 128→64 on 7×7 and its mirror Conv2d 64→128 to 7×7.
        assert_eq!(conv_transpose2d(128, 64, 4, (7, 7)), 6_422_528);
        assert_eq!(conv2d(64, 128, 4, (7, 7)), 6_422_528);
        assert_eq!(mlp(&[3, 4, 2]), [12, 8]);
        assert_eq!(gan_step(1, &[], &[]), 0);
    }
}
