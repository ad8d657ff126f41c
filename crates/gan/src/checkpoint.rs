//! Checkpoints in the safetensors format, so a PyTorch user can load our weights.
//!
//! Tensor names: every parameter under its own name (`generator.layers.0.weight`, `[out, in]` as
//! `nn.Linear` keeps it), and each optimizer's state as
//! `optimizer.{generator|discriminator}.{slot}.{parameter name}` with `slot` one of `exp_avg`,
//! `exp_avg_sq` (Adam), `square_avg`, `momentum_buffer` (RMSprop, SGD). The metadata holds the
//! configuration (TOML), the epoch, step and position within the epoch, the optimizers' step
//! counts, the noise stream's position and the metrics so far (JSON).

use crate::epoch::EpochMetrics;
use crate::error::{write_atomic, GanError, Result};
use crate::rng;
use crate::train::{Gan, Position, Trainer};
use autograd::optim::Optimizer;
use autograd::tensor_file::{self, Entry, TensorFile};
use autograd::{ParamStore, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// The format tag written into every checkpoint.
pub const FORMAT: &str = "gan-checkpoint-v1";

/// Everything a checkpoint holds besides tensors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckpointMeta {
    /// Key → value strings (safetensors metadata).
    pub entries: HashMap<String, String>,
}

impl CheckpointMeta {
    /// Sets a value.
    pub fn set(&mut self, key: &str, value: impl ToString) {
        self.entries.insert(key.to_string(), value.to_string());
    }

    /// A value, or an error naming the missing key.
    pub fn get(&self, key: &str, path: &Path) -> Result<&str> {
        self.entries
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| GanError::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("metadata has no '{key}' entry"),
            })
    }

    /// A value parsed as `T`.
    pub fn parse<T: std::str::FromStr>(&self, key: &str, path: &Path) -> Result<T> {
        let text = self.get(key, path)?;
        text.parse().map_err(|_| GanError::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("metadata '{key}' = '{text}' is not a valid value"),
        })
    }
}

fn optimizer_names<'a>(
    which: &str,
    opt: &'a Optimizer,
    params: &ParamStore,
) -> Vec<(String, &'a Tensor)> {
    opt.state()
        .into_iter()
        .map(|(slot, i, t)| {
            (
                format!("optimizer.{which}.{slot}.{}", params.name(opt.params()[i])),
                t,
            )
        })
        .collect()
}

/// Writes the networks (parameters, batch-norm buffers, the generator's average), optimizer
/// states and metadata to `path` atomically.
pub fn save(
    path: &Path,
    gan: &Gan,
    optimizers: &[(&str, &Optimizer)],
    meta: &CheckpointMeta,
) -> Result<()> {
    let params = &gan.params;
    let mut floats: Vec<(String, &Tensor)> = params
        .ids()
        .map(|id| (params.name(id).to_string(), params.get(id)))
        .collect();
    for (which, opt) in optimizers {
        floats.extend(optimizer_names(which, opt, params));
    }
    for net in [&gan.generator, &gan.discriminator] {
        floats.extend(net.buffers());
    }
    if let Some(ema) = &gan.ema {
        for id in gan.generator.params() {
            floats.push((
                format!("{EMA_PREFIX}{}", params.name(id)),
                ema.params.get(id),
            ));
        }
    }
    let mut stats = gan.generator.running_stats();
    stats.extend(gan.discriminator.running_stats());
    let counts: Vec<[i64; 1]> = stats
        .iter()
        .map(|(_, s)| [i64::try_from(s.num_batches_tracked).unwrap_or(i64::MAX)])
        .collect();
    let mut entries: Vec<(String, Entry<'_>)> = floats
        .into_iter()
        .map(|(name, t)| (name, Entry::F32(t)))
        .collect();
    for ((module, s), count) in stats.iter().zip(&counts) {
        entries.push((format!("{module}.running_mean"), Entry::F32(&s.mean)));
        entries.push((format!("{module}.running_var"), Entry::F32(&s.var)));
        entries.push((
            format!("{module}.num_batches_tracked"),
            Entry::I64(&[], count),
        ));
    }
    let mut info = meta.entries.clone();
    info.insert("format".into(), FORMAT.into());
    let encoded =
        tensor_file::encode_entries(&entries, &info).map_err(|e| GanError::Checkpoint {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    write_atomic(path, &encoded)
}

/// The prefix of the generator's averaged weights: `ema.generator.layers.0.weight`, ... (strip
/// it to load them into a PyTorch generator).
pub const EMA_PREFIX: &str = "ema.";

/// A checkpoint read into memory.
pub struct Checkpoint {
    path: std::path::PathBuf,
    bytes: Vec<u8>,
    /// The metadata.
    pub meta: CheckpointMeta,
}

impl Checkpoint {
    /// Reads and checks a checkpoint file.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(crate::error::io_error(path))?;
        let bad = |reason: String| GanError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let entries = TensorFile::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
        if entries.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(bad(format!(
                "not a checkpoint written by gan (expected format {FORMAT})"
            )));
        }
        Ok(Checkpoint {
            path: path.to_path_buf(),
            bytes,
            meta: CheckpointMeta { entries },
        })
    }

    fn tensors(&self) -> Result<TensorFile<'_>> {
        TensorFile::parse(&self.bytes).map_err(|e| self.bad(e))
    }

    fn bad(&self, e: autograd::Error) -> GanError {
        GanError::Checkpoint {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    /// Loads every parameter of `params` by name.
    pub fn load_params(&self, params: &mut ParamStore) -> Result<()> {
        self.tensors()?.load_params(params).map_err(|e| self.bad(e))
    }

    /// Loads the networks of `gan`: parameters, batch-norm buffers and the generator's average
    /// (which must be present when the configuration asks for one).
    pub fn load_gan(&self, gan: &mut Gan) -> Result<()> {
        let file = self.tensors()?;
        file.load_params(&mut gan.params).map_err(|e| self.bad(e))?;
        let nets = [&mut gan.generator, &mut gan.discriminator];
        for net in nets {
            for (module, s) in net.running_stats_mut() {
                let name = |what: &str| format!("{module}.{what}");
                file.read_into(&name("running_mean"), &mut s.mean)
                    .map_err(|e| self.bad(e))?;
                file.read_into(&name("running_var"), &mut s.var)
                    .map_err(|e| self.bad(e))?;
                let count = file
                    .read_i64(&name("num_batches_tracked"), 1)
                    .map_err(|e| self.bad(e))?;
                s.num_batches_tracked = u64::try_from(count[0]).map_err(|_| {
                    self.bad(autograd::Error::TensorFile {
                        reason: format!("{module}.num_batches_tracked is negative"),
                    })
                })?;
            }
        }
        for net in [&mut gan.generator, &mut gan.discriminator] {
            for (name, t) in net.buffers_mut() {
                file.read_into(&name, t).map_err(|e| self.bad(e))?;
            }
        }
        if let Some(ema) = &mut gan.ema {
            for id in gan.generator.params() {
                let name = format!("{EMA_PREFIX}{}", gan.params.name(id));
                file.read_into(&name, ema.params.get_mut(id))
                    .map_err(|e| self.bad(e))?;
            }
        }
        Ok(())
    }

    /// Loads an optimizer's state (saved under `which`) and its step count.
    pub fn load_optimizer(
        &self,
        which: &str,
        opt: &mut Optimizer,
        params: &ParamStore,
    ) -> Result<()> {
        let st = self.tensors()?;
        let ids = opt.params().to_vec();
        let steps: u64 = self
            .meta
            .parse(&format!("optimizer.{which}.steps"), &self.path)?;
        let (slots, count) = opt.state_mut();
        for (slot, i, t) in slots {
            let name = format!("optimizer.{which}.{slot}.{}", params.name(ids[i]));
            st.read_into(&name, t).map_err(|e| self.bad(e))?;
        }
        *count = steps;
        Ok(())
    }
}

impl CheckpointMeta {
    /// Records where training stands (everything of [`Position`]) and the optimizers' step
    /// counts.
    pub fn set_position(
        &mut self,
        p: &Position,
        opt_g: &Optimizer,
        opt_d: &Optimizer,
    ) -> Result<()> {
        self.set("epoch", p.epoch);
        self.set("batch_in_epoch", p.batch_in_epoch);
        self.set("step", p.step);
        self.set("noise_word_pos", rng::position(&p.noise_rng));
        self.set("label_word_pos", rng::position(&p.label_rng));
        self.set("optimizer.generator.steps", opt_g.steps());
        self.set("optimizer.discriminator.steps", opt_d.steps());
        self.set("epoch_sums", to_json(&p.acc)?);
        self.set("history", to_json(&p.history)?);
        Ok(())
    }
}

impl Checkpoint {
    /// Where training stood when this checkpoint was written, for a run seeded with `seed`.
    /// Checkpoints written before labels were drawn in training have no `label_word_pos`: the
    /// label stream then starts at its beginning, as it did for them.
    pub fn position(&self, seed: u64) -> Result<Position> {
        let (meta, path) = (&self.meta, &self.path);
        let label_word_pos: u128 = match meta.entries.contains_key("label_word_pos") {
            true => meta.parse("label_word_pos", path)?,
            false => 0,
        };
        Ok(Position {
            epoch: meta.parse("epoch", path)?,
            batch_in_epoch: meta.parse("batch_in_epoch", path)?,
            step: meta.parse("step", path)?,
            noise_rng: rng::restore(seed, rng::STREAM_NOISE, meta.parse("noise_word_pos", path)?),
            label_rng: rng::restore(seed, rng::STREAM_FAKE_LABELS, label_word_pos),
            acc: from_json(meta.get("epoch_sums", path)?, "epoch_sums", path)?,
            history: self.history()?,
        })
    }

    /// The metrics of the epochs finished when this checkpoint was written.
    pub fn history(&self) -> Result<Vec<EpochMetrics>> {
        from_json(self.meta.get("history", &self.path)?, "history", &self.path)
    }

    /// Loads the networks, both optimizers and the position into `trainer`.
    pub fn load_trainer(&self, trainer: &mut Trainer) -> Result<()> {
        let seed = trainer.config().seed;
        let position = self.position(seed)?;
        let (gan, opt_g, opt_d) = trainer.state_mut();
        self.load_gan(gan)?;
        self.load_optimizer("generator", opt_g, &gan.params)?;
        self.load_optimizer("discriminator", opt_d, &gan.params)?;
        trainer.restore(position).map_err(|e| GanError::Checkpoint {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| GanError::Config(format!("cannot encode: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, key: &str, path: &Path) -> Result<T> {
    serde_json::from_str(text).map_err(|e| GanError::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("unreadable {key}: {e}"),
    })
}
