//! Helpers for Lethe's end-to-end tests (the tests themselves are in `tests/`).

use std::path::PathBuf;

/// The real datasets: `$LETHE_DATA_DIR`, else `../shared/data` beside the repository (where CI
/// and every developer checkout have them). Tests never download.
pub fn data_dir() -> PathBuf {
    std::env::var_os("LETHE_DATA_DIR")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}
