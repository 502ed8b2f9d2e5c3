//! The catalogue of shipped runs (`static/models/index.json`) and sample images
//! (`static/samples/<dataset>/index.json`, one set per dataset) that the browser demo reads. `lethe export-web` writes both;
//! the page only reads them, so every number it shows was measured by the trainer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::DatasetKind;
use crate::model::ModelConfig;

/// Layout version of [`Catalog`].
pub const CATALOG_FORMAT: u32 = 1;

/// Why a catalogue cannot be used.
#[derive(Debug, Error)]
pub enum CatalogError {
    /// Not the JSON of a [`Catalog`].
    #[error("the model catalogue is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by a newer Lethe.
    #[error("the model catalogue has format {found}; this build reads format {CATALOG_FORMAT}")]
    Format {
        /// The format found.
        found: u32,
    },
    /// Internally inconsistent.
    #[error("the model catalogue is inconsistent: {0}")]
    Inconsistent(String),
}

/// Every shipped run: original models and the unlearned models made from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// [`CATALOG_FORMAT`].
    pub format: u32,
    /// The runs, originals first.
    pub runs: Vec<CatalogRun>,
}

/// One shipped model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogRun {
    /// Directory name under `models/`, unique.
    pub id: String,
    /// The architecture, to rebuild the model before loading its weights.
    pub model: ModelConfig,
    /// `original`, or the unlearning method's name (`prunelora`, `retrain`, …).
    pub method: String,
    /// Display name of the method (`Original`, `PruneLoRA`, …).
    pub method_name: String,
    /// The original model this run forgot from (`None` for an original).
    pub original: Option<String>,
    /// Forgotten classes (empty for an original).
    pub forgotten_classes: Vec<u8>,
    /// Path of the Burnpack weights, relative to the site root.
    pub weights: String,
    /// Size of the weights file in bytes (shown before downloading).
    pub weights_bytes: u64,
    /// Measured metrics: `test_accuracy` for originals; `ua`, `mia_efficacy`, `ra`, `ta`,
    /// `unlearning_seconds`, `peak_rss_mib`, `epochs` for unlearned runs, and
    /// `peak_device_mib` for runs made on a GPU (absent when not measured).
    pub metrics: BTreeMap<String, f64>,
    /// Test accuracy of each class in % (`null` when a class had no test image).
    pub per_class_accuracy: Vec<Option<f64>>,
    /// One line on how the run was made (epochs, split, backend).
    #[serde(default)]
    pub note: String,
}

impl CatalogRun {
    /// Whether this is an original (trained, nothing forgotten) model.
    pub fn is_original(&self) -> bool {
        self.original.is_none()
    }

    /// "ResNet-20 · CIFAR-10"-style title from the preset and dataset.
    pub fn title(&self) -> String {
        format!("{} · {}", self.model.preset, self.model.dataset)
    }
}

impl Catalog {
    /// Parse and check a catalogue.
    pub fn from_json(text: &str) -> Result<Self, CatalogError> {
        let catalog: Catalog = serde_json::from_str(text)?;
        if catalog.format != CATALOG_FORMAT {
            return Err(CatalogError::Format {
                found: catalog.format,
            });
        }
        catalog.validate()?;
        Ok(catalog)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // Strings, numbers and plain structs only: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Ids unique; every unlearned run names an original that exists, with the same dataset,
    /// and forgets at least one class that the dataset has.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let mut seen = std::collections::BTreeSet::new();
        for run in &self.runs {
            if !seen.insert(run.id.as_str()) {
                return Err(CatalogError::Inconsistent(format!(
                    "run id `{}` appears twice",
                    run.id
                )));
            }
        }
        for run in &self.runs {
            let Some(original_id) = &run.original else {
                continue;
            };
            let original = self.find(original_id).ok_or_else(|| {
                CatalogError::Inconsistent(format!(
                    "run `{}` forgot from `{original_id}`, which is not in the catalogue",
                    run.id
                ))
            })?;
            if original.model.dataset != run.model.dataset {
                return Err(CatalogError::Inconsistent(format!(
                    "run `{}` ({}) and its original `{}` ({}) classify different datasets",
                    run.id, run.model.dataset, original.id, original.model.dataset
                )));
            }
            let classes = run.model.dataset.class_names().len();
            if run.forgotten_classes.is_empty()
                || run
                    .forgotten_classes
                    .iter()
                    .any(|&class| usize::from(class) >= classes)
            {
                return Err(CatalogError::Inconsistent(format!(
                    "run `{}` must forget classes between 0 and {}",
                    run.id,
                    classes - 1
                )));
            }
        }
        Ok(())
    }

    /// The run with this id.
    pub fn find(&self, id: &str) -> Option<&CatalogRun> {
        self.runs.iter().find(|run| run.id == id)
    }

    /// The original models.
    pub fn originals(&self) -> Vec<&CatalogRun> {
        self.runs.iter().filter(|run| run.is_original()).collect()
    }

    /// The distinct forgotten-class sets of runs made from `original`, in catalogue order.
    pub fn forgotten_sets(&self, original: &str) -> Vec<Vec<u8>> {
        let mut sets: Vec<Vec<u8>> = Vec::new();
        for run in self.unlearned_from(original) {
            if !sets.contains(&run.forgotten_classes) {
                sets.push(run.forgotten_classes.clone());
            }
        }
        sets
    }

    /// Runs made from `original`.
    pub fn unlearned_from(&self, original: &str) -> Vec<&CatalogRun> {
        self.runs
            .iter()
            .filter(|run| run.original.as_deref() == Some(original))
            .collect()
    }

    /// Runs made from `original` that forgot exactly `classes`.
    pub fn runs_forgetting(&self, original: &str, classes: &[u8]) -> Vec<&CatalogRun> {
        self.unlearned_from(original)
            .into_iter()
            .filter(|run| run.forgotten_classes == classes)
            .collect()
    }

    /// The Retrain run (the gold standard) for `original` and `classes`, if shipped.
    pub fn retrain_for(&self, original: &str, classes: &[u8]) -> Option<&CatalogRun> {
        self.runs_forgetting(original, classes)
            .into_iter()
            .find(|run| run.method == "retrain")
    }
}

/// The shipped sample images: real **test**-set images, never seen in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleSet {
    /// The dataset they come from.
    pub dataset: DatasetKind,
    /// The images.
    pub samples: Vec<Sample>,
}

/// One sample image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// PNG path relative to the site root.
    pub file: String,
    /// True label.
    pub label: u8,
    /// Index of the image in the official test set.
    pub test_index: usize,
}

impl SampleSet {
    /// Directory of a dataset's samples, relative to the site root (`samples/cifar10`).
    pub fn dir(dataset: DatasetKind) -> String {
        format!("samples/{}", dataset.name())
    }

    /// Index of a dataset's samples, relative to the site root (`samples/cifar10/index.json`).
    pub fn index_path(dataset: DatasetKind) -> String {
        format!("{}/index.json", Self::dir(dataset))
    }

    /// Parse a sample index.
    pub fn from_json(text: &str) -> Result<Self, CatalogError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Samples of one class (all when `class` is `None`).
    pub fn of_class(&self, class: Option<u8>) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(move |sample| class.is_none_or(|class| sample.label == class))
    }
}

/// A metric as the demo shows it: catalogue key, column label, one sentence for learners, and
/// whether higher is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricInfo {
    /// Key in [`CatalogRun::metrics`].
    pub key: &'static str,
    /// Short label.
    pub label: &'static str,
    /// One sentence for someone new to unlearning.
    pub explanation: &'static str,
}

/// The metrics of the demo's table, in display order.
pub const METRICS: [MetricInfo; 6] = [
    MetricInfo {
        key: "ua",
        label: "UA (%)",
        explanation: "Unlearning accuracy: how often the model now gets the forgotten class's training images wrong (100 = fully forgotten).",
    },
    MetricInfo {
        key: "mia_efficacy",
        label: "MIA-Efficacy (%)",
        explanation: "Share of forgotten images that a membership-inference attack no longer recognises as training data (higher = better hidden).",
    },
    MetricInfo {
        key: "ra",
        label: "RA (%)",
        explanation: "Remaining accuracy: accuracy on the training images it was allowed to keep (should stay close to Retrain's).",
    },
    MetricInfo {
        key: "ta",
        label: "TA (%)",
        explanation: "Test accuracy on the classes it kept, on images it never trained on (generalisation should survive forgetting).",
    },
    MetricInfo {
        key: "unlearning_seconds",
        label: "RTE (s)",
        explanation: "Run-time efficiency: wall-clock seconds the forgetting took (Retrain: training from scratch).",
    },
    MetricInfo {
        key: "peak_rss_mib",
        label: "Peak memory (MiB)",
        explanation: "Largest memory the forgetting process used (resident set size on the CPU).",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Preset;

    fn run(id: &str, method: &str, original: Option<&str>, classes: &[u8]) -> CatalogRun {
        CatalogRun {
            id: id.into(),
            model: Preset::Resnet20.config(DatasetKind::Cifar10),
            method: method.into(),
            method_name: method.into(),
            original: original.map(str::to_owned),
            forgotten_classes: classes.to_vec(),
            weights: format!("models/{id}/model.bpk"),
            weights_bytes: 1,
            metrics: BTreeMap::new(),
            per_class_accuracy: Vec::new(),
            note: String::new(),
        }
    }

    fn catalog() -> Catalog {
        Catalog {
            format: CATALOG_FORMAT,
            runs: vec![
                run("orig", "original", None, &[]),
                run("orig-c3-prunelora", "prunelora", Some("orig"), &[3]),
                run("orig-c3-retrain", "retrain", Some("orig"), &[3]),
                run("orig-c5-ft", "ft", Some("orig"), &[5]),
            ],
        }
    }

    #[test]
    fn queries_follow_the_original_and_the_classes() {
        let catalog = Catalog::from_json(&catalog().to_json()).unwrap();
        assert_eq!(catalog.originals().len(), 1);
        assert_eq!(catalog.forgotten_sets("orig"), vec![vec![3], vec![5]]);
        let ids: Vec<&str> = catalog
            .runs_forgetting("orig", &[3])
            .iter()
            .map(|run| run.id.as_str())
            .collect();
        assert_eq!(ids, ["orig-c3-prunelora", "orig-c3-retrain"]);
        assert_eq!(
            catalog.retrain_for("orig", &[3]).map(|run| run.id.as_str()),
            Some("orig-c3-retrain")
        );
        assert!(catalog.retrain_for("orig", &[5]).is_none());
    }

    #[test]
    fn inconsistent_catalogues_are_refused() {
        let mut duplicate = catalog();
        duplicate.runs.push(run("orig", "original", None, &[]));
        assert!(matches!(
            duplicate.validate(),
            Err(CatalogError::Inconsistent(_))
        ));
        let mut orphan = catalog();
        orphan.runs.push(run("x", "ft", Some("missing"), &[3]));
        assert!(orphan.validate().is_err());
        let mut bad_class = catalog();
        bad_class.runs.push(run("y", "ft", Some("orig"), &[10]));
        assert!(bad_class.validate().is_err());
        let mut newer = catalog();
        newer.format = CATALOG_FORMAT + 1;
        assert!(matches!(
            Catalog::from_json(&newer.to_json()),
            Err(CatalogError::Format { .. })
        ));
        assert!(matches!(
            Catalog::from_json("{"),
            Err(CatalogError::Json(_))
        ));
    }

    #[test]
    fn samples_filter_by_class() {
        let set = SampleSet {
            dataset: DatasetKind::Cifar10,
            samples: (0..6)
                .map(|index| Sample {
                    file: format!("samples/{index}.png"),
                    label: (index % 3) as u8,
                    test_index: index,
                })
                .collect(),
        };
        assert_eq!(set.of_class(None).count(), 6);
        assert_eq!(set.of_class(Some(1)).count(), 2);
        assert_eq!(set.of_class(Some(9)).count(), 0);
        assert_eq!(
            SampleSet::index_path(DatasetKind::FashionMnist),
            "samples/fashion-mnist/index.json"
        );
    }
}
