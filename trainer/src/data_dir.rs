//! Where datasets are found: `--data-dir`, else `$LETHE_DATA_DIR`, else the user's data directory
//! (`~/.local/share/lethe/data` on Linux). Missing files are downloaded from the official
//! sources with checksum verification unless `--no-download` is given.

use std::path::{Path, PathBuf};

use anyhow::Context;
use lethe_shared::data::{DataSplit, DatasetKind, ImageDataset};

/// Environment variable naming the data directory.
pub const DATA_DIR_ENV: &str = "LETHE_DATA_DIR";

/// Resolve the data directory from the flag, the environment, or the user data directory.
pub fn resolve(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir.to_owned());
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|value| !value.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|dir| dir.join("lethe").join("data"))
        .context("no user data directory on this system: pass --data-dir or set LETHE_DATA_DIR")
}

/// Load a dataset split, downloading the dataset first when it is absent and `download` is set.
pub fn load(
    kind: DatasetKind,
    data_dir: &Path,
    split: DataSplit,
    download: bool,
) -> anyhow::Result<ImageDataset> {
    crate::download::ensure_dataset(kind, data_dir, download)?;
    kind.load(data_dir, split)
        .with_context(|| format!("reading {} from {}", kind.name(), data_dir.display()))
}
