//! `lethe`: train, forget, measure and export image classifiers for machine unlearning.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use lethe_shared::data::{DataSplit, DatasetKind};
use lethe_shared::model::Preset;
use lethe_trainer::backend::Backend;
use lethe_trainer::eval::{evaluate, format_per_class};
use lethe_trainer::train::{self, OptimizerKind, TrainConfig, TrainOptions};
use lethe_trainer::{data_dir, download};

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
    };
    train::run(config, &options)?;
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
