//! Live forgetting (`lethe_shared::live`, what the page runs in its Web Worker), natively on the
//! shipped files the page uses: the original ResNet-20, `static/live/cifar10/train.bin` and
//! `probe.bin`. Also checks the subsets against their index.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use futures_lite::future::block_on;
use lethe_shared::data::cifar10::parse_records;
use lethe_shared::data::{DataSplit, DatasetKind, ImageDataset, NUM_CLASSES};
use lethe_shared::live::{LiveError, LiveForget, LiveSettings, ProbeAccuracy};
use lethe_shared::model::{Classifier, ModelConfig};
use lethe_shared::weights;
use lethe_tests::{data_dir, manifest_dir};
use lethe_trainer::live_export::LiveSubsetIndex;

fn live_dir() -> PathBuf {
    manifest_dir().join("../static/live/cifar10")
}

fn subset(name: &str) -> ImageDataset {
    let path = live_dir().join(name);
    let bytes = std::fs::read(&path).unwrap();
    parse_records(&path, &bytes).unwrap()
}

/// The two training tests run one at a time: BatchNorm's running statistics are kept per thread
/// and merged when read, so a run's numbers depend on what else the process runs meanwhile.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Hold this while a test trains (see [`ONE_AT_A_TIME`]); a panicked test does not block the others.
fn train_alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the page starts from: the original ResNet-20 (on the CPU with autodiff), its
/// architecture and the two shipped subsets.
struct Shipped {
    device: Device,
    model: ModelConfig,
    original: Classifier,
    train: ImageDataset,
    probe: ImageDataset,
}

impl Shipped {
    /// Probe accuracy of the untouched original (class 3 forgotten), the baseline of the targets.
    fn original_probe_accuracy(&self) -> ProbeAccuracy {
        block_on(lethe_shared::live::probe_accuracy(
            &self.original,
            &self.probe,
            3,
            &self.device,
        ))
        .unwrap()
    }
}

/// The page's targets after forgetting class 3: at most 10 % of it still recognised, the other
/// classes within 5 points of the original.
fn assert_forgot_class_3(last: &ProbeAccuracy, before: &ProbeAccuracy) {
    assert!(last.forget <= 10.0, "{last:?}");
    assert!(last.retain >= before.retain - 5.0, "{last:?} vs {before:?}");
}

fn shipped() -> Shipped {
    let device = Device::flex();
    let run = manifest_dir().join("../static/models/resnet20-cifar10");
    let (manifest, original) = weights::load_run(&run, &device.clone().autodiff()).unwrap();
    Shipped {
        device,
        model: manifest.model,
        original,
        train: subset("train.bin"),
        probe: subset("probe.bin"),
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[test]
fn shipped_subsets_are_the_real_images_their_index_names() {
    let index: LiveSubsetIndex =
        serde_json::from_str(&std::fs::read_to_string(live_dir().join("index.json")).unwrap())
            .unwrap();
    let train = DatasetKind::Cifar10
        .load(&data_dir(), DataSplit::Train)
        .unwrap();
    let test = DatasetKind::Cifar10
        .load(&data_dir(), DataSplit::Test)
        .unwrap();
    for (file, source) in [(&index.train, &train), (&index.probe, &test)] {
        let shipped = subset(&file.file);
        assert_eq!(shipped.len(), file.images);
        assert_eq!(shipped.class_counts(), [file.per_class; NUM_CLASSES]);
        for (position, &source_index) in file.source_indices.iter().enumerate() {
            assert_eq!(shipped.image(position), source.image(source_index));
            assert_eq!(shipped.label(position), source.label(source_index));
        }
    }
    let bad = parse_records(Path::new("cut.bin"), &[3u8; 3074]).unwrap_err();
    assert!(bad.to_string().contains("cut.bin"), "{bad}");
}

/// The page's run (its defaults: class 3, PruneLoRA's set-up) forgets the class on the probe
/// set while keeping the other classes. `LIVE_STEPS`, `LIVE_LR`, `LIVE_PRUNE`, `LIVE_BATCH`,
/// `LIVE_SEED`, `LIVE_FROM_BLOCK` (first adapted block) and `LIVE_RANK` (adapter rank)
/// override the settings for exploring them.
#[test]
fn live_prunelora_forgets_class_3_on_the_probe_set() {
    let _alone = train_alone();
    let shipped = shipped();
    let before = shipped.original_probe_accuracy();
    let Shipped {
        device,
        model,
        original,
        train,
        probe,
    } = shipped;
    let mut settings = LiveSettings::page_default(3);
    settings.steps = env_or("LIVE_STEPS", settings.steps);
    settings.learning_rate = env_or("LIVE_LR", settings.learning_rate);
    settings.prune_amount = env_or("LIVE_PRUNE", settings.prune_amount);
    settings.batch_size = env_or("LIVE_BATCH", settings.batch_size);
    settings.seed = env_or("LIVE_SEED", settings.seed);
    settings.adapters_from_block = env_or("LIVE_FROM_BLOCK", settings.adapters_from_block);
    if let Ok(rank) = std::env::var("LIVE_RANK") {
        settings.lora_rank = rank.parse().ok();
    }
    let mut live = LiveForget::start(original, &model, &train, settings, &device).unwrap();
    assert_eq!(live.retain_images(), 900);
    let pruned = block_on(live.probe_accuracy(&probe)).unwrap();
    eprintln!("original {before:?}\npruned {pruned:?}");
    let started = std::time::Instant::now();
    let mut last = pruned;
    while !live.is_done() {
        let loss = block_on(live.step()).unwrap();
        assert!(loss.is_finite());
        if live.evaluation_due() {
            last = block_on(live.probe_accuracy(&probe)).unwrap();
            eprintln!(
                "step {:>3} loss {loss:.3} forget {:5.1} retain {:5.1} ({:.1}s)",
                live.steps_done(),
                last.forget,
                last.retain,
                started.elapsed().as_secs_f64()
            );
        }
    }
    assert_forgot_class_3(&last, &before);
    let merged = live.finish().unwrap();
    let after = block_on(lethe_shared::live::probe_accuracy(
        &merged, &probe, 3, &device,
    ))
    .unwrap();
    assert!(
        (after.retain - last.retain).abs() <= 1.0,
        "{after:?} vs {last:?}"
    );
}

#[test]
fn live_settings_out_of_range_are_refused() {
    let Shipped {
        device,
        model,
        original,
        train,
        ..
    } = shipped();
    let mut settings = LiveSettings::page_default(10);
    let error = LiveForget::start(original.clone(), &model, &train, settings.clone(), &device)
        .err()
        .unwrap();
    assert!(matches!(error, LiveError::BadSettings(_)), "{error}");
    settings.forget_class = 3;
    let refused = |settings: &LiveSettings| {
        LiveForget::start(original.clone(), &model, &train, settings.clone(), &device)
            .err()
            .map(|error| error.to_string())
    };
    let mut no_steps = settings.clone();
    no_steps.steps = 0;
    assert!(refused(&no_steps).is_some());
    let mut no_rank = settings.clone();
    no_rank.lora_rank = Some(0);
    assert!(refused(&no_rank).is_some_and(|message| message.contains("rank")));
    // ResNet-20 has 9 blocks (0–8): from block 9 on, nothing would be adapted.
    let mut past_the_end = settings.clone();
    past_the_end.adapters_from_block = 9;
    assert!(refused(&past_the_end).is_some_and(|message| message.contains("9 blocks")));
    let mut last_block = settings;
    last_block.adapters_from_block = 8;
    assert!(refused(&last_block).is_none());
}

/// What the page does on two cores: two replicas split every mini-batch, exchange gradients and
/// apply the same average. Replica 0 (the one the page measures) must meet the same targets, and
/// gradients that do not fit are refused.
#[test]
fn two_replicas_in_lock_step_forget_class_3() {
    let _alone = train_alone();
    let shipped = shipped();
    let before = shipped.original_probe_accuracy();
    let settings = LiveSettings::page_default(3);
    let mut replicas: Vec<LiveForget> = (0..2)
        .map(|index| {
            let mut live = LiveForget::start(
                shipped.original.clone(),
                &shipped.model,
                &shipped.train,
                settings.clone(),
                &shipped.device,
            )
            .unwrap();
            live.set_replica(index, 2).unwrap();
            live
        })
        .collect();
    assert!(replicas[0].set_replica(2, 2).is_err());
    while !replicas[0].is_done() {
        let shares: Vec<_> = replicas
            .iter_mut()
            .map(|live| block_on(live.gradients()).unwrap())
            .collect();
        assert_eq!(shares[0].images + shares[1].images, settings.batch_size);
        let losses: Vec<f32> = replicas
            .iter_mut()
            .map(|live| live.apply(&[&shares[0], &shares[1]]).unwrap())
            .collect();
        assert_eq!(losses[0], losses[1]);
    }
    let last = block_on(replicas[0].probe_accuracy(&shipped.probe)).unwrap();
    eprintln!(
        "two replicas after {} steps: {last:?}",
        replicas[0].steps_done()
    );
    assert_forgot_class_3(&last, &before);

    let mut wrong = block_on(replicas[1].gradients()).unwrap();
    wrong.values.pop();
    assert!(matches!(
        replicas[1].apply(&[&wrong]),
        Err(LiveError::BadSettings(_))
    ));
}
