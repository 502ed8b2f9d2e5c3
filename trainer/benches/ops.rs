//! `cargo bench -p lethe-trainer --bench ops`: the quick form of `lethe bench` (issue 6).
//!
//! Times the inference and step operations of resnet20 and vit-tiny on the CPU backend with
//! real CIFAR-10 images and prints one JSON line per row, the keys of
//! `bench/pytorch_reference.py`. The whole-epoch operations and the side-by-side comparison with
//! PyTorch are `lethe bench` and `bench/side_by_side.py` (see `docs/performance.md`).
//!
//! Environment: `LETHE_DATA_DIR` (default `../shared/data` beside the workspace; never downloads),
//! `LETHE_BENCH_REPEATS` (timed calls per row, default 10). CI only checks that this compiles
//! (`cargo bench --no-run`): benchmarks are not tests.

use std::path::PathBuf;

use anyhow::Context;
use lethe_shared::model::Preset;
use lethe_trainer::backend::Backend;
use lethe_trainer::bench::{BenchOp, BenchOptions, run};

fn main() -> anyhow::Result<()> {
    // The allocator settings of the `lethe` binary.
    lethe_trainer::allocator::keep_freed_buffers();
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let data_dir = std::env::var_os("LETHE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("../shared/data"));
    let repeats = match std::env::var("LETHE_BENCH_REPEATS") {
        Ok(text) => text
            .parse()
            .with_context(|| format!("LETHE_BENCH_REPEATS={text} is not a count"))?,
        Err(_) => 10,
    };
    let options = BenchOptions {
        models: vec![Preset::Resnet20, Preset::VitTiny],
        ops: vec![BenchOp::Infer, BenchOp::TrainStep, BenchOp::LoraStep],
        infer_batches: vec![1, 256],
        train_batch: 128,
        warmup: 2,
        repeats,
        forget_images: 2048,
        data_dir,
        download: false,
        backend: Backend::Cpu,
    };
    run(&options, &mut |row| match serde_json::to_string(row) {
        Ok(line) => println!("{line}"),
        Err(error) => eprintln!("cannot print a row: {error}"),
    })
}
