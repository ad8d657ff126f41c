//! The configuration flags shared by `gan train` and `gan sweep`, and how they combine with a
//! TOML file: defaults, then the file, then the flags. The help shows each flag's default,
//! taken from `TrainConfig::default()` ([`with_defaults`]); enum flags admit exactly the names
//! the library derives for them ([`enum_parser`]).

use anyhow::{Context, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Command};
use gan::config::{Conditioning, HiddenActivation, ModelKind, OptimizerKind, OutputKind};
use gan::loss::GanLoss;
use gan::TrainConfig;
use std::fs;
use std::path::PathBuf;
use std::str::FromStr;
use strum::VariantNames;

/// Every training hyperparameter a flag can set (all optional: unset ones keep the file's or
/// the default value).
#[derive(Args, Clone, Debug, Default)]
pub struct ConfigFlags {
    /// TOML file with any configuration field (see configs/); flags win over it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Passes over the training digits.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Real digits per batch.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Digits to learn: all, one digit (3) or a list (3,5).
    #[arg(long)]
    pub digits: Option<String>,
    /// Length of the noise vector.
    #[arg(long)]
    pub latent: Option<usize>,
    /// Generator hidden sizes, e.g. 256,512; the discriminator gets them mirrored (512,256).
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// The generator and discriminator architecture.
    #[arg(long, value_parser = enum_parser::<ModelKind>())]
    pub model: Option<ModelKind>,
    /// The GAN loss (wasserstein: five critic steps per generator step, weights clipped to
    /// ±0.01; configs/wgan.toml has the paper's RMSprop 5e-5).
    #[arg(long, value_parser = enum_parser::<GanLoss>())]
    pub loss: Option<GanLoss>,
    /// Class-conditional networks: both read the digit, and `gan sample --digit 7` draws sevens.
    #[arg(long)]
    pub conditional: bool,
    /// How a conditional discriminator reads the digit.
    #[arg(long, value_parser = enum_parser::<Conditioning>())]
    pub conditioning: Option<Conditioning>,
    /// Keep an exponential moving average of the generator's weights with this decay (e.g.
    /// 0.999) and draw every image with it (0: off).
    #[arg(long)]
    pub ema: Option<f64>,
    /// Spectral normalisation of the discriminator's weights.
    #[arg(long)]
    pub spectral_norm: bool,
    /// Append to the discriminator's last features how varied each group of this many samples
    /// is (minibatch standard deviation, Karras et al. 2018; 4 is the paper's; 0: off).
    #[arg(long, value_name = "GROUP")]
    pub minibatch_stddev: Option<usize>,
    /// Add the mode-seeking regulariser (Mao et al. 2019) with this weight to the generator's
    /// loss: pairs of noise vectors that draw alike digits are penalised (1 is the paper's; 0:
    /// off).
    #[arg(long, value_name = "LAMBDA")]
    pub mode_seeking: Option<f64>,
    /// Hidden activation.
    #[arg(long, value_parser = enum_parser::<HiddenActivation>())]
    pub activation: Option<HiddenActivation>,
    /// Generator output: tanh ([-1,1] data) or sigmoid ([0,1] data).
    #[arg(long, value_parser = enum_parser::<OutputKind>())]
    pub output: Option<OutputKind>,
    /// Optimizer of both networks.
    #[arg(long, value_parser = enum_parser::<OptimizerKind>())]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate of both networks.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Learning rate of the generator (wins over --lr).
    #[arg(long)]
    pub lr_g: Option<f64>,
    /// Learning rate of the discriminator (wins over --lr).
    #[arg(long)]
    pub lr_d: Option<f64>,
    /// The seed of every random choice.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder with the MNIST IDX files.
    #[arg(long)]
    pub data: Option<String>,
    /// Keep a checkpoint every N epochs besides the latest (0: only the latest).
    #[arg(long)]
    pub checkpoint_every: Option<usize>,
    /// Measure FID and the class ratio every N epochs (0: never).
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Train on only the first N selected digits (0: all), for quick trials.
    #[arg(long)]
    pub limit: Option<usize>,
}

/// A parser admitting exactly the names the library derives for `T` (kebab-case): `--help`
/// lists them, and a wrong value gets clap's error listing them.
pub fn enum_parser<T>() -> impl TypedValueParser<Value = T>
where
    T: VariantNames + FromStr + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    PossibleValuesParser::new(T::VARIANTS).try_map(|name| name.parse::<T>())
}

/// Each configuration flag (by its argument id) with its default from `TrainConfig::default()`,
/// as the help shows it.
fn defaults() -> Vec<(&'static str, String)> {
    let d = TrainConfig::default();
    let sizes = |v: &[usize]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    vec![
        ("epochs", d.epochs.to_string()),
        ("batch", d.batch.to_string()),
        ("digits", d.digits.clone()),
        ("latent", d.latent.to_string()),
        ("hidden", sizes(&d.g_hidden)),
        ("model", d.model.to_string()),
        ("loss", d.loss.to_string()),
        ("conditioning", d.conditioning.to_string()),
        ("ema", d.ema.to_string()),
        ("activation", d.activation.to_string()),
        ("output", d.output.to_string()),
        ("optimizer", d.optimizer.to_string()),
        ("lr", format!("{:e}", d.lr_g)),
        ("lr_g", format!("{:e}", d.lr_g)),
        ("lr_d", format!("{:e}", d.lr_d)),
        ("seed", d.seed.to_string()),
        ("data", d.data_dir.clone()),
        ("checkpoint_every", d.checkpoint_every.to_string()),
        ("eval_every", d.eval_every.to_string()),
        ("limit", d.limit.to_string()),
    ]
}

/// `cmd` with ` [default: X]` appended to the help of each configuration flag it has but
/// `except`, X from `TrainConfig::default()` (the flags themselves stay unset, so they never
/// override a `--config` file).
pub fn with_defaults(cmd: Command, except: &[&str]) -> Command {
    defaults().into_iter().fold(cmd, |cmd, (id, value)| {
        if except.contains(&id) || !cmd.get_arguments().any(|a| a.get_id() == id) {
            return cmd;
        }
        cmd.mut_arg(id, |arg| {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let long = arg.get_long_help().map(ToString::to_string);
            let arg = arg.help(format!("{help} [default: {value}]"));
            match long {
                Some(long) => arg.long_help(format!("{long}\n\n[default: {value}]")),
                None => arg,
            }
        })
    })
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
             latent <- self.latent, model <- self.model, loss <- self.loss,
             activation <- self.activation, output <- self.output,
             optimizer <- self.optimizer, seed <- self.seed, data_dir <- self.data,
             lr_g <- self.lr, lr_d <- self.lr, lr_g <- self.lr_g, lr_d <- self.lr_d,
             checkpoint_every <- self.checkpoint_every, eval_every <- self.eval_every,
             limit <- self.limit, conditioning <- self.conditioning, ema <- self.ema,
             minibatch_stddev <- self.minibatch_stddev, mode_seeking <- self.mode_seeking);
        if self.conditional {
            c.conditional = true;
        }
        if self.spectral_norm {
            c.spectral_norm = true;
        }
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
