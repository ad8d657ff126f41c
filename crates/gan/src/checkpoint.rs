//! Checkpoints in the safetensors format, so a PyTorch user can load our weights.
//!
//! Tensor names: every parameter under its own name (`generator.layers.0.weight`, `[out, in]` as
//! `nn.Linear` keeps it), and each optimizer's state as
//! `optimizer.{generator|discriminator}.{slot}.{parameter name}` with `slot` one of `exp_avg`,
//! `exp_avg_sq` (Adam), `square_avg`, `momentum_buffer` (RMSprop, SGD). The metadata holds the
//! configuration (TOML), the epoch, step and position within the epoch, the optimizers' step
//! counts, the noise stream's position and the metrics so far (JSON).

use crate::atomic::write_atomic;
use crate::error::{GanError, Result};
use autograd::optim::Optimizer;
use autograd::{ParamStore, Tensor};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
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

fn le_bytes(t: &Tensor) -> Vec<u8> {
    t.data().iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes parameters, optimizer states and metadata to `path` atomically.
pub fn save(
    path: &Path,
    params: &ParamStore,
    optimizers: &[(&str, &Optimizer)],
    meta: &CheckpointMeta,
) -> Result<()> {
    let mut named: Vec<(String, &Tensor)> = params
        .ids()
        .map(|id| (params.name(id).to_string(), params.get(id)))
        .collect();
    for (which, opt) in optimizers {
        named.extend(optimizer_names(which, opt, params));
    }
    let bytes: Vec<Vec<u8>> = named.iter().map(|(_, t)| le_bytes(t)).collect();
    let views = named
        .iter()
        .zip(&bytes)
        .map(|((name, t), b)| {
            TensorView::new(Dtype::F32, t.shape().to_vec(), b).map(|v| (name.clone(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| GanError::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("cannot encode: {e}"),
        })?;
    let mut info = meta.entries.clone();
    info.insert("format".into(), FORMAT.into());
    let encoded = safetensors::serialize(views, &Some(info)).map_err(|e| GanError::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("cannot encode: {e}"),
    })?;
    write_atomic(path, &encoded)
}

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
        let (_, metadata) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let entries = metadata.metadata().clone().unwrap_or_default();
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

    /// Copies the tensor `name` into `target`, which must have the same shape.
    fn load_tensor(&self, st: &SafeTensors<'_>, name: &str, target: &mut Tensor) -> Result<()> {
        let bad = |reason: String| GanError::Checkpoint {
            path: self.path.clone(),
            reason,
        };
        let view = st
            .tensor(name)
            .map_err(|_| bad(format!("has no tensor '{name}'")))?;
        if view.dtype() != Dtype::F32 || view.shape() != target.shape() {
            return Err(bad(format!(
                "tensor '{name}' is {:?} {:?}, the model expects F32 {:?}",
                view.dtype(),
                view.shape(),
                target.shape()
            )));
        }
        for (dst, src) in target
            .data_mut()
            .iter_mut()
            .zip(view.data().chunks_exact(4))
        {
            *dst = f32::from_le_bytes([src[0], src[1], src[2], src[3]]);
        }
        Ok(())
    }

    fn tensors(&self) -> Result<SafeTensors<'_>> {
        SafeTensors::deserialize(&self.bytes).map_err(|e| GanError::Checkpoint {
            path: self.path.clone(),
            reason: format!("unreadable tensors: {e}"),
        })
    }

    /// Loads every parameter of `params` by name.
    pub fn load_params(&self, params: &mut ParamStore) -> Result<()> {
        let st = self.tensors()?;
        for id in params.ids().collect::<Vec<_>>() {
            let name = params.name(id).to_string();
            self.load_tensor(&st, &name, params.get_mut(id))?;
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
            self.load_tensor(&st, &name, t)?;
        }
        *count = steps;
        Ok(())
    }
}
