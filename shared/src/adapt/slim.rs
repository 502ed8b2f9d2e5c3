//! Slim export: physically remove dead channels — the inner channels of every residual block
//! of a ResNet, the hidden units of every MLP of a ViT.
//!
//! ResNet: a channel of a block's inner layer is *dead* when its BatchNorm γ and β are both
//! zero: the BatchNorm then outputs exactly 0 for it whatever the convolution computed, ReLU
//! keeps it 0, and the next convolution reads nothing from it. Removing them — the conv's output
//! rows, the BatchNorm entries and the next conv's input columns — gives a narrower model with
//! the same logits. Only the *inner* channels of blocks are removed: block outputs are summed
//! with the shortcut, so a channel there is dead only if every contributor to it is. That is
//! where most of a ResNet's weights are (for ResNet-20 at 50 %, about half of all parameters).
//!
//! ViT: a hidden unit of a block's MLP is dead when its column of `mlp_in`'s weight and its
//! bias are zero: its pre-activation is exactly 0, GELU(0) = 0, and `mlp_out` reads nothing
//! from it. Removing it takes `mlp_in`'s column and bias entry and `mlp_out`'s row. (The
//! attention output projection and the head write into the residual stream or the logits,
//! which every other layer reads, so their pruned rows stay.)
//!
//! Pruning with dead channels ([`super::prune::prune_l2`] with `dead_channels`) and keeping the
//! mask (`mask = keep`, or PruneLoRA with `--lora-respect-mask`, where BatchNorm's affine
//! parameters and the biases are frozen) leaves such channels.

use burn::module::{Param, RunningState};
use burn::tensor::{Int, Tensor, TensorData};

use super::AdaptError;
use crate::model::{
    Architecture, Classifier, ConvBn, Dense, ModelConfig, ResNet, ResNetConfig, SimpleVit,
    VitConfig,
};

/// What slim export removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlimReport {
    /// Learnable parameters before.
    pub params_before: usize,
    /// Learnable parameters after.
    pub params_after: usize,
    /// Inner channels (ResNet) or MLP hidden units (ViT) removed, over all blocks.
    pub channels_removed: usize,
}

/// Remove the dead inner channels of a ResNet's blocks or the dead MLP hidden units of a
/// ViT's; returns the slim model's configuration (with [`ResNetConfig::inner_widths`] or
/// [`VitConfig::mlp_widths`] set), the slim model and what was removed.
///
/// # Errors
/// [`AdaptError::NotSlimmable`] for a model with adapters still attached on a layer slimming
/// touches (merge first), when nothing is dead, or when `config` describes another family
/// than `model`.
pub fn slim(
    model: &Classifier,
    config: &ModelConfig,
) -> Result<(ModelConfig, Classifier, SlimReport), AdaptError> {
    let params_before = model.learnable_params();
    let (architecture, slim_model, channels_removed) = match (model, &config.architecture) {
        (Classifier::ResNet(resnet), Architecture::ResNet(resnet_config)) => {
            let (slim, inner_widths, removed) = slim_resnet(resnet)?;
            let architecture = Architecture::ResNet(ResNetConfig {
                inner_widths: Some(inner_widths),
                ..resnet_config.clone()
            });
            (architecture, Classifier::ResNet(slim), removed)
        }
        (Classifier::Vit(vit), Architecture::Vit(vit_config)) => {
            let (slim, mlp_widths, removed) = slim_vit(vit)?;
            let architecture = Architecture::Vit(VitConfig {
                mlp_widths: Some(mlp_widths),
                ..vit_config.clone()
            });
            (architecture, Classifier::Vit(slim), removed)
        }
        _ => {
            return Err(AdaptError::NotSlimmable(format!(
                "the model is not the {} its configuration describes",
                config.describe()
            )));
        }
    };
    let slim_config = ModelConfig {
        architecture,
        ..config.clone()
    };
    let report = SlimReport {
        params_before,
        params_after: slim_model.learnable_params(),
        channels_removed,
    };
    Ok((slim_config, slim_model, report))
}

/// The ResNet with its dead inner channels removed, the inner widths and how many went.
fn slim_resnet(resnet: &ResNet) -> Result<(ResNet, Vec<Vec<usize>>, usize), AdaptError> {
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
        return Err(nothing_dead());
    }
    Ok((slim_model, inner_widths, channels_removed))
}

/// The ViT with its dead MLP hidden units removed, the MLP widths and how many went.
fn slim_vit(vit: &SimpleVit) -> Result<(SimpleVit, Vec<usize>, usize), AdaptError> {
    let mut slim_model = vit.clone();
    let mut mlp_widths = Vec::with_capacity(slim_model.blocks.len());
    let mut removed = 0;
    for (block_index, block) in slim_model.blocks.iter_mut().enumerate() {
        if block.mlp_in.lora.is_some() || block.mlp_out.lora.is_some() {
            return Err(AdaptError::NotSlimmable(format!(
                "block {block_index}'s MLP still has LoRA adapters: merge them first"
            )));
        }
        let keep = live_hidden_units(&block.mlp_in);
        removed += block.mlp_in.weight.dims()[1] - keep.len();
        mlp_widths.push(keep.len());
        remove_hidden_units(&mut block.mlp_in, &mut block.mlp_out, &keep);
    }
    if removed == 0 {
        return Err(nothing_dead());
    }
    Ok((slim_model, mlp_widths, removed))
}

fn nothing_dead() -> AdaptError {
    AdaptError::NotSlimmable(
        "no channel is dead (prune with dead channels and keep the mask: `--mask keep`, or \
         PruneLoRA with `--lora-respect-mask`; for a ViT, prune its MLPs: \
         `--prune-targets 'blocks.*.mlp_in'`)"
            .into(),
    )
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

/// Indices of the hidden units of `mlp_in` (weight `[dim, hidden]`) whose weight column or bias
/// is non-zero (at least one is kept, so no MLP becomes zero-width).
fn live_hidden_units(mlp_in: &Dense) -> Vec<i64> {
    let [inputs, hidden] = mlp_in.weight.dims();
    let weight: Vec<f32> = mlp_in.weight.val().into_data().iter::<f32>().collect();
    let bias: Option<Vec<f32>> = mlp_in
        .bias
        .as_ref()
        .map(|bias| bias.val().into_data().iter::<f32>().collect());
    let live: Vec<i64> = (0..hidden)
        .filter(|&unit| {
            bias.as_ref().is_some_and(|bias| bias[unit] != 0.0)
                || (0..inputs).any(|input| weight[input * hidden + unit] != 0.0)
        })
        .map(|unit| unit as i64)
        .collect();
    if live.is_empty() { vec![0] } else { live }
}

/// Keep only hidden units `keep`: `mlp_in`'s output columns and bias, `mlp_out`'s input rows.
fn remove_hidden_units(mlp_in: &mut Dense, mlp_out: &mut Dense, keep: &[i64]) {
    let device = mlp_in.weight.device();
    let indices =
        Tensor::<1, Int>::from_data(TensorData::new(keep.to_vec(), [keep.len()]), &device);
    mlp_in.weight = Param::from_tensor(mlp_in.weight.val().select(1, indices.clone()));
    if let Some(bias) = &mlp_in.bias {
        mlp_in.bias = Some(Param::from_tensor(bias.val().select(0, indices.clone())));
    }
    mlp_out.weight = Param::from_tensor(mlp_out.weight.val().select(0, indices));
}
