//! RFA — Residual Feature Alignment unlearning (spec §3.6; arXiv 2411.08443, no public code).
//!
//! LoRA adapters (the LoRA method's targets) split each adapted layer's output into the
//! pre-trained part `W₀x` and the residual `r_l(x) = (α/r)·B·A·x`. Lethe's stated
//! interpretation of the paper's objective (its exact loss is not public):
//!
//! `L = λ_r·E_{D_r}[Σ_l ‖r_l(x)‖²/dim_l] + E_{D_r}[CE] + λ_f·E_{x∈D_f}[‖h(x) − h_o(x′)‖²]`
//!
//! with `h` the adapted model's penultimate features, `h_o` the original model's, and `x′` a
//! retained image of a different class drawn at random (feature-level relabelling): residuals
//! stay near zero on retained data and move the forgotten data's features elsewhere. Defaults
//! λ_r = λ_f = 1 (`--rfa-lambda-retain`, `--rfa-lambda-forget`); Adam lr 1e-3, 5 epochs, one
//! D_f batch with every D_r batch.

use std::cell::RefCell;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::Tensor;
use lethe_shared::adapt::lora::merge;
use lethe_shared::model::Taps;
use lethe_shared::preprocess::normalize_images;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{
    LoopPlan, MethodKind, MethodOutput, TrainingData, UnlearnContext, UnlearnError,
    UnlearningMethod, adapters, cross_entropy, no_hook, train_loop, trainable_params,
};

/// Residual Feature Alignment.
pub struct ResidualFeatureAlignment;

impl UnlearningMethod for ResidualFeatureAlignment {
    fn kind(&self) -> MethodKind {
        MethodKind::Rfa
    }

    /// Aligns residuals on D_r and shifts them on D_f.
    fn trains_on(&self) -> TrainingData {
        TrainingData::RetainAndForget
    }

    fn default_epochs(&self) -> usize {
        5
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let learning_rate = context.learning_rate(1e-3);
        let (lambda_retain, lambda_forget) = (
            context.config.rfa_lambda_retain,
            context.config.rfa_lambda_forget,
        );
        // θ_o in inference mode (BatchNorm on running statistics), for the targets h_o(x′).
        let reference = context.start()?.valid();
        let inference_device = context.device.clone();
        let classes = context.train_set.kind.num_classes();
        let mut retain_by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
        for &index in &context.split.retain {
            retain_by_class[usize::from(context.train_set.label(index))].push(index);
        }
        let rng = RefCell::new(StdRng::seed_from_u64(context.config.seed ^ 0x00F0_A11C));
        let model = adapters::with_adapters(context, context.start()?)?;
        let trainable = trainable_params(&model);
        let plan = LoopPlan {
            method: "rfa",
            epochs,
            primary: context.retain_samples(),
            secondary: Some(context.forget_samples()),
            optimizer: AdamConfig::new().init(),
            learning_rate: &|_| learning_rate,
            // The loss draws each step's x′ from its own generator, which the loop cannot
            // replay: a killed RFA run starts again from scratch (5 epochs, like FT).
            resumable: false,
        };
        let mut loss_fn = |model: &lethe_shared::model::Classifier,
                           retain: &super::Batch,
                           forget: Option<&super::Batch>,
                           _: f64| {
            let mut taps = Taps::recording();
            let (_, logits) = model.forward_tapped(retain.images.clone(), &mut taps);
            let mut loss = cross_entropy(logits, retain.labels.clone());
            for energy in taps.into_residual_energy() {
                loss = loss + energy * lambda_retain;
            }
            let Some(forget) = forget else {
                return loss;
            };
            // x′: a random retained image of another class for every forgotten image.
            let partners: Vec<usize> = {
                let mut rng = rng.borrow_mut();
                forget
                    .samples
                    .iter()
                    .filter_map(|sample| {
                        let own = usize::from(context.train_set.label(sample.index));
                        let others: Vec<usize> = (0..classes)
                            .filter(|&c| c != own && !retain_by_class[c].is_empty())
                            .collect();
                        if others.is_empty() {
                            return None;
                        }
                        let class = others[rng.random_range(0..others.len())];
                        let pool = &retain_by_class[class];
                        Some(pool[rng.random_range(0..pool.len())])
                    })
                    .collect()
            };
            if partners.len() != forget.samples.len() {
                return loss;
            }
            let (pixels, _) = context.train_set.gather(&partners);
            let target = reference.features(normalize_images(
                &pixels,
                context.train_set.kind,
                &inference_device,
            ));
            let target = Tensor::<2>::from_data(target.into_data(), &context.training_device);
            let (features, _) = model.forward_tapped(forget.images.clone(), &mut Taps::off());
            let shift = (features - target).powi_scalar(2).sum_dim(1).mean();
            loss + shift * lambda_forget
        };
        let (mut model, history) = train_loop(context, model, plan, &mut loss_fn, &mut no_hook)?;
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
