//! `lethe bench`: timings of the operations that decide Lethe's speed, as JSON lines that join
//! with `bench/pytorch_reference.py`'s on `(model, op, batch)`.
//!
//! Operations, on real CIFAR-10 training images (the first `batch` of the training set):
//! - `train-step`: forward + cross-entropy + backward + Adam step, every parameter trainable;
//! - `lora-step`: the same with the base frozen and rank-8 adapters on every conv/linear layer;
//! - `infer`: forward pass only, no autodiff;
//! - `prunelora-epoch` / `ft-epoch`: one whole unlearning epoch (forget class 3) over the first
//!   `forget_images` images of D_r through [`crate::unlearn::run::forget`]: the time of the
//!   epoch itself (not the measurement after it) and the peak RSS of the run.
//!
//! Each timed operation runs `warmup` times untimed, then `repeats` times; rows report the
//! median with min and max. FLOPs come from [`lethe_shared::model::flops::forward_flops`]: a
//! training step counts 3 × forward (forward, input gradients, weight gradients), a LoRA step
//! 2 × forward (no weight gradients for the frozen base; the adapters' own FLOPs are not
//! counted), inference 1 ×.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use clap::ValueEnum;
use lethe_shared::adapt::lora::{self, LoraConfig};
use lethe_shared::data::split::ForgetRequest;
use lethe_shared::data::{DataSplit, DatasetKind, ImageDataset};
use lethe_shared::metrics::{peak_rss_bytes, reset_peak_rss};
use lethe_shared::model::flops::forward_flops;
use lethe_shared::model::{Classifier, Preset};
use serde::Serialize;

use crate::backend::Backend;
use crate::data_dir;
use crate::unlearn::run::{RunOptions, forget};
use crate::unlearn::{Batch, MethodKind, SplitLimits, UnlearnConfig, cross_entropy, samples};

/// One benchmarked operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BenchOp {
    /// Forward + backward + Adam, all parameters trainable.
    TrainStep,
    /// Forward + backward + Adam, base frozen, rank-8 adapters on every conv/linear.
    LoraStep,
    /// Forward pass only.
    Infer,
    /// One PruneLoRA unlearning epoch over a fixed real subset.
    PruneloraEpoch,
    /// One FT unlearning epoch over the same subset.
    FtEpoch,
}

impl BenchOp {
    /// The name used in the JSON rows.
    pub fn name(self) -> &'static str {
        match self {
            BenchOp::TrainStep => "train-step",
            BenchOp::LoraStep => "lora-step",
            BenchOp::Infer => "infer",
            BenchOp::PruneloraEpoch => "prunelora-epoch",
            BenchOp::FtEpoch => "ft-epoch",
        }
    }
}

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Architectures (CIFAR-10 input).
    pub models: Vec<Preset>,
    /// Operations.
    pub ops: Vec<BenchOp>,
    /// Batch sizes of `infer` (the step operations use `train_batch`).
    pub infer_batches: Vec<usize>,
    /// Batch of the step operations.
    pub train_batch: usize,
    /// Untimed runs before timing.
    pub warmup: usize,
    /// Timed runs.
    pub repeats: usize,
    /// Retained images of the unlearning-epoch operations.
    pub forget_images: usize,
    /// Dataset directory.
    pub data_dir: PathBuf,
    /// Download CIFAR-10 if absent.
    pub download: bool,
    /// Compute backend.
    pub backend: Backend,
}

/// One result row (one JSON line).
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// Architecture preset.
    pub model: String,
    /// Operation.
    pub op: String,
    /// Images per call.
    pub batch: usize,
    /// Median wall time of one call, ms.
    pub median_ms: f64,
    /// Fastest call, ms.
    pub min_ms: f64,
    /// Slowest call, ms.
    pub max_ms: f64,
    /// Images per second at the median.
    pub images_per_s: f64,
    /// Counted FLOPs per second at the median, in GFLOP/s.
    pub achieved_gflop_s: f64,
    /// Process peak RSS while the operation ran, MB (10⁶ bytes).
    pub peak_rss_mb: Option<f64>,
    /// Timed calls.
    pub repeats: usize,
    /// Hardware threads available.
    pub threads: usize,
    /// Backend.
    pub backend: String,
}

/// Run every requested operation on every model; `emit` receives each row as soon as it is
/// measured.
pub fn run(options: &BenchOptions, emit: &mut dyn FnMut(&BenchRow)) -> anyhow::Result<()> {
    anyhow::ensure!(options.repeats > 0, "--repeats must be at least 1");
    let train_set = data_dir::load(
        DatasetKind::Cifar10,
        &options.data_dir,
        DataSplit::Train,
        options.download,
    )?;
    for &preset in &options.models {
        for &op in &options.ops {
            match op {
                BenchOp::TrainStep | BenchOp::LoraStep => {
                    emit(&step_row(options, preset, op, &train_set)?);
                }
                BenchOp::Infer => {
                    for &batch in &options.infer_batches {
                        emit(&infer_row(options, preset, batch, &train_set)?);
                    }
                }
                BenchOp::PruneloraEpoch | BenchOp::FtEpoch => {
                    emit(&epoch_row(options, preset, op)?);
                }
            }
        }
    }
    Ok(())
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Median, min and max of `times_ms` (not empty).
fn summary(times_ms: &mut [f64]) -> (f64, f64, f64) {
    times_ms.sort_by(f64::total_cmp);
    let median = if times_ms.len() % 2 == 1 {
        times_ms[times_ms.len() / 2]
    } else {
        let upper = times_ms.len() / 2;
        0.5 * (times_ms[upper - 1] + times_ms[upper])
    };
    (median, times_ms[0], times_ms[times_ms.len() - 1])
}

fn row(
    options: &BenchOptions,
    preset: Preset,
    op: BenchOp,
    batch: usize,
    mut times_ms: Vec<f64>,
    flops_per_image: f64,
) -> BenchRow {
    let repeats = times_ms.len();
    let (median_ms, min_ms, max_ms) = summary(&mut times_ms);
    let seconds = median_ms / 1e3;
    BenchRow {
        model: preset.name().to_owned(),
        op: op.name().to_owned(),
        batch,
        median_ms,
        min_ms,
        max_ms,
        images_per_s: batch as f64 / seconds,
        achieved_gflop_s: flops_per_image * batch as f64 / seconds / 1e9,
        peak_rss_mb: peak_rss_bytes().map(|bytes| bytes as f64 / 1e6),
        repeats,
        threads: threads(),
        backend: format!("{:?}", options.backend).to_lowercase(),
    }
}

/// Time `call` `warmup + repeats` times, keeping the last `repeats`, in ms.
fn time_calls(
    options: &BenchOptions,
    mut call: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Vec<f64>> {
    for _ in 0..options.warmup {
        call()?;
    }
    let mut times = Vec::with_capacity(options.repeats);
    for _ in 0..options.repeats {
        let started = Instant::now();
        call()?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(times)
}

fn first_batch(train_set: &ImageDataset, batch: usize, device: &Device) -> Batch {
    let indices: Vec<usize> = (0..batch.min(train_set.len())).collect();
    Batch::new(train_set, &samples(train_set, &indices), device)
}

fn step_row(
    options: &BenchOptions,
    preset: Preset,
    op: BenchOp,
    train_set: &ImageDataset,
) -> anyhow::Result<BenchRow> {
    let device = options.backend.training_device()?;
    let config = preset.config(DatasetKind::Cifar10);
    let mut model: Classifier = config.init(&device);
    if op == BenchOp::LoraStep {
        model = model.no_grad();
        lora::attach(
            &mut model,
            &["*".to_owned()],
            &LoraConfig {
                rank: 8,
                alpha: 16.0,
                dropout: 0.0,
            },
            &device,
        )?;
    }
    let batch = first_batch(train_set, options.train_batch, &device);
    let mut optimizer = AdamConfig::new().init();
    let mut slot = Some(model);
    reset_peak_rss();
    let times = time_calls(options, || {
        let model = slot.take().context("model lost in a failed step")?;
        let loss = cross_entropy(model.forward(batch.images.clone()), batch.labels.clone());
        let gradients = GradientsParams::from_grads(loss.backward(), &model);
        let model = optimizer.step(1e-3, model, gradients);
        // Wait for the work to finish: read one weight-dependent value back.
        let _ = model
            .forward(batch.images.clone().narrow(0, 0, 1))
            .into_data();
        slot = Some(model);
        Ok(())
    })?;
    let passes = if op == BenchOp::TrainStep { 3.0 } else { 2.0 };
    Ok(row(
        options,
        preset,
        op,
        options.train_batch,
        times,
        passes * forward_flops(&config) as f64,
    ))
}

fn infer_row(
    options: &BenchOptions,
    preset: Preset,
    batch_size: usize,
    train_set: &ImageDataset,
) -> anyhow::Result<BenchRow> {
    let device = options.backend.device()?;
    let config = preset.config(DatasetKind::Cifar10);
    // Lethe's inference path (`lethe predict`, evaluation, the browser): BatchNorm folded.
    let model = config.init(&device).for_inference();
    let batch = first_batch(train_set, batch_size, &device);
    reset_peak_rss();
    let times = time_calls(options, || {
        let _ = model.forward(batch.images.clone()).into_data();
        Ok(())
    })?;
    Ok(row(
        options,
        preset,
        BenchOp::Infer,
        batch_size,
        times,
        forward_flops(&config) as f64,
    ))
}

/// One unlearning epoch from the shipped original of `preset` (`static/models/<preset>-cifar10`
/// under the current directory).
fn epoch_row(options: &BenchOptions, preset: Preset, op: BenchOp) -> anyhow::Result<BenchRow> {
    let weights = PathBuf::from(format!("static/models/{}-cifar10", preset.name()));
    anyhow::ensure!(
        weights.join("manifest.json").is_file(),
        "{op:?} needs the shipped original {} (run from the repository root)",
        weights.display()
    );
    let method = match op {
        BenchOp::PruneloraEpoch => MethodKind::Prunelora,
        _ => MethodKind::Ft,
    };
    let mut times = Vec::new();
    let mut peak_mb: Option<f64> = None;
    for _ in 0..options.repeats {
        let out = tempfile::tempdir()?;
        let mut config = UnlearnConfig::new(method, ForgetRequest::Classes(vec![3]));
        config.epochs = Some(1);
        config.backend = options.backend;
        config.limits = SplitLimits {
            retain: Some(options.forget_images),
            forget: Some(256),
            test: Some(256),
        };
        let run_options = RunOptions {
            weights: weights.clone(),
            out: out.path().join("run"),
            data_dir: options.data_dir.clone(),
            download: options.download,
            progress: false,
            retrain: None,
            slim: false,
            command: format!("lethe bench --op {}", op.name()),
            pause_after: None,
        };
        let report = forget(config, &run_options)?;
        let row = report
            .rows
            .first()
            .context("the run reported no method row")?;
        times.push(row.seconds * 1e3);
        if let Some(peak) = row.peak_rss_mib {
            let megabytes = peak * 1024.0 * 1024.0 / 1e6;
            peak_mb = Some(peak_mb.map_or(megabytes, |known: f64| known.max(megabytes)));
        }
    }
    let model_config = preset.config(DatasetKind::Cifar10);
    let passes = if op == BenchOp::FtEpoch { 3.0 } else { 2.0 };
    let mut result = row(
        options,
        preset,
        op,
        options.forget_images,
        times,
        passes * forward_flops(&model_config) as f64,
    );
    result.peak_rss_mb = peak_mb;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn summary_is_median_min_max() {
        assert_eq!(summary(&mut [3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(summary(&mut [4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
    }
}
