//! Turning raw pixels into model input: the one normalisation shared by the trainer and the
//! browser, so both see bit-identical tensors.

use burn::tensor::{Device, Tensor, TensorData};

use crate::data::DatasetKind;

/// Normalise planar `u8` images (`[n, channels, h, w]`, row-major) into the model's input
/// tensor: `(pixel / 255 − mean_c) / std_c` with the dataset's per-channel statistics.
///
/// Shapes: `pixels.len() = n·c·h·w` → `[n, c, h, w]`.
///
/// # Panics
/// If `pixels.len()` is not a multiple of one image's size for `dataset`.
pub fn normalize_images(pixels: &[u8], dataset: DatasetKind, device: &Device) -> Tensor<4> {
    let (channels, size) = (dataset.channels(), dataset.image_size());
    let plane = size * size;
    let image = channels * plane;
    assert!(
        pixels.len().is_multiple_of(image),
        "pixel buffer of {} bytes is not a whole number of {image}-byte images",
        pixels.len()
    );
    let count = pixels.len() / image;
    let (mean, std) = (dataset.mean(), dataset.std());
    let values: Vec<f32> = pixels
        .iter()
        .enumerate()
        .map(|(index, &pixel)| {
            let channel = (index % image) / plane;
            (f32::from(pixel) / 255.0 - mean[channel]) / std[channel]
        })
        .collect();
    Tensor::from_data(
        TensorData::new(values, [count, channels, size, size]),
        device,
    )
}
