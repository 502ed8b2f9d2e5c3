//! LoRA and pruning set-up shared by the adapter-based methods (spec §3.3–3.6).

use std::str::FromStr;

use lethe_shared::adapt::lora::LoraConfig;
use lethe_shared::adapt::prune;
use lethe_shared::adapt::prunelora::{AdapterSetup, freeze_and_attach};
use lethe_shared::model::{Architecture, Classifier, ModelConfig};
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

/// Layers pruned by Prune+FT and PruneLoRA: `--prune-targets` when given, else the spec's
/// (§3.3; [`prune::preset_patterns`]).
pub fn prune_patterns(context: &UnlearnContext<'_>) -> Vec<String> {
    match &context.config.prune_targets {
        Some(patterns) => patterns.clone(),
        None => prune::preset_patterns(context.model_config),
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
        (LoraTargets::Preset, Architecture::Vit(_)) if preset == HyperPreset::Paper => {
            vec!["head".into()]
        }
        (LoraTargets::Preset, _) => AdapterSetup::preset(model).patterns,
    }
}

/// The adapters' hyper-parameters: r 8 / α 16 for ResNets, r 16 / α 32 for ViTs (spec §3.4),
/// unless configured.
pub fn lora_config(context: &UnlearnContext<'_>) -> LoraConfig {
    let default = AdapterSetup::preset(context.model_config).lora;
    let rank = context.config.lora_rank.unwrap_or(default.rank);
    LoraConfig {
        rank,
        alpha: context.config.lora_alpha.unwrap_or(2.0 * rank as f64),
        dropout: context.config.lora_dropout,
    }
}

/// The adapter set-up of `context` ([`AdapterSetup`]): its layers, rank and α, the classifier
/// trainable for ResNets, BatchNorm γ/β with `lora_train_norm`, seeded by the run's seed.
pub fn adapter_setup(context: &UnlearnContext<'_>) -> AdapterSetup {
    AdapterSetup {
        patterns: lora_patterns(
            context.model_config,
            &context.config.lora_targets,
            context.config.preset,
        ),
        lora: lora_config(context),
        train_classifier: AdapterSetup::preset(context.model_config).train_classifier,
        train_norm: context.config.lora_train_norm,
        seed: context.config.seed,
    }
}

/// Freeze `model`'s weights (BatchNorm keeps updating its running statistics), attach adapters
/// to the configured layers and, for ResNets, make the classifier fully trainable again; with
/// `lora_train_norm`, BatchNorm γ and β train too ([`freeze_and_attach`]).
pub fn with_adapters(
    context: &UnlearnContext<'_>,
    model: Classifier,
) -> Result<Classifier, UnlearnError> {
    let (model, adapted) =
        freeze_and_attach(model, &adapter_setup(context), &context.training_device)?;
    log_adapted(&adapted);
    Ok(model)
}

/// Log which layers got adapters.
pub fn log_adapted(adapted: &[String]) {
    tracing::info!(
        "LoRA adapters on {} layer(s): {}",
        adapted.len(),
        adapted.join(", ")
    );
}
