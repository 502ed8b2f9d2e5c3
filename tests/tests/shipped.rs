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

/// Folding BatchNorm into the convolutions (the browser's and `lethe predict`'s inference path)
/// keeps the shipped ResNet-20's logits on real test images, folds every conv layer once, and
/// leaves a ViT (no BatchNorm) alone.
#[test]
fn folding_batch_norm_keeps_the_shipped_logits() {
    use burn::module::Module;
    use lethe_shared::inference::logits;

    let device = Device::flex();
    let test_set = DatasetKind::Cifar10
        .load(&data_dir(), DataSplit::Test)
        .unwrap()
        .first_n(16);
    let pixels: Vec<u8> = (0..test_set.len())
        .flat_map(|index| test_set.image(index).to_vec())
        .collect();
    let values = |model: &lethe_shared::model::Classifier| -> Vec<f32> {
        logits(model, &pixels, DatasetKind::Cifar10, &device)
            .into_data()
            .iter::<f32>()
            .collect()
    };

    let (_, model) = weights::load_run(&shipped("resnet20-cifar10"), &device).unwrap();
    let model = model.valid();
    let expected = values(&model);
    let mut folded = model.clone();
    // Stem, 18 block layers and 2 projection shortcuts.
    assert_eq!(folded.fold_batch_norm(), 21);
    assert_eq!(
        folded.fold_batch_norm(),
        0,
        "a folded model folds nothing twice"
    );
    let actual = values(&folded);
    assert_eq!(actual.len(), 16 * 10);
    let worst = expected
        .iter()
        .zip(&actual)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "folded logits differ by {worst}");
    // The unfolded model is untouched (folding worked on a clone).
    assert_eq!(values(&model), expected);

    let (_, mut vit) = weights::load_run(&shipped("vit-tiny-cifar10"), &device).unwrap();
    assert_eq!(vit.fold_batch_norm(), 0);
}
