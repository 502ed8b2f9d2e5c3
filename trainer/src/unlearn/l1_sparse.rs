//! ℓ1-sparse (spec §3.10; Jia et al., "Model Sparsity Can Simplify Machine Unlearning"):
//! fine-tune on D_r with loss `CE + γ_t·‖θ‖₁`, γ_t decaying linearly from γ to 0 over the run;
//! SGD momentum 0.9, weight decay 5e-4, lr 0.01, 10 epochs. The spec gives no γ; Lethe's
//! default is 5e-5 (`--l1-gamma`).

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use lethe_shared::model::Classifier;

use super::rl::momentum_sgd;
use super::{
    LoopPlan, MethodKind, MethodOutput, TrainingData, UnlearnContext, UnlearnError,
    UnlearningMethod, cross_entropy, no_hook, train_loop, trainable_params,
};

/// Sparsity-regularised fine-tuning.
pub struct L1Sparse;

impl UnlearningMethod for L1Sparse {
    fn kind(&self) -> MethodKind {
        MethodKind::L1Sparse
    }

    /// Fine-tunes on D_r alone, with the ℓ1 penalty.
    fn trains_on(&self) -> TrainingData {
        TrainingData::Retain
    }

    fn default_epochs(&self) -> usize {
        10
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let learning_rate = context.learning_rate(0.01);
        let gamma = context.config.l1_gamma;
        let model = context.start()?;
        let trainable = trainable_params(&model);
        let plan = LoopPlan {
            method: "l1-sparse",
            epochs,
            primary: context.retain_samples(),
            secondary: None,
            optimizer: momentum_sgd(),
            learning_rate: &|_| learning_rate,
            resumable: true,
        };
        let (model, history) = train_loop(
            context,
            model,
            plan,
            &mut |model, batch, _, done| {
                let loss = cross_entropy(model.forward(batch.images.clone()), batch.labels.clone());
                loss + l1_norm(model, &context.training_device) * (gamma * (1.0 - done))
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

/// `‖θ‖₁` over the parameters that train (BatchNorm running statistics excluded). Shape `[1]`.
fn l1_norm(model: &Classifier, device: &Device) -> Tensor<1> {
    struct Sum(Option<Tensor<1>>);
    impl ModuleVisitor for Sum {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            if value.is_require_grad() {
                let norm = value.abs().sum();
                self.0 = Some(match self.0.take() {
                    Some(total) => total + norm,
                    None => norm,
                });
            }
        }
    }
    let mut sum = Sum(None);
    model.visit(&mut sum);
    sum.0.unwrap_or_else(|| Tensor::zeros([1], device))
}
