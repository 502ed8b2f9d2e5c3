//! Reader for Fashion-MNIST in the official IDX format, gzip-compressed (as published) or raw.
//!
//! Images file: big-endian `u32` magic `0x00000803`, count, rows (28), cols (28), then
//! `count × 28 × 28` pixel bytes. Labels file: magic `0x00000801`, count, then `count` label bytes.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::{DataError, DataSplit, DatasetKind, ImageDataset, check_labels, read_file};

/// Training images, without the `.gz` suffix.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// Training labels, without the `.gz` suffix.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// Test images, without the `.gz` suffix.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// Test labels, without the `.gz` suffix.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Height and width of every image.
pub const IMAGE_SIDE: u32 = 28;

/// Header bytes of an images file: magic, count, rows, cols.
const IMAGES_HEADER_BYTES: usize = 16;
/// Header bytes of a labels file: magic, count.
const LABELS_HEADER_BYTES: usize = 8;
/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// File names (without `.gz`) of a split: `(images, labels)`.
pub fn file_names(split: DataSplit) -> (&'static str, &'static str) {
    match split {
        DataSplit::Train => (TRAIN_IMAGES, TRAIN_LABELS),
        DataSplit::Test => (TEST_IMAGES, TEST_LABELS),
    }
}

/// The file to read for `base_name` in `dataset_dir`: `<base_name>.gz` if it exists, otherwise
/// the raw `<base_name>` if that exists, otherwise the `.gz` path (so a later read reports it as
/// missing under its official name).
pub fn resolve_file(dataset_dir: &Path, base_name: &str) -> PathBuf {
    let gzipped = dataset_dir.join(format!("{base_name}.gz"));
    let raw = dataset_dir.join(base_name);
    if !gzipped.exists() && raw.exists() {
        raw
    } else {
        gzipped
    }
}

/// Returns `bytes` decompressed if they are a gzip stream (detected by its magic bytes),
/// otherwise `bytes` unchanged.
pub fn decompress_if_gzip<'a>(
    path_for_errors: &Path,
    bytes: &'a [u8],
) -> Result<Cow<'a, [u8]>, DataError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut decompressed = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut decompressed)
        .map_err(|source| DataError::Gzip {
            path: path_for_errors.to_path_buf(),
            source,
        })?;
    Ok(Cow::Owned(decompressed))
}

/// Reads the big-endian `u32` at `offset` (the caller has checked the length).
fn read_u32_be(bytes: &[u8], offset: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_be_bytes(word)
}

/// Checks that an IDX stream is long enough for its header and has the right magic number.
fn check_header(
    path: &Path,
    bytes: &[u8],
    header_bytes: usize,
    magic: u32,
) -> Result<(), DataError> {
    if bytes.len() < 4 {
        return Err(DataError::WrongSize {
            path: path.to_path_buf(),
            expected: header_bytes as u64,
            actual: bytes.len() as u64,
        });
    }
    let actual = read_u32_be(bytes, 0);
    if actual != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            expected: magic,
            actual,
        });
    }
    if bytes.len() < header_bytes {
        return Err(DataError::WrongSize {
            path: path.to_path_buf(),
            expected: header_bytes as u64,
            actual: bytes.len() as u64,
        });
    }
    Ok(())
}

/// Checks that the payload after the header holds exactly `items × item_bytes` bytes.
fn check_payload(
    path: &Path,
    bytes: &[u8],
    header_bytes: usize,
    items: u32,
    item_bytes: u64,
) -> Result<(), DataError> {
    let expected = header_bytes as u64 + u64::from(items) * item_bytes;
    if bytes.len() as u64 != expected {
        return Err(DataError::WrongSize {
            path: path.to_path_buf(),
            expected,
            actual: bytes.len() as u64,
        });
    }
    Ok(())
}

/// Parses an IDX images file (gzip or raw) into its pixels: `count × 28 × 28` bytes, one image
/// after another (each a single-channel plane, i.e. CHW with C = 1).
///
/// Sizes in [`DataError::WrongSize`] refer to the decompressed stream.
pub fn parse_images(path_for_errors: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let path = path_for_errors;
    let bytes = decompress_if_gzip(path, bytes)?;
    check_header(path, &bytes, IMAGES_HEADER_BYTES, IMAGES_MAGIC)?;
    let count = read_u32_be(&bytes, 4);
    let rows = read_u32_be(&bytes, 8);
    let cols = read_u32_be(&bytes, 12);
    if rows != IMAGE_SIDE || cols != IMAGE_SIDE {
        return Err(DataError::BadDimensions {
            path: path.to_path_buf(),
            expected_rows: IMAGE_SIDE,
            expected_cols: IMAGE_SIDE,
            rows,
            cols,
        });
    }
    let image_bytes = u64::from(IMAGE_SIDE) * u64::from(IMAGE_SIDE);
    check_payload(path, &bytes, IMAGES_HEADER_BYTES, count, image_bytes)?;
    let mut pixels = match bytes {
        Cow::Owned(owned) => owned,
        Cow::Borrowed(borrowed) => borrowed.to_vec(),
    };
    pixels.drain(..IMAGES_HEADER_BYTES);
    Ok(pixels)
}

/// Parses an IDX labels file (gzip or raw) into its labels, each checked to be below 10.
pub fn parse_labels(path_for_errors: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let path = path_for_errors;
    let bytes = decompress_if_gzip(path, bytes)?;
    check_header(path, &bytes, LABELS_HEADER_BYTES, LABELS_MAGIC)?;
    let count = read_u32_be(&bytes, 4);
    check_payload(path, &bytes, LABELS_HEADER_BYTES, count, 1)?;
    let labels = bytes[LABELS_HEADER_BYTES..].to_vec();
    check_labels(path, &labels, DatasetKind::FashionMnist.num_classes())?;
    Ok(labels)
}

/// Builds a dataset from the bytes of an images file and a labels file (each gzip or raw).
/// The paths only name the sources in errors; nothing is read from disk.
pub fn load_bytes(
    images_path: &Path,
    images_bytes: &[u8],
    labels_path: &Path,
    labels_bytes: &[u8],
) -> Result<ImageDataset, DataError> {
    let images = parse_images(images_path, images_bytes)?;
    let labels = parse_labels(labels_path, labels_bytes)?;
    let image_count = images.len() / DatasetKind::FashionMnist.image_bytes();
    if image_count != labels.len() {
        return Err(DataError::CountMismatch {
            path: labels_path.to_path_buf(),
            images: image_count,
            labels: labels.len(),
        });
    }
    Ok(ImageDataset {
        kind: DatasetKind::FashionMnist,
        images,
        labels,
    })
}

/// Reads one split from `dataset_dir`, the directory holding the IDX files (usually
/// `<data_dir>/fashion-mnist`; see [`DatasetKind::load`]). Each file is taken as `.gz` if present,
/// else raw (see [`resolve_file`]).
pub fn load(dataset_dir: &Path, split: DataSplit) -> Result<ImageDataset, DataError> {
    let (images_name, labels_name) = file_names(split);
    let images_path = resolve_file(dataset_dir, images_name);
    let labels_path = resolve_file(dataset_dir, labels_name);
    let images_bytes = read_file(&images_path)?;
    let labels_bytes = read_file(&labels_path)?;
    load_bytes(&images_path, &images_bytes, &labels_path, &labels_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_support::{real_data_available, real_data_dir};
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn idx_images(count: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [IMAGES_MAGIC, count, rows, cols] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        bytes.extend((0..count * rows * cols).map(|i| (i % 256) as u8));
        bytes
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
        bytes.extend_from_slice(&(labels.len() as u32).to_be_bytes());
        bytes.extend_from_slice(labels);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).expect("compress");
        encoder.finish().expect("compress")
    }

    fn write_split(dir: &Path, split: DataSplit, images: &[u8], labels: &[u8], gz: bool) {
        let (images_name, labels_name) = file_names(split);
        let suffix = if gz { ".gz" } else { "" };
        let (images, labels) = if gz {
            (gzip(images), gzip(labels))
        } else {
            (images.to_vec(), labels.to_vec())
        };
        std::fs::write(dir.join(format!("{images_name}{suffix}")), images).expect("write");
        std::fs::write(dir.join(format!("{labels_name}{suffix}")), labels).expect("write");
    }

    #[test]
    fn reads_gzip_and_raw_files() {
        for gz in [true, false] {
            let dir = tempfile::tempdir().expect("tempdir");
            write_split(
                dir.path(),
                DataSplit::Test,
                &idx_images(3, 28, 28),
                &idx_labels(&[7, 0, 9]),
                gz,
            );
            let dataset = load(dir.path(), DataSplit::Test).expect("valid files");
            assert_eq!(dataset.len(), 3);
            assert_eq!(dataset.labels, vec![7, 0, 9]);
            assert_eq!(dataset.image(1)[0], (784 % 256) as u8);
        }
    }

    #[test]
    fn prefers_gzip_when_both_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_split(
            dir.path(),
            DataSplit::Test,
            &idx_images(1, 28, 28),
            &idx_labels(&[1]),
            true,
        );
        write_split(
            dir.path(),
            DataSplit::Test,
            &idx_images(2, 28, 28),
            &idx_labels(&[2, 2]),
            false,
        );
        assert_eq!(
            load(dir.path(), DataSplit::Test).expect("valid").labels,
            vec![1]
        );
    }

    #[test]
    fn wrong_magic_is_bad_magic() {
        let mut images = idx_images(1, 28, 28);
        images[3] = 0x01;
        let error = parse_images(Path::new("imgs"), &images).expect_err("wrong magic");
        assert!(
            matches!(
                error,
                DataError::BadMagic {
                    expected: IMAGES_MAGIC,
                    actual: 0x801,
                    ..
                }
            ),
            "{error:?}"
        );
        let error = parse_labels(Path::new("labels"), &idx_images(1, 28, 28))
            .expect_err("images as labels");
        assert!(matches!(
            error,
            DataError::BadMagic {
                expected: LABELS_MAGIC,
                ..
            }
        ));
    }

    #[test]
    fn truncated_raw_and_gzip_files_are_errors() {
        let mut images = idx_images(4, 28, 28);
        images.truncate(images.len() - 10);
        let error = parse_images(Path::new("imgs"), &images).expect_err("truncated raw");
        assert!(
            matches!(error, DataError::WrongSize { expected, actual, .. } if actual + 10 == expected),
            "{error:?}"
        );
        assert!(error.to_string().contains("truncated"));

        // A complete gzip stream of a truncated IDX file: the payload check catches it.
        let error = parse_images(Path::new("imgs.gz"), &gzip(&images)).expect_err("truncated idx");
        assert!(matches!(error, DataError::WrongSize { .. }), "{error:?}");

        // A gzip stream cut short: the decoder catches it.
        let mut compressed = gzip(&idx_images(4, 28, 28));
        compressed.truncate(compressed.len() / 2);
        let error = parse_images(Path::new("imgs.gz"), &compressed).expect_err("truncated gzip");
        assert!(matches!(error, DataError::Gzip { .. }), "{error:?}");

        let error = parse_labels(Path::new("l"), &[0, 0, 8]).expect_err("short header");
        assert!(matches!(error, DataError::WrongSize { .. }), "{error:?}");
        let error = parse_labels(Path::new("l"), &[0, 0, 8, 1, 0, 0]).expect_err("short header");
        assert!(
            matches!(
                error,
                DataError::WrongSize {
                    expected: 8,
                    actual: 6,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn corrupt_gzip_is_gzip_error_naming_the_file() {
        let mut compressed = gzip(&idx_labels(&[1, 2, 3]));
        for byte in compressed.iter_mut().skip(10).take(8) {
            *byte ^= 0xa5;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        write_split(
            dir.path(),
            DataSplit::Train,
            &idx_images(3, 28, 28),
            &[],
            true,
        );
        let labels_path = dir.path().join(format!("{TRAIN_LABELS}.gz"));
        std::fs::write(&labels_path, &compressed).expect("write");
        let error = load(dir.path(), DataSplit::Train).expect_err("corrupt gzip");
        assert!(
            matches!(&error, DataError::Gzip { path, .. } if *path == labels_path),
            "{error:?}"
        );
        assert!(error.to_string().contains(TRAIN_LABELS));
    }

    #[test]
    fn dimension_label_and_count_errors() {
        let error = parse_images(Path::new("i"), &idx_images(1, 32, 28)).expect_err("32 rows");
        assert!(matches!(
            error,
            DataError::BadDimensions {
                rows: 32,
                cols: 28,
                ..
            }
        ));
        let error = parse_labels(Path::new("l"), &idx_labels(&[1, 10])).expect_err("label 10");
        assert!(matches!(
            error,
            DataError::BadLabel {
                index: 1,
                label: 10,
                ..
            }
        ));
        let error = load_bytes(
            Path::new("i"),
            &idx_images(2, 28, 28),
            Path::new("l"),
            &idx_labels(&[1, 2, 3]),
        )
        .expect_err("2 images, 3 labels");
        assert!(matches!(
            error,
            DataError::CountMismatch {
                images: 2,
                labels: 3,
                ..
            }
        ));
    }

    #[test]
    fn missing_file_names_the_official_gz() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = load(dir.path(), DataSplit::Test).expect_err("empty dir");
        assert!(
            matches!(&error, DataError::Missing { path } if path.ends_with("t10k-images-idx3-ubyte.gz")),
            "{error:?}"
        );
    }

    #[test]
    fn real_fashion_mnist_has_official_sizes() {
        if !real_data_available(DatasetKind::FashionMnist) {
            return;
        }
        let dir = real_data_dir();
        let train = DatasetKind::FashionMnist
            .load(&dir, DataSplit::Train)
            .expect("real train set");
        assert_eq!(train.len(), 60_000);
        assert_eq!(train.class_counts(), [6_000; 10]);
        let test = DatasetKind::FashionMnist
            .load(&dir, DataSplit::Test)
            .expect("real test set");
        assert_eq!(test.len(), 10_000);
        assert_eq!(test.class_counts(), [1_000; 10]);
    }
}
