//! `lethe forget` and `lethe compare`: load θ_o and the data, run methods, measure, write
//! weights, manifests, reports and plots.
//!
//! Every method's results land in their own directory (`model.bpk`, `manifest.json`,
//! `row.json`, `config.json`); `lethe compare` skips methods whose `row.json` already exists, so
//! a killed comparison resumes where it stopped (Retrain resumes mid-run from its checkpoint).

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::tensor::Device;
use lethe_shared::adapt::slim;
use lethe_shared::data::split::{ForgetRequest, UnlearningSplit, ValidationHoldout};
use lethe_shared::data::{DataSplit, ImageDataset};
use lethe_shared::metrics::{UnlearningScores, reset_peak_rss};
use lethe_shared::model::{Classifier, ModelConfig};
use lethe_shared::weights::{self, Manifest, Versions, write_atomic};
use serde::Serialize;

use super::checkpoint::{self, LoopCheckpoint};
use super::measure::{Confidences, MethodMetrics, ModelOutputs, logits, measure};
use super::report::{MethodRow, Report, SlimSummary};
use super::{MethodKind, UnlearnConfig, UnlearnContext, UnlearnError};
use crate::plots::{self, ClassSeries};

/// Where things are, for one invocation.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The original model's run directory (or `.bpk`).
    pub weights: PathBuf,
    /// Output directory.
    pub out: PathBuf,
    /// Data directory (resolved).
    pub data_dir: PathBuf,
    /// Download the dataset if absent.
    pub download: bool,
    /// Show progress bars.
    pub progress: bool,
    /// Reuse this Retrain model instead of training one.
    pub retrain: Option<PathBuf>,
    /// Also write a slim model (dead pruned channels removed).
    pub slim: bool,
    /// The command line, for the report.
    pub command: String,
    /// Stop each method after this many epochs of this invocation, keeping its checkpoint
    /// (`<out>/train/loop-checkpoint`); the same command run again continues it.
    pub pause_after: Option<usize>,
}

/// Everything loaded once per invocation.
struct Session {
    manifest: Manifest,
    original_bytes: Vec<u8>,
    /// SHA-256 of θ_o's weights file (a checkpoint resumes only from the same original).
    original_sha256: String,
    train_set: ImageDataset,
    test_set: ImageDataset,
    split: UnlearningSplit,
    device: Device,
    training_device: Device,
    /// Recorded with every artifact (with the CPU kernels in use on the CPU backend).
    versions: Versions,
}

impl Session {
    fn open(config: &UnlearnConfig, options: &RunOptions) -> anyhow::Result<Self> {
        config.validate()?;
        // A wrong reference is refused before minutes of loading and measuring.
        if let Some(path) = &options.retrain {
            check_retrain_reference(path, config)?;
        }
        let device = config.backend.device()?;
        let training_device = config.backend.training_device()?;
        let (manifest, original) = weights::load_run(&options.weights, &device)
            .with_context(|| format!("loading the original model {}", options.weights.display()))?;
        if !manifest.forgotten_classes.is_empty() {
            tracing::warn!(
                "{} already forgot classes {:?} (method {}); unlearning again from it",
                options.weights.display(),
                manifest.forgotten_classes,
                manifest.method
            );
        }
        let (weights_path, _) = weights::resolve_paths(&options.weights)?;
        let original_sha256 = checkpoint::sha256_hex(
            &std::fs::read(&weights_path)
                .with_context(|| format!("reading {}", weights_path.display()))?,
        );
        let dataset = manifest.model.dataset;
        let train_set = crate::data_dir::load(
            dataset,
            &options.data_dir,
            DataSplit::Train,
            options.download,
        )?;
        let test_set = crate::data_dir::load(
            dataset,
            &options.data_dir,
            DataSplit::Test,
            options.download,
        )?;
        let mut split =
            UnlearningSplit::new(&train_set, &test_set, &config.forget, config.validation)
                .context("forming the forgetting split")?;
        config.limits.apply(&mut split);
        tracing::info!(
            "forgetting {} of {}: D_r {}, D_f {}, test_r {}, test_f {}",
            config.forget,
            dataset.name(),
            split.retain.len(),
            split.forget.len(),
            split.test_retain.len(),
            split.test_forget.len()
        );
        Ok(Self {
            original_bytes: weights::encode_model(&original)?,
            original_sha256,
            manifest,
            train_set,
            test_set,
            split,
            device,
            training_device,
            versions: config.backend.versions(),
        })
    }

    fn model_config(&self) -> &ModelConfig {
        &self.manifest.model
    }

    fn num_classes(&self) -> usize {
        self.train_set.kind.num_classes()
    }

    fn outputs(&self, model: &Classifier, batch_size: usize) -> ModelOutputs {
        ModelOutputs::compute(
            model,
            &self.train_set,
            &self.test_set,
            &self.split,
            batch_size,
            &self.device,
        )
    }

    /// The original model's row.
    fn original_row(
        &self,
        batch_size: usize,
        retrain: Option<&Measured>,
    ) -> anyhow::Result<Measured> {
        let model = weights::decode_model(
            self.original_bytes.clone(),
            self.model_config(),
            &self.device,
        )?;
        let outputs = self.outputs(&model, batch_size);
        let (metrics, confidences) = measure(
            &outputs,
            self.num_classes(),
            retrain.map(|r| (&r.outputs, &r.scores)),
        )?;
        Ok(Measured {
            row: MethodRow {
                method: None,
                name: "Original".into(),
                epochs: 0,
                seconds: 0.0,
                peak_rss_mib: None,
                peak_device_mib: None,
                trainable_params: 0,
                params: model.learnable_params(),
                metrics: metrics.clone(),
                slim: None,
                config: None,
            },
            scores: metrics.scores(),
            outputs,
            confidences,
        })
    }

    /// Run one method and measure it; writes its directory `dir`.
    fn run_method(
        &self,
        config: &UnlearnConfig,
        dir: &Path,
        options: &RunOptions,
        retrain: Option<&Measured>,
    ) -> anyhow::Result<Measured> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let method = config.method.method();
        let context = UnlearnContext {
            config,
            original_bytes: &self.original_bytes,
            original_sha256: &self.original_sha256,
            model_config: self.model_config(),
            train_set: &self.train_set,
            split: &self.split,
            training_device: self.training_device.clone(),
            device: self.device.clone(),
            data_dir: options.data_dir.clone(),
            work_dir: dir.join("train"),
            progress: options.progress,
            started: Instant::now(),
            pause_after: options.pause_after,
            resumed: Cell::new(None),
        };
        tracing::info!(
            "running {} ({} epochs)",
            config.method,
            context.epochs(method.as_ref())
        );
        reset_peak_rss();
        crate::memory::reset_peak_device_memory(&[&self.training_device, &self.device]);
        let output = method.run(&context)?;
        // A resumed run adds the wall time and peak memory of the processes before this one.
        let totals = context.run_totals();
        let resumed = context.resumed.get();
        let model = output.model.valid();

        let outputs = self.outputs(&model, config.batch_size);
        let (metrics, confidences) = measure(
            &outputs,
            self.num_classes(),
            retrain.map(|r| (&r.outputs, &r.scores)),
        )?;
        let slim = if options.slim {
            Some(self.write_slim(&model, dir, config)?)
        } else {
            None
        };
        let row = MethodRow {
            method: Some(config.method),
            name: config.method.display_name().into(),
            epochs: output.epochs,
            seconds: totals.seconds,
            peak_rss_mib: totals.peak_rss_mib,
            peak_device_mib: totals.peak_device_mib,
            trainable_params: output.trainable_params,
            params: model.learnable_params(),
            metrics: metrics.clone(),
            slim,
            config: Some(config.clone()),
        };
        let mut manifest = Manifest::new(
            self.model_config().clone(),
            config.method.name(),
            config.seed,
        );
        manifest.forgotten_classes = self.split.forgotten_classes.clone();
        manifest.versions = self.versions.clone();
        manifest.metrics = [
            ("ua", metrics.ua),
            ("mia_efficacy", metrics.mia_efficacy),
            ("ra", metrics.ra),
            ("ta", metrics.ta),
            ("mia_loss", metrics.mia_loss),
            ("unlearning_seconds", totals.seconds),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .chain(metrics.avg_gap.map(|gap| ("avg_gap".to_owned(), gap)))
        .collect();
        manifest.per_class_accuracy = metrics.per_class_test_accuracy.clone();
        manifest.config = serde_json::to_value(config)?;
        weights::save_run(dir, &model, &manifest)?;
        if let Some(mask) = &output.prune_mask {
            write_json(&dir.join("prune-mask.json"), mask)?;
        }
        let mut run_config = serde_json::json!({ "unlearn": config, "versions": self.versions, "history": output.history });
        if let Some(resumed) = resumed {
            run_config["resumed"] = serde_json::json!({
                "processes": resumed.resumes + 2,
                "last_resumed_after_epoch": resumed.completed_epochs,
            });
        }
        write_json(&dir.join("config.json"), &run_config)?;
        write_json(&dir.join("row.json"), &row)?;
        if config.method != MethodKind::Retrain {
            // Finished: the per-epoch checkpoint (and its work directory, if empty) can go.
            LoopCheckpoint::in_work_dir(&context.work_dir).remove();
            let _ = std::fs::remove_dir(&context.work_dir);
        }
        print_summary(&row);
        Ok(Measured {
            scores: metrics.scores(),
            row,
            outputs,
            confidences,
        })
    }

    /// Slim `model`, save it in `dir/slim`, and check it predicts like `model` on the test set.
    fn write_slim(
        &self,
        model: &Classifier,
        dir: &Path,
        config: &UnlearnConfig,
    ) -> anyhow::Result<SlimSummary> {
        let (slim_config, slim_model, report) =
            slim::slim(model, self.model_config()).context("--slim")?;
        let indices: Vec<usize> = self
            .split
            .test_retain
            .iter()
            .chain(&self.split.test_forget)
            .copied()
            .collect();
        let classes = self.num_classes();
        let full = logits(
            model,
            &self.test_set,
            &indices,
            config.batch_size,
            &self.device,
        );
        let slim_logits = logits(
            &slim_model,
            &self.test_set,
            &indices,
            config.batch_size,
            &self.device,
        );
        let argmax = |values: &[f32]| lethe_shared::metrics::argmax_rows(values, classes);
        let identical = argmax(&full)?
            .iter()
            .zip(argmax(&slim_logits)?)
            .filter(|(a, b)| **a == *b)
            .count();
        let max_logit_difference = full
            .iter()
            .zip(&slim_logits)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max);
        let mut manifest = Manifest::new(slim_config, config.method.name(), config.seed);
        manifest.forgotten_classes = self.split.forgotten_classes.clone();
        manifest.versions = self.versions.clone();
        manifest.config = serde_json::to_value(config)?;
        weights::save_run(&dir.join("slim"), &slim_model, &manifest)?;
        let summary = SlimSummary {
            params_removed_percent: 100.0
                * (1.0 - report.params_after as f64 / report.params_before as f64),
            report,
            identical_predictions: identical,
            compared: indices.len(),
            max_logit_difference,
        };
        println!(
            "slim model: {} → {} parameters ({:.1} % removed), identical predictions on {}/{} test images, max logit difference {:.2e}; wrote {}",
            summary.report.params_before,
            summary.report.params_after,
            summary.params_removed_percent,
            summary.identical_predictions,
            summary.compared,
            summary.max_logit_difference,
            dir.join("slim").display()
        );
        Ok(summary)
    }
}

/// A measured model: its row, scores, outputs (for distances) and confidences (for plots).
struct Measured {
    row: MethodRow,
    scores: UnlearningScores,
    outputs: ModelOutputs,
    confidences: Confidences,
}

/// The forgetting request a saved run answered, as its manifest records it: an unlearning
/// run's `config.forget` / `config.validation`, or `lethe train --retain-only`'s
/// `config.retain_only`. `None` when the manifest records neither (an original model, or a
/// manifest written by hand).
fn recorded_request(manifest: &Manifest) -> Option<(ForgetRequest, ValidationHoldout)> {
    let config = &manifest.config;
    let request = if config.get("forget").is_some() {
        config
    } else {
        config.get("retain_only")?
    };
    let forget = serde_json::from_value(request.get("forget")?.clone()).ok()?;
    let validation = match request.get("validation") {
        Some(value) => serde_json::from_value(value.clone()).ok()?,
        None => ValidationHoldout::None,
    };
    Some((forget, validation))
}

/// Whether two requests forget the same images: the same set of classes (in any order, repeats
/// counting once), or the same random sample (fraction and seed).
fn same_forget_set(a: &ForgetRequest, b: &ForgetRequest) -> bool {
    match (a, b) {
        (ForgetRequest::Classes(a), ForgetRequest::Classes(b)) => {
            let set = |classes: &[u8]| classes.iter().copied().collect::<BTreeSet<u8>>();
            set(a) == set(b)
        }
        _ => a == b,
    }
}

/// Refuse a `--retrain` reference that did not forget what this run forgets (another class,
/// another random sample, another hold-out): its Avg. Gap and activation distances would compare
/// two different requests and mean nothing. A reference whose method is not Retrain is
/// accepted with a warning (any model of the same request can serve as a yardstick).
fn check_retrain_reference(path: &Path, config: &UnlearnConfig) -> anyhow::Result<()> {
    let (_, manifest_path) =
        weights::resolve_paths(path).with_context(|| format!("--retrain {}", path.display()))?;
    let manifest = weights::read_manifest(&manifest_path)
        .with_context(|| format!("--retrain {}", path.display()))?;
    let refuse = |what: String| -> anyhow::Result<()> {
        bail!(
            "--retrain {} {what}, but this run forgets {} with {}: its Avg. Gap and activation \
             distances would compare different requests. Give the Retrain of the same request \
             (`lethe forget --method retrain` with the same forgetting options and seed), or \
             leave out --retrain",
            path.display(),
            config.forget,
            config.validation
        )
    };
    match recorded_request(&manifest) {
        Some((forget, validation)) => {
            if !same_forget_set(&forget, &config.forget) {
                return refuse(format!("forgot {forget}"));
            }
            if validation != config.validation {
                return refuse(format!("forgot {forget} with {validation}"));
            }
        }
        None => {
            let recorded = ForgetRequest::Classes(manifest.forgotten_classes.clone());
            let matches = !manifest.forgotten_classes.is_empty()
                && same_forget_set(&recorded, &config.forget);
            if !matches {
                return refuse(if manifest.forgotten_classes.is_empty() {
                    format!("records no forgetting (method {})", manifest.method)
                } else {
                    format!(
                        "forgot classes {:?} and records no forgetting options",
                        manifest.forgotten_classes
                    )
                });
            }
        }
    }
    if manifest.method != MethodKind::Retrain.name() {
        tracing::warn!(
            "--retrain {} was made by {}, not Retrain; using it as the reference anyway",
            path.display(),
            manifest.method
        );
    }
    Ok(())
}

/// `lethe forget`: one method; with `--retrain`, distances and Avg. Gap too.
pub fn forget(config: UnlearnConfig, options: &RunOptions) -> anyhow::Result<Report> {
    if config.method == MethodKind::Retrain && options.retrain.is_some() {
        bail!("--retrain gives a finished Retrain model; `--method retrain` would train another");
    }
    let session = Session::open(&config, options)?;
    let retrain = match &options.retrain {
        Some(path) => {
            Some(session.measure_saved(path, config.batch_size, "Retrain (given)", None)?)
        }
        None => None,
    };
    // The method first: a paused or failing invocation then spends no time measuring θ_o (a
    // ViT's forward pass over the 60,000 images takes minutes on a CPU), and a run split over
    // several sittings measures it once, at the end.
    let method = session.run_method(&config, &options.out, options, retrain.as_ref())?;
    let original = session.original_row(config.batch_size, retrain.as_ref())?;
    let report = Report {
        title: format!(
            "{} on {} — forgetting {}",
            config.method.display_name(),
            session.model_config().describe(),
            config.forget
        ),
        original: original.row.clone(),
        retrain: retrain.as_ref().map(|r| r.row.clone()),
        rows: vec![method.row.clone()],
        failures: Vec::new(),
        class_names: session.manifest.class_names.clone(),
        versions: session.versions.clone(),
        command: options.command.clone(),
    };
    write_report(&options.out, &report, &session, &[&original, &method])?;
    plots::mia_confidence_histogram_svg(
        &options.out.join("mia-confidence.svg"),
        &format!(
            "{}: true-class confidence, D_f vs test_r",
            config.method.display_name()
        ),
        &method.confidences.forget,
        &method.confidences.test_retain,
        20,
    )?;
    Ok(report)
}

/// `lethe compare`: Retrain (trained once, or given), then every other method.
pub fn compare(
    base: UnlearnConfig,
    methods: &[MethodKind],
    compare_epochs: usize,
    options: &RunOptions,
) -> anyhow::Result<Report> {
    let session = Session::open(&base, options)?;
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("creating {}", options.out.display()))?;
    let config_for = |method: MethodKind| UnlearnConfig {
        method,
        epochs: if method.follows_compare_epochs() {
            Some(compare_epochs)
        } else {
            None
        },
        ..base.clone()
    };
    let retrain = match &options.retrain {
        Some(path) => session.measure_saved(path, base.batch_size, "Retrain", None)?,
        None => session.load_or_run(&config_for(MethodKind::Retrain), options, None)?,
    };
    let original = session.original_row(base.batch_size, Some(&retrain))?;
    let title = format!(
        "Unlearning {} — forgetting {}",
        session.model_config().describe(),
        base.forget
    );
    let mut measured = Vec::new();
    let mut failures = Vec::new();
    let mut report = write_comparison(
        &title, &session, options, &original, &retrain, &measured, &failures,
    )?;
    for &method in methods
        .iter()
        .filter(|&&method| method != MethodKind::Retrain)
    {
        match session.load_or_run(&config_for(method), options, Some(&retrain)) {
            Ok(result) => measured.push(result),
            Err(error) if is_pause(&error) => {
                // Asked for: stop the comparison here; the same command continues it.
                write_comparison(
                    &title, &session, options, &original, &retrain, &measured, &failures,
                )?;
                return Err(error);
            }
            Err(error) => {
                tracing::error!("{method} failed: {error:#}");
                failures.push((method.display_name().to_owned(), format!("{error:#}")));
            }
        }
        // After every method, so a comparison cut short still leaves its table so far.
        report = write_comparison(
            &title, &session, options, &original, &retrain, &measured, &failures,
        )?;
    }
    Ok(report)
}

/// Write `report.json`, `report.md` and the plots of the methods measured so far.
fn write_comparison(
    title: &str,
    session: &Session,
    options: &RunOptions,
    original: &Measured,
    retrain: &Measured,
    measured: &[Measured],
    failures: &[(String, String)],
) -> anyhow::Result<Report> {
    let report = Report {
        title: title.to_owned(),
        original: original.row.clone(),
        retrain: Some(retrain.row.clone()),
        rows: measured.iter().map(|m| m.row.clone()).collect(),
        failures: failures.to_vec(),
        class_names: session.manifest.class_names.clone(),
        versions: session.versions.clone(),
        command: options.command.clone(),
    };
    let mut all: Vec<&Measured> = vec![original, retrain];
    all.extend(measured.iter());
    write_report(&options.out, &report, session, &all)?;
    let panels: Vec<(String, Vec<f32>, Vec<f32>)> = all
        .iter()
        .map(|m| {
            (
                m.row.name.clone(),
                m.confidences.forget.clone(),
                m.confidences.test_retain.clone(),
            )
        })
        .collect();
    plots::mia_histogram_grid_svg(
        &options.out.join("mia-confidence.svg"),
        "True-class confidence: D_f (forget) vs test_r (unseen)",
        &panels,
        20,
    )?;
    Ok(report)
}

impl Session {
    /// A method's results from its directory when `row.json` is there, else run it.
    fn load_or_run(
        &self,
        config: &UnlearnConfig,
        options: &RunOptions,
        retrain: Option<&Measured>,
    ) -> anyhow::Result<Measured> {
        let dir = options.out.join(config.method.name());
        let row_path = dir.join("row.json");
        if row_path.is_file() {
            let text = std::fs::read_to_string(&row_path)
                .with_context(|| format!("reading {}", row_path.display()))?;
            let row: MethodRow = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", row_path.display()))?;
            let model = self.model_config();
            if row.config.as_ref().is_some_and(|made| {
                made.with_effective_epochs(model) == config.with_effective_epochs(model)
            }) {
                tracing::info!(
                    "{}: reusing the finished run in {}",
                    config.method,
                    dir.display()
                );
                let mut measured = self.measure_saved(
                    &dir,
                    config.batch_size,
                    config.method.display_name(),
                    retrain,
                )?;
                measured.row = MethodRow {
                    metrics: measured.row.metrics,
                    ..row
                };
                measured.scores = measured.row.metrics.scores();
                return Ok(measured);
            }
            tracing::warn!(
                "{}: {} was made with another configuration; running again",
                config.method,
                dir.display()
            );
        }
        self.run_method(config, &dir, options, retrain)
    }

    /// Measure saved weights (a given Retrain model, or a finished method).
    fn measure_saved(
        &self,
        path: &Path,
        batch_size: usize,
        name: &str,
        retrain: Option<&Measured>,
    ) -> anyhow::Result<Measured> {
        let (manifest, model) = weights::load_run(path, &self.device)
            .with_context(|| format!("loading {}", path.display()))?;
        if manifest.model.dataset != self.model_config().dataset {
            bail!(
                "{} is a {} model; the original is {}",
                path.display(),
                manifest.model.dataset.name(),
                self.model_config().dataset.name()
            );
        }
        let outputs = self.outputs(&model, batch_size);
        let (metrics, confidences) = measure(
            &outputs,
            self.num_classes(),
            retrain.map(|r| (&r.outputs, &r.scores)),
        )?;
        let seconds = manifest
            .metrics
            .get("unlearning_seconds")
            .or(manifest.metrics.get("train_seconds"))
            .copied()
            .unwrap_or(0.0);
        Ok(Measured {
            row: MethodRow {
                method: Some(MethodKind::Retrain),
                name: name.to_owned(),
                epochs: 0,
                seconds,
                peak_rss_mib: None,
                peak_device_mib: None,
                trainable_params: 0,
                params: model.learnable_params(),
                metrics: metrics.clone(),
                slim: None,
                config: None,
            },
            scores: metrics.scores(),
            outputs,
            confidences,
        })
    }
}

fn write_report(
    out: &Path,
    report: &Report,
    session: &Session,
    measured: &[&Measured],
) -> anyhow::Result<()> {
    write_json(&out.join("report.json"), report)?;
    write_atomic(&out.join("report.md"), report.to_markdown().as_bytes())?;
    let class_names: Vec<&str> = session
        .manifest
        .class_names
        .iter()
        .map(String::as_str)
        .collect();
    let series: Vec<ClassSeries> = measured
        .iter()
        .map(|m| ClassSeries {
            name: m.row.name.clone(),
            accuracy: m.row.metrics.per_class_test_accuracy.clone(),
        })
        .collect();
    let highlight: Vec<usize> = session
        .split
        .forgotten_classes
        .iter()
        .map(|&c| usize::from(c))
        .collect();
    plots::per_class_accuracy_svg(
        &out.join("per-class-accuracy.svg"),
        "Per-class test accuracy before and after unlearning",
        &class_names,
        &series,
        &highlight,
    )?;
    println!("\n{}", report.to_markdown());
    println!("wrote {}", out.display());
    Ok(())
}

/// Whether `error` is a method stopping after `--pause-after` epochs (not a failure).
pub fn is_pause(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<UnlearnError>(),
        Some(UnlearnError::Paused { .. })
    )
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    write_atomic(path, serde_json::to_string_pretty(value)?.as_bytes())?;
    Ok(())
}

fn print_summary(row: &MethodRow) {
    let m: &MethodMetrics = &row.metrics;
    println!(
        "{}: UA {:.2}  MIA-Eff {:.2}  RA {:.2}  TA {:.2}  ({} epochs, {:.0} s{})",
        row.name,
        m.ua,
        m.mia_efficacy,
        m.ra,
        m.ta,
        row.epochs,
        row.seconds,
        row.peak_rss_mib
            .map_or_else(String::new, |mib| format!(", peak RSS {mib:.0} MiB"))
    );
}
