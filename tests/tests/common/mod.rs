//! Helpers shared by the unlearning test binaries (`unlearning.rs`, `pause_resume.rs`).

use std::path::PathBuf;

use lethe_shared::data::split::ForgetRequest;
use lethe_tests::{data_dir, manifest_dir};
use lethe_trainer::backend::Backend;
use lethe_trainer::unlearn::run::RunOptions;
use lethe_trainer::unlearn::{MethodKind, SplitLimits, UnlearnConfig};

/// The shipped original ResNet-20.
pub fn original() -> PathBuf {
    manifest_dir().join("../static/models/resnet20-cifar10")
}

/// Options of a quiet CPU run from the shipped original into `out`.
pub fn options(out: PathBuf) -> RunOptions {
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
pub fn quick_config(method: MethodKind) -> UnlearnConfig {
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
