//! PruneLoRA (spec §3.5; arXiv 2411.11907): prune (as Prune+FT), then LoRA on the pruned model;
//! only the adapters (and a ResNet's classifier) train, on D_r with the shared set-up.
//!
//! Pruned base rows stay zero (the base is frozen) but the LoRA delta can write into them.
//! `--lora-respect-mask` masks the delta too and prunes with dead channels (BatchNorm γ/β of
//! pruned channels zeroed — frozen, so they stay zero), so pruned channels stay dead and
//! `--slim` can remove them physically.

use lethe_shared::adapt::prune::MaskMode;
use lethe_shared::adapt::prunelora::{PruneLoraSetup, PrunedAdapters};
use lethe_shared::model::Classifier;

use super::ft::fine_tune_on_retain;
use super::{
    MethodKind, MethodOutput, TrainingData, UnlearnContext, UnlearnError, UnlearningMethod,
    adapters, prune_patterns, trainable_params,
};

/// Prune, then adapt, then unlearn.
pub struct PruneLora;

impl UnlearningMethod for PruneLora {
    fn kind(&self) -> MethodKind {
        MethodKind::Prunelora
    }

    /// Trains the adapters on D_r alone.
    fn trains_on(&self) -> TrainingData {
        TrainingData::Retain
    }

    fn default_epochs(&self) -> usize {
        5
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let setup = PruneLoraSetup {
            prune_patterns: prune_patterns(context),
            prune_amount: context.config.prune_amount,
            keep_mask: context.config.mask_mode() == MaskMode::Keep,
            respect_mask: context.config.lora_respect_mask,
            adapters: adapters::adapter_setup(context),
        };
        // The same set-up, step hook and finish as the page's live forgetting
        // (lethe_shared::live), inside the trainer's epoch loop.
        let (model, pruned) =
            PrunedAdapters::prepare(context.start()?, &setup, &context.training_device)?;
        adapters::log_adapted(&pruned.adapted);
        let trainable = trainable_params(&model);
        let mut hook = |model: Classifier| -> Result<Classifier, UnlearnError> {
            Ok(pruned.after_step(model)?)
        };
        let (model, history) = fine_tune_on_retain(context, model, "prunelora", epochs, &mut hook)?;
        let model = pruned.finish(model)?;
        Ok(MethodOutput {
            model,
            epochs,
            prune_mask: Some(pruned.mask),
            history,
            trainable_params: trainable,
        })
    }
}
