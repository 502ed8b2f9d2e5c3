//! Structured L2 pruning of output channels (spec §3.3): for each output channel / row `i` of a
//! target layer take `‖W[i, …]‖₂`, and zero the `round(amount · out)` channels with the smallest
//! norm — what PyTorch's `prune.ln_structured(n=2, dim=0)` does in the PruneLoRA code.
//!
//! `round` is Python's (half to even), as in `torch.nn.utils.prune`; ties between equal norms
//! prune the lower channel index first (PyTorch leaves that order to `topk`).

use std::collections::BTreeMap;

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::AdaptError;
use super::lora::{check_patterns, update_param};
use crate::model::{Architecture, Classifier, LayerMut, ModelConfig, name_matches};

/// Layers pruned by Prune+FT and PruneLoRA (spec §3.3): ResNets every conv (stem, block convs,
/// shortcuts); ViTs the last block's attention output projection and the head.
pub fn preset_patterns(model: &ModelConfig) -> Vec<String> {
    match &model.architecture {
        Architecture::ResNet(_) => vec!["stem".into(), "blocks.*".into()],
        Architecture::Vit(vit) => vec![
            format!("blocks.{}.attention.out_proj", vit.depth.saturating_sub(1)),
            "head".into(),
        ],
    }
}

/// Number of channels `prune.ln_structured` removes: `round_half_even(amount · channels)`.
pub fn channels_to_prune(channels: usize, amount: f64) -> usize {
    let exact = amount.clamp(0.0, 1.0) * channels as f64;
    let floor = exact.floor();
    let rounded = if (exact - floor - 0.5).abs() < 1e-12 {
        // Exactly half way: to the even neighbour.
        if (floor as usize).is_multiple_of(2) {
            floor
        } else {
            floor + 1.0
        }
    } else {
        exact.round()
    };
    (rounded as usize).min(channels)
}

/// Keep-mask (1 keep, 0 pruned) that prunes the `channels_to_prune(norms.len(), amount)`
/// channels of smallest norm.
pub fn l2_keep_mask(norms: &[f32], amount: f64) -> Vec<f32> {
    let mut order: Vec<usize> = (0..norms.len()).collect();
    // Stable sort: equal norms keep index order, so the lower index is pruned first.
    order.sort_by(|&left, &right| norms[left].total_cmp(&norms[right]));
    let mut mask = vec![1.0; norms.len()];
    for &channel in order.iter().take(channels_to_prune(norms.len(), amount)) {
        mask[channel] = 0.0;
    }
    mask
}

/// L2 norm of each output channel of a conv kernel. Shapes: `[out, in, k, k]` → `out` values.
pub fn conv_output_norms(weight: Tensor<4>) -> Vec<f32> {
    let [out_channels, ..] = weight.dims();
    (weight.clone() * weight)
        .reshape([out_channels as i64, -1])
        .sum_dim(1)
        .sqrt()
        .into_data()
        .iter::<f32>()
        .collect()
}

/// L2 norm of each output row of a linear weight in Burn's `[d_input, d_output]` layout
/// (PyTorch's row `i` of `[d_output, d_input]` is Burn's column `i`).
/// Shapes: `[d_input, d_output]` → `d_output` values.
pub fn linear_output_norms(weight: Tensor<2>) -> Vec<f32> {
    (weight.clone() * weight)
        .sum_dim(0)
        .sqrt()
        .into_data()
        .iter::<f32>()
        .collect()
}

/// Multiply each output channel of a conv kernel by its mask value.
/// Shapes: `[out, in, k, k]`, mask `out` → `[out, in, k, k]`.
pub fn mask_conv_output(weight: Tensor<4>, mask: &[f32]) -> Tensor<4> {
    let device = weight.device();
    let channels = mask.len();
    let mask = Tensor::<1>::from_data(TensorData::new(mask.to_vec(), [channels]), &device);
    weight * mask.reshape([channels, 1, 1, 1])
}

/// Multiply each output column of a linear weight by its mask value.
/// Shapes: `[d_input, d_output]`, mask `d_output` → `[d_input, d_output]`.
pub fn mask_linear_output(weight: Tensor<2>, mask: &[f32]) -> Tensor<2> {
    let device = weight.device();
    let channels = mask.len();
    let mask = Tensor::<1>::from_data(TensorData::new(mask.to_vec(), [channels]), &device);
    weight * mask.reshape([1, channels])
}

/// Whether pruned weights stay zero while fine-tuning (spec §3.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaskMode {
    /// The mask is removed after pruning: pruned weights may regrow (the PruneLoRA code; the
    /// paper preset and the default).
    #[default]
    Drop,
    /// The mask is re-applied after every optimizer step: pruned weights stay zero (Jia et al.).
    Keep,
}

impl std::str::FromStr for MaskMode {
    type Err = String;

    /// `drop` or `keep`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "drop" => Ok(MaskMode::Drop),
            "keep" => Ok(MaskMode::Keep),
            other => Err(format!(
                "unknown mask mode `{other}` (expected drop or keep)"
            )),
        }
    }
}

/// Output channels kept (`true`) or pruned (`false`) in each pruned layer, by layer name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PruneMask {
    /// Keep flags per output channel, by layer name.
    pub layers: BTreeMap<String, Vec<bool>>,
    /// Whether pruning also zeroed the channels' BatchNorm γ/β (conv) or bias (linear), so a
    /// pruned channel outputs exactly zero — the "removed channel" semantics slim export needs.
    pub dead_channels: bool,
}

impl PruneMask {
    /// Share of the masked layers' output channels that are pruned, in [0, 1].
    pub fn pruned_fraction(&self) -> f64 {
        let (pruned, total) =
            self.layers
                .values()
                .fold((0usize, 0usize), |(pruned, total), keep| {
                    (
                        pruned + keep.iter().filter(|&&kept| !kept).count(),
                        total + keep.len(),
                    )
                });
        if total == 0 {
            0.0
        } else {
            pruned as f64 / total as f64
        }
    }
}

/// Structured L2 pruning: in every layer whose name matches one of `patterns`, zero the
/// `round(amount · out)` output channels of smallest L2 norm (see [`l2_keep_mask`]).
///
/// With `dead_channels`, the pruned channels' BatchNorm γ and β (conv) or bias (linear) are
/// zeroed too, so they output exactly zero; otherwise only the weights are zeroed, as
/// `torch.nn.utils.prune.ln_structured` does.
///
/// # Errors
/// [`AdaptError::BadAmount`] outside [0, 1); [`AdaptError::NoMatchingLayer`] for a pattern that
/// names no layer.
pub fn prune_l2(
    model: &mut Classifier,
    patterns: &[String],
    amount: f64,
    dead_channels: bool,
) -> Result<PruneMask, AdaptError> {
    if !(0.0..1.0).contains(&amount) {
        return Err(AdaptError::BadAmount(amount));
    }
    check_patterns(model, patterns)?;
    let mut mask = PruneMask {
        layers: BTreeMap::new(),
        dead_channels,
    };
    model.for_each_layer_mut(&mut |name, layer| {
        if !patterns.iter().any(|pattern| name_matches(pattern, name)) {
            return;
        }
        let norms = match &layer {
            LayerMut::Conv(conv_bn) => conv_output_norms(conv_bn.conv.weight.val()),
            LayerMut::Dense(dense) => linear_output_norms(dense.weight.val()),
        };
        let keep = l2_keep_mask(&norms, amount);
        mask.layers.insert(
            name.to_owned(),
            keep.iter().map(|&value| value > 0.5).collect(),
        );
    });
    apply_mask(model, &mask, true, false)?;
    Ok(mask)
}

/// Re-apply `mask`: with `base`, zero the pruned channels of the base weights (plus BatchNorm
/// γ/β or bias when the mask has `dead_channels`); with `adapters`, zero the pruned output
/// channels of attached LoRA adapters' up projections, so the merged delta leaves them zero
/// too (`--lora-respect-mask`); a mask with `dead_channels` then also re-zeroes BatchNorm γ/β of
/// pruned channels, which may train (`--lora-train-norm`).
///
/// # Errors
/// [`AdaptError::MaskMismatch`] when a masked layer is missing or has another width.
pub fn apply_mask(
    model: &mut Classifier,
    mask: &PruneMask,
    base: bool,
    adapters: bool,
) -> Result<(), AdaptError> {
    let mut problems = Vec::new();
    let mut found = 0usize;
    model.for_each_layer_mut(&mut |name, layer| {
        let Some(keep) = mask.layers.get(name) else {
            return;
        };
        found += 1;
        let values: Vec<f32> = keep.iter().map(|&kept| f32::from(u8::from(kept))).collect();
        match layer {
            LayerMut::Conv(conv_bn) => {
                if conv_bn.out_channels() != values.len() {
                    problems.push(format!(
                        "{name} has {} channels, the mask {}",
                        conv_bn.out_channels(),
                        values.len()
                    ));
                    return;
                }
                if base {
                    update_param(&mut conv_bn.conv.weight, |w| mask_conv_output(w, &values));
                }
                // Dead channels stay dead even when BatchNorm's affine parameters train.
                if mask.dead_channels && (base || adapters) {
                    update_param(&mut conv_bn.bn.gamma, |g| mask_vector(g, &values));
                    update_param(&mut conv_bn.bn.beta, |b| mask_vector(b, &values));
                }
                if adapters && let Some(adapter) = &mut conv_bn.lora {
                    update_param(&mut adapter.b.weight, |w| mask_conv_output(w, &values));
                }
            }
            LayerMut::Dense(dense) => {
                if dense.dims()[1] != values.len() {
                    problems.push(format!(
                        "{name} has {} outputs, the mask {}",
                        dense.dims()[1],
                        values.len()
                    ));
                    return;
                }
                if base {
                    update_param(&mut dense.weight, |w| mask_linear_output(w, &values));
                    if mask.dead_channels
                        && let Some(bias) = &mut dense.bias
                    {
                        update_param(bias, |b| mask_vector(b, &values));
                    }
                }
                if adapters && let Some(adapter) = &mut dense.lora {
                    update_param(&mut adapter.b, |w| mask_linear_output(w, &values));
                }
            }
        }
    });
    if found != mask.layers.len() {
        problems.push(format!(
            "{} masked layer(s) are not in the model",
            mask.layers.len() - found
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AdaptError::MaskMismatch(problems.join("; ")))
    }
}

/// Multiply each entry of a per-channel vector by its mask value. Shapes: `[c]`, mask `c` → `[c]`.
fn mask_vector(vector: Tensor<1>, mask: &[f32]) -> Tensor<1> {
    let device = vector.device();
    vector * Tensor::<1>::from_data(TensorData::new(mask.to_vec(), [mask.len()]), &device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn rounding_matches_pytorch() {
        assert_eq!(channels_to_prune(16, 0.5), 8);
        assert_eq!(channels_to_prune(10, 0.5), 5);
        assert_eq!(channels_to_prune(5, 0.5), 2); // round(2.5) = 2 in Python
        assert_eq!(channels_to_prune(3, 0.5), 2); // round(1.5) = 2
        assert_eq!(channels_to_prune(7, 0.3), 2); // round(2.1)
        assert_eq!(channels_to_prune(4, 1.0), 4);
        assert_eq!(channels_to_prune(4, 0.0), 0);
    }

    #[test]
    fn the_lowest_norm_half_is_pruned() {
        assert_eq!(
            l2_keep_mask(&[3.0, 1.0, 4.0, 0.5], 0.5),
            vec![1.0, 0.0, 1.0, 0.0]
        );
        // Ties prune the lower index first.
        assert_eq!(
            l2_keep_mask(&[2.0, 2.0, 2.0, 9.0], 0.5),
            vec![0.0, 0.0, 1.0, 1.0]
        );
    }

    #[test]
    fn conv_channels_are_measured_and_zeroed_whole() {
        let device = Device::flex();
        // Channel c is filled with the value c + 1 → norm (c + 1)·√(2·2·2) and channel 0 and 1
        // are the lowest.
        let values: Vec<f32> = (0..4).flat_map(|c| vec![(c + 1) as f32; 8]).collect();
        let weight = Tensor::<4>::from_data(TensorData::new(values, [4, 2, 2, 2]), &device);
        let norms = conv_output_norms(weight.clone());
        for (channel, norm) in norms.iter().enumerate() {
            assert!((norm - (channel + 1) as f32 * 8f32.sqrt()).abs() < 1e-5);
        }
        let mask = l2_keep_mask(&norms, 0.5);
        assert_eq!(mask, vec![0.0, 0.0, 1.0, 1.0]);
        let pruned: Vec<f32> = mask_conv_output(weight, &mask)
            .into_data()
            .iter::<f32>()
            .collect();
        assert!(pruned[..16].iter().all(|&v| v == 0.0));
        assert!(pruned[16..].iter().all(|&v| v != 0.0));
    }

    #[test]
    fn linear_rows_are_burn_columns() {
        let device = Device::flex();
        // [d_input = 2, d_output = 3]: output row i is column i.
        let weight = Tensor::<2>::from_data(
            TensorData::new(vec![3.0f32, 0.0, 1.0, 4.0, 1.0, 0.0], [2, 3]),
            &device,
        );
        let norms = linear_output_norms(weight.clone());
        assert_eq!(norms, vec![5.0, 1.0, 1.0]);
        let mask = l2_keep_mask(&norms, 0.5); // round(1.5) = 2 pruned: outputs 1 and 2
        assert_eq!(mask, vec![1.0, 0.0, 0.0]);
        let pruned: Vec<f32> = mask_linear_output(weight, &mask)
            .into_data()
            .iter::<f32>()
            .collect();
        assert_eq!(pruned, vec![3.0, 0.0, 0.0, 4.0, 0.0, 0.0]);
    }
}
