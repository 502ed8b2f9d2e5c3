//! Reproducibility: a run regenerated from the configuration and seed recorded in its manifest
//! gives the same metrics within ±0.5 points on the CPU.
//!
//! CI regenerates the committed reference run `docs/results/reproduce-check/` (PruneLoRA, one
//! epoch over 2,000 retained images: about half a minute). `every_shipped_run_reproduces` does
//! the same for every run the browser demo ships — hours on a CPU, so it is ignored by default:
//! `cargo test --release -p lethe-tests --test reproduce -- --ignored`.

use std::fs;
use std::path::{Path, PathBuf};

use lethe_shared::catalog::Catalog;
use lethe_shared::weights::{self, Manifest};
use lethe_tests::{data_dir, manifest_dir};
use lethe_trainer::unlearn::UnlearnConfig;
use lethe_trainer::unlearn::run::{RunOptions, forget};

/// How far a regenerated metric may be from the recorded one, in percentage points.
const TOLERANCE: f64 = 0.5;

fn repo() -> PathBuf {
    manifest_dir().join("..")
}

/// Rerun the unlearning recorded in `manifest` from `original` and return
/// `(metric, recorded, regenerated)` for UA, MIA-Efficacy, RA, TA and each class's test accuracy.
fn regenerate(manifest: &Manifest, original: &Path) -> Vec<(String, f64, f64)> {
    let config: UnlearnConfig = serde_json::from_value(manifest.config.clone())
        .expect("the manifest records the run's full configuration");
    assert_eq!(config.seed, manifest.seed);
    let out = tempfile::tempdir().unwrap();
    let options = RunOptions {
        weights: original.to_owned(),
        out: out.path().join("run"),
        data_dir: data_dir(),
        download: false,
        progress: false,
        retrain: None,
        slim: false,
        command: "cargo test --test reproduce".into(),
        pause_after: None,
    };
    let report = forget(config, &options).unwrap_or_else(|error| panic!("{error:#}"));
    let row = report.rows.first().or(report.retrain.as_ref()).unwrap();
    let metrics = &row.metrics;
    let mut pairs = Vec::new();
    for (key, regenerated) in [
        ("ua", metrics.ua),
        ("mia_efficacy", metrics.mia_efficacy),
        ("ra", metrics.ra),
        ("ta", metrics.ta),
    ] {
        let recorded = manifest.metrics[key];
        pairs.push((key.to_owned(), recorded, regenerated));
    }
    for (class, (recorded, regenerated)) in manifest
        .per_class_accuracy
        .iter()
        .zip(&metrics.per_class_test_accuracy)
        .enumerate()
    {
        if let (Some(recorded), Some(regenerated)) = (recorded, regenerated) {
            pairs.push((
                format!("test accuracy of class {class}"),
                *recorded,
                *regenerated,
            ));
        }
    }
    pairs
}

/// Every pair within [`TOLERANCE`]; a failure names the CPU kernels of both runs, the usual
/// cause of a difference (AVX-512 kernels sum in another order than AVX2).
fn assert_reproduced(name: &str, manifest: &Manifest, pairs: &[(String, f64, f64)]) {
    assert!(pairs.len() >= 4, "{name}: nothing compared");
    let recorded_kernels = manifest
        .versions
        .cpu_kernels
        .as_deref()
        .unwrap_or("not recorded");
    let kernels_here = lethe_trainer::backend::cpu_kernels();
    for (metric, recorded, regenerated) in pairs {
        assert!(
            (recorded - regenerated).abs() <= TOLERANCE,
            "{name}: {metric} recorded {recorded:.2}, regenerated {regenerated:.2} \
             (CPU kernels: recorded {recorded_kernels}, here {kernels_here})"
        );
    }
}

#[test]
fn the_reference_run_reproduces_within_half_a_point() {
    let manifest =
        weights::read_manifest(&repo().join("docs/results/reproduce-check/manifest.json")).unwrap();
    let pairs = regenerate(&manifest, &repo().join("static/models/resnet20-cifar10"));
    // The reference run is not degenerate: it forgot, and kept something to compare.
    assert!(manifest.metrics["ua"] > 90.0 && manifest.metrics["ra"] > 50.0);
    assert_reproduced("reproduce-check", &manifest, &pairs);
}

#[test]
#[ignore = "hours on a CPU: regenerates every shipped run"]
fn every_shipped_run_reproduces() {
    let site = repo().join("static");
    let catalog =
        Catalog::from_json(&fs::read_to_string(site.join("models/index.json")).unwrap()).unwrap();
    for run in catalog.runs.iter().filter(|run| !run.is_original()) {
        let original = run.original.as_deref().unwrap();
        let manifest =
            weights::read_manifest(&site.join(&run.weights).with_file_name("manifest.json"))
                .unwrap();
        let pairs = regenerate(&manifest, &site.join("models").join(original));
        assert_reproduced(&run.id, &manifest, &pairs);
    }
}
