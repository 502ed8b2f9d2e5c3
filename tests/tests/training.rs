//! A few-step training run on a small subset of real CIFAR-10: the loss must fall, and the run
//! directory must hold everything it promises.

use lethe_shared::data::DatasetKind;
use lethe_shared::model::Preset;
use lethe_shared::weights;
use lethe_tests::data_dir;
use lethe_trainer::backend::Backend;
use lethe_trainer::train::{self, TrainConfig, TrainOptions};

#[test]
fn resnet20_loss_falls_on_real_cifar10() {
    let out = tempfile::tempdir().unwrap();
    let mut config = TrainConfig::recipe(Preset::Resnet20, DatasetKind::Cifar10, 4);
    config.train_subset = Some(512);
    config.test_subset = Some(200);
    config.batch_size = 64;
    config.learning_rate = 0.05;
    config.augment = false;
    config.backend = Backend::Cpu;
    let options = TrainOptions {
        out: out.path().to_owned(),
        resume: false,
        data_dir: data_dir(),
        download: false,
        progress: false,
    };
    let report = train::run(config, &options).unwrap();

    let first = report.history.first().unwrap().train_loss;
    let last = report.history.last().unwrap().train_loss;
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
    let mut config = TrainConfig::recipe(Preset::VitTiny, DatasetKind::Cifar10, 3);
    config.train_subset = Some(256);
    config.test_subset = Some(100);
    config.batch_size = 64;
    config.augment = false;
    config.backend = Backend::Cpu;
    let options = TrainOptions {
        out: out.path().to_owned(),
        resume: false,
        data_dir: data_dir(),
        download: false,
        progress: false,
    };
    let report = train::run(config, &options).unwrap();
    let first = report.history.first().unwrap().train_loss;
    let last = report.history.last().unwrap().train_loss;
    assert!(last < first, "loss went from {first} to {last}");
}

#[test]
fn a_second_run_into_the_same_directory_needs_resume() {
    let out = tempfile::tempdir().unwrap();
    let mut config = TrainConfig::recipe(Preset::Resnet20, DatasetKind::Cifar10, 1);
    config.train_subset = Some(64);
    config.test_subset = Some(32);
    config.backend = Backend::Cpu;
    let options = TrainOptions {
        out: out.path().to_owned(),
        resume: false,
        data_dir: data_dir(),
        download: false,
        progress: false,
    };
    train::run(config.clone(), &options).unwrap();
    let error = train::run(config, &options).unwrap_err().to_string();
    assert!(error.contains("--resume"), "{error}");
}
