//! The metrics of spec §4 for one model: UA, RA, TA, MIA-Efficacy (RBF-SVM on true-class
//! confidence), MIA-loss (logistic regression on per-sample loss), per-class test accuracy and,
//! given the Retrain model, activation distances and Avg. Gap.

use burn::module::Module;
use burn::tensor::Device;
use lethe_shared::data::ImageDataset;
use lethe_shared::data::split::UnlearningSplit;
use lethe_shared::metrics::{
    self, MetricsError, UnlearningScores, mia_efficacy_loss_logistic, mia_efficacy_svm_from_splits,
};
use lethe_shared::model::Classifier;
use lethe_shared::preprocess::normalize_images;
use serde::{Deserialize, Serialize};

/// Labels and logits of one sample set.
#[derive(Debug, Clone, Default)]
pub struct SetOutputs {
    /// True labels.
    pub labels: Vec<u8>,
    /// Logits, row-major `[n × classes]`.
    pub logits: Vec<f32>,
}

/// A model's outputs on the four sets of a split.
#[derive(Debug, Clone, Default)]
pub struct ModelOutputs {
    /// D_r.
    pub retain: SetOutputs,
    /// D_f.
    pub forget: SetOutputs,
    /// test_r.
    pub test_retain: SetOutputs,
    /// test_f (empty for random forgetting).
    pub test_forget: SetOutputs,
}

impl ModelOutputs {
    /// Run `model` (inference mode) over the split's four sets on `device`.
    pub fn compute(
        model: &Classifier,
        train_set: &ImageDataset,
        test_set: &ImageDataset,
        split: &UnlearningSplit,
        batch_size: usize,
        device: &Device,
    ) -> Self {
        let model = model.valid();
        let run = |dataset: &ImageDataset, indices: &[usize]| SetOutputs {
            labels: indices.iter().map(|&index| dataset.label(index)).collect(),
            logits: logits(&model, dataset, indices, batch_size, device),
        };
        Self {
            retain: run(train_set, &split.retain),
            forget: run(train_set, &split.forget),
            test_retain: run(test_set, &split.test_retain),
            test_forget: run(test_set, &split.test_forget),
        }
    }
}

/// Logits of `indices` of `dataset`, row-major `[n × classes]`.
pub fn logits(
    model: &Classifier,
    dataset: &ImageDataset,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
) -> Vec<f32> {
    let mut all = Vec::new();
    for chunk in indices.chunks(batch_size.max(1)) {
        let (pixels, _) = dataset.gather(chunk);
        let images = normalize_images(&pixels, dataset.kind, device);
        all.extend(model.forward(images).into_data().iter::<f32>());
    }
    all
}

/// Every number of one row of the report, in % unless said otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodMetrics {
    /// UA = 100 − Acc(D_f).
    pub ua: f64,
    /// MIA-Efficacy (RBF-SVM on true-class confidence; Jia et al.).
    pub mia_efficacy: f64,
    /// RA = Acc(D_r).
    pub ra: f64,
    /// TA = Acc(test_r) (class-wise) or Acc(test) (random).
    pub ta: f64,
    /// Acc(test_f): accuracy on the forgotten classes' test images (class-wise only).
    pub test_forget_accuracy: Option<f64>,
    /// MIA-loss (logistic regression on per-sample loss; the PruneLoRA code's variant).
    pub mia_loss: f64,
    /// Test accuracy of every class (test_r ∪ test_f).
    pub per_class_test_accuracy: Vec<Option<f64>>,
    /// Mean ‖softmax(f_u) − softmax(f_retrain)‖₂ over D_r (not in %).
    pub activation_distance_retain: Option<f64>,
    /// The same over D_f (not in %).
    pub activation_distance_forget: Option<f64>,
    /// Mean |method − Retrain| over UA, MIA-Efficacy, RA and TA.
    pub avg_gap: Option<f64>,
}

impl MethodMetrics {
    /// The four headline scores.
    pub fn scores(&self) -> UnlearningScores {
        UnlearningScores {
            ua: self.ua,
            mia_efficacy: self.mia_efficacy,
            ra: self.ra,
            ta: self.ta,
        }
    }
}

/// True-class confidences of D_f and test_r, for the MIA histograms.
#[derive(Debug, Clone, Default)]
pub struct Confidences {
    /// D_f.
    pub forget: Vec<f32>,
    /// test_r.
    pub test_retain: Vec<f32>,
}

/// MIA-loss's shadow sets (spec §4): 9,000 of D_r as members, 5,000 of test_r as non-members.
const MIA_LOSS_MEMBERS: usize = 9_000;
const MIA_LOSS_NON_MEMBERS: usize = 5_000;

/// Metrics of `outputs`; with `retrain` (the Retrain model's outputs and scores), also the
/// activation distances and Avg. Gap.
pub fn measure(
    outputs: &ModelOutputs,
    num_classes: usize,
    retrain: Option<(&ModelOutputs, &UnlearningScores)>,
) -> Result<(MethodMetrics, Confidences), MetricsError> {
    let accuracy = |set: &SetOutputs| -> Result<f64, MetricsError> {
        metrics::accuracy(
            &metrics::argmax_rows(&set.logits, num_classes)?,
            &set.labels,
        )
    };
    let probabilities = |set: &SetOutputs| metrics::softmax_rows(&set.logits, num_classes);
    let confidence = |set: &SetOutputs| -> Result<Vec<f32>, MetricsError> {
        metrics::true_class_confidence(&probabilities(set)?, &set.labels, num_classes)
    };
    let loss =
        |set: &SetOutputs| metrics::per_sample_cross_entropy(&set.logits, &set.labels, num_classes);

    let retain_confidence = confidence(&outputs.retain)?;
    let forget_confidence = confidence(&outputs.forget)?;
    let test_confidence = confidence(&outputs.test_retain)?;
    let mia_efficacy =
        mia_efficacy_svm_from_splits(&retain_confidence, &test_confidence, &forget_confidence)?;
    let retain_loss = loss(&outputs.retain)?;
    let test_loss = loss(&outputs.test_retain)?;
    let mia_loss = mia_efficacy_loss_logistic(
        &retain_loss[..retain_loss.len().min(MIA_LOSS_MEMBERS)],
        &test_loss[..test_loss.len().min(MIA_LOSS_NON_MEMBERS)],
        &loss(&outputs.forget)?,
    )?;

    let mut test_predictions = metrics::argmax_rows(&outputs.test_retain.logits, num_classes)?;
    let mut test_labels = outputs.test_retain.labels.clone();
    test_predictions.extend(metrics::argmax_rows(
        &outputs.test_forget.logits,
        num_classes,
    )?);
    test_labels.extend(&outputs.test_forget.labels);

    let mut result = MethodMetrics {
        ua: metrics::unlearning_accuracy(accuracy(&outputs.forget)?),
        mia_efficacy,
        ra: accuracy(&outputs.retain)?,
        ta: accuracy(&outputs.test_retain)?,
        test_forget_accuracy: if outputs.test_forget.labels.is_empty() {
            None
        } else {
            Some(accuracy(&outputs.test_forget)?)
        },
        mia_loss,
        per_class_test_accuracy: metrics::per_class_accuracy(
            &test_predictions,
            &test_labels,
            num_classes,
        )?,
        activation_distance_retain: None,
        activation_distance_forget: None,
        avg_gap: None,
    };
    if let Some((retrain_outputs, retrain_scores)) = retrain {
        result.activation_distance_retain = Some(metrics::activation_distance(
            &probabilities(&outputs.retain)?,
            &probabilities(&retrain_outputs.retain)?,
            num_classes,
        )?);
        result.activation_distance_forget = Some(metrics::activation_distance(
            &probabilities(&outputs.forget)?,
            &probabilities(&retrain_outputs.forget)?,
            num_classes,
        )?);
        result.avg_gap = Some(metrics::average_gap(&result.scores(), retrain_scores));
    }
    Ok((
        result,
        Confidences {
            forget: forget_confidence,
            test_retain: test_confidence,
        },
    ))
}
