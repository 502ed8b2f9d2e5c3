//! Accuracy of a classifier on (a subset of) a dataset: overall and per class.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use lethe_shared::data::ImageDataset;
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
    /// Accuracy of each class in %, in label order (NaN-free: 0 images of a class gives 0).
    pub per_class_accuracy: Vec<f64>,
    /// Images of each class.
    pub per_class_count: Vec<usize>,
}

/// Copy the planar pixels and the labels of `indices` out of `dataset`.
pub fn gather(dataset: &ImageDataset, indices: &[usize]) -> (Vec<u8>, Vec<i64>) {
    let mut pixels = Vec::with_capacity(indices.len() * dataset.image_bytes());
    let mut labels = Vec::with_capacity(indices.len());
    for &index in indices {
        pixels.extend_from_slice(dataset.image(index));
        labels.push(i64::from(dataset.label(index)));
    }
    (pixels, labels)
}

/// Labels as an integer tensor. Shapes: `n` → `[n]`.
pub fn label_tensor(labels: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let count = labels.len();
    Tensor::from_data(TensorData::new(labels, [count]), device)
}

/// Predicted classes for `indices` of `dataset` (in that order), in batches of `batch_size`.
///
/// `device` must be a plain (non-autodiff) device; the model is switched to inference mode.
pub fn predict(
    model: &Classifier,
    dataset: &ImageDataset,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
) -> Vec<u8> {
    let model = model.valid();
    let mut predictions = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(batch_size.max(1)) {
        let (pixels, _) = gather(dataset, chunk);
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
pub fn evaluate(
    model: &Classifier,
    dataset: &ImageDataset,
    indices: Option<&[usize]>,
    batch_size: usize,
    device: &Device,
) -> Evaluation {
    let all: Vec<usize>;
    let indices = match indices {
        Some(indices) => indices,
        None => {
            all = (0..dataset.len()).collect();
            &all
        }
    };
    let predictions = predict(model, dataset, indices, batch_size, device);
    let classes = dataset.kind.num_classes();
    let mut correct = vec![0usize; classes];
    let mut total = vec![0usize; classes];
    for (&index, &predicted) in indices.iter().zip(&predictions) {
        let label = usize::from(dataset.label(index));
        total[label] += 1;
        if usize::from(predicted) == label {
            correct[label] += 1;
        }
    }
    let percent = |hits: usize, count: usize| {
        if count == 0 {
            0.0
        } else {
            100.0 * hits as f64 / count as f64
        }
    };
    Evaluation {
        count: indices.len(),
        accuracy: percent(correct.iter().sum(), indices.len()),
        per_class_accuracy: correct
            .iter()
            .zip(&total)
            .map(|(&hits, &count)| percent(hits, count))
            .collect(),
        per_class_count: total,
    }
}

/// A per-class accuracy table for the terminal.
pub fn format_per_class(evaluation: &Evaluation, class_names: &[&str]) -> String {
    let mut table = String::from("class            accuracy   images\n");
    for (index, name) in class_names.iter().enumerate() {
        table.push_str(&format!(
            "{index} {name:<14} {:>7.2}%   {:>6}\n",
            evaluation
                .per_class_accuracy
                .get(index)
                .copied()
                .unwrap_or(0.0),
            evaluation.per_class_count.get(index).copied().unwrap_or(0),
        ));
    }
    table.push_str(&format!(
        "  {:<14} {:>7.2}%   {:>6}\n",
        "all", evaluation.accuracy, evaluation.count
    ));
    table
}
