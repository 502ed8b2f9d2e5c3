//! `lethe export-live`: the small, class-balanced subsets of real CIFAR-10 the page's live
//! forgetting trains and measures on (`static/live/cifar10/`), in the batch files' own record
//! format so the page reads them with the same parser ([`cifar10::parse_records`]).
//!
//! - `train.bin`: `train_per_class` training images of every class (the page drops the class
//!   it forgets and trains on the rest);
//! - `probe.bin`: `probe_per_class` *test* images of every class (never trained on), the probe
//!   set whose forgotten / kept accuracy the page shows;
//! - `index.json`: where every record came from (indices into the official files), the seed,
//!   and each file's SHA-256.

use std::path::{Path, PathBuf};

use anyhow::Context;
use lethe_shared::data::checksum::sha256_hex;
use lethe_shared::data::split::balanced_subset;
use lethe_shared::data::{DatasetKind, ImageDataset, cifar10};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// What `lethe export-live` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSubsetIndex {
    /// Format version.
    pub format: u32,
    /// The dataset (CIFAR-10).
    pub dataset: DatasetKind,
    /// Seed of the draw.
    pub seed: u64,
    /// The training subset's file.
    pub train: LiveSubsetFile,
    /// The probe set's file.
    pub probe: LiveSubsetFile,
}

/// One subset file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSubsetFile {
    /// File name beside `index.json`.
    pub file: String,
    /// Images per class.
    pub per_class: usize,
    /// Records in the file.
    pub images: usize,
    /// Byte length.
    pub bytes: usize,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Which split of the official release the images come from.
    pub split: String,
    /// Index of every record in that split (the training split is data_batch_1..5 in order).
    pub source_indices: Vec<usize>,
}

/// Draw the subsets from `train_set` / `test_set` and write them into `out`.
pub fn export_live(
    train_set: &ImageDataset,
    test_set: &ImageDataset,
    train_per_class: usize,
    probe_per_class: usize,
    seed: u64,
    out: &Path,
) -> anyhow::Result<LiveSubsetIndex> {
    anyhow::ensure!(
        train_set.kind == DatasetKind::Cifar10 && test_set.kind == DatasetKind::Cifar10,
        "live forgetting ships CIFAR-10 subsets only"
    );
    anyhow::ensure!(
        train_per_class > 0 && probe_per_class > 0,
        "--train-per-class and --probe-per-class must be at least 1"
    );
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut draw = |dataset: &ImageDataset, per_class: usize| {
        let mut order: Vec<usize> = (0..dataset.len()).collect();
        order.shuffle(&mut rng);
        let mut picked = balanced_subset(dataset, &order, per_class);
        picked.sort_unstable();
        picked
    };
    let train_indices = draw(train_set, train_per_class);
    let probe_indices = draw(test_set, probe_per_class);
    let write = |name: &str, dataset: &ImageDataset, indices: Vec<usize>, per_class, split| {
        let bytes = cifar10::to_records(dataset, &indices);
        let path: PathBuf = out.join(name);
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        anyhow::Ok(LiveSubsetFile {
            file: name.to_owned(),
            per_class,
            images: indices.len(),
            bytes: bytes.len(),
            sha256: sha256_hex(&bytes),
            split: String::from(split),
            source_indices: indices,
        })
    };
    let index = LiveSubsetIndex {
        format: 1,
        dataset: DatasetKind::Cifar10,
        seed,
        train: write(
            "train.bin",
            train_set,
            train_indices,
            train_per_class,
            "train",
        )?,
        probe: write(
            "probe.bin",
            test_set,
            probe_indices,
            probe_per_class,
            "test",
        )?,
    };
    let path = out.join("index.json");
    std::fs::write(&path, serde_json::to_string_pretty(&index)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(index)
}
