//! A few-step training run on a small subset of real CIFAR-10: the loss must fall, and the run
//! directory must hold everything it promises.

use lethe_shared::data::DatasetKind;
use lethe_shared::model::Preset;
use lethe_shared::weights;
use lethe_tests::data_dir;
use lethe_trainer::backend::Backend;
use lethe_trainer::train::{self, TrainConfig, TrainOptions, TrainReport};

/// A CPU training config over the first `train_images` / `test_images` of real CIFAR-10.
fn small_config(
    preset: Preset,
    epochs: usize,
    train_images: usize,
    test_images: usize,
) -> TrainConfig {
    let mut config = TrainConfig::recipe(preset, DatasetKind::Cifar10, epochs);
    config.train_subset = Some(train_images);
    config.test_subset = Some(test_images);
    config.batch_size = 64;
    config.augment = false;
    config.backend = Backend::Cpu;
    config
}

fn options(out: &std::path::Path) -> TrainOptions {
    TrainOptions {
        out: out.to_owned(),
        resume: false,
        data_dir: data_dir(),
        download: false,
        progress: false,
        pause_after: None,
    }
}

fn first_and_last_loss(report: &TrainReport) -> (f64, f64) {
    let first = report
        .history
        .first()
        .expect("one epoch at least")
        .train_loss;
    let last = report
        .history
        .last()
        .expect("one epoch at least")
        .train_loss;
    (first, last)
}

#[test]
fn resnet20_loss_falls_on_real_cifar10() {
    let out = tempfile::tempdir().unwrap();
    let mut config = small_config(Preset::Resnet20, 4, 512, 200);
    config.learning_rate = 0.05;
    let report = train::run(config, &options(out.path())).unwrap();

    let (first, last) = first_and_last_loss(&report);
    assert!(last < first * 0.9, "loss went from {first} to {last}");
    assert_eq!(report.history.len(), 4);
    assert_eq!(report.test.count, 200);
    assert!(report.images_per_second > 0.0);

    for file in [
        "config.json",
        "metrics.json",
        "train.log",
        "model.bpk",
        "manifest.json",
    ] {
        assert!(out.path().join(file).is_file(), "{file} missing");
    }
    let (manifest, _) = weights::load_run(out.path(), &burn::tensor::Device::flex()).unwrap();
    assert_eq!(manifest.method, "original");
    assert_eq!(manifest.per_class_accuracy.len(), 10);
    assert_eq!(manifest.metrics["test_accuracy"], report.test.accuracy);
}

#[test]
fn vit_tiny_trains_a_few_steps_on_real_cifar10() {
    let out = tempfile::tempdir().unwrap();
    let report = train::run(
        small_config(Preset::VitTiny, 3, 256, 100),
        &options(out.path()),
    )
    .unwrap();
    let (first, last) = first_and_last_loss(&report);
    assert!(last < first, "loss went from {first} to {last}");
}

#[test]
fn a_second_run_into_the_same_directory_needs_resume() {
    let out = tempfile::tempdir().unwrap();
    let config = small_config(Preset::Resnet20, 1, 64, 32);
    train::run(config.clone(), &options(out.path())).unwrap();
    let error = train::run(config, &options(out.path()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("--resume"), "{error}");
}
