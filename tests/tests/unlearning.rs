//! Every unlearning method, a few steps on a small real CIFAR-10 subset from the shipped
//! original ResNet-20, must lower accuracy on the forgotten class; bad input must fail clearly
//! and write nothing.

use std::path::PathBuf;

use lethe_shared::data::split::ForgetRequest;
use lethe_tests::{data_dir, manifest_dir};
use lethe_trainer::backend::Backend;
use lethe_trainer::unlearn::run::{RunOptions, compare, forget};
use lethe_trainer::unlearn::summary::summarize;
use lethe_trainer::unlearn::{MethodKind, SplitLimits, UnlearnConfig};

fn original() -> PathBuf {
    manifest_dir().join("../static/models/resnet20-cifar10")
}

fn options(out: PathBuf) -> RunOptions {
    RunOptions {
        weights: original(),
        out,
        data_dir: data_dir(),
        download: false,
        progress: false,
        retrain: None,
        slim: false,
        command: "cargo test".into(),
        pause_after: None,
    }
}

/// Forget class 3 with `method` for one epoch over 512 retained / 128 forgotten images
/// (batches of 64: 8 steps on D_r, 2 on D_f). With 4 steps on D_r, LoRA moved Acc(D_f) by
/// a single image of 128: too thin a margin for a test.
fn quick_config(method: MethodKind) -> UnlearnConfig {
    let mut config = UnlearnConfig::new(method, ForgetRequest::Classes(vec![3]));
    config.epochs = Some(1);
    config.batch_size = 64;
    config.backend = Backend::Cpu;
    config.limits = SplitLimits {
        retain: Some(512),
        forget: Some(128),
        test: Some(200),
    };
    if method == MethodKind::Ga {
        // GA's default lr (1e-4) is sized for 5 epochs over all of D_f; two steps need more.
        config.learning_rate = Some(1e-2);
    }
    config
}

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

/// Every float parameter of the run in `dir`, in visiting order.
fn flat_parameters(dir: &std::path::Path) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl burn::module::ModuleVisitor for Collect {
        fn visit_float<const D: usize>(
            &mut self,
            param: &burn::module::Param<burn::tensor::Tensor<D>>,
        ) {
            self.0.extend(param.val().into_data().iter::<f32>());
        }
    }
    let device = burn::tensor::Device::flex();
    let (_, model) = lethe_shared::weights::load_run(dir, &device).unwrap();
    let mut collect = Collect(Vec::new());
    burn::module::Module::visit(&model, &mut collect);
    collect.0
}

fn run_config(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap()
}

/// Run `config` in one go, and again stopped after every epoch (`--pause-after 1`) and resumed
/// by the same call: the resumed run must end with the same weights and metrics, and report the
/// wall time of all its processes.
fn check_pause_and_resume(config: UnlearnConfig) {
    let dir = tempfile::tempdir().unwrap();
    let method = config.method;
    let straight = dir.path().join("straight");
    let reference = forget(config.clone(), &options(straight.clone()))
        .unwrap_or_else(|error| panic!("{method}: {error:#}"));
    assert!(
        !straight.join("train").exists(),
        "{method}: a finished run keeps no checkpoint"
    );

    let paused = dir.path().join("paused");
    let pausing = RunOptions {
        pause_after: Some(1),
        ..options(paused.clone())
    };
    for completed in 1..=2 {
        let error = forget(config.clone(), &pausing).unwrap_err();
        assert!(lethe_trainer::unlearn::run::is_pause(&error), "{error:#}");
        let message = format!("{error:#}");
        assert!(
            message.contains(&format!("paused after epoch {completed}/3"))
                && message.contains("run the same command again"),
            "{message}"
        );
        assert!(
            !paused.join("model.bpk").exists(),
            "a paused run wrote weights"
        );
        let state: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(paused.join("train/loop-checkpoint/state.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(state["completed_epochs"], completed);
    }
    // The last epoch: nothing left to pause before, so it finishes.
    let resumed = forget(config, &pausing).unwrap_or_else(|error| panic!("{error:#}"));
    assert!(
        !paused.join("train").exists(),
        "the checkpoint outlived the run"
    );

    let (expected, got) = (&reference.rows[0], &resumed.rows[0]);
    assert_eq!(got.epochs, 3);
    assert_eq!(
        got.metrics.per_class_test_accuracy, expected.metrics.per_class_test_accuracy,
        "{method}"
    );
    assert_eq!(got.metrics.ua, expected.metrics.ua, "{method}");
    assert_eq!(got.metrics.ra, expected.metrics.ra, "{method}");
    let (a, b) = (flat_parameters(&straight), flat_parameters(&paused));
    assert_eq!(a.len(), b.len());
    let largest = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(
        largest <= 1e-5,
        "{method}: weights differ by up to {largest}"
    );

    let recorded = run_config(&paused);
    assert_eq!(recorded["resumed"]["processes"], 3, "{recorded}");
    assert_eq!(recorded["history"].as_array().unwrap().len(), 3);
    // Three processes' epochs, each timed: the total covers them all.
    let epoch_seconds: f64 = recorded["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|epoch| epoch["seconds"].as_f64().unwrap())
        .sum();
    assert!(
        got.seconds >= epoch_seconds,
        "{} < {epoch_seconds}",
        got.seconds
    );
}

#[test]
fn salun_paused_after_each_epoch_resumes_to_the_same_model() {
    // SGD momentum state, a saliency mask keyed by θ_o's parameter ids, random relabelling.
    let mut config = quick_config(MethodKind::Salun);
    config.epochs = Some(3);
    check_pause_and_resume(config);
}

#[test]
fn prunelora_paused_after_each_epoch_resumes_to_the_same_model() {
    // Adam state of freshly attached adapters, the pruning mask. No adapter dropout: its random
    // draws are the one thing a resume does not replay.
    let mut config = quick_config(MethodKind::Prunelora);
    config.epochs = Some(3);
    config.lora_dropout = 0.0;
    config.mask = Some(lethe_shared::adapt::prune::MaskMode::Keep);
    check_pause_and_resume(config);
}

#[test]
fn a_checkpoint_of_another_run_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut config = quick_config(MethodKind::Ft);
    config.epochs = Some(2);
    let pausing = RunOptions {
        pause_after: Some(1),
        ..options(out.clone())
    };
    let error = forget(config.clone(), &pausing).unwrap_err();
    assert!(lethe_trainer::unlearn::run::is_pause(&error), "{error:#}");
    // Another seed: the checkpoint does not belong to this run, which starts from scratch.
    config.seed = 1;
    forget(config, &options(out.clone())).unwrap_or_else(|error| panic!("{error:#}"));
    let recorded = run_config(&out);
    assert!(recorded.get("resumed").is_none(), "{recorded}");
    assert_eq!(recorded["unlearn"]["seed"], 1);
}
