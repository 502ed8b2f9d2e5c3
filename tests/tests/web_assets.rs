//! What the browser demo loads: the shipped catalogue (`static/models/index.json`), its weights,
//! the sample images (real test images of each dataset), and `lethe export-web` / `lethe predict`, whose
//! probabilities the browser test compares with the page's.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use lethe_shared::catalog::{Catalog, SampleSet};
use lethe_shared::data::{DataSplit, DatasetKind};
use lethe_shared::image_input::prepare_image;
use lethe_shared::inference::{logits, softmax};
use lethe_shared::weights::{self, Precision, decode_model};
use lethe_tests::{data_dir, manifest_dir};
use lethe_trainer::web_export::{ExportOptions, F16_AGREEMENT, export_web, predict};

fn static_dir() -> std::path::PathBuf {
    manifest_dir().join("../static")
}

#[test]
fn the_shipped_catalogue_is_consistent_and_every_model_loads() {
    let text = fs::read_to_string(static_dir().join("models/index.json")).unwrap();
    let catalog = Catalog::from_json(&text).unwrap();
    assert!(!catalog.originals().is_empty());
    let device = Device::flex();
    for run in &catalog.runs {
        let bytes = fs::read(static_dir().join(&run.weights)).unwrap();
        assert_eq!(bytes.len() as u64, run.weights_bytes, "{}", run.id);
        decode_model(bytes, &run.model, &device)
            .unwrap_or_else(|error| panic!("{}: {error}", run.id));
        let manifest = weights::read_manifest(
            &static_dir()
                .join(&run.weights)
                .with_file_name("manifest.json"),
        )
        .unwrap();
        assert_eq!(manifest.model, run.model, "{}", run.id);
        assert_eq!(
            manifest.forgotten_classes, run.forgotten_classes,
            "{}",
            run.id
        );
        if !run.is_original() {
            for key in ["ua", "mia_efficacy", "ra", "ta", "unlearning_seconds"] {
                assert!(run.metrics.contains_key(key), "{} lacks {key}", run.id);
            }
        }
    }
    // The demo's point: at least one original has an unlearned model and its Retrain.
    let original = &catalog.originals()[0].id;
    let sets = catalog.forgotten_sets(original);
    assert!(
        sets.iter()
            .any(|classes| catalog.retrain_for(original, classes).is_some())
    );
    // What the page offers (issue 5): the ResNet-20 can forget any CIFAR-10 class with
    // PruneLoRA, "cat" with several methods, and a second dataset is there.
    for class in 0..10u8 {
        assert!(
            catalog
                .runs_forgetting("resnet20-cifar10", &[class])
                .iter()
                .any(|run| run.method == "prunelora"),
            "no PruneLoRA run forgetting class {class}"
        );
    }
    assert!(catalog.runs_forgetting("resnet20-cifar10", &[3]).len() >= 4);
    assert!(
        catalog
            .originals()
            .iter()
            .any(|run| run.model.dataset == DatasetKind::FashionMnist
                && !catalog.unlearned_from(&run.id).is_empty())
    );
}

#[test]
fn shipped_samples_are_real_test_images_pixel_for_pixel() {
    let catalog =
        Catalog::from_json(&fs::read_to_string(static_dir().join("models/index.json")).unwrap())
            .unwrap();
    let mut datasets: Vec<DatasetKind> = catalog.runs.iter().map(|run| run.model.dataset).collect();
    datasets.sort_by_key(|dataset| dataset.name());
    datasets.dedup();
    // Every dataset the page offers has its own samples, taken from its own test set.
    for dataset in datasets {
        let text = fs::read_to_string(static_dir().join(SampleSet::index_path(dataset)))
            .unwrap_or_else(|error| panic!("samples of {dataset}: {error}"));
        let samples = SampleSet::from_json(&text).unwrap();
        assert_eq!(samples.dataset, dataset);
        let test_set = dataset.load(&data_dir(), DataSplit::Test).unwrap();
        let mut per_class = BTreeMap::new();
        for sample in &samples.samples {
            *per_class.entry(sample.label).or_insert(0) += 1;
            let name = sample
                .file
                .strip_prefix(&format!("{}/", SampleSet::dir(dataset)))
                .unwrap_or_else(|| panic!("{} is not in its dataset's directory", sample.file));
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c)),
                "{name}: not a plain file name"
            );
            assert_eq!(test_set.label(sample.test_index), sample.label);
            let png = fs::read(static_dir().join(&sample.file)).unwrap();
            let prepared = prepare_image(&png, dataset).unwrap();
            assert_eq!(
                prepared.planar,
                test_set.image(sample.test_index),
                "{}",
                sample.file
            );
        }
        assert_eq!(per_class.len(), 10, "{dataset}");
        assert!(per_class.values().all(|&count| count == 10), "{dataset}");
    }
}

#[test]
fn predict_on_a_sample_png_equals_the_model_on_the_dataset_image() {
    let device = Device::flex();
    let run = static_dir().join("models/resnet20-cifar10");
    let samples: SampleSet = SampleSet::from_json(
        &fs::read_to_string(static_dir().join(SampleSet::index_path(DatasetKind::Cifar10)))
            .unwrap(),
    )
    .unwrap();
    let chosen: Vec<_> = samples.samples.iter().step_by(17).collect();
    let files: Vec<_> = chosen
        .iter()
        .map(|sample| static_dir().join(&sample.file))
        .collect();
    let predictions = predict(&run, &files, &device).unwrap();

    let (_, model) = weights::load_run(&run, &device).unwrap();
    // The same inference path as `predict` (eval mode, BatchNorm folded), so the only
    // difference left is PNG decoding against the dataset's bytes: the results must be equal.
    let model = model.for_inference();
    let test_set = DatasetKind::Cifar10
        .load(&data_dir(), DataSplit::Test)
        .unwrap();
    for (sample, prediction) in chosen.iter().zip(&predictions) {
        let row: Vec<f32> = logits(
            &model,
            test_set.image(sample.test_index),
            DatasetKind::Cifar10,
            &device,
        )
        .into_data()
        .iter::<f32>()
        .collect();
        let expected = softmax(&row);
        assert_eq!(prediction.probabilities, expected, "{}", sample.file);
        let sum: f32 = prediction.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }
}

#[test]
fn predict_refuses_a_non_image_clearly() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    fs::write(&text, "hello").unwrap();
    let error = predict(
        &static_dir().join("models/resnet20-cifar10"),
        &[text],
        &device,
    )
    .unwrap_err();
    assert!(format!("{error:#}").contains("not an image"), "{error:#}");
}

/// A run's description names the data its training steps read (GA: D_f alone; RL: D_r and D_f),
/// and a shipped run given again from the catalogue gets its description written afresh while
/// its extra words and storage clause stay (all of it when its configuration is unreadable).
#[test]
fn export_web_describes_the_data_each_method_trained_on() {
    let out = tempfile::tempdir().unwrap();
    let shipped = static_dir().join("models");
    let runs = vec![
        shipped.join("resnet20-cifar10"),
        shipped.join("resnet20-cifar10-forget-3-ga"),
        shipped.join("resnet20-cifar10-forget-3-rl"),
        shipped.join("resnet20-cifar10-forget-3-ft"),
    ];
    let catalog = export_web(&bare_export(runs, out.path(), false), &[]).unwrap();
    let note = |catalog: &Catalog, id: &str| catalog.find(id).unwrap().note.clone();
    let ga = "resnet20-cifar10-forget-3-ga";
    assert_eq!(
        note(&catalog, ga),
        "GA, 5 epoch(s), D_f only (split: full D_r), cpu backend"
    );
    assert_eq!(
        note(&catalog, "resnet20-cifar10-forget-3-rl"),
        "RL, 10 epoch(s), full D_r and D_f, cpu backend"
    );
    assert_eq!(
        note(&catalog, "resnet20-cifar10-forget-3-ft"),
        "FT, 5 epoch(s), full D_r, cpu backend"
    );

    // A catalogue written before descriptions named the data: given again, the description is
    // corrected and the rest of the note stays.
    let index = out.path().join("models/index.json");
    let mut listed = catalog.clone();
    for run in &mut listed.runs {
        if run.id == ga {
            run.note = String::from(
                "GA, 5 epoch(s), full D_r, cpu backend; an extra; weights stored as f16: kept",
            );
        }
    }
    fs::write(&index, listed.to_json()).unwrap();
    let again = export_web(
        &bare_export(vec![out.path().join("models").join(ga)], out.path(), true),
        &[],
    )
    .unwrap();
    assert_eq!(
        note(&again, ga),
        "GA, 5 epoch(s), D_f only (split: full D_r), cpu backend; an extra; weights stored as \
         f16: kept"
    );
    assert_eq!(again.runs.len(), catalog.runs.len());

    // Given again with a configuration that no longer reads as one, a run keeps its listed
    // description; a run made with a validation hold-out says so.
    let rewrite_config = |id: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let path = out.path().join("models").join(id).join("manifest.json");
        let mut manifest: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut manifest["config"]);
        fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    };
    let rl = "resnet20-cifar10-forget-3-rl";
    rewrite_config(ga, &|config| {
        *config = serde_json::json!("not a configuration")
    });
    rewrite_config(rl, &|config| {
        config["validation"] = serde_json::json!({"kind": "ten-percent", "seed": 0});
    });
    let models = out.path().join("models");
    let third = export_web(
        &bare_export(vec![models.join(ga), models.join(rl)], out.path(), true),
        &[],
    )
    .unwrap();
    assert_eq!(note(&third, ga), note(&again, ga));
    assert_eq!(
        note(&third, rl),
        "RL, 10 epoch(s), full D_r and D_f after a 10 % hold-out (seed 0), cpu backend"
    );
}

/// Export options for `runs` into `out` with no samples and no notes.
fn bare_export(runs: Vec<PathBuf>, out: &Path, add: bool) -> ExportOptions {
    ExportOptions {
        runs,
        out: out.to_owned(),
        samples_per_class: 0,
        notes: BTreeMap::new(),
        add,
        precision: Precision::F32,
    }
}

#[test]
fn export_web_writes_a_catalogue_weights_and_samples() {
    let out = tempfile::tempdir().unwrap();
    let test_set = DatasetKind::Cifar10
        .load(&data_dir(), DataSplit::Test)
        .unwrap();
    let shipped = static_dir().join("models");
    let options = ExportOptions {
        runs: vec![
            shipped.join("resnet20-cifar10"),
            shipped.join("resnet20-cifar10-forget-3-prunelora"),
        ],
        out: out.path().to_owned(),
        samples_per_class: 2,
        notes: BTreeMap::from([(
            "resnet20-cifar10-forget-3-prunelora".to_owned(),
            "a note".to_owned(),
        )]),
        add: false,
        precision: Precision::F32,
    };
    let catalog = export_web(&options, std::slice::from_ref(&test_set)).unwrap();
    let ids: Vec<&str> = catalog.runs.iter().map(|run| run.id.as_str()).collect();
    assert_eq!(
        ids,
        ["resnet20-cifar10", "resnet20-cifar10-forget-3-prunelora"]
    );
    assert!(catalog.runs[1].note.ends_with("a note"));
    let written =
        Catalog::from_json(&fs::read_to_string(out.path().join("models/index.json")).unwrap())
            .unwrap();
    assert_eq!(written, catalog);
    for run in &catalog.runs {
        assert!(out.path().join(&run.weights).is_file());
    }
    let samples = SampleSet::from_json(
        &fs::read_to_string(out.path().join(SampleSet::index_path(DatasetKind::Cifar10))).unwrap(),
    )
    .unwrap();
    assert_eq!(samples.samples.len(), 20);

    // An unlearned run without its original is refused before anything is written.
    let lonely = tempfile::tempdir().unwrap();
    let error = export_web(
        &bare_export(
            vec![shipped.join("resnet20-cifar10-forget-3-prunelora")],
            lonely.path(),
            false,
        ),
        &[],
    )
    .unwrap_err();
    assert!(format!("{error:#}").contains("no original"), "{error:#}");
    assert!(!lonely.path().join("models").exists());

    // `add`: one more run joins the catalogue; its original is a listed run, the others stay.
    let added = export_web(
        &bare_export(
            vec![shipped.join("resnet20-cifar10-forget-3-ft")],
            out.path(),
            true,
        ),
        &[],
    )
    .unwrap();
    let ids: Vec<&str> = added.runs.iter().map(|run| run.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "resnet20-cifar10",
            "resnet20-cifar10-forget-3-ft",
            "resnet20-cifar10-forget-3-prunelora"
        ]
    );
    assert_eq!(added.runs[0], catalog.runs[0]);
    assert_eq!(added.runs[2], catalog.runs[1]);
    assert_eq!(added.runs[1].original.as_deref(), Some("resnet20-cifar10"));
    assert!(out.path().join(&added.runs[1].weights).is_file());
    // ... and needs a catalogue to add to.
    let error = export_web(
        &bare_export(
            vec![shipped.join("resnet20-cifar10-forget-3-ft")],
            lonely.path(),
            true,
        ),
        &[],
    )
    .unwrap_err();
    assert!(format!("{error:#}").contains("--add"), "{error:#}");
}

/// `--f16`: half the bytes, the same architecture, close logits, the agreement with the f32
/// weights measured and stated; given again from the site itself (no row.json there), a run
/// keeps its catalogue entry and its note gets one storage clause, not two.
#[test]
fn export_web_f16_halves_the_weights_and_measures_the_agreement() {
    let out = tempfile::tempdir().unwrap();
    let shipped = static_dir().join("models");
    let test_set = DatasetKind::Cifar10
        .load(&data_dir(), DataSplit::Test)
        .unwrap()
        .first_n(1000);
    // f32 sources: the shipped original, and the LoRA run kept in f32 under docs/results/
    // (the shipped unlearned runs are f16 already).
    let run_id = "resnet20-cifar10-forget-3-lora";
    let lora_run = manifest_dir().join("../docs/results/resnet20-forget-cat/lora");
    let source = |id: &str| {
        if id == run_id {
            lora_run.clone()
        } else {
            shipped.join(id)
        }
    };
    let mut options = bare_export(
        vec![shipped.join("resnet20-cifar10"), lora_run.clone()],
        out.path(),
        false,
    );
    options.precision = Precision::F16;
    // The check needs the test set: refused before anything is written.
    let error = export_web(&options, &[]).unwrap_err();
    assert!(format!("{error:#}").contains("test set"), "{error:#}");
    assert!(!out.path().join("models").exists());

    let catalog = export_web(&options, std::slice::from_ref(&test_set)).unwrap();
    let device = Device::flex();
    let images: Vec<u8> = (0..32)
        .flat_map(|index| test_set.image(index).to_vec())
        .collect();
    for run in &catalog.runs {
        let full_bytes = fs::read(source(&run.id).join("model.bpk")).unwrap();
        let half_bytes = fs::read(out.path().join(&run.weights)).unwrap();
        assert_eq!(half_bytes.len() as u64, run.weights_bytes);
        assert!(
            half_bytes.len() * 10 < full_bytes.len() * 6,
            "{}: {} vs {} bytes",
            run.id,
            half_bytes.len(),
            full_bytes.len()
        );
        assert_eq!(
            weights::stored_precision(full_bytes.clone(), &run.model, &device).unwrap(),
            Precision::F32
        );
        let full = decode_model(full_bytes, &run.model, &device).unwrap();
        let half = decode_model(half_bytes, &run.model, &device).unwrap();
        let values = |model| -> Vec<f32> {
            logits(model, &images, DatasetKind::Cifar10, &device)
                .into_data()
                .iter::<f32>()
                .collect()
        };
        let (full_logits, half_logits) = (values(&full), values(&half));
        let largest = full_logits
            .iter()
            .zip(&half_logits)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(largest > 0.0 && largest < 0.05, "{}: {largest}", run.id);
        let agreement = run.metrics[F16_AGREEMENT];
        assert!(
            (99.0..=100.0).contains(&agreement),
            "{}: {agreement}",
            run.id
        );
        assert!(run.note.contains("f16"), "{}", run.note);
    }
    let unlearned = catalog.find(run_id).unwrap().clone();
    assert!(unlearned.metrics.contains_key("unlearning_seconds"));

    // Given again from the site, still as f16: the entry is kept, one storage clause.
    let mut again = bare_export(
        vec![out.path().join("models").join(run_id)],
        out.path(),
        true,
    );
    again.precision = Precision::F16;
    let catalog = export_web(&again, std::slice::from_ref(&test_set)).unwrap();
    assert_eq!(catalog.find(run_id), Some(&unlearned));
    assert_eq!(
        unlearned.note.matches("f16").count(),
        1,
        "{}",
        unlearned.note
    );
    // Without --f16 a file is copied as it is: still f16, and the entry says so.
    let copied = export_web(
        &bare_export(
            vec![out.path().join("models").join(run_id)],
            out.path(),
            true,
        ),
        &[],
    )
    .unwrap();
    assert_eq!(copied.find(run_id), Some(&unlearned));
    assert_eq!(
        weights::stored_precision(
            fs::read(out.path().join(&unlearned.weights)).unwrap(),
            &unlearned.model,
            &device
        )
        .unwrap(),
        Precision::F16
    );
    // Given again with a note: the note's extra words are replaced, not stacked; the generated
    // description and the storage clause stay, and so do the metrics.
    for words in ["corrected", "corrected again"] {
        let mut renoted = bare_export(
            vec![out.path().join("models").join(run_id)],
            out.path(),
            true,
        );
        renoted.notes = BTreeMap::from([(run_id.to_owned(), words.to_owned())]);
        let catalog = export_web(&renoted, &[]).unwrap();
        let run = catalog.find(run_id).unwrap();
        assert_eq!(run.metrics, unlearned.metrics);
        let description = unlearned.note.split("; ").next().unwrap();
        assert!(
            run.note
                .starts_with(&format!("{description}; {words}; weights stored as f16")),
            "{}",
            run.note
        );
        assert_eq!(run.note.matches("; ").count(), 2, "{}", run.note);
    }
    // An f16 file that is not listed: no f32 weights to measure the agreement against.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut lonely = bare_export(
        vec![
            shipped.join("resnet20-cifar10"),
            out.path().join("models").join(run_id),
        ],
        elsewhere.path(),
        false,
    );
    lonely.precision = Precision::F16;
    let error = export_web(&lonely, std::slice::from_ref(&test_set)).unwrap_err();
    assert!(format!("{error:#}").contains("f16 already"), "{error:#}");
}
