//! Retrain (spec §3.1): exact unlearning — train from scratch on D_r with the original-model
//! recipe of `lethe train` (SGD + cosine + crop/flip for ResNets, AdamW + warmup for ViTs).
//! The gold standard every other method is measured against.
//!
//! It runs through `lethe train`'s own loop in the method's work directory, so it checkpoints
//! every epoch and a killed `lethe compare` resumes it where it stopped.

use lethe_shared::model::{Architecture, ModelConfig};
use lethe_shared::weights;

use super::{
    MethodKind, MethodOutput, UnlearnContext, UnlearnError, UnlearningMethod, trainable_params,
};
use crate::train::{self, RetainOnly, TrainConfig, TrainOptions};

/// Training from scratch on the retained data.
pub struct Retrain;

impl UnlearningMethod for Retrain {
    fn kind(&self) -> MethodKind {
        MethodKind::Retrain
    }

    fn default_epochs(&self) -> usize {
        12
    }

    fn default_epochs_for(&self, model: &ModelConfig) -> usize {
        match model.architecture {
            Architecture::ResNet(_) => 12,
            Architecture::Vit(_) => 30,
        }
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let model_config = context.model_config;
        let mut config = TrainConfig::recipe(model_config.preset, model_config.dataset, epochs);
        config.seed = context.config.seed;
        config.backend = context.config.backend;
        config.train_subset = context.config.limits.retain;
        config.test_subset = context.config.limits.test;
        config.retain_only = Some(RetainOnly {
            forget: context.config.forget.clone(),
            validation: context.config.validation,
        });
        let resume = train::has_checkpoint(&context.work_dir);
        let options = TrainOptions {
            out: context.work_dir.clone(),
            resume,
            data_dir: context.data_dir.clone(),
            download: false,
            progress: context.progress,
        };
        let report = train::run(config, &options).map_err(UnlearnError::Retrain)?;
        let (_, model) = weights::load_run(&context.work_dir, &context.training_device)?;
        let trainable = trainable_params(&model);
        Ok(MethodOutput {
            model,
            epochs,
            prune_mask: None,
            history: report
                .history
                .iter()
                .map(|record| super::EpochLog {
                    epoch: record.epoch,
                    loss: record.train_loss,
                    seconds: record.seconds,
                })
                .collect(),
            trainable_params: trainable,
        })
    }
}
