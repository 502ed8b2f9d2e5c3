//! Turning logits into what a person reads: probabilities, the top classes, and how a forgetting
//! run changed them. Pure functions over `f32` slices, shared by `lethe predict` and the browser
//! demo so both show the same numbers.

use burn::tensor::{Device, Tensor};

use crate::data::DatasetKind;
use crate::model::Classifier;
use crate::preprocess::normalize_images;

/// Softmax of one row of logits, computed stably (the largest logit is subtracted first).
/// An empty slice gives an empty vector.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let Some(max) = logits.iter().copied().reduce(f32::max) else {
        return Vec::new();
    };
    let exps: Vec<f32> = logits.iter().map(|&logit| (logit - max).exp()).collect();
    let total: f32 = exps.iter().sum();
    exps.into_iter().map(|value| value / total).collect()
}

/// The `k` most probable classes as `(class, probability)`, most probable first; ties keep the
/// lower class index first. `k` larger than the number of classes returns them all.
pub fn top_k(probabilities: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = probabilities.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(k);
    ranked
}

/// The most probable class, or `None` for an empty slice.
pub fn predicted_class(probabilities: &[f32]) -> Option<usize> {
    top_k(probabilities, 1).first().map(|&(class, _)| class)
}

/// One class's probability before and after forgetting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassChange {
    /// Class index.
    pub class: usize,
    /// Probability under the original model.
    pub before: f32,
    /// Probability under the unlearned model.
    pub after: f32,
}

impl ClassChange {
    /// `after − before` (negative: the unlearned model is less sure of this class).
    pub fn delta(&self) -> f32 {
        self.after - self.before
    }
}

/// Pair the original and the unlearned model's probabilities class by class. The shorter slice
/// decides the length (both come from models of the same dataset, so they are equal in practice).
pub fn compare(before: &[f32], after: &[f32]) -> Vec<ClassChange> {
    before
        .iter()
        .zip(after)
        .enumerate()
        .map(|(class, (&before, &after))| ClassChange {
            class,
            before,
            after,
        })
        .collect()
}

/// The model's logits for planar `u8` images (`[n, c, h, w]` row-major, as
/// [`normalize_images`] takes them), in eval mode.
///
/// Shapes: `pixels.len() = n·c·h·w` → `[n, num_classes]`. Read the values with `into_data`
/// natively or `into_data_async` in the browser.
pub fn logits(
    model: &Classifier,
    pixels: &[u8],
    dataset: DatasetKind,
    device: &Device,
) -> Tensor<2> {
    model.forward(normalize_images(pixels, dataset, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn softmax_of_hand_worked_logits() {
        // e^0 : e^ln2 : e^ln(1) = 1 : 2 : 1 → 0.25, 0.5, 0.25.
        let probabilities = softmax(&[0.0, 2f32.ln(), 0.0]);
        assert!(close(&probabilities, &[0.25, 0.5, 0.25]));
    }

    #[test]
    fn softmax_is_stable_for_huge_logits() {
        let probabilities = softmax(&[1000.0, 1000.0]);
        assert!(close(&probabilities, &[0.5, 0.5]));
        let probabilities = softmax(&[-1000.0, 0.0]);
        assert!(close(&probabilities, &[0.0, 1.0]));
        assert!(softmax(&[]).is_empty());
    }

    #[test]
    fn top_k_orders_and_breaks_ties_by_class() {
        let ranked = top_k(&[0.1, 0.4, 0.1, 0.4], 3);
        assert_eq!(ranked, vec![(1, 0.4), (3, 0.4), (0, 0.1)]);
        assert_eq!(top_k(&[0.3, 0.7], 5).len(), 2);
        assert_eq!(predicted_class(&[0.2, 0.5, 0.3]), Some(1));
        assert_eq!(predicted_class(&[]), None);
    }

    #[test]
    fn compare_pairs_classes_and_signs_the_delta() {
        let changes = compare(&[0.7, 0.2, 0.1], &[0.05, 0.6, 0.35]);
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0].class, 0);
        assert!((changes[0].delta() + 0.65).abs() < 1e-6);
        assert!((changes[1].delta() - 0.4).abs() < 1e-6);
    }
}
