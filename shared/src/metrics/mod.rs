//! Unlearning metrics (`shared/spec/unlearning-protocol.md` §4), as pure functions over plain data.
//!
//! Nothing here knows about Burn: the caller runs the model, copies logits / probabilities /
//! predictions into slices and passes them in. Row-major `[samples × num_classes]` layouts are
//! used throughout, labels are `u8` class indices. Every function validates its input and returns
//! a typed [`MetricsError`] instead of panicking.
//!
//! | metric | definition (all in %) | here |
//! |---|---|---|
//! | UA | 100 − Acc(D_f) | [`unlearning_accuracy`] |
//! | RA | Acc(D_r) | [`accuracy`] on D_r |
//! | TA | Acc(test_r) (class-wise forgetting), Acc(test) (random forgetting) | [`accuracy`] |
//! | MIA-Efficacy | share of D_f that an RBF-SVM attack calls non-member (Jia et al.) | [`mia::mia_efficacy_svm`] |
//! | MIA-loss | same, with a logistic-regression attack on the CE loss (PruneLoRA code) | [`mia::mia_efficacy_loss_logistic`] |
//! | RTE | wall time, seconds and seconds/epoch | [`RunTime`] |
//! | peak memory | process peak RSS on CPU | [`peak_rss_bytes`] |
//! | activation distance | mean ‖softmax(f_u(x)) − softmax(f_retrain(x))‖₂ | [`activation_distance`] |
//! | Avg. Gap | mean \|method − Retrain\| over UA, MIA-Efficacy, RA, TA | [`average_gap`] |
//!
//! Sources: PruneLoRA (arXiv 2411.11907), Jia et al. "Model Sparsity Can Simplify Machine
//! Unlearning" (arXiv 2304.04934, code OPTML-Group/Unlearn-Sparse), SalUn (arXiv 2310.12508).

pub mod mia;

pub use mia::{
    SvmAttackConfig, mia_efficacy_loss_logistic, mia_efficacy_svm, mia_efficacy_svm_from_splits,
    mia_efficacy_svm_with_config,
};

use serde::{Deserialize, Serialize};

/// Errors from the metric functions: always a problem with the data passed in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// A set that must hold at least one sample is empty.
    #[error("{what} is empty")]
    Empty {
        /// Which input.
        what: &'static str,
    },
    /// Two inputs that must describe the same samples have different lengths.
    #[error("{what}: expected {expected} entries, got {actual}")]
    LengthMismatch {
        /// Which input, and what it was compared with.
        what: &'static str,
        /// The length implied by the other input.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// `num_classes` is zero.
    #[error("num_classes must be at least 1")]
    NoClasses,
    /// More classes than a `u8` label can name.
    #[error("{num_classes} classes do not fit in u8 class indices (at most 256)")]
    TooManyClasses {
        /// The number of classes given.
        num_classes: usize,
    },
    /// A flat row-major matrix whose length is not a multiple of `num_classes`.
    #[error("{what} has {len} values, which is not a whole number of rows of {num_classes}")]
    RaggedRows {
        /// Which input.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The row width.
        num_classes: usize,
    },
    /// A label is not a valid class index.
    #[error("{what}: label {label} at index {index} is not below num_classes = {num_classes}")]
    LabelOutOfRange {
        /// Which input.
        what: &'static str,
        /// Position of the label.
        index: usize,
        /// The label.
        label: u8,
        /// The number of classes.
        num_classes: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what}: value at index {index} is not finite ({value})")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Position of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A hyperparameter of an attack model is out of its valid range.
    #[error("invalid attack parameter {name} = {value}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// The SVM / logistic-regression crate refused to fit or predict.
    #[error("the {attack} attack model failed: {message}")]
    AttackModel {
        /// Which attack.
        attack: &'static str,
        /// The solver's message.
        message: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Input validation shared by this module and `mia`.

/// Checks that `len` values form whole rows of `num_classes` and returns the number of rows.
fn row_count(what: &'static str, len: usize, num_classes: usize) -> Result<usize, MetricsError> {
    if num_classes == 0 {
        return Err(MetricsError::NoClasses);
    }
    if !len.is_multiple_of(num_classes) {
        return Err(MetricsError::RaggedRows {
            what,
            len,
            num_classes,
        });
    }
    Ok(len / num_classes)
}

fn ensure_non_empty<T>(what: &'static str, values: &[T]) -> Result<(), MetricsError> {
    if values.is_empty() {
        Err(MetricsError::Empty { what })
    } else {
        Ok(())
    }
}

fn ensure_same_length(
    what: &'static str,
    expected: usize,
    actual: usize,
) -> Result<(), MetricsError> {
    if expected == actual {
        Ok(())
    } else {
        Err(MetricsError::LengthMismatch {
            what,
            expected,
            actual,
        })
    }
}

fn ensure_labels_in_range(
    what: &'static str,
    labels: &[u8],
    num_classes: usize,
) -> Result<(), MetricsError> {
    match labels
        .iter()
        .enumerate()
        .find(|&(_, &label)| usize::from(label) >= num_classes)
    {
        Some((index, &label)) => Err(MetricsError::LabelOutOfRange {
            what,
            index,
            label,
            num_classes,
        }),
        None => Ok(()),
    }
}

fn ensure_finite(what: &'static str, values: &[f32]) -> Result<(), MetricsError> {
    match values
        .iter()
        .enumerate()
        .find(|(_, value)| !value.is_finite())
    {
        Some((index, &value)) => Err(MetricsError::NonFinite {
            what,
            index,
            value: f64::from(value),
        }),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Accuracy: UA, RA, TA, per-class.

/// Checks that there is at least one label and exactly one prediction per label.
fn ensure_one_prediction_per_label(predictions: &[u8], labels: &[u8]) -> Result<(), MetricsError> {
    ensure_non_empty("labels", labels)?;
    ensure_same_length(
        "predictions (one per label)",
        labels.len(),
        predictions.len(),
    )
}

/// Top-1 accuracy in percent: share of `predictions` equal to `labels`.
///
/// RA = `accuracy` on D_r, TA = `accuracy` on test_r (class-wise forgetting) or on the whole test
/// set (random forgetting), Acc(D_f) = `accuracy` on D_f (spec §4).
pub fn accuracy(predictions: &[u8], labels: &[u8]) -> Result<f64, MetricsError> {
    ensure_one_prediction_per_label(predictions, labels)?;
    let correct = predictions
        .iter()
        .zip(labels)
        .filter(|(prediction, label)| prediction == label)
        .count();
    Ok(100.0 * correct as f64 / labels.len() as f64)
}

/// Accuracy in percent of each class `0..num_classes`, over the samples whose true label is that
/// class; `None` for a class with no sample (e.g. the forgotten class on D_r).
///
/// Used for the "per-class accuracy before and after" plots of the report.
pub fn per_class_accuracy(
    predictions: &[u8],
    labels: &[u8],
    num_classes: usize,
) -> Result<Vec<Option<f64>>, MetricsError> {
    if num_classes == 0 {
        return Err(MetricsError::NoClasses);
    }
    ensure_one_prediction_per_label(predictions, labels)?;
    ensure_labels_in_range("labels", labels, num_classes)?;
    let mut correct = vec![0usize; num_classes];
    let mut total = vec![0usize; num_classes];
    for (&prediction, &label) in predictions.iter().zip(labels) {
        let class = usize::from(label);
        total[class] += 1;
        if prediction == label {
            correct[class] += 1;
        }
    }
    Ok(correct
        .iter()
        .zip(&total)
        .map(|(&correct, &total)| (total > 0).then(|| 100.0 * correct as f64 / total as f64))
        .collect())
}

/// UA (unlearning accuracy) = 100 − Acc(D_f), in percent (spec §4; Jia et al. §5.1).
///
/// The original PruneLoRA evaluation script prints Acc(D_f) itself; Lethe reports UA so that
/// "higher is better" holds for UA and MIA-Efficacy alike.
pub fn unlearning_accuracy(acc_forget_percent: f64) -> f64 {
    100.0 - acc_forget_percent
}

/// Index of the largest logit of each row (the model's top-1 prediction); the first index wins a
/// tie, as `torch.argmax` does.
pub fn argmax_rows(logits: &[f32], num_classes: usize) -> Result<Vec<u8>, MetricsError> {
    let rows = row_count("logits", logits.len(), num_classes)?;
    if num_classes > usize::from(u8::MAX) + 1 {
        return Err(MetricsError::TooManyClasses { num_classes });
    }
    ensure_finite("logits", logits)?;
    let mut predictions = Vec::with_capacity(rows);
    for row in logits.chunks_exact(num_classes) {
        let mut best = 0usize;
        for (class, &logit) in row.iter().enumerate() {
            if logit > row[best] {
                best = class;
            }
        }
        let class = u8::try_from(best).map_err(|_| MetricsError::TooManyClasses { num_classes })?;
        predictions.push(class);
    }
    Ok(predictions)
}

// ---------------------------------------------------------------------------------------------
// Softmax, true-class confidence, cross-entropy.

/// Row-wise softmax of row-major logits `[samples × num_classes]`.
///
/// Numerically stable: each row is shifted by its maximum before exponentiating, and the sums are
/// accumulated in `f64`.
pub fn softmax_rows(logits: &[f32], num_classes: usize) -> Result<Vec<f32>, MetricsError> {
    row_count("logits", logits.len(), num_classes)?;
    ensure_finite("logits", logits)?;
    let mut probabilities = Vec::with_capacity(logits.len());
    for row in logits.chunks_exact(num_classes) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f64> = row
            .iter()
            .map(|&logit| (f64::from(logit) - f64::from(max)).exp())
            .collect();
        let sum: f64 = exps.iter().sum();
        probabilities.extend(exps.iter().map(|&e| (e / sum) as f32));
    }
    Ok(probabilities)
}

/// Checks that `values_len` values form whole rows of `num_classes`, one row per label, with
/// every label below `num_classes`.
fn check_labelled_rows(
    what: &'static str,
    values_len: usize,
    labels: &[u8],
    num_classes: usize,
) -> Result<(), MetricsError> {
    let rows = row_count(what, values_len, num_classes)?;
    ensure_same_length("labels (one per row)", rows, labels.len())?;
    ensure_labels_in_range("labels", labels, num_classes)
}

/// True-class confidence c(x) = softmax(f(x))_y of each sample: the MIA-Efficacy feature of Jia
/// et al. (`torch.gather(prob, 1, label)` in `Unlearn-Sparse/evaluation/SVC_MIA.py`).
///
/// `probabilities` is row-major `[samples × num_classes]` (e.g. from [`softmax_rows`]), one label
/// per row.
pub fn true_class_confidence(
    probabilities: &[f32],
    labels: &[u8],
    num_classes: usize,
) -> Result<Vec<f32>, MetricsError> {
    check_labelled_rows("probabilities", probabilities.len(), labels, num_classes)?;
    Ok(probabilities
        .chunks_exact(num_classes)
        .zip(labels)
        .map(|(row, &label)| row[usize::from(label)])
        .collect())
}

/// Per-sample cross-entropy −log softmax(f(x))_y in nats: the MIA-loss feature (PruneLoRA code,
/// `nn.CrossEntropyLoss(reduction="none")`).
///
/// Computed as `log_sum_exp(row) − row[y]` with the row maximum factored out, in `f64`, so large
/// logits neither overflow nor lose the small losses of confident correct predictions.
pub fn per_sample_cross_entropy(
    logits: &[f32],
    labels: &[u8],
    num_classes: usize,
) -> Result<Vec<f32>, MetricsError> {
    check_labelled_rows("logits", logits.len(), labels, num_classes)?;
    ensure_finite("logits", logits)?;
    Ok(logits
        .chunks_exact(num_classes)
        .zip(labels)
        .map(|(row, &label)| {
            let max = f64::from(row.iter().copied().fold(f32::NEG_INFINITY, f32::max));
            let sum_exp: f64 = row
                .iter()
                .map(|&logit| (f64::from(logit) - max).exp())
                .sum();
            let log_sum_exp = max + sum_exp.ln();
            (log_sum_exp - f64::from(row[usize::from(label)])) as f32
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Activation distance, Avg. Gap.

/// Activation distance: mean over samples of ‖p_a(x) − p_b(x)‖₂, the L2 norm of the difference of
/// the two models' probability rows (spec §4; used in SalUn/Jia et al. with a = the unlearned
/// model, b = Retrain, on D_r and on D_f).
///
/// Both inputs are row-major `[samples × num_classes]` probabilities of the same samples.
pub fn activation_distance(
    probs_a: &[f32],
    probs_b: &[f32],
    num_classes: usize,
) -> Result<f64, MetricsError> {
    let rows = row_count("probs_a", probs_a.len(), num_classes)?;
    ensure_same_length(
        "probs_b (same samples as probs_a)",
        probs_a.len(),
        probs_b.len(),
    )?;
    if rows == 0 {
        return Err(MetricsError::Empty { what: "probs_a" });
    }
    ensure_finite("probs_a", probs_a)?;
    ensure_finite("probs_b", probs_b)?;
    let total: f64 = probs_a
        .chunks_exact(num_classes)
        .zip(probs_b.chunks_exact(num_classes))
        .map(|(row_a, row_b)| {
            row_a
                .iter()
                .zip(row_b)
                .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .sum();
    Ok(total / rows as f64)
}

/// The four headline scores of one unlearning run, all in percent (spec §4, the paper tables).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnlearningScores {
    /// UA = 100 − Acc(D_f).
    pub ua: f64,
    /// MIA-Efficacy: share of D_f the SVM attack calls non-member.
    pub mia_efficacy: f64,
    /// RA = Acc(D_r).
    pub ra: f64,
    /// TA = Acc(test_r) (class-wise) or Acc(test) (random forgetting).
    pub ta: f64,
}

/// Avg. Gap (SalUn, Jia et al.): mean of |method − Retrain| over UA, MIA-Efficacy, RA and TA, in
/// percentage points. 0 means indistinguishable from exact unlearning on these four scores.
pub fn average_gap(method: &UnlearningScores, retrain: &UnlearningScores) -> f64 {
    let gaps = [
        (method.ua - retrain.ua).abs(),
        (method.mia_efficacy - retrain.mia_efficacy).abs(),
        (method.ra - retrain.ra).abs(),
        (method.ta - retrain.ta).abs(),
    ];
    gaps.iter().sum::<f64>() / gaps.len() as f64
}

// ---------------------------------------------------------------------------------------------
// RTE and peak memory.

/// Run-time efficiency (RTE): wall time of an unlearning run (spec §4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunTime {
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Epochs the run took.
    pub epochs: u32,
}

impl RunTime {
    /// Seconds per epoch (the paper tables' "s/epoch"); `None` for a run of zero epochs.
    pub fn seconds_per_epoch(&self) -> Option<f64> {
        (self.epochs > 0).then(|| self.seconds / f64::from(self.epochs))
    }
}

/// Peak resident set size of this process in bytes (`VmHWM` of `/proc/self/status`), the CPU
/// "peak memory" of spec §4.
///
/// `None` off Linux (including wasm32) or when the file cannot be read or parsed. Peak *device*
/// memory on a GPU is the backend's business, not this function's.
pub fn peak_rss_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        parse_vm_hwm_bytes(&status)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Reset this process's peak RSS to its current RSS (writes `5` to `/proc/self/clear_refs`,
/// Linux ≥ 4.0), so [`peak_rss_bytes`] measures the peak of what follows. Returns whether the
/// reset happened; where it cannot, the peak keeps covering the whole process life.
pub fn reset_peak_rss() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Reads the `VmHWM:   123456 kB` line of a `/proc/<pid>/status` text (see `proc(5)`).
#[cfg(any(target_os = "linux", test))]
fn parse_vm_hwm_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let mut fields = line.trim_start_matches("VmHWM:").split_whitespace();
    let amount: u64 = fields.next()?.parse().ok()?;
    let bytes_per_unit = match fields.next() {
        Some("kB") => 1024,
        Some("mB") | Some("MB") => 1024 * 1024,
        Some("B") | None => 1,
        Some(_) => return None,
    };
    amount.checked_mul(bytes_per_unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance
    }

    #[test]
    fn accuracy_counts_matches_in_percent() {
        // 3 of 4 right.
        let accuracy = accuracy(&[0, 1, 2, 2], &[0, 1, 2, 1]).expect("valid input");
        assert!(close(accuracy, 75.0, 1e-12), "{accuracy}");
    }

    #[test]
    fn accuracy_rejects_empty_and_mismatched_input() {
        assert_eq!(
            accuracy(&[], &[]),
            Err(MetricsError::Empty { what: "labels" })
        );
        assert!(matches!(
            accuracy(&[0, 1], &[0, 1, 2]),
            Err(MetricsError::LengthMismatch {
                expected: 3,
                actual: 2,
                ..
            })
        ));
    }

    #[test]
    fn per_class_accuracy_is_hand_worked() {
        // class 0: labels at 0,1 -> predictions 0,1 -> 1/2 right = 50 %
        // class 1: labels at 2,3,4 -> predictions 1,1,1 -> 3/3 = 100 %
        // class 2: label at 5 -> prediction 0 -> 0 %
        // class 3: no sample -> None
        let predictions = [0, 1, 1, 1, 1, 0];
        let labels = [0, 0, 1, 1, 1, 2];
        let per_class = per_class_accuracy(&predictions, &labels, 4).expect("valid input");
        assert_eq!(per_class, vec![Some(50.0), Some(100.0), Some(0.0), None]);
    }

    #[test]
    fn per_class_accuracy_rejects_bad_labels() {
        assert!(matches!(
            per_class_accuracy(&[0, 0], &[0, 3], 3),
            Err(MetricsError::LabelOutOfRange {
                index: 1,
                label: 3,
                ..
            })
        ));
        assert_eq!(
            per_class_accuracy(&[0], &[0], 0),
            Err(MetricsError::NoClasses)
        );
    }

    #[test]
    fn unlearning_accuracy_is_100_minus_forget_accuracy() {
        assert!(close(unlearning_accuracy(0.22), 99.78, 1e-12));
        assert!(close(unlearning_accuracy(100.0), 0.0, 1e-12));
        // UA of a Retrain model that never saw D_f (Acc(D_f) = 0) is 100.
        let acc_forget = accuracy(&[1, 2, 0], &[3, 3, 3]).expect("valid input");
        assert!(close(unlearning_accuracy(acc_forget), 100.0, 1e-12));
    }

    #[test]
    fn argmax_takes_first_of_ties() {
        let logits = [0.1, 2.0, -1.0, 5.0, 5.0, 1.0];
        assert_eq!(argmax_rows(&logits, 3), Ok(vec![1, 0]));
        assert!(matches!(
            argmax_rows(&[0.0, f32::NAN], 2),
            Err(MetricsError::NonFinite { index: 1, .. })
        ));
    }

    #[test]
    fn softmax_rows_sum_to_one_and_match_known_value() {
        // Row 0: logits [0, ln 3] -> exp [1, 3] -> [1/4, 3/4].
        // Row 1: equal logits -> uniform. Row 2: huge logits must not overflow.
        let logits = [0.0, 3.0f32.ln(), 7.0, 7.0, 1000.0, 0.0];
        let probabilities = softmax_rows(&logits, 2).expect("valid input");
        assert!(close(f64::from(probabilities[0]), 0.25, 1e-6));
        assert!(close(f64::from(probabilities[1]), 0.75, 1e-6));
        assert!(close(f64::from(probabilities[2]), 0.5, 1e-7));
        assert!(close(f64::from(probabilities[4]), 1.0, 1e-7));
        assert!(close(f64::from(probabilities[5]), 0.0, 1e-7));
        for row in probabilities.chunks_exact(2) {
            let sum: f32 = row.iter().sum();
            assert!(close(f64::from(sum), 1.0, 1e-6), "row sums to {sum}");
        }
    }

    #[test]
    fn softmax_rejects_ragged_rows_and_non_finite_logits() {
        assert!(matches!(
            softmax_rows(&[0.0, 1.0, 2.0], 2),
            Err(MetricsError::RaggedRows { len: 3, .. })
        ));
        assert!(matches!(
            softmax_rows(&[0.0, f32::INFINITY], 2),
            Err(MetricsError::NonFinite { index: 1, .. })
        ));
    }

    #[test]
    fn true_class_confidence_picks_the_labelled_probability() {
        let probabilities = [0.25, 0.75, 0.9, 0.1];
        let confidence = true_class_confidence(&probabilities, &[1, 1], 2).expect("valid input");
        assert_eq!(confidence, vec![0.75, 0.1]);
        assert!(matches!(
            true_class_confidence(&probabilities, &[1], 2),
            Err(MetricsError::LengthMismatch {
                expected: 2,
                actual: 1,
                ..
            })
        ));
    }

    #[test]
    fn cross_entropy_of_known_case() {
        // logits [0, ln 3], label 1: p = 3/4, CE = -ln(3/4) = ln(4/3).
        // Same row, label 0: p = 1/4, CE = ln 4.
        let logits = [0.0, 3.0f32.ln(), 0.0, 3.0f32.ln()];
        let losses = per_sample_cross_entropy(&logits, &[1, 0], 2).expect("valid input");
        assert!(close(f64::from(losses[0]), (4.0f64 / 3.0).ln(), 1e-6));
        assert!(close(f64::from(losses[1]), 4.0f64.ln(), 1e-6));
    }

    #[test]
    fn cross_entropy_is_stable_for_large_logits() {
        // logits [1000, 0]: label 0 -> CE = ln(1 + e^-1000) ~ 0; label 1 -> CE = 1000.
        let logits = [1000.0, 0.0, 1000.0, 0.0];
        let losses = per_sample_cross_entropy(&logits, &[0, 1], 2).expect("valid input");
        assert!(close(f64::from(losses[0]), 0.0, 1e-6));
        assert!(close(f64::from(losses[1]), 1000.0, 1e-3));
    }

    #[test]
    fn activation_distance_is_hand_worked() {
        // Row 0: [1, 0] vs [0, 1] -> sqrt(1 + 1) = sqrt 2.
        // Row 1: [0.5, 0.5] vs [0.5, 0.5] -> 0.
        // Mean = sqrt(2) / 2.
        let a = [1.0, 0.0, 0.5, 0.5];
        let b = [0.0, 1.0, 0.5, 0.5];
        let distance = activation_distance(&a, &b, 2).expect("valid input");
        assert!(close(distance, 2f64.sqrt() / 2.0, 1e-12), "{distance}");
        // Three classes: [0.2, 0.3, 0.5] vs [0.5, 0.3, 0.2] -> sqrt(0.09 + 0 + 0.09) = sqrt 0.18.
        let distance =
            activation_distance(&[0.2, 0.3, 0.5], &[0.5, 0.3, 0.2], 3).expect("valid input");
        assert!(close(distance, 0.18f64.sqrt(), 1e-6), "{distance}");
    }

    #[test]
    fn activation_distance_rejects_bad_input() {
        assert_eq!(
            activation_distance(&[], &[], 2),
            Err(MetricsError::Empty { what: "probs_a" })
        );
        assert!(matches!(
            activation_distance(&[0.5, 0.5], &[0.5, 0.5, 0.5, 0.5], 2),
            Err(MetricsError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn average_gap_is_hand_worked() {
        // PruneLoRA ResNet-50 at 5 epochs vs Retrain (spec §5):
        // |99.78-100| + |97.68-100| + |97.96-98.02| + |95.18-96.70|
        //   = 0.22 + 2.32 + 0.06 + 1.52 = 4.12 -> / 4 = 1.03.
        let method = UnlearningScores {
            ua: 99.78,
            mia_efficacy: 97.68,
            ra: 97.96,
            ta: 95.18,
        };
        let retrain = UnlearningScores {
            ua: 100.0,
            mia_efficacy: 100.0,
            ra: 98.02,
            ta: 96.70,
        };
        assert!(close(average_gap(&method, &retrain), 1.03, 1e-9));
        assert!(close(average_gap(&retrain, &retrain), 0.0, 1e-12));
    }

    #[test]
    fn run_time_per_epoch() {
        let run = RunTime {
            seconds: 610.0,
            epochs: 5,
        };
        assert_eq!(run.seconds_per_epoch(), Some(122.0));
        let empty = RunTime {
            seconds: 1.0,
            epochs: 0,
        };
        assert_eq!(empty.seconds_per_epoch(), None);
    }

    #[test]
    fn vm_hwm_is_parsed_from_proc_status_text() {
        let status = "Name:\tlethe\nVmPeak:\t  900 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1024 kB\n";
        assert_eq!(parse_vm_hwm_bytes(status), Some(2048 * 1024));
        assert_eq!(parse_vm_hwm_bytes("Name:\tlethe\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn peak_rss_is_reported_on_linux() {
        let peak = peak_rss_bytes().expect("/proc/self/status has VmHWM");
        assert!(peak > 0);
    }
}
