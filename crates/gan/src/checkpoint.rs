//! Checkpoints in the safetensors format, so a PyTorch user can load our weights.
//!
//! Tensor names: every parameter under its own name (`generator.layers.0.weight`, `[out, in]` as
//! `nn.Linear` keeps it), and each optimizer's state as
//! `optimizer.{generator|discriminator}.{slot}.{parameter name}` with `slot` one of `exp_avg`,
//! `exp_avg_sq` (Adam), `square_avg`, `momentum_buffer` (RMSprop, SGD). The metadata holds the
//! configuration (TOML), the epoch, step and position within the epoch, the optimizers' step
//! counts, the noise stream's position and the metrics so far (JSON).
//!
//! Integrity: the metadata entry `checksums` maps every tensor's name to the CRC-32 of its
//! stored bytes, and `metadata_crc32` is the CRC-32 of every other metadata entry (keys sorted,
//! each `key NUL value NUL`). [`Checkpoint::read`] verifies both before anything is loaded and
//! names the file and the tensor (or says the metadata was edited); loading also refuses
//! non-finite values. A CRC catches damage and hand edits, not a deliberate forgery. Checkpoints
//! written before checksums existed load unverified, with a warning in
//! [`Checkpoint::warnings`].
//!
//! Reproducibility: two runs with the same configuration and seed write the same tensors, and
//! the same metadata except the `seconds` of each epoch in `history` (wall-clock time), so the
//! files differ in those bytes and in the metadata checksum.

use crate::epoch::EpochMetrics;
use crate::error::{write_atomic_via_path, GanError, Result};
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
    info.insert("checksums".into(), tensor_checksums(&entries)?);
    info.remove(METADATA_CRC);
    info.insert(METADATA_CRC.into(), crc_text(metadata_crc(&info)));
    // Streamed to the file one tensor at a time: no copy of the whole checkpoint in memory.
    write_atomic_via_path(path, |tmp| {
        tensor_file::save_entries(tmp, &entries, &info).map_err(|e| GanError::Checkpoint {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    })
}

/// The prefix of the generator's averaged weights: `ema.generator.layers.0.weight`, ... (strip
/// it to load them into a PyTorch generator).
pub const EMA_PREFIX: &str = "ema.";

/// The metadata entry holding the CRC-32 of the other metadata entries.
const METADATA_CRC: &str = "metadata_crc32";

fn crc_text(crc: u32) -> String {
    format!("{crc:08x}")
}

/// The CRC-32 of every metadata entry but [`METADATA_CRC`], keys sorted.
fn metadata_crc(entries: &HashMap<String, String>) -> u32 {
    let mut keys: Vec<&String> = entries.keys().filter(|k| *k != METADATA_CRC).collect();
    keys.sort();
    let mut h = crc32fast::Hasher::new();
    for k in keys {
        h.update(k.as_bytes());
        h.update(&[0]);
        h.update(entries[k].as_bytes());
        h.update(&[0]);
    }
    h.finalize()
}

/// The `checksums` entry: tensor name → CRC-32 of its stored little-endian bytes, as JSON.
fn tensor_checksums(entries: &[(String, Entry<'_>)]) -> Result<String> {
    let sums: std::collections::BTreeMap<&str, String> = entries
        .iter()
        .map(|(name, entry)| {
            let mut h = crc32fast::Hasher::new();
            match entry {
                Entry::F32(t) => t.data().iter().for_each(|v| h.update(&v.to_le_bytes())),
                Entry::I64(_, values) => values.iter().for_each(|v| h.update(&v.to_le_bytes())),
            }
            (name.as_str(), crc_text(h.finalize()))
        })
        .collect();
    to_json(&sums)
}

/// A checkpoint read into memory.
pub struct Checkpoint {
    path: std::path::PathBuf,
    bytes: Vec<u8>,
    /// The metadata.
    pub meta: CheckpointMeta,
    /// What loading could not verify (a checkpoint written before checksums existed).
    pub warnings: Vec<String>,
}

impl Checkpoint {
    /// Reads and checks a checkpoint file: its size against
    /// [`limits::max_checkpoint_bytes`](crate::limits::max_checkpoint_bytes) before reading it,
    /// then the format, the metadata checksum and every tensor's checksum.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let bad = |reason: String| GanError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let size = std::fs::metadata(path)
            .map_err(crate::error::io_error(path))?
            .len();
        let max = crate::limits::max_checkpoint_bytes();
        if size > max {
            return Err(bad(format!(
                "is {size} bytes, more than any configuration within the limits writes ({max}); \
                 not a checkpoint of ours (raise GAN_MAX_PARAMETERS if it is one)"
            )));
        }
        let bytes = std::fs::read(path).map_err(crate::error::io_error(path))?;
        Checkpoint::from_bytes(path, bytes)
    }

    /// Checks checkpoint `bytes` read from `path` (the name is for messages), as
    /// [`Checkpoint::read`] does.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Checkpoint> {
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
        let mut ckpt = Checkpoint {
            path: path.to_path_buf(),
            bytes,
            meta: CheckpointMeta { entries },
            warnings: Vec::new(),
        };
        ckpt.verify()?;
        Ok(ckpt)
    }

    /// Verifies the metadata checksum and every tensor's checksum.
    fn verify(&mut self) -> Result<()> {
        let entries = &self.meta.entries;
        let (Some(stored), Some(sums)) = (entries.get(METADATA_CRC), entries.get("checksums"))
        else {
            self.warnings.push(format!(
                "{}: written before checkpoints had checksums; loaded without verifying it \
                 (the next checkpoint written will have them)",
                self.path.display()
            ));
            return Ok(());
        };
        let bad = |reason: String| GanError::Checkpoint {
            path: self.path.clone(),
            reason,
        };
        if *stored != crc_text(metadata_crc(entries)) {
            return Err(bad(
                "its metadata (configuration, position, history) was edited or damaged: the \
                 metadata checksum does not match; use another checkpoint of the run (e.g. \
                 checkpoints/epoch-NNNN.safetensors copied over latest.safetensors)"
                    .into(),
            ));
        }
        let sums: std::collections::BTreeMap<String, String> =
            from_json(sums, "checksums", &self.path)?;
        let file = self.tensors()?;
        let mut names = file.names();
        names.sort_unstable();
        for name in &names {
            let Some(expected) = sums.get(*name) else {
                return Err(bad(format!(
                    "tensor '{name}' has no checksum: the file was altered"
                )));
            };
            let raw = file.raw(name).map_err(|e| self.bad(e))?;
            if crc_text(crc32fast::hash(raw)) != *expected {
                return Err(bad(format!(
                    "tensor '{name}' is damaged: its bytes do not match their checksum; use \
                     another checkpoint of the run"
                )));
            }
        }
        if let Some(missing) = sums.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(bad(format!("tensor '{missing}' is missing")));
        }
        Ok(())
    }

    /// The configuration the checkpoint was written with, validated (so within the limits).
    pub fn config(&self) -> Result<crate::config::TrainConfig> {
        let text = self.meta.get("config", &self.path)?;
        let config =
            crate::config::TrainConfig::from_toml(text).map_err(|e| GanError::Checkpoint {
                path: self.path.clone(),
                reason: format!("unreadable configuration: {e}"),
            })?;
        config.validate().map_err(|e| GanError::Checkpoint {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        Ok(config)
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

    /// Loads every parameter of `params` by name; non-finite values are refused.
    pub fn load_params(&self, params: &mut ParamStore) -> Result<()> {
        let file = self.tensors()?;
        for id in params.ids().collect::<Vec<_>>() {
            let name = params.name(id).to_string();
            let target = params.get_mut(id);
            file.read_into(&name, target).map_err(|e| self.bad(e))?;
            self.check_finite(&name, target)?;
        }
        Ok(())
    }

    fn check_finite(&self, name: &str, t: &Tensor) -> Result<()> {
        match t.data().iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(i) => Err(GanError::Checkpoint {
                path: self.path.clone(),
                reason: format!(
                    "tensor '{name}' holds {} at index {i}: a checkpoint must hold finite \
                     numbers; use another checkpoint of the run",
                    t.data()[i]
                ),
            }),
        }
    }

    /// Loads the networks of `gan`: parameters, batch-norm buffers and the generator's average
    /// (which must be present when the configuration asks for one).
    pub fn load_gan(&self, gan: &mut Gan) -> Result<()> {
        self.load_params(&mut gan.params)?;
        let file = self.tensors()?;
        let nets = [&mut gan.generator, &mut gan.discriminator];
        for net in nets {
            for (module, s) in net.running_stats_mut() {
                let name = |what: &str| format!("{module}.{what}");
                file.read_into(&name("running_mean"), &mut s.mean)
                    .map_err(|e| self.bad(e))?;
                self.check_finite(&name("running_mean"), &s.mean)?;
                file.read_into(&name("running_var"), &mut s.var)
                    .map_err(|e| self.bad(e))?;
                self.check_finite(&name("running_var"), &s.var)?;
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
                self.check_finite(&name, t)?;
            }
        }
        if let Some(ema) = &mut gan.ema {
            for id in gan.generator.params() {
                let name = format!("{EMA_PREFIX}{}", gan.params.name(id));
                let target = ema.params.get_mut(id);
                file.read_into(&name, target).map_err(|e| self.bad(e))?;
                self.check_finite(&name, target)?;
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
            self.check_finite(&name, t)?;
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
        let position = Position {
            epoch: meta.parse("epoch", path)?,
            batch_in_epoch: meta.parse("batch_in_epoch", path)?,
            step: meta.parse("step", path)?,
            noise_rng: rng::restore(seed, rng::STREAM_NOISE, meta.parse("noise_word_pos", path)?),
            label_rng: rng::restore(seed, rng::STREAM_FAKE_LABELS, label_word_pos),
            acc: from_json(meta.get("epoch_sums", path)?, "epoch_sums", path)?,
            history: self.history()?,
        };
        if position.history.len() != position.epoch {
            return Err(GanError::Checkpoint {
                path: path.to_path_buf(),
                reason: format!(
                    "metadata disagrees with itself: epoch {} but a history of {} epochs",
                    position.epoch,
                    position.history.len()
                ),
            });
        }
        Ok(position)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_round_trips_exactly() {
        // Values whose shortest printing needs all 17 digits: without serde_json's
        // float_roundtrip, parsing them back could differ in the last bit.
        let values = [0.1 + 0.2, 1.0 / 3.0, 2.0f64.sqrt(), 6.02214076e23, 5e-324];
        for v in values {
            let back: f64 = from_json(&to_json(&v).unwrap(), "v", Path::new("x")).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v}");
        }
    }
}
