//! GA (spec §3.7): gradient ascent — maximise cross-entropy on D_f with plain SGD, lr 1e-4,
//! 5 epochs. D_r is never seen.

use burn::optim::SgdConfig;

use super::{
    LoopPlan, MethodKind, MethodOutput, TrainingData, UnlearnContext, UnlearnError,
    UnlearningMethod, cross_entropy, no_hook, train_loop, trainable_params,
};

/// Gradient ascent on the forget set.
pub struct GradientAscent;

impl UnlearningMethod for GradientAscent {
    fn kind(&self) -> MethodKind {
        MethodKind::Ga
    }

    /// Ascends the loss on D_f alone.
    fn trains_on(&self) -> TrainingData {
        TrainingData::Forget
    }

    fn default_epochs(&self) -> usize {
        5
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let learning_rate = context.learning_rate(1e-4);
        let model = context.start()?;
        let trainable = trainable_params(&model);
        let plan = LoopPlan {
            method: "ga",
            epochs,
            primary: context.forget_samples(),
            secondary: None,
            optimizer: SgdConfig::new().init(),
            learning_rate: &|_| learning_rate,
            resumable: true,
        };
        let (model, history) = train_loop(
            context,
            model,
            plan,
            &mut |model, batch, _, _| {
                -cross_entropy(model.forward(batch.images.clone()), batch.labels.clone())
            },
            &mut no_hook,
        )?;
        Ok(MethodOutput {
            model,
            epochs,
            prune_mask: None,
            history,
            trainable_params: trainable,
        })
    }
}
