//! Named tensors as safetensors bytes (the format PyTorch users load with
//! `safetensors.torch.load_file`), in both directions, with string metadata. The caller writes
//! the bytes (atomically) and reads them back; [`save_entries`] streams large files to a path.
//!
//! ```
//! use autograd::tensor_file::{encode, TensorFile};
//! use autograd::Tensor;
//! use std::collections::HashMap;
//!
//! # fn main() -> autograd::Result<()> {
//! let w = Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0])?;
//! let meta = HashMap::from([("format".to_string(), "example".to_string())]);
//! let bytes = encode(&[("layer.weight".to_string(), &w)], &meta)?;
//!
//! let file = TensorFile::parse(&bytes)?;
//! assert_eq!(file.metadata()["format"], "example");
//! let mut back = Tensor::zeros(&[2, 2]);
//! file.read_into("layer.weight", &mut back)?;
//! assert_eq!(back, w);
//! # Ok(())
//! # }
//! ```

use crate::error::{Error, Result};
use crate::params::ParamStore;
use crate::tensor::Tensor;
use safetensors::tensor::{Dtype, View};
use safetensors::SafeTensors;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

fn bad(reason: impl Into<String>) -> Error {
    Error::TensorFile {
        reason: reason.into(),
    }
}

/// A tensor to encode: f32 values, or i64 counters (PyTorch's `num_batches_tracked`).
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    /// An f32 tensor.
    F32(&'a Tensor),
    /// An i64 tensor of `shape` (`&[]` for a scalar).
    I64(&'a [usize], &'a [i64]),
}

/// An entry as safetensors writes it: its little-endian bytes are made when they are written,
/// one tensor at a time, so that encoding never holds a second copy of every tensor.
impl View for &Entry<'_> {
    fn dtype(&self) -> Dtype {
        match self {
            Entry::F32(_) => Dtype::F32,
            Entry::I64(..) => Dtype::I64,
        }
    }

    fn shape(&self) -> &[usize] {
        match self {
            Entry::F32(t) => t.shape(),
            Entry::I64(shape, _) => shape,
        }
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(match self {
            Entry::F32(t) => t.data().iter().flat_map(|v| v.to_le_bytes()).collect(),
            Entry::I64(_, values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        })
    }

    fn data_len(&self) -> usize {
        match self {
            Entry::F32(t) => 4 * t.len(),
            Entry::I64(_, values) => 8 * values.len(),
        }
    }
}

/// Encodes `tensors` (f32, little-endian, under their names) and `metadata` as safetensors
/// bytes. Names must be unique.
pub fn encode(
    tensors: &[(String, &Tensor)],
    metadata: &HashMap<String, String>,
) -> Result<Vec<u8>> {
    let entries: Vec<(String, Entry<'_>)> = tensors
        .iter()
        .map(|(name, t)| (name.clone(), Entry::F32(t)))
        .collect();
    encode_entries(&entries, metadata)
}

/// Encodes f32 and i64 `entries` and `metadata` as safetensors bytes. Names must be unique.
pub fn encode_entries(
    entries: &[(String, Entry<'_>)],
    metadata: &HashMap<String, String>,
) -> Result<Vec<u8>> {
    let views = entries.iter().map(|(name, e)| (name.as_str(), e));
    safetensors::serialize(views, &Some(metadata.clone()))
        .map_err(|e| bad(format!("cannot encode: {e}")))
}

/// Writes [`encode_entries`]' bytes to the file at `path` (created or truncated) without holding
/// them in memory: one tensor's bytes at a time. For an atomic write, pass a temporary path and
/// rename it afterwards (`mnist_idx::atomic::write_via_path`).
pub fn save_entries(
    path: &Path,
    entries: &[(String, Entry<'_>)],
    metadata: &HashMap<String, String>,
) -> Result<()> {
    let views = entries.iter().map(|(name, e)| (name.as_str(), e));
    safetensors::serialize_to_file(views, &Some(metadata.clone()), path)
        .map_err(|e| bad(format!("cannot write {}: {e}", path.display())))
}

/// Encodes every parameter of `params` under its name, with `metadata`.
pub fn encode_params(params: &ParamStore, metadata: &HashMap<String, String>) -> Result<Vec<u8>> {
    let named: Vec<(String, &Tensor)> = params
        .ids()
        .map(|id| (params.name(id).to_string(), params.get(id)))
        .collect();
    encode(&named, metadata)
}

/// Safetensors bytes, parsed: their metadata, and tensors to copy out by name.
pub struct TensorFile<'a> {
    tensors: SafeTensors<'a>,
    metadata: HashMap<String, String>,
}

impl<'a> TensorFile<'a> {
    /// Parses safetensors `bytes` (the header is checked against the length of `bytes` before
    /// anything is allocated for the tensors).
    pub fn parse(bytes: &'a [u8]) -> Result<TensorFile<'a>> {
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let tensors =
            SafeTensors::deserialize(bytes).map_err(|e| bad(format!("unreadable tensors: {e}")))?;
        Ok(TensorFile { tensors, metadata })
    }

    /// Just the metadata of safetensors `bytes`, without checking the tensors.
    pub fn read_metadata(bytes: &[u8]) -> Result<HashMap<String, String>> {
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        Ok(header.metadata().clone().unwrap_or_default())
    }

    /// The string metadata.
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.metadata
    }

    /// The tensors' names, in no particular order.
    pub fn names(&self) -> Vec<&str> {
        self.tensors
            .names()
            .into_iter()
            .map(String::as_str)
            .collect()
    }

    /// The stored bytes of tensor `name` (f32 little-endian for the tensors [`encode`] writes),
    /// e.g. to verify a checksum before anything is loaded.
    pub fn raw(&self, name: &str) -> Result<&'a [u8]> {
        self.tensors
            .tensor(name)
            .map(|view| view.data())
            .map_err(|_| bad(format!("has no tensor '{name}'")))
    }

    /// Copies the f32 tensor `name` into `target`, which must have its shape.
    pub fn read_into(&self, name: &str, target: &mut Tensor) -> Result<()> {
        let view = self
            .tensors
            .tensor(name)
            .map_err(|_| bad(format!("has no tensor '{name}'")))?;
        if view.dtype() != Dtype::F32 || view.shape() != target.shape() {
            return Err(bad(format!(
                "tensor '{name}' is {:?} {:?}, expected F32 {:?}",
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

    /// Whether a tensor `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.tensor(name).is_ok()
    }

    /// The i64 tensor `name`, which must hold `len` values.
    pub fn read_i64(&self, name: &str, len: usize) -> Result<Vec<i64>> {
        let view = self
            .tensors
            .tensor(name)
            .map_err(|_| bad(format!("has no tensor '{name}'")))?;
        if view.dtype() != Dtype::I64 || view.shape().iter().product::<usize>() != len {
            return Err(bad(format!(
                "tensor '{name}' is {:?} {:?}, expected I64 of {len} values",
                view.dtype(),
                view.shape()
            )));
        }
        Ok(view
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect())
    }

    /// Fills every parameter of `params` from the tensor of the same name.
    pub fn load_params(&self, params: &mut ParamStore) -> Result<()> {
        for id in params.ids().collect::<Vec<_>>() {
            let name = params.name(id).to_string();
            self.read_into(&name, params.get_mut(id))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_round_trip_and_errors_name_the_tensor() {
        let mut params = ParamStore::new();
        params
            .add(
                "a.weight",
                Tensor::from_vec(&[2, 3], (0..6).map(|v| v as f32).collect()).unwrap(),
            )
            .unwrap();
        params.add("a.bias", Tensor::full(&[2], -1.5)).unwrap();
        let bytes = encode_params(&params, &HashMap::new()).unwrap();
        let file = TensorFile::parse(&bytes).unwrap();
        let mut names = file.names();
        names.sort_unstable();
        assert_eq!(names, ["a.bias", "a.weight"]);

        let mut other = ParamStore::new();
        other.add("a.weight", Tensor::zeros(&[2, 3])).unwrap();
        other.add("a.bias", Tensor::zeros(&[2])).unwrap();
        file.load_params(&mut other).unwrap();
        for id in params.ids() {
            assert_eq!(params.get(id), other.get(id));
        }

        let mut wrong = Tensor::zeros(&[3, 2]);
        let e = file
            .read_into("a.weight", &mut wrong)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("tensor 'a.weight' is F32 [2, 3], expected F32 [3, 2]"),
            "{e}"
        );
        let e = file.read_into("b", &mut wrong).unwrap_err().to_string();
        assert!(e.contains("has no tensor 'b'"), "{e}");
    }

    #[test]
    fn i64_counters_round_trip() {
        let w = Tensor::full(&[2], 0.5);
        let count = [7i64];
        let entries = [
            ("w".to_string(), Entry::F32(&w)),
            ("n".to_string(), Entry::I64(&[], &count)),
        ];
        let bytes = encode_entries(&entries, &HashMap::new()).unwrap();
        let file = TensorFile::parse(&bytes).unwrap();
        assert_eq!(file.read_i64("n", 1).unwrap(), [7]);
        assert!(file.read_i64("w", 2).is_err());
        assert!(file.contains("w") && !file.contains("x"));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(TensorFile::parse(b"not safetensors").is_err());
        // A header that promises more bytes than there are.
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        assert!(TensorFile::parse(&bytes).is_err());
    }
}
