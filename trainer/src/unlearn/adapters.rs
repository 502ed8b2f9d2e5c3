//! LoRA and pruning set-up shared by the adapter-based methods (spec §3.3–3.6).

use std::str::FromStr;

use burn::module::Module;
use lethe_shared::adapt::lora::{self, LoraConfig};
use lethe_shared::model::{Architecture, Classifier, LayerMut, ModelConfig};
use serde::{Deserialize, Serialize};

use super::{HyperPreset, UnlearnContext, UnlearnError};

/// Which layers get LoRA adapters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoraTargets {
    /// The spec's: ResNets every block conv (not stem, not shortcuts; the classifier trains
    /// fully); ViTs the last block's attention output projection and the head (`--preset
    /// paper`: the head only, as the original code effectively did).
    #[default]
    Preset,
    /// ViT: the head only (reproduces the original code's inert attention adapter).
    HeadOnly,
    /// Every adaptable layer.
    All,
    /// Layer-name patterns (`*` wildcard), e.g. `blocks.*.layers.0,head`.
    Custom(Vec<String>),
}

impl FromStr for LoraTargets {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "preset" => LoraTargets::Preset,
            "head-only" => LoraTargets::HeadOnly,
            "all" => LoraTargets::All,
            "" => return Err("empty --lora-targets".into()),
            patterns => {
                LoraTargets::Custom(patterns.split(',').map(|p| p.trim().to_owned()).collect())
            }
        })
    }
}

/// Layers pruned by Prune+FT and PruneLoRA (spec §3.3): ResNets every conv (stem, block convs,
/// shortcuts); ViTs the last block's attention output projection and the head.
pub fn prune_patterns(model: &ModelConfig) -> Vec<String> {
    match &model.architecture {
        Architecture::ResNet(_) => vec!["stem".into(), "blocks.*".into()],
        Architecture::Vit(vit) => vec![
            format!("blocks.{}.attention.out_proj", vit.depth.saturating_sub(1)),
            "head".into(),
        ],
    }
}

/// Layers that get adapters.
pub fn lora_patterns(
    model: &ModelConfig,
    targets: &LoraTargets,
    preset: HyperPreset,
) -> Vec<String> {
    match (targets, &model.architecture) {
        (LoraTargets::Custom(patterns), _) => patterns.clone(),
        (LoraTargets::All, _) => vec!["*".into()],
        (LoraTargets::HeadOnly, _) => vec!["head".into()],
        (LoraTargets::Preset, Architecture::ResNet(_)) => vec!["blocks.*.layers.*".into()],
        (LoraTargets::Preset, Architecture::Vit(vit)) => match preset {
            HyperPreset::Paper => vec!["head".into()],
            HyperPreset::Lethe => vec![
                format!("blocks.{}.attention.out_proj", vit.depth.saturating_sub(1)),
                "head".into(),
            ],
        },
    }
}

/// The adapters' hyper-parameters: r 8 / α 16 for ResNets, r 16 / α 32 for ViTs (spec §3.4),
/// unless configured.
pub fn lora_config(context: &UnlearnContext<'_>) -> LoraConfig {
    let default = match context.model_config.architecture {
        Architecture::ResNet(_) => LoraConfig::RESNET_PAPER,
        Architecture::Vit(_) => LoraConfig::VIT_PAPER,
    };
    let rank = context.config.lora_rank.unwrap_or(default.rank);
    LoraConfig {
        rank,
        alpha: context.config.lora_alpha.unwrap_or(2.0 * rank as f64),
        dropout: context.config.lora_dropout,
    }
}

/// Freeze `model`'s weights (BatchNorm keeps updating its running statistics), attach adapters
/// to the configured layers and, for ResNets, make the classifier fully trainable again; with
/// `lora_train_norm`, BatchNorm γ and β train too.
pub fn with_adapters(
    context: &UnlearnContext<'_>,
    model: Classifier,
) -> Result<Classifier, UnlearnError> {
    let mut model = model.no_grad();
    let patterns = lora_patterns(
        context.model_config,
        &context.config.lora_targets,
        context.config.preset,
    );
    context.training_device.seed(context.config.seed);
    let adapted = lora::attach(
        &mut model,
        &patterns,
        &lora_config(context),
        &context.training_device,
    )?;
    tracing::info!(
        "LoRA adapters on {} layer(s): {}",
        adapted.len(),
        adapted.join(", ")
    );
    let resnet = matches!(context.model_config.architecture, Architecture::ResNet(_));
    let train_norm = context.config.lora_train_norm;
    model.for_each_layer_mut(&mut |name, layer| match layer {
        LayerMut::Dense(head) if resnet && name == "head" => {
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
    Ok(model)
}
