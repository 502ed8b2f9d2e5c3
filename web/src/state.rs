//! The page's state (Leptos signals) and what happens when the user picks a model, a forgotten
//! class, a method or a picture. Components read these signals and call these methods; they
//! hold no logic of their own.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use lethe_shared::catalog::{Catalog, CatalogRun, Sample, SampleSet};
use lethe_shared::data::DatasetKind;
use lethe_shared::image_input::{PreparedImage, prepare_image};
use thiserror::Error;
use web_sys::File;

use crate::engine::{ActiveBackend, Classified, Engine};
use crate::platform::{fetch_bytes, fetch_text};

/// Everything that can go wrong on the page, as a message for the user.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DemoError {
    /// A file the page needs is missing or the server failed.
    #[error("could not load {url}: {detail}")]
    Fetch {
        /// What was requested.
        url: String,
        /// Status or network error.
        detail: String,
    },
    /// `models/index.json` or a `samples/<dataset>/index.json` is unusable.
    #[error("{0}")]
    Catalog(String),
    /// Weights that do not fit their architecture, or damaged ones.
    #[error("the weights of `{run}` cannot be used: {detail}")]
    Weights {
        /// The run.
        run: String,
        /// Why.
        detail: String,
    },
    /// A picture that cannot be classified (not an image, unsupported, too large…).
    #[error("{0}")]
    Image(String),
    /// The forward pass failed.
    #[error("inference failed: {0}")]
    Inference(String),
    /// A browser API failed.
    #[error("browser error: {0}")]
    Browser(String),
}

/// The picture being classified.
#[derive(Debug, Clone, PartialEq)]
pub struct InputImage {
    /// File name (sample or upload).
    pub name: String,
    /// True class, for shipped samples.
    pub label: Option<u8>,
    /// What the model sees.
    pub prepared: PreparedImage,
}

/// The original and the unlearned model's answers for the current picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The picture's file name.
    pub image_name: String,
    /// The original model's run id.
    pub original_id: String,
    /// The unlearned model's run id.
    pub unlearned_id: String,
    /// Original model.
    pub original: Classified,
    /// Unlearned model.
    pub unlearned: Classified,
}

thread_local! {
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}

fn engine() -> Option<Rc<Engine>> {
    ENGINE.with(|engine| engine.borrow().clone())
}

/// The page's signals. `Copy`: pass it to closures freely.
#[derive(Clone, Copy)]
pub struct DemoState {
    /// The catalogue of shipped runs, once fetched.
    pub catalog: RwSignal<Option<Result<Catalog, DemoError>>>,
    /// The sample images, once fetched.
    pub samples: RwSignal<Option<Result<SampleSet, DemoError>>>,
    /// The backend in use, once chosen.
    pub backend: RwSignal<Option<ActiveBackend>>,
    /// Selected original model (run id).
    pub original: RwSignal<Option<String>>,
    /// Selected forgotten classes.
    pub forgotten: RwSignal<Vec<u8>>,
    /// Selected unlearned run (run id).
    pub unlearned: RwSignal<Option<String>>,
    /// Gallery filter.
    pub class_filter: RwSignal<Option<u8>>,
    /// The picture being classified.
    pub image: RwSignal<Option<InputImage>>,
    /// Why the last upload was refused.
    pub upload_error: RwSignal<Option<DemoError>>,
    /// The latest comparison, or why it failed.
    pub outcome: RwSignal<Option<Result<Comparison, DemoError>>>,
    /// What the page is busy with ("downloading weights…").
    pub status: RwSignal<Option<String>>,
    generation: StoredValue<u64>,
}

impl DemoState {
    /// Fresh state; call [`DemoState::start`] once.
    pub fn new() -> Self {
        Self {
            catalog: RwSignal::new(None),
            samples: RwSignal::new(None),
            backend: RwSignal::new(None),
            original: RwSignal::new(None),
            forgotten: RwSignal::new(Vec::new()),
            unlearned: RwSignal::new(None),
            class_filter: RwSignal::new(None),
            image: RwSignal::new(None),
            upload_error: RwSignal::new(None),
            outcome: RwSignal::new(None),
            status: RwSignal::new(None),
            generation: StoredValue::new(0),
        }
    }

    /// Choose the backend, fetch the catalogue and the samples, select the defaults and show the
    /// first sample of the forgotten class.
    pub fn start(self) {
        spawn_local(async move {
            self.status
                .set(Some("starting the inference engine…".into()));
            let started = Rc::new(Engine::start().await);
            self.backend.set(Some(started.backend().clone()));
            ENGINE.with(|engine| *engine.borrow_mut() = Some(started));

            self.status.set(Some("loading the model catalogue…".into()));
            let catalog = fetch_text("models/index.json")
                .await
                .and_then(|text| {
                    Catalog::from_json(&text).map_err(|error| DemoError::Catalog(error.to_string()))
                })
                .and_then(|catalog| {
                    if catalog.originals().is_empty() {
                        Err(DemoError::Catalog(
                            "the model catalogue lists no original model".into(),
                        ))
                    } else {
                        Ok(catalog)
                    }
                });
            let first_original = catalog
                .as_ref()
                .ok()
                .and_then(|catalog| catalog.originals().first().map(|run| run.id.clone()));
            self.catalog.set(Some(catalog));
            if let Some(original) = first_original {
                self.select_original(&original);
            }

            self.status.set(None);
        });
    }

    /// Show the sample images of `dataset` (fetched unless already shown) and pick the first one
    /// of the forgotten class. A picture prepared for another dataset is dropped: it has the wrong
    /// size and channels for this model.
    fn load_samples(self, dataset: DatasetKind) {
        if self.with_samples(|samples| samples.dataset) == Some(dataset) {
            return;
        }
        self.image.set(None);
        self.outcome.set(None);
        self.samples.set(None);
        spawn_local(async move {
            self.status
                .set(Some(format!("loading the {dataset} sample images…")));
            let samples = fetch_text(&SampleSet::index_path(dataset))
                .await
                .and_then(|text| {
                    SampleSet::from_json(&text)
                        .map_err(|error| DemoError::Catalog(error.to_string()))
                });
            self.status.set(None);
            // The user may have picked a model of another dataset meanwhile.
            if self.dataset() != dataset {
                return;
            }
            self.samples.set(Some(samples));
            let first = self.forgotten.get_untracked().first().copied();
            self.class_filter.set(first);
            let sample = self.with_samples(|samples| samples.of_class(first).next().cloned());
            if let Some(Some(sample)) = sample {
                self.show_sample(sample);
            }
        });
    }

    fn with_catalog<T>(&self, read: impl FnOnce(&Catalog) -> T) -> Option<T> {
        self.catalog.with_untracked(|catalog| match catalog {
            Some(Ok(catalog)) => Some(read(catalog)),
            _ => None,
        })
    }

    fn with_samples<T>(&self, read: impl FnOnce(&SampleSet) -> T) -> Option<T> {
        self.samples.with_untracked(|samples| match samples {
            Some(Ok(samples)) => Some(read(samples)),
            _ => None,
        })
    }

    /// Select an original model; its first forgotten-class set that has a Retrain to compare with
    /// (else its first set) and the preferred method follow.
    pub fn select_original(&self, id: &str) {
        let first_set = self
            .with_catalog(|catalog| {
                let sets = catalog.forgotten_sets(id);
                sets.iter()
                    .find(|classes| catalog.retrain_for(id, classes).is_some())
                    .or(sets.first())
                    .cloned()
            })
            .flatten()
            .unwrap_or_default();
        self.original.set(Some(id.to_owned()));
        self.select_forgotten(first_set);
        self.load_samples(self.dataset());
    }

    /// Select which forgotten classes to look at; the preferred method for them follows.
    pub fn select_forgotten(&self, classes: Vec<u8>) {
        let original = self.original.get_untracked().unwrap_or_default();
        let run = self
            .with_catalog(|catalog| preferred_run(catalog, &original, &classes))
            .flatten();
        if let Some(&class) = classes.first() {
            self.class_filter.set(Some(class));
        }
        self.forgotten.set(classes);
        self.unlearned.set(run);
    }

    /// Select the unlearned run to compare with.
    pub fn select_unlearned(&self, id: &str) {
        self.unlearned.set(Some(id.to_owned()));
    }

    /// The dataset of the selected original (what uploads are resized for).
    pub fn dataset(&self) -> DatasetKind {
        let original = self.original.get_untracked().unwrap_or_default();
        self.with_catalog(|catalog| catalog.find(&original).map(|run| run.model.dataset))
            .flatten()
            .or_else(|| self.with_samples(|samples| samples.dataset))
            .unwrap_or(DatasetKind::Cifar10)
    }

    /// Show a shipped sample: fetched and decoded exactly like an upload.
    pub fn show_sample(&self, sample: Sample) {
        let state = *self;
        spawn_local(async move {
            state.upload_error.set(None);
            let prepared = fetch_bytes(&sample.file).await.and_then(|bytes| {
                prepare_image(&bytes, state.dataset())
                    .map_err(|error| DemoError::Image(error.to_string()))
            });
            match prepared {
                Ok(prepared) => state.image.set(Some(InputImage {
                    name: sample
                        .file
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    label: Some(sample.label),
                    prepared,
                })),
                Err(error) => state.outcome.set(Some(Err(error))),
            }
        });
    }

    /// Classify a file the user picked or dropped; a file that is no usable picture leaves the
    /// current picture in place and explains why in [`DemoState::upload_error`].
    pub fn upload(&self, file: File) {
        let state = *self;
        spawn_local(async move {
            let name = file.name();
            let prepared = crate::platform::read_file(&file).await.and_then(|bytes| {
                prepare_image(&bytes, state.dataset())
                    .map_err(|error| DemoError::Image(format!("{name}: {error}")))
            });
            match prepared {
                Ok(prepared) => {
                    state.upload_error.set(None);
                    state.image.set(Some(InputImage {
                        name,
                        label: None,
                        prepared,
                    }));
                }
                Err(error) => state.upload_error.set(Some(error)),
            }
        });
    }

    /// Re-run both models when the selection or the picture changes. Call from an effect: it
    /// subscribes to the selection signals. Results of superseded runs are dropped.
    pub fn refresh(&self) {
        let original_id = self.original.get();
        let unlearned_id = self.unlearned.get();
        let image = self.image.get();
        let (Some(original_id), Some(unlearned_id), Some(image)) =
            (original_id, unlearned_id, image)
        else {
            return;
        };
        let runs = self.with_catalog(|catalog| {
            Some((
                catalog.find(&original_id)?.clone(),
                catalog.find(&unlearned_id)?.clone(),
            ))
        });
        let Some(Some((original, unlearned))) = runs else {
            return;
        };
        // A picture of another dataset (while the new samples load) cannot go through this model.
        let dataset = original.model.dataset;
        if image.prepared.size != dataset.image_size()
            || image.prepared.channels != dataset.channels()
        {
            return;
        }
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        let state = *self;
        spawn_local(async move {
            let result = state.compare(&original, &unlearned, &image).await;
            if state.generation.get_value() == generation {
                state.status.set(None);
                state.outcome.set(Some(result));
            }
        });
    }

    async fn compare(
        &self,
        original: &CatalogRun,
        unlearned: &CatalogRun,
        image: &InputImage,
    ) -> Result<Comparison, DemoError> {
        let engine =
            engine().ok_or_else(|| DemoError::Browser("the engine is not ready".into()))?;
        let mut models = Vec::new();
        for run in [original, unlearned] {
            if !engine.is_loaded(run) {
                self.status.set(Some(format!(
                    "downloading {} · {} weights ({})…",
                    run.title(),
                    run.method_name,
                    format_bytes(run.weights_bytes)
                )));
            }
            models.push(engine.model(run).await?);
        }
        self.status.set(Some("classifying…".into()));
        let before = engine
            .classify(&models[0], original, &image.prepared)
            .await?;
        let after = engine
            .classify(&models[1], unlearned, &image.prepared)
            .await?;
        Ok(Comparison {
            image_name: image.name.clone(),
            original_id: original.id.clone(),
            unlearned_id: unlearned.id.clone(),
            original: before,
            unlearned: after,
        })
    }
}

/// PruneLoRA when shipped (the flagship), else the first run that is not Retrain, else Retrain.
pub fn preferred_run(catalog: &Catalog, original: &str, classes: &[u8]) -> Option<String> {
    let runs = catalog.runs_forgetting(original, classes);
    runs.iter()
        .find(|run| run.method == "prunelora")
        .or_else(|| runs.iter().find(|run| run.method != "retrain"))
        .or_else(|| runs.first())
        .map(|run| run.id.clone())
}

/// "1.1 MB"-style size.
pub fn format_bytes(bytes: u64) -> String {
    let bytes = bytes as f64;
    if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else {
        format!("{:.0} kB", bytes / 1e3)
    }
}
