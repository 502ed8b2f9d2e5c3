//! Lethe's weight format: a Burnpack file (`model.bpk`, Burn's own tensor container) holding the
//! parameters, and `manifest.json` beside it saying what the weights are (architecture, dataset,
//! class names, forgotten classes, method, metrics, seed, versions).
//!
//! Encoding and decoding go through bytes ([`encode_model`], [`decode_model`]), so the trainer and
//! the browser share one path; the file helpers below only add atomic writes and paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::store::{DTypePolicy, ModuleRecord, RecordError};
use burn::tensor::{Bytes, DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::model::{Classifier, ModelConfig};

/// File name of the weights inside a run directory.
pub const WEIGHTS_FILE: &str = "model.bpk";
/// File name of the manifest inside a run directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Version of the manifest layout.
pub const MANIFEST_FORMAT: u32 = 1;

/// Errors while encoding, decoding, saving or loading weights.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The weights were made for another architecture than the one asked for.
    #[error("weights are for {weights}, but {requested} was requested{}", detail_suffix(.detail))]
    ArchitectureMismatch {
        /// What the weights' manifest says they are.
        weights: String,
        /// What the caller asked to load them into.
        requested: String,
        /// What did not fit, when known.
        detail: Option<String>,
    },
    /// The bytes are not a readable Burnpack file.
    #[error("corrupt weights{}: {message}", path_suffix(.path))]
    Corrupt {
        /// The file, when read from disk.
        path: Option<PathBuf>,
        /// What the reader reported.
        message: String,
    },
    /// The manifest is not valid JSON of the expected shape.
    #[error("invalid manifest {path}: {source}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A weights path that is neither a run directory nor a `.bpk` file with a manifest beside.
    #[error(
        "no Lethe weights at {0}: expected a run directory holding {WEIGHTS_FILE} and {MANIFEST_FILE}, or a .bpk file with {MANIFEST_FILE} beside it"
    )]
    NotFound(PathBuf),
}

fn detail_suffix(detail: &Option<String>) -> String {
    detail
        .as_ref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

fn path_suffix(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!(" in {}", p.display()))
        .unwrap_or_default()
}

/// Tool versions recorded with every artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// Lethe crate version.
    pub lethe: String,
    /// Burn version.
    pub burn: String,
    /// The CPU matrix kernels the run's arithmetic used, e.g. `x86-v3 (AVX2, FMA)`: results on
    /// a CPU are reproducible bit for bit only with the same kernels (AVX-512 sums in another
    /// order). Written by the trainer for CPU runs; absent for GPU runs and older manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_kernels: Option<String>,
}

impl Default for Versions {
    fn default() -> Self {
        Self {
            lethe: crate::LETHE_VERSION.to_owned(),
            burn: crate::BURN_VERSION.to_owned(),
            cpu_kernels: None,
        }
    }
}

/// What a weights file is: written beside it as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version of this manifest ([`MANIFEST_FORMAT`]).
    pub format: u32,
    /// The architecture (preset, dataset, layers).
    pub model: ModelConfig,
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// Classes this model was made to forget (empty for an original model).
    pub forgotten_classes: Vec<u8>,
    /// How the weights were produced: `original` for a trained model, else the unlearning method.
    pub method: String,
    /// Scalar metrics (e.g. `test_accuracy` in %).
    pub metrics: BTreeMap<String, f64>,
    /// Test accuracy of each class in %, in label order, when measured (`null` for a class
    /// with no test image, e.g. on a test subset).
    #[serde(default)]
    pub per_class_accuracy: Vec<Option<f64>>,
    /// Seed of the run that made the weights.
    pub seed: u64,
    /// Versions of Lethe and Burn.
    pub versions: Versions,
    /// The run's full configuration (free-form; the trainer writes its command's settings).
    #[serde(default)]
    pub config: serde_json::Value,
}

impl Manifest {
    /// A manifest for freshly made weights of `model`, with the dataset's class names.
    pub fn new(model: ModelConfig, method: impl Into<String>, seed: u64) -> Self {
        Self {
            format: MANIFEST_FORMAT,
            class_names: model
                .dataset
                .class_names()
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
            model,
            forgotten_classes: Vec::new(),
            method: method.into(),
            metrics: BTreeMap::new(),
            per_class_accuracy: Vec::new(),
            seed,
            versions: Versions::default(),
            config: serde_json::Value::Null,
        }
    }

    /// Parse a manifest from JSON text (`path` only names the source in errors).
    pub fn from_json(text: &str, path: &Path) -> Result<Self, WeightsError> {
        serde_json::from_str(text).map_err(|source| WeightsError::Manifest {
            path: path.to_owned(),
            source,
        })
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // A manifest holds only strings, numbers and JSON values: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Check that these weights can be loaded as `requested`.
    pub fn check_model(&self, requested: &ModelConfig) -> Result<(), WeightsError> {
        if &self.model == requested {
            return Ok(());
        }
        Err(WeightsError::ArchitectureMismatch {
            weights: self.model.describe(),
            requested: requested.describe(),
            detail: None,
        })
    }
}

/// How a weights file stores its floating-point parameters. Burnpack records each tensor's
/// dtype and [`decode_model`] casts to the model's f32, so both are read the same way; f16
/// halves the file (the model then computes in f32 on the f16-rounded values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats: exactly what training produced.
    #[default]
    F32,
    /// 16-bit (IEEE half) floats: each parameter rounded to the nearest half.
    F16,
}

/// Serialise a model's parameters to Burnpack bytes (as they are: f32 after training).
pub fn encode_model(model: &Classifier) -> Result<Vec<u8>, WeightsError> {
    let bytes =
        model
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|error| WeightsError::Corrupt {
                path: None,
                message: record_message(error),
            })?;
    Ok(bytes.to_vec())
}

/// Serialise a model of architecture `config` to Burnpack bytes, storing floats at `precision`.
pub fn encode_model_as(
    model: &Classifier,
    config: &ModelConfig,
    precision: Precision,
) -> Result<Vec<u8>, WeightsError> {
    let full = encode_model(model)?;
    match precision {
        Precision::F32 => Ok(full),
        Precision::F16 => {
            // Cast a model of its own: clones share BatchNorm's running statistics, so casting
            // a clone would turn the caller's statistics into f16 too.
            let device = model
                .devices()
                .into_iter()
                .next()
                .unwrap_or_else(Device::flex);
            let copy = load_record(full, config, &device, DTypePolicy::FromRecord)?;
            encode_model(&copy.map(&mut CastFloats(DType::F16)))
        }
    }
}

/// Casts every float parameter (and BatchNorm running statistic) to one dtype.
struct CastFloats(DType);

impl ModuleMapper for CastFloats {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dtype = self.0;
        param.map(|tensor| tensor.cast(dtype))
    }
}

/// Build `config`'s model on `device` and load Burnpack `bytes` into it.
///
/// Weights of another architecture give [`WeightsError::ArchitectureMismatch`] naming the
/// requested architecture and the first tensor that did not fit; unreadable bytes give
/// [`WeightsError::Corrupt`].
pub fn decode_model(
    bytes: Vec<u8>,
    config: &ModelConfig,
    device: &Device,
) -> Result<Classifier, WeightsError> {
    // Cast on load: an f16 file (see [`Precision`]) fills the f32 model like an f32 one.
    load_record(bytes, config, device, DTypePolicy::CastToModule)
}

/// The precision Burnpack `bytes` of `config`'s model store its floats at: [`Precision::F16`]
/// when any float parameter is half. Errors as [`decode_model`].
pub fn stored_precision(
    bytes: Vec<u8>,
    config: &ModelConfig,
    device: &Device,
) -> Result<Precision, WeightsError> {
    // Loaded as stored (no cast), the parameters keep the file's dtypes.
    let model = load_record(bytes, config, device, DTypePolicy::FromRecord)?;
    let mut finder = FindHalf(false);
    model.visit(&mut finder);
    Ok(if finder.0 {
        Precision::F16
    } else {
        Precision::F32
    })
}

/// Records whether any float parameter is f16.
struct FindHalf(bool);

impl ModuleVisitor for FindHalf {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0 |= param.val().dtype() == DType::F16;
    }
}

fn load_record(
    bytes: Vec<u8>,
    config: &ModelConfig,
    device: &Device,
    policy: DTypePolicy,
) -> Result<Classifier, WeightsError> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|error| WeightsError::Corrupt {
            path: None,
            message: record_message(error),
        })?
        .with_dtype_policy(policy);
    config
        .init(device)
        .try_load_record(record)
        .map_err(|error| match error {
            RecordError::Validation(detail) => WeightsError::ArchitectureMismatch {
                weights: String::from("another architecture"),
                requested: config.describe(),
                detail: Some(detail),
            },
            RecordError::Io(message) => WeightsError::Corrupt {
                path: None,
                message,
            },
        })
}

fn record_message(error: RecordError) -> String {
    match error {
        RecordError::Io(message) | RecordError::Validation(message) => message,
    }
}

/// Resolve a `--weights` argument to `(weights file, manifest file)`: a run directory, or a
/// `.bpk` file with `manifest.json` beside it.
pub fn resolve_paths(path: &Path) -> Result<(PathBuf, PathBuf), WeightsError> {
    let (weights, manifest) = if path.is_dir() {
        (path.join(WEIGHTS_FILE), path.join(MANIFEST_FILE))
    } else {
        let parent = path.parent().unwrap_or_else(|| Path::new("."));
        (path.to_owned(), parent.join(MANIFEST_FILE))
    };
    if weights.is_file() && manifest.is_file() {
        Ok((weights, manifest))
    } else {
        Err(WeightsError::NotFound(path.to_owned()))
    }
}

/// Read a manifest file.
pub fn read_manifest(path: &Path) -> Result<Manifest, WeightsError> {
    let text = std::fs::read_to_string(path).map_err(|source| WeightsError::Io {
        path: path.to_owned(),
        source,
    })?;
    Manifest::from_json(&text, path)
}

/// Load a run (directory or `.bpk` path) onto `device`: its manifest and its model, built from
/// the manifest's architecture.
pub fn load_run(path: &Path, device: &Device) -> Result<(Manifest, Classifier), WeightsError> {
    let (weights_path, manifest_path) = resolve_paths(path)?;
    let manifest = read_manifest(&manifest_path)?;
    let bytes = std::fs::read(&weights_path).map_err(|source| WeightsError::Io {
        path: weights_path.clone(),
        source,
    })?;
    let model = decode_model(bytes, &manifest.model, device).map_err(|error| match error {
        WeightsError::Corrupt { message, .. } => WeightsError::Corrupt {
            path: Some(weights_path.clone()),
            message,
        },
        WeightsError::ArchitectureMismatch { detail, .. } => WeightsError::ArchitectureMismatch {
            weights: format!("{} (the file's tensors)", weights_path.display()),
            requested: format!("{} (its manifest)", manifest.model.describe()),
            detail,
        },
        other => other,
    })?;
    Ok((manifest, model))
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, then a rename,
/// so a reader (or a kill) never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WeightsError> {
    let io_error = |source| WeightsError::Io {
        path: path.to_owned(),
        source,
    };
    let parent = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(parent).map_err(io_error)?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = parent.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&temporary);
        io_error(source)
    })
}

/// Save a model and its manifest into `dir` (both written atomically, weights first).
pub fn save_run(dir: &Path, model: &Classifier, manifest: &Manifest) -> Result<(), WeightsError> {
    write_atomic(&dir.join(WEIGHTS_FILE), &encode_model(model)?)?;
    write_atomic(&dir.join(MANIFEST_FILE), manifest.to_json().as_bytes())
}
