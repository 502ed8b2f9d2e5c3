//! One tiny forward + backward + optimizer step on the wgpu backend (built with
//! `--features wgpu`). In CI this runs on Mesa's software Vulkan driver (lavapipe), where the
//! first step spends minutes compiling shaders, so the model is the smallest ResNet that still
//! uses every kind of layer (conv, BatchNorm, ReLU, residual add, pooling, linear).
#![cfg(feature = "wgpu")]

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use lethe_shared::model::resnet::{BlockKind, ResNetConfig};
use lethe_trainer::backend::Backend;

#[test]
fn tiny_resnet_trains_one_step_on_wgpu() {
    let device = Backend::Wgpu.training_device().unwrap();
    let config = ResNetConfig {
        block: BlockKind::Basic,
        in_channels: 3,
        num_classes: 10,
        stem_width: 4,
        stage_widths: vec![4, 8],
        stage_depths: vec![1, 1],
        inner_widths: None,
    };
    let model = config.init(&device);
    let images = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &device);
    let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![3i64, 7], [2]), &device);

    let logits = model.forward(images);
    assert_eq!(logits.dims(), [2, 10]);
    let loss = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(logits, labels);
    let loss_value: f32 = loss.clone().into_scalar();
    assert!(loss_value.is_finite(), "loss {loss_value}");

    let head_before: Vec<f32> = model.head.weight.val().into_data().iter::<f32>().collect();
    let gradients = GradientsParams::from_grads(loss.backward(), &model);
    let mut optimizer = SgdConfig::new().init();
    let model = optimizer.step(0.1, model, gradients);
    let head_after: Vec<f32> = model.head.weight.val().into_data().iter::<f32>().collect();
    assert_ne!(
        head_before, head_after,
        "the optimizer step changed nothing"
    );
    assert!(head_after.iter().all(|value| value.is_finite()));

    // Peak device memory (spec §4 on a GPU): the allocator holds at least the model's weights.
    let reserved = lethe_trainer::memory::sample_device_memory(&device)
        .expect("the wgpu backend reports its memory pools");
    let weight_bytes = 4 * model.num_params() as u64;
    assert!(
        reserved >= weight_bytes,
        "{reserved} B reserved < {weight_bytes} B of weights"
    );
    let peak = lethe_trainer::memory::peak_device_mib().expect("a peak after a reading");
    assert!(peak * 1024.0 * 1024.0 >= reserved as f64);
}
