//! Helpers for Lethe's end-to-end tests (the tests themselves are in `tests/`).

use std::path::PathBuf;

/// The real datasets: `$LETHE_DATA_DIR`, else `../shared/data` beside the repository (where CI
/// and every developer checkout have them). Tests never download.
pub fn data_dir() -> PathBuf {
    std::env::var_os("LETHE_DATA_DIR")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../shared/data"))
}

/// This crate's directory, as cargo reports it to the running test. Read at run time, not
/// compiled in: a build cache shared between clones (CI's) can reuse a test binary compiled in
/// another clone, whose compiled-in path would point there.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
