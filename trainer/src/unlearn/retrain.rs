//! Retrain (spec §3.1): exact unlearning — train from scratch on D_r with the original-model
//! recipe of `lethe train` (SGD + cosine + crop/flip for ResNets, AdamW + warmup for ViTs).
//! The gold standard every other method is measured against.
//!
//! It runs through `lethe train`'s own loop in the method's work directory, so it checkpoints
//! every epoch, stops after `--pause-after` epochs when asked, and a rerun of a killed or paused
//! `lethe forget`/`lethe compare` resumes it where it stopped. A resumed run's wall time and
//! peak memory cover all its processes (read from the checkpoint), as for the other methods.

use lethe_shared::model::{Architecture, ModelConfig};
use lethe_shared::weights;

use super::checkpoint::Resumed;
use super::{
    MethodKind, MethodOutput, TrainingData, UnlearnContext, UnlearnError, UnlearningMethod,
    trainable_params,
};
use crate::train::{self, RetainOnly, TrainConfig, TrainOptions, TrainPaused};

/// Training from scratch on the retained data.
pub struct Retrain;

impl UnlearningMethod for Retrain {
    fn kind(&self) -> MethodKind {
        MethodKind::Retrain
    }

    /// Trains from scratch on D_r alone.
    fn trains_on(&self) -> TrainingData {
        TrainingData::Retain
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
        // A checkpoint of another run (other seed, split or subset) must not be resumed: `lethe
        // train --resume` would continue it with its own configuration.
        let saved = train::checkpointed_config(&context.work_dir).map_err(UnlearnError::Retrain)?;
        if let Some(saved) = saved
            && !config.same_run_as(&saved)
        {
            tracing::warn!(
                "retrain: {} holds a checkpoint of another run (configuration differs); starting \
                 from scratch",
                context.work_dir.display()
            );
            std::fs::remove_dir_all(&context.work_dir).map_err(|error| {
                UnlearnError::Retrain(anyhow::anyhow!(
                    "removing {}: {error}",
                    context.work_dir.display()
                ))
            })?;
        }
        let earlier =
            train::checkpoint_progress(&context.work_dir).map_err(UnlearnError::Retrain)?;
        if let Some(progress) = earlier {
            context.resumed.set(Some(Resumed {
                completed_epochs: progress.completed_epochs,
                totals: progress.totals(),
                resumes: progress.resumes,
            }));
        }
        let options = TrainOptions {
            out: context.work_dir.clone(),
            resume: earlier.is_some(),
            data_dir: context.data_dir.clone(),
            download: false,
            progress: context.progress,
            pause_after: context.pause_after,
        };
        let report = train::run(config, &options).map_err(|error| {
            match error.downcast_ref::<TrainPaused>() {
                Some(paused) => UnlearnError::Paused {
                    method: MethodKind::Retrain.name(),
                    completed: paused.completed,
                    total: paused.total,
                    checkpoint: paused.checkpoint.clone(),
                },
                None => UnlearnError::Retrain(error),
            }
        })?;
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
