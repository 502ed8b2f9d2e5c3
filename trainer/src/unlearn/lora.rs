//! LoRA (spec §3.4): base weights frozen, adapters `y = W₀x + (α/r)·B·A·x` fine-tuned on D_r
//! with the shared set-up; ResNets also train the classifier fully and keep updating
//! BatchNorm's running statistics. The adapters are merged into the weights at the end.

use lethe_shared::adapt::lora::merge;

use super::ft::fine_tune_on_retain;
use super::{
    MethodKind, MethodOutput, TrainingData, UnlearnContext, UnlearnError, UnlearningMethod,
    adapters, no_hook, trainable_params,
};

/// LoRA fine-tuning on the retained data.
pub struct Lora;

impl UnlearningMethod for Lora {
    fn kind(&self) -> MethodKind {
        MethodKind::Lora
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
        let model = adapters::with_adapters(context, context.start()?)?;
        let trainable = trainable_params(&model);
        let (mut model, history) =
            fine_tune_on_retain(context, model, "lora", epochs, &mut no_hook)?;
        merge(&mut model);
        Ok(MethodOutput {
            model,
            epochs,
            prune_mask: None,
            history,
            trainable_params: trainable,
        })
    }
}
