//! SimpleViT, from Beyer, Zhai and Kolesnikov, "Better plain ViT baselines for ImageNet-1k"
//! (arXiv 2205.01580): a conv patch embedding, a fixed 2-D sin-cos position embedding,
//! pre-LayerNorm transformer blocks (LayerNorm ε = 1e-6), mean pooling over the tokens (no CLS
//! token) and a zero-initialised linear head. Presets follow `../shared/spec` §2.
//!
//! The attention is written out here (fused `qkv` projection, then `out_proj`) rather than taken
//! from `burn::nn`, so that the output projection is a plain [`Dense`] layer that LoRA and pruning can
//! act on. (In the PruneLoRA reference code the adapter on PyTorch's `MultiheadAttention.out_proj`
//! was never called; here `out_proj` is always on the forward path.)

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, LinearConfig};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::layers::{Dense, LayerMut, Taps};

/// LayerNorm epsilon used throughout (big_vision's value).
pub const LAYER_NORM_EPSILON: f64 = 1e-6;

/// Architecture of a SimpleViT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VitConfig {
    /// Input side length in pixels (32 for CIFAR-10, 28 for Fashion-MNIST).
    pub image_size: usize,
    /// Image channels.
    pub in_channels: usize,
    /// Side length of a square patch; must divide `image_size`.
    pub patch_size: usize,
    /// Token width.
    pub dim: usize,
    /// Number of transformer blocks.
    pub depth: usize,
    /// Attention heads; must divide `dim`.
    pub heads: usize,
    /// Hidden width of each block's MLP.
    pub mlp_dim: usize,
    /// Number of output classes.
    pub num_classes: usize,
    /// Hidden width of every block's MLP when it differs from `mlp_dim` — only in *slim*
    /// models, whose dead hidden units were physically removed ([`crate::adapt::slim`]).
    /// `None` for the presets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp_widths: Option<Vec<usize>>,
}

impl VitConfig {
    /// CPU-sized preset: dim 192, depth 6, 3 heads, MLP 384, patch 4.
    pub fn vit_tiny(image_size: usize, in_channels: usize, num_classes: usize) -> Self {
        Self {
            image_size,
            in_channels,
            patch_size: 4,
            dim: 192,
            depth: 6,
            heads: 3,
            mlp_dim: 384,
            num_classes,
            mlp_widths: None,
        }
    }

    /// The PruneLoRA paper's ViT: dim 384, depth 12, 6 heads, MLP 1536, patch 4.
    pub fn vit_paper(image_size: usize, in_channels: usize, num_classes: usize) -> Self {
        Self {
            image_size,
            in_channels,
            patch_size: 4,
            dim: 384,
            depth: 12,
            heads: 6,
            mlp_dim: 1536,
            num_classes,
            mlp_widths: None,
        }
    }

    /// Hidden width of block `block`'s MLP (`mlp_widths` in slim models, else `mlp_dim`).
    pub fn mlp_width(&self, block: usize) -> usize {
        self.mlp_widths
            .as_ref()
            .and_then(|widths| widths.get(block).copied())
            .unwrap_or(self.mlp_dim)
    }

    /// Tokens per image.
    pub fn num_patches(&self) -> usize {
        (self.image_size / self.patch_size).pow(2)
    }

    /// Build the model with freshly initialised weights on `device`.
    ///
    /// # Panics
    /// If `patch_size` does not divide `image_size`, `heads` does not divide `dim` or `dim` is
    /// not a multiple of 4 (needed by the 2-D sin-cos embedding), or if `mlp_widths` is set
    /// but does not hold one non-zero width per block (a malformed slim configuration).
    /// Presets satisfy all of these.
    pub fn init(&self, device: &Device) -> SimpleVit {
        assert!(
            self.image_size.is_multiple_of(self.patch_size),
            "patch must divide image"
        );
        assert!(self.dim.is_multiple_of(self.heads), "heads must divide dim");
        assert!(self.dim.is_multiple_of(4), "dim must be a multiple of 4");
        if let Some(widths) = &self.mlp_widths {
            assert!(
                widths.len() == self.depth && widths.iter().all(|&width| width > 0),
                "mlp_widths must hold one non-zero width for each of the {} blocks",
                self.depth
            );
        }
        let grid = self.image_size / self.patch_size;
        let position = Tensor::from_data(
            TensorData::new(
                sincos_position_embedding(grid, grid, self.dim),
                [grid * grid, self.dim],
            ),
            device,
        );
        SimpleVit {
            patch_embedding: Conv2dConfig::new(
                [self.in_channels, self.dim],
                [self.patch_size, self.patch_size],
            )
            .with_stride([self.patch_size, self.patch_size])
            .init(device),
            position,
            blocks: (0..self.depth)
                .map(|block| TransformerBlock::new(self, self.mlp_width(block), device))
                .collect(),
            norm: layer_norm(self.dim, device),
            head: Dense::new(
                LinearConfig::new(self.dim, self.num_classes).with_initializer(Initializer::Zeros),
                device,
            ),
        }
    }
}

fn layer_norm(dim: usize, device: &Device) -> LayerNorm {
    LayerNormConfig::new(dim)
        .with_epsilon(LAYER_NORM_EPSILON)
        .init(device)
}

/// The fixed 2-D sin-cos position embedding of SimpleViT, row-major `[h·w, dim]`:
/// for each token, `[sin(x·ω), cos(x·ω), sin(y·ω), cos(y·ω)]` with `ω_k = 10000^(-k/(dim/4 - 1))`.
pub fn sincos_position_embedding(height: usize, width: usize, dim: usize) -> Vec<f32> {
    let quarter = dim / 4;
    let omega: Vec<f64> = (0..quarter)
        .map(|k| {
            let exponent = if quarter > 1 {
                k as f64 / (quarter - 1) as f64
            } else {
                0.0
            };
            1.0 / 10_000f64.powf(exponent)
        })
        .collect();
    let mut table = Vec::with_capacity(height * width * dim);
    for y in 0..height {
        for x in 0..width {
            let parts: [fn(f64) -> f64; 2] = [f64::sin, f64::cos];
            for coordinate in [x as f64, y as f64] {
                for function in parts {
                    table.extend(omega.iter().map(|w| function(coordinate * w) as f32));
                }
            }
        }
    }
    table
}

/// Multi-head self-attention with a fused QKV projection and an output projection.
#[derive(Module, Debug)]
pub struct SelfAttention {
    /// `dim → 3·dim` projection to queries, keys and values.
    pub qkv: Dense,
    /// `dim → dim` output projection (the layer PruneLoRA prunes and adapts).
    pub out_proj: Dense,
    /// Number of heads.
    pub heads: usize,
}

impl SelfAttention {
    /// Shapes: `[batch, tokens, dim]` → `[batch, tokens, dim]`.
    pub fn forward(&self, tokens: Tensor<3>) -> Tensor<3> {
        self.forward_tapped(tokens, &mut Taps::off())
    }

    /// [`SelfAttention::forward`], reporting adapter residuals to `taps`.
    pub fn forward_tapped(&self, tokens: Tensor<3>, taps: &mut Taps) -> Tensor<3> {
        let [batch, length, dim] = tokens.dims();
        let head_dim = dim / self.heads;
        // [batch, tokens, 3, heads, head_dim] → [3, batch, heads, tokens, head_dim]
        let qkv = self
            .qkv
            .forward_tapped(tokens, taps)
            .reshape([batch, length, 3, self.heads, head_dim])
            .permute([2, 0, 3, 1, 4]);
        let take = |index: usize| {
            qkv.clone()
                .narrow(0, index, 1)
                .reshape([batch, self.heads, length, head_dim])
        };
        let (query, key, value) = (take(0), take(1), take(2));
        let scores = query.matmul(key.swap_dims(2, 3)) / (head_dim as f64).sqrt();
        let attention = softmax(scores, 3);
        // [batch, heads, tokens, head_dim] → [batch, tokens, dim]
        let mixed = attention
            .matmul(value)
            .swap_dims(1, 2)
            .reshape([batch, length, dim]);
        self.out_proj.forward_tapped(mixed, taps)
    }
}

/// A pre-LN transformer block: `x + attn(LN(x))`, then `x + mlp(LN(x))`.
#[derive(Module, Debug)]
pub struct TransformerBlock {
    /// LayerNorm before attention.
    pub attention_norm: LayerNorm,
    /// Self-attention.
    pub attention: SelfAttention,
    /// LayerNorm before the MLP.
    pub mlp_norm: LayerNorm,
    /// `dim → mlp width` (followed by GELU).
    pub mlp_in: Dense,
    /// `mlp width → dim`.
    pub mlp_out: Dense,
}

impl TransformerBlock {
    fn new(config: &VitConfig, mlp_width: usize, device: &Device) -> Self {
        Self {
            attention_norm: layer_norm(config.dim, device),
            attention: SelfAttention {
                qkv: Dense::new(LinearConfig::new(config.dim, 3 * config.dim), device),
                out_proj: Dense::new(LinearConfig::new(config.dim, config.dim), device),
                heads: config.heads,
            },
            mlp_norm: layer_norm(config.dim, device),
            mlp_in: Dense::new(LinearConfig::new(config.dim, mlp_width), device),
            mlp_out: Dense::new(LinearConfig::new(mlp_width, config.dim), device),
        }
    }

    /// Shapes: `[batch, tokens, dim]` → `[batch, tokens, dim]`.
    pub fn forward(&self, tokens: Tensor<3>) -> Tensor<3> {
        self.forward_tapped(tokens, &mut Taps::off())
    }

    /// [`TransformerBlock::forward`], reporting adapter residuals to `taps`.
    pub fn forward_tapped(&self, tokens: Tensor<3>, taps: &mut Taps) -> Tensor<3> {
        let attended = self
            .attention
            .forward_tapped(self.attention_norm.forward(tokens.clone()), taps);
        let tokens = tokens + attended;
        let hidden = gelu(
            self.mlp_in
                .forward_tapped(self.mlp_norm.forward(tokens.clone()), taps),
        );
        tokens + self.mlp_out.forward_tapped(hidden, taps)
    }
}

/// SimpleViT classifier.
#[derive(Module, Debug)]
pub struct SimpleVit {
    /// Patch embedding: conv with kernel = stride = patch size, `[dim, channels, p, p]`.
    pub patch_embedding: Conv2d,
    /// Fixed sin-cos position embedding `[tokens, dim]` (a constant, not trained or saved).
    pub position: Tensor<2>,
    /// Transformer blocks.
    pub blocks: Vec<TransformerBlock>,
    /// Final LayerNorm.
    pub norm: LayerNorm,
    /// Zero-initialised classifier.
    pub head: Dense,
}

impl SimpleVit {
    /// Penultimate features (mean-pooled tokens after the final LayerNorm).
    /// Shapes: `[batch, channels, h, w]` (normalised) → `[batch, dim]`.
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        self.features_tapped(images, &mut Taps::off())
    }

    /// [`SimpleVit::features`], reporting adapter residuals to `taps`.
    pub fn features_tapped(&self, images: Tensor<4>, taps: &mut Taps) -> Tensor<2> {
        // [batch, dim, h/p, w/p] → [batch, tokens, dim]
        let patches = self.patch_embedding.forward(images);
        let [batch, dim, _, _] = patches.dims();
        let mut tokens =
            patches.flatten::<3>(2, 3).swap_dims(1, 2) + self.position.clone().unsqueeze::<3>();
        for block in &self.blocks {
            tokens = block.forward_tapped(tokens, taps);
        }
        self.norm.forward(tokens).mean_dim(1).reshape([batch, dim])
    }

    /// Logits. Shapes: `[batch, channels, h, w]` (normalised) → `[batch, num_classes]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.head.forward(self.features(images))
    }

    /// Features and logits in one pass, reporting adapter residuals to `taps`.
    /// Shapes: `[batch, channels, h, w]` → (`[batch, dim]`, `[batch, num_classes]`).
    pub fn forward_tapped(&self, images: Tensor<4>, taps: &mut Taps) -> (Tensor<2>, Tensor<2>) {
        let features = self.features_tapped(images, taps);
        let logits = self.head.forward_tapped(features.clone(), taps);
        (features, logits)
    }

    /// Every adaptable / prunable layer with its name: `blocks.{i}.attention.qkv`,
    /// `blocks.{i}.attention.out_proj`, `blocks.{i}.mlp_in`, `blocks.{i}.mlp_out`, `head`.
    /// (The patch embedding is neither adapted nor pruned.)
    pub fn for_each_layer_mut(&mut self, visit: &mut dyn FnMut(&str, LayerMut<'_>)) {
        for (index, block) in self.blocks.iter_mut().enumerate() {
            visit(
                &format!("blocks.{index}.attention.qkv"),
                LayerMut::Dense(&mut block.attention.qkv),
            );
            visit(
                &format!("blocks.{index}.attention.out_proj"),
                LayerMut::Dense(&mut block.attention.out_proj),
            );
            visit(
                &format!("blocks.{index}.mlp_in"),
                LayerMut::Dense(&mut block.mlp_in),
            );
            visit(
                &format!("blocks.{index}.mlp_out"),
                LayerMut::Dense(&mut block.mlp_out),
            );
        }
        visit("head", LayerMut::Dense(&mut self.head));
    }
}
