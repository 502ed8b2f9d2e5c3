//! `lethe train` killed with SIGKILL in the middle of an epoch, then rerun with `--resume`,
//! finishes the run without losing (or redoing) any completed epoch.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn data_dir() -> PathBuf {
    std::env::var_os("LETHE_DATA_DIR")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // Read at run time: a shared build cache can reuse a binary compiled in another clone.
            let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
                .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
            crate_dir.join("../../shared/data")
        })
}

fn train_command(out: &Path, resume: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lethe"));
    command
        .args([
            "train",
            "--dataset",
            "cifar10",
            "--model",
            "resnet20",
            "--epochs",
            "3",
        ])
        .args([
            "--train-subset",
            "1024",
            "--test-subset",
            "128",
            "--batch-size",
            "64",
        ])
        .args([
            "--seed",
            "5",
            "--quiet",
            "--no-download",
            "--backend",
            "cpu",
        ])
        .arg("--data-dir")
        .arg(data_dir())
        .arg("--out")
        .arg(out);
    if resume {
        command.arg("--resume");
    }
    command
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn sigkill_mid_epoch_then_resume_loses_no_completed_epoch() {
    let out = tempfile::tempdir().unwrap();
    let state_path = out.path().join("checkpoint/state.json");

    let started = Instant::now();
    let mut child = train_command(out.path(), false)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !state_path.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "lethe train exited before its first checkpoint"
        );
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no checkpoint after 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Epoch 1 is checkpointed; kill a little way into epoch 2.
    let epoch_time = started.elapsed();
    std::thread::sleep(epoch_time / 3);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run finished before it could be killed"
    );
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let state = read_json(&state_path);
    let completed = state["completed_epochs"].as_u64().unwrap();
    assert!(
        (1..3).contains(&completed),
        "completed epochs at kill: {completed}"
    );
    let history_at_kill = state["history"].as_array().unwrap().clone();
    assert_eq!(history_at_kill.len() as u64, completed);
    assert!(
        !out.path().join("model.bpk").exists(),
        "final weights written by a killed run"
    );

    // A rerun without --resume refuses to overwrite the run.
    let refused = train_command(out.path(), false).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));

    let resumed = train_command(out.path(), true).output().unwrap();
    let log = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "resume failed:\n{log}");
    assert!(
        log.contains(&format!("resuming after epoch {completed} of 3")),
        "resume did not start from the last complete epoch:\n{log}"
    );

    let metrics = read_json(&out.path().join("metrics.json"));
    let history = metrics["history"].as_array().unwrap();
    let epochs: Vec<u64> = history
        .iter()
        .map(|r| r["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, [1, 2, 3]);
    // The epochs completed before the kill are kept exactly as they were, not redone.
    assert_eq!(&history[..completed as usize], &history_at_kill[..]);
    assert!(out.path().join("model.bpk").is_file());
    assert!(out.path().join("manifest.json").is_file());
}

#[test]
fn pause_after_then_resume_finishes_with_the_whole_wall_time() {
    let out = tempfile::tempdir().unwrap();
    let state_path = out.path().join("checkpoint/state.json");

    let paused = train_command(out.path(), false)
        .args(["--pause-after", "2"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&paused.stdout);
    assert!(
        paused.status.success(),
        "a pause is not a failure:\n{}",
        String::from_utf8_lossy(&paused.stderr)
    );
    assert!(
        said.contains("paused after epoch 2/3") && said.contains("--resume"),
        "{said}"
    );
    assert!(
        !out.path().join("model.bpk").exists(),
        "a paused run wrote weights"
    );
    let state = read_json(&state_path);
    assert_eq!(state["completed_epochs"], 2);
    assert_eq!(state["resumes"], 0);
    let wall_at_pause = state["wall_seconds"].as_f64().unwrap();
    let steps_at_pause: f64 = state["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|epoch| epoch["seconds"].as_f64().unwrap())
        .sum();
    // Wall time covers the training steps and more (loading, evaluation, checkpoints).
    assert!(
        wall_at_pause >= steps_at_pause,
        "{wall_at_pause} < {steps_at_pause}"
    );
    assert!(state["peak_rss_mib"].as_f64().unwrap() > 0.0);

    // The last epoch: nothing left to pause before, so --pause-after does not stop it.
    let resumed = train_command(out.path(), true)
        .args(["--pause-after", "2"])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let state = read_json(&state_path);
    assert_eq!(state["completed_epochs"], 3);
    assert_eq!(state["resumes"], 1);
    assert!(state["wall_seconds"].as_f64().unwrap() > wall_at_pause);
    let metrics = read_json(&out.path().join("metrics.json"));
    assert_eq!(metrics["history"].as_array().unwrap().len(), 3);
    assert!(out.path().join("model.bpk").is_file());
}
