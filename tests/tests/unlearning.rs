//! Every unlearning method, a few steps on a small real CIFAR-10 subset from the shipped
//! original ResNet-20, must lower accuracy on the forgotten class; bad input must fail clearly
//! and write nothing.

mod common;

use common::{options, original, quick_config};
use lethe_shared::data::split::{ForgetRequest, ValidationHoldout};
use lethe_trainer::backend::Backend;
use lethe_trainer::unlearn::run::{RunOptions, compare, forget};
use lethe_trainer::unlearn::summary::summarize;
use lethe_trainer::unlearn::{MethodKind, UnlearnConfig};

#[test]
fn every_method_lowers_accuracy_on_the_forgotten_class() {
    for method in MethodKind::ALL {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(method.name());
        let report = forget(quick_config(method), &options(out.clone()))
            .unwrap_or_else(|error| panic!("{method}: {error:#}"));
        let before = report.original.metrics.ua;
        let after = report.rows[0].metrics.ua;
        assert!(
            after > before,
            "{method}: UA {before:.2} → {after:.2} (Acc(D_f) did not fall)"
        );
        // The run directory is complete and loads as a plain model.
        for file in [
            "model.bpk",
            "manifest.json",
            "report.json",
            "report.md",
            "row.json",
            "per-class-accuracy.svg",
            "mia-confidence.svg",
        ] {
            assert!(out.join(file).is_file(), "{method}: {file} missing");
        }
        let device = burn::tensor::Device::flex();
        let (manifest, _) = lethe_shared::weights::load_run(&out, &device).unwrap();
        assert_eq!(manifest.method, method.name());
        assert_eq!(manifest.forgotten_classes, vec![3]);
    }
}

/// PruneLoRA with `--lora-respect-mask` (and optionally trainable BatchNorm γ/β), then `--slim`:
/// the pruned channels must still be dead, so slimming removes them without changing a logit.
fn check_respect_mask_slim(train_norm: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = quick_config(MethodKind::Prunelora);
    config.lora_respect_mask = true;
    config.lora_train_norm = train_norm;
    let out = dir.path().join("prunelora");
    let report = forget(
        config,
        &RunOptions {
            slim: true,
            ..options(out.clone())
        },
    )
    .unwrap();
    let slim = report.rows[0].slim.as_ref().expect("slim summary");
    assert!(slim.params_removed_percent >= 40.0, "{slim:?}");
    assert_eq!(slim.identical_predictions, slim.compared, "{slim:?}");
    assert!(slim.max_logit_difference <= 1e-4, "{slim:?}");
    assert!(out.join("slim/model.bpk").is_file());
}

#[test]
fn prunelora_with_respect_mask_slims_to_fewer_params_with_identical_predictions() {
    check_respect_mask_slim(false);
}

#[test]
fn respect_mask_with_trainable_batch_norm_still_slims_exactly() {
    check_respect_mask_slim(true);
}

#[test]
fn compare_writes_one_table_and_reuses_finished_methods() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compare");
    let mut base = quick_config(MethodKind::Retrain);
    // Each method's own defaults; Retrain runs the recipe's 12 epochs on the 512 images, FT
    // follows the comparison's epochs (1).
    base.epochs = None;
    let methods = [MethodKind::Retrain, MethodKind::Ga, MethodKind::Ft];
    let report = compare(base.clone(), &methods, 1, &options(out.clone())).unwrap();
    let names: Vec<&str> = report.rows.iter().map(|row| row.name.as_str()).collect();
    assert_eq!(names, ["GA", "FT"]);
    assert!(report.retrain.is_some());
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    for row in &report.rows {
        assert!(row.metrics.avg_gap.is_some(), "{}", row.name);
        assert!(
            row.metrics.activation_distance_forget.is_some(),
            "{}",
            row.name
        );
    }
    for file in [
        "report.md",
        "report.json",
        "per-class-accuracy.svg",
        "mia-confidence.svg",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let table = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        table.contains("| GA |") && table.contains("| FT |"),
        "{table}"
    );

    // A second run reuses every finished method: same numbers, nothing retrained.
    let again = compare(base.clone(), &methods, 1, &options(out.clone())).unwrap();
    assert_eq!(again.rows[0].seconds, report.rows[0].seconds);
    assert_eq!(again.rows[1].metrics.ua, report.rows[1].metrics.ua);

    // A run made on its own with its default spelled out (`lethe forget --method ga --epochs 5`;
    // GA's default is 5 epochs) is the run the comparison would make (epochs left to the
    // default): it is reused too, not trained again.
    let ga_dir = out.join("ga");
    std::fs::remove_dir_all(&ga_dir).unwrap();
    let explicit = UnlearnConfig {
        method: MethodKind::Ga,
        epochs: Some(5),
        ..base.clone()
    };
    let alone = forget(explicit.clone(), &options(ga_dir)).unwrap();
    let reused = compare(base, &methods, 1, &options(out)).unwrap();
    assert_eq!(reused.rows[0].name, "GA");
    assert_eq!(reused.rows[0].epochs, 5);
    assert_eq!(reused.rows[0].seconds, alone.rows[0].seconds);

    // GA again with another seed, on its own: `lethe summarize` pools it with the comparison's
    // GA (seed 0) into one row of two seeds, and leaves FT a row of one; the comparison's own
    // Retrain (trained by it, so it carries its seed) is a row of one too.
    let reseeded = forget(
        UnlearnConfig {
            seed: 1,
            ..explicit
        },
        &options(dir.path().join("ga-seed-1")),
    )
    .unwrap();
    let summary = summarize(
        &[
            ("compare".to_owned(), reused.clone()),
            ("ga-seed-1".to_owned(), reseeded.clone()),
        ],
        "",
    )
    .unwrap();
    let names: Vec<&str> = summary.rows.iter().map(|row| row.name.as_str()).collect();
    assert_eq!(names, ["Retrain", "GA", "FT"]);
    let retrain = &summary.rows[0];
    let retrain_seeds: Vec<u64> = retrain.runs.iter().map(|run| run.seed).collect();
    assert_eq!(retrain_seeds, [0]);
    let compared_retrain = reused.retrain.as_ref().unwrap();
    assert_eq!(retrain.ra.mean, compared_retrain.metrics.ra);
    let ga = &summary.rows[1];
    let seeds: Vec<u64> = ga.runs.iter().map(|run| run.seed).collect();
    assert_eq!(seeds, [0, 1]);
    let ua = [reused.rows[0].metrics.ua, reseeded.rows[0].metrics.ua];
    assert!((ga.ua.mean - (ua[0] + ua[1]) / 2.0).abs() < 1e-9);
    assert!((ga.ua.std.unwrap() - (ua[0] - ua[1]).abs() / 2f64.sqrt()).abs() < 1e-9);
    assert_eq!(summary.rows[2].runs.len(), 1);
    // The same run twice is refused.
    assert!(
        summarize(
            &[
                ("a".to_owned(), reseeded.clone()),
                ("b".to_owned(), reseeded)
            ],
            ""
        )
        .is_err()
    );
}

#[test]
fn bad_requests_fail_clearly_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(UnlearnConfig, &str)> = vec![
        (
            UnlearnConfig::new(MethodKind::Ft, ForgetRequest::Classes(vec![10])),
            "class",
        ),
        (
            UnlearnConfig::new(MethodKind::Ft, ForgetRequest::Classes((0..10).collect())),
            "every",
        ),
        (
            UnlearnConfig {
                prune_amount: 1.5,
                ..UnlearnConfig::new(MethodKind::PruneFt, ForgetRequest::default())
            },
            "prune-amount",
        ),
        (
            UnlearnConfig {
                prune_targets: Some(vec![String::new()]),
                ..UnlearnConfig::new(MethodKind::Prunelora, ForgetRequest::default())
            },
            "--prune-targets",
        ),
        (
            // A ViT's layer name on the ResNet: refused before anything trains.
            UnlearnConfig {
                prune_targets: Some(vec!["blocks.*.mlp_in".into()]),
                limits: quick_config(MethodKind::PruneFt).limits,
                ..UnlearnConfig::new(MethodKind::PruneFt, ForgetRequest::default())
            },
            "no layer matches `blocks.*.mlp_in`",
        ),
    ];
    for (index, (mut config, expected)) in cases.into_iter().enumerate() {
        config.backend = Backend::Cpu;
        let out = dir.path().join(format!("case{index}"));
        let error = forget(config, &options(out.clone())).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains(expected), "case {index}: {message}");
        assert!(
            !out.join("model.bpk").exists(),
            "case {index} wrote weights"
        );
    }

    // A learning rate that blows the loss up: a clear error, nothing written.
    let mut diverging = quick_config(MethodKind::Ga);
    diverging.learning_rate = Some(1e30);
    let out = dir.path().join("diverging");
    let error = forget(diverging, &options(out.clone())).unwrap_err();
    assert!(format!("{error:#}").contains("diverged"), "{error:#}");
    assert!(!out.join("model.bpk").exists());
    assert!(
        !out.join("train").exists(),
        "a diverged run left a checkpoint"
    );

    // Weights that are not a model.
    let bad_weights = dir.path().join("not-a-model");
    std::fs::create_dir_all(&bad_weights).unwrap();
    std::fs::write(bad_weights.join("model.bpk"), b"garbage").unwrap();
    std::fs::copy(
        original().join("manifest.json"),
        bad_weights.join("manifest.json"),
    )
    .unwrap();
    let error = forget(
        quick_config(MethodKind::Ft),
        &RunOptions {
            weights: bad_weights,
            ..options(dir.path().join("bad"))
        },
    )
    .unwrap_err();
    assert!(format!("{error:#}").contains("not-a-model"), "{error:#}");
}

/// `--retrain` gives the reference of Avg. Gap and activation distances: the shipped Retrain of
/// "cat" serves a run forgetting "cat", and is refused (before anything trains or is written)
/// for another class, a random sample, another hold-out, or a model that forgot nothing.
#[test]
fn a_retrain_reference_must_have_forgotten_the_same_request() {
    let shipped_retrain = original().join("../resnet20-cifar10-forget-3-retrain");
    let dir = tempfile::tempdir().unwrap();
    let with_reference = |out: &str, reference: &std::path::Path| RunOptions {
        retrain: Some(reference.to_owned()),
        ..options(dir.path().join(out))
    };

    let report = forget(
        quick_config(MethodKind::Ga),
        &with_reference("same", &shipped_retrain),
    )
    .unwrap_or_else(|error| panic!("{error:#}"));
    let reference = report.retrain.as_ref().expect("a reference row");
    assert_eq!(
        reference.metrics.ua, 100.0,
        "the Retrain of cat forgets cat"
    );
    assert!(report.rows[0].metrics.avg_gap.is_some());
    assert!(report.original.metrics.avg_gap.is_some());

    let another_class = UnlearnConfig {
        forget: ForgetRequest::Classes(vec![5]),
        ..quick_config(MethodKind::Ga)
    };
    let random = UnlearnConfig {
        forget: ForgetRequest::Random {
            fraction: 0.1,
            seed: 0,
        },
        ..quick_config(MethodKind::Ga)
    };
    let held_out = UnlearnConfig {
        validation: ValidationHoldout::TenPercent { seed: 0 },
        ..quick_config(MethodKind::Ga)
    };
    let cases = [
        (another_class, shipped_retrain.clone(), "forgot classes 3"),
        (random, shipped_retrain.clone(), "forgot classes 3"),
        (
            held_out,
            shipped_retrain.clone(),
            "forgot classes 3 with no hold-out",
        ),
        (
            quick_config(MethodKind::Ga),
            original(),
            "records no forgetting (method original)",
        ),
    ];
    for (index, (config, reference, expected)) in cases.into_iter().enumerate() {
        let out = format!("refused{index}");
        let error = forget(config, &with_reference(&out, &reference)).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains(expected), "case {index}: {message}");
        assert!(message.contains("leave out --retrain"), "{message}");
        assert!(!dir.path().join(&out).exists(), "case {index} wrote {out}");
    }
    // The reference is checked before the data is read: with no dataset at hand, the refusal
    // is still the reference's, not a missing-data error after minutes of loading.
    let no_data = tempfile::tempdir().unwrap();
    let error = forget(
        UnlearnConfig {
            forget: ForgetRequest::Classes(vec![5]),
            ..quick_config(MethodKind::Ga)
        },
        &RunOptions {
            data_dir: no_data.path().to_owned(),
            ..with_reference("no-data", &shipped_retrain)
        },
    )
    .unwrap_err();
    assert!(
        format!("{error:#}").contains("forgot classes 3"),
        "{error:#}"
    );
    // `lethe compare --retrain` checks the same way, before it creates its directory.
    let error = compare(
        UnlearnConfig {
            forget: ForgetRequest::Classes(vec![5]),
            ..quick_config(MethodKind::Ga)
        },
        &[MethodKind::Ga],
        1,
        &with_reference("compare", &shipped_retrain),
    )
    .unwrap_err();
    assert!(
        format!("{error:#}").contains("forgot classes 3"),
        "{error:#}"
    );
    assert!(!dir.path().join("compare").exists());
}
