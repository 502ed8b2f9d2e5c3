//! `lethe bench` produces one well-formed row per operation and batch (timings themselves are
//! benchmarks, not tests: nothing here asserts a speed).

use lethe_shared::model::Preset;
use lethe_tests::data_dir;
use lethe_trainer::backend::Backend;
use lethe_trainer::bench::{BenchOp, BenchOptions, run};

#[test]
fn bench_rows_join_on_model_op_and_batch() {
    let options = BenchOptions {
        models: vec![Preset::Resnet20],
        ops: vec![BenchOp::Infer, BenchOp::LoraStep],
        infer_batches: vec![1, 4],
        train_batch: 4,
        warmup: 0,
        repeats: 2,
        forget_images: 0,
        data_dir: data_dir(),
        download: false,
        backend: Backend::Cpu,
    };
    let mut rows = Vec::new();
    run(&options, &mut |row| rows.push(row.clone())).unwrap();
    let keys: Vec<(String, String, usize)> = rows
        .iter()
        .map(|row| (row.model.clone(), row.op.clone(), row.batch))
        .collect();
    assert_eq!(
        keys,
        [
            ("resnet20".into(), "infer".into(), 1),
            ("resnet20".into(), "infer".into(), 4),
            ("resnet20".into(), "lora-step".into(), 4),
        ]
    );
    for row in &rows {
        assert!(row.min_ms <= row.median_ms && row.median_ms <= row.max_ms);
        assert!(row.median_ms > 0.0 && row.images_per_s > 0.0);
        // images/s and GFLOP/s agree with the counted 81.6 MFLOP per forward pass.
        let passes = if row.op == "infer" { 1.0 } else { 2.0 };
        let expected = passes * 81.626_368e6 * row.images_per_s / 1e9;
        assert!((row.achieved_gflop_s - expected).abs() < 1e-6 * expected.max(1.0));
        assert_eq!(row.repeats, 2);
    }
    let json = serde_json::to_value(&rows[0]).unwrap();
    for key in [
        "model",
        "op",
        "batch",
        "median_ms",
        "images_per_s",
        "achieved_gflop_s",
        "peak_rss_mb",
    ] {
        assert!(json.get(key).is_some(), "{key} missing");
    }
}

#[test]
fn bench_refuses_zero_repeats() {
    let options = BenchOptions {
        models: vec![Preset::Resnet20],
        ops: vec![BenchOp::Infer],
        infer_batches: vec![1],
        train_batch: 4,
        warmup: 0,
        repeats: 0,
        forget_images: 0,
        data_dir: data_dir(),
        download: false,
        backend: Backend::Cpu,
    };
    let error = run(&options, &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("--repeats"), "{error}");
}
