//! Runs stopped with `--pause-after` and resumed by the same call end exactly where an
//! uninterrupted run ends, and report the cost of all their processes; a checkpoint of another
//! run is never resumed.
//!
//! A binary of its own, its tests one at a time: Retrain initialises its model from Burn's
//! device-wide seeded generator, which another test drawing from it on a parallel thread (adapter
//! initialisation, another model's) would advance between the seed and the draw. The `lethe`
//! binary runs one method per process, so only in-process parallel callers see this.

mod common;

use std::sync::Mutex;

use common::{options, quick_config};
use lethe_trainer::unlearn::run::{RunOptions, forget};
use lethe_trainer::unlearn::{MethodKind, UnlearnConfig};

/// Held by every test here: none runs beside another.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    // A test that failed while holding the lock poisons it; the others still run.
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    // Retrain runs `lethe train`'s loop, which keeps its run directory (and checkpoint) in
    // <out>/train; the other methods' loop checkpoint goes once the run is finished.
    let retrain = method == MethodKind::Retrain;
    let state_file = if retrain {
        "train/checkpoint/state.json"
    } else {
        "train/loop-checkpoint/state.json"
    };
    let straight = dir.path().join("straight");
    let reference = forget(config.clone(), &options(straight.clone()))
        .unwrap_or_else(|error| panic!("{method}: {error:#}"));
    assert!(
        retrain || !straight.join("train").exists(),
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
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(paused.join(state_file)).unwrap())
                .unwrap();
        assert_eq!(state["completed_epochs"], completed);
    }
    // The last epoch: nothing left to pause before, so it finishes.
    let resumed = forget(config, &pausing).unwrap_or_else(|error| panic!("{error:#}"));
    assert!(
        retrain || !paused.join("train").exists(),
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
    let _serial = one_at_a_time();
    // SGD momentum state, a saliency mask keyed by θ_o's parameter ids, random relabelling.
    let mut config = quick_config(MethodKind::Salun);
    config.epochs = Some(3);
    check_pause_and_resume(config);
}

#[test]
fn prunelora_paused_after_each_epoch_resumes_to_the_same_model() {
    let _serial = one_at_a_time();
    // Adam state of freshly attached adapters, the pruning mask. No adapter dropout: its random
    // draws are the one thing a resume does not replay.
    let mut config = quick_config(MethodKind::Prunelora);
    config.epochs = Some(3);
    config.lora_dropout = 0.0;
    config.mask = Some(lethe_shared::adapt::prune::MaskMode::Keep);
    check_pause_and_resume(config);
}

#[test]
fn retrain_paused_after_each_epoch_resumes_to_the_same_model() {
    let _serial = one_at_a_time();
    // `lethe train`'s loop: SGD momentum, cosine schedule, crop + flip drawn per epoch, BatchNorm
    // statistics, and the wall time of earlier processes read back from its checkpoint.
    let mut config = quick_config(MethodKind::Retrain);
    config.epochs = Some(3);
    check_pause_and_resume(config);
}

/// Pause a 2-epoch `method` run after its first epoch, then run it again with another seed into
/// the same directory: the checkpoint does not belong to this run, which starts from scratch.
/// Returns the run directory's `config.json`.
fn check_another_seed_starts_afresh(
    method: MethodKind,
    dir: &std::path::Path,
) -> serde_json::Value {
    let out = dir.join("run");
    let mut config = quick_config(method);
    config.epochs = Some(2);
    let pausing = RunOptions {
        pause_after: Some(1),
        ..options(out.clone())
    };
    let error = forget(config.clone(), &pausing).unwrap_err();
    assert!(lethe_trainer::unlearn::run::is_pause(&error), "{error:#}");
    config.seed = 1;
    forget(config, &options(out.clone())).unwrap_or_else(|error| panic!("{error:#}"));
    let recorded = run_config(&out);
    assert!(recorded.get("resumed").is_none(), "{recorded}");
    assert_eq!(recorded["unlearn"]["seed"], 1);
    // Both epochs ran in this process.
    assert_eq!(recorded["history"].as_array().unwrap().len(), 2);
    recorded
}

#[test]
fn a_checkpoint_of_another_run_is_not_resumed() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    check_another_seed_starts_afresh(MethodKind::Ft, dir.path());
}

#[test]
fn a_retrain_checkpoint_of_another_seed_is_not_resumed() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    check_another_seed_starts_afresh(MethodKind::Retrain, dir.path());
    // `lethe train --resume` would have continued the seed-0 run: its own record says seed 1.
    let train_config = run_config(&dir.path().join("run/train"));
    assert_eq!(train_config["train"]["seed"], 1, "{train_config}");
}
