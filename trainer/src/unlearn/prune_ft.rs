//! Prune+FT (spec §3.3): structured L2 pruning of half the output channels of the target layers
//! (ResNets every conv; ViTs the last attention output projection and the head), then FT.
//!
//! `--mask drop` (default, the original code) lets pruned weights regrow; `--mask keep` (Jia et
//! al.) re-zeroes them after every step, and then also zeroes the pruned channels' BatchNorm
//! γ/β (or bias) so they are truly removed.

use lethe_shared::adapt::prune::{self, MaskMode};
use lethe_shared::model::Classifier;

use super::ft::fine_tune_on_retain;
use super::{
    MethodKind, MethodOutput, TrainingData, UnlearnContext, UnlearnError, UnlearningMethod,
    prune_patterns, trainable_params,
};

/// Pruning, then fine-tuning on the retained data.
pub struct PruneFineTune;

impl UnlearningMethod for PruneFineTune {
    fn kind(&self) -> MethodKind {
        MethodKind::PruneFt
    }

    /// Fine-tunes the pruned model on D_r alone.
    fn trains_on(&self) -> TrainingData {
        TrainingData::Retain
    }

    fn default_epochs(&self) -> usize {
        5
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let keep = context.config.mask_mode() == MaskMode::Keep;
        let mut model = context.start()?;
        let mask = prune::prune_l2(
            &mut model,
            &prune_patterns(context),
            context.config.prune_amount,
            keep,
        )?;
        let trainable = trainable_params(&model);
        let mut hook = |mut model: Classifier| -> Result<Classifier, UnlearnError> {
            if keep {
                prune::apply_mask(&mut model, &mask, true, false)?;
            }
            Ok(model)
        };
        let (model, history) = fine_tune_on_retain(context, model, "prune-ft", epochs, &mut hook)?;
        Ok(MethodOutput {
            model,
            epochs,
            prune_mask: Some(mask),
            history,
            trainable_params: trainable,
        })
    }
}
