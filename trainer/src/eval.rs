//! Accuracy of a classifier on (a subset of) a dataset: overall and per class.

use burn::tensor::{Device, Int, Tensor, TensorData};
use lethe_shared::data::ImageDataset;
use lethe_shared::metrics::{self, MetricsError};
use lethe_shared::model::Classifier;
use lethe_shared::preprocess::normalize_images;
use serde::{Deserialize, Serialize};

/// Accuracy figures, in %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Images evaluated.
    pub count: usize,
    /// Share of correct predictions, in %.
    pub accuracy: f64,
    /// Accuracy of each class in %, in label order (`None` for a class with no image).
    pub per_class_accuracy: Vec<Option<f64>>,
    /// Images of each class.
    pub per_class_count: Vec<usize>,
}

/// Labels as an integer tensor. Shapes: `n` → `[n]`.
pub fn label_tensor(labels: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let count = labels.len();
    Tensor::from_data(TensorData::new(labels, [count]), device)
}

/// Predicted classes for `indices` of `dataset` (in that order), in batches of `batch_size`.
///
/// `device` must be a plain (non-autodiff) device; the model runs on Lethe's inference path
/// ([`Classifier::for_inference`]: inference mode, BatchNorm folded).
pub fn predict(
    model: &Classifier,
    dataset: &ImageDataset,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
) -> Vec<u8> {
    let model = model.for_inference();
    let mut predictions = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(batch_size.max(1)) {
        let (pixels, _) = dataset.gather(chunk);
        let images = normalize_images(&pixels, dataset.kind, device);
        let classes = model.forward(images).argmax(1).into_data();
        predictions.extend(
            classes
                .iter::<i64>()
                .map(|class| u8::try_from(class).unwrap_or(u8::MAX)),
        );
    }
    predictions
}

/// Evaluate `model` on `indices` of `dataset` (all images when `None`).
///
/// # Errors
/// When there is nothing to evaluate (an empty index list).
pub fn evaluate(
    model: &Classifier,
    dataset: &ImageDataset,
    indices: Option<&[usize]>,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation, MetricsError> {
    let all: Vec<usize>;
    let indices = match indices {
        Some(indices) => indices,
        None => {
            all = (0..dataset.len()).collect();
            &all
        }
    };
    let predictions = predict(model, dataset, indices, batch_size, device);
    let labels: Vec<u8> = indices.iter().map(|&index| dataset.label(index)).collect();
    let classes = dataset.kind.num_classes();
    let mut per_class_count = vec![0usize; classes];
    for &label in &labels {
        per_class_count[usize::from(label)] += 1;
    }
    Ok(Evaluation {
        count: indices.len(),
        accuracy: metrics::accuracy(&predictions, &labels)?,
        per_class_accuracy: metrics::per_class_accuracy(&predictions, &labels, classes)?,
        per_class_count,
    })
}

/// A per-class accuracy table for the terminal.
pub fn format_per_class(evaluation: &Evaluation, class_names: &[&str]) -> String {
    let mut table = String::from("class            accuracy   images\n");
    for (index, name) in class_names.iter().enumerate() {
        let accuracy = match evaluation.per_class_accuracy.get(index).copied().flatten() {
            Some(accuracy) => format!("{accuracy:>7.2}%"),
            None => format!("{:>8}", "-"),
        };
        table.push_str(&format!(
            "{index} {name:<14} {accuracy}   {:>6}\n",
            evaluation.per_class_count.get(index).copied().unwrap_or(0),
        ));
    }
    table.push_str(&format!(
        "  {:<14} {:>7.2}%   {:>6}\n",
        "all", evaluation.accuracy, evaluation.count
    ));
    table
}
