//! PruneLoRA (spec §3.5; arXiv 2411.11907): prune (as Prune+FT), then LoRA on the pruned model;
//! only the adapters (and a ResNet's classifier) train, on D_r with the shared set-up.
//!
//! Pruned base rows stay zero (the base is frozen) but the LoRA delta can write into them.
//! `--lora-respect-mask` masks the delta too and prunes with dead channels (BatchNorm γ/β of
//! pruned channels zeroed — frozen, so they stay zero), so pruned channels stay dead and
//! `--slim` can remove them physically.

use lethe_shared::adapt::lora::merge;
use lethe_shared::adapt::prune::{self, MaskMode};
use lethe_shared::model::Classifier;

use super::ft::fine_tune_on_retain;
use super::{
    MethodKind, MethodOutput, UnlearnContext, UnlearnError, UnlearningMethod, adapters,
    prune_patterns, trainable_params,
};

/// Prune, then adapt, then unlearn.
pub struct PruneLora;

impl UnlearningMethod for PruneLora {
    fn kind(&self) -> MethodKind {
        MethodKind::Prunelora
    }

    fn default_epochs(&self) -> usize {
        5
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let respect_mask = context.config.lora_respect_mask;
        let keep = context.config.mask_mode() == MaskMode::Keep;
        let mut model = context.start()?;
        let mask = prune::prune_l2(
            &mut model,
            &prune_patterns(context.model_config),
            context.config.prune_amount,
            respect_mask || keep,
        )?;
        let model = adapters::with_adapters(context, model)?;
        let trainable = trainable_params(&model);
        let mut hook = |mut model: Classifier| -> Result<Classifier, UnlearnError> {
            if respect_mask || keep {
                prune::apply_mask(&mut model, &mask, keep, respect_mask)?;
            }
            Ok(model)
        };
        let (mut model, history) =
            fine_tune_on_retain(context, model, "prunelora", epochs, &mut hook)?;
        merge(&mut model);
        if respect_mask {
            // Exactly zero after merging, not only up to rounding.
            prune::apply_mask(&mut model, &mask, true, false)?;
        }
        Ok(MethodOutput {
            model,
            epochs,
            prune_mask: Some(mask),
            history,
            trainable_params: trainable,
        })
    }
}
