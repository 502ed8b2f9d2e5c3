//! LoRA attach / merge, structured pruning with kept or dropped masks, and slim export, on the
//! real presets (random weights; shapes and algebra are what is checked here).

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Distribution, Tensor};
use lethe_shared::adapt::lora::{self, LoraConfig};
use lethe_shared::adapt::prune::{self, PruneMask, conv_output_norms, linear_output_norms};
use lethe_shared::adapt::{AdaptError, slim};
use lethe_shared::data::DatasetKind;
use lethe_shared::model::{Architecture, Classifier, LayerMut, ModelConfig, Preset};
use lethe_shared::weights;

const LORA: LoraConfig = LoraConfig {
    rank: 4,
    alpha: 8.0,
    dropout: 0.1,
};

/// Gives every float parameter a random value (BatchNorm γ/β and running statistics included,
/// so BatchNorm is not an identity, and zero LoRA up-projections become non-zero). Running
/// variances stay positive; parameters that required a gradient still do.
struct Randomize(Device, Vec<String>);

fn randomize(device: &Device) -> Randomize {
    Randomize(device.clone(), Vec::new())
}

impl ModuleMapper for Randomize {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.1.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.1.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.1.last().cloned().unwrap_or_default();
        // Adapters get a small perturbation: a Kaiming-sized B·A on every layer would multiply
        // each layer's gain and blow the logits up to where f32 rounding exceeds 1e-4.
        let adapter = self.1.iter().any(|part| part == "lora");
        param.map(|tensor| {
            let require_grad = tensor.is_require_grad();
            let dims = tensor.dims();
            // Scales that keep a 20-layer network's activations O(1): Kaiming for weights
            // (fan-in: conv `[out, in, k, k]` → in·k·k; Burn's linear `[in, out]` → in), BatchNorm
            // near its identity, small biases.
            let (mean, std) = match D {
                _ if adapter => (0.0, 0.05),
                4 => (
                    0.0,
                    (2.0 / dims[1..].iter().product::<usize>().max(1) as f64).sqrt(),
                ),
                2 => (0.0, (2.0 / dims[0].max(1) as f64).sqrt()),
                _ if name == "gamma" || name == "running_var" => (1.0, 0.1),
                _ => (0.0, 0.1),
            };
            let random = Tensor::random(tensor.shape(), Distribution::Normal(mean, std), &self.0);
            let random = if name == "running_var" {
                random.abs() + 0.1
            } else {
                random
            };
            random.set_require_grad(require_grad)
        })
    }
}

fn images(device: &Device) -> Tensor<4> {
    Tensor::random([3, 3, 32, 32], Distribution::Normal(0.0, 1.0), device)
}

fn max_abs_difference(left: Tensor<2>, right: Tensor<2>) -> f32 {
    (left - right)
        .abs()
        .max()
        .into_data()
        .iter::<f32>()
        .next()
        .unwrap_or(f32::NAN)
}

fn model(preset: Preset, device: &Device) -> (ModelConfig, Classifier) {
    let config = preset.config(DatasetKind::Cifar10);
    let model = config.init(device).map(&mut randomize(device));
    (config, model)
}

fn all_layers() -> Vec<String> {
    vec!["*".to_owned()]
}

#[test]
fn lora_at_initialisation_changes_no_logit() {
    let device = Device::flex();
    for preset in [Preset::Resnet20, Preset::VitTiny] {
        let (_, base) = model(preset, &device);
        let input = images(&device);
        let before = base.forward(input.clone());
        let mut adapted = base.clone();
        let names = lora::attach(&mut adapted, &all_layers(), &LORA, &device).unwrap();
        assert_eq!(names.len(), base.layer_names().len(), "{preset}");
        assert!(lora::adapter_params(&adapted) > 0);
        assert_eq!(
            max_abs_difference(before, adapted.forward(input)),
            0.0,
            "{preset}"
        );
    }
}

#[test]
fn merged_model_equals_the_adapted_model() {
    let device = Device::flex();
    // ResNet: conv adapters; ViT: linear adapters, including the attention output projection.
    for (preset, patterns) in [
        (Preset::Resnet20, vec!["blocks.*.layers.*", "stem", "head"]),
        (
            Preset::VitTiny,
            vec![
                "blocks.5.attention.out_proj",
                "blocks.*.attention.qkv",
                "head",
            ],
        ),
    ] {
        let patterns: Vec<String> = patterns.into_iter().map(str::to_owned).collect();
        let (_, base) = model(preset, &device);
        let mut adapted = base.clone();
        lora::attach(&mut adapted, &patterns, &LORA, &device).unwrap();
        // Non-zero adapters everywhere (B starts at zero).
        let adapted = adapted.map(&mut randomize(&device));
        let input = images(&device);
        let adapted_logits = adapted.forward(input.clone());
        let mut merged = adapted.clone();
        lora::merge(&mut merged);
        assert_eq!(lora::adapter_params(&merged), 0);
        assert_eq!(merged.learnable_params(), base.learnable_params());
        let difference = max_abs_difference(adapted_logits.clone(), merged.forward(input.clone()));
        let scale = adapted_logits.clone().abs().max().into_scalar::<f32>();
        assert!(
            difference <= 1e-4,
            "{preset}: {difference} (logits up to {scale})"
        );
        // And the adapters did change the function.
        assert!(max_abs_difference(adapted_logits, base.forward(input)) > 1e-3);
    }
}

#[test]
fn attention_adapter_acts_on_the_output_projection() {
    let device = Device::flex();
    let (_, base) = model(Preset::VitTiny, &device);
    let mut adapted = base.clone();
    lora::attach(
        &mut adapted,
        &["blocks.5.attention.out_proj".to_owned()],
        &LORA,
        &device,
    )
    .unwrap();
    let adapted = adapted.map(&mut randomize(&device));
    let input = images(&device);
    // Randomize also changed the base weights: compare against the same base without adapter.
    let mut without_adapter = adapted.clone();
    without_adapter.for_each_layer_mut(&mut |_, layer| {
        if let LayerMut::Dense(dense) = layer {
            dense.lora = None;
        }
    });
    assert!(
        max_abs_difference(
            adapted.forward(input.clone()),
            without_adapter.forward(input)
        ) > 1e-3
    );
}

#[test]
fn unknown_layer_pattern_is_a_typed_error() {
    let device = Device::flex();
    let (_, mut model) = model(Preset::Resnet20, &device);
    let error =
        lora::attach(&mut model, &["blocks.*.mlp_in".to_owned()], &LORA, &device).unwrap_err();
    assert!(
        matches!(error, AdaptError::NoMatchingLayer { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("blocks.0.layers.0"), "{error}");
    let error = prune::prune_l2(&mut model, &all_layers(), 1.5, false).unwrap_err();
    assert!(matches!(error, AdaptError::BadAmount(_)));
}

/// Output-channel norms of every layer, by name.
fn norms(model: &Classifier) -> Vec<(String, Vec<f32>)> {
    let mut result = Vec::new();
    model.clone().for_each_layer_mut(&mut |name, layer| {
        let norms = match layer {
            LayerMut::Conv(conv_bn) => conv_output_norms(conv_bn.conv.weight.val()),
            LayerMut::Dense(dense) => linear_output_norms(dense.weight.val()),
        };
        result.push((name.to_owned(), norms));
    });
    result
}

#[test]
fn pruning_zeroes_exactly_the_lowest_norm_half_of_each_target_layer() {
    let device = Device::flex();
    for (preset, patterns) in [
        (Preset::Resnet20, vec!["stem", "blocks.*"]),
        (Preset::VitTiny, vec!["blocks.5.attention.out_proj", "head"]),
    ] {
        let patterns: Vec<String> = patterns.into_iter().map(str::to_owned).collect();
        let (_, mut model) = model(preset, &device);
        let before = norms(&model);
        let mask = prune::prune_l2(&mut model, &patterns, 0.5, false).unwrap();
        let after = norms(&model);
        for ((name, old), (_, new)) in before.iter().zip(&after) {
            let Some(keep) = mask.layers.get(name) else {
                assert_eq!(old, new, "{preset} {name}: untargeted layer changed");
                continue;
            };
            let mut sorted = old.clone();
            sorted.sort_by(f32::total_cmp);
            let pruned = old.len() / 2;
            let threshold = sorted[pruned];
            assert_eq!(keep.iter().filter(|&&kept| !kept).count(), pruned, "{name}");
            for (channel, (&old_norm, &new_norm)) in old.iter().zip(new).enumerate() {
                if keep[channel] {
                    assert_eq!(old_norm, new_norm, "{name}[{channel}] kept but changed");
                    assert!(
                        old_norm >= threshold,
                        "{name}[{channel}] kept below threshold"
                    );
                } else {
                    assert_eq!(new_norm, 0.0, "{name}[{channel}] not zeroed");
                    assert!(
                        old_norm <= threshold,
                        "{name}[{channel}] pruned above threshold"
                    );
                }
            }
        }
        assert!((mask.pruned_fraction() - 0.5).abs() < 0.01, "{preset}");
    }
}

/// A few SGD steps on random data, re-applying the mask after each step when `keep`.
fn train_steps(mut model: Classifier, mask: &PruneMask, keep: bool, device: &Device) -> Classifier {
    let mut optimizer = SgdConfig::new().init();
    for _ in 0..3 {
        let loss = model.forward(images(device)).powi_scalar(2).mean();
        let gradients = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(0.1, model, gradients);
        if keep {
            prune::apply_mask(&mut model, mask, true, true).unwrap();
        }
    }
    model
}

#[test]
fn kept_masks_hold_pruned_weights_at_zero_and_dropped_masks_let_them_regrow() {
    let device = Device::flex().autodiff();
    let patterns = vec!["blocks.*.layers.*".to_owned()];
    let (_, mut model) = model(Preset::Resnet20, &device);
    let mask = prune::prune_l2(&mut model, &patterns, 0.5, false).unwrap();
    let pruned_norm = |model: &Classifier| -> f32 {
        norms(model)
            .iter()
            .filter_map(|(name, norms)| mask.layers.get(name).map(|keep| (norms, keep)))
            .flat_map(|(norms, keep)| {
                norms
                    .iter()
                    .zip(keep)
                    .filter(|(_, kept)| !**kept)
                    .map(|(norm, _)| *norm)
                    .collect::<Vec<_>>()
            })
            .sum()
    };
    assert_eq!(pruned_norm(&model), 0.0);
    let kept = train_steps(model.clone(), &mask, true, &device);
    assert_eq!(pruned_norm(&kept), 0.0);
    let dropped = train_steps(model, &mask, false, &device);
    assert!(pruned_norm(&dropped) > 0.0);
}

/// A ResNet-20 pruned with dead channels and adapted on its block convs, then randomised as if
/// trained: every base weight, γ/β and adapter moved, pruned channels included.
fn pruned_adapted_and_trained(device: &Device) -> (PruneMask, Classifier) {
    let patterns = vec!["blocks.*.layers.*".to_owned()];
    let (_, mut model) = model(Preset::Resnet20, device);
    let mask = prune::prune_l2(&mut model, &patterns, 0.5, true).unwrap();
    lora::attach(&mut model, &patterns, &LORA, device).unwrap();
    (mask, model.map(&mut randomize(device)))
}

#[test]
fn respect_mask_keeps_the_merged_delta_out_of_pruned_channels() {
    let device = Device::flex();
    let (mask, mut model) = pruned_adapted_and_trained(&device);
    // Randomize touched the base too: re-apply both masks, as training does after each step.
    prune::apply_mask(&mut model, &mask, true, true).unwrap();
    lora::merge(&mut model);
    for (name, norms) in norms(&model) {
        if let Some(keep) = mask.layers.get(&name) {
            for (norm, kept) in norms.iter().zip(keep) {
                if !kept {
                    assert_eq!(*norm, 0.0, "{name}");
                }
            }
        }
    }
}

#[test]
fn adapter_masking_re_zeroes_batch_norm_of_dead_channels() {
    // `--lora-respect-mask --lora-train-norm`: the base stays frozen (mask re-applied to the
    // adapters only), but BatchNorm γ/β train, so they must be re-zeroed on dead channels too.
    let device = Device::flex();
    let (mask, mut model) = pruned_adapted_and_trained(&device);
    prune::apply_mask(&mut model, &mask, false, true).unwrap();
    let mut checked = 0;
    model.for_each_layer_mut(&mut |name, layer| {
        if let (Some(keep), LayerMut::Conv(conv_bn)) = (mask.layers.get(name), layer) {
            let gamma: Vec<f32> = conv_bn.bn.gamma.val().into_data().iter::<f32>().collect();
            let beta: Vec<f32> = conv_bn.bn.beta.val().into_data().iter::<f32>().collect();
            for (channel, kept) in keep.iter().enumerate() {
                if !kept {
                    assert_eq!((gamma[channel], beta[channel]), (0.0, 0.0), "{name}");
                    checked += 1;
                } else {
                    assert_ne!(gamma[channel], 0.0, "{name}: a kept channel was zeroed");
                }
            }
        }
    });
    assert!(checked > 0);
}

/// The slim model gives the masked model's logits (≤ 1e-4), and its weights load through its
/// own configuration (same logits) but not into the full-width `config`.
fn assert_slim_matches(
    masked_logits: &Tensor<2>,
    slim_model: &Classifier,
    slim_config: &ModelConfig,
    config: &ModelConfig,
    input: Tensor<4>,
    device: &Device,
) {
    let difference = max_abs_difference(masked_logits.clone(), slim_model.forward(input.clone()));
    assert!(difference <= 1e-4, "{difference}");
    let bytes = weights::encode_model(slim_model).unwrap();
    let loaded = weights::decode_model(bytes.clone(), slim_config, device).unwrap();
    assert!(max_abs_difference(masked_logits.clone(), loaded.forward(input)) <= 1e-4);
    assert!(weights::decode_model(bytes, config, device).is_err());
}

#[test]
fn slim_export_removes_dead_inner_channels_with_the_same_logits() {
    let device = Device::flex();
    let patterns = vec!["blocks.*.layers.*".to_owned(), "stem".to_owned()];
    let (config, mut model) = model(Preset::Resnet20, &device);
    prune::prune_l2(&mut model, &patterns, 0.5, true).unwrap();
    let input = images(&device);
    let masked_logits = model.forward(input.clone());

    let (slim_config, slim_model, report) = slim::slim(&model, &config).unwrap();
    assert_eq!(report.params_before, model.learnable_params());
    assert_eq!(report.params_after, slim_model.learnable_params());
    assert!(
        (report.params_after as f64) < 0.6 * report.params_before as f64,
        "{report:?}"
    );
    assert_slim_matches(
        &masked_logits,
        &slim_model,
        &slim_config,
        &config,
        input,
        &device,
    );

    // Nothing dead: a typed error, not an empty export.
    let (config, plain) = self::model(Preset::Resnet20, &device);
    assert!(matches!(
        slim::slim(&plain, &config),
        Err(AdaptError::NotSlimmable(_))
    ));
}

#[test]
fn slim_export_removes_dead_mlp_units_of_a_vit_with_the_same_logits() {
    let device = Device::flex();
    let (config, mut model) = model(Preset::VitTiny, &device);
    // The spec's ViT targets plus every MLP's hidden layer, pruned with dead units.
    let patterns = vec![
        "blocks.5.attention.out_proj".to_owned(),
        "head".to_owned(),
        "blocks.*.mlp_in".to_owned(),
    ];
    prune::prune_l2(&mut model, &patterns, 0.5, true).unwrap();
    let input = images(&device);
    let masked_logits = model.forward(input.clone());

    let (slim_config, slim_model, report) = slim::slim(&model, &config).unwrap();
    // vit-tiny: 6 MLPs of 384 hidden units, half of each removed.
    assert_eq!(report.channels_removed, 6 * 192);
    let Architecture::Vit(vit) = &slim_config.architecture else {
        panic!("a ViT stays a ViT");
    };
    assert_eq!(vit.mlp_widths, Some(vec![192; 6]));
    // Each unit removed takes a weight column and a bias entry of mlp_in and a row of mlp_out.
    assert_eq!(
        report.params_before - report.params_after,
        6 * 192 * (192 + 1 + 192)
    );
    assert_eq!(report.params_after, slim_model.learnable_params());
    assert_slim_matches(
        &masked_logits,
        &slim_model,
        &slim_config,
        &config,
        input,
        &device,
    );

    // The spec's ViT pruning alone leaves no MLP unit dead: a typed error naming the fix.
    let (config, mut spec_pruned) = self::model(Preset::VitTiny, &device);
    prune::prune_l2(&mut spec_pruned, &patterns[..2], 0.5, true).unwrap();
    match slim::slim(&spec_pruned, &config) {
        Err(AdaptError::NotSlimmable(message)) => assert!(message.contains("mlp_in"), "{message}"),
        other => panic!("expected NotSlimmable, got {:?}", other.map(|(_, _, r)| r)),
    }
    // A model and a configuration of different families.
    let (resnet_config, _) = self::model(Preset::Resnet20, &device);
    assert!(matches!(
        slim::slim(&model, &resnet_config),
        Err(AdaptError::NotSlimmable(_))
    ));
}
