//! Floating-point operations of one forward pass, counted from the architecture.
//!
//! Convention (the one behind `../shared/spec/unlearning-protocol.md` §2's "resnet20 81.6
//! MFLOP/img"): 2 FLOPs per multiply-accumulate of every convolution, linear layer and attention
//! matrix product (Q·Kᵀ and A·V); BatchNorm, LayerNorm, activations, softmax, pooling and residual
//! additions are not counted. Benchmarks divide these by measured time to report achieved
//! GFLOP/s.

use super::resnet::{BlockKind, ResNetConfig};
use super::vit::VitConfig;
use super::{Architecture, ModelConfig};

/// FLOPs of one image's forward pass through `config` at its dataset's image size.
pub fn forward_flops(config: &ModelConfig) -> u64 {
    let image_size = config.dataset.image_size();
    2 * match &config.architecture {
        Architecture::ResNet(resnet) => resnet_macs(resnet, image_size),
        Architecture::Vit(vit) => vit_macs(vit),
    }
}

/// Output side of a `kernel × kernel` convolution with "same" padding (`kernel / 2`).
fn conv_out(side: usize, kernel: usize, stride: usize) -> usize {
    (side + 2 * (kernel / 2) - kernel) / stride + 1
}

/// MACs of a convolution producing `[out, side_out, side_out]` from `input` channels.
fn conv_macs(input: usize, output: usize, kernel: usize, side_out: usize) -> u64 {
    (input * output * kernel * kernel * side_out * side_out) as u64
}

fn resnet_macs(config: &ResNetConfig, image_size: usize) -> u64 {
    let mut macs = conv_macs(config.in_channels, config.stem_width, 3, image_size);
    let (mut side, mut in_channels, mut block_index) = (image_size, config.stem_width, 0);
    let expansion = config.block.expansion();
    for (stage, (&width, &depth)) in config
        .stage_widths
        .iter()
        .zip(&config.stage_depths)
        .enumerate()
    {
        for index in 0..depth {
            let stride = if stage > 0 && index == 0 { 2 } else { 1 };
            let out_channels = width * expansion;
            let inner = config
                .inner_widths
                .as_ref()
                .and_then(|widths| widths.get(block_index).cloned())
                .unwrap_or_else(|| vec![width; if expansion == 1 { 1 } else { 2 }]);
            let side_out = conv_out(side, 3, stride);
            macs += match config.block {
                BlockKind::Basic => {
                    conv_macs(in_channels, inner[0], 3, side_out)
                        + conv_macs(inner[0], out_channels, 3, side_out)
                }
                BlockKind::Bottleneck => {
                    conv_macs(in_channels, inner[0], 1, side)
                        + conv_macs(inner[0], inner[1], 3, side_out)
                        + conv_macs(inner[1], out_channels, 1, side_out)
                }
            };
            if stride != 1 || in_channels != out_channels {
                macs += conv_macs(in_channels, out_channels, 1, conv_out(side, 1, stride));
            }
            side = side_out;
            in_channels = out_channels;
            block_index += 1;
        }
    }
    macs + (in_channels * config.num_classes) as u64
}

fn vit_macs(config: &VitConfig) -> u64 {
    let tokens = (config.image_size / config.patch_size).pow(2);
    let dim = config.dim;
    let patch_embedding = tokens * dim * config.in_channels * config.patch_size.pow(2);
    let attention = tokens * dim * 3 * dim // Q, K, V projections
        + 2 * tokens * tokens * dim // Q·Kᵀ and A·V over all heads
        + tokens * dim * dim; // output projection
    let blocks: usize = (0..config.depth)
        .map(|block| attention + 2 * tokens * dim * config.mlp_width(block)) // MLP up and down
        .sum();
    (patch_embedding + blocks + dim * config.num_classes) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DatasetKind;
    use crate::model::Preset;

    #[test]
    fn resnet20_matches_the_spec_figure() {
        // Hand count: stem 442,368 MACs; stage 1: 6 × 2,359,296; stages 2 and 3: 13,107,200
        // each (strided conv, shortcut, five full convs); head 640 → 40,813,184 MACs.
        let flops = forward_flops(&Preset::Resnet20.config(DatasetKind::Cifar10));
        assert_eq!(flops, 2 * 40_813_184);
        assert_eq!((flops as f64 / 1e5).round() / 10.0, 81.6);
    }

    #[test]
    fn vit_tiny_by_hand() {
        // 64 tokens of width 192: patch embedding 589,824 MACs; per block QKV 7,077,888,
        // attention 2 × 786,432, output projection 2,359,296, MLP 9,437,184; head 1,920.
        let flops = forward_flops(&Preset::VitTiny.config(DatasetKind::Cifar10));
        assert_eq!(flops, 2 * (589_824 + 6 * 20_447_232 + 1_920));
    }

    #[test]
    fn slim_models_count_fewer_flops_and_fashion_mnist_is_smaller() {
        let full = Preset::Resnet20.config(DatasetKind::Cifar10);
        let mut slim = full.clone();
        if let Architecture::ResNet(resnet) = &mut slim.architecture {
            resnet.inner_widths = Some(
                resnet
                    .stage_widths
                    .iter()
                    .zip(&resnet.stage_depths)
                    .flat_map(|(&width, &depth)| std::iter::repeat_n(vec![width / 2], depth))
                    .collect(),
            );
        }
        assert!(forward_flops(&slim) < forward_flops(&full));
        let full_vit = Preset::VitTiny.config(DatasetKind::Cifar10);
        let mut slim_vit = full_vit.clone();
        if let Architecture::Vit(vit) = &mut slim_vit.architecture {
            vit.mlp_widths = Some(vec![vit.mlp_dim / 2; vit.depth]);
        }
        // Half of every MLP: 6 blocks × 2 × 64 tokens × 192 × 192 MACs fewer.
        assert_eq!(
            forward_flops(&full_vit) - forward_flops(&slim_vit),
            2 * 6 * 2 * 64 * 192 * 192
        );
        let fashion = Preset::Resnet20.config(DatasetKind::FashionMnist);
        assert!(forward_flops(&fashion) < forward_flops(&full));
    }
}
