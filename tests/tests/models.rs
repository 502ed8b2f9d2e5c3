//! Every preset: parameter count (spec §2) and output shape.

use burn::tensor::{Device, Distribution, Tensor};
use lethe_shared::data::DatasetKind;
use lethe_shared::model::Preset;

/// Expected learnable parameters with 10 classes on CIFAR-10 (3×32×32).
///
/// resnet20 and resnet50 are the spec's numbers; resnet18 is the CIFAR ResNet-18 of
/// kuangliu/pytorch-cifar (the Jia/SalUn model). The ViTs are counted by hand. vit-tiny:
/// patch conv (3·16·192 + 192), then 6 blocks of (two LayerNorms 2·2·192, qkv 192·576 + 576,
/// out 192·192 + 192, MLP 192·384 + 384 and 384·192 + 192), final LayerNorm 2·192 and head
/// 192·10 + 10, which is 1,793,866. vit-paper likewise with 384/12/1536: 21,317,002.
const EXPECTED: [(Preset, usize); 5] = [
    (Preset::Resnet20, 272_474),
    (Preset::Resnet18, 11_173_962),
    (Preset::Resnet50, 23_520_842),
    (Preset::VitTiny, 1_793_866),
    (Preset::VitPaper, 21_317_002),
];

#[test]
fn parameter_counts_match_the_spec() {
    let device = Device::flex();
    for (preset, expected) in EXPECTED {
        let model = preset.config(DatasetKind::Cifar10).init(&device);
        assert_eq!(model.learnable_params(), expected, "{preset}");
    }
}

#[test]
fn logits_have_one_row_per_image_and_one_column_per_class() {
    let device = Device::flex();
    for preset in Preset::ALL {
        for dataset in [DatasetKind::Cifar10, DatasetKind::FashionMnist] {
            let model = preset.config(dataset).init(&device);
            let size = dataset.image_size();
            let images = Tensor::<4>::random(
                [2, dataset.channels(), size, size],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            assert_eq!(
                model.forward(images.clone()).dims(),
                [2, 10],
                "{preset} {dataset:?}"
            );
            let features = model.features(images).dims();
            assert_eq!(features[0], 2, "{preset}");
        }
    }
}

#[test]
fn preset_names_round_trip_and_unknown_names_are_errors() {
    for preset in Preset::ALL {
        assert_eq!(preset.name().parse::<Preset>(), Ok(preset));
    }
    let error = "resnet21".parse::<Preset>().unwrap_err();
    assert!(error.to_string().contains("resnet21"));
}
