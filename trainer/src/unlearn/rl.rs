//! RL (spec §3.8): random labels — cross-entropy on D_f relabelled with uniformly random *wrong*
//! labels, interleaved with cross-entropy on D_r (one shuffled stream of both, as Jia et al.'s
//! code concatenates the two sets). Lethe's defaults, which the spec leaves open: SGD momentum
//! 0.9, weight decay 5e-4, lr 0.01, 10 epochs.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{ModuleOptimizer, SgdConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{
    LoopPlan, MethodKind, MethodOutput, Sample, TrainingData, UnlearnContext, UnlearnError,
    UnlearningMethod, cross_entropy, no_hook, train_loop, trainable_params,
};

/// Random relabelling of the forget set.
pub struct RandomLabels;

impl UnlearningMethod for RandomLabels {
    fn kind(&self) -> MethodKind {
        MethodKind::Rl
    }

    /// Trains on D_r and on D_f with random labels.
    fn trains_on(&self) -> TrainingData {
        TrainingData::RetainAndForget
    }

    fn default_epochs(&self) -> usize {
        10
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let learning_rate = context.learning_rate(0.01);
        let model = context.start()?;
        let trainable = trainable_params(&model);
        let plan = LoopPlan {
            method: "rl",
            epochs,
            primary: relabelled_stream(context),
            secondary: None,
            optimizer: momentum_sgd(),
            learning_rate: &|_| learning_rate,
            resumable: true,
        };
        let (model, history) = train_loop(
            context,
            model,
            plan,
            &mut |model, batch, _, _| {
                cross_entropy(model.forward(batch.images.clone()), batch.labels.clone())
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

/// D_r with true labels followed by D_f with a uniformly random wrong label each (seeded).
pub(crate) fn relabelled_stream(context: &UnlearnContext<'_>) -> Vec<Sample> {
    let classes = context.train_set.kind.num_classes() as u8;
    let mut rng = StdRng::seed_from_u64(context.config.seed ^ 0xA11_1ABE1);
    let mut stream = context.retain_samples();
    stream.extend(context.forget_samples().into_iter().map(|sample| {
        // A draw from the other classes-1 labels, shifted past the true one.
        let draw = rng.random_range(0..classes - 1);
        Sample {
            index: sample.index,
            label: if draw >= sample.label { draw + 1 } else { draw },
        }
    }));
    stream
}

/// SGD with momentum 0.9 and weight decay 5e-4 (RL, SalUn, ℓ1-sparse).
pub(crate) fn momentum_sgd() -> ModuleOptimizer {
    SgdConfig::new()
        .with_momentum(Some(MomentumConfig {
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
        }))
        .with_weight_decay(Some(WeightDecayConfig::new(5e-4)))
        .init()
}
