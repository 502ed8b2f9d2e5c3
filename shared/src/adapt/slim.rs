//! Slim export: physically remove the dead inner channels of every residual block.
//!
//! A channel of a block's inner layer is *dead* when its BatchNorm γ and β are both zero: the
//! BatchNorm then outputs exactly 0 for it whatever the convolution computed, ReLU keeps it 0,
//! and the next convolution reads nothing from it. Pruning with dead channels
//! ([`super::prune::prune_l2`] with `dead_channels`) and keeping the mask (`mask = keep`, or
//! PruneLoRA with `--lora-respect-mask`, where BatchNorm's affine parameters are frozen) leaves
//! such channels. Removing them — the conv's output rows, the BatchNorm entries and the next
//! conv's input columns — gives a narrower model with the same logits.
//!
//! Only the *inner* channels of blocks are removed: block outputs are summed with the shortcut,
//! so a channel there is dead only if every contributor to it is. That is where most of a
//! ResNet's weights are (for ResNet-20 at 50 %, about half of all parameters).

use burn::module::{Param, RunningState};
use burn::tensor::{Int, Tensor, TensorData};

use super::AdaptError;
use crate::model::{Architecture, Classifier, ConvBn, ModelConfig, ResNetConfig};

/// What slim export removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlimReport {
    /// Learnable parameters before.
    pub params_before: usize,
    /// Learnable parameters after.
    pub params_after: usize,
    /// Inner channels removed, over all blocks.
    pub channels_removed: usize,
}

/// Remove the dead inner channels of a ResNet's blocks; returns the slim model's configuration
/// (with [`ResNetConfig::inner_widths`] set), the slim model and what was removed.
///
/// # Errors
/// [`AdaptError::NotSlimmable`] for a ViT, for a model with adapters still attached (merge
/// first), or when no inner channel is dead.
pub fn slim(
    model: &Classifier,
    config: &ModelConfig,
) -> Result<(ModelConfig, Classifier, SlimReport), AdaptError> {
    let (Classifier::ResNet(resnet), Architecture::ResNet(resnet_config)) =
        (model, &config.architecture)
    else {
        return Err(AdaptError::NotSlimmable(
            "only ResNets can be slimmed (a ViT's pruned rows feed the residual stream)".into(),
        ));
    };
    let params_before = model.learnable_params();
    let mut slim_model = resnet.clone();
    let mut inner_widths = Vec::with_capacity(slim_model.blocks.len());
    let mut channels_removed = 0;
    for (block_index, block) in slim_model.blocks.iter_mut().enumerate() {
        if block.layers.iter().any(|layer| layer.lora.is_some())
            || block.shortcut.as_ref().is_some_and(|s| s.lora.is_some())
        {
            return Err(AdaptError::NotSlimmable(format!(
                "block {block_index} still has LoRA adapters: merge them first"
            )));
        }
        let mut widths = Vec::new();
        for inner in 0..block.layers.len() - 1 {
            let keep = live_channels(&block.layers[inner]);
            channels_removed += block.layers[inner].out_channels() - keep.len();
            widths.push(keep.len());
            let (producer, consumer) = block.layers.split_at_mut(inner + 1);
            remove_channels(&mut producer[inner], &mut consumer[0], &keep);
        }
        inner_widths.push(widths);
    }
    if channels_removed == 0 {
        return Err(AdaptError::NotSlimmable(
            "no inner channel is dead (prune with dead channels and keep the mask: \
             `--mask keep`, or PruneLoRA with `--lora-respect-mask`)"
                .into(),
        ));
    }
    let slim_config = ModelConfig {
        architecture: Architecture::ResNet(ResNetConfig {
            inner_widths: Some(inner_widths),
            ..resnet_config.clone()
        }),
        ..config.clone()
    };
    let slim_model = Classifier::ResNet(slim_model);
    let report = SlimReport {
        params_before,
        params_after: slim_model.learnable_params(),
        channels_removed,
    };
    Ok((slim_config, slim_model, report))
}

/// Indices of the channels of `layer` whose BatchNorm γ or β is non-zero (at least one is kept,
/// so no layer becomes zero-width).
fn live_channels(layer: &ConvBn) -> Vec<i64> {
    let gamma: Vec<f32> = layer.bn.gamma.val().into_data().iter::<f32>().collect();
    let beta: Vec<f32> = layer.bn.beta.val().into_data().iter::<f32>().collect();
    let live: Vec<i64> = gamma
        .iter()
        .zip(&beta)
        .enumerate()
        .filter(|(_, (g, b))| **g != 0.0 || **b != 0.0)
        .map(|(index, _)| index as i64)
        .collect();
    if live.is_empty() { vec![0] } else { live }
}

/// Keep only channels `keep` of `producer`'s output and of `consumer`'s input.
fn remove_channels(producer: &mut ConvBn, consumer: &mut ConvBn, keep: &[i64]) {
    let device = producer.conv.weight.device();
    let indices =
        Tensor::<1, Int>::from_data(TensorData::new(keep.to_vec(), [keep.len()]), &device);
    let select = |tensor: Tensor<1>| tensor.select(0, indices.clone());
    producer.conv.weight =
        Param::from_tensor(producer.conv.weight.val().select(0, indices.clone()));
    producer.bn.gamma = Param::from_tensor(select(producer.bn.gamma.val()));
    producer.bn.beta = Param::from_tensor(select(producer.bn.beta.val()));
    producer.bn.running_mean = RunningState::new(select(producer.bn.running_mean.value()));
    producer.bn.running_var = RunningState::new(select(producer.bn.running_var.value()));
    consumer.conv.weight =
        Param::from_tensor(consumer.conv.weight.val().select(1, indices.clone()));
}
