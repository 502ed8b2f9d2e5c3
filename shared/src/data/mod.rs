//! Datasets: readers for the official CIFAR-10 and Fashion-MNIST files, checksums, and the
//! unlearning splits of the protocol (spec §1).
//!
//! Images are kept as raw `u8` pixels in planar CHW order (all of channel 0, then channel 1, …),
//! one image after another. Normalisation with [`DatasetKind::mean`] / [`DatasetKind::std`]
//! happens later, inside the model's preprocessing, so native and browser code agree exactly.

pub mod checksum;
pub mod cifar10;
pub mod fashion_mnist;
pub mod split;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Number of classes of both supported datasets.
pub const NUM_CLASSES: usize = 10;

/// Path used in errors about data that did not come from a file.
const IN_MEMORY: &str = "<in-memory dataset>";

/// The datasets Lethe knows how to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// CIFAR-10: 32×32 RGB, 50,000 train / 10,000 test.
    Cifar10,
    /// Fashion-MNIST: 28×28 grey, 60,000 train / 10,000 test.
    FashionMnist,
}

impl DatasetKind {
    /// Every supported dataset.
    pub const ALL: [DatasetKind; 2] = [DatasetKind::Cifar10, DatasetKind::FashionMnist];

    /// Canonical name, as accepted by [`FromStr`] and printed by [`fmt::Display`].
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Cifar10 => "cifar10",
            DatasetKind::FashionMnist => "fashion-mnist",
        }
    }

    /// Human-readable class names, indexed by label.
    pub fn class_names(self) -> &'static [&'static str; NUM_CLASSES] {
        match self {
            DatasetKind::Cifar10 => &[
                "airplane",
                "automobile",
                "bird",
                "cat",
                "deer",
                "dog",
                "frog",
                "horse",
                "ship",
                "truck",
            ],
            DatasetKind::FashionMnist => &[
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        }
    }

    /// Number of colour channels (3 for CIFAR-10, 1 for Fashion-MNIST).
    pub fn channels(self) -> usize {
        match self {
            DatasetKind::Cifar10 => 3,
            DatasetKind::FashionMnist => 1,
        }
    }

    /// Side length of the square images in pixels (32 or 28).
    pub fn image_size(self) -> usize {
        match self {
            DatasetKind::Cifar10 => 32,
            DatasetKind::FashionMnist => 28,
        }
    }

    /// Number of classes (10 for both datasets).
    pub fn num_classes(self) -> usize {
        NUM_CLASSES
    }

    /// Bytes of one image: channels × size × size.
    pub fn image_bytes(self) -> usize {
        self.channels() * self.image_size() * self.image_size()
    }

    /// Per-channel mean of the pixels scaled to [0, 1], for normalisation.
    pub fn mean(self) -> &'static [f32] {
        match self {
            DatasetKind::Cifar10 => &[0.4914, 0.4822, 0.4465],
            DatasetKind::FashionMnist => &[0.2860],
        }
    }

    /// Per-channel standard deviation of the pixels scaled to [0, 1], for normalisation.
    pub fn std(self) -> &'static [f32] {
        match self {
            DatasetKind::Cifar10 => &[0.2470, 0.2435, 0.2616],
            DatasetKind::FashionMnist => &[0.3530],
        }
    }

    /// Name of the directory, under the data directory, that holds this dataset's files.
    pub fn subdir(self) -> &'static str {
        match self {
            DatasetKind::Cifar10 => "cifar-10-batches-bin",
            DatasetKind::FashionMnist => "fashion-mnist",
        }
    }

    /// The directory holding this dataset's files: `data_dir/<subdir>`.
    pub fn dir(self, data_dir: &Path) -> PathBuf {
        data_dir.join(self.subdir())
    }

    /// Reads one split of this dataset from `data_dir`, the parent directory that holds
    /// [`DatasetKind::subdir`].
    pub fn load(&self, data_dir: &Path, split: DataSplit) -> Result<ImageDataset, DataError> {
        let dataset_dir = self.dir(data_dir);
        match self {
            DatasetKind::Cifar10 => cifar10::load(&dataset_dir, split),
            DatasetKind::FashionMnist => fashion_mnist::load(&dataset_dir, split),
        }
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of parsing a [`DatasetKind`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dataset `{0}`; expected one of: cifar10, fashion-mnist")]
pub struct UnknownDatasetError(pub String);

impl FromStr for DatasetKind {
    type Err = UnknownDatasetError;

    /// Accepts `cifar10`, `cifar-10`, `fashion-mnist`, `fashion_mnist` and `fmnist`,
    /// ignoring ASCII case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "cifar10" | "cifar-10" => Ok(DatasetKind::Cifar10),
            "fashion-mnist" | "fashion_mnist" | "fmnist" => Ok(DatasetKind::FashionMnist),
            _ => Err(UnknownDatasetError(text.to_owned())),
        }
    }
}

/// Which official split of a dataset to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSplit {
    /// The official training set.
    Train,
    /// The official test set.
    Test,
}

impl DataSplit {
    /// `"train"` or `"test"`.
    pub fn name(self) -> &'static str {
        match self {
            DataSplit::Train => "train",
            DataSplit::Test => "test",
        }
    }
}

impl fmt::Display for DataSplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Images and labels of one dataset split, in memory.
///
/// `images` holds `len() * image_bytes()` bytes: each image in planar CHW order, images
/// contiguous. `labels[i]` is the class of image `i`. Readers guarantee both invariants and
/// that every label is below [`NUM_CLASSES`]; use [`ImageDataset::from_parts`] to check them on
/// data built elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDataset {
    /// Which dataset the images come from (fixes the image shape).
    pub kind: DatasetKind,
    /// Pixels, planar CHW per image, images contiguous.
    pub images: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
}

impl ImageDataset {
    /// Builds a dataset, checking that `images` holds exactly one image per label and that every
    /// label is a valid class. Errors name the path `<in-memory dataset>`.
    pub fn from_parts(
        kind: DatasetKind,
        images: Vec<u8>,
        labels: Vec<u8>,
    ) -> Result<Self, DataError> {
        let expected_bytes = labels.len() * kind.image_bytes();
        if images.len() != expected_bytes {
            return Err(DataError::WrongSize {
                path: PathBuf::from(IN_MEMORY),
                expected: expected_bytes as u64,
                actual: images.len() as u64,
            });
        }
        check_labels(Path::new(IN_MEMORY), &labels, kind.num_classes())?;
        Ok(ImageDataset {
            kind,
            images,
            labels,
        })
    }

    /// The planar pixels and the labels of `indices`, in that order: the input of
    /// `preprocess::normalize_images` and a label tensor.
    ///
    /// # Panics
    /// If an index is `>= len()`, like slice indexing.
    pub fn gather(&self, indices: &[usize]) -> (Vec<u8>, Vec<i64>) {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_bytes());
        let mut labels = Vec::with_capacity(indices.len());
        for &index in indices {
            pixels.extend_from_slice(self.image(index));
            labels.push(i64::from(self.label(index)));
        }
        (pixels, labels)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes of one image: C × H × W.
    pub fn image_bytes(&self) -> usize {
        self.kind.image_bytes()
    }

    /// Pixels of image `index`, planar CHW.
    ///
    /// # Panics
    /// If `index >= len()`, like slice indexing.
    pub fn image(&self, index: usize) -> &[u8] {
        let size = self.image_bytes();
        &self.images[index * size..(index + 1) * size]
    }

    /// Label of image `index`.
    ///
    /// # Panics
    /// If `index >= len()`, like slice indexing.
    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    /// A new dataset holding the images at `indices`, in that order (repeats allowed).
    pub fn subset(&self, indices: &[usize]) -> Result<ImageDataset, DataError> {
        let size = self.image_bytes();
        let mut images = Vec::with_capacity(indices.len() * size);
        let mut labels = Vec::with_capacity(indices.len());
        for &index in indices {
            let (Some(&label), Some(pixels)) = (
                self.labels.get(index),
                self.images.get(index * size..(index + 1) * size),
            ) else {
                return Err(DataError::IndexOutOfRange {
                    index,
                    len: self.len(),
                });
            };
            images.extend_from_slice(pixels);
            labels.push(label);
        }
        Ok(ImageDataset {
            kind: self.kind,
            images,
            labels,
        })
    }

    /// Number of images of each class. Labels outside the class range are not counted.
    pub fn class_counts(&self) -> [usize; NUM_CLASSES] {
        let mut counts = [0; NUM_CLASSES];
        for &label in &self.labels {
            if let Some(count) = counts.get_mut(usize::from(label)) {
                *count += 1;
            }
        }
        counts
    }

    /// A new dataset holding the first `count` images (all of them if there are fewer).
    pub fn first_n(&self, count: usize) -> ImageDataset {
        let count = count.min(self.len());
        ImageDataset {
            kind: self.kind,
            images: self.images[..count * self.image_bytes()].to_vec(),
            labels: self.labels[..count].to_vec(),
        }
    }
}

/// Checks that every label is below `num_classes`, naming the first bad one.
pub(crate) fn check_labels(
    path: &Path,
    labels: &[u8],
    num_classes: usize,
) -> Result<(), DataError> {
    match labels
        .iter()
        .position(|&label| usize::from(label) >= num_classes)
    {
        Some(index) => Err(DataError::BadLabel {
            path: path.to_path_buf(),
            index,
            label: labels[index],
        }),
        None => Ok(()),
    }
}

/// Reads a whole file, reporting a missing file as [`DataError::Missing`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| io_error(path, source))
}

/// Maps an I/O error on `path` to [`DataError`], singling out a missing file.
pub(crate) fn io_error(path: &Path, source: std::io::Error) -> DataError {
    if source.kind() == std::io::ErrorKind::NotFound {
        DataError::Missing {
            path: path.to_path_buf(),
        }
    } else {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `"truncated"` when a file is smaller than it should be, `"wrong size"` otherwise.
fn size_problem(expected: u64, actual: u64) -> &'static str {
    if actual < expected {
        "truncated"
    } else {
        "wrong size"
    }
}

/// Everything that can go wrong reading datasets or forming splits.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A dataset file does not exist.
    #[error(
        "{}: file not found; pass --data-dir <dir> or set LETHE_DATA_DIR to the directory \
         holding `cifar-10-batches-bin/` and `fashion-mnist/`",
        path.display()
    )]
    Missing {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// Reading a file failed.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file (or decompressed stream) has the wrong length.
    #[error(
        "{}: {}: expected {expected} bytes, found {actual}",
        path.display(),
        size_problem(*expected, *actual)
    )]
    WrongSize {
        /// The file.
        path: PathBuf,
        /// Length it must have.
        expected: u64,
        /// Length it has.
        actual: u64,
    },
    /// An IDX file starts with the wrong magic number.
    #[error(
        "{}: bad magic number {actual:#010x}, expected {expected:#010x} (wrong or corrupt IDX file)",
        path.display()
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Magic number required.
        expected: u32,
        /// Magic number found.
        actual: u32,
    },
    /// A label is not a valid class.
    #[error("{}: record {index} has label {label}, expected 0-9", path.display())]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// Index of the record (image) within the file.
        index: usize,
        /// The invalid label.
        label: u8,
    },
    /// An images file and its labels file disagree on the number of items.
    #[error(
        "{}: has {labels} labels but the matching images file has {images} images",
        path.display()
    )]
    CountMismatch {
        /// The labels file.
        path: PathBuf,
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// Images have the wrong height or width.
    #[error(
        "{}: images are {rows}x{cols}, expected {expected_rows}x{expected_cols}",
        path.display()
    )]
    BadDimensions {
        /// The file.
        path: PathBuf,
        /// Height required.
        expected_rows: u32,
        /// Width required.
        expected_cols: u32,
        /// Height found.
        rows: u32,
        /// Width found.
        cols: u32,
    },
    /// A gzip stream is corrupt or truncated.
    #[error("{}: corrupt or truncated gzip data: {source}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: std::io::Error,
    },
    /// A file's checksum differs from the official one.
    #[error(
        "{}: {algorithm} checksum mismatch: expected {expected}, got {actual} \
         (corrupt or not the official file; delete it and download again)",
        path.display()
    )]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// `"md5"` or `"sha256"`.
        algorithm: &'static str,
        /// Official checksum, lower-case hex.
        expected: String,
        /// Checksum of the file, lower-case hex.
        actual: String,
    },
    /// An image index is outside the dataset.
    #[error("image index {index} out of range for a dataset of {len} images")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// Number of images.
        len: usize,
    },
    /// A class-wise forget request names no class.
    #[error("the forget set is empty: name at least one class to forget")]
    EmptyForgetSet,
    /// A class-wise forget request names a class the dataset does not have.
    #[error("class {class} out of range: the dataset has classes 0-{}", num_classes.saturating_sub(1))]
    ClassOutOfRange {
        /// The class asked for.
        class: u8,
        /// Number of classes of the dataset.
        num_classes: usize,
    },
    /// The request would forget every class (or every training image), leaving nothing to retain.
    #[error(
        "the request forgets every training image; at least one class or image must be retained"
    )]
    ForgetsEverything,
    /// A random forget fraction is not in (0, 1) or selects no image.
    #[error(
        "forget fraction {0} is invalid: it must be in (0, 1) and select at least one and not all \
         training images"
    )]
    BadFraction(f64),
    /// Train and test sets given to a split come from different datasets.
    #[error("train set is {train} but test set is {test}")]
    DatasetMismatch {
        /// Dataset of the train set.
        train: DatasetKind,
        /// Dataset of the test set.
        test: DatasetKind,
    },
}

/// Test helpers shared by the data modules.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{DataSplit, DatasetKind, ImageDataset};
    use std::path::PathBuf;
    use std::sync::OnceLock;

    /// The real data directory: `LETHE_DATA_DIR` if set, else the repository's `shared/data`.
    pub fn real_data_dir() -> PathBuf {
        std::env::var_os("LETHE_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                // Read at run time: a shared build cache can reuse a binary compiled elsewhere.
                let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
                    .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
                crate_dir.join("../../shared/data")
            })
    }

    /// Whether real-data tests for `kind` should run. They are skipped (with a note) only when
    /// `LETHE_DATA_DIR` is unset and the default directory lacks the dataset; if the variable is
    /// set, a missing dataset makes the tests fail.
    pub fn real_data_available(kind: DatasetKind) -> bool {
        let present = kind.dir(&real_data_dir()).is_dir();
        if !present && std::env::var_os("LETHE_DATA_DIR").is_none() {
            eprintln!(
                "skipping real-data test: {} not found (set LETHE_DATA_DIR)",
                kind.dir(&real_data_dir()).display()
            );
            return false;
        }
        true
    }

    /// Real CIFAR-10 (train, test), read once per test process.
    pub fn real_cifar10() -> &'static (ImageDataset, ImageDataset) {
        static CIFAR: OnceLock<(ImageDataset, ImageDataset)> = OnceLock::new();
        CIFAR.get_or_init(|| {
            let dir = real_data_dir();
            let train = DatasetKind::Cifar10.load(&dir, DataSplit::Train);
            let test = DatasetKind::Cifar10.load(&dir, DataSplit::Test);
            match (train, test) {
                (Ok(train), Ok(test)) => (train, test),
                (Err(error), _) | (_, Err(error)) => panic!("reading real CIFAR-10: {error}"),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_dataset() -> ImageDataset {
        let kind = DatasetKind::FashionMnist;
        let labels = vec![0, 1, 2, 1, 9];
        let images = (0..labels.len())
            .flat_map(|i| std::iter::repeat_n(i as u8, kind.image_bytes()))
            .collect();
        ImageDataset::from_parts(kind, images, labels).expect("valid dataset")
    }

    #[test]
    fn dataset_kind_parses_aliases_and_round_trips() {
        for text in ["cifar10", "cifar-10", "CIFAR10"] {
            assert_eq!(text.parse::<DatasetKind>(), Ok(DatasetKind::Cifar10));
        }
        for text in ["fashion-mnist", "fashion_mnist", "fmnist"] {
            assert_eq!(text.parse::<DatasetKind>(), Ok(DatasetKind::FashionMnist));
        }
        assert!("mnist".parse::<DatasetKind>().is_err());
        for kind in DatasetKind::ALL {
            assert_eq!(kind.name().parse::<DatasetKind>(), Ok(kind));
            assert_eq!(kind.mean().len(), kind.channels());
            assert_eq!(kind.std().len(), kind.channels());
        }
        assert_eq!(
            serde_json::to_string(&DatasetKind::FashionMnist).expect("serialises"),
            "\"fashion-mnist\""
        );
        assert_eq!(DatasetKind::Cifar10.image_bytes(), 3072);
        assert_eq!(DatasetKind::FashionMnist.image_bytes(), 784);
        assert_eq!(DatasetKind::Cifar10.class_names()[3], "cat");
    }

    #[test]
    fn image_dataset_accessors() {
        let dataset = tiny_dataset();
        assert_eq!(dataset.len(), 5);
        assert!(!dataset.is_empty());
        assert_eq!(dataset.image(3).len(), 784);
        assert!(dataset.image(3).iter().all(|&p| p == 3));
        assert_eq!(dataset.label(4), 9);
        let counts = dataset.class_counts();
        assert_eq!(counts[1], 2);
        assert_eq!(counts.iter().sum::<usize>(), 5);

        let subset = dataset.subset(&[4, 0, 4]).expect("indices in range");
        assert_eq!(subset.labels, vec![9, 0, 9]);
        assert!(subset.image(0).iter().all(|&p| p == 4));
        assert!(matches!(
            dataset.subset(&[5]),
            Err(DataError::IndexOutOfRange { index: 5, len: 5 })
        ));

        assert_eq!(dataset.first_n(2).labels, vec![0, 1]);
        assert_eq!(dataset.first_n(2).images.len(), 2 * 784);
        assert_eq!(dataset.first_n(99).len(), 5);
    }

    #[test]
    fn from_parts_rejects_inconsistent_data() {
        let kind = DatasetKind::FashionMnist;
        assert!(matches!(
            ImageDataset::from_parts(kind, vec![0; 783], vec![0]),
            Err(DataError::WrongSize {
                expected: 784,
                actual: 783,
                ..
            })
        ));
        assert!(matches!(
            ImageDataset::from_parts(kind, vec![0; 784 * 2], vec![0, 10]),
            Err(DataError::BadLabel {
                index: 1,
                label: 10,
                ..
            })
        ));
    }

    #[test]
    fn error_messages_name_file_and_problem() {
        let truncated = DataError::WrongSize {
            path: PathBuf::from("/d/x.bin"),
            expected: 10,
            actual: 5,
        };
        assert_eq!(
            truncated.to_string(),
            "/d/x.bin: truncated: expected 10 bytes, found 5"
        );
        let missing = DataError::Missing {
            path: PathBuf::from("/d/x.bin"),
        };
        let message = missing.to_string();
        assert!(message.contains("/d/x.bin") && message.contains("LETHE_DATA_DIR"));
        assert!(message.contains("--data-dir"));
        let magic = DataError::BadMagic {
            path: PathBuf::from("f"),
            expected: 0x803,
            actual: 0x801,
        };
        assert!(magic.to_string().contains("0x00000801"), "{magic}");
    }
}
