//! Training-time augmentation of the ResNet recipe (spec §2): random crop with 4 pixels of zero
//! padding and a random horizontal flip, applied to planar `u8` images before normalisation.

use rand::Rng;

/// Randomly crop (after zero-padding by `padding` pixels) and flip each image of `batch` in place.
///
/// `batch` holds whole planar images of `channels × size × size` bytes. Each image draws its own
/// offset in `[0, 2·padding]²` and flips with probability ½.
pub fn crop_and_flip<R: Rng>(
    batch: &mut [u8],
    channels: usize,
    size: usize,
    padding: usize,
    rng: &mut R,
) {
    let image_bytes = channels * size * size;
    let mut source = vec![0u8; image_bytes];
    for image in batch.chunks_exact_mut(image_bytes) {
        source.copy_from_slice(image);
        let offset_y = rng.random_range(0..=2 * padding) as isize - padding as isize;
        let offset_x = rng.random_range(0..=2 * padding) as isize - padding as isize;
        let flip = rng.random_bool(0.5);
        for channel in 0..channels {
            let plane = channel * size * size;
            for y in 0..size {
                for x in 0..size {
                    // Output pixel (y, x) reads source pixel (y + dy, x' + dx), with x' mirrored
                    // when flipping; outside the image it is padding (0).
                    let read_x = if flip { size - 1 - x } else { x };
                    let sy = y as isize + offset_y;
                    let sx = read_x as isize + offset_x;
                    image[plane + y * size + x] =
                        if (0..size as isize).contains(&sy) && (0..size as isize).contains(&sx) {
                            source[plane + sy as usize * size + sx as usize]
                        } else {
                            0
                        };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn zero_padding_keeps_pixel_values_and_size() {
        let size = 4;
        let mut batch: Vec<u8> = (1..=32).collect(); // two 1-channel 4×4 images
        let original = batch.clone();
        crop_and_flip(&mut batch, 1, size, 0, &mut StdRng::seed_from_u64(3));
        // With no padding the only change is a possible mirror of each row.
        for (image, source) in batch.chunks(16).zip(original.chunks(16)) {
            let mirrored: Vec<u8> = source
                .chunks(size)
                .flat_map(|row| row.iter().rev().copied())
                .collect();
            assert!(image == source || image == mirrored.as_slice());
        }
    }

    #[test]
    fn padding_shifts_in_zeros() {
        let mut saw_zero = false;
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..20 {
            let mut batch = vec![200u8; 3 * 8 * 8];
            crop_and_flip(&mut batch, 3, 8, 4, &mut rng);
            saw_zero |= batch.contains(&0);
            assert!(batch.iter().all(|&p| p == 0 || p == 200));
        }
        assert!(saw_zero);
    }
}
