//! The two layer kinds that unlearning methods adapt and prune, shared by every architecture:
//!
//! - [`ConvBn`]: a bias-free convolution (plus an optional conv LoRA adapter) followed by
//!   BatchNorm — every ResNet layer;
//! - [`Dense`]: a linear layer (plus an optional linear LoRA adapter) — the ResNet head and every
//!   ViT projection.
//!
//! Their weights are stored under the same record paths as Burn's `Conv2d` / `Linear`
//! (`…conv.weight`, `…weight`, `…bias`), so plain (merged) models save and load exactly as
//! before; an adapter adds `…lora.a` / `…lora.b` only while it is attached.
//!
//! [`Taps`] lets a forward pass report each adapter's residual `r_l(x) = (α/r)·B·A·x`, which
//! Residual Feature Alignment penalises.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, LinearConfig, PaddingConfig2d};
use burn::tensor::module::linear;
use burn::tensor::{Device, Tensor};

use crate::adapt::lora::{ConvLora, LinearLora};

/// Collects, during one forward pass, the mean squared residual of every attached adapter:
/// `‖r_l(x)‖² / dim_l` averaged over the batch, as a `[1]` tensor per adapter (spec §3.6).
#[derive(Debug, Default)]
pub struct Taps {
    enabled: bool,
    residual_energy: Vec<Tensor<1>>,
}

impl Taps {
    /// Taps that record nothing (the plain forward pass).
    pub fn off() -> Self {
        Self::default()
    }

    /// Taps that record every adapter's residual energy.
    pub fn recording() -> Self {
        Self {
            enabled: true,
            residual_energy: Vec::new(),
        }
    }

    fn record<const D: usize>(&mut self, residual: &Tensor<D>) {
        if self.enabled {
            self.residual_energy
                .push(residual.clone().powi_scalar(2).mean());
        }
    }

    /// The recorded energies, one `[1]` tensor per adapter in forward order.
    pub fn into_residual_energy(self) -> Vec<Tensor<1>> {
        self.residual_energy
    }
}

/// A convolution without bias (plus an optional LoRA adapter) followed by BatchNorm.
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution, `[out, in, k, k]`, no bias.
    pub conv: Conv2d,
    /// BatchNorm over the convolution's output channels.
    pub bn: BatchNorm,
    /// LoRA adapter acting on the convolution, when attached.
    pub lora: Option<ConvLora>,
    /// Whether `bn` has been folded into `conv` by [`ConvBn::fold_batch_norm`] (inference
    /// only): `bn` is then an identity and the forward pass skips it.
    pub batch_norm_folded: bool,
}

impl ConvBn {
    /// A `kernel × kernel` convolution with "same" padding and the given stride, then BatchNorm.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let padding = kernel / 2;
        Self {
            conv: Conv2dConfig::new([in_channels, out_channels], [kernel, kernel])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(
                    padding, padding, padding, padding,
                ))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(out_channels).init(device),
            lora: None,
            batch_norm_folded: false,
        }
    }

    /// Fold BatchNorm's inference transform into the convolution, for inference only:
    /// with `s = γ / √(running_var + ε)`, the weights become `W·s` (per output channel) and the
    /// convolution gains the bias `β − running_mean·s`; `bn` is reset to a fresh BatchNorm that
    /// [`ConvBn::forward`] skips. The logits are unchanged (up to float rounding) and each layer
    /// saves BatchNorm's four element-wise passes over its output.
    ///
    /// A folded layer must not be trained (BatchNorm's batch statistics are gone) nor saved
    /// (the convolution's bias is not part of the weight format). Returns `false`, changing
    /// nothing, when the layer is already folded or carries an unmerged LoRA adapter (merge it
    /// first: the adapter acts before BatchNorm).
    pub fn fold_batch_norm(&mut self) -> bool {
        if self.batch_norm_folded || self.lora.is_some() {
            return false;
        }
        let channels = self.out_channels();
        let device = self.conv.weight.device();
        let mean = self.bn.running_mean.value();
        let variance = self.bn.running_var.value();
        let scale = self.bn.gamma.val() / (variance.add_scalar(self.bn.epsilon)).sqrt();
        let mut shift = self.bn.beta.val() - mean * scale.clone();
        if let Some(bias) = &self.conv.bias {
            shift = shift + bias.val() * scale.clone();
        }
        let weight = self.conv.weight.val() * scale.reshape([channels, 1, 1, 1]);
        self.conv.weight = Param::from_tensor(weight);
        self.conv.bias = Some(Param::from_tensor(shift));
        let identity = BatchNormConfig::new(channels)
            .with_epsilon(self.bn.epsilon)
            .init(&device);
        self.bn = identity;
        self.batch_norm_folded = true;
        true
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.conv.weight.dims()[0]
    }

    /// Shapes: `[batch, in, h, w]` → `[batch, out, h / stride, w / stride]`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.forward_tapped(input, &mut Taps::off())
    }

    /// [`ConvBn::forward`], reporting the adapter's residual to `taps`.
    pub fn forward_tapped(&self, input: Tensor<4>, taps: &mut Taps) -> Tensor<4> {
        let output = match &self.lora {
            None => self.conv.forward(input),
            Some(adapter) => {
                let residual = adapter.forward(input.clone());
                taps.record(&residual);
                self.conv.forward(input) + residual
            }
        };
        if self.batch_norm_folded {
            output
        } else {
            self.bn.forward(output)
        }
    }
}

/// A linear layer `y = x·W + b` with Burn's `[d_input, d_output]` weight layout, plus an
/// optional LoRA adapter.
#[derive(Module, Debug)]
pub struct Dense {
    /// Weight `[d_input, d_output]`.
    pub weight: Param<Tensor<2>>,
    /// Bias `[d_output]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// LoRA adapter, when attached.
    pub lora: Option<LinearLora>,
}

impl Dense {
    /// A layer initialised as Burn's `Linear` with this configuration.
    pub fn new(config: LinearConfig, device: &Device) -> Self {
        let linear = config.init(device);
        Self {
            weight: linear.weight,
            bias: linear.bias,
            lora: None,
        }
    }

    /// `[d_input, d_output]`.
    pub fn dims(&self) -> [usize; 2] {
        self.weight.dims()
    }

    /// Shapes: `[..., d_input]` → `[..., d_output]`.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        self.forward_tapped(input, &mut Taps::off())
    }

    /// [`Dense::forward`], reporting the adapter's residual to `taps`.
    pub fn forward_tapped<const D: usize>(&self, input: Tensor<D>, taps: &mut Taps) -> Tensor<D> {
        let bias = self.bias.as_ref().map(Param::val);
        match &self.lora {
            None => linear(input, self.weight.val(), bias),
            Some(adapter) => {
                let residual = adapter.forward(input.clone());
                taps.record(&residual);
                linear(input, self.weight.val(), bias) + residual
            }
        }
    }
}

/// Mutable access to one adaptable / prunable layer of a model.
pub enum LayerMut<'a> {
    /// A conv + BatchNorm layer (ResNets).
    Conv(&'a mut ConvBn),
    /// A linear layer (ResNet head, ViT projections and head).
    Dense(&'a mut Dense),
}

/// Does `name` match `pattern`, where `*` stands for any run of characters (possibly empty)?
///
/// `blocks.*.layers.*` matches `blocks.3.layers.1`; `head` matches only `head`.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(position) => rest = &rest[position + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_dotted_names() {
        assert!(name_matches("head", "head"));
        assert!(!name_matches("head", "heads"));
        assert!(name_matches("blocks.*.layers.*", "blocks.3.layers.1"));
        assert!(!name_matches("blocks.*.layers.*", "blocks.3.shortcut"));
        assert!(name_matches("*", "stem"));
        assert!(name_matches(
            "blocks.5.*.out_proj",
            "blocks.5.attention.out_proj"
        ));
        assert!(!name_matches(
            "blocks.5.*.out_proj",
            "blocks.4.attention.out_proj"
        ));
        assert!(name_matches("*.shortcut", "blocks.3.shortcut"));
    }
}
