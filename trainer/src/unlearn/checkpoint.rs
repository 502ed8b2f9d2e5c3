//! Per-epoch checkpoints of [`super::train_loop`]: a long unlearning run (RL, SalUn and ℓ1-sparse
//! take 10 epochs over D_r, about two hours for ResNet-20 on two CPU cores) survives a kill, or a
//! planned stop (`--pause-after`), and the same command run again continues where it stopped.
//!
//! Layout, in the method's work directory (`<out>/train/loop-checkpoint/`):
//! - `state.json` — the run's configuration, a digest of θ_o, the epochs done and their log, the
//!   wall time and peak memory so far, and which files hold the model and optimizer state. It is
//!   written last (atomically), so a kill at any instant leaves the previous checkpoint intact;
//! - `epoch-NNNN.bpk` — the model being trained (adapters included, as they are mid-training);
//! - `epoch-NNNN.optim` — its optimizer state (Adam moments, SGD momentum).
//!
//! Only a checkpoint of *this* run is resumed: same configuration (method, epochs, seed, split,
//! every hyper-parameter) and the same original model. One of another run is removed with a
//! warning. The batch order is not stored but replayed ([`super::BatchOrder`]), so a resumed run
//! trains on exactly the batches an uninterrupted one would. Burn's records keep each parameter's
//! id, so the optimizer state (keyed by id) and SalUn's saliency masks (ids of θ_o) still fit.
//! What a resume cannot replay is dropout's random draws (LoRA adapters' input dropout): the
//! backend's generator restarts, so a resumed LoRA-family run matches an uninterrupted one in
//! distribution, not bit for bit.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::{DTypePolicy, ModuleRecord};
use burn::tensor::Bytes;
use lethe_shared::model::Classifier;
use lethe_shared::weights::{self, write_atomic};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{EpochLog, UnlearnConfig, UnlearnError};
use crate::train::RunTotals;

/// The index of a checkpoint: what run it belongs to and how far it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopState {
    /// The run's configuration (a checkpoint resumes only under the same one).
    pub config: UnlearnConfig,
    /// SHA-256 of θ_o's weights file (and only from the same original model).
    pub original_sha256: String,
    /// Epochs completed.
    pub completed_epochs: usize,
    /// Epochs of the whole run.
    pub total_epochs: usize,
    /// The completed epochs' log.
    pub history: Vec<EpochLog>,
    /// Wall time of the run up to this checkpoint, over every process that worked on it, seconds.
    pub seconds: f64,
    /// Highest peak RSS of those processes, MiB (when the platform reports it).
    pub peak_rss_mib: Option<f64>,
    /// Highest device memory reserved by those processes, MiB (GPU backends only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_device_mib: Option<f64>,
    /// How many times the run was resumed before this checkpoint was written.
    pub resumes: usize,
    /// The model's file.
    weights: String,
    /// The optimizer state's file.
    optimizer: String,
}

impl LoopState {
    /// A state for `completed_epochs` of `total_epochs` (files named after the epoch).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &UnlearnConfig,
        original_sha256: &str,
        completed_epochs: usize,
        total_epochs: usize,
        history: Vec<EpochLog>,
        totals: RunTotals,
        resumes: usize,
    ) -> Self {
        Self {
            config: config.clone(),
            original_sha256: original_sha256.to_owned(),
            completed_epochs,
            total_epochs,
            history,
            seconds: totals.seconds,
            peak_rss_mib: totals.peak_rss_mib,
            peak_device_mib: totals.peak_device_mib,
            resumes,
            weights: format!("epoch-{completed_epochs:04}.bpk"),
            optimizer: format!("epoch-{completed_epochs:04}.optim"),
        }
    }

    /// What the processes up to this checkpoint cost.
    pub fn totals(&self) -> RunTotals {
        RunTotals {
            seconds: self.seconds,
            peak_rss_mib: self.peak_rss_mib,
            peak_device_mib: self.peak_device_mib,
        }
    }

    /// Whether this checkpoint belongs to the run of `config` (on any backend) from the θ_o
    /// with `original_sha256`.
    pub fn belongs_to(&self, config: &UnlearnConfig, original_sha256: &str) -> bool {
        config.same_run_as(&self.config) && self.original_sha256 == original_sha256
    }
}

/// What a resumed run carried over from earlier processes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resumed {
    /// Epochs already done when this process started.
    pub completed_epochs: usize,
    /// Their wall time and peak memory (all earlier processes).
    pub totals: RunTotals,
    /// Resumes before this one.
    pub resumes: usize,
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The checkpoint directory of one method's run.
#[derive(Debug, Clone)]
pub struct LoopCheckpoint {
    dir: PathBuf,
}

const STATE_FILE: &str = "state.json";

impl LoopCheckpoint {
    /// The checkpoint of the run whose work directory is `work_dir` (`<out>/train`).
    pub fn in_work_dir(work_dir: &Path) -> Self {
        Self {
            dir: work_dir.join("loop-checkpoint"),
        }
    }

    /// Where the checkpoint lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checkpoint's state, if there is one.
    ///
    /// # Errors
    /// [`UnlearnError::Checkpoint`] when `state.json` is there but unreadable.
    pub fn read(&self) -> Result<Option<LoopState>, UnlearnError> {
        let path = self.dir.join(STATE_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|error| self.error(error))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| self.error(format!("{}: {error}", path.display())))
    }

    /// Write the model and optimizer state, then `state` (last, atomically), then remove the
    /// files of older epochs.
    ///
    /// # Errors
    /// [`UnlearnError::Checkpoint`] on any write failure.
    pub fn save(
        &self,
        state: &LoopState,
        model: &Classifier,
        optimizer: &ModuleOptimizer,
    ) -> Result<(), UnlearnError> {
        std::fs::create_dir_all(&self.dir).map_err(|error| self.error(error))?;
        // `valid()` first: it folds BatchNorm's last pending running-statistics update into the
        // stored value, which a record of the training model would miss (Burn's RunningState
        // lags one update until synced).
        write_atomic(
            &self.dir.join(&state.weights),
            &weights::encode_model(&model.valid())?,
        )?;
        let optimizer_bytes = optimizer
            .into_bytes()
            .map_err(|error| self.error(format!("serialising the optimizer state: {error}")))?;
        write_atomic(&self.dir.join(&state.optimizer), &optimizer_bytes)?;
        let json = serde_json::to_string_pretty(state).map_err(|error| self.error(error))?;
        write_atomic(&self.dir.join(STATE_FILE), json.as_bytes())?;
        crate::train::remove_older_epochs(&self.dir, &[&state.weights, &state.optimizer])
            .map_err(|error| self.error(error))
    }

    /// Load the checkpoint of `state` into `model` (built by the method exactly as for a fresh
    /// run: same adapters, same frozen parameters) and `optimizer`.
    ///
    /// # Errors
    /// [`UnlearnError::Checkpoint`] when a file is missing, unreadable or does not fit `model`.
    pub fn restore(
        &self,
        state: &LoopState,
        model: Classifier,
        optimizer: ModuleOptimizer,
    ) -> Result<(Classifier, ModuleOptimizer), UnlearnError> {
        let weights_path = self.dir.join(&state.weights);
        let bytes = std::fs::read(&weights_path)
            .map_err(|error| self.error(format!("{}: {error}", weights_path.display())))?;
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|error| self.error(format!("{}: {error}", weights_path.display())))?
            .with_dtype_policy(DTypePolicy::CastToModule);
        // Fold any pending BatchNorm running-statistics update into the stored value first
        // (`valid()` syncs the state the model shares with its copies): a pending update from the
        // method's set-up — SalUn's saliency pass runs forward in training mode — would
        // otherwise overwrite the restored statistics at the first step.
        drop(model.valid());
        // Loading keeps each parameter's `require_grad`: frozen stays frozen.
        let model = model
            .try_load_record(record)
            .map_err(|error| self.error(format!("{}: {error}", weights_path.display())))?;
        let optimizer_path = self.dir.join(&state.optimizer);
        let optimizer_bytes = std::fs::read(&optimizer_path)
            .map_err(|error| self.error(format!("{}: {error}", optimizer_path.display())))?;
        let optimizer = optimizer
            .from_bytes(Bytes::from_bytes_vec(optimizer_bytes))
            .map_err(|error| self.error(format!("{}: {error}", optimizer_path.display())))?;
        Ok((model, optimizer))
    }

    /// Delete the checkpoint (the run finished, or the checkpoint belongs to another run).
    pub fn remove(&self) {
        if self.dir.exists()
            && let Err(error) = std::fs::remove_dir_all(&self.dir)
        {
            tracing::warn!("could not remove {}: {error}", self.dir.display());
        }
    }

    fn error(&self, message: impl std::fmt::Display) -> UnlearnError {
        UnlearnError::Checkpoint {
            dir: self.dir.clone(),
            message: message.to_string(),
        }
    }
}
