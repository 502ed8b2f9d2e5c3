//! CIFAR-style ResNets: 3×3 stem with stride 1 and no max-pool, then stages of
//! [`BasicBlock`]s or [`Bottleneck`]s, global average pooling and one linear classifier.
//!
//! Sources: He et al., "Deep Residual Learning for Image Recognition" (arXiv 1512.03385), §4.2
//! for the CIFAR ResNet-20 layout, and the widely used `kuangliu/pytorch-cifar` definitions for
//! ResNet-18/50 on CIFAR (the models of Jia et al. / SalUn and of PruneLoRA respectively).
//! Shortcuts are 1×1 conv + BatchNorm whenever the shape changes (option B), which gives the
//! parameter counts of `../shared/spec/unlearning-protocol.md` §2: resnet20 272,474 and
//! resnet50 23,520,842.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Which residual block a ResNet stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockKind {
    /// Two 3×3 convolutions (ResNet-20, ResNet-18). Expansion 1.
    Basic,
    /// 1×1 → 3×3 → 1×1 convolutions with expansion 4 (ResNet-50).
    Bottleneck,
}

impl BlockKind {
    /// Ratio between a block's output channels and its inner width.
    pub fn expansion(self) -> usize {
        match self {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => 4,
        }
    }
}

/// Architecture of a CIFAR ResNet. Build one with a preset ([`ResNetConfig::resnet20`], …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResNetConfig {
    /// Residual block type.
    pub block: BlockKind,
    /// Image channels (3 for CIFAR-10, 1 for Fashion-MNIST).
    pub in_channels: usize,
    /// Number of output classes.
    pub num_classes: usize,
    /// Output channels of the 3×3 stem.
    pub stem_width: usize,
    /// Inner width of the blocks of each stage.
    pub stage_widths: Vec<usize>,
    /// Number of blocks in each stage.
    pub stage_depths: Vec<usize>,
}

impl ResNetConfig {
    /// ResNet-20 of He et al. §4.2: 3 stages × 3 basic blocks, widths 16/32/64 (272,474 params
    /// with 1×1-conv shortcuts and 10 classes).
    pub fn resnet20(in_channels: usize, num_classes: usize) -> Self {
        Self {
            block: BlockKind::Basic,
            in_channels,
            num_classes,
            stem_width: 16,
            stage_widths: vec![16, 32, 64],
            stage_depths: vec![3, 3, 3],
        }
    }

    /// ResNet-18 for CIFAR: 4 stages × 2 basic blocks, widths 64/128/256/512.
    pub fn resnet18(in_channels: usize, num_classes: usize) -> Self {
        Self {
            block: BlockKind::Basic,
            in_channels,
            num_classes,
            stem_width: 64,
            stage_widths: vec![64, 128, 256, 512],
            stage_depths: vec![2, 2, 2, 2],
        }
    }

    /// ResNet-50 for CIFAR: bottleneck blocks [3, 4, 6, 3], widths 64/128/256/512, expansion 4.
    pub fn resnet50(in_channels: usize, num_classes: usize) -> Self {
        Self {
            block: BlockKind::Bottleneck,
            in_channels,
            num_classes,
            stem_width: 64,
            stage_widths: vec![64, 128, 256, 512],
            stage_depths: vec![3, 4, 6, 3],
        }
    }

    /// Build the model with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> ResNet {
        let stem = conv_bn(self.in_channels, self.stem_width, 3, 1, device);
        let mut in_channels = self.stem_width;
        let mut blocks = Vec::new();
        for (stage, (&width, &depth)) in
            self.stage_widths.iter().zip(&self.stage_depths).enumerate()
        {
            for index in 0..depth {
                // The first block of every stage but the first halves the resolution.
                let stride = if stage > 0 && index == 0 { 2 } else { 1 };
                let block = ResidualBlock::new(self.block, in_channels, width, stride, device);
                in_channels = width * self.block.expansion();
                blocks.push(block);
            }
        }
        let head = LinearConfig::new(in_channels, self.num_classes).init(device);
        ResNet { stem, blocks, head }
    }
}

/// A convolution without bias followed by BatchNorm (the unit every ResNet layer is made of).
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution, `[out, in, k, k]`, no bias.
    pub conv: Conv2d,
    /// BatchNorm over the convolution's output channels.
    pub bn: BatchNorm,
}

impl ConvBn {
    /// Shapes: `[batch, in, h, w]` → `[batch, out, h / stride, w / stride]`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.bn.forward(self.conv.forward(input))
    }
}

fn conv_bn(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    device: &Device,
) -> ConvBn {
    let padding = kernel / 2;
    ConvBn {
        conv: Conv2dConfig::new([in_channels, out_channels], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .with_bias(false)
            .init(device),
        bn: BatchNormConfig::new(out_channels).init(device),
    }
}

/// One residual block: the main path's conv+BN layers (ReLU between them) plus a shortcut.
///
/// Basic blocks have two 3×3 layers; bottlenecks three (1×1, 3×3, 1×1). The stride sits on the
/// first 3×3 layer, as in torchvision's "ResNet v1.5".
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// Main-path layers, applied in order with ReLU between them.
    pub layers: Vec<ConvBn>,
    /// 1×1 conv + BN projection when the block changes shape; identity otherwise.
    pub shortcut: Option<ConvBn>,
}

impl ResidualBlock {
    fn new(
        kind: BlockKind,
        in_channels: usize,
        width: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let out_channels = width * kind.expansion();
        let layers = match kind {
            BlockKind::Basic => vec![
                conv_bn(in_channels, width, 3, stride, device),
                conv_bn(width, width, 3, 1, device),
            ],
            BlockKind::Bottleneck => vec![
                conv_bn(in_channels, width, 1, 1, device),
                conv_bn(width, width, 3, stride, device),
                conv_bn(width, out_channels, 1, 1, device),
            ],
        };
        let shortcut = (stride != 1 || in_channels != out_channels)
            .then(|| conv_bn(in_channels, out_channels, 1, stride, device));
        Self { layers, shortcut }
    }

    /// Shapes: `[batch, in, h, w]` → `[batch, width·expansion, h / stride, w / stride]`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let identity = match &self.shortcut {
            Some(projection) => projection.forward(input.clone()),
            None => input.clone(),
        };
        let last = self.layers.len() - 1;
        let mut x = input;
        for (index, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if index < last {
                x = relu(x);
            }
        }
        relu(x + identity)
    }
}

/// A CIFAR ResNet classifier.
#[derive(Module, Debug)]
pub struct ResNet {
    /// 3×3 stride-1 stem conv + BN (followed by ReLU).
    pub stem: ConvBn,
    /// All residual blocks, stage after stage.
    pub blocks: Vec<ResidualBlock>,
    /// Linear classifier over the globally pooled features.
    pub head: Linear,
}

impl ResNet {
    /// Penultimate features. Shapes: `[batch, channels, h, w]` (normalised) → `[batch, features]`.
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = relu(self.stem.forward(images));
        for block in &self.blocks {
            x = block.forward(x);
        }
        let [batch, channels, _, _] = x.dims();
        // Global average pooling over the spatial dims.
        x.flatten::<3>(2, 3).mean_dim(2).reshape([batch, channels])
    }

    /// Logits. Shapes: `[batch, channels, h, w]` (normalised) → `[batch, num_classes]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.head.forward(self.features(images))
    }
}
