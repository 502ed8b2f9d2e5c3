//! The weight format: save → load gives identical logits; wrong architecture and corrupt bytes
//! are typed errors.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use lethe_shared::data::DatasetKind;
use lethe_shared::model::{Classifier, Preset};
use lethe_shared::weights::{self, Manifest, WeightsError};

fn logits(model: &Classifier, images: Tensor<4>) -> Vec<f32> {
    model
        .valid()
        .forward(images)
        .into_data()
        .iter::<f32>()
        .collect()
}

#[test]
fn save_then_load_gives_identical_logits() {
    let device = Device::flex();
    for preset in [Preset::Resnet20, Preset::VitTiny] {
        let config = preset.config(DatasetKind::Cifar10);
        device.seed(7);
        let model = config.init(&device);
        // Move BatchNorm running statistics and the zero-initialised ViT head away from their
        // initial values, so the round trip has real state to preserve.
        let model = model.map(&mut Perturb {
            device: device.clone(),
        });
        let images = Tensor::<4>::random([3, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
        let before = logits(&model, images.clone());

        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::new(config.clone(), "original", 7);
        weights::save_run(dir.path(), &model, &manifest).unwrap();
        let (loaded_manifest, loaded) = weights::load_run(dir.path(), &device).unwrap();
        assert_eq!(loaded_manifest, manifest);
        assert_eq!(logits(&loaded, images.clone()), before, "{preset}");

        // The .bpk path works as well as the directory.
        let (_, from_file) =
            weights::load_run(&dir.path().join(weights::WEIGHTS_FILE), &device).unwrap();
        assert_eq!(logits(&from_file, images), before);
    }
}

/// Adds noise to every float parameter.
struct Perturb {
    device: Device,
}

impl burn::module::ModuleMapper for Perturb {
    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        param.map(|tensor| {
            let noise = Tensor::random(
                tensor.shape(),
                Distribution::Normal(0.0, 0.05),
                &self.device,
            );
            tensor + noise
        })
    }
}

#[test]
fn loading_into_another_architecture_is_a_typed_error() {
    let device = Device::flex();
    let resnet20 = Preset::Resnet20.config(DatasetKind::Cifar10);
    let bytes = weights::encode_model(&resnet20.init(&device)).unwrap();

    for other in [Preset::Resnet18, Preset::VitTiny] {
        let requested = other.config(DatasetKind::Cifar10);
        match weights::decode_model(bytes.clone(), &requested, &device) {
            Err(WeightsError::ArchitectureMismatch {
                requested: name, ..
            }) => {
                assert!(name.contains(other.name()), "{name}")
            }
            Err(other_error) => panic!("expected ArchitectureMismatch, got {other_error}"),
            Ok(_) => panic!("resnet20 weights loaded into {other}"),
        }
    }

    // Same preset, other dataset (1 input channel): also a mismatch.
    let fashion = Preset::Resnet20.config(DatasetKind::FashionMnist);
    assert!(matches!(
        weights::decode_model(bytes, &fashion, &device),
        Err(WeightsError::ArchitectureMismatch { .. })
    ));

    // The manifest check names both sides.
    let manifest = Manifest::new(resnet20, "original", 0);
    let error = manifest
        .check_model(&Preset::VitTiny.config(DatasetKind::Cifar10))
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("resnet20") && message.contains("vit-tiny"),
        "{message}"
    );
}

#[test]
fn a_manifest_that_disagrees_with_its_weights_is_reported() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let resnet20 = Preset::Resnet20.config(DatasetKind::Cifar10);
    let mut manifest = Manifest::new(resnet20.clone(), "original", 0);
    weights::save_run(dir.path(), &resnet20.init(&device), &manifest).unwrap();
    manifest.model = Preset::Resnet18.config(DatasetKind::Cifar10);
    weights::write_atomic(
        &dir.path().join(weights::MANIFEST_FILE),
        manifest.to_json().as_bytes(),
    )
    .unwrap();
    let error = weights::load_run(dir.path(), &device).unwrap_err();
    assert!(
        matches!(error, WeightsError::ArchitectureMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("resnet18"), "{error}");
}

#[test]
fn corrupt_or_missing_weights_are_typed_errors() {
    let device = Device::flex();
    let config = Preset::Resnet20.config(DatasetKind::Cifar10);
    let garbage = b"definitely not a burnpack file".to_vec();
    assert!(matches!(
        weights::decode_model(garbage, &config, &device),
        Err(WeightsError::Corrupt { .. })
    ));

    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        weights::load_run(dir.path(), &device),
        Err(WeightsError::NotFound(_))
    ));

    weights::write_atomic(&dir.path().join(weights::WEIGHTS_FILE), b"truncated").unwrap();
    weights::write_atomic(
        &dir.path().join(weights::MANIFEST_FILE),
        Manifest::new(config, "original", 0).to_json().as_bytes(),
    )
    .unwrap();
    let error = weights::load_run(dir.path(), &device).unwrap_err();
    assert!(
        matches!(error, WeightsError::Corrupt { path: Some(_), .. }),
        "{error}"
    );

    weights::write_atomic(&dir.path().join(weights::MANIFEST_FILE), b"{ not json").unwrap();
    assert!(matches!(
        weights::load_run(dir.path(), &device),
        Err(WeightsError::Manifest { .. })
    ));
}

/// CPU runs record the matrix kernels they ran on; GPU runs and manifests written before the
/// field existed (every shipped one) have none, and still load.
#[test]
fn manifests_record_the_cpu_kernels_of_cpu_runs() {
    use lethe_trainer::backend::{Backend, cpu_kernels};
    let cpu = Backend::Cpu.versions();
    assert_eq!(cpu.cpu_kernels.as_deref(), Some(cpu_kernels()));
    assert!(!cpu_kernels().is_empty());
    assert_eq!(Backend::Wgpu.versions().cpu_kernels, None);

    let mut manifest = Manifest::new(Preset::Resnet20.config(DatasetKind::Cifar10), "original", 0);
    let json = manifest.to_json();
    assert!(!json.contains("cpu_kernels"), "{json}");
    assert_eq!(
        Manifest::from_json(&json, std::path::Path::new("manifest.json")).unwrap(),
        manifest
    );
    manifest.versions = cpu;
    let json = manifest.to_json();
    assert!(json.contains(cpu_kernels()), "{json}");
    assert_eq!(
        Manifest::from_json(&json, std::path::Path::new("manifest.json")).unwrap(),
        manifest
    );
}
