//! `lethe train`: the original-model recipe of `../shared/spec/unlearning-protocol.md` §2,
//! scaled for CPUs, with a checkpoint after every epoch and `--resume`.
//!
//! Layout of a run directory:
//! - `config.json` — the full [`TrainConfig`] (seed included) and versions, written first;
//! - `checkpoint/state.json` + `checkpoint/epoch-NNNN.{bpk,optim}` — the last complete epoch;
//! - `model.bpk` + `manifest.json` — the final weights and what they are;
//! - `metrics.json` — final accuracy (overall, per class), throughput and the epoch history;
//! - `train.log` — one line per epoch.
//!
//! Every file is written atomically (temporary file + rename), and `state.json` is written only
//! after the epoch's weights and optimizer state, so a kill at any instant leaves a consistent
//! checkpoint behind. `state.json` also carries the wall time and peak memory of the processes
//! so far, so a run resumed (after a kill, or after [`TrainOptions::pause_after`]) reports the
//! cost of the whole run, not of its last process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use lethe_shared::augment::crop_and_flip;
use lethe_shared::data::split::{ForgetRequest, UnlearningSplit, ValidationHoldout};
use lethe_shared::data::{DataSplit, DatasetKind, ImageDataset};
use lethe_shared::model::{Classifier, Preset};
use lethe_shared::preprocess::normalize_images;
use lethe_shared::weights::{self, Manifest, Versions, write_atomic};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::eval::{Evaluation, evaluate, format_per_class, label_tensor};

/// Optimizer of a recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// SGD with momentum and L2 weight decay (the ResNet recipe).
    Sgd,
    /// AdamW with decoupled weight decay (the ViT recipe).
    Adamw,
}

/// Everything that defines a training run. Written to `config.json` beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Dataset to train on.
    pub dataset: DatasetKind,
    /// Architecture preset.
    pub model: Preset,
    /// Number of epochs.
    pub epochs: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Peak learning rate (cosine-decayed to 0 over the run, after the warmup).
    pub learning_rate: f64,
    /// SGD momentum (ignored by AdamW).
    pub momentum: f64,
    /// Weight decay (L2 for SGD, decoupled for AdamW).
    pub weight_decay: f64,
    /// Linear warmup length, in epochs (may be fractional).
    pub warmup_epochs: f64,
    /// Clip the global gradient norm to this value.
    pub grad_clip_norm: Option<f32>,
    /// Random crop (4 px padding) + horizontal flip.
    pub augment: bool,
    /// Seed of the initialisation, the shuffling and the augmentation.
    pub seed: u64,
    /// Train on the first N training images only (tests, quick checks).
    pub train_subset: Option<usize>,
    /// Evaluate on the first N test images only.
    pub test_subset: Option<usize>,
    /// Evaluate the test set every N epochs (and always after the last).
    pub eval_every: usize,
    /// Compute backend.
    pub backend: Backend,
    /// Train on the retained part of a forgetting split only (Retrain, exact unlearning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_only: Option<RetainOnly>,
}

/// The forgetting split whose D_r a retrain run trains on (and whose test_r it evaluates on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetainOnly {
    /// What is forgotten.
    pub forget: ForgetRequest,
    /// Validation hold-out.
    pub validation: ValidationHoldout,
}

/// Whether `out` holds a checkpoint `--resume` can continue.
pub fn has_checkpoint(out: &Path) -> bool {
    out.join(CHECKPOINT_DIR).join(STATE_FILE).is_file()
}

/// How far the checkpointed run in a run directory has got, and what it has cost so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckpointProgress {
    /// Epochs completed.
    pub completed_epochs: usize,
    /// Wall time of the processes that completed them, seconds (from each process's start to
    /// its last checkpoint). Checkpoints written before Lethe recorded it give the sum of the
    /// epochs' training-step times instead (setup and per-epoch evaluation left out).
    pub seconds: f64,
    /// Highest peak RSS of those processes, MiB, when recorded.
    pub peak_rss_mib: Option<f64>,
    /// Highest device memory reserved by those processes, MiB (GPU backends; `None` on the
    /// CPU and in checkpoints written before Lethe recorded it).
    pub peak_device_mib: Option<f64>,
    /// Resumes before the process that wrote the checkpoint (0: the first process wrote it).
    pub resumes: usize,
}

impl CheckpointProgress {
    /// What the processes that completed these epochs cost.
    pub fn totals(&self) -> RunTotals {
        RunTotals {
            seconds: self.seconds,
            peak_rss_mib: self.peak_rss_mib,
            peak_device_mib: self.peak_device_mib,
        }
    }
}

/// The progress of the checkpointed run in `out`, or `None` when it has no checkpoint.
pub fn checkpoint_progress(out: &Path) -> anyhow::Result<Option<CheckpointProgress>> {
    let state_path = out.join(CHECKPOINT_DIR).join(STATE_FILE);
    if !state_path.is_file() {
        return Ok(None);
    }
    let state: CheckpointState = read_json(&state_path)?;
    Ok(Some(state.progress()))
}

/// The configuration of the checkpointed run in `out`, or `None` when it has no checkpoint
/// (so a caller can tell whether `--resume` would continue *its* run).
pub fn checkpointed_config(out: &Path) -> anyhow::Result<Option<TrainConfig>> {
    if !has_checkpoint(out) {
        return Ok(None);
    }
    let saved: RunConfig = read_json(&out.join(CONFIG_FILE))?;
    Ok(Some(saved.train))
}

/// `lethe train` stopped after [`TrainOptions::pause_after`] epochs, as asked; the checkpoint
/// of its last epoch is kept and `--resume` continues the run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "training paused after epoch {completed}/{total} (--pause-after); its checkpoint is in {}: \
     run the same command again with --resume to continue",
    checkpoint.display()
)]
pub struct TrainPaused {
    /// Epochs completed.
    pub completed: usize,
    /// Epochs of the whole run.
    pub total: usize,
    /// The checkpoint directory.
    pub checkpoint: PathBuf,
}

/// What a run has cost so far, over all its processes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunTotals {
    /// Wall time, seconds.
    pub seconds: f64,
    /// Highest peak RSS, MiB (when the platform reports it).
    pub peak_rss_mib: Option<f64>,
    /// Highest device memory reserved, MiB (GPU backends only; [`crate::memory`]).
    pub peak_device_mib: Option<f64>,
}

/// The totals of a run so far: this process since `started` plus the processes before it
/// (`earlier`: their wall time added, the higher of the peaks kept). Shared by `lethe train`'s
/// checkpoints and the unlearning loop's, so a resumed run of either reports the same totals.
pub(crate) fn run_totals_since(started: Instant, earlier: RunTotals) -> RunTotals {
    let higher =
        |now: Option<f64>, before: Option<f64>| now.into_iter().chain(before).reduce(f64::max);
    RunTotals {
        seconds: started.elapsed().as_secs_f64() + earlier.seconds,
        peak_rss_mib: higher(
            lethe_shared::metrics::peak_rss_bytes().map(|bytes| bytes as f64 / (1024.0 * 1024.0)),
            earlier.peak_rss_mib,
        ),
        peak_device_mib: higher(crate::memory::peak_device_mib(), earlier.peak_device_mib),
    }
}

impl TrainConfig {
    /// Whether `self` describes the same run as `saved`: equal in everything but the backend
    /// (where a run executes, not what it is — a checkpoint resumes on any backend).
    pub fn same_run_as(&self, saved: &TrainConfig) -> bool {
        TrainConfig {
            backend: self.backend,
            ..saved.clone()
        } == *self
    }

    /// The committed default recipe for a model family, scaled for CPU budgets.
    ///
    /// - ResNets: SGD lr 0.1, momentum 0.9, weight decay 5e-4, cosine, batch 128, crop + flip.
    /// - ViTs: AdamW lr 1e-3, weight decay 0.1, warmup 10 % of the epochs then cosine,
    ///   gradient-norm clip 1.0, batch 128, crop + flip (the paper adds MixUp 0.2; Lethe does not).
    pub fn recipe(model: Preset, dataset: DatasetKind, epochs: usize) -> Self {
        let resnet = model.is_resnet();
        Self {
            dataset,
            model,
            epochs,
            batch_size: 128,
            optimizer: if resnet {
                OptimizerKind::Sgd
            } else {
                OptimizerKind::Adamw
            },
            learning_rate: if resnet { 0.1 } else { 1e-3 },
            momentum: 0.9,
            weight_decay: if resnet { 5e-4 } else { 0.1 },
            warmup_epochs: if resnet {
                0.0
            } else {
                (epochs as f64 * 0.1).max(1.0)
            },
            grad_clip_norm: if resnet { None } else { Some(1.0) },
            augment: true,
            seed: 0,
            train_subset: None,
            test_subset: None,
            eval_every: 1,
            backend: Backend::best_available(),
            retain_only: None,
        }
    }

    /// Check the values a user can get wrong.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.epochs == 0 {
            bail!("--epochs must be at least 1");
        }
        if self.batch_size == 0 {
            bail!("--batch-size must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            bail!("--lr must be a positive number, got {}", self.learning_rate);
        }
        if self.eval_every == 0 {
            bail!("--eval-every must be at least 1");
        }
        if matches!(self.train_subset, Some(0)) || matches!(self.test_subset, Some(0)) {
            bail!("subset sizes must be at least 1");
        }
        Ok(())
    }

    /// Learning rate at `step` (0-based) of `total_steps`: linear warmup, then cosine to 0.
    pub fn learning_rate_at(&self, step: usize, steps_per_epoch: usize) -> f64 {
        let total = (self.epochs * steps_per_epoch).max(1);
        let warmup = (self.warmup_epochs * steps_per_epoch as f64).round() as usize;
        if step < warmup {
            return self.learning_rate * (step + 1) as f64 / warmup as f64;
        }
        let progress = (step - warmup) as f64 / (total - warmup).max(1) as f64;
        0.5 * self.learning_rate * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos())
    }

    fn optimizer(&self) -> ModuleOptimizer {
        match self.optimizer {
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum(Some(MomentumConfig {
                    momentum: self.momentum,
                    dampening: 0.0,
                    nesterov: false,
                }))
                .with_weight_decay(Some(WeightDecayConfig::new(self.weight_decay as f32)))
                .with_gradient_clipping(self.grad_clip_norm.map(GradientClippingConfig::Norm))
                .init(),
            OptimizerKind::Adamw => AdamWConfig::new()
                .with_weight_decay(self.weight_decay as f32)
                .with_grad_clipping(self.grad_clip_norm.map(GradientClippingConfig::Norm))
                .init(),
        }
    }
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy over the epoch (augmented images, model in training mode), in %.
    pub train_accuracy: f64,
    /// Test accuracy after the epoch, in %, when evaluated.
    pub test_accuracy: Option<f64>,
    /// Learning rate at the end of the epoch.
    pub learning_rate: f64,
    /// Wall time of the training steps, in seconds.
    pub seconds: f64,
    /// Training throughput.
    pub images_per_second: f64,
}

/// The checkpoint index: which files hold the last complete epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    completed_epochs: usize,
    weights: String,
    optimizer: String,
    history: Vec<EpochRecord>,
    /// Wall time of all processes up to this checkpoint, seconds (absent before 2026-12-05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wall_seconds: Option<f64>,
    /// Highest peak RSS of those processes, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    peak_rss_mib: Option<f64>,
    /// Highest device memory reserved by those processes, MiB (GPU backends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    peak_device_mib: Option<f64>,
    /// Resumes before the process that wrote this checkpoint.
    #[serde(default)]
    resumes: usize,
}

impl CheckpointState {
    fn progress(&self) -> CheckpointProgress {
        CheckpointProgress {
            completed_epochs: self.completed_epochs,
            seconds: self.wall_seconds.unwrap_or_else(|| {
                self.history
                    .iter()
                    .map(|record| record.seconds)
                    .sum::<f64>()
            }),
            peak_rss_mib: self.peak_rss_mib,
            peak_device_mib: self.peak_device_mib,
            resumes: self.resumes,
        }
    }
}

/// `config.json`: the run's configuration and the versions that ran it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    /// The training configuration.
    pub train: TrainConfig,
    /// Tool versions.
    pub versions: Versions,
}

/// Final results of `lethe train`, written to `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// Final test evaluation.
    pub test: Evaluation,
    /// Mean training throughput over the run, images/s.
    pub images_per_second: f64,
    /// Total training wall time (this process and earlier resumed ones), seconds.
    pub train_seconds: f64,
    /// One record per epoch.
    pub history: Vec<EpochRecord>,
}

/// Options of one `lethe train` invocation that are not part of the run's identity.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Run directory.
    pub out: PathBuf,
    /// Continue from the last complete epoch in `out`.
    pub resume: bool,
    /// Data directory (already resolved).
    pub data_dir: PathBuf,
    /// Download the dataset if absent.
    pub download: bool,
    /// Show progress bars.
    pub progress: bool,
    /// Stop with [`TrainPaused`] after this many epochs of this process (the checkpoint is
    /// kept; never before the last epoch's final weights would be written); `None` runs to the
    /// end.
    pub pause_after: Option<usize>,
}

const CHECKPOINT_DIR: &str = "checkpoint";
const STATE_FILE: &str = "state.json";
const CONFIG_FILE: &str = "config.json";

/// Train a model from scratch (or resume), write its artifacts into `options.out`.
pub fn run(config: TrainConfig, options: &TrainOptions) -> anyhow::Result<TrainReport> {
    let process_started = Instant::now();
    let checkpoint_dir = options.out.join(CHECKPOINT_DIR);
    let state_path = checkpoint_dir.join(STATE_FILE);
    let config_path = options.out.join(CONFIG_FILE);

    let resumed = if options.resume && state_path.is_file() {
        let saved: RunConfig = read_json(&config_path)?;
        if !config.same_run_as(&saved.train) {
            tracing::warn!(
                "resuming with the configuration saved in {} (command-line settings are ignored on resume)",
                config_path.display()
            );
        }
        let state: CheckpointState = read_json(&state_path)?;
        Some((saved.train, state))
    } else {
        if state_path.is_file() {
            bail!(
                "{} already holds a training run: pass --resume to continue it, or choose another --out",
                options.out.display()
            );
        }
        if options.resume {
            tracing::warn!(
                "--resume: no checkpoint in {}, starting from scratch",
                options.out.display()
            );
        }
        None
    };
    // The backend is where the run executes, not what it is: checkpoints are Burnpack files any
    // backend reads, so a run may resume on another one (e.g. started on a GPU, finished on CPU).
    let config = match resumed.as_ref() {
        Some((saved, _)) => {
            if saved.backend != config.backend {
                tracing::info!(
                    "resuming on {:?} (the run so far used {:?})",
                    config.backend,
                    saved.backend
                );
            }
            TrainConfig {
                backend: config.backend,
                ..saved.clone()
            }
        }
        None => config,
    };
    config.validate()?;

    let device = config.backend.device()?;
    let training_device = config.backend.training_device()?;
    tracing::info!(
        "training {} on {} with {:?} ({} epochs, batch {}, seed {})",
        config.model,
        config.dataset.name(),
        config.backend,
        config.epochs,
        config.batch_size,
        config.seed
    );

    let train_set = crate::data_dir::load(
        config.dataset,
        &options.data_dir,
        DataSplit::Train,
        options.download,
    )?;
    let test_set = crate::data_dir::load(
        config.dataset,
        &options.data_dir,
        DataSplit::Test,
        options.download,
    )?;
    let (train_indices, test_indices, forgotten_classes) = match &config.retain_only {
        None => (
            first_indices(&train_set, config.train_subset),
            first_indices(&test_set, config.test_subset),
            Vec::new(),
        ),
        Some(retain_only) => {
            let split = UnlearningSplit::new(
                &train_set,
                &test_set,
                &retain_only.forget,
                retain_only.validation,
            )?;
            tracing::info!(
                "retraining on D_r only ({} images; forgetting {})",
                split.retain.len(),
                retain_only.forget
            );
            let cut = |mut list: Vec<usize>, limit: Option<usize>| {
                if let Some(limit) = limit {
                    list.truncate(limit);
                }
                list
            };
            (
                cut(split.retain, config.train_subset),
                cut(split.test_retain, config.test_subset),
                split.forgotten_classes,
            )
        }
    };

    let model_config = config.model.config(config.dataset);
    let mut optimizer = config.optimizer();
    // What the processes before this one cost (nothing for a fresh run) and how many resumed.
    let earlier = resumed.as_ref().map(|(_, state)| state.progress());
    let (mut model, mut history, start_epoch) = match resumed {
        Some((_, state)) => {
            let weights_path = checkpoint_dir.join(&state.weights);
            let bytes = std::fs::read(&weights_path)
                .with_context(|| format!("reading checkpoint {}", weights_path.display()))?;
            let model = weights::decode_model(bytes, &model_config, &training_device)
                .with_context(|| format!("loading checkpoint {}", weights_path.display()))?;
            let optimizer_path = checkpoint_dir.join(&state.optimizer);
            let optimizer_bytes = std::fs::read(&optimizer_path)
                .with_context(|| format!("reading checkpoint {}", optimizer_path.display()))?;
            optimizer = optimizer
                .from_bytes(Bytes::from_bytes_vec(optimizer_bytes))
                .map_err(|error| {
                    anyhow::anyhow!(
                        "loading optimizer state {}: {error}",
                        optimizer_path.display()
                    )
                })?;
            tracing::info!(
                "resuming after epoch {} of {} from {}",
                state.completed_epochs,
                config.epochs,
                checkpoint_dir.display()
            );
            (model, state.history, state.completed_epochs)
        }
        None => {
            let run_config = RunConfig {
                train: config.clone(),
                versions: config.backend.versions(),
            };
            write_atomic(
                &config_path,
                serde_json::to_string_pretty(&run_config)?.as_bytes(),
            )?;
            training_device.seed(config.seed);
            (model_config.init(&training_device), Vec::new(), 0)
        }
    };

    let evaluate_test = |model: &Classifier| {
        evaluate(
            model,
            &test_set,
            Some(&test_indices),
            config.batch_size,
            &device,
        )
    };
    let steps_per_epoch = train_indices.len().div_ceil(config.batch_size);
    let loss_function = CrossEntropyLossConfig::new().init(&training_device);
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(options.out.join("train.log"))
        .with_context(|| format!("opening {}", options.out.join("train.log").display()))?;

    for epoch in start_epoch..config.epochs {
        let mut rng = StdRng::seed_from_u64(epoch_seed(config.seed, epoch));
        let mut order = train_indices.clone();
        order.shuffle(&mut rng);
        let progress = progress_bar(
            options.progress,
            steps_per_epoch as u64,
            format!("epoch {}/{}", epoch + 1, config.epochs),
        );
        let started = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut learning_rate = config.learning_rate;
        for (step, batch) in order.chunks(config.batch_size).enumerate() {
            let (mut pixels, labels) = train_set.gather(batch);
            if config.augment {
                crop_and_flip(
                    &mut pixels,
                    config.dataset.channels(),
                    config.dataset.image_size(),
                    4,
                    &mut rng,
                );
            }
            let images = normalize_images(&pixels, config.dataset, &training_device);
            let targets = label_tensor(labels, &training_device);
            let logits = model.forward(images);
            let hits: i64 = logits
                .clone()
                .argmax(1)
                .reshape([batch.len()])
                .equal(targets.clone())
                .int()
                .sum()
                .into_scalar();
            let loss = loss_function.forward(logits, targets);
            let loss_value: f64 = loss.clone().into_scalar::<f32>().into();
            if !loss_value.is_finite() {
                progress.abandon();
                bail!(
                    "training diverged at epoch {} step {}: loss is {loss_value}. The last complete checkpoint (epoch {}) in {} is intact; lower --lr and rerun with --resume.",
                    epoch + 1,
                    step + 1,
                    epoch,
                    checkpoint_dir.display()
                );
            }
            let gradients = GradientsParams::from_grads(loss.backward(), &model);
            learning_rate =
                config.learning_rate_at(epoch * steps_per_epoch + step, steps_per_epoch);
            model = optimizer.step(learning_rate, model, gradients);
            crate::memory::sample_device_memory(&training_device);

            loss_sum += loss_value * batch.len() as f64;
            correct += hits as usize;
            seen += batch.len();
            progress.set_message(format!(
                "loss {:.4} acc {:.2}%",
                loss_sum / seen as f64,
                100.0 * correct as f64 / seen as f64
            ));
            progress.inc(1);
        }
        let seconds = started.elapsed().as_secs_f64();
        progress.finish_and_clear();

        let last = epoch + 1 == config.epochs;
        let test_accuracy = if (epoch + 1) % config.eval_every == 0 || last {
            Some(evaluate_test(&model)?.accuracy)
        } else {
            None
        };
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: 100.0 * correct as f64 / seen.max(1) as f64,
            test_accuracy,
            learning_rate,
            seconds,
            images_per_second: seen as f64 / seconds.max(1e-9),
        };
        let line = format!(
            "epoch {}/{}  loss {:.4}  train acc {:.2}%  test acc {}  lr {:.5}  {:.1}s  {:.1} img/s",
            record.epoch,
            config.epochs,
            record.train_loss,
            record.train_accuracy,
            record
                .test_accuracy
                .map_or_else(|| String::from("-"), |accuracy| format!("{accuracy:.2}%")),
            record.learning_rate,
            record.seconds,
            record.images_per_second
        );
        tracing::info!("{line}");
        writeln!(log, "{line}").context("writing train.log")?;
        history.push(record);
        let cost = RunCost {
            totals: run_totals_since(
                process_started,
                earlier
                    .map(|progress| progress.totals())
                    .unwrap_or_default(),
            ),
            resumes: earlier.map_or(0, |progress| progress.resumes + 1),
        };
        save_checkpoint(
            &checkpoint_dir,
            epoch + 1,
            &model,
            &optimizer,
            &history,
            cost,
        )?;
        let completed = epoch + 1;
        if completed < config.epochs
            && options
                .pause_after
                .is_some_and(|pause| completed - start_epoch >= pause)
        {
            return Err(TrainPaused {
                completed,
                total: config.epochs,
                checkpoint: checkpoint_dir.clone(),
            }
            .into());
        }
    }

    let test = evaluate_test(&model)?;
    let train_seconds: f64 = history.iter().map(|record| record.seconds).sum();
    let trained_images: f64 = history
        .iter()
        .map(|record| record.images_per_second * record.seconds)
        .sum();
    let report = TrainReport {
        images_per_second: trained_images / train_seconds.max(1e-9),
        train_seconds,
        test: test.clone(),
        history,
    };
    println!(
        "\nper-class test accuracy ({} test images):\n{}",
        test.count,
        format_per_class(&test, config.dataset.class_names())
    );
    println!(
        "training throughput: {:.1} images/s over {:.0} s",
        report.images_per_second, report.train_seconds
    );

    let method = if config.retain_only.is_some() {
        "retrain"
    } else {
        "original"
    };
    let mut manifest = Manifest::new(model_config, method, config.seed);
    manifest.versions = config.backend.versions();
    manifest.forgotten_classes = forgotten_classes;
    manifest
        .metrics
        .insert("test_accuracy".into(), test.accuracy);
    manifest
        .metrics
        .insert("train_images_per_second".into(), report.images_per_second);
    manifest
        .metrics
        .insert("train_seconds".into(), report.train_seconds);
    manifest.per_class_accuracy = test.per_class_accuracy.clone();
    manifest.config = serde_json::to_value(&config)?;
    weights::save_run(&options.out, &model.valid(), &manifest)?;
    write_atomic(
        &options.out.join("metrics.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    println!("wrote {}", options.out.display());
    Ok(report)
}

fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A bar of `steps` steps with loss, speed and ETA, labelled `prefix` (hidden when disabled).
pub(crate) fn progress_bar(enabled: bool, steps: u64, prefix: String) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} steps  {msg}  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    bar
}

/// The cost of a run up to a checkpoint, over all its processes.
#[derive(Debug, Clone, Copy)]
struct RunCost {
    totals: RunTotals,
    resumes: usize,
}

fn save_checkpoint(
    dir: &Path,
    completed_epochs: usize,
    model: &Classifier,
    optimizer: &ModuleOptimizer,
    history: &[EpochRecord],
    cost: RunCost,
) -> anyhow::Result<()> {
    let weights_name = format!("epoch-{completed_epochs:04}.bpk");
    let optimizer_name = format!("epoch-{completed_epochs:04}.optim");
    // `valid()` syncs BatchNorm's running statistics first (a record of the training model
    // misses their last update: Burn's RunningState lags one update until synced).
    write_atomic(
        &dir.join(&weights_name),
        &weights::encode_model(&model.valid())?,
    )?;
    let optimizer_bytes = optimizer
        .into_bytes()
        .map_err(|error| anyhow::anyhow!("serialising the optimizer state: {error}"))?;
    write_atomic(&dir.join(&optimizer_name), &optimizer_bytes)?;
    let state = CheckpointState {
        completed_epochs,
        weights: weights_name.clone(),
        optimizer: optimizer_name.clone(),
        history: history.to_vec(),
        wall_seconds: Some(cost.totals.seconds),
        peak_rss_mib: cost.totals.peak_rss_mib,
        peak_device_mib: cost.totals.peak_device_mib,
        resumes: cost.resumes,
    };
    write_atomic(
        &dir.join(STATE_FILE),
        serde_json::to_string_pretty(&state)?.as_bytes(),
    )?;
    remove_older_epochs(dir, &[&weights_name, &optimizer_name])?;
    Ok(())
}

/// Delete the `epoch-*` files of checkpoint directory `dir` other than `keep` (older epochs,
/// no longer referenced by its state file; a leftover would cost disk space only).
pub(crate) fn remove_older_epochs(dir: &Path, keep: &[&str]) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("epoch-") && !keep.contains(&name.as_str()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The first `n` images of a split (all when `None`).
pub fn first_indices(dataset: &ImageDataset, n: Option<usize>) -> Vec<usize> {
    (0..n.map_or(dataset.len(), |n| n.min(dataset.len()))).collect()
}
