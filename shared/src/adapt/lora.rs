//! LoRA adapters (Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models",
//! arXiv 2106.09685) for linear and convolutional layers, as specified in
//! `../shared/spec/unlearning-protocol.md` §3.4:
//!
//! - linear: `y = W₀x + (α/r)·B·A·x`, A Kaiming-uniform (a = √5, i.e. `U(±1/√fan_in)`), B zeros;
//! - conv: A is a conv `in → r` with the base layer's kernel, stride and padding, B a 1×1 conv
//!   `r → out` initialised to zeros;
//! - dropout on the adapter's input.
//!
//! Both adapters can be folded into the base weight ([`LinearLora::delta_weight`],
//! [`ConvLora::delta_weight`]): for the conv adapter, a `k×k` conv followed by a 1×1 conv is the
//! single `k×k` conv whose kernel is `B·A` (both are linear maps), so the merged model needs no
//! adapter code at all.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Dropout, DropoutConfig, Initializer, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::AdaptError;
use crate::model::{Classifier, LayerMut, name_matches};

/// Hyper-parameters of a LoRA adapter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoraConfig {
    /// Rank `r` of the update.
    pub rank: usize,
    /// Scaling numerator `α` (the update is multiplied by `α / r`).
    pub alpha: f64,
    /// Dropout probability on the adapter's input.
    pub dropout: f64,
}

impl LoraConfig {
    /// The PruneLoRA paper's ResNet-50 preset: r 8, α 16, dropout 0.1.
    pub const RESNET_PAPER: LoraConfig = LoraConfig {
        rank: 8,
        alpha: 16.0,
        dropout: 0.1,
    };
    /// The PruneLoRA paper's ViT preset: r 16, α 32, dropout 0.1.
    pub const VIT_PAPER: LoraConfig = LoraConfig {
        rank: 16,
        alpha: 32.0,
        dropout: 0.1,
    };

    /// The update's scale `α / r`.
    pub fn scale(&self) -> f64 {
        self.alpha / self.rank as f64
    }

    /// A linear adapter for a `d_input → d_output` layer.
    pub fn init_linear(&self, d_input: usize, d_output: usize, device: &Device) -> LinearLora {
        LinearLora {
            a: kaiming_uniform_a_sqrt5().init_with(
                [d_input, self.rank],
                Some(d_input),
                Some(self.rank),
                device,
            ),
            b: Initializer::Zeros.init([self.rank, d_output], device),
            scale: self.scale(),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }

    /// A conv adapter for `base` (same kernel, stride, padding and dilation on the A side).
    pub fn init_conv(&self, base: &Conv2d, device: &Device) -> ConvLora {
        let [out_channels, in_per_group, _, _] = base.weight.dims();
        let in_channels = in_per_group * base.groups;
        ConvLora {
            a: Conv2dConfig::new([in_channels, self.rank], base.kernel_size)
                .with_stride(base.stride)
                .with_dilation(base.dilation)
                .with_padding(base.padding.clone())
                .with_bias(false)
                .with_initializer(kaiming_uniform_a_sqrt5())
                .init(device),
            b: Conv2dConfig::new([self.rank, out_channels], [1, 1])
                .with_padding(PaddingConfig2d::Valid)
                .with_bias(false)
                .with_initializer(Initializer::Zeros)
                .init(device),
            scale: self.scale(),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// PyTorch's `kaiming_uniform_(a=√5)`: `U(±√(1/fan_in))` (Burn's gain `1/√3` gives the same).
fn kaiming_uniform_a_sqrt5() -> Initializer {
    Initializer::KaimingUniform {
        gain: 1.0 / 3f64.sqrt(),
        fan_out_only: false,
    }
}

/// Low-rank update of a linear layer (Burn's `[d_input, d_output]` weight layout).
#[derive(Module, Debug)]
pub struct LinearLora {
    /// Down projection `[d_input, rank]`.
    pub a: Param<Tensor<2>>,
    /// Up projection `[rank, d_output]`, zero at initialisation.
    pub b: Param<Tensor<2>>,
    /// `α / r`.
    pub scale: f64,
    /// Dropout on the adapter's input.
    pub dropout: Dropout,
}

impl LinearLora {
    /// The adapter's contribution. Shapes: `[..., d_input]` → `[..., d_output]`.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        // `[m, n]` weights broadcast over the batch dims as `[1, …, 1, m, n]`.
        let hidden = self
            .dropout
            .forward(input)
            .matmul(self.a.val().unsqueeze::<D>());
        hidden.matmul(self.b.val().unsqueeze::<D>()) * self.scale
    }

    /// The update folded into a weight: `(α/r)·A·B`, `[d_input, d_output]`.
    pub fn delta_weight(&self) -> Tensor<2> {
        self.a.val().matmul(self.b.val()) * self.scale
    }
}

/// Low-rank update of a conv layer: conv `in → r` (base geometry), then 1×1 conv `r → out`.
#[derive(Module, Debug)]
pub struct ConvLora {
    /// `in → rank` with the base layer's kernel, stride, padding and dilation; no bias.
    pub a: Conv2d,
    /// 1×1 `rank → out`, zero at initialisation; no bias.
    pub b: Conv2d,
    /// `α / r`.
    pub scale: f64,
    /// Dropout on the adapter's input.
    pub dropout: Dropout,
}

impl ConvLora {
    /// The adapter's contribution.
    /// Shapes: `[batch, in, h, w]` → `[batch, out, h', w']` (the base layer's output shape).
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.b.forward(self.a.forward(self.dropout.forward(input))) * self.scale
    }

    /// The update folded into a kernel: `(α/r)·B·A`, `[out, in, k, k]`.
    pub fn delta_weight(&self) -> Tensor<4> {
        let [rank, in_channels, kernel_h, kernel_w] = self.a.weight.dims();
        let [out_channels, _, _, _] = self.b.weight.dims();
        let down = self
            .a
            .weight
            .val()
            .reshape([rank, in_channels * kernel_h * kernel_w]);
        let up = self.b.weight.val().reshape([out_channels, rank]);
        up.matmul(down)
            .reshape([out_channels, in_channels, kernel_h, kernel_w])
            * self.scale
    }
}

/// Attach a fresh adapter to every layer of `model` whose name matches one of `patterns`
/// (see [`crate::model::name_matches`]); returns the names adapted, in forward order.
///
/// Base weights are left as they are: freezing them is the caller's choice (the methods call
/// `Module::no_grad` on the model *before* attaching, so only adapters train).
///
/// # Errors
/// [`AdaptError::NoMatchingLayer`] when a pattern matches no layer of this model.
pub fn attach(
    model: &mut Classifier,
    patterns: &[String],
    config: &LoraConfig,
    device: &Device,
) -> Result<Vec<String>, AdaptError> {
    check_patterns(model, patterns)?;
    let mut adapted = Vec::new();
    model.for_each_layer_mut(&mut |name, layer| {
        if !patterns.iter().any(|pattern| name_matches(pattern, name)) {
            return;
        }
        match layer {
            LayerMut::Conv(conv_bn) => {
                conv_bn.lora = Some(config.init_conv(&conv_bn.conv, device));
            }
            LayerMut::Dense(dense) => {
                let [d_input, d_output] = dense.dims();
                dense.lora = Some(config.init_linear(d_input, d_output, device));
            }
        }
        adapted.push(name.to_owned());
    });
    Ok(adapted)
}

/// Fold every attached adapter into its base weight and remove it: the result is a plain model
/// (no adapter code needed to run it) computing the same function in eval mode.
pub fn merge(model: &mut Classifier) {
    model.for_each_layer_mut(&mut |_, layer| match layer {
        LayerMut::Conv(conv_bn) => {
            if let Some(adapter) = conv_bn.lora.take() {
                let delta = adapter.delta_weight().detach();
                update_param(&mut conv_bn.conv.weight, |weight| weight + delta);
            }
        }
        LayerMut::Dense(dense) => {
            if let Some(adapter) = dense.lora.take() {
                let delta = adapter.delta_weight().detach();
                update_param(&mut dense.weight, |weight| weight + delta);
            }
        }
    });
}

/// Number of adapter parameters attached to `model`.
pub fn adapter_params(model: &Classifier) -> usize {
    let mut count = 0;
    model.clone().for_each_layer_mut(&mut |_, layer| {
        count += match layer {
            LayerMut::Conv(conv_bn) => conv_bn.lora.as_ref().map_or(0, Module::num_params),
            LayerMut::Dense(dense) => dense.lora.as_ref().map_or(0, Module::num_params),
        }
    });
    count
}

/// Every pattern must name at least one layer of `model`.
pub(crate) fn check_patterns(model: &Classifier, patterns: &[String]) -> Result<(), AdaptError> {
    let names = model.layer_names();
    for pattern in patterns {
        if !names.iter().any(|name| name_matches(pattern, name)) {
            return Err(AdaptError::NoMatchingLayer {
                pattern: pattern.clone(),
                available: names.join(", "),
            });
        }
    }
    Ok(())
}

/// Replace a parameter's value by `update(value)`, keeping its id and whether it requires a
/// gradient. The update is computed outside the autodiff graph.
///
/// With autodiff (`train`), `update` runs on the inner backend and only its result goes back
/// on the graph, as a fresh leaf: every operation on an autodiff tensor, even a detached one,
/// registers a graph node, and nodes no backward pass consumes are freed only one level per
/// backward pass while all of them are swept each time (burn-autodiff 0.22). Called after every
/// optimizer step, that slowed SalUn's full-split run down epoch after epoch (see
/// `trainer/src/unlearn/salun.rs`).
pub(crate) fn update_param<const D: usize>(
    param: &mut Param<Tensor<D>>,
    update: impl FnOnce(Tensor<D>) -> Tensor<D>,
) {
    let current = param.clone();
    let require_grad = current.val().is_require_grad();
    *param = current.map(|value| off_graph(value, update).set_require_grad(require_grad));
}

/// `update(value)` computed without autodiff, back on autodiff when `value` was.
#[cfg(feature = "train")]
fn off_graph<const D: usize>(
    value: Tensor<D>,
    update: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    if value.is_autodiff() {
        update(value.inner()).autodiff()
    } else {
        update(value)
    }
}

/// `update(value)`: without the `train` feature there is no autodiff graph.
#[cfg(not(feature = "train"))]
fn off_graph<const D: usize>(
    value: Tensor<D>,
    update: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    update(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::ModuleMapper;
    use burn::nn::LinearConfig;
    use burn::tensor::{Distribution, Tensor};

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor.into_data().iter::<f32>().collect()
    }

    fn max_abs_difference<const D: usize>(left: Tensor<D>, right: Tensor<D>) -> f32 {
        values(left - right)
            .into_iter()
            .fold(0.0, |max, value| max.max(value.abs()))
    }

    /// Gives every float parameter a random value, so B is no longer zero.
    struct Randomize(Device);

    impl ModuleMapper for Randomize {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|tensor| {
                Tensor::random(tensor.shape(), Distribution::Normal(0.0, 0.2), &self.0)
            })
        }
    }

    const CONFIG: LoraConfig = LoraConfig {
        rank: 4,
        alpha: 8.0,
        dropout: 0.1,
    };

    #[test]
    fn adapters_start_as_a_zero_update() {
        let device = Device::flex();
        let linear = CONFIG.init_linear(6, 5, &device);
        let tokens = Tensor::<3>::random([2, 3, 6], Distribution::Normal(0.0, 1.0), &device);
        assert_eq!(linear.forward(tokens).dims(), [2, 3, 5]);
        assert!(values(linear.delta_weight()).iter().all(|&v| v == 0.0));

        let base = Conv2dConfig::new([3, 8], [3, 3])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let conv = CONFIG.init_conv(&base, &device);
        let images = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &device);
        let update = conv.forward(images.clone());
        assert_eq!(update.dims(), base.forward(images).dims());
        assert!(values(update).iter().all(|&v| v == 0.0));
        assert_eq!(CONFIG.scale(), 2.0);
    }

    #[test]
    fn merged_linear_update_equals_the_adapter() {
        let device = Device::flex();
        let base = LinearConfig::new(6, 5).init(&device);
        let adapter = CONFIG
            .init_linear(6, 5, &device)
            .map(&mut Randomize(device.clone()));
        let input = Tensor::<3>::random([2, 3, 6], Distribution::Normal(0.0, 1.0), &device);

        let adapted = base.forward(input.clone()) + adapter.forward(input.clone());
        let mut merged = base.clone();
        merged.weight = merged.weight.map(|weight| weight + adapter.delta_weight());
        assert!(max_abs_difference(adapted, merged.forward(input)) <= 1e-4);
    }

    #[test]
    fn merged_conv_update_equals_the_adapter() {
        let device = Device::flex();
        let base = Conv2dConfig::new([3, 8], [3, 3])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let adapter = CONFIG
            .init_conv(&base, &device)
            .map(&mut Randomize(device.clone()));
        let images = Tensor::<4>::random([2, 3, 9, 9], Distribution::Normal(0.0, 1.0), &device);

        let adapted = base.forward(images.clone()) + adapter.forward(images.clone());
        let mut merged = base.clone();
        merged.weight = merged.weight.map(|weight| weight + adapter.delta_weight());
        assert!(max_abs_difference(adapted, merged.forward(images)) <= 1e-4);
    }
}
