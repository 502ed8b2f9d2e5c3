//! Any picture → what the model sees: decode (PNG, JPEG, GIF, WebP, BMP) with hard limits,
//! centre-crop to a square, resize to the dataset's size, and lay the pixels out planar for
//! [`crate::preprocess::normalize_images`].
//!
//! The browser's upload box and `lethe predict` both call [`prepare_image`], so a picture gives
//! bit-identical model input on both sides. An image that already has the model's size (such as
//! the shipped CIFAR-10 samples) is neither cropped nor resampled: its pixels reach the model
//! unchanged.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits};
use thiserror::Error;

use crate::data::DatasetKind;

/// Largest accepted width or height, in pixels.
pub const MAX_SIDE: u32 = 4096;
/// Largest accepted file, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Most memory the decoder may allocate (guards against decompression bombs).
pub const MAX_DECODE_ALLOC: u64 = 96 * 1024 * 1024;

/// Why a file could not be turned into model input.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ImageInputError {
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("the file is {bytes} bytes; images up to {} MiB are accepted", MAX_FILE_BYTES / (1024 * 1024))]
    FileTooLarge {
        /// The file's size.
        bytes: usize,
    },
    /// The bytes are no image format the decoder knows.
    #[error("this file is not an image (PNG, JPEG, GIF, WebP or BMP expected)")]
    NotAnImage,
    /// A known image format this build does not decode.
    #[error("{format} images are not supported: use PNG, JPEG, GIF, WebP or BMP")]
    Unsupported {
        /// The detected format.
        format: String,
    },
    /// Wider or taller than [`MAX_SIDE`], or would need more than [`MAX_DECODE_ALLOC`] to decode.
    #[error(
        "the image is too large to decode safely ({detail}); at most {MAX_SIDE}×{MAX_SIDE} pixels"
    )]
    TooLarge {
        /// What the decoder reported.
        detail: String,
    },
    /// A truncated or damaged file.
    #[error("the image could not be decoded: {0}")]
    Corrupt(String),
}

/// A picture at the model's input size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedImage {
    /// Width and height after cropping and resizing.
    pub size: usize,
    /// 3 (RGB) or 1 (grey).
    pub channels: usize,
    /// Pixels, planar (`[channels, size, size]` row-major): the layout of the dataset files and
    /// of [`crate::preprocess::normalize_images`].
    pub planar: Vec<u8>,
    /// Width and height of the file before cropping.
    pub original_size: (u32, u32),
}

impl PreparedImage {
    /// Interleaved RGBA (opaque), for drawing "what the model sees" on a canvas.
    pub fn rgba(&self) -> Vec<u8> {
        let plane = self.size * self.size;
        let mut rgba = Vec::with_capacity(plane * 4);
        for pixel in 0..plane {
            for channel in 0..3 {
                let source = if self.channels == 1 { 0 } else { channel };
                rgba.push(self.planar[source * plane + pixel]);
            }
            rgba.push(u8::MAX);
        }
        rgba
    }
}

/// Decode `bytes` and turn them into `dataset`'s input: centre-crop to a square, resize to the
/// dataset's side (bilinear, "triangle" filter) unless the picture already has that size, and
/// convert to RGB (CIFAR-10) or grey (Fashion-MNIST).
pub fn prepare_image(bytes: &[u8], dataset: DatasetKind) -> Result<PreparedImage, ImageInputError> {
    if bytes.is_empty() {
        return Err(ImageInputError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImageInputError::FileTooLarge { bytes: bytes.len() });
    }
    let format = image::guess_format(bytes).map_err(|_| ImageInputError::NotAnImage)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|error| decode_error(error, format))?;
    Ok(fit(&decoded, dataset))
}

fn decode_error(error: ImageError, format: ImageFormat) -> ImageInputError {
    match error {
        ImageError::Limits(limit) => ImageInputError::TooLarge {
            detail: limit.to_string(),
        },
        ImageError::Unsupported(_) => ImageInputError::Unsupported {
            format: format!("{format:?}").to_uppercase(),
        },
        other => ImageInputError::Corrupt(other.to_string()),
    }
}

/// Centre-crop, resize and lay out planar.
fn fit(decoded: &DynamicImage, dataset: DatasetKind) -> PreparedImage {
    let target = dataset.image_size();
    let channels = dataset.channels();
    let (width, height) = (decoded.width(), decoded.height());
    let side = width.min(height);
    let (left, top) = ((width - side) / 2, (height - side) / 2);
    let cropped = decoded.crop_imm(left, top, side, side);
    let side_px = target as u32;
    let fitted = if side == side_px {
        cropped
    } else {
        DynamicImage::from(imageops::resize(
            &cropped.to_rgba8(),
            side_px,
            side_px,
            FilterType::Triangle,
        ))
    };
    let plane = target * target;
    let mut planar = vec![0u8; channels * plane];
    if channels == 1 {
        planar.copy_from_slice(fitted.to_luma8().as_raw());
    } else {
        for (pixel, rgb) in fitted.to_rgb8().pixels().enumerate() {
            for channel in 0..3 {
                planar[channel * plane + pixel] = rgb.0[channel];
            }
        }
    }
    PreparedImage {
        size: target,
        channels,
        planar,
        original_size: (width, height),
    }
}

/// Encode planar pixels (`[channels, size, size]`) as a PNG: the shipped sample images, which
/// [`prepare_image`] reads back to exactly the same pixels.
pub fn encode_png(planar: &[u8], channels: usize, size: usize) -> Result<Vec<u8>, ImageInputError> {
    let plane = size * size;
    if planar.len() != channels * plane || !(channels == 1 || channels == 3) {
        return Err(ImageInputError::Corrupt(format!(
            "{} bytes are not a {channels}×{size}×{size} image",
            planar.len()
        )));
    }
    let side = size as u32;
    let image = if channels == 1 {
        DynamicImage::from(
            image::GrayImage::from_raw(side, side, planar.to_vec())
                .ok_or_else(|| ImageInputError::Corrupt("bad grey buffer".into()))?,
        )
    } else {
        let interleaved: Vec<u8> = (0..plane)
            .flat_map(|pixel| (0..3).map(move |channel| planar[channel * plane + pixel]))
            .collect();
        DynamicImage::from(
            image::RgbImage::from_raw(side, side, interleaved)
                .ok_or_else(|| ImageInputError::Corrupt("bad RGB buffer".into()))?,
        )
    };
    let mut png = Cursor::new(Vec::new());
    image
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|error| ImageInputError::Corrupt(error.to_string()))?;
    Ok(png.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planar_gradient(size: usize) -> Vec<u8> {
        (0..3 * size * size)
            .map(|index| (index % 251) as u8)
            .collect()
    }

    #[test]
    fn a_png_of_the_model_size_round_trips_exactly() {
        let planar = planar_gradient(32);
        let png = encode_png(&planar, 3, 32).unwrap();
        let prepared = prepare_image(&png, DatasetKind::Cifar10).unwrap();
        assert_eq!(prepared.size, 32);
        assert_eq!(prepared.channels, 3);
        assert_eq!(prepared.planar, planar);
        assert_eq!(prepared.original_size, (32, 32));
        assert_eq!(prepared.rgba().len(), 32 * 32 * 4);
        assert_eq!(
            &prepared.rgba()[..4],
            &[planar[0], planar[1024], planar[2048], 255]
        );
    }

    #[test]
    fn a_wide_image_is_centre_cropped_then_resized() {
        // 96×64: left third black, middle red, right third black → crop keeps x 16..80.
        let (width, height) = (96u32, 64u32);
        let image = image::RgbImage::from_fn(width, height, |x, _| {
            if (16..80).contains(&x) {
                image::Rgb([200, 0, 0])
            } else {
                image::Rgb([0, 0, 0])
            }
        });
        let mut png = Cursor::new(Vec::new());
        DynamicImage::from(image)
            .write_to(&mut png, ImageFormat::Png)
            .unwrap();
        let prepared = prepare_image(png.get_ref(), DatasetKind::Cifar10).unwrap();
        assert_eq!(prepared.original_size, (96, 64));
        assert_eq!(prepared.planar.len(), 3 * 32 * 32);
        // Every pixel is the red of the centre square.
        assert!(prepared.planar[..1024].iter().all(|&red| red == 200));
        assert!(prepared.planar[1024..].iter().all(|&other| other == 0));
    }

    #[test]
    fn grey_datasets_get_one_channel() {
        let planar = planar_gradient(32);
        let png = encode_png(&planar, 3, 32).unwrap();
        let prepared = prepare_image(&png, DatasetKind::FashionMnist).unwrap();
        assert_eq!((prepared.size, prepared.channels), (28, 1));
        assert_eq!(prepared.planar.len(), 28 * 28);
    }

    #[test]
    fn bad_files_get_clear_errors() {
        assert_eq!(
            prepare_image(b"", DatasetKind::Cifar10),
            Err(ImageInputError::Empty)
        );
        assert_eq!(
            prepare_image(b"hello, this is a text file", DatasetKind::Cifar10),
            Err(ImageInputError::NotAnImage)
        );
        let png = encode_png(&planar_gradient(32), 3, 32).unwrap();
        let truncated = &png[..png.len() / 2];
        assert!(matches!(
            prepare_image(truncated, DatasetKind::Cifar10),
            Err(ImageInputError::Corrupt(_))
        ));
        // TIFF magic: a known format this build does not decode.
        assert!(matches!(
            prepare_image(b"II*\0\x08\0\0\0rest", DatasetKind::Cifar10),
            Err(ImageInputError::Unsupported { .. })
        ));
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_decoding() {
        // A valid PNG header claiming 20000×20000 pixels (the body is never read).
        let mut header = Vec::new();
        header.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(b"IHDR");
        ihdr.extend_from_slice(&20_000u32.to_be_bytes());
        ihdr.extend_from_slice(&20_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        header.extend_from_slice(&13u32.to_be_bytes());
        header.extend_from_slice(&ihdr);
        header.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        let result = prepare_image(&header, DatasetKind::Cifar10);
        assert!(
            matches!(result, Err(ImageInputError::TooLarge { .. })),
            "{result:?}"
        );
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = flate2::Crc::new();
        crc.update(bytes);
        crc.sum()
    }

    #[test]
    fn oversized_files_are_refused_unread() {
        let huge = vec![0u8; MAX_FILE_BYTES + 1];
        assert_eq!(
            prepare_image(&huge, DatasetKind::Cifar10),
            Err(ImageInputError::FileTooLarge {
                bytes: MAX_FILE_BYTES + 1
            })
        );
    }
}
