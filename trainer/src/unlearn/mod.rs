//! Unlearning methods: one file each behind [`UnlearningMethod`], selected by [`MethodKind`].
//!
//! Every method starts from the original model θ_o and the split of
//! `../shared/spec/unlearning-protocol.md` §1, and returns a *plain* model (adapters merged,
//! masks applied) that saves, loads and runs in the browser like any other. The shared
//! mini-batch loop ([`train_loop`]), the LoRA / pruning set-up ([`adapters`]) and the data
//! plumbing live here; a method file only says what it trains and on which loss. Adding a
//! method is one file plus one arm in [`MethodKind::method`].

mod adapters;
pub mod checkpoint;
pub mod ft;
pub mod ga;
pub mod l1_sparse;
pub mod lora;
pub mod measure;
pub mod prune_ft;
pub mod prunelora;
pub mod report;
pub mod retrain;
pub mod rfa;
pub mod rl;
pub mod run;
pub mod salun;
pub mod summary;

use std::cell::Cell;
use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Int, Tensor};
use clap::ValueEnum;
use lethe_shared::adapt::AdaptError;
use lethe_shared::adapt::prune::{MaskMode, PruneMask};
use lethe_shared::adapt::prunelora::optimizer_step;
use lethe_shared::data::split::{ForgetRequest, UnlearningSplit, ValidationHoldout};
use lethe_shared::data::{DataError, ImageDataset};
use lethe_shared::metrics::MetricsError;
use lethe_shared::model::{Classifier, ModelConfig};
use lethe_shared::preprocess::normalize_images;
use lethe_shared::weights::WeightsError;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::eval::label_tensor;
use crate::train::progress_bar;

pub use adapters::{LoraTargets, lora_patterns, prune_patterns};
use checkpoint::{LoopCheckpoint, LoopState, Resumed};
pub use lethe_shared::adapt::prunelora::cross_entropy;

/// Errors of an unlearning run.
#[derive(Debug, thiserror::Error)]
pub enum UnlearnError {
    /// The loss stopped being a finite number.
    #[error(
        "{method} diverged at epoch {epoch} step {step}: loss is {loss}. Nothing was written; \
         lower --lr or use fewer epochs"
    )]
    Diverged {
        /// Method name.
        method: &'static str,
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// The loss value.
        loss: f64,
    },
    /// A configuration value is out of range.
    #[error("{0}")]
    BadConfig(String),
    /// Adapter or pruning failure.
    #[error(transparent)]
    Adapt(#[from] AdaptError),
    /// Dataset or split failure.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Weight loading / saving failure.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// Metric failure.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// Retraining from scratch failed.
    #[error("retraining: {0:#}")]
    Retrain(anyhow::Error),
    /// A per-epoch checkpoint could not be written or read.
    #[error("checkpoint {}: {message}", dir.display())]
    Checkpoint {
        /// The checkpoint directory.
        dir: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The run stopped after `--pause-after` epochs, as asked; its checkpoint is kept.
    #[error(
        "{method} paused after epoch {completed}/{total} (--pause-after); its checkpoint is in \
         {}: run the same command again to continue",
        checkpoint.display()
    )]
    Paused {
        /// Method name.
        method: &'static str,
        /// Epochs completed.
        completed: usize,
        /// Epochs of the whole run.
        total: usize,
        /// The checkpoint directory.
        checkpoint: PathBuf,
    },
}

/// The unlearning methods of spec §3.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum MethodKind {
    /// Exact unlearning: train from scratch on D_r with the original recipe.
    Retrain,
    /// Fine-tune all parameters on D_r.
    Ft,
    /// Structured L2 pruning, then fine-tuning.
    PruneFt,
    /// LoRA adapters fine-tuned on D_r, base frozen.
    Lora,
    /// Pruning, then LoRA (the flagship).
    Prunelora,
    /// Residual Feature Alignment: LoRA residuals zero on D_r, shifted on D_f.
    Rfa,
    /// Gradient ascent on D_f.
    Ga,
    /// Random wrong labels on D_f, interleaved with D_r.
    Rl,
    /// Saliency-masked random labelling.
    Salun,
    /// Fine-tuning with a decaying ℓ1 penalty.
    L1Sparse,
}

impl MethodKind {
    /// Every method, in report order.
    pub const ALL: [MethodKind; 10] = [
        MethodKind::Retrain,
        MethodKind::Ft,
        MethodKind::PruneFt,
        MethodKind::Lora,
        MethodKind::Prunelora,
        MethodKind::Rfa,
        MethodKind::Ga,
        MethodKind::Rl,
        MethodKind::Salun,
        MethodKind::L1Sparse,
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            MethodKind::Retrain => "retrain",
            MethodKind::Ft => "ft",
            MethodKind::PruneFt => "prune-ft",
            MethodKind::Lora => "lora",
            MethodKind::Prunelora => "prunelora",
            MethodKind::Rfa => "rfa",
            MethodKind::Ga => "ga",
            MethodKind::Rl => "rl",
            MethodKind::Salun => "salun",
            MethodKind::L1Sparse => "l1-sparse",
        }
    }

    /// Name in report tables.
    pub fn display_name(self) -> &'static str {
        match self {
            MethodKind::Retrain => "Retrain",
            MethodKind::Ft => "FT",
            MethodKind::PruneFt => "Prune+FT",
            MethodKind::Lora => "LoRA",
            MethodKind::Prunelora => "PruneLoRA",
            MethodKind::Rfa => "RFA",
            MethodKind::Ga => "GA",
            MethodKind::Rl => "RL",
            MethodKind::Salun => "SalUn",
            MethodKind::L1Sparse => "ℓ1-sparse",
        }
    }

    /// The method's implementation.
    pub fn method(self) -> Box<dyn UnlearningMethod> {
        match self {
            MethodKind::Retrain => Box::new(retrain::Retrain),
            MethodKind::Ft => Box::new(ft::FineTune),
            MethodKind::PruneFt => Box::new(prune_ft::PruneFineTune),
            MethodKind::Lora => Box::new(lora::Lora),
            MethodKind::Prunelora => Box::new(prunelora::PruneLora),
            MethodKind::Rfa => Box::new(rfa::ResidualFeatureAlignment),
            MethodKind::Ga => Box::new(ga::GradientAscent),
            MethodKind::Rl => Box::new(rl::RandomLabels),
            MethodKind::Salun => Box::new(salun::SalUn),
            MethodKind::L1Sparse => Box::new(l1_sparse::L1Sparse),
        }
    }

    /// Whether the method's epoch count follows `--epochs` in `lethe compare` (the methods the
    /// PruneLoRA paper runs at 5 / 10 epochs); the others keep their spec defaults.
    pub fn follows_compare_epochs(self) -> bool {
        matches!(
            self,
            MethodKind::Ft | MethodKind::PruneFt | MethodKind::Lora | MethodKind::Prunelora
        )
    }
}

impl std::fmt::Display for MethodKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Hyper-parameter presets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HyperPreset {
    /// Lethe's defaults: the spec's hyper-parameters, adapters that really act on attention.
    #[default]
    Lethe,
    /// Reproduce what the original code effectively did: ViT LoRA on the head only (unless
    /// `--lora-targets` names others). Masks are dropped after pruning as in the original, which
    /// is also Lethe's default; an explicit `--mask keep` still wins.
    Paper,
}

/// Limits on the split, for quick runs and tests (first N of each list).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitLimits {
    /// At most this many D_r images.
    pub retain: Option<usize>,
    /// At most this many D_f images.
    pub forget: Option<usize>,
    /// At most this many test_r (and test_f) images.
    pub test: Option<usize>,
}

impl SplitLimits {
    /// Truncate the lists of `split`.
    pub fn apply(&self, split: &mut UnlearningSplit) {
        let cut = |list: &mut Vec<usize>, limit: Option<usize>| {
            if let Some(limit) = limit {
                list.truncate(limit);
            }
        };
        cut(&mut split.retain, self.retain);
        cut(&mut split.forget, self.forget);
        cut(&mut split.test_retain, self.test);
        cut(&mut split.test_forget, self.test);
    }
}

/// Everything that defines one unlearning run (written to `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnlearnConfig {
    /// The method.
    pub method: MethodKind,
    /// What to forget.
    pub forget: ForgetRequest,
    /// Validation hold-out (PruneLoRA: none; Jia/SalUn: 10 %).
    pub validation: ValidationHoldout,
    /// Epochs; `None` = the method's default.
    pub epochs: Option<usize>,
    /// Learning rate; `None` = the method's default.
    pub learning_rate: Option<f64>,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Seed of shuffling, adapter initialisation and random labels.
    pub seed: u64,
    /// Hyper-parameter preset.
    pub preset: HyperPreset,
    /// Share of output channels pruned per target layer (Prune+FT, PruneLoRA).
    pub prune_amount: f64,
    /// Layer-name patterns pruned by Prune+FT and PruneLoRA; `None` = the spec's preset
    /// (ResNets: stem and every block; ViTs: the last block's attention output projection and
    /// the head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune_targets: Option<Vec<String>>,
    /// Keep or drop the pruning mask while fine-tuning (`None` = the preset's: drop).
    pub mask: Option<MaskMode>,
    /// Keep pruned channels dead through the LoRA delta too, so they can be removed at export.
    pub lora_respect_mask: bool,
    /// LoRA-based methods: also train the BatchNorm scale and shift (γ, β) of the adapted
    /// model (off in the spec, which freezes BN affine parameters).
    #[serde(default)]
    pub lora_train_norm: bool,
    /// LoRA rank; `None` = the preset's (8 for ResNets, 16 for ViTs).
    pub lora_rank: Option<usize>,
    /// LoRA α; `None` = 2 × rank.
    pub lora_alpha: Option<f64>,
    /// Dropout on the adapters' input.
    pub lora_dropout: f64,
    /// Which layers get adapters.
    pub lora_targets: LoraTargets,
    /// RFA: weight of the residual penalty on D_r (λ_r).
    pub rfa_lambda_retain: f64,
    /// RFA: weight of the feature-shift term on D_f (λ_f).
    pub rfa_lambda_forget: f64,
    /// ℓ1-sparse: initial γ of the decaying ℓ1 penalty.
    pub l1_gamma: f64,
    /// SalUn: share of parameters marked salient.
    pub salun_sparsity: f64,
    /// Split limits (quick runs, tests).
    pub limits: SplitLimits,
    /// Compute backend.
    pub backend: Backend,
}

impl UnlearnConfig {
    /// Defaults of the spec for `method` forgetting `forget`.
    pub fn new(method: MethodKind, forget: ForgetRequest) -> Self {
        Self {
            method,
            forget,
            validation: ValidationHoldout::None,
            epochs: None,
            learning_rate: None,
            batch_size: 128,
            seed: 0,
            preset: HyperPreset::Lethe,
            prune_amount: 0.5,
            prune_targets: None,
            mask: None,
            lora_respect_mask: false,
            lora_train_norm: false,
            lora_rank: None,
            lora_alpha: None,
            lora_dropout: 0.1,
            lora_targets: LoraTargets::Preset,
            rfa_lambda_retain: 1.0,
            rfa_lambda_forget: 1.0,
            l1_gamma: 5e-5,
            salun_sparsity: 0.5,
            limits: SplitLimits::default(),
            backend: Backend::best_available(),
        }
    }

    /// Whether `self` describes the same run as `saved`: equal in everything but the backend
    /// (where a run executes, not what it is), so a per-epoch checkpoint resumes on any backend,
    /// as `lethe train`'s does ([`crate::train::TrainConfig::same_run_as`]).
    pub fn same_run_as(&self, saved: &UnlearnConfig) -> bool {
        UnlearnConfig {
            backend: self.backend,
            ..saved.clone()
        } == *self
    }

    /// This configuration with `epochs` spelled out (`None` becomes the method's default for
    /// `model`), so that a run given `--epochs 5` and one left at a default of 5 compare equal:
    /// `lethe compare` reuses a finished run when the two agree.
    pub fn with_effective_epochs(&self, model: &ModelConfig) -> Self {
        Self {
            epochs: Some(self.epochs_for(self.method.method().as_ref(), model)),
            ..self.clone()
        }
    }

    /// Epochs `method` trains on `model`: the configured value, else its default.
    pub fn epochs_for(&self, method: &dyn UnlearningMethod, model: &ModelConfig) -> usize {
        self.epochs
            .unwrap_or_else(|| method.default_epochs_for(model))
    }

    /// Check the values a user can get wrong.
    pub fn validate(&self) -> Result<(), UnlearnError> {
        let bad = |message: String| Err(UnlearnError::BadConfig(message));
        if self.prune_targets.as_ref().is_some_and(|patterns| {
            patterns.is_empty() || patterns.iter().any(|p| p.trim().is_empty())
        }) {
            return bad("--prune-targets needs layer-name patterns, e.g. `blocks.*.mlp_in`".into());
        }
        if self.batch_size == 0 {
            return bad("--batch-size must be at least 1".into());
        }
        if self.epochs == Some(0) {
            return bad("--epochs must be at least 1".into());
        }
        if let Some(rate) = self.learning_rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return bad(format!("--lr must be a positive number, got {rate}"));
        }
        if !(0.0..1.0).contains(&self.prune_amount) {
            return bad(format!(
                "--prune-amount must be in [0, 1), got {}",
                self.prune_amount
            ));
        }
        if self.lora_rank == Some(0) {
            return bad("--lora-rank must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.lora_dropout) {
            return bad(format!(
                "--lora-dropout must be in [0, 1), got {}",
                self.lora_dropout
            ));
        }
        if !(0.0 < self.salun_sparsity && self.salun_sparsity < 1.0) {
            return bad(format!(
                "--salun-sparsity must be in (0, 1), got {}",
                self.salun_sparsity
            ));
        }
        Ok(())
    }

    /// The mask mode in effect.
    pub fn mask_mode(&self) -> MaskMode {
        self.mask.unwrap_or(MaskMode::Drop)
    }
}

/// What a method works with.
pub struct UnlearnContext<'a> {
    /// The run's configuration.
    pub config: &'a UnlearnConfig,
    /// The original model θ_o, encoded (every method decodes its own copy: BatchNorm running
    /// statistics are shared between clones, so θ_o itself is never trained).
    pub original_bytes: &'a [u8],
    /// SHA-256 of θ_o's weights file, naming the original a checkpoint belongs to. (Not of
    /// `original_bytes`: re-encoding gives BatchNorm's running statistics fresh ids each time.)
    pub original_sha256: &'a str,
    /// Its architecture.
    pub model_config: &'a ModelConfig,
    /// The training set (D_r and D_f index into it).
    pub train_set: &'a ImageDataset,
    /// The split.
    pub split: &'a UnlearningSplit,
    /// Training (autodiff) device.
    pub training_device: Device,
    /// Inference device (the same backend without autodiff).
    pub device: Device,
    /// Where the data lives (Retrain reloads it).
    pub data_dir: PathBuf,
    /// Where the method may keep its own files (Retrain's checkpoints).
    pub work_dir: PathBuf,
    /// Show progress bars.
    pub progress: bool,
    /// When this process started the method (for the wall time a checkpoint records).
    pub started: Instant,
    /// Stop (with [`UnlearnError::Paused`]) after this many epochs of this process, keeping
    /// the checkpoint; `None` runs to the end.
    pub pause_after: Option<usize>,
    /// Set by [`train_loop`] when it resumed from a checkpoint of earlier processes.
    pub resumed: Cell<Option<Resumed>>,
}

impl UnlearnContext<'_> {
    /// The run's wall time and peak memory so far, over this process and, for a resumed run,
    /// the processes before it.
    pub fn run_totals(&self) -> crate::train::RunTotals {
        crate::train::run_totals_since(
            self.started,
            self.resumed
                .get()
                .map(|resumed| resumed.totals)
                .unwrap_or_default(),
        )
    }

    /// Epochs for `method` (the configured value, else its default).
    pub fn epochs(&self, method: &dyn UnlearningMethod) -> usize {
        self.config.epochs_for(method, self.model_config)
    }

    /// Learning rate (the configured value, else `default`).
    pub fn learning_rate(&self, default: f64) -> f64 {
        self.config.learning_rate.unwrap_or(default)
    }

    /// D_r with true labels.
    pub fn retain_samples(&self) -> Vec<Sample> {
        samples(self.train_set, &self.split.retain)
    }

    /// D_f with true labels.
    pub fn forget_samples(&self) -> Vec<Sample> {
        samples(self.train_set, &self.split.forget)
    }

    /// A fresh copy of θ_o on the training device.
    pub fn start(&self) -> Result<Classifier, UnlearnError> {
        Ok(lethe_shared::weights::decode_model(
            self.original_bytes.to_vec(),
            self.model_config,
            &self.training_device,
        )?)
    }
}

/// The result of a method.
pub struct MethodOutput {
    /// The unlearned model: plain (adapters merged), masks applied, on the training device.
    pub model: Classifier,
    /// Epochs run.
    pub epochs: usize,
    /// The pruning mask, for methods that prune.
    pub prune_mask: Option<PruneMask>,
    /// Per-epoch log lines.
    pub history: Vec<EpochLog>,
    /// Trainable parameters during unlearning.
    pub trainable_params: usize,
}

/// The part of the split a method's training steps read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingData {
    /// The retain set D_r alone (Retrain, FT, Prune+FT, LoRA, PruneLoRA, ℓ1-sparse).
    Retain,
    /// The forget set D_f alone (GA): D_r is only measured.
    Forget,
    /// Both D_r and D_f (RFA, RL, SalUn).
    RetainAndForget,
}

impl TrainingData {
    /// The data named in a run's description: `limits` cut D_r / D_f to their first images.
    ///
    /// ```text
    /// Retain            full D_r | first 9000 images of D_r
    /// Forget            D_f only (split: full D_r)
    /// RetainAndForget   full D_r and D_f
    /// ```
    pub fn describe(self, limits: &SplitLimits) -> String {
        let retain = match limits.retain {
            Some(limit) => format!("first {limit} images of D_r"),
            None => String::from("full D_r"),
        };
        let forget = match limits.forget {
            Some(limit) => format!("first {limit} images of D_f"),
            None => String::from("D_f"),
        };
        match self {
            TrainingData::Retain => retain,
            TrainingData::Forget => format!("{forget} only (split: {retain})"),
            TrainingData::RetainAndForget => format!("{retain} and {forget}"),
        }
    }
}

/// One method of spec §3.
pub trait UnlearningMethod {
    /// Which method this is.
    fn kind(&self) -> MethodKind;
    /// Which part of the split its training steps read (what a run's description says it saw).
    fn trains_on(&self) -> TrainingData;
    /// Epochs when none are configured.
    fn default_epochs(&self) -> usize;
    /// Epochs when none are configured, for this architecture (default: [`Self::default_epochs`]).
    fn default_epochs_for(&self, _model: &ModelConfig) -> usize {
        self.default_epochs()
    }
    /// Unlearn: from `context.original`, return the unlearned plain model.
    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError>;
}

/// One training image with the label to train it towards (its own, or a random one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Index into the training set.
    pub index: usize,
    /// Target label.
    pub label: u8,
}

/// The images `indices` of `dataset` with their true labels.
pub fn samples(dataset: &ImageDataset, indices: &[usize]) -> Vec<Sample> {
    indices
        .iter()
        .map(|&index| Sample {
            index,
            label: dataset.label(index),
        })
        .collect()
}

/// A mini-batch on the training device.
pub struct Batch {
    /// Normalised images `[n, c, h, w]`.
    pub images: Tensor<4>,
    /// Target labels `[n]`.
    pub labels: Tensor<1, Int>,
    /// The samples.
    pub samples: Vec<Sample>,
}

impl Batch {
    pub(crate) fn new(dataset: &ImageDataset, samples: &[Sample], device: &Device) -> Self {
        let indices: Vec<usize> = samples.iter().map(|sample| sample.index).collect();
        let (pixels, _) = dataset.gather(&indices);
        let labels = samples
            .iter()
            .map(|sample| i64::from(sample.label))
            .collect();
        Self {
            images: normalize_images(&pixels, dataset.kind, device),
            labels: label_tensor(labels, device),
            samples: samples.to_vec(),
        }
    }
}

/// One epoch's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean loss.
    pub loss: f64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// What the shared loop trains on and how.
pub struct LoopPlan<'a> {
    /// Method name (progress and errors).
    pub method: &'static str,
    /// Epochs.
    pub epochs: usize,
    /// Batches are drawn from these, shuffled every epoch.
    pub primary: Vec<Sample>,
    /// Optional second stream, cycled alongside `primary` (a batch of it with every batch).
    pub secondary: Option<Vec<Sample>>,
    /// The optimizer.
    pub optimizer: ModuleOptimizer,
    /// Learning rate at a fraction of training done, in [0, 1).
    pub learning_rate: &'a dyn Fn(f64) -> f64,
    /// Checkpoint every epoch and resume from a checkpoint of this run. Only for a loss and
    /// hook without state of their own: the loop replays its batch order, nothing else.
    pub resumable: bool,
}

/// The batches of [`train_loop`], epoch after epoch, from one seeded generator: the primary
/// stream reshuffled every epoch, the secondary one cycled (reshuffled whenever it wraps round).
/// Drawing is cheap and deterministic, so a resumed run replays the epochs it skips and goes on
/// with exactly the batches an uninterrupted run would see.
pub struct BatchOrder {
    rng: StdRng,
    primary: Vec<Sample>,
    secondary: Vec<Sample>,
    secondary_position: usize,
    batch_size: usize,
}

/// One step's samples: a primary batch and, with a secondary stream, its companion batch.
pub type StepSamples = (Vec<Sample>, Option<Vec<Sample>>);

impl BatchOrder {
    /// The order of `primary` (and `secondary`) in batches of `batch_size`, seeded by `seed`.
    pub fn new(
        seed: u64,
        primary: Vec<Sample>,
        secondary: Option<Vec<Sample>>,
        batch_size: usize,
    ) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed ^ 0x5EED_u64),
            primary,
            secondary: secondary.unwrap_or_default(),
            secondary_position: 0,
            batch_size: batch_size.max(1),
        }
    }

    /// Steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.primary.len().div_ceil(self.batch_size)
    }

    /// The next epoch's steps.
    pub fn next_epoch(&mut self) -> Vec<StepSamples> {
        let Self {
            rng,
            primary,
            secondary,
            secondary_position,
            batch_size,
        } = self;
        primary.shuffle(rng);
        primary
            .chunks(*batch_size)
            .map(|chunk| {
                if secondary.is_empty() {
                    return (chunk.to_vec(), None);
                }
                let wanted = (*batch_size).min(secondary.len());
                let mut picked = Vec::with_capacity(wanted);
                while picked.len() < wanted {
                    if *secondary_position == 0 {
                        secondary.shuffle(rng);
                    }
                    picked.push(secondary[*secondary_position]);
                    *secondary_position = (*secondary_position + 1) % secondary.len();
                }
                (chunk.to_vec(), Some(picked))
            })
            .collect()
    }
}

/// The loss of one step: (model, primary batch, secondary batch, share of training done).
pub type LossFn<'a> = dyn FnMut(&Classifier, &Batch, Option<&Batch>, f64) -> Tensor<1> + 'a;
/// Run after every optimizer step (masks, resets).
pub type AfterStep<'a> = dyn FnMut(Classifier) -> Result<Classifier, UnlearnError> + 'a;

/// The shared mini-batch loop: shuffle, batch, loss, backward, step, after-step hook; a progress
/// bar per epoch and a log line after it; stops with [`UnlearnError::Diverged`] on a non-finite
/// loss. A resumable plan checkpoints after every epoch but the last ([`checkpoint`]) and starts
/// from a checkpoint of the same run when there is one; with `context.pause_after` it stops
/// with [`UnlearnError::Paused`] after that many epochs.
pub fn train_loop(
    context: &UnlearnContext<'_>,
    mut model: Classifier,
    mut plan: LoopPlan<'_>,
    loss_fn: &mut LossFn<'_>,
    after_step: &mut AfterStep<'_>,
) -> Result<(Classifier, Vec<EpochLog>), UnlearnError> {
    let batch_size = context.config.batch_size;
    let device = &context.training_device;
    let mut order = BatchOrder::new(
        context.config.seed,
        std::mem::take(&mut plan.primary),
        plan.secondary.take(),
        batch_size,
    );
    let steps_per_epoch = order.steps_per_epoch();
    let total_steps = (steps_per_epoch * plan.epochs).max(1);
    let checkpoint = LoopCheckpoint::in_work_dir(&context.work_dir);
    let original_sha256 = context.original_sha256;
    if !plan.resumable && context.pause_after.is_some() {
        tracing::warn!(
            "{} does not checkpoint (its loss keeps state the loop cannot replay), so it cannot \
             pause: --pause-after is ignored",
            plan.method
        );
    }
    let mut history = Vec::with_capacity(plan.epochs);
    let mut first_epoch = 0;
    if plan.resumable
        && let Some(state) = checkpoint.read()?
    {
        if state.belongs_to(context.config, original_sha256) && state.completed_epochs < plan.epochs
        {
            (model, plan.optimizer) = checkpoint.restore(&state, model, plan.optimizer)?;
            for _ in 0..state.completed_epochs {
                order.next_epoch();
            }
            tracing::info!(
                "{}: resuming after epoch {}/{} from {} ({:.0} s so far)",
                plan.method,
                state.completed_epochs,
                plan.epochs,
                checkpoint.dir().display(),
                state.seconds
            );
            context.resumed.set(Some(Resumed {
                completed_epochs: state.completed_epochs,
                totals: state.totals(),
                resumes: state.resumes,
            }));
            first_epoch = state.completed_epochs;
            history = state.history;
        } else {
            tracing::warn!(
                "{}: {} holds a checkpoint of another run (configuration or original model \
                 differ); starting from scratch",
                plan.method,
                checkpoint.dir().display()
            );
            checkpoint.remove();
        }
    }
    for epoch in first_epoch..plan.epochs {
        let steps = order.next_epoch();
        let progress = progress_bar(
            context.progress,
            steps_per_epoch as u64,
            format!("{} epoch {}/{}", plan.method, epoch + 1, plan.epochs),
        );
        let started = Instant::now();
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        for (step, (primary, secondary)) in steps.iter().enumerate() {
            let batch = Batch::new(context.train_set, primary, device);
            let secondary = secondary
                .as_ref()
                .map(|picked| Batch::new(context.train_set, picked, device));
            let done = (epoch * steps_per_epoch + step) as f64 / total_steps as f64;
            let loss = loss_fn(&model, &batch, secondary.as_ref(), done);
            let loss_value = f64::from(loss.clone().into_scalar::<f32>());
            if !loss_value.is_finite() {
                progress.abandon();
                // A rerun of the same configuration would diverge the same way, and another
                // configuration cannot use the checkpoint: nothing of the run is kept.
                if plan.resumable {
                    checkpoint.remove();
                    let _ = std::fs::remove_dir(&context.work_dir);
                }
                return Err(UnlearnError::Diverged {
                    method: plan.method,
                    epoch: epoch + 1,
                    step: step + 1,
                    loss: loss_value,
                });
            }
            model = optimizer_step(&mut plan.optimizer, (plan.learning_rate)(done), model, loss);
            crate::memory::sample_device_memory(&context.training_device);
            model = after_step(model)?;
            loss_sum += loss_value * primary.len() as f64;
            seen += primary.len();
            progress.set_message(format!("loss {:.4}", loss_sum / seen as f64));
            progress.inc(1);
        }
        progress.finish_and_clear();
        let record = EpochLog {
            epoch: epoch + 1,
            loss: loss_sum / seen.max(1) as f64,
            seconds: started.elapsed().as_secs_f64(),
        };
        tracing::info!(
            "{} epoch {}/{}  loss {:.4}  {:.1}s",
            plan.method,
            record.epoch,
            plan.epochs,
            record.loss,
            record.seconds
        );
        history.push(record);
        let completed = epoch + 1;
        if plan.resumable && completed < plan.epochs {
            let state = LoopState::new(
                context.config,
                original_sha256,
                completed,
                plan.epochs,
                history.clone(),
                context.run_totals(),
                context
                    .resumed
                    .get()
                    .map_or(0, |resumed| resumed.resumes + 1),
            );
            checkpoint.save(&state, &model, &plan.optimizer)?;
            if context
                .pause_after
                .is_some_and(|pause| completed - first_epoch >= pause)
            {
                return Err(UnlearnError::Paused {
                    method: plan.method,
                    completed,
                    total: plan.epochs,
                    checkpoint: checkpoint.dir().to_path_buf(),
                });
            }
        }
    }
    Ok((model, history))
}

/// A hook that does nothing.
pub fn no_hook(model: Classifier) -> Result<Classifier, UnlearnError> {
    Ok(model)
}

/// Learnable parameters that currently require a gradient.
pub fn trainable_params(model: &Classifier) -> usize {
    struct Counter(usize);
    impl burn::module::ModuleVisitor for Counter {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            if param.val().is_require_grad() {
                self.0 += param.shape().num_elements();
            }
        }
    }
    let mut counter = Counter(0);
    model.visit(&mut counter);
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_run_ignores_the_backend_only() {
        let saved = UnlearnConfig::new(MethodKind::Salun, ForgetRequest::Classes(vec![3]));
        let on_gpu = UnlearnConfig {
            backend: Backend::Wgpu,
            ..saved.clone()
        };
        assert!(on_gpu.same_run_as(&saved));
        assert!(saved.same_run_as(&on_gpu));
        let reseeded = UnlearnConfig {
            seed: saved.seed + 1,
            ..saved.clone()
        };
        assert!(!reseeded.same_run_as(&saved));
        let other_class = UnlearnConfig {
            forget: ForgetRequest::Classes(vec![5]),
            ..on_gpu
        };
        assert!(!other_class.same_run_as(&saved));
    }

    #[test]
    fn each_method_names_the_data_it_trains_on() {
        let trains_on = |kind: MethodKind| kind.method().trains_on();
        assert_eq!(trains_on(MethodKind::Ga), TrainingData::Forget);
        for kind in [MethodKind::Rfa, MethodKind::Rl, MethodKind::Salun] {
            assert_eq!(trains_on(kind), TrainingData::RetainAndForget, "{kind}");
        }
        for kind in [
            MethodKind::Retrain,
            MethodKind::Ft,
            MethodKind::PruneFt,
            MethodKind::Lora,
            MethodKind::Prunelora,
            MethodKind::L1Sparse,
        ] {
            assert_eq!(trains_on(kind), TrainingData::Retain, "{kind}");
        }
        for kind in MethodKind::ALL {
            assert_eq!(kind.method().kind(), kind);
        }

        let full = SplitLimits::default();
        let short = SplitLimits {
            retain: Some(9000),
            ..full
        };
        assert_eq!(TrainingData::Retain.describe(&full), "full D_r");
        assert_eq!(
            TrainingData::Retain.describe(&short),
            "first 9000 images of D_r"
        );
        assert_eq!(
            TrainingData::Forget.describe(&short),
            "D_f only (split: first 9000 images of D_r)"
        );
        assert_eq!(
            TrainingData::RetainAndForget.describe(&SplitLimits {
                forget: Some(50),
                ..full
            }),
            "full D_r and first 50 images of D_f"
        );
    }
}
