//! Unlearning splits (spec §1): which training images to forget (D_f) and retain (D_r), and which
//! test images measure retained (test_r) and forgotten (test_f) accuracy.
//!
//! Every list is a sorted list of indices into the original train or test [`ImageDataset`];
//! use [`ImageDataset::subset`] to materialise one.
//!
//! Random choices use `rand::rngs::StdRng::seed_from_u64(seed)` with
//! [`rand::seq::index::sample`]. The samples are deterministic for a given seed, but they depend
//! on rand 0.9's `StdRng` algorithm and sampling code: another rand version may pick other images
//! for the same seed, and they do not match the NumPy samples of the original Python code.

use std::collections::BTreeSet;
use std::fmt;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::{DataError, ImageDataset, NUM_CLASSES};

/// Class forgotten by default, as in PruneLoRA: 3, "cat" in CIFAR-10.
pub const DEFAULT_FORGET_CLASS: u8 = 3;

/// What to forget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "params", rename_all = "kebab-case")]
pub enum ForgetRequest {
    /// Class-wise forgetting: every training image whose label is in the set.
    Classes(Vec<u8>),
    /// Random-sample forgetting: `round(fraction × N)` training images drawn uniformly without
    /// replacement, N being the training images left after any validation hold-out.
    Random {
        /// Share of the training images to forget, in (0, 1).
        fraction: f64,
        /// Seed of the sample.
        seed: u64,
    },
}

impl Default for ForgetRequest {
    /// Forget class 3 ("cat"), PruneLoRA's setting.
    fn default() -> Self {
        ForgetRequest::Classes(vec![DEFAULT_FORGET_CLASS])
    }
}

impl fmt::Display for ForgetRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForgetRequest::Classes(classes) => {
                let names: Vec<String> = classes.iter().map(u8::to_string).collect();
                write!(f, "classes {}", names.join(","))
            }
            ForgetRequest::Random { fraction, seed } => {
                write!(f, "random {}% (seed {seed})", fraction * 100.0)
            }
        }
    }
}

/// Whether part of the training set is held out as a validation set before forming D_r and D_f.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ValidationHoldout {
    /// No hold-out: all training images go to D_r or D_f (PruneLoRA; the default).
    #[default]
    None,
    /// Jia et al. / SalUn: hold out 10% of every class (`floor(count / 10)` images, drawn
    /// uniformly with this seed) before forming D_r and D_f.
    TenPercent {
        /// Seed of the hold-out sample.
        seed: u64,
    },
}

impl fmt::Display for ValidationHoldout {
    /// "no hold-out", or "a 10 % hold-out (seed 0)" (for messages and run descriptions).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationHoldout::None => f.write_str("no hold-out"),
            ValidationHoldout::TenPercent { seed } => write!(f, "a 10 % hold-out (seed {seed})"),
        }
    }
}

/// Index lists of an unlearning experiment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnlearningSplit {
    /// D_r: training images to retain (indices into the train set).
    pub retain: Vec<usize>,
    /// D_f: training images to forget (indices into the train set).
    pub forget: Vec<usize>,
    /// Training images held out for validation; empty without a hold-out.
    pub validation: Vec<usize>,
    /// test_r: test images of retained classes (all test images for random forgetting).
    pub test_retain: Vec<usize>,
    /// test_f: test images of forgotten classes (empty for random forgetting).
    pub test_forget: Vec<usize>,
    /// The forgotten classes, sorted and deduplicated (empty for random forgetting).
    pub forgotten_classes: Vec<u8>,
}

impl UnlearningSplit {
    /// Forms the split for `request` over the `train` and `test` sets of one dataset.
    ///
    /// Class-wise: D_f = train images with a label in the set, D_r = the others, test_r = test
    /// images with a label not in the set, test_f = the rest. For CIFAR-10 and class 3 that is
    /// 45,000 / 5,000 / 9,000 / 1,000 images (40,500 / 4,500 with a 10% hold-out). Repeated
    /// classes count once.
    ///
    /// Random: D_f = `round(fraction × N)` training images (see [`ForgetRequest::Random`]),
    /// D_r = the others, test_r = all test images, test_f empty.
    ///
    /// # Errors
    /// [`DataError::DatasetMismatch`] if train and test come from different datasets;
    /// [`DataError::EmptyForgetSet`], [`DataError::ClassOutOfRange`] or
    /// [`DataError::ForgetsEverything`] for bad class sets; [`DataError::BadFraction`] if the
    /// fraction is not in (0, 1) or selects no image or every image.
    pub fn new(
        train: &ImageDataset,
        test: &ImageDataset,
        request: &ForgetRequest,
        validation: ValidationHoldout,
    ) -> Result<Self, DataError> {
        if train.kind != test.kind {
            return Err(DataError::DatasetMismatch {
                train: train.kind,
                test: test.kind,
            });
        }
        match request {
            ForgetRequest::Classes(classes) => Self::class_wise(train, test, classes, validation),
            ForgetRequest::Random { fraction, seed } => {
                Self::random(train, test, *fraction, *seed, validation)
            }
        }
    }

    /// Class-wise forgetting of `classes`.
    fn class_wise(
        train: &ImageDataset,
        test: &ImageDataset,
        classes: &[u8],
        validation: ValidationHoldout,
    ) -> Result<Self, DataError> {
        let num_classes = train.kind.num_classes();
        let forgotten: BTreeSet<u8> = classes.iter().copied().collect();
        if forgotten.is_empty() {
            return Err(DataError::EmptyForgetSet);
        }
        if let Some(&class) = forgotten
            .iter()
            .find(|&&class| usize::from(class) >= num_classes)
        {
            return Err(DataError::ClassOutOfRange { class, num_classes });
        }
        if forgotten.len() == num_classes {
            return Err(DataError::ForgetsEverything);
        }

        let held_out = validation_indices(train, validation);
        let is_held_out = membership(train.len(), &held_out);
        let (forget, retain): (Vec<usize>, Vec<usize>) = (0..train.len())
            .filter(|&index| !is_held_out[index])
            .partition(|&index| forgotten.contains(&train.labels[index]));
        if forget.is_empty() {
            return Err(DataError::EmptyForgetSet);
        }
        if retain.is_empty() {
            return Err(DataError::ForgetsEverything);
        }
        let (test_forget, test_retain) =
            (0..test.len()).partition(|&index| forgotten.contains(&test.labels[index]));
        Ok(UnlearningSplit {
            retain,
            forget,
            validation: held_out,
            test_retain,
            test_forget,
            forgotten_classes: forgotten.into_iter().collect(),
        })
    }

    /// Random-sample forgetting of `round(fraction × N)` training images.
    fn random(
        train: &ImageDataset,
        test: &ImageDataset,
        fraction: f64,
        seed: u64,
        validation: ValidationHoldout,
    ) -> Result<Self, DataError> {
        if !(fraction.is_finite() && fraction > 0.0 && fraction < 1.0) {
            return Err(DataError::BadFraction(fraction));
        }
        let held_out = validation_indices(train, validation);
        let is_held_out = membership(train.len(), &held_out);
        let pool: Vec<usize> = (0..train.len())
            .filter(|&index| !is_held_out[index])
            .collect();
        let forget_count = (fraction * pool.len() as f64).round() as usize;
        if forget_count == 0 || forget_count >= pool.len() {
            return Err(DataError::BadFraction(fraction));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let chosen = rand::seq::index::sample(&mut rng, pool.len(), forget_count);
        let mut is_forgotten = vec![false; pool.len()];
        for position in chosen.iter() {
            is_forgotten[position] = true;
        }
        let mut forget = Vec::with_capacity(forget_count);
        let mut retain = Vec::with_capacity(pool.len() - forget_count);
        for (&index, &forgotten) in pool.iter().zip(&is_forgotten) {
            if forgotten {
                forget.push(index);
            } else {
                retain.push(index);
            }
        }
        Ok(UnlearningSplit {
            retain,
            forget,
            validation: held_out,
            test_retain: (0..test.len()).collect(),
            test_forget: Vec::new(),
            forgotten_classes: Vec::new(),
        })
    }
}

/// `flags[i]` is true when `i` is in `indices` (indices at or past `len` are ignored).
fn membership(len: usize, indices: &[usize]) -> Vec<bool> {
    let mut flags = vec![false; len];
    for &index in indices {
        if let Some(flag) = flags.get_mut(index) {
            *flag = true;
        }
    }
    flags
}

/// Sorted training indices held out for validation: for each class in label order,
/// `floor(count / 10)` of its images drawn uniformly with one seeded generator.
fn validation_indices(train: &ImageDataset, validation: ValidationHoldout) -> Vec<usize> {
    let ValidationHoldout::TenPercent { seed } = validation else {
        return Vec::new();
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut held_out = Vec::new();
    for class in 0..NUM_CLASSES {
        let members: Vec<usize> = (0..train.len())
            .filter(|&index| usize::from(train.labels[index]) == class)
            .collect();
        let amount = members.len() / 10;
        held_out.extend(
            rand::seq::index::sample(&mut rng, members.len(), amount)
                .iter()
                .map(|position| members[position]),
        );
    }
    held_out.sort_unstable();
    held_out
}

/// Up to `per_class` indices of each class from `indices`, taken in the order given (first come,
/// first taken) and returned in that order. Deterministic; indices outside `dataset` are skipped.
/// Handy for small, class-balanced test and evaluation subsets.
pub fn balanced_subset(dataset: &ImageDataset, indices: &[usize], per_class: usize) -> Vec<usize> {
    let mut taken = [0usize; NUM_CLASSES];
    let mut subset = Vec::with_capacity(per_class * NUM_CLASSES);
    for &index in indices {
        let Some(&label) = dataset.labels.get(index) else {
            continue;
        };
        if let Some(count) = taken.get_mut(usize::from(label))
            && *count < per_class
        {
            *count += 1;
            subset.push(index);
        }
    }
    subset
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DatasetKind;
    use crate::data::test_support::{real_cifar10, real_data_available};

    /// A dataset of `len` single-pixel-valued Fashion-MNIST-shaped images with label `i % 10`.
    fn synthetic(len: usize) -> ImageDataset {
        let kind = DatasetKind::FashionMnist;
        ImageDataset::from_parts(
            kind,
            vec![0; len * kind.image_bytes()],
            (0..len).map(|i| (i % 10) as u8).collect(),
        )
        .expect("valid dataset")
    }

    fn assert_partition(split: &UnlearningSplit, train_len: usize) {
        let mut all: Vec<usize> = split
            .retain
            .iter()
            .chain(&split.forget)
            .chain(&split.validation)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..train_len).collect::<Vec<_>>());
    }

    #[test]
    fn class_wise_split_sizes() {
        let (train, test) = (synthetic(100), synthetic(20));
        let request = ForgetRequest::Classes(vec![3, 3]);
        let split = UnlearningSplit::new(&train, &test, &request, ValidationHoldout::None)
            .expect("valid request");
        assert_eq!(split.forgotten_classes, vec![3]);
        assert_eq!((split.retain.len(), split.forget.len()), (90, 10));
        assert_eq!((split.test_retain.len(), split.test_forget.len()), (18, 2));
        assert!(split.forget.iter().all(|&i| train.label(i) == 3));
        assert!(split.retain.iter().all(|&i| train.label(i) != 3));
        assert!(split.test_forget.iter().all(|&i| test.label(i) == 3));
        assert!(split.validation.is_empty());
        assert_partition(&split, 100);

        let two = ForgetRequest::Classes(vec![7, 1]);
        let split = UnlearningSplit::new(&train, &test, &two, ValidationHoldout::None)
            .expect("valid request");
        assert_eq!(split.forgotten_classes, vec![1, 7]);
        assert_eq!((split.forget.len(), split.test_retain.len()), (20, 16));
    }

    #[test]
    fn validation_holdout_takes_ten_percent_per_class() {
        let (train, test) = (synthetic(200), synthetic(20));
        let holdout = ValidationHoldout::TenPercent { seed: 1 };
        let split = UnlearningSplit::new(&train, &test, &ForgetRequest::default(), holdout)
            .expect("valid request");
        assert_eq!(split.validation.len(), 20);
        assert_eq!((split.retain.len(), split.forget.len()), (162, 18));
        let held_out = train.subset(&split.validation).expect("in range");
        assert_eq!(held_out.class_counts(), [2; 10]);
        assert_partition(&split, 200);
        let again = UnlearningSplit::new(&train, &test, &ForgetRequest::default(), holdout)
            .expect("valid request");
        assert_eq!(split, again);
    }

    #[test]
    fn random_split_is_seeded_and_sized() {
        let (train, test) = (synthetic(1000), synthetic(50));
        let request = ForgetRequest::Random {
            fraction: 0.1,
            seed: 42,
        };
        let split = UnlearningSplit::new(&train, &test, &request, ValidationHoldout::None)
            .expect("valid request");
        assert_eq!((split.forget.len(), split.retain.len()), (100, 900));
        assert_eq!(split.test_retain.len(), 50);
        assert!(split.test_forget.is_empty() && split.forgotten_classes.is_empty());
        assert!(split.forget.windows(2).all(|pair| pair[0] < pair[1]));
        assert_partition(&split, 1000);

        let same = UnlearningSplit::new(&train, &test, &request, ValidationHoldout::None)
            .expect("valid request");
        assert_eq!(split, same);
        let other_seed = ForgetRequest::Random {
            fraction: 0.1,
            seed: 43,
        };
        let other = UnlearningSplit::new(&train, &test, &other_seed, ValidationHoldout::None)
            .expect("valid request");
        assert_ne!(split.forget, other.forget);

        let holdout = ValidationHoldout::TenPercent { seed: 0 };
        let split = UnlearningSplit::new(&train, &test, &request, holdout).expect("valid");
        assert_eq!(
            (
                split.validation.len(),
                split.forget.len(),
                split.retain.len()
            ),
            (100, 90, 810)
        );
        assert_partition(&split, 1000);
    }

    #[test]
    fn split_errors() {
        let (train, test) = (synthetic(100), synthetic(20));
        let none = ValidationHoldout::None;
        let split = |request: ForgetRequest| UnlearningSplit::new(&train, &test, &request, none);
        assert!(matches!(
            split(ForgetRequest::Classes(vec![])),
            Err(DataError::EmptyForgetSet)
        ));
        assert!(matches!(
            split(ForgetRequest::Classes(vec![2, 10])),
            Err(DataError::ClassOutOfRange {
                class: 10,
                num_classes: 10
            })
        ));
        assert!(matches!(
            split(ForgetRequest::Classes((0..10).rev().collect())),
            Err(DataError::ForgetsEverything)
        ));
        for fraction in [0.0, 1.0, -0.5, 1.5, f64::NAN, 0.001, 0.999] {
            assert!(
                matches!(
                    split(ForgetRequest::Random { fraction, seed: 0 }),
                    Err(DataError::BadFraction(_))
                ),
                "fraction {fraction} accepted"
            );
        }
        let cifar =
            ImageDataset::from_parts(DatasetKind::Cifar10, vec![], vec![]).expect("empty dataset");
        assert!(matches!(
            UnlearningSplit::new(&cifar, &test, &ForgetRequest::default(), none),
            Err(DataError::DatasetMismatch { .. })
        ));
        let no_cats = train.subset(&[0, 1, 2]).expect("in range");
        assert!(matches!(
            UnlearningSplit::new(&no_cats, &test, &ForgetRequest::default(), none),
            Err(DataError::EmptyForgetSet)
        ));
    }

    #[test]
    fn requests_serialise_with_a_tag() {
        let json = serde_json::to_string(&ForgetRequest::Classes(vec![3])).expect("serialises");
        assert_eq!(json, r#"{"kind":"classes","params":[3]}"#);
        let random = ForgetRequest::Random {
            fraction: 0.1,
            seed: 7,
        };
        let json = serde_json::to_string(&random).expect("serialises");
        assert_eq!(
            json,
            r#"{"kind":"random","params":{"fraction":0.1,"seed":7}}"#
        );
        let back: ForgetRequest = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, random);
        let holdout = ValidationHoldout::TenPercent { seed: 2 };
        let json = serde_json::to_string(&holdout).expect("serialises");
        assert_eq!(json, r#"{"kind":"ten-percent","seed":2}"#);
        let back: ValidationHoldout = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, holdout);
        assert_eq!(ForgetRequest::default().to_string(), "classes 3");
    }

    #[test]
    fn balanced_subset_is_first_come() {
        let dataset = synthetic(100);
        let indices: Vec<usize> = (0..100).rev().chain([500]).collect();
        let subset = balanced_subset(&dataset, &indices, 2);
        assert_eq!(subset.len(), 20);
        assert_eq!(&subset[..3], &[99, 98, 97]);
        assert_eq!(
            dataset.subset(&subset).expect("in range").class_counts(),
            [2; 10]
        );
        assert_eq!(balanced_subset(&dataset, &[3, 13, 23], 2), vec![3, 13]);
    }

    #[test]
    fn real_cifar10_class_3_split_sizes() {
        if !real_data_available(DatasetKind::Cifar10) {
            return;
        }
        let (train, test) = real_cifar10();
        let request = ForgetRequest::default();
        let split = UnlearningSplit::new(train, test, &request, ValidationHoldout::None)
            .expect("valid request");
        assert_eq!(
            (
                split.retain.len(),
                split.forget.len(),
                split.test_retain.len(),
                split.test_forget.len()
            ),
            (45_000, 5_000, 9_000, 1_000)
        );
        let holdout = ValidationHoldout::TenPercent { seed: 1 };
        let split = UnlearningSplit::new(train, test, &request, holdout).expect("valid request");
        assert_eq!(
            (
                split.retain.len(),
                split.forget.len(),
                split.validation.len()
            ),
            (40_500, 4_500, 5_000)
        );
    }
}
