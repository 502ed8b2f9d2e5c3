//! Reader for the official CIFAR-10 "binary version" (`cifar-10-batches-bin/`).
//!
//! Each batch file holds 10,000 records of 3,073 bytes: one label byte (0–9) followed by
//! 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue; each a 32×32 plane in row-major order).
//! That is already planar CHW, so records are copied as they are.

use std::path::Path;

use super::{DataError, DataSplit, DatasetKind, ImageDataset, check_labels, read_file};

/// The five training batch files, in the order their images are concatenated.
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];

/// The test batch file.
pub const TEST_FILE: &str = "test_batch.bin";

/// Pixel bytes of one image (3 × 32 × 32).
pub const IMAGE_BYTES: usize = 3 * 32 * 32;

/// Bytes of one record: the label byte then the pixels.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;

/// Records in every batch file.
pub const RECORDS_PER_FILE: usize = 10_000;

/// Exact size of every batch file (30,730,000 bytes).
pub const FILE_BYTES: usize = RECORD_BYTES * RECORDS_PER_FILE;

/// The batch files of a split, in order.
pub fn files_for(split: DataSplit) -> &'static [&'static str] {
    match split {
        DataSplit::Train => &TRAIN_FILES,
        DataSplit::Test => std::slice::from_ref(&TEST_FILE),
    }
}

/// Parses the bytes of one batch file into `(images, labels)`: 10,000 planar CHW images
/// (30,720,000 bytes) and their labels.
///
/// `path_for_errors` only names the source in errors; nothing is read from disk, so this works
/// in the browser too. The input must be exactly [`FILE_BYTES`] long and every label below 10.
pub fn load_batch_bytes(
    path_for_errors: &Path,
    bytes: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    if bytes.len() != FILE_BYTES {
        return Err(DataError::WrongSize {
            path: path_for_errors.to_path_buf(),
            expected: FILE_BYTES as u64,
            actual: bytes.len() as u64,
        });
    }
    let dataset = parse_records(path_for_errors, bytes)?;
    Ok((dataset.images, dataset.labels))
}

/// Parses any whole number of CIFAR-10 records (the batch files' format: a label byte, then
/// 3,072 planar pixel bytes) into a dataset: the format of the subsets the page trains on
/// (`lethe export-live`). Nothing is read from disk; `path_for_errors` names the source.
///
/// # Errors
/// [`DataError::WrongSize`] when the length is not a positive multiple of [`RECORD_BYTES`];
/// [`DataError::BadLabel`] for a label above 9.
pub fn parse_records(path_for_errors: &Path, bytes: &[u8]) -> Result<ImageDataset, DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD_BYTES) {
        return Err(DataError::WrongSize {
            path: path_for_errors.to_path_buf(),
            expected: (bytes.len() / RECORD_BYTES).max(1) as u64 * RECORD_BYTES as u64,
            actual: bytes.len() as u64,
        });
    }
    let records = bytes.len() / RECORD_BYTES;
    let mut images = Vec::with_capacity(records * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(records);
    for record in bytes.chunks_exact(RECORD_BYTES) {
        let (label, pixels) = record.split_at(1);
        labels.push(label[0]);
        images.extend_from_slice(pixels);
    }
    check_labels(path_for_errors, &labels, DatasetKind::Cifar10.num_classes())?;
    Ok(ImageDataset {
        kind: DatasetKind::Cifar10,
        images,
        labels,
    })
}

/// The CIFAR-10 records of `indices` of `dataset` (the inverse of [`parse_records`]).
pub fn to_records(dataset: &ImageDataset, indices: &[usize]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(indices.len() * RECORD_BYTES);
    for &index in indices {
        bytes.push(dataset.label(index));
        bytes.extend_from_slice(dataset.image(index));
    }
    bytes
}

/// Reads one split from `dataset_dir`, the directory holding the `.bin` files (usually
/// `<data_dir>/cifar-10-batches-bin`; see [`DatasetKind::load`]). Train concatenates
/// `data_batch_1..5.bin` in order (50,000 images); test is `test_batch.bin` (10,000 images).
pub fn load(dataset_dir: &Path, split: DataSplit) -> Result<ImageDataset, DataError> {
    let files = files_for(split);
    let mut images = Vec::with_capacity(files.len() * RECORDS_PER_FILE * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(files.len() * RECORDS_PER_FILE);
    for file in files {
        let path = dataset_dir.join(file);
        let bytes = read_file(&path)?;
        let (batch_images, batch_labels) = load_batch_bytes(&path, &bytes)?;
        images.extend_from_slice(&batch_images);
        labels.extend_from_slice(&batch_labels);
    }
    Ok(ImageDataset {
        kind: DatasetKind::Cifar10,
        images,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_support::{real_cifar10, real_data_available};

    /// A valid batch: record `i` has label `i % 10` and all pixels equal to `i % 251`.
    fn synthetic_batch() -> Vec<u8> {
        let mut bytes = Vec::with_capacity(FILE_BYTES);
        for record in 0..RECORDS_PER_FILE {
            bytes.push((record % 10) as u8);
            bytes.extend(std::iter::repeat_n((record % 251) as u8, IMAGE_BYTES));
        }
        bytes
    }

    #[test]
    fn parses_a_valid_batch() {
        let (images, labels) =
            load_batch_bytes(Path::new("batch.bin"), &synthetic_batch()).expect("valid batch");
        assert_eq!(images.len(), RECORDS_PER_FILE * IMAGE_BYTES);
        assert_eq!(labels.len(), RECORDS_PER_FILE);
        assert_eq!(labels[13], 3);
        assert!(
            images[13 * IMAGE_BYTES..14 * IMAGE_BYTES]
                .iter()
                .all(|&p| p == 13)
        );
    }

    #[test]
    fn truncated_batch_is_wrong_size_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = synthetic_batch();
        bytes.truncate(FILE_BYTES - 100);
        std::fs::write(dir.path().join(TEST_FILE), &bytes).expect("write");
        let error = load(dir.path(), DataSplit::Test).expect_err("truncated file");
        match &error {
            DataError::WrongSize {
                path,
                expected,
                actual,
            } => {
                assert!(path.ends_with(TEST_FILE));
                assert_eq!(*expected, FILE_BYTES as u64);
                assert_eq!(*actual, (FILE_BYTES - 100) as u64);
            }
            other => panic!("expected WrongSize, got {other:?}"),
        }
        let message = error.to_string();
        assert!(message.contains("test_batch.bin") && message.contains("truncated"));
    }

    #[test]
    fn label_out_of_range_names_file_and_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = synthetic_batch();
        bytes[1234 * RECORD_BYTES] = 12;
        std::fs::write(dir.path().join(TEST_FILE), &bytes).expect("write");
        let error = load(dir.path(), DataSplit::Test).expect_err("bad label");
        assert!(
            matches!(&error, DataError::BadLabel { path, index: 1234, label: 12 } if path.ends_with(TEST_FILE)),
            "{error:?}"
        );
        assert!(error.to_string().contains("record 1234"));
    }

    #[test]
    fn missing_file_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = load(dir.path(), DataSplit::Train).expect_err("no files");
        assert!(
            matches!(&error, DataError::Missing { path } if path.ends_with("data_batch_1.bin")),
            "{error:?}"
        );
    }

    #[test]
    fn real_cifar10_has_official_sizes() {
        if !real_data_available(DatasetKind::Cifar10) {
            return;
        }
        let (train, test) = real_cifar10();
        assert_eq!(train.len(), 50_000);
        assert_eq!(train.images.len(), 50_000 * IMAGE_BYTES);
        assert_eq!(train.class_counts(), [5_000; 10]);
        assert_eq!(test.len(), 10_000);
        assert_eq!(test.class_counts(), [1_000; 10]);
    }
}
