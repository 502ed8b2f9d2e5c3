//! What the browser demo needs from the trainer: `lethe export-web` (the catalogue of shipped
//! runs, their weights and real test-set sample images) and `lethe predict` (native class
//! probabilities for an image file, through the same decoding, normalisation and model code the
//! page runs — the browser test compares the two).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::Device;
use lethe_shared::catalog::{CATALOG_FORMAT, Catalog, CatalogRun, Sample, SampleSet};
use lethe_shared::data::split::ValidationHoldout;
use lethe_shared::data::{DatasetKind, ImageDataset};
use lethe_shared::image_input::{encode_png, prepare_image};
use lethe_shared::inference::{logits, softmax, top_k};
use lethe_shared::model::ModelConfig;
use lethe_shared::weights::{self, Manifest, Precision};
use serde::Serialize;

use crate::unlearn::report::MethodRow;
use crate::unlearn::{MethodKind, UnlearnConfig};

/// One image's prediction, as `lethe predict --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// The image file.
    pub image: PathBuf,
    /// Most probable class.
    pub predicted: usize,
    /// Its name.
    pub predicted_name: String,
    /// Softmax probability of every class, in label order.
    pub probabilities: Vec<f32>,
}

/// Class probabilities of each image under the model in `weights`.
pub fn predict(
    weights_path: &Path,
    images: &[PathBuf],
    device: &Device,
) -> anyhow::Result<Vec<Prediction>> {
    let (manifest, model) = weights::load_run(weights_path, device)
        .with_context(|| format!("loading {}", weights_path.display()))?;
    // The browser's inference path: eval mode, BatchNorm folded into the convolutions.
    let model = model.for_inference();
    let dataset = manifest.model.dataset;
    images
        .iter()
        .map(|path| {
            let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let prepared =
                prepare_image(&bytes, dataset).with_context(|| format!("{}", path.display()))?;
            let row: Vec<f32> = logits(&model, &prepared.planar, dataset, device)
                .into_data()
                .iter::<f32>()
                .collect();
            let probabilities = softmax(&row);
            let predicted = top_k(&probabilities, 1)
                .first()
                .map(|&(class, _)| class)
                .context("the model has no classes")?;
            Ok(Prediction {
                image: path.clone(),
                predicted,
                predicted_name: manifest
                    .class_names
                    .get(predicted)
                    .cloned()
                    .unwrap_or_else(|| predicted.to_string()),
                probabilities,
            })
        })
        .collect()
}

/// Human-readable predictions: the top three classes of each image.
pub fn format_predictions(predictions: &[Prediction], class_names: &[&str]) -> String {
    let mut text = String::new();
    for prediction in predictions {
        let top: Vec<String> = top_k(&prediction.probabilities, 3)
            .into_iter()
            .map(|(class, probability)| {
                let name = class_names.get(class).copied().unwrap_or("?");
                format!("{name} {:.2} %", 100.0 * probability)
            })
            .collect();
        text.push_str(&format!(
            "{}: {}\n",
            prediction.image.display(),
            top.join(", ")
        ));
    }
    text
}

/// What `lethe export-web` writes.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Run directories (originals and unlearned runs made from them).
    pub runs: Vec<PathBuf>,
    /// The site's asset directory (`static/`): `models/` and `samples/` go inside.
    pub out: PathBuf,
    /// Test images per class to export as samples (0: keep the existing samples).
    pub samples_per_class: usize,
    /// Extra words for a run's one-line note, by run id (e.g. where its time was measured). For a
    /// listed run given again from the catalogue they replace its earlier extra words.
    pub notes: BTreeMap<String, String>,
    /// Keep the runs already listed in `out/models/index.json` and add the given ones (a run
    /// with the same id is replaced); their originals may be among the listed runs. Without it
    /// the catalogue holds exactly the given runs.
    pub add: bool,
    /// How the given runs' weights are stored in `out`. With [`Precision::F16`] the files are
    /// re-encoded at half the size, and each run's f16 copy is checked against the measured f32
    /// model on its dataset's full test set (`test_sets`): the share of images given the same
    /// class is recorded as the `f16_agreement` metric and stated in the run's note.
    pub precision: Precision,
}

/// The catalogue metric holding, for a run stored as f16, the share (%) of test images the f16
/// weights classify as the f32 weights whose metrics the catalogue reports.
pub const F16_AGREEMENT: &str = "f16_agreement";

/// The weights a run's directory in `out/models/` receives.
enum WeightsCopy<'a> {
    /// The run's own file, byte for byte.
    File(&'a Path),
    /// Re-encoded bytes (f16).
    Encoded(Vec<u8>),
}

/// Copy each run's weights and manifest to `out/models/<id>/`, write `out/models/index.json`
/// and, when asked, sample PNGs of real test images of every dataset the runs use, each with its
/// `out/samples/<dataset>/index.json` (`test_sets` holds those datasets' test splits).
/// Everything is checked before anything is written. With `add`, the runs already in the
/// catalogue stay (their files are not touched) and the given ones join them.
pub fn export_web(options: &ExportOptions, test_sets: &[ImageDataset]) -> anyhow::Result<Catalog> {
    if options.runs.is_empty() {
        bail!("name at least one run directory with --run");
    }
    let models_dir = options.out.join("models");
    let existing = if options.add {
        let path = models_dir.join("index.json");
        let text = fs::read_to_string(&path).with_context(|| {
            format!(
                "--add keeps the runs of {}, which cannot be read",
                path.display()
            )
        })?;
        Catalog::from_json(&text).with_context(|| format!("parsing {}", path.display()))?
    } else {
        Catalog {
            format: CATALOG_FORMAT,
            runs: Vec::new(),
        }
    };
    let mut loaded = Vec::new();
    for dir in &options.runs {
        let (weights_file, manifest_file) = weights::resolve_paths(dir)?;
        let manifest = weights::read_manifest(&manifest_file)?;
        let row = read_row(dir)?;
        loaded.push((dir.clone(), weights_file, manifest_file, manifest, row));
    }
    // Originals by id with their model: the given ones, then (with `add`) the listed ones.
    let mut originals: Vec<(String, &ModelConfig)> = loaded
        .iter()
        .filter(|(_, _, _, manifest, _)| manifest.forgotten_classes.is_empty())
        .map(|(dir, _, _, manifest, _)| (original_id(dir, manifest), &manifest.model))
        .collect();
    for listed in existing.originals() {
        if !originals.iter().any(|(id, _)| *id == listed.id) {
            originals.push((listed.id.clone(), &listed.model));
        }
    }
    let mut runs = Vec::new();
    let mut copies = Vec::new();
    for (dir, weights_file, manifest_file, manifest, row) in &loaded {
        let (copy, weights_bytes, agreement) = match options.precision {
            Precision::F32 => {
                let bytes = fs::metadata(weights_file)
                    .with_context(|| format!("reading {}", weights_file.display()))?
                    .len();
                (WeightsCopy::File(weights_file.as_path()), bytes, None)
            }
            Precision::F16 => {
                let test_set = test_sets
                    .iter()
                    .find(|set| set.kind == manifest.model.dataset)
                    .with_context(|| {
                        format!(
                            "checking the f16 weights of {} needs the {} test set",
                            dir.display(),
                            manifest.model.dataset
                        )
                    })?;
                let (bytes, measured) = encode_f16(weights_file, manifest, test_set)?;
                let size = bytes.len() as u64;
                (WeightsCopy::Encoded(bytes), size, Some(measured))
            }
        };
        let original = if manifest.forgotten_classes.is_empty() {
            None
        } else {
            let matching: Vec<&String> = originals
                .iter()
                .filter(|(_, original)| original.preset == manifest.model.preset)
                .filter(|(_, original)| original.dataset == manifest.model.dataset)
                .map(|(id, _)| id)
                .collect();
            match matching.as_slice() {
                [one] => Some((*one).clone()),
                [] => bail!(
                    "{} forgot from a {} model, but no original {} run was given with --run",
                    dir.display(),
                    manifest.model.describe(),
                    manifest.model.preset
                ),
                _ => bail!(
                    "several original {} runs were given; export one per invocation",
                    manifest.model.preset
                ),
            }
        };
        let id = match &original {
            None => original_id(dir, manifest),
            Some(original) => {
                let classes: Vec<String> = manifest
                    .forgotten_classes
                    .iter()
                    .map(u8::to_string)
                    .collect();
                format!(
                    "{original}-forget-{}-{}",
                    classes.join("-"),
                    manifest.method
                )
            }
        };
        // A shipped run given again (e.g. `--run static/models/<id>` to store it as f16) has no
        // row.json beside it: what the catalogue knew about it stays, except that its
        // description is written afresh from its manifest.
        let listed = existing.find(&id).filter(|_| row.is_none());
        let mut note = run_note(original.is_some(), manifest, row.as_ref(), listed);
        // A `--note` given now joins a new run's note, and replaces a listed run's earlier extra
        // words (so a note can be corrected in place).
        if let Some(extra) = options.notes.get(&id) {
            note.extra = vec![extra.clone()];
        }
        // `agreement`: `Some(Some(x))` re-encoded now, `Some(None)` f16 already (what the
        // catalogue measured when it was re-encoded stays), `None` copied as it is.
        let f16_agreement = match agreement {
            None => None,
            Some(measured) => {
                let listed_agreement = existing
                    .find(&id)
                    .and_then(|listed| listed.metrics.get(F16_AGREEMENT).copied());
                let Some(agreement) = measured.or(listed_agreement) else {
                    bail!(
                        "{} is stored as f16 already and is not a listed run: its agreement with the f32 weights cannot be measured",
                        dir.display()
                    );
                };
                // The storage clause is rewritten, not stacked, when a run is given again.
                note.storage = Some(format!(
                    "{F16_NOTE}: the same class as the measured f32 model for {agreement:.2} % of the test images"
                ));
                Some(agreement)
            }
        };
        let mut run = catalog_run(
            id,
            original,
            manifest,
            row.as_ref(),
            listed,
            note.to_string(),
            weights_bytes,
        );
        if let Some(agreement) = f16_agreement {
            run.metrics.insert(F16_AGREEMENT.to_owned(), agreement);
        }
        copies.push((copy, manifest_file, run.id.clone()));
        runs.push(run);
    }
    // With `add`, the listed runs that were not given again stay.
    let given: Vec<String> = runs.iter().map(|run| run.id.clone()).collect();
    runs.extend(
        existing
            .runs
            .into_iter()
            .filter(|run| !given.contains(&run.id)),
    );
    // Originals first, then by id: a stable catalogue.
    runs.sort_by(|a, b| b.is_original().cmp(&a.is_original()).then(a.id.cmp(&b.id)));
    let catalog = Catalog {
        format: CATALOG_FORMAT,
        runs,
    };
    catalog.validate()?;
    if let Some(unknown) = options.notes.keys().find(|id| catalog.find(id).is_none()) {
        bail!("--note names `{unknown}`, which is not among the exported runs");
    }

    let datasets: Vec<DatasetKind> = catalog.runs.iter().fold(Vec::new(), |mut kinds, run| {
        if !kinds.contains(&run.model.dataset) {
            kinds.push(run.model.dataset);
        }
        kinds
    });
    let sample_sources: Vec<&ImageDataset> = if options.samples_per_class > 0 {
        datasets
            .iter()
            .map(|&kind| {
                test_sets
                    .iter()
                    .find(|set| set.kind == kind)
                    .with_context(|| format!("sample export needs the {kind} test set"))
            })
            .collect::<anyhow::Result<_>>()?
    } else {
        Vec::new()
    };

    for (weights, manifest_file, id) in &copies {
        let target = models_dir.join(id);
        fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
        match weights {
            WeightsCopy::File(file) => copy_unless_same(file, &target.join("model.bpk"))?,
            WeightsCopy::Encoded(bytes) => {
                weights::write_atomic(&target.join("model.bpk"), bytes)?;
            }
        }
        copy_unless_same(manifest_file, &target.join("manifest.json"))?;
    }
    weights::write_atomic(&models_dir.join("index.json"), catalog.to_json().as_bytes())?;

    for test_set in sample_sources {
        export_samples(test_set, options.samples_per_class, &options.out)?;
    }
    Ok(catalog)
}

/// Originals keep their directory's name (`resnet20-cifar10`), else `<preset>-<dataset>`.
fn original_id(dir: &Path, manifest: &Manifest) -> String {
    let dir = if dir.extension().is_some_and(|ext| ext == "bpk") {
        dir.parent().unwrap_or(dir)
    } else {
        dir
    };
    dir.file_name()
        .and_then(|name| name.to_str())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}-{}", manifest.model.preset, manifest.model.dataset))
}

/// `row.json` of an unlearning run (RTE, peak memory, epochs), when present.
fn read_row(dir: &Path) -> anyhow::Result<Option<MethodRow>> {
    let path = dir.join("row.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let row = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(Some(row))
}

/// How an f16 run's note says so.
const F16_NOTE: &str = "weights stored as f16";

/// A catalogue note, `"; "`-separated clauses: the description written by the export from the
/// run's manifest (method, epochs, the data it trained on, backend), the extra words given with
/// `--note`, and last the f16 storage clause written by `--f16`. A run given again gets its
/// clauses replaced one by one, never stacked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunNote {
    description: String,
    extra: Vec<String>,
    storage: Option<String>,
}

impl RunNote {
    /// A note of one clause.
    fn new(description: String) -> Self {
        RunNote {
            description,
            extra: Vec::new(),
            storage: None,
        }
    }

    fn parse(note: &str) -> Self {
        let mut clauses = note.split("; ");
        let description = clauses.next().unwrap_or_default().to_owned();
        let mut parsed = RunNote::new(description);
        for clause in clauses {
            if clause.starts_with(F16_NOTE) {
                parsed.storage = Some(clause.to_owned());
            } else {
                parsed.extra.push(clause.to_owned());
            }
        }
        parsed
    }
}

impl std::fmt::Display for RunNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)?;
        for clause in self.extra.iter().chain(&self.storage) {
            write!(f, "; {clause}")?;
        }
        Ok(())
    }
}

/// A run's note, before any `--note` and f16 clause of this export. An original's description
/// is its model and test accuracy. An unlearned run's is written from its configuration
/// ([`describe_unlearning`]); with none readable, its method and epochs (its row's, or its
/// catalogue entry's) if known, else its model. A run `listed` in the catalogue keeps its listed
/// note, with the description replaced when a fresh one can be written from its manifest.
fn run_note(
    unlearned: bool,
    manifest: &Manifest,
    row: Option<&MethodRow>,
    listed: Option<&CatalogRun>,
) -> RunNote {
    let method_name = method_display_name(manifest, unlearned);
    let epochs = row.map(|row| row.epochs).or_else(|| {
        listed
            .and_then(|listed| listed.metrics.get("epochs"))
            .map(|&epochs| epochs as usize)
    });
    let fresh = if unlearned {
        describe_unlearning(&method_name, manifest, row, epochs)
    } else {
        Some(model_description(manifest))
    };
    match (listed, fresh) {
        (Some(listed), fresh) => {
            let mut note = RunNote::parse(&listed.note);
            if let Some(description) = fresh {
                note.description = description;
            }
            note
        }
        (None, Some(description)) => RunNote::new(description),
        (None, None) => RunNote::new(match epochs {
            Some(epochs) => format!("{method_name}, {epochs} epoch(s)"),
            None => model_description(manifest),
        }),
    }
}

/// The description of an unlearned run (its note's first clause): method, epochs, the data its
/// training steps read (and the validation hold-out, if any), backend — from the run's
/// configuration in its manifest (or in `row.json`); `None` when neither is readable.
/// `epochs`: those the run made, else the configuration's effective ones.
fn describe_unlearning(
    method_name: &str,
    manifest: &Manifest,
    row: Option<&MethodRow>,
    epochs: Option<usize>,
) -> Option<String> {
    let config = serde_json::from_value::<UnlearnConfig>(manifest.config.clone())
        .ok()
        .or_else(|| row.and_then(|row| row.config.clone()))?;
    let method = config.method.method();
    let epochs = epochs.unwrap_or_else(|| config.epochs_for(method.as_ref(), &manifest.model));
    let mut data = method.trains_on().describe(&config.limits);
    if config.validation != ValidationHoldout::None {
        data = format!("{data} after {}", config.validation);
    }
    Some(format!(
        "{method_name}, {epochs} epoch(s), {data}, {} backend",
        config_backend(manifest)
    ))
}

/// "Original" for an original; an unlearned run's method as the paper's tables name it.
fn method_display_name(manifest: &Manifest, unlearned: bool) -> String {
    if !unlearned {
        return String::from("Original");
    }
    MethodKind::ALL
        .iter()
        .find(|kind| kind.name() == manifest.method)
        .map(|kind| kind.display_name().to_owned())
        .unwrap_or_else(|| manifest.method.clone())
}

/// The model and, when recorded, its test accuracy.
fn model_description(manifest: &Manifest) -> String {
    match manifest.metrics.get("test_accuracy") {
        Some(accuracy) => format!(
            "{}, {accuracy:.2} % test accuracy",
            manifest.model.describe()
        ),
        None => manifest.model.describe(),
    }
}

/// The run's weights re-encoded as f16, and the share (%) of `test_set` images the f16 copy
/// gives the same class as the f32 weights (Lethe's inference path, on the CPU); `None` when
/// the file is f16 already (then there are no f32 weights here to compare with).
fn encode_f16(
    weights_file: &Path,
    manifest: &Manifest,
    test_set: &ImageDataset,
) -> anyhow::Result<(Vec<u8>, Option<f64>)> {
    let device = Device::flex();
    let bytes =
        fs::read(weights_file).with_context(|| format!("reading {}", weights_file.display()))?;
    let source_bytes = bytes.len();
    if weights::stored_precision(bytes.clone(), &manifest.model, &device)? == Precision::F16 {
        return Ok((bytes, None));
    }
    let full = weights::decode_model(bytes, &manifest.model, &device)
        .with_context(|| format!("loading {}", weights_file.display()))?;
    let half_bytes = weights::encode_model_as(&full, &manifest.model, Precision::F16)?;
    let half = weights::decode_model(half_bytes.clone(), &manifest.model, &device)
        .context("reading back the f16 weights")?;
    let indices: Vec<usize> = (0..test_set.len()).collect();
    let expected = crate::eval::predict(&full, test_set, &indices, 500, &device);
    let got = crate::eval::predict(&half, test_set, &indices, 500, &device);
    let same = expected.iter().zip(&got).filter(|(a, b)| a == b).count();
    let agreement = 100.0 * same as f64 / indices.len().max(1) as f64;
    tracing::info!(
        "{}: f16 weights {source_bytes} → {} bytes, the same class for {agreement:.2} % of {} test images",
        weights_file.display(),
        half_bytes.len(),
        indices.len()
    );
    Ok((half_bytes, Some(agreement)))
}

/// The catalogue entry of a run. Its metrics: the manifest's, with the row's RTE, epochs and
/// peak memory; a run `listed` in the catalogue (given again, without a row) keeps the listed ones.
fn catalog_run(
    id: String,
    original: Option<String>,
    manifest: &Manifest,
    row: Option<&MethodRow>,
    listed: Option<&CatalogRun>,
    note: String,
    weights_bytes: u64,
) -> CatalogRun {
    let mut metrics: BTreeMap<String, f64> = match listed {
        Some(listed) => listed.metrics.clone(),
        None => manifest.metrics.clone(),
    };
    if let Some(row) = row {
        metrics.insert("unlearning_seconds".into(), row.seconds);
        metrics.insert("epochs".into(), row.epochs as f64);
        if let Some(peak) = row.peak_rss_mib {
            metrics.insert("peak_rss_mib".into(), peak);
        }
        if let Some(peak) = row.peak_device_mib {
            metrics.insert("peak_device_mib".into(), peak);
        }
    }
    CatalogRun {
        id: id.clone(),
        model: manifest.model.clone(),
        method: manifest.method.clone(),
        method_name: method_display_name(manifest, original.is_some()),
        original,
        forgotten_classes: manifest.forgotten_classes.clone(),
        weights: format!("models/{id}/model.bpk"),
        weights_bytes,
        metrics,
        per_class_accuracy: manifest.per_class_accuracy.clone(),
        note,
    }
}

fn config_backend(manifest: &Manifest) -> String {
    manifest
        .config
        .get("backend")
        .and_then(|backend| backend.as_str())
        .unwrap_or("unknown")
        .to_owned()
}

fn copy_unless_same(from: &Path, to: &Path) -> anyhow::Result<()> {
    let same = match (fs::canonicalize(from), fs::canonicalize(to)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same {
        let bytes = fs::read(from).with_context(|| format!("reading {}", from.display()))?;
        weights::write_atomic(to, &bytes)?;
    }
    Ok(())
}

/// The first `per_class` images of each class of the **test** set as PNGs in
/// `out/samples/<dataset>/`, with an index.
fn export_samples(test_set: &ImageDataset, per_class: usize, out: &Path) -> anyhow::Result<()> {
    let dataset: DatasetKind = test_set.kind;
    let samples_dir = out.join(SampleSet::dir(dataset));
    fs::create_dir_all(&samples_dir)
        .with_context(|| format!("creating {}", samples_dir.display()))?;
    let mut taken = vec![0usize; dataset.class_names().len()];
    let mut samples = Vec::new();
    for index in 0..test_set.len() {
        let label = test_set.label(index);
        let Some(count) = taken.get_mut(usize::from(label)) else {
            continue;
        };
        if *count >= per_class {
            continue;
        }
        *count += 1;
        let name = format!(
            "{}-{:05}.png",
            file_slug(dataset.class_names()[usize::from(label)]),
            index
        );
        let png = encode_png(
            test_set.image(index),
            dataset.channels(),
            dataset.image_size(),
        )?;
        weights::write_atomic(&samples_dir.join(&name), &png)?;
        samples.push(Sample {
            file: format!("{}/{name}", SampleSet::dir(dataset)),
            label,
            test_index: index,
        });
        if taken.iter().all(|&count| count >= per_class) {
            break;
        }
    }
    let set = SampleSet { dataset, samples };
    let json = serde_json::to_string_pretty(&set)?;
    weights::write_atomic(&samples_dir.join("index.json"), json.as_bytes())?;
    Ok(())
}

/// A class name as a file-name stem: lower case, runs of anything but ASCII letters and digits
/// as one `-` ("T-shirt/top" → `t-shirt-top`, "Ankle boot" → `ankle-boot`).
fn file_slug(name: &str) -> String {
    let mut slug = String::new();
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::{RunNote, file_slug};

    #[test]
    fn a_note_splits_into_description_extra_words_and_storage_and_back() {
        let text = "FT, 2 epoch(s), first 9000 images of D_r, cpu backend; a short run; no ViT \
                    Retrain shipped yet; weights stored as f16: the same class for 99.97 %";
        let note = RunNote::parse(text);
        assert_eq!(
            note.description,
            "FT, 2 epoch(s), first 9000 images of D_r, cpu backend"
        );
        assert_eq!(note.extra, ["a short run", "no ViT Retrain shipped yet"]);
        assert_eq!(
            note.storage.as_deref(),
            Some("weights stored as f16: the same class for 99.97 %")
        );
        assert_eq!(note.to_string(), text);

        let bare = RunNote::parse("Retrain, 12 epoch(s), full D_r, cpu backend");
        assert!(bare.extra.is_empty() && bare.storage.is_none());
        assert_eq!(
            bare.to_string(),
            "Retrain, 12 epoch(s), full D_r, cpu backend"
        );
    }

    #[test]
    fn replaced_clauses_keep_their_places() {
        let mut note = RunNote::parse(
            "GA, 2 epoch(s), first 9000 images of D_r, cpu backend; a short run; weights stored \
             as f16: 99.98 %",
        );
        note.description =
            String::from("GA, 2 epoch(s), D_f only (split: first 9000 images of D_r), cpu backend");
        note.extra = vec![String::from("corrected")];
        assert_eq!(
            note.to_string(),
            "GA, 2 epoch(s), D_f only (split: first 9000 images of D_r), cpu backend; corrected; \
             weights stored as f16: 99.98 %"
        );
        // A storage clause arriving later goes last, after words added in the same export.
        let mut fresh = RunNote::parse("FT, 5 epoch(s), full D_r, cpu backend; made here");
        fresh.storage = Some(String::from("weights stored as f16: 100.00 %"));
        assert_eq!(
            fresh.to_string(),
            "FT, 5 epoch(s), full D_r, cpu backend; made here; weights stored as f16: 100.00 %"
        );
    }

    #[test]
    fn class_names_become_safe_file_names() {
        assert_eq!(file_slug("T-shirt/top"), "t-shirt-top");
        assert_eq!(file_slug("Ankle boot"), "ankle-boot");
        assert_eq!(file_slug("cat"), "cat");
        assert_eq!(file_slug("  odd // name  "), "odd-name");
    }
}
