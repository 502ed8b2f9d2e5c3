//! PruneLoRA's set-up, training step and finish (spec §3.5; Tohidi et al., "Prune First, Then
//! Adapt", arXiv 2411.11907): prune the model (structured L2), freeze it, attach LoRA adapters,
//! train the adapters (and a ResNet's classifier) with cross-entropy on the retained data, then
//! fold the adapters back in.
//!
//! One definition for both sides: `lethe forget --method prunelora` (trainer) runs these
//! functions inside its epoch loop, and the page's live forgetting ([`crate::live`]) runs them
//! one mini-batch at a time in a Web Worker. Behind the `train` feature (autodiff, Adam).

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::AdaptError;
use super::lora::{self, LoraConfig};
use super::prune::{self, PruneMask};
use crate::model::{Architecture, Classifier, LayerMut, ModelConfig};

/// Which parameters train once the model is frozen and adapters are attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterSetup {
    /// Layer-name patterns that get adapters (see [`crate::model::name_matches`]).
    pub patterns: Vec<String>,
    /// Rank, α and dropout of the adapters.
    pub lora: LoraConfig,
    /// A ResNet's classifier (`head`) trains fully, as in the PruneLoRA code (spec §3.4).
    pub train_classifier: bool,
    /// BatchNorm γ and β train too (off in the spec).
    pub train_norm: bool,
    /// Seed of the adapters' initialisation.
    pub seed: u64,
}

impl AdapterSetup {
    /// The spec's adapters for `model` (spec §3.4): ResNets every block conv with r 8 / α 16 and
    /// the classifier trainable; ViTs the last block's attention output projection and the head
    /// with r 16 / α 32.
    pub fn preset(model: &ModelConfig) -> Self {
        let (patterns, lora, train_classifier) = match &model.architecture {
            Architecture::ResNet(_) => (
                vec!["blocks.*.layers.*".to_owned()],
                LoraConfig::RESNET_PAPER,
                true,
            ),
            Architecture::Vit(vit) => (
                vec![
                    format!("blocks.{}.attention.out_proj", vit.depth.saturating_sub(1)),
                    "head".to_owned(),
                ],
                LoraConfig::VIT_PAPER,
                false,
            ),
        };
        Self {
            patterns,
            lora,
            train_classifier,
            train_norm: false,
            seed: 0,
        }
    }
}

/// Freeze `model` (BatchNorm keeps updating its running statistics), attach adapters as
/// `setup` says and make the classifier / BatchNorm affine parameters trainable again where it
/// asks. `device` is the (autodiff) device the model lives on. Returns the model and the names
/// of the adapted layers.
///
/// # Errors
/// [`AdaptError::NoMatchingLayer`] when a pattern names no layer.
pub fn freeze_and_attach(
    model: Classifier,
    setup: &AdapterSetup,
    device: &Device,
) -> Result<(Classifier, Vec<String>), AdaptError> {
    let mut model = model.no_grad();
    device.seed(setup.seed);
    let adapted = lora::attach(&mut model, &setup.patterns, &setup.lora, device)?;
    let train_classifier = setup.train_classifier;
    let train_norm = setup.train_norm;
    model.for_each_layer_mut(&mut |name, layer| match layer {
        LayerMut::Dense(head) if train_classifier && name == "head" => {
            head.weight = head.weight.clone().set_require_grad(true);
            if let Some(bias) = head.bias.take() {
                head.bias = Some(bias.set_require_grad(true));
            }
        }
        LayerMut::Conv(conv_bn) if train_norm => {
            conv_bn.bn.gamma = conv_bn.bn.gamma.clone().set_require_grad(true);
            conv_bn.bn.beta = conv_bn.bn.beta.clone().set_require_grad(true);
        }
        _ => {}
    });
    Ok((model, adapted))
}

/// Everything PruneLoRA's set-up needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruneLoraSetup {
    /// Layers pruned (see [`prune::preset_patterns`]).
    pub prune_patterns: Vec<String>,
    /// Share of output channels pruned per layer (0.5 in the paper).
    pub prune_amount: f64,
    /// Re-apply the mask to the base weights after every step (`--mask keep`).
    pub keep_mask: bool,
    /// Keep pruned channels zero through the adapters' delta too (`--lora-respect-mask`).
    pub respect_mask: bool,
    /// The adapters.
    pub adapters: AdapterSetup,
}

impl PruneLoraSetup {
    /// The spec's PruneLoRA for `model`: 50 % of the preset layers pruned, mask dropped, the
    /// preset adapters.
    pub fn preset(model: &ModelConfig) -> Self {
        Self {
            prune_patterns: prune::preset_patterns(model),
            prune_amount: 0.5,
            keep_mask: false,
            respect_mask: false,
            adapters: AdapterSetup::preset(model),
        }
    }
}

/// A pruned, adapted model's bookkeeping: the mask and how to keep it while training.
#[derive(Debug, Clone, PartialEq)]
pub struct PrunedAdapters {
    /// Which channels were pruned.
    pub mask: PruneMask,
    /// Names of the adapted layers.
    pub adapted: Vec<String>,
    keep_mask: bool,
    respect_mask: bool,
}

impl PrunedAdapters {
    /// Prune `model` as `setup` says (dead channels when the mask is kept or respected), then
    /// freeze it and attach the adapters. Returns the model to train and its bookkeeping.
    ///
    /// # Errors
    /// [`AdaptError`] for a bad amount or a pattern that names no layer.
    pub fn prepare(
        mut model: Classifier,
        setup: &PruneLoraSetup,
        device: &Device,
    ) -> Result<(Classifier, PrunedAdapters), AdaptError> {
        let dead_channels = setup.respect_mask || setup.keep_mask;
        let mask = prune::prune_l2(
            &mut model,
            &setup.prune_patterns,
            setup.prune_amount,
            dead_channels,
        )?;
        let (model, adapted) = freeze_and_attach(model, &setup.adapters, device)?;
        Ok((
            model,
            PrunedAdapters {
                mask,
                adapted,
                keep_mask: setup.keep_mask,
                respect_mask: setup.respect_mask,
            },
        ))
    }

    /// After every optimizer step: re-apply the mask where the setup keeps or respects it.
    ///
    /// # Errors
    /// [`AdaptError::MaskMismatch`] when the model no longer fits the mask.
    pub fn after_step(&self, mut model: Classifier) -> Result<Classifier, AdaptError> {
        if self.keep_mask || self.respect_mask {
            prune::apply_mask(&mut model, &self.mask, self.keep_mask, self.respect_mask)?;
        }
        Ok(model)
    }

    /// Fold the adapters into the base weights: a plain model. With a respected mask, pruned
    /// channels are then exactly zero (not only up to rounding).
    ///
    /// # Errors
    /// [`AdaptError::MaskMismatch`] when the model no longer fits the mask.
    pub fn finish(&self, mut model: Classifier) -> Result<Classifier, AdaptError> {
        lora::merge(&mut model);
        if self.respect_mask {
            prune::apply_mask(&mut model, &self.mask, true, false)?;
        }
        Ok(model)
    }
}

/// The optimizer of FT, Prune+FT, LoRA and PruneLoRA (spec §3.2): Adam, β 0.9 / 0.999, no
/// weight decay.
pub fn retain_optimizer() -> ModuleOptimizer {
    AdamConfig::new().with_beta_1(0.9).with_beta_2(0.999).init()
}

/// Mean cross-entropy of `logits` `[n, classes]` against `labels` `[n]` → `[1]`.
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, labels)
}

/// Back-propagate `loss` through `model` and take one optimizer step at `learning_rate`:
/// only the parameters that require a gradient move.
pub fn optimizer_step(
    optimizer: &mut ModuleOptimizer,
    learning_rate: f64,
    model: Classifier,
    loss: Tensor<1>,
) -> Classifier {
    let gradients = GradientsParams::from_grads(loss.backward(), &model);
    optimizer.step(learning_rate, model, gradients)
}
