//! Structured L2 pruning of output channels (spec §3.3): for each output channel / row `i` of a
//! target layer take `‖W[i, …]‖₂`, and zero the `round(amount · out)` channels with the smallest
//! norm — what PyTorch's `prune.ln_structured(n=2, dim=0)` does in the PruneLoRA code.
//!
//! `round` is Python's (half to even), as in `torch.nn.utils.prune`; ties between equal norms
//! prune the lower channel index first (PyTorch leaves that order to `topk`).

use burn::tensor::{Tensor, TensorData};

/// Number of channels `prune.ln_structured` removes: `round_half_even(amount · channels)`.
pub fn channels_to_prune(channels: usize, amount: f64) -> usize {
    let exact = amount.clamp(0.0, 1.0) * channels as f64;
    let floor = exact.floor();
    let rounded = if (exact - floor - 0.5).abs() < 1e-12 {
        // Exactly half way: to the even neighbour.
        if (floor as usize).is_multiple_of(2) {
            floor
        } else {
            floor + 1.0
        }
    } else {
        exact.round()
    };
    (rounded as usize).min(channels)
}

/// Keep-mask (1 keep, 0 pruned) that prunes the `channels_to_prune(norms.len(), amount)`
/// channels of smallest norm.
pub fn l2_keep_mask(norms: &[f32], amount: f64) -> Vec<f32> {
    let mut order: Vec<usize> = (0..norms.len()).collect();
    // Stable sort: equal norms keep index order, so the lower index is pruned first.
    order.sort_by(|&left, &right| norms[left].total_cmp(&norms[right]));
    let mut mask = vec![1.0; norms.len()];
    for &channel in order.iter().take(channels_to_prune(norms.len(), amount)) {
        mask[channel] = 0.0;
    }
    mask
}

/// L2 norm of each output channel of a conv kernel. Shapes: `[out, in, k, k]` → `out` values.
pub fn conv_output_norms(weight: Tensor<4>) -> Vec<f32> {
    let [out_channels, ..] = weight.dims();
    (weight.clone() * weight)
        .reshape([out_channels as i64, -1])
        .sum_dim(1)
        .sqrt()
        .into_data()
        .iter::<f32>()
        .collect()
}

/// L2 norm of each output row of a linear weight in Burn's `[d_input, d_output]` layout
/// (PyTorch's row `i` of `[d_output, d_input]` is Burn's column `i`).
/// Shapes: `[d_input, d_output]` → `d_output` values.
pub fn linear_output_norms(weight: Tensor<2>) -> Vec<f32> {
    (weight.clone() * weight)
        .sum_dim(0)
        .sqrt()
        .into_data()
        .iter::<f32>()
        .collect()
}

/// Multiply each output channel of a conv kernel by its mask value.
/// Shapes: `[out, in, k, k]`, mask `out` → `[out, in, k, k]`.
pub fn mask_conv_output(weight: Tensor<4>, mask: &[f32]) -> Tensor<4> {
    let device = weight.device();
    let channels = mask.len();
    let mask = Tensor::<1>::from_data(TensorData::new(mask.to_vec(), [channels]), &device);
    weight * mask.reshape([channels, 1, 1, 1])
}

/// Multiply each output column of a linear weight by its mask value.
/// Shapes: `[d_input, d_output]`, mask `d_output` → `[d_input, d_output]`.
pub fn mask_linear_output(weight: Tensor<2>, mask: &[f32]) -> Tensor<2> {
    let device = weight.device();
    let channels = mask.len();
    let mask = Tensor::<1>::from_data(TensorData::new(mask.to_vec(), [channels]), &device);
    weight * mask.reshape([1, channels])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn rounding_matches_pytorch() {
        assert_eq!(channels_to_prune(16, 0.5), 8);
        assert_eq!(channels_to_prune(10, 0.5), 5);
        assert_eq!(channels_to_prune(5, 0.5), 2); // round(2.5) = 2 in Python
        assert_eq!(channels_to_prune(3, 0.5), 2); // round(1.5) = 2
        assert_eq!(channels_to_prune(7, 0.3), 2); // round(2.1)
        assert_eq!(channels_to_prune(4, 1.0), 4);
        assert_eq!(channels_to_prune(4, 0.0), 0);
    }

    #[test]
    fn the_lowest_norm_half_is_pruned() {
        assert_eq!(
            l2_keep_mask(&[3.0, 1.0, 4.0, 0.5], 0.5),
            vec![1.0, 0.0, 1.0, 0.0]
        );
        // Ties prune the lower index first.
        assert_eq!(
            l2_keep_mask(&[2.0, 2.0, 2.0, 9.0], 0.5),
            vec![0.0, 0.0, 1.0, 1.0]
        );
    }

    #[test]
    fn conv_channels_are_measured_and_zeroed_whole() {
        let device = Device::flex();
        // Channel c is filled with the value c + 1 → norm (c + 1)·√(2·2·2) and channel 0 and 1
        // are the lowest.
        let values: Vec<f32> = (0..4).flat_map(|c| vec![(c + 1) as f32; 8]).collect();
        let weight = Tensor::<4>::from_data(TensorData::new(values, [4, 2, 2, 2]), &device);
        let norms = conv_output_norms(weight.clone());
        for (channel, norm) in norms.iter().enumerate() {
            assert!((norm - (channel + 1) as f32 * 8f32.sqrt()).abs() < 1e-5);
        }
        let mask = l2_keep_mask(&norms, 0.5);
        assert_eq!(mask, vec![0.0, 0.0, 1.0, 1.0]);
        let pruned: Vec<f32> = mask_conv_output(weight, &mask)
            .into_data()
            .iter::<f32>()
            .collect();
        assert!(pruned[..16].iter().all(|&v| v == 0.0));
        assert!(pruned[16..].iter().all(|&v| v != 0.0));
    }

    #[test]
    fn linear_rows_are_burn_columns() {
        let device = Device::flex();
        // [d_input = 2, d_output = 3]: output row i is column i.
        let weight = Tensor::<2>::from_data(
            TensorData::new(vec![3.0f32, 0.0, 1.0, 4.0, 1.0, 0.0], [2, 3]),
            &device,
        );
        let norms = linear_output_norms(weight.clone());
        assert_eq!(norms, vec![5.0, 1.0, 1.0]);
        let mask = l2_keep_mask(&norms, 0.5); // round(1.5) = 2 pruned: outputs 1 and 2
        assert_eq!(mask, vec![1.0, 0.0, 0.0]);
        let pruned: Vec<f32> = mask_linear_output(weight, &mask)
            .into_data()
            .iter::<f32>()
            .collect();
        assert_eq!(pruned, vec![3.0, 0.0, 0.0, 4.0, 0.0, 0.0]);
    }
}
