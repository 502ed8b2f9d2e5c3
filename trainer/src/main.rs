//! `lethe`: train, forget, measure and export image classifiers for machine unlearning.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use clap::{Args, Parser, Subcommand};
use lethe_shared::adapt::prune::MaskMode;
use lethe_shared::data::split::{ForgetRequest, ValidationHoldout};
use lethe_shared::data::{DataSplit, DatasetKind};
use lethe_shared::model::Preset;
use lethe_trainer::backend::Backend;
use lethe_trainer::eval::{evaluate, format_per_class};
use lethe_trainer::train::{self, OptimizerKind, TrainConfig, TrainOptions};
use lethe_trainer::unlearn::run::RunOptions;
use lethe_trainer::unlearn::{HyperPreset, LoraTargets, MethodKind, SplitLimits, UnlearnConfig};
use lethe_trainer::web_export::{self, ExportOptions};
use lethe_trainer::{data_dir, download, unlearn};

#[derive(Parser)]
#[command(
    name = "lethe",
    version,
    about = "Machine unlearning toolkit: train, forget, measure, export"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an original model from scratch (checkpoint every epoch; --resume continues).
    Train(TrainArgs),
    /// Overall and per-class test accuracy of saved weights.
    Eval(EvalArgs),
    /// Download a dataset into the data directory (checksums verified); --verify re-checks
    /// files already there.
    Download(DownloadArgs),
    /// Make a trained model forget classes or samples with one method; measure and export it.
    Forget(ForgetArgs),
    /// Run several methods on the same forgetting request and write one comparison report.
    Compare(CompareArgs),
    /// Mean ± std over seeds of finished runs (their report.json): one row per method and
    /// configuration, nothing re-measured.
    Summarize(SummarizeArgs),
    /// Class probabilities of image files (PNG, JPEG, GIF, WebP, BMP) under saved weights.
    Predict(PredictArgs),
    /// Publish runs to the browser demo: weights, the catalogue and real test-set samples.
    ExportWeb(ExportWebArgs),
    /// Write the small CIFAR-10 subsets the page's live forgetting trains and measures on.
    ExportLive(ExportLiveArgs),
    /// Time training steps, LoRA steps, inference and unlearning epochs; one JSON line per row.
    Bench(BenchArgs),
}

#[derive(Args)]
struct ExportLiveArgs {
    /// Training images per class (the page trains on those of the classes it keeps).
    #[arg(long, default_value_t = 100)]
    train_per_class: usize,
    /// Test images per class in the probe set.
    #[arg(long, default_value_t = 50)]
    probe_per_class: usize,
    /// Seed of the draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory.
    #[arg(long, default_value = "static/live/cifar10")]
    out: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct BenchArgs {
    /// Architectures (CIFAR-10 input).
    #[arg(long = "model", default_values = ["resnet20", "vit-tiny"])]
    models: Vec<Preset>,
    /// Operations.
    #[arg(long = "op", value_enum, default_values = ["train-step", "lora-step", "infer", "prunelora-epoch", "ft-epoch"])]
    ops: Vec<lethe_trainer::bench::BenchOp>,
    /// Batch sizes of `infer`.
    #[arg(long = "infer-batch", default_values_t = [1usize, 256])]
    infer_batches: Vec<usize>,
    /// Batch of the training and LoRA steps.
    #[arg(long, default_value_t = 128)]
    train_batch: usize,
    /// Untimed runs before timing.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Timed runs (the unlearning epochs run this many times too).
    #[arg(long, default_value_t = 10)]
    repeats: usize,
    /// Retained images of one unlearning epoch (the first N of D_r).
    #[arg(long, default_value_t = 2048)]
    forget_images: usize,
    /// Compute backend [default: the most capable one compiled in].
    #[arg(long)]
    backend: Option<Backend>,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct PredictArgs {
    /// Run directory or .bpk file (with manifest.json beside it).
    #[arg(long)]
    weights: PathBuf,
    /// Image files; each is centre-cropped and resized to the model's input size.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Print JSON (every class's probability) instead of the top three.
    #[arg(long)]
    json: bool,
    /// Compute backend [default: the most capable one compiled in].
    #[arg(long)]
    backend: Option<Backend>,
}

#[derive(Args)]
struct ExportWebArgs {
    /// A run directory to publish (repeat): originals and the unlearned runs made from them.
    #[arg(long = "run", value_name = "DIR", required = true)]
    runs: Vec<PathBuf>,
    /// The site's asset directory.
    #[arg(long, default_value = "static")]
    out: PathBuf,
    /// Test images per class to export as sample PNGs (0: leave the samples alone).
    #[arg(long, default_value_t = 10)]
    samples_per_class: usize,
    /// Extra words for a run's note, as RUN_ID=TEXT (repeat), e.g. where its time was measured;
    /// for a run given again from the catalogue (`--run <out>/models/<id>`), they replace its
    /// earlier extra words (its description — method, epochs, the data it trained on, backend —
    /// is written afresh from its manifest either way).
    #[arg(long = "note", value_name = "RUN_ID=TEXT")]
    notes: Vec<String>,
    /// Keep the runs already in <out>/models/index.json and add these (same id: replaced);
    /// their originals may be listed ones. Use with --samples-per-class 0 to keep the samples.
    #[arg(long)]
    add: bool,
    /// Store the given runs' weights as f16 (half the size). Each f16 copy is checked on its
    /// dataset's full test set against the f32 weights the metrics were measured on; the share
    /// of images given the same class goes into the catalogue and the run's note.
    #[arg(long)]
    f16: bool,
    #[command(flatten)]
    data: DataArgs,
}

/// What to forget and how: the options `forget` and `compare` share.
#[derive(Args)]
struct UnlearnArgs {
    /// The original model: a run directory (model.bpk + manifest.json) or a .bpk file.
    #[arg(long)]
    weights: PathBuf,
    /// Forget this class (0–9; repeat for several). Default: 3 ("cat") unless --forget-random.
    #[arg(long = "forget-class", value_name = "CLASS")]
    forget_classes: Vec<u8>,
    /// Forget this share (0–1) of the training images, drawn at random (seeded by --seed).
    #[arg(long, conflicts_with = "forget_classes")]
    forget_random: Option<f64>,
    /// Hold out 10 % of the training set as validation first (Jia et al. / SalUn).
    #[arg(long)]
    holdout: bool,
    /// Hyper-parameter preset: lethe, or paper (what the original code effectively did).
    #[arg(long, default_value = "lethe")]
    preset: HyperPreset,
    /// Learning rate [default: each method's, e.g. 1e-3 Adam for FT/LoRA/PruneLoRA].
    #[arg(long)]
    lr: Option<f64>,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Seed of shuffling, adapters and random labels.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Share of output channels pruned per target layer (Prune+FT, PruneLoRA).
    #[arg(long, default_value_t = 0.5)]
    prune_amount: f64,
    /// Keep the pruning mask while fine-tuning, or drop it (default: drop, as the paper's code).
    #[arg(long)]
    mask: Option<MaskMode>,
    /// PruneLoRA: keep pruned channels dead through the LoRA delta too (enables --slim).
    #[arg(long)]
    lora_respect_mask: bool,
    /// LoRA/PruneLoRA/RFA: also train BatchNorm γ and β (the spec freezes them).
    #[arg(long)]
    lora_train_norm: bool,
    /// LoRA rank [default: 8 ResNets, 16 ViTs].
    #[arg(long)]
    lora_rank: Option<usize>,
    /// LoRA α [default: 2 × rank].
    #[arg(long)]
    lora_alpha: Option<f64>,
    /// Dropout on the adapters' input.
    #[arg(long, default_value_t = 0.1)]
    lora_dropout: f64,
    /// Layers pruned by prune-ft and prunelora, as comma-separated name patterns (e.g.
    /// `blocks.5.attention.out_proj,head,blocks.*.mlp_in` to prune a ViT's MLPs too, which
    /// `--slim` can then remove) [default: the spec's: ResNets `stem,blocks.*`, ViTs the last
    /// block's `attention.out_proj` and `head`].
    #[arg(long, value_delimiter = ',')]
    prune_targets: Option<Vec<String>>,
    /// Layers with adapters: preset, head-only, all, or comma-separated name patterns
    /// (e.g. `blocks.*.layers.*,head`).
    #[arg(long, default_value = "preset")]
    lora_targets: LoraTargets,
    /// RFA: weight of the residual penalty on D_r.
    #[arg(long, default_value_t = 1.0)]
    rfa_lambda_retain: f64,
    /// RFA: weight of the feature shift on D_f.
    #[arg(long, default_value_t = 1.0)]
    rfa_lambda_forget: f64,
    /// ℓ1-sparse: initial γ of the penalty (decays linearly to 0).
    #[arg(long, default_value_t = 5e-5)]
    l1_gamma: f64,
    /// SalUn: share of parameters marked salient.
    #[arg(long, default_value_t = 0.5)]
    salun_sparsity: f64,
    /// Use only the first N images of D_r (quick runs).
    #[arg(long)]
    retain_limit: Option<usize>,
    /// Use only the first N images of D_f (quick runs).
    #[arg(long)]
    forget_limit: Option<usize>,
    /// Use only the first N images of test_r and of test_f (quick runs).
    #[arg(long)]
    test_limit: Option<usize>,
    /// Reuse this Retrain model (run directory) instead of training one; enables activation
    /// distances and Avg. Gap. It must have forgotten what this run forgets (same classes, or
    /// the same random sample and seed, and the same hold-out), or the run is refused.
    #[arg(long)]
    retrain: Option<PathBuf>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Compute backend [default: the most capable one compiled in].
    #[arg(long)]
    backend: Option<Backend>,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
    /// Stop after this many epochs of this invocation, keeping the per-epoch checkpoint in
    /// <out>/train/loop-checkpoint (<out>/train/checkpoint for Retrain; every method but RFA);
    /// the same command run again continues the run. Runs killed mid-way resume the same way.
    #[arg(long, value_name = "EPOCHS", value_parser = clap::value_parser!(u64).range(1..))]
    pause_after: Option<u64>,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct ForgetArgs {
    /// Method: retrain, ft, prune-ft, lora, prunelora, rfa, ga, rl, salun, l1-sparse.
    #[arg(long, default_value = "prunelora")]
    method: MethodKind,
    /// Epochs [default: the method's: 5 for FT/Prune+FT/LoRA/PruneLoRA/RFA/GA, 10 for RL/SalUn/ℓ1-sparse, the training recipe's for Retrain].
    #[arg(long)]
    epochs: Option<usize>,
    /// Also write a slim model (dead pruned channels removed) to <out>/slim.
    #[arg(long)]
    slim: bool,
    #[command(flatten)]
    unlearn: UnlearnArgs,
}

#[derive(Args)]
struct CompareArgs {
    /// Methods, comma-separated, or `all`.
    #[arg(long, default_value = "all")]
    methods: String,
    /// Epochs of FT, Prune+FT, LoRA and PruneLoRA (the others keep their defaults).
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    #[command(flatten)]
    unlearn: UnlearnArgs,
}

#[derive(Args)]
struct SummarizeArgs {
    /// Reports to pool: `report.json` files, or run/comparison directories holding one. Runs
    /// that differ only in their seed become one row; give each run once.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Directory for `summary.md` and `summary.json`.
    #[arg(long)]
    out: PathBuf,
    /// A Retrain's report (`lethe forget --method retrain`, or a comparison that trained one):
    /// every run's Avg. Gap is computed against its Retrain row from the recorded metrics,
    /// replacing the one the run was measured with (e.g. for runs made before the Retrain).
    #[arg(long, value_name = "REPORT")]
    gap_to: Option<PathBuf>,
}

#[derive(Args)]
struct DataArgs {
    /// Dataset directory [default: $LETHE_DATA_DIR, else the user data dir, e.g. ~/.local/share/lethe/data]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Never download: fail if the dataset is not in the data directory.
    #[arg(long, global = true)]
    no_download: bool,
}

#[derive(Args)]
struct TrainArgs {
    /// Dataset: cifar10 or fashion-mnist.
    #[arg(long, default_value = "cifar10")]
    dataset: DatasetKind,
    /// Architecture: resnet20, resnet18, resnet50, vit-tiny, vit-paper.
    #[arg(long, default_value = "resnet20")]
    model: Preset,
    /// Epochs [default: the committed recipe's, 12 for ResNets, 30 for ViTs].
    #[arg(long)]
    epochs: Option<usize>,
    /// Run directory (checkpoints, config, weights, manifest, metrics).
    #[arg(long)]
    out: PathBuf,
    /// Continue the run in --out from its last complete epoch.
    #[arg(long)]
    resume: bool,
    /// Images per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Peak learning rate [default: 0.1 SGD, 1e-3 AdamW].
    #[arg(long)]
    lr: Option<f64>,
    /// Optimizer [default: sgd for ResNets, adamw for ViTs].
    #[arg(long)]
    optimizer: Option<OptimizerKind>,
    /// Weight decay [default: 5e-4 SGD, 0.1 AdamW].
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Turn off crop + flip augmentation.
    #[arg(long)]
    no_augment: bool,
    /// Seed of initialisation, shuffling and augmentation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Train on the first N training images only.
    #[arg(long)]
    train_subset: Option<usize>,
    /// Evaluate on the first N test images only.
    #[arg(long)]
    test_subset: Option<usize>,
    /// Evaluate on the test set every N epochs (always after the last).
    #[arg(long, default_value_t = 1)]
    eval_every: usize,
    /// Compute backend [default: the most capable one compiled in].
    #[arg(long)]
    backend: Option<Backend>,
    /// Hide progress bars (epoch summaries are still logged).
    #[arg(long)]
    quiet: bool,
    /// Stop after this many epochs of this invocation, keeping the checkpoint; rerun the same
    /// command with --resume to continue (the wall time then covers every invocation).
    #[arg(long, value_name = "EPOCHS", value_parser = clap::value_parser!(u64).range(1..))]
    pause_after: Option<u64>,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// Run directory or .bpk file (with manifest.json beside it).
    #[arg(long)]
    weights: PathBuf,
    /// Compute backend [default: the most capable one compiled in].
    #[arg(long)]
    backend: Option<Backend>,
    /// Evaluate on the first N test images only.
    #[arg(long)]
    test_subset: Option<usize>,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args)]
struct DownloadArgs {
    /// Dataset: cifar10 or fashion-mnist.
    #[arg(long, default_value = "cifar10")]
    dataset: DatasetKind,
    /// Also verify the MD5/SHA-256 of files already present against the official checksums.
    #[arg(long)]
    verify: bool,
    #[command(flatten)]
    data: DataArgs,
}

/// Default epochs of the committed recipes (see README for the accuracy they reach).
fn default_epochs(model: Preset) -> usize {
    if model.is_resnet() { 12 } else { 30 }
}

fn main() -> ExitCode {
    // Before any tensor work: freed buffers stay in the process (docs/performance.md).
    lethe_trainer::allocator::keep_freed_buffers();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole context chain on one line, without a backtrace.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Forget(args) => {
            let (mut config, options) = unlearn_setup(args.method, &args.unlearn)?;
            config.epochs = args.epochs;
            let options = RunOptions {
                slim: args.slim,
                ..options
            };
            paused_is_success(unlearn::run::forget(config, &options).map(drop))
        }
        Command::Compare(args) => {
            let methods = parse_methods(&args.methods)?;
            let (config, options) = unlearn_setup(MethodKind::Retrain, &args.unlearn)?;
            paused_is_success(
                unlearn::run::compare(config, &methods, args.epochs, &options).map(drop),
            )
        }
        Command::Summarize(args) => summarize_command(args),
        Command::Predict(args) => predict_command(args),
        Command::ExportWeb(args) => export_web_command(args),
        Command::Bench(args) => bench_command(args),
        Command::ExportLive(args) => {
            let dir = data_dir::resolve(args.data.data_dir.as_deref())?;
            let download = !args.data.no_download;
            let train_set = data_dir::load(DatasetKind::Cifar10, &dir, DataSplit::Train, download)?;
            let test_set = data_dir::load(DatasetKind::Cifar10, &dir, DataSplit::Test, download)?;
            let index = lethe_trainer::live_export::export_live(
                &train_set,
                &test_set,
                args.train_per_class,
                args.probe_per_class,
                args.seed,
                &args.out,
            )?;
            println!(
                "wrote {}: {} training and {} probe images",
                args.out.display(),
                index.train.images,
                index.probe.images
            );
            Ok(())
        }
        Command::Train(args) => train_command(args),
        Command::Eval(args) => eval_command(args),
        Command::Download(args) => {
            let dir = data_dir::resolve(args.data.data_dir.as_deref())?;
            download::ensure_dataset(args.dataset, &dir, !args.data.no_download)?;
            if args.verify {
                lethe_shared::data::checksum::verify_dataset_dir(
                    args.dataset,
                    &args.dataset.dir(&dir),
                )?;
                println!(
                    "every {} file matches its official checksum",
                    args.dataset.name()
                );
            }
            println!("{} is ready in {}", args.dataset.name(), dir.display());
            Ok(())
        }
    }
}

/// `all` or a comma-separated list of method names.
fn parse_methods(text: &str) -> anyhow::Result<Vec<MethodKind>> {
    if text.trim() == "all" {
        return Ok(MethodKind::ALL.to_vec());
    }
    text.split(',')
        .map(|name| {
            MethodKind::from_str(name.trim(), true).map_err(|_| {
                let known: Vec<&str> = MethodKind::ALL.iter().map(|m| m.name()).collect();
                anyhow::anyhow!(
                    "unknown method `{}`; known: {} (or `all`)",
                    name.trim(),
                    known.join(", ")
                )
            })
        })
        .collect()
}

fn unlearn_setup(
    method: MethodKind,
    args: &UnlearnArgs,
) -> anyhow::Result<(UnlearnConfig, RunOptions)> {
    let forget = match args.forget_random {
        Some(fraction) => ForgetRequest::Random {
            fraction,
            seed: args.seed,
        },
        None if args.forget_classes.is_empty() => ForgetRequest::default(),
        None => ForgetRequest::Classes(args.forget_classes.clone()),
    };
    let mut config = UnlearnConfig::new(method, forget);
    config.validation = if args.holdout {
        ValidationHoldout::TenPercent { seed: args.seed }
    } else {
        ValidationHoldout::None
    };
    config.learning_rate = args.lr;
    config.batch_size = args.batch_size;
    config.seed = args.seed;
    config.preset = args.preset;
    config.prune_amount = args.prune_amount;
    config.mask = args.mask;
    config.lora_respect_mask = args.lora_respect_mask;
    config.lora_train_norm = args.lora_train_norm;
    config.lora_rank = args.lora_rank;
    config.lora_alpha = args.lora_alpha;
    config.lora_dropout = args.lora_dropout;
    config.lora_targets = args.lora_targets.clone();
    config.prune_targets = args.prune_targets.clone();
    config.rfa_lambda_retain = args.rfa_lambda_retain;
    config.rfa_lambda_forget = args.rfa_lambda_forget;
    config.l1_gamma = args.l1_gamma;
    config.salun_sparsity = args.salun_sparsity;
    config.limits = SplitLimits {
        retain: args.retain_limit,
        forget: args.forget_limit,
        test: args.test_limit,
    };
    if let Some(backend) = args.backend {
        config.backend = backend;
    }
    config.validate()?;
    let options = RunOptions {
        weights: args.weights.clone(),
        out: args.out.clone(),
        data_dir: data_dir::resolve(args.data.data_dir.as_deref())?,
        download: !args.data.no_download,
        progress: !args.quiet,
        retrain: args.retrain.clone(),
        slim: false,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        pause_after: args.pause_after.map(|epochs| epochs as usize),
    };
    Ok((config, options))
}

/// A run that stopped after `--pause-after` epochs did what was asked: say how to continue it,
/// and exit with success.
fn paused_is_success(result: anyhow::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(error) if unlearn::run::is_pause(&error) => {
            println!("{error:#}");
            Ok(())
        }
        other => other,
    }
}

fn train_command(args: TrainArgs) -> anyhow::Result<()> {
    let mut config = TrainConfig::recipe(
        args.model,
        args.dataset,
        args.epochs.unwrap_or_else(|| default_epochs(args.model)),
    );
    if let Some(batch_size) = args.batch_size {
        config.batch_size = batch_size;
    }
    if let Some(optimizer) = args.optimizer {
        config.optimizer = optimizer;
    }
    if let Some(lr) = args.lr {
        config.learning_rate = lr;
    }
    if let Some(weight_decay) = args.weight_decay {
        config.weight_decay = weight_decay;
    }
    if let Some(backend) = args.backend {
        config.backend = backend;
    }
    config.augment = !args.no_augment;
    config.seed = args.seed;
    config.train_subset = args.train_subset;
    config.test_subset = args.test_subset;
    config.eval_every = args.eval_every;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let options = TrainOptions {
        out: args.out,
        resume: args.resume,
        data_dir: data_dir::resolve(args.data.data_dir.as_deref())?,
        download: !args.data.no_download,
        progress: !args.quiet,
        pause_after: args.pause_after.map(|epochs| epochs as usize),
    };
    match train::run(config, &options) {
        Ok(_) => Ok(()),
        // Stopping after --pause-after epochs is what was asked: say how to go on, succeed.
        Err(error) if error.downcast_ref::<train::TrainPaused>().is_some() => {
            println!("{error:#}");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

fn predict_command(args: PredictArgs) -> anyhow::Result<()> {
    let backend = args.backend.unwrap_or_else(Backend::best_available);
    let device = backend.device()?;
    let predictions = web_export::predict(&args.weights, &args.images, &device)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&predictions)?);
    } else {
        let (_, manifest_file) = lethe_shared::weights::resolve_paths(&args.weights)?;
        let manifest = lethe_shared::weights::read_manifest(&manifest_file)?;
        let names: Vec<&str> = manifest.class_names.iter().map(String::as_str).collect();
        print!("{}", web_export::format_predictions(&predictions, &names));
    }
    Ok(())
}

fn bench_command(args: BenchArgs) -> anyhow::Result<()> {
    let options = lethe_trainer::bench::BenchOptions {
        models: args.models,
        ops: args.ops,
        infer_batches: args.infer_batches,
        train_batch: args.train_batch,
        warmup: args.warmup,
        repeats: args.repeats,
        forget_images: args.forget_images,
        data_dir: data_dir::resolve(args.data.data_dir.as_deref())?,
        download: !args.data.no_download,
        backend: args.backend.unwrap_or_else(Backend::best_available),
    };
    lethe_trainer::bench::run(&options, &mut |row| {
        println!(
            "{}",
            serde_json::to_string(row).unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
        );
    })
}

/// A report given on the command line (`report.json`, or a directory holding one), with the
/// path it was read from.
fn read_report(path: &Path) -> anyhow::Result<(String, unlearn::report::Report)> {
    let file = if path.is_dir() {
        path.join("report.json")
    } else {
        path.to_owned()
    };
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let report: unlearn::report::Report = serde_json::from_str(&text)
        .with_context(|| format!("parsing {} as a lethe report", file.display()))?;
    Ok((file.display().to_string(), report))
}

fn summarize_command(args: SummarizeArgs) -> anyhow::Result<()> {
    let reports = args
        .reports
        .iter()
        .map(|path| read_report(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let summary = match &args.gap_to {
        Some(path) => {
            let (source, reference) = read_report(path)?;
            unlearn::summary::summarize_against(&reports, (&source, &reference), &command)?
        }
        None => unlearn::summary::summarize(&reports, &command)?,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let markdown = summary.to_markdown();
    lethe_shared::weights::write_atomic(
        &args.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    lethe_shared::weights::write_atomic(&args.out.join("summary.md"), markdown.as_bytes())?;
    println!("{markdown}");
    println!("wrote {}", args.out.display());
    Ok(())
}

fn export_web_command(args: ExportWebArgs) -> anyhow::Result<()> {
    // The test split of every dataset among the runs, for the sample images and the f16 check.
    let mut test_sets = Vec::new();
    if args.samples_per_class > 0 || args.f16 {
        let dir = data_dir::resolve(args.data.data_dir.as_deref())?;
        for run in &args.runs {
            let (_, manifest_file) = lethe_shared::weights::resolve_paths(run)?;
            let dataset = lethe_shared::weights::read_manifest(&manifest_file)?
                .model
                .dataset;
            if test_sets
                .iter()
                .all(|set: &lethe_shared::data::ImageDataset| set.kind != dataset)
            {
                test_sets.push(data_dir::load(
                    dataset,
                    &dir,
                    DataSplit::Test,
                    !args.data.no_download,
                )?);
            }
        }
    }
    let notes = args
        .notes
        .iter()
        .map(|note| {
            note.split_once('=')
                .map(|(id, text)| (id.trim().to_owned(), text.trim().to_owned()))
                .with_context(|| format!("--note `{note}` is not RUN_ID=TEXT"))
        })
        .collect::<anyhow::Result<_>>()?;
    let options = ExportOptions {
        runs: args.runs,
        out: args.out,
        samples_per_class: args.samples_per_class,
        notes,
        add: args.add,
        precision: if args.f16 {
            lethe_shared::weights::Precision::F16
        } else {
            lethe_shared::weights::Precision::F32
        },
    };
    let catalog = web_export::export_web(&options, &test_sets)?;
    for run in &catalog.runs {
        println!(
            "{:<48} {:<10} {:>9} bytes  {}",
            run.id, run.method_name, run.weights_bytes, run.note
        );
    }
    println!(
        "wrote {} and {} run(s)",
        options.out.join("models/index.json").display(),
        catalog.runs.len()
    );
    Ok(())
}

fn eval_command(args: EvalArgs) -> anyhow::Result<()> {
    let backend = args.backend.unwrap_or_else(Backend::best_available);
    let device = backend.device()?;
    let (manifest, model) = lethe_shared::weights::load_run(&args.weights, &device)
        .with_context(|| format!("loading {}", args.weights.display()))?;
    let dataset = manifest.model.dataset;
    let dir = data_dir::resolve(args.data.data_dir.as_deref())?;
    let test_set = data_dir::load(dataset, &dir, DataSplit::Test, !args.data.no_download)?;
    let indices = train::first_indices(&test_set, args.test_subset);
    let evaluation = evaluate(&model, &test_set, Some(&indices), 256, &device)?;
    println!(
        "{} ({}, method {}), test set of {}:",
        args.weights.display(),
        manifest.model.describe(),
        manifest.method,
        dataset.name()
    );
    print!("{}", format_per_class(&evaluation, dataset.class_names()));
    Ok(())
}
