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
use burn::nn::LinearConfig;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

pub use super::layers::ConvBn;
use super::layers::{Dense, LayerMut, Taps};

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
    /// Inner widths of every block (one per inner layer: 1 for basic blocks, 2 for
    /// bottlenecks), when they differ from the stage width — only in *slim* models, whose
    /// pruned inner channels were physically removed. `None` for the presets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner_widths: Option<Vec<Vec<usize>>>,
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
            inner_widths: None,
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
            inner_widths: None,
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
            inner_widths: None,
        }
    }

    /// Number of residual blocks.
    pub fn num_blocks(&self) -> usize {
        self.stage_depths.iter().sum()
    }

    /// Build the model with freshly initialised weights on `device`.
    ///
    /// # Panics
    /// If `inner_widths` is set but does not hold one entry per block with one width per inner
    /// layer (a malformed slim configuration).
    pub fn init(&self, device: &Device) -> ResNet {
        let stem = ConvBn::new(self.in_channels, self.stem_width, 3, 1, device);
        let inner_layers = match self.block {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => 2,
        };
        if let Some(inner) = &self.inner_widths {
            assert!(
                inner.len() == self.num_blocks()
                    && inner.iter().all(|widths| widths.len() == inner_layers),
                "inner_widths must hold {inner_layers} width(s) for each of the {} blocks",
                self.num_blocks()
            );
        }
        let mut in_channels = self.stem_width;
        let mut blocks = Vec::new();
        for (stage, (&width, &depth)) in
            self.stage_widths.iter().zip(&self.stage_depths).enumerate()
        {
            for index in 0..depth {
                // The first block of every stage but the first halves the resolution.
                let stride = if stage > 0 && index == 0 { 2 } else { 1 };
                let inner = match &self.inner_widths {
                    Some(widths) => widths[blocks.len()].clone(),
                    None => vec![width; inner_layers],
                };
                let block =
                    ResidualBlock::new(self.block, in_channels, width, &inner, stride, device);
                in_channels = width * self.block.expansion();
                blocks.push(block);
            }
        }
        let head = Dense::new(LinearConfig::new(in_channels, self.num_classes), device);
        ResNet { stem, blocks, head }
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
    /// `inner` holds the inner layers' widths (`[width]` or `[width, width]` unless slimmed).
    fn new(
        kind: BlockKind,
        in_channels: usize,
        width: usize,
        inner: &[usize],
        stride: usize,
        device: &Device,
    ) -> Self {
        let out_channels = width * kind.expansion();
        let layers = match kind {
            BlockKind::Basic => vec![
                ConvBn::new(in_channels, inner[0], 3, stride, device),
                ConvBn::new(inner[0], width, 3, 1, device),
            ],
            BlockKind::Bottleneck => vec![
                ConvBn::new(in_channels, inner[0], 1, 1, device),
                ConvBn::new(inner[0], inner[1], 3, stride, device),
                ConvBn::new(inner[1], out_channels, 1, 1, device),
            ],
        };
        let shortcut = (stride != 1 || in_channels != out_channels)
            .then(|| ConvBn::new(in_channels, out_channels, 1, stride, device));
        Self { layers, shortcut }
    }

    /// Shapes: `[batch, in, h, w]` → `[batch, width·expansion, h / stride, w / stride]`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.forward_tapped(input, &mut Taps::off())
    }

    /// [`ResidualBlock::forward`], reporting adapter residuals to `taps`.
    pub fn forward_tapped(&self, input: Tensor<4>, taps: &mut Taps) -> Tensor<4> {
        let identity = match &self.shortcut {
            Some(projection) => projection.forward_tapped(input.clone(), taps),
            None => input.clone(),
        };
        let last = self.layers.len() - 1;
        let mut x = input;
        for (index, layer) in self.layers.iter().enumerate() {
            x = layer.forward_tapped(x, taps);
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
    pub head: Dense,
}

impl ResNet {
    /// Penultimate features. Shapes: `[batch, channels, h, w]` (normalised) → `[batch, features]`.
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        self.features_tapped(images, &mut Taps::off())
    }

    /// [`ResNet::features`], reporting adapter residuals to `taps`.
    pub fn features_tapped(&self, images: Tensor<4>, taps: &mut Taps) -> Tensor<2> {
        let mut x = relu(self.stem.forward_tapped(images, taps));
        for block in &self.blocks {
            x = block.forward_tapped(x, taps);
        }
        let [batch, channels, _, _] = x.dims();
        // Global average pooling over the spatial dims.
        x.flatten::<3>(2, 3).mean_dim(2).reshape([batch, channels])
    }

    /// Logits. Shapes: `[batch, channels, h, w]` (normalised) → `[batch, num_classes]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.head.forward(self.features(images))
    }

    /// Features and logits in one pass, reporting adapter residuals to `taps`.
    /// Shapes: `[batch, channels, h, w]` → (`[batch, features]`, `[batch, num_classes]`).
    pub fn forward_tapped(&self, images: Tensor<4>, taps: &mut Taps) -> (Tensor<2>, Tensor<2>) {
        let features = self.features_tapped(images, taps);
        let logits = self.head.forward_tapped(features.clone(), taps);
        (features, logits)
    }

    /// Every adaptable / prunable layer with its name: `stem`, `blocks.{i}.layers.{j}`,
    /// `blocks.{i}.shortcut`, `head`.
    pub fn for_each_layer_mut(&mut self, visit: &mut dyn FnMut(&str, LayerMut<'_>)) {
        visit("stem", LayerMut::Conv(&mut self.stem));
        for (block_index, block) in self.blocks.iter_mut().enumerate() {
            for (layer_index, layer) in block.layers.iter_mut().enumerate() {
                visit(
                    &format!("blocks.{block_index}.layers.{layer_index}"),
                    LayerMut::Conv(layer),
                );
            }
            if let Some(shortcut) = &mut block.shortcut {
                visit(
                    &format!("blocks.{block_index}.shortcut"),
                    LayerMut::Conv(shortcut),
                );
            }
        }
        visit("head", LayerMut::Dense(&mut self.head));
    }
}
