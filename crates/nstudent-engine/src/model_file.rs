//! Model files: safetensors with the weights in PyTorch's layout and the spec in the metadata.
//!
//! Metadata keys (all strings, as safetensors requires):
//! - `format`: `nstudent`
//! - `format_version`: `1`
//! - `spec`: the [`ModelSpec`] as JSON
//! - `input_shape`: `HxWxC`
//! - `num_classes`: decimal
//! - `class_names`: JSON array of strings (may be empty)
//! - `layout`: a one-line description of the tensor layout
//!
//! Tensors are `F32`, named like the parameters of the equivalent PyTorch module
//! (`conv1.weight`, `fc1.bias`, ...): convolution kernels `(out, in, kh, kw)`, linear weights
//! `(out, in)`, the first linear layer's inputs in PyTorch's `(C, H, W)` flattening order.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use crate::{Error, ModelSpec, Result};

pub(crate) const LAYOUT: &str = "pytorch: conv (out,in,kh,kw); linear (out,in); flatten in (C,H,W) order of an NCHW input scaled to [0,1]";

/// One tensor's shape and values.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorData {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Everything a model file holds.
#[derive(Debug, Clone)]
pub(crate) struct ModelFile {
    pub spec: ModelSpec,
    pub class_names: Vec<String>,
    pub tensors: BTreeMap<String, TensorData>,
}

fn format_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Writes a model file atomically ([`nstudent_core::fs::write_atomic`]), so a crash never
/// leaves a truncated model behind.
pub(crate) fn write(path: &Path, file: &ModelFile) -> Result<()> {
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), "nstudent".to_string());
    meta.insert("format_version".to_string(), "1".to_string());
    meta.insert(
        "spec".to_string(),
        serde_json::to_string(&file.spec).map_err(|e| Error::Internal(e.to_string()))?,
    );
    meta.insert("input_shape".to_string(), file.spec.input.to_string());
    meta.insert("num_classes".to_string(), file.spec.num_classes.to_string());
    meta.insert(
        "class_names".to_string(),
        serde_json::to_string(&file.class_names).map_err(|e| Error::Internal(e.to_string()))?,
    );
    meta.insert("layout".to_string(), LAYOUT.to_string());
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = file
        .tensors
        .iter()
        .map(|(name, t)| {
            let b = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), b, t.shape.clone())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, b, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), b)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::Internal(format!("tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let data = safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::Internal(format!("cannot serialise the model: {e}")))?;
    let data = canonical_header(data)?;
    // A full disk leaves the old model (or none) and no temporary file behind.
    nstudent_core::fs::write_atomic(path, &data).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The same safetensors file with its JSON header's keys sorted. safetensors writes the
/// metadata from a `HashMap`, whose order changes from process to process; sorted keys make
/// the same weights give the same file, byte for byte.
fn canonical_header(data: Vec<u8>) -> Result<Vec<u8>> {
    let bad = || Error::Internal("safetensors wrote a malformed header".into());
    let len_bytes: [u8; 8] = data
        .get(..8)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    let n = usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|_| bad())?;
    let header = data.get(8..8 + n).ok_or_else(bad)?;
    // serde_json's map is a BTreeMap (no `preserve_order`): serialising sorts the keys.
    let value: serde_json::Value = serde_json::from_slice(header).map_err(|_| bad())?;
    let mut text = serde_json::to_vec(&value).map_err(|_| bad())?;
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + data.len() - 8 - n);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&data[8 + n..]);
    Ok(out)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn parse_meta(
    path: &Path,
    meta: &Option<HashMap<String, String>>,
) -> Result<(ModelSpec, Vec<String>)> {
    let meta = meta
        .as_ref()
        .ok_or_else(|| format_err(path, "no metadata: not a model saved by nstudent"))?;
    if meta.get("format").map(String::as_str) != Some("nstudent") {
        return Err(format_err(
            path,
            "not a model saved by nstudent (metadata format != nstudent)",
        ));
    }
    let spec_json = meta
        .get("spec")
        .ok_or_else(|| format_err(path, "the metadata has no model spec"))?;
    let spec: ModelSpec = serde_json::from_str(spec_json)
        .map_err(|e| format_err(path, format!("unreadable model spec: {e}")))?;
    let class_names = match meta.get("class_names") {
        Some(s) => serde_json::from_str(s)
            .map_err(|e| format_err(path, format!("unreadable class names: {e}")))?,
        None => Vec::new(),
    };
    Ok((spec, class_names))
}

/// Reads only the spec of a model file.
pub fn read_spec(path: &Path) -> Result<ModelSpec> {
    let bytes = read_bytes(path)?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| format_err(path, format!("not a safetensors file: {e}")))?;
    Ok(parse_meta(path, meta.metadata())?.0)
}

pub(crate) fn read(path: &Path) -> Result<ModelFile> {
    let bytes = read_bytes(path)?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| format_err(path, format!("not a safetensors file: {e}")))?;
    let (spec, class_names) = parse_meta(path, meta.metadata())?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| format_err(path, format!("not a safetensors file: {e}")))?;
    let mut tensors = BTreeMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(format_err(
                path,
                format!(
                    "tensor {name} is {:?}; nstudent models are F32",
                    view.dtype()
                ),
            ));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(format_err(
                path,
                format!(
                    "tensor {name} holds {bad}: the weights are not finite (a diverged training); retrain the model, e.g. with a lower learning rate"
                ),
            ));
        }
        tensors.insert(
            name,
            TensorData {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok(ModelFile {
        spec,
        class_names,
        tensors,
    })
}
