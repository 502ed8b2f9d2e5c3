//! The shipped original models in `static/models/` load with today's code and still score what
//! their manifests say on the real test set.

use std::path::PathBuf;

use burn::tensor::Device;
use lethe_shared::data::{DataSplit, DatasetKind};
use lethe_shared::model::Preset;
use lethe_shared::weights;
use lethe_tests::{data_dir, manifest_dir};
use lethe_trainer::eval::evaluate;

fn shipped(run: &str) -> PathBuf {
    manifest_dir().join("../static/models").join(run)
}

/// Load a shipped original run, check its manifest, and re-measure it on the full test set.
fn check_shipped_original(run: &str, preset: Preset, minimum_accuracy: f64) {
    let device = Device::flex();
    let (manifest, model) = weights::load_run(&shipped(run), &device).unwrap();
    assert_eq!(manifest.method, "original");
    assert_eq!(manifest.model, preset.config(DatasetKind::Cifar10));
    assert!(manifest.forgotten_classes.is_empty());

    let test_set = DatasetKind::Cifar10
        .load(&data_dir(), DataSplit::Test)
        .unwrap();
    let evaluation = evaluate(&model, &test_set, None, 500, &device).unwrap();
    let recorded = manifest.metrics["test_accuracy"];
    assert_eq!(evaluation.count, 10_000);
    assert!(
        (evaluation.accuracy - recorded).abs() < 0.02,
        "{run}: measured {} vs manifest {recorded}",
        evaluation.accuracy
    );
    assert!(
        evaluation.accuracy >= minimum_accuracy,
        "{run}: {}",
        evaluation.accuracy
    );
}

#[test]
fn shipped_resnet20_matches_its_manifest_on_the_full_test_set() {
    check_shipped_original("resnet20-cifar10", Preset::Resnet20, 85.0);
}

/// Trained on a GPU (wgpu on Vulkan); the CPU backend must give the same accuracy.
#[test]
fn shipped_vit_tiny_matches_its_manifest_on_the_full_test_set() {
    check_shipped_original("vit-tiny-cifar10", Preset::VitTiny, 70.0);
}
