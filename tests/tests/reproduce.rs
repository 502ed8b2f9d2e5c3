//! Reproducibility: a run regenerated from the configuration and seed recorded in its manifest
//! gives the same metrics on the CPU.
//!
//! CI regenerates the committed reference run `docs/results/reproduce-check/` (PruneLoRA, one
//! epoch over 2,000 retained images: about a minute) twice: the two must agree exactly (the run
//! is deterministic on one CPU), and both must land near the committed metrics. Bit for bit
//! only on a CPU like the one that made it: gemm sizes its blocks of the summed dimension from
//! the CPU's cache sizes, so on a CPU with other caches sums run in another order, and this
//! short, far-from-converged run (accuracy 91 → 68 % in 63 steps) carries those last-bit
//! differences into a few images (on an AMD EPYC, 2026-12-07: RA 68.75 against 67.90 recorded on
//! an Intel Xeon; one class of ~100 test images moved 3.3 points). `every_shipped_run_reproduces`
//! regenerates every run the browser demo ships and requires ±0.5 points — hours on a CPU, so
//! it is ignored by default: `cargo test --release -p lethe-tests --test reproduce -- --ignored`.

use std::fs;
use std::path::{Path, PathBuf};

use lethe_shared::catalog::Catalog;
use lethe_shared::weights::{self, Manifest};
use lethe_tests::{data_dir, manifest_dir};
use lethe_trainer::unlearn::UnlearnConfig;
use lethe_trainer::unlearn::run::{RunOptions, forget};

/// How far a regenerated metric of a shipped run may be from the recorded one, in percentage
/// points (issue 5).
const TOLERANCE: f64 = 0.5;

/// How far the reference run's UA, MIA-Efficacy, RA and TA regenerated on any CPU may be from the
/// committed ones, in percentage points: the largest difference seen across CPUs was 0.85 (RA,
/// 17 of 2,000 images); a wrong method, split or seed moves them by tens of points.
const REFERENCE_TOLERANCE: f64 = 2.0;

/// The headline metrics (manifest keys, in the order [`regenerate`] returns them), compared
/// across CPUs; per-class accuracy (~100 images a class in the reference run) is compared
/// between two runs on one CPU only.
const HEADLINE: [&str; 4] = ["ua", "mia_efficacy", "ra", "ta"];

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
    for (key, regenerated) in
        HEADLINE
            .into_iter()
            .zip([metrics.ua, metrics.mia_efficacy, metrics.ra, metrics.ta])
    {
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

/// Every pair within `tolerance` points; a failure names the CPU kernels of both runs, the usual
/// cause of a difference (AVX-512 kernels sum in another order than AVX2, as do CPUs whose
/// cache sizes give gemm other block sizes).
fn assert_reproduced(
    name: &str,
    manifest: &Manifest,
    pairs: &[(String, f64, f64)],
    tolerance: f64,
) {
    assert!(pairs.len() >= 4, "{name}: nothing compared");
    let recorded_kernels = manifest
        .versions
        .cpu_kernels
        .as_deref()
        .unwrap_or("not recorded");
    let kernels_here = lethe_trainer::backend::cpu_kernels();
    for (metric, recorded, regenerated) in pairs {
        assert!(
            (recorded - regenerated).abs() <= tolerance,
            "{name}: {metric} recorded {recorded:.2}, regenerated {regenerated:.2} \
             (CPU kernels: recorded {recorded_kernels}, here {kernels_here})"
        );
    }
}

#[test]
fn the_reference_run_is_deterministic_and_reproduces() {
    let manifest =
        weights::read_manifest(&repo().join("docs/results/reproduce-check/manifest.json")).unwrap();
    // The reference run is not degenerate: it forgot, and kept something to compare.
    assert!(manifest.metrics["ua"] > 90.0 && manifest.metrics["ra"] > 50.0);
    let original = repo().join("static/models/resnet20-cifar10");
    let first = regenerate(&manifest, &original);
    let second = regenerate(&manifest, &original);
    assert_eq!(first.len(), second.len());
    let kernels_here = lethe_trainer::backend::cpu_kernels();
    for ((metric, _, once), (_, _, again)) in first.iter().zip(&second) {
        assert_eq!(
            once, again,
            "reproduce-check: {metric} regenerated {once} then {again} on this CPU ({kernels_here}): \
             the same configuration and seed must give the same numbers"
        );
    }
    let headline: Vec<_> = first
        .into_iter()
        .filter(|(metric, _, _)| HEADLINE.contains(&metric.as_str()))
        .collect();
    assert_reproduced("reproduce-check", &manifest, &headline, REFERENCE_TOLERANCE);
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
        assert_reproduced(&run.id, &manifest, &pairs, TOLERANCE);
    }
}
