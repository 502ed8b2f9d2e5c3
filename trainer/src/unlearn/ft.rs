//! FT (spec §3.2): fine-tune every parameter on D_r — the shared PruneLoRA set-up: cross-entropy
//! on D_r only, Adam lr 1e-3 (β 0.9 / 0.999, no weight decay, no schedule), batch 128, no
//! augmentation.

use lethe_shared::adapt::prunelora::retain_optimizer;
use lethe_shared::model::Classifier;

use super::{
    AfterStep, EpochLog, LoopPlan, MethodKind, MethodOutput, TrainingData, UnlearnContext,
    UnlearnError, UnlearningMethod, cross_entropy, no_hook, train_loop, trainable_params,
};

/// Fine-tuning on the retained data.
pub struct FineTune;

impl UnlearningMethod for FineTune {
    fn kind(&self) -> MethodKind {
        MethodKind::Ft
    }

    /// Fine-tunes on D_r alone.
    fn trains_on(&self) -> TrainingData {
        TrainingData::Retain
    }

    fn default_epochs(&self) -> usize {
        5
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let model = context.start()?;
        let trainable = trainable_params(&model);
        let (model, history) = fine_tune_on_retain(context, model, "ft", epochs, &mut no_hook)?;
        Ok(MethodOutput {
            model,
            epochs,
            prune_mask: None,
            history,
            trainable_params: trainable,
        })
    }
}

/// The shared set-up of FT, Prune+FT, LoRA and PruneLoRA: cross-entropy on D_r with Adam at a
/// constant learning rate (1e-3 unless configured), whatever parameters of `model` require a
/// gradient, `after_step` after every step.
pub(crate) fn fine_tune_on_retain(
    context: &UnlearnContext<'_>,
    model: Classifier,
    method: &'static str,
    epochs: usize,
    after_step: &mut AfterStep<'_>,
) -> Result<(Classifier, Vec<EpochLog>), UnlearnError> {
    let learning_rate = context.learning_rate(1e-3);
    let plan = LoopPlan {
        method,
        epochs,
        primary: context.retain_samples(),
        secondary: None,
        optimizer: retain_optimizer(),
        learning_rate: &|_| learning_rate,
        resumable: true,
    };
    train_loop(
        context,
        model,
        plan,
        &mut |model, batch, _, _| {
            cross_entropy(model.forward(batch.images.clone()), batch.labels.clone())
        },
        after_step,
    )
}
