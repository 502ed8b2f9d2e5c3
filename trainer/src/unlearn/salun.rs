//! SalUn (spec §3.9; Fan et al., arXiv 2310.12508): a weight-saliency mask — the top 50 % of
//! `|∇θ CE(D_f)|` over all parameters, ranked globally — then RL (random wrong labels on D_f,
//! interleaved with D_r) where only salient weights move: after every step the non-salient
//! weights are reset to θ_o. SGD momentum 0.9, weight decay 5e-4, lr 0.013, 10 epochs.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use lethe_shared::model::Classifier;

use super::rl::{momentum_sgd, relabelled_stream};
use super::{
    Batch, LoopPlan, MethodKind, MethodOutput, TrainingData, UnlearnContext, UnlearnError,
    UnlearningMethod, cross_entropy, train_loop, trainable_params,
};

/// Saliency-masked random labelling.
pub struct SalUn;

impl UnlearningMethod for SalUn {
    fn kind(&self) -> MethodKind {
        MethodKind::Salun
    }

    /// Saliency from D_f, then D_r and D_f with random labels.
    fn trains_on(&self) -> TrainingData {
        TrainingData::RetainAndForget
    }

    fn default_epochs(&self) -> usize {
        10
    }

    fn run(&self, context: &UnlearnContext<'_>) -> Result<MethodOutput, UnlearnError> {
        let epochs = context.epochs(self);
        let learning_rate = context.learning_rate(0.013);
        let model = context.start()?;
        // The saliency pass runs forward in training mode, which moves BatchNorm's running
        // statistics; on a copy of its own, unlearning starts from θ_o's statistics as in the
        // original code (its mask comes from a separate script). The copy's parameters carry
        // the same ids (both decoded from the same bytes), so the masks fit `model`.
        let masks = saliency_masks(context, &context.start()?)?;
        let salient: usize = masks.values().map(|mask| mask.salient).sum();
        tracing::info!(
            "SalUn: {salient} salient weights of {}",
            trainable_params(&model)
        );
        let plan = LoopPlan {
            method: "salun",
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
            &mut |model| Ok(model.map(&mut ResetNonSalient(&masks))),
        )?;
        Ok(MethodOutput {
            model,
            epochs,
            prune_mask: None,
            history,
            trainable_params: salient,
        })
    }
}

/// One parameter's saliency mask (flattened) and its original values outside the mask.
struct ParamMask {
    /// 1 for salient entries, 0 elsewhere; `[n]`.
    keep: Tensor<1>,
    /// θ_o · (1 − keep); `[n]`.
    frozen_part: Tensor<1>,
    /// Salient entries.
    salient: usize,
}

/// `|Σ_batches ∇θ CE(D_f)|` for every trainable parameter, thresholded at the global top
/// `salun_sparsity` share.
///
/// Deviation from the original (`Classification/generate_mask.py`): it calls `model.eval()`, so
/// its gradients see BatchNorm's running statistics; Burn's BatchNorm on an autodiff model
/// always normalises with the batch's statistics, so Lethe's gradients do too.
fn saliency_masks(
    context: &UnlearnContext<'_>,
    model: &Classifier,
) -> Result<HashMap<ParamId, ParamMask>, UnlearnError> {
    let device = &context.training_device;
    let mut sums: HashMap<ParamId, Tensor<1>> = HashMap::new();
    for chunk in context.forget_samples().chunks(context.config.batch_size) {
        let batch = Batch::new(context.train_set, chunk, device);
        let loss = cross_entropy(model.forward(batch.images), batch.labels);
        let gradients = GradientsParams::from_grads(loss.backward(), model);
        model.visit(&mut AccumulateGradients {
            gradients: &gradients,
            sums: &mut sums,
            device,
        });
    }
    let magnitudes: HashMap<ParamId, Tensor<1>> =
        sums.into_iter().map(|(id, sum)| (id, sum.abs())).collect();
    let mut all: Vec<f32> = magnitudes
        .values()
        .flat_map(|magnitude| {
            magnitude
                .clone()
                .into_data()
                .iter::<f32>()
                .collect::<Vec<_>>()
        })
        .collect();
    if all.is_empty() {
        return Err(UnlearnError::BadConfig(
            "SalUn: the model has no trainable parameter".into(),
        ));
    }
    let salient_count = ((all.len() as f64) * context.config.salun_sparsity)
        .round()
        .max(1.0) as usize;
    let position = all.len() - salient_count.min(all.len());
    let (_, threshold, _) = all.select_nth_unstable_by(position, f32::total_cmp);
    let threshold = *threshold;

    let originals = flat_values(model);
    let mut masks = HashMap::new();
    for (id, magnitude) in magnitudes {
        let Some(original) = originals.get(&id) else {
            continue;
        };
        let keep = magnitude.greater_equal_elem(threshold).float();
        let salient = keep.clone().sum().into_scalar::<f32>() as usize;
        let frozen_part = original.clone() * (keep.clone().neg() + 1.0);
        // Off the autodiff graph: see [`ResetNonSalient`].
        masks.insert(
            id,
            ParamMask {
                keep: keep.inner(),
                frozen_part: frozen_part.inner(),
                salient,
            },
        );
    }
    Ok(masks)
}

/// Adds each parameter's gradient (flattened, on the training device) to `sums`.
struct AccumulateGradients<'a> {
    gradients: &'a GradientsParams,
    sums: &'a mut HashMap<ParamId, Tensor<1>>,
    device: &'a Device,
}

impl ModuleVisitor for AccumulateGradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(gradient) = self.gradients.get::<D>(param.id) else {
            return;
        };
        let count = gradient.shape().num_elements();
        let flat = Tensor::<1>::from_data(gradient.reshape([count]).into_data(), self.device);
        let sum = match self.sums.remove(&param.id) {
            Some(sum) => sum + flat,
            None => flat,
        };
        self.sums.insert(param.id, sum);
    }
}

/// Every float parameter's current value, flattened and off the autodiff graph.
fn flat_values(model: &Classifier) -> HashMap<ParamId, Tensor<1>> {
    struct Values(HashMap<ParamId, Tensor<1>>);
    impl ModuleVisitor for Values {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val().inner();
            let count = value.shape().num_elements();
            self.0.insert(param.id, value.reshape([count]));
        }
    }
    let mut values = Values(HashMap::new());
    model.visit(&mut values);
    values.0
}

/// Resets every non-salient entry to θ_o.
///
/// The arithmetic runs on the inner backend and only the result is put back on the autodiff
/// graph as a fresh leaf. Done on autodiff tensors (even detached ones), every operation
/// registers a node that no backward pass ever consumes; burn-autodiff 0.22 frees such orphans
/// one level per backward pass and sweeps all of them each time, so a full-split run slowed
/// down epoch after epoch (epoch 4 took 952 s against epoch 3's 437 s, and `perf` put 86 % of
/// the time in `GraphCleaner::cleanup_orphaned_entries`).
struct ResetNonSalient<'a>(&'a HashMap<ParamId, ParamMask>);

impl ModuleMapper for ResetNonSalient<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(mask) = self.0.get(&param.id) else {
            return param;
        };
        param.map(|value| {
            let require_grad = value.is_require_grad();
            let autodiff = value.is_autodiff();
            let dims = value.dims();
            let count = value.shape().num_elements();
            let flat = value.inner().reshape([count]);
            let reset = (flat * mask.keep.clone() + mask.frozen_part.clone()).reshape(dims);
            let reset = if autodiff { reset.autodiff() } else { reset };
            reset.set_require_grad(require_grad)
        })
    }
}
