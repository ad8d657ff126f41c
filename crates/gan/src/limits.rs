//! The named limits that every size a user or a file can set is checked against before anything
//! is allocated: flags and TOML files (through [`TrainConfig::validate`]), and checkpoints (their
//! configuration is validated, and their file size is bounded, before they are read).
//!
//! Each limit is far above what the reference configuration uses, and low enough that a typo
//! (`--hidden 100000000`, `grid = 100000`) is refused at once with a message naming the limit
//! instead of aborting on a failed allocation or running for minutes at gigabytes. A user who
//! really needs more raises a limit through its environment variable, e.g.
//! `GAN_MAX_PARAMETERS=200000000 gan train ...`.
//!
//! Integers that TOML cannot hold (2^63 and above: TOML integers are signed 64-bit) are refused
//! rather than stored some other way, so `config.toml` stays plain TOML and always round-trips.
//!
//! [`TrainConfig::validate`]: crate::TrainConfig::validate

use crate::config::{ModelKind, TrainConfig};
use crate::error::{GanError, Result};
use crate::model::IMAGE_PIXELS;

/// One named upper bound, raisable through an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What it bounds, as the messages say it.
    pub what: &'static str,
    /// The bound when the environment variable is not set.
    pub default: u64,
    /// The environment variable that raises (or lowers) it.
    pub env: &'static str,
}

/// Passes over the data: a million epochs of even 100 digits would run for weeks.
pub const EPOCHS: Limit = Limit {
    what: "epochs",
    default: 1_000_000,
    env: "GAN_MAX_EPOCHS",
};

/// Width of one layer (and the latent length): 65,536 is 80 times the widest MNIST layer.
pub const WIDTH: Limit = Limit {
    what: "a layer width (latent or hidden size)",
    default: 65_536,
    env: "GAN_MAX_WIDTH",
};

/// Hidden layers of one network.
pub const LAYERS: Limit = Limit {
    what: "hidden layers of one network",
    default: 64,
    env: "GAN_MAX_LAYERS",
};

/// Parameters of both networks together. Training keeps four floats per parameter (the value,
/// its gradient, Adam's two moments): 50 million parameters are 800 MB, 35 times the reference
/// configuration's 1.5 million.
pub const PARAMETERS: Limit = Limit {
    what: "parameters of both networks",
    default: 50_000_000,
    env: "GAN_MAX_PARAMETERS",
};

/// Activations of one batch through both networks (batch × the sum of every layer's width):
/// 50 million floats are 200 MB per copy the step keeps (it keeps a few).
pub const ACTIVATIONS: Limit = Limit {
    what: "activations of one batch (batch × sum of layer widths)",
    default: 50_000_000,
    env: "GAN_MAX_ACTIVATIONS",
};

/// The side of the sample grid (grid × grid digits per epoch image).
pub const GRID: Limit = Limit {
    what: "grid (digits per side of the sample image)",
    default: 32,
    env: "GAN_MAX_GRID",
};

/// The largest integer TOML can store (TOML integers are signed 64-bit). Not raisable.
pub const TOML_INTEGER_MAX: u64 = i64::MAX as u64;

impl Limit {
    /// The bound in force: the environment variable's value when it is set to a number, else
    /// the default.
    pub fn max(&self) -> u64 {
        std::env::var(self.env)
            .ok()
            .and_then(|v| v.trim().replace('_', "").parse().ok())
            .unwrap_or(self.default)
    }

    /// An error naming `field`, the value, the limit and how to raise it, when `value` is above
    /// the bound.
    pub fn check(&self, field: &str, value: u64) -> Result<()> {
        let max = self.max();
        if value <= max {
            return Ok(());
        }
        Err(GanError::Config(format!(
            "{field} = {value} is above the limit of {max} for {} (a typo? if you really need more, \
             set {}={value} in the environment)",
            self.what, self.env
        )))
    }
}

/// Activation widths per sample of the generator (noise to pixels) and the discriminator
/// (pixels to one logit) of `config`, input and output included (for a DCGAN, the feature maps'
/// sizes).
fn layer_widths(config: &TrainConfig) -> [Vec<usize>; 2] {
    let d_labels = if config.projects() {
        0
    } else {
        config.label_inputs()
    };
    match config.model {
        ModelKind::Mlp => {
            let mut g = vec![config.latent.saturating_add(config.label_inputs())];
            g.extend(&config.g_hidden);
            g.push(IMAGE_PIXELS);
            let mut d = vec![IMAGE_PIXELS + d_labels];
            d.extend(&config.d_hidden);
            d.push(1);
            [g, d]
        }
        ModelKind::Dcgan => [
            vec![
                config.latent.saturating_add(config.label_inputs()),
                6272,
                64 * 14 * 14,
                IMAGE_PIXELS,
            ],
            vec![IMAGE_PIXELS * (1 + d_labels), 64 * 14 * 14, 6272, 1],
        ],
    }
}

/// Parameters of both networks of `config` (weights, biases, batch-norm scales and shifts, a
/// projection embedding), or `None` when the count does not fit a `u64`.
pub fn parameter_count(config: &TrainConfig) -> Option<u64> {
    let features = match config.model {
        ModelKind::Mlp => *config.d_hidden.last().unwrap_or(&IMAGE_PIXELS) as u64,
        ModelKind::Dcgan => 6272,
    } + config.stddev_features() as u64;
    let embedding = if config.projects() { 10 * features } else { 0 };
    let networks = match config.model {
        ModelKind::Mlp => {
            let mut total = 0u64;
            for widths in layer_widths(config) {
                for pair in widths.windows(2) {
                    let (inputs, outputs) = (pair[0] as u64, pair[1] as u64);
                    let layer = inputs.checked_add(1)?.checked_mul(outputs)?;
                    total = total.checked_add(layer)?;
                }
            }
            // The last layer's weight for the minibatch standard-deviation feature.
            total.checked_add(config.stddev_features() as u64)?
        }
        ModelKind::Dcgan => {
            let latent = (config.latent.checked_add(config.label_inputs())?) as u64;
            let d_channels = 1 + if config.projects() {
                0
            } else {
                config.label_inputs() as u64
            };
            let g = (latent + 1).checked_mul(6272)?
                + 2 * 6272
                + (128 * 16 + 1) * 64
                + 2 * 64
                + (64 * 16 + 1);
            let fc = 6273 + config.stddev_features() as u64;
            let d = (d_channels * 16 + 1) * 64 + (64 * 16 + 1) * 128 + 2 * 128 + fc;
            g.checked_add(d)?
        }
    };
    networks.checked_add(embedding)
}

/// Checks every size of `config` against the limits above (called by
/// [`TrainConfig::validate`](crate::TrainConfig::validate), so before any network, batch or grid
/// is allocated).
pub fn check_sizes(config: &TrainConfig) -> Result<()> {
    EPOCHS.check("epochs", config.epochs as u64)?;
    WIDTH.check("latent", config.latent as u64)?;
    GRID.check("grid", config.grid as u64)?;
    for (name, sizes) in [
        ("g_hidden", &config.g_hidden),
        ("d_hidden", &config.d_hidden),
    ] {
        LAYERS.check(&format!("{name} (number of layers)"), sizes.len() as u64)?;
        for &w in sizes.iter() {
            WIDTH.check(name, w as u64)?;
        }
    }
    // With every width and the layer count bounded, these sums cannot overflow a u64, but
    // they are checked anyway: an overflow is reported as "above the limit".
    let params = parameter_count(config).unwrap_or(u64::MAX);
    PARAMETERS.check("the configuration's parameter count", params)?;
    let width_sum = layer_widths(config)
        .iter()
        .flatten()
        .try_fold(0u64, |s, &w| s.checked_add(w as u64));
    let activations = width_sum
        .and_then(|s| s.checked_mul(config.batch as u64))
        .unwrap_or(u64::MAX);
    ACTIVATIONS.check("batch × layer widths", activations)?;
    Ok(())
}

/// Checks that every integer of `config` fits a TOML integer, naming the field.
pub fn check_toml_integers(config: &TrainConfig) -> Result<()> {
    let fields = [
        ("epochs", config.epochs as u64),
        ("batch", config.batch as u64),
        ("latent", config.latent as u64),
        ("seed", config.seed),
        ("checkpoint_every", config.checkpoint_every as u64),
        ("grid", config.grid as u64),
        ("eval_every", config.eval_every as u64),
        ("limit", config.limit as u64),
    ];
    for (name, value) in fields {
        if value > TOML_INTEGER_MAX {
            return Err(GanError::Config(format!(
                "{name} = {value} does not fit in config.toml (TOML integers go up to \
                 {TOML_INTEGER_MAX} = 2^63 - 1): choose a smaller {name}"
            )));
        }
    }
    Ok(())
}

/// The largest checkpoint file a configuration within the limits can produce, with room to
/// spare: every parameter four times (value, two optimizer moments, the generator's moving
/// average) as f32, plus 64 MB for the header, metadata and buffers. Files above it are refused
/// before they are read.
pub fn max_checkpoint_bytes() -> u64 {
    PARAMETERS
        .max()
        .saturating_mul(4 * 4)
        .saturating_add(64 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_configuration_is_well_within_every_limit() {
        let c = TrainConfig::default();
        check_sizes(&c).unwrap();
        assert_eq!(
            parameter_count(&c),
            Some(101 * 256 + 257 * 512 + 513 * 784 + 785 * 512 + 513 * 256 + 257)
        );
    }

    #[test]
    fn huge_sizes_name_the_limit_and_how_to_raise_it() {
        let c = TrainConfig {
            g_hidden: vec![100_000_000],
            ..TrainConfig::default()
        };
        let err = check_sizes(&c).unwrap_err().to_string();
        assert!(
            err.contains("g_hidden = 100000000") && err.contains("GAN_MAX_WIDTH"),
            "{err}"
        );
        let c = TrainConfig {
            g_hidden: vec![60_000, 60_000],
            ..TrainConfig::default()
        };
        let err = check_sizes(&c).unwrap_err().to_string();
        assert!(err.contains("GAN_MAX_PARAMETERS"), "{err}");
        let c = TrainConfig {
            g_hidden: vec![1; 13_000_000],
            ..TrainConfig::default()
        };
        let err = check_sizes(&c).unwrap_err().to_string();
        assert!(err.contains("number of layers"), "{err}");
    }

    #[test]
    fn integers_beyond_toml_are_refused_naming_the_field() {
        let c = TrainConfig {
            seed: u64::MAX,
            ..TrainConfig::default()
        };
        let err = check_toml_integers(&c).unwrap_err().to_string();
        assert!(err.contains("seed = 18446744073709551615"), "{err}");
        let ok = TrainConfig {
            seed: TOML_INTEGER_MAX,
            ..TrainConfig::default()
        };
        check_toml_integers(&ok).unwrap();
        assert_eq!(TrainConfig::from_toml(&ok.to_toml()).unwrap(), ok);
    }
}
