//! The configuration flags shared by `gan train` and `gan sweep`, and how they combine with a
//! TOML file: defaults, then the file, then the flags.

use anyhow::{Context, Result};
use clap::Args;
use gan::config::{HiddenActivation, OptimizerKind, OutputKind};
use gan::TrainConfig;
use std::fs;
use std::path::PathBuf;

/// Every training hyperparameter a flag can set (all optional: unset ones keep the file's or
/// the default value).
#[derive(Args, Clone, Debug, Default)]
pub struct ConfigFlags {
    /// TOML file with any configuration field (see configs/); flags win over it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Passes over the training digits [default: 20].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Real digits per batch [default: 64].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Digits to learn: all, one digit (3) or a list (3,5) [default: all].
    #[arg(long)]
    pub digits: Option<String>,
    /// Length of the noise vector [default: 100].
    #[arg(long)]
    pub latent: Option<usize>,
    /// Generator hidden sizes, e.g. 256,512; the discriminator gets them mirrored (512,256).
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Hidden activation: leaky-relu or relu [default: leaky-relu].
    #[arg(long)]
    pub activation: Option<HiddenActivation>,
    /// Generator output: tanh ([-1,1] data) or sigmoid ([0,1] data) [default: tanh].
    #[arg(long)]
    pub output: Option<OutputKind>,
    /// adam, rmsprop or sgd [default: adam].
    #[arg(long)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate of both networks [default: 2e-4].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Learning rate of the generator (wins over --lr).
    #[arg(long)]
    pub lr_g: Option<f64>,
    /// Learning rate of the discriminator (wins over --lr).
    #[arg(long)]
    pub lr_d: Option<f64>,
    /// The seed of every random choice [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder with the MNIST IDX files [default: data/mnist].
    #[arg(long)]
    pub data: Option<String>,
    /// Keep a checkpoint every N epochs besides the latest (0: only the latest) [default: 5].
    #[arg(long)]
    pub checkpoint_every: Option<usize>,
    /// Measure FID and the class ratio every N epochs (0: never) [default: 0].
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Train on only the first N selected digits (0: all), for quick trials [default: 0].
    #[arg(long)]
    pub limit: Option<usize>,
}

impl ConfigFlags {
    /// The configuration: `base` (or the `--config` file when given), overridden by the flags,
    /// validated.
    pub fn resolve(&self, base: TrainConfig) -> Result<TrainConfig> {
        let mut c = match &self.config {
            Some(path) => {
                let text = fs::read_to_string(path)
                    .with_context(|| format!("cannot read --config {}", path.display()))?;
                TrainConfig::from_toml(&text)
                    .map_err(|e| anyhow::anyhow!("--config {}: {e}", path.display()))?
            }
            None => base,
        };
        macro_rules! set {
            ($($field:ident <- $flag:expr),+) => { $(if let Some(v) = $flag.clone() { c.$field = v; })+ };
        }
        set!(epochs <- self.epochs, batch <- self.batch, digits <- self.digits,
             latent <- self.latent, activation <- self.activation, output <- self.output,
             optimizer <- self.optimizer, seed <- self.seed, data_dir <- self.data,
             lr_g <- self.lr, lr_d <- self.lr, lr_g <- self.lr_g, lr_d <- self.lr_d,
             checkpoint_every <- self.checkpoint_every, eval_every <- self.eval_every,
             limit <- self.limit);
        if let Some(h) = &self.hidden {
            c.g_hidden = h.clone();
            c.d_hidden = h.iter().rev().copied().collect();
        }
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_base_and_hidden_sizes_are_mirrored() {
        let flags = ConfigFlags {
            lr: Some(1e-3),
            lr_g: Some(5e-4),
            hidden: Some(vec![128, 256]),
            ..ConfigFlags::default()
        };
        let base = TrainConfig {
            batch: 32,
            ..TrainConfig::default()
        };
        let c = flags.resolve(base).unwrap();
        assert_eq!((c.lr_g, c.lr_d, c.batch), (5e-4, 1e-3, 32));
        assert_eq!((c.g_hidden, c.d_hidden), (vec![128, 256], vec![256, 128]));
    }

    #[test]
    fn bad_values_are_refused_with_the_field_name() {
        let flags = ConfigFlags {
            lr: Some(0.0),
            ..ConfigFlags::default()
        };
        let err = flags.resolve(TrainConfig::default()).unwrap_err();
        assert!(err.to_string().contains("learning rate"), "{err}");
    }
}
