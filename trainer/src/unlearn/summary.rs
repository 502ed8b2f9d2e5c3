//! Mean ± standard deviation over seeds (`lethe summarize`): the protocol reports the main five
//! methods over three seeds (`../shared/spec/unlearning-protocol.md` §5; the paper reported
//! single runs). Reads finished reports (`report.json` of `lethe forget` or `lethe compare`),
//! pools the method rows that differ only in their seed, and writes one table.
//!
//! Nothing is re-measured: each run's metrics are those its report recorded. Rows are pooled
//! only when their whole configuration but the seed is the same (method, epochs, split,
//! hyper-parameters, limits, backend), and reports are accepted together only when they
//! measured the same original model on the same split (their "Original" rows agree).

use lethe_shared::metrics;
use serde::{Deserialize, Serialize};

use super::report::{MethodRow, Report};
use super::{MethodKind, UnlearnConfig};

/// How far two reports' "Original" rows may differ (points) and still be the same original model
/// on the same split. Re-measuring the same weights on another CPU (other kernels) moves the
/// metrics by far less than this; another model or split moves them by far more.
pub const ORIGINAL_TOLERANCE: f64 = 0.05;

/// Why reports could not be summarized.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// No method rows in the given reports.
    #[error("the given reports hold no method rows to summarize")]
    NoRuns,
    /// Two reports measured different original models or splits.
    #[error(
        "{other} measured another original model or split than {first} (its Original row's \
         {metric} is {other_value:.2}, not {first_value:.2}): summarize runs of one comparison"
    )]
    DifferentOriginal {
        /// The first report.
        first: String,
        /// The report that differs.
        other: String,
        /// The metric that differs.
        metric: &'static str,
        /// Its value in `first`.
        first_value: f64,
        /// Its value in `other`.
        other_value: f64,
    },
    /// The report given as the Avg. Gap reference holds no Retrain row.
    #[error(
        "{reference} holds no Retrain row to measure the Avg. Gap against: give the report of \
         `lethe forget --method retrain` or of a `lethe compare` that trained its Retrain"
    )]
    NoRetrainRow {
        /// The reference report.
        reference: String,
    },
    /// The report given as the Avg. Gap reference holds more than one Retrain row.
    #[error("{reference} holds {count} Retrain rows: give the report of one Retrain run")]
    SeveralRetrainRows {
        /// The reference report.
        reference: String,
        /// How many it holds.
        count: usize,
    },
    /// The same run (configuration and seed) was given twice.
    #[error(
        "{name} ({epochs} epochs, seed {seed}) is in both {first} and {second}: give each run once"
    )]
    DuplicateSeed {
        /// Method name.
        name: String,
        /// Epochs.
        epochs: usize,
        /// The seed.
        seed: u64,
        /// Where it was first found.
        first: String,
        /// Where it was found again.
        second: String,
    },
}

/// Mean and sample standard deviation (n − 1) of one quantity over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (Bessel-corrected); `None` for a single run.
    pub std: Option<f64>,
}

impl Spread {
    /// The spread of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = (n > 1).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (squares / (n - 1) as f64).sqrt()
        });
        Some(Self { mean, std })
    }

    /// The spread of a quantity every run has, or `None` if one of them lacks it.
    fn of_all(values: impl Iterator<Item = Option<f64>>) -> Option<Self> {
        let values: Option<Vec<f64>> = values.collect();
        values.and_then(|values| Self::of(&values))
    }

    /// `mean ± std` with `digits` decimals (just the mean for one run).
    pub fn format(&self, digits: usize) -> String {
        match self.std {
            Some(std) => format!("{:.digits$} ± {:.digits$}", self.mean, std),
            None => format!("{:.digits$}", self.mean),
        }
    }
}

/// One run that went into a summary row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    /// The run's seed.
    pub seed: u64,
    /// The report it came from.
    pub source: String,
    /// Its row, as the report recorded it.
    pub row: MethodRow,
}

/// One method and configuration over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The method.
    pub method: Option<MethodKind>,
    /// Name in tables.
    pub name: String,
    /// Epochs of each run.
    pub epochs: usize,
    /// The configuration shared by the runs (with the first run's seed).
    pub config: Option<UnlearnConfig>,
    /// UA.
    pub ua: Spread,
    /// MIA-Efficacy (Jia et al.'s SVM).
    pub mia_efficacy: Spread,
    /// MIA-loss (the PruneLoRA code's logistic regression).
    pub mia_loss: Spread,
    /// RA.
    pub ra: Spread,
    /// TA.
    pub ta: Spread,
    /// Avg. Gap to Retrain, when every run was measured against one.
    pub avg_gap: Option<Spread>,
    /// RTE, seconds.
    pub seconds: Spread,
    /// RTE per epoch, seconds.
    pub seconds_per_epoch: Option<Spread>,
    /// Peak RSS, MiB, when every run recorded it.
    pub peak_rss_mib: Option<Spread>,
    /// Peak device memory reserved, MiB, when every run recorded it (GPU runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_device_mib: Option<Spread>,
    /// The runs, in the order given.
    pub runs: Vec<SeedRun>,
}

/// A summary over seeds: one row per method and configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Title line: the reports' own when they share one, else the methods and what the titles share.
    pub title: String,
    /// The reports read.
    pub sources: Vec<String>,
    /// The rows, in order of first appearance.
    pub rows: Vec<SummaryRow>,
    /// The report whose Retrain row every run's Avg. Gap was computed against
    /// ([`summarize_against`]); `None`: each run's Avg. Gap is the one it was measured with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_to: Option<String>,
    /// The command line that made the summary.
    pub command: String,
}

/// What identifies a configuration regardless of seed: the config with the seed cleared, and the
/// epochs actually run.
fn pooling_key(row: &MethodRow) -> (String, usize, Option<UnlearnConfig>) {
    (
        row.name.clone(),
        row.epochs,
        row.config.clone().map(seedless),
    )
}

/// A configuration with what does not split rows cleared: the seed, and the epochs (a row's
/// epochs actually run are its own column).
fn seedless(config: UnlearnConfig) -> UnlearnConfig {
    UnlearnConfig {
        seed: 0,
        epochs: None,
        ..config
    }
}

/// Check that `other`'s original row is the same model and split as `first`'s.
fn same_original(
    (first_source, first): (&str, &MethodRow),
    (other_source, other): (&str, &MethodRow),
) -> Result<(), SummaryError> {
    let pairs = [
        ("UA", first.metrics.ua, other.metrics.ua),
        ("RA", first.metrics.ra, other.metrics.ra),
        ("TA", first.metrics.ta, other.metrics.ta),
        ("parameter count", first.params as f64, other.params as f64),
    ];
    for (metric, first_value, other_value) in pairs {
        if (first_value - other_value).abs() > ORIGINAL_TOLERANCE {
            return Err(SummaryError::DifferentOriginal {
                first: first_source.to_owned(),
                other: other_source.to_owned(),
                metric,
                first_value,
                other_value,
            });
        }
    }
    Ok(())
}

/// Pool the method rows of `reports` (each with the path it was read from) over seeds.
///
/// Every row of `Report::rows` counts, and so does a report's `retrain` row when lethe trained it
/// for that comparison (the row carries its configuration and seed, as from `lethe compare`
/// without `--retrain`). A Retrain model given with `--retrain` carries no configuration: it is
/// only the reference the others were measured against, and is not counted (each report given
/// it would otherwise count it again). So Retrain pools over a comparison's own Retrain and
/// `lethe forget --method retrain --seed N` reports.
pub fn summarize(reports: &[(String, Report)], command: &str) -> Result<Summary, SummaryError> {
    let Some((first_source, first_report)) = reports.first() else {
        return Err(SummaryError::NoRuns);
    };
    for (source, report) in &reports[1..] {
        same_original(
            (first_source, &first_report.original),
            (source, &report.original),
        )?;
    }
    type Group = ((String, usize, Option<UnlearnConfig>), Vec<SeedRun>);
    let mut groups: Vec<Group> = Vec::new();
    for (source, report) in reports {
        let trained_retrain = report.retrain.iter().filter(|row| row.config.is_some());
        for row in trained_retrain.chain(&report.rows) {
            let key = pooling_key(row);
            let seed = row.config.as_ref().map_or(0, |config| config.seed);
            let run = SeedRun {
                seed,
                source: source.clone(),
                row: row.clone(),
            };
            match groups.iter_mut().find(|(known, _)| *known == key) {
                Some((_, runs)) => {
                    if let Some(earlier) = runs.iter().find(|earlier| earlier.seed == seed) {
                        return Err(SummaryError::DuplicateSeed {
                            name: row.name.clone(),
                            epochs: row.epochs,
                            seed,
                            first: earlier.source.clone(),
                            second: source.clone(),
                        });
                    }
                    runs.push(run);
                }
                None => groups.push((key, vec![run])),
            }
        }
    }
    if groups.is_empty() {
        return Err(SummaryError::NoRuns);
    }
    let mut rows: Vec<SummaryRow> = groups
        .into_iter()
        .map(|(_, runs)| summary_row(runs))
        .collect();
    // The title names each method once: it is made before rows of one method get their labels.
    let title = summary_title(reports, &rows);
    name_apart(&mut rows);
    Ok(Summary {
        title,
        sources: reports.iter().map(|(source, _)| source.clone()).collect(),
        rows,
        gap_to: None,
        command: command.to_owned(),
    })
}

/// [`summarize`], with every run's Avg. Gap (spec §4: mean |method − Retrain| over UA,
/// MIA-Efficacy, RA and TA) computed from its recorded metrics against the Retrain row of
/// `reference` — e.g. a Retrain that finished after the runs it is the gold standard for. Any
/// Avg. Gap a run was measured with is replaced, so every row is against the same model. Nothing
/// is re-measured, so the activation distances (which need the models' outputs) stay as recorded.
///
/// `reference` must have measured the same original model on the same split as `reports`, and
/// hold exactly one Retrain row (its `retrain` row, or one method row of Retrain).
pub fn summarize_against(
    reports: &[(String, Report)],
    (reference_source, reference): (&str, &Report),
    command: &str,
) -> Result<Summary, SummaryError> {
    let retrain_rows: Vec<&MethodRow> = reference
        .retrain
        .iter()
        .chain(
            reference
                .rows
                .iter()
                .filter(|row| row.method == Some(MethodKind::Retrain)),
        )
        .collect();
    let retrain = match retrain_rows.as_slice() {
        [] => {
            return Err(SummaryError::NoRetrainRow {
                reference: reference_source.to_owned(),
            });
        }
        [retrain] => retrain.metrics.scores(),
        several => {
            return Err(SummaryError::SeveralRetrainRows {
                reference: reference_source.to_owned(),
                count: several.len(),
            });
        }
    };
    if let Some((first_source, first)) = reports.first() {
        same_original(
            (first_source, &first.original),
            (reference_source, &reference.original),
        )?;
    }
    let with_gaps: Vec<(String, Report)> = reports
        .iter()
        .map(|(source, report)| {
            let mut report = report.clone();
            for row in report.retrain.iter_mut().chain(report.rows.iter_mut()) {
                row.metrics.avg_gap = Some(metrics::average_gap(&row.metrics.scores(), &retrain));
            }
            (source.clone(), report)
        })
        .collect();
    let mut summary = summarize(&with_gaps, command)?;
    summary.gap_to = Some(reference_source.to_owned());
    Ok(summary)
}

/// Give rows that would read the same in a table (one method name and one epoch count, but
/// other configurations, e.g. PruneLoRA with `--lora-targets preset` and `head-only`) the
/// settings that tell them apart: `PruneLoRA (lora_targets: head-only)`. Only the configuration
/// fields whose values differ within such a set are named; the seed never is (it does not split
/// rows) and neither are the epochs (they have their own column).
fn name_apart(rows: &mut [SummaryRow]) {
    let settings: Vec<Option<serde_json::Map<String, serde_json::Value>>> = rows
        .iter()
        .map(|row| {
            let config = seedless(row.config.clone()?);
            match serde_json::to_value(config).ok()? {
                serde_json::Value::Object(fields) => Some(fields),
                _ => None,
            }
        })
        .collect();
    let mut labels: Vec<Option<String>> = vec![None; rows.len()];
    for (index, row) in rows.iter().enumerate() {
        let alike: Vec<usize> = (0..rows.len())
            .filter(|&other| rows[other].name == row.name && rows[other].epochs == row.epochs)
            .collect();
        if alike.len() < 2 {
            continue;
        }
        let Some(own) = &settings[index] else {
            continue;
        };
        let differing: Vec<String> = own
            .iter()
            .filter(|(key, value)| {
                alike.iter().any(|&other| {
                    settings[other]
                        .as_ref()
                        .is_some_and(|fields| fields.get(key.as_str()) != Some(value))
                })
            })
            .map(|(key, value)| match value {
                serde_json::Value::String(text) => format!("{key}: {text}"),
                other => format!("{key}: {other}"),
            })
            .collect();
        if !differing.is_empty() {
            labels[index] = Some(format!("{} ({})", row.name, differing.join(", ")));
        }
    }
    for (row, label) in rows.iter_mut().zip(labels) {
        if let Some(label) = label {
            row.name = label;
        }
    }
}

/// The summary's title: the reports' own when they all share it (seeds of one method, or of one
/// comparison); otherwise the pooled methods' names, then what every title ends with, e.g.
/// `PruneLoRA, FT: resnet20 on cifar10 — forgetting classes 3` — so a summary of several
/// `lethe forget` runs is not named after the first one's method.
fn summary_title(reports: &[(String, Report)], rows: &[SummaryRow]) -> String {
    let titles: Vec<&str> = reports
        .iter()
        .map(|(_, report)| report.title.as_str())
        .collect();
    let Some((first, others)) = titles.split_first() else {
        return String::new();
    };
    if others.iter().all(|title| title == first) {
        return (*first).to_owned();
    }
    let mut names: Vec<&str> = Vec::new();
    for row in rows {
        if !names.contains(&row.name.as_str()) {
            names.push(&row.name);
        }
    }
    // The longest run of whole words every title ends with, less a leading "on"
    // ("FT on resnet20 …" and "Unlearning resnet20 …" share "resnet20 …").
    let words: Vec<Vec<&str>> = titles
        .iter()
        .map(|title| title.split(' ').collect())
        .collect();
    let shortest = words.iter().map(Vec::len).min().unwrap_or(0);
    let shared = (0..shortest)
        .take_while(|&back| {
            let word = words[0][words[0].len() - 1 - back];
            words
                .iter()
                .all(|title| title[title.len() - 1 - back] == word)
        })
        .count();
    let mut tail = &words[0][words[0].len() - shared..];
    if tail.first() == Some(&"on") {
        tail = &tail[1..];
    }
    if tail.is_empty() {
        names.join(", ")
    } else {
        format!("{}: {}", names.join(", "), tail.join(" "))
    }
}

/// One row from the runs of one configuration (at least one run).
fn summary_row(runs: Vec<SeedRun>) -> SummaryRow {
    let spread = |value: fn(&MethodRow) -> f64| {
        let values: Vec<f64> = runs.iter().map(|run| value(&run.row)).collect();
        Spread::of(&values).unwrap_or(Spread {
            mean: f64::NAN,
            std: None,
        })
    };
    let first = &runs[0].row;
    SummaryRow {
        method: first.method,
        name: first.name.clone(),
        epochs: first.epochs,
        config: first.config.clone(),
        ua: spread(|row| row.metrics.ua),
        mia_efficacy: spread(|row| row.metrics.mia_efficacy),
        mia_loss: spread(|row| row.metrics.mia_loss),
        ra: spread(|row| row.metrics.ra),
        ta: spread(|row| row.metrics.ta),
        avg_gap: Spread::of_all(runs.iter().map(|run| run.row.metrics.avg_gap)),
        seconds: spread(|row| row.seconds),
        seconds_per_epoch: Spread::of_all(runs.iter().map(|run| run.row.seconds_per_epoch())),
        peak_rss_mib: Spread::of_all(runs.iter().map(|run| run.row.peak_rss_mib)),
        peak_device_mib: Spread::of_all(runs.iter().map(|run| run.row.peak_device_mib)),
        runs,
    }
}

fn optional(spread: Option<Spread>, digits: usize) -> String {
    spread.map_or_else(|| "–".into(), |spread| spread.format(digits))
}

impl Summary {
    /// The summary as Markdown: mean ± std per configuration, then every run.
    pub fn to_markdown(&self) -> String {
        // The device-memory column appears only when a row has one (GPU runs).
        let device_memory = self.rows.iter().any(|row| row.peak_device_mib.is_some());
        let (device_header, device_rule) = if device_memory {
            (" peak device (MiB) |", "---|")
        } else {
            ("", "")
        };
        let mut out = format!(
            "# Over seeds: {}\n\nCommand: `{}`\n\n\
             | method | epochs | seeds | UA | MIA-Eff | MIA-loss | RA | TA | Avg. Gap | RTE (s) | s/epoch | peak RSS (MiB) |{device_header}\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|{device_rule}\n",
            self.title, self.command
        );
        for row in &self.rows {
            let seeds: Vec<String> = row.runs.iter().map(|run| run.seed.to_string()).collect();
            let device = if device_memory {
                format!(" {} |", optional(row.peak_device_mib, 0))
            } else {
                String::new()
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |{device}\n",
                row.name,
                row.epochs,
                seeds.join(", "),
                row.ua.format(2),
                row.mia_efficacy.format(2),
                row.mia_loss.format(2),
                row.ra.format(2),
                row.ta.format(2),
                optional(row.avg_gap, 2),
                row.seconds.format(0),
                optional(row.seconds_per_epoch, 0),
                optional(row.peak_rss_mib, 0),
            ));
        }
        let gap_to = match &self.gap_to {
            Some(reference) => format!(
                "against the Retrain row of `{reference}`, computed from each run's recorded UA, \
                 MIA-Efficacy, RA and TA (not re-measured)"
            ),
            None => {
                "against the Retrain model each run was measured with (–: a run had none)".into()
            }
        };
        out.push_str(&format!(
            "\nMean ± sample standard deviation (n − 1) over the seeds listed; one seed: the value \
             alone. All in % except times and memory. Avg. Gap is {gap_to}.\n\n## Runs\n\n\
             | method | epochs | seed | UA | MIA-Eff | RA | TA | Avg. Gap | RTE (s) | report |\n\
             |---|---|---|---|---|---|---|---|---|---|\n",
        ));
        for row in &self.rows {
            for run in &row.runs {
                let metrics = &run.row.metrics;
                out.push_str(&format!(
                    "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.0} | `{}` |\n",
                    row.name,
                    row.epochs,
                    run.seed,
                    metrics.ua,
                    metrics.mia_efficacy,
                    metrics.ra,
                    metrics.ta,
                    metrics
                        .avg_gap
                        .map_or_else(|| "–".into(), |gap| format!("{gap:.2}")),
                    run.row.seconds,
                    run.source,
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use lethe_shared::data::split::ForgetRequest;
    use lethe_shared::weights::Versions;

    use super::*;
    use crate::unlearn::measure::MethodMetrics;

    fn row(method: MethodKind, seed: u64, ra: f64, seconds: f64, gap: Option<f64>) -> MethodRow {
        let mut config = UnlearnConfig::new(method, ForgetRequest::Classes(vec![3]));
        config.seed = seed;
        config.epochs = Some(5);
        MethodRow {
            method: Some(method),
            name: method.display_name().into(),
            epochs: 5,
            seconds,
            peak_rss_mib: Some(500.0),
            peak_device_mib: None,
            trainable_params: 10,
            params: 100,
            metrics: MethodMetrics {
                ua: 100.0,
                mia_efficacy: 100.0,
                ra,
                ta: ra - 4.0,
                test_forget_accuracy: Some(0.0),
                mia_loss: 100.0,
                per_class_test_accuracy: Vec::new(),
                activation_distance_retain: None,
                activation_distance_forget: None,
                avg_gap: gap,
            },
            slim: None,
            config: Some(config),
        }
    }

    fn report(original_ra: f64, rows: Vec<MethodRow>) -> Report {
        let mut original = row(MethodKind::Retrain, 0, original_ra, 0.0, None);
        original.method = None;
        original.config = None;
        Report {
            title: "test".into(),
            original,
            retrain: None,
            rows,
            failures: Vec::new(),
            class_names: Vec::new(),
            versions: Versions::default(),
            command: String::new(),
        }
    }

    #[test]
    fn rows_round_trip_through_json_exactly() {
        // A wall time whose shortest decimal form serde_json's default (fast) parser read back
        // one ULP off: `lethe compare` reuses a finished run's `row.json`, and its numbers must
        // be the run's own (the workspace enables serde_json's `float_roundtrip`).
        let mut written = row(
            MethodKind::Ga,
            0,
            91.234_567_890_123_4,
            15.867083043000001,
            None,
        );
        written.peak_device_mib = Some(0.1 + 0.2);
        let read: MethodRow =
            serde_json::from_str(&serde_json::to_string(&written).unwrap()).unwrap();
        assert_eq!(read, written);
        assert_eq!(read.seconds.to_bits(), written.seconds.to_bits());
    }

    #[test]
    fn device_memory_gets_a_column_only_when_a_run_measured_it() {
        let cpu = report(90.0, vec![row(MethodKind::Ft, 0, 95.0, 100.0, None)]);
        assert!(!cpu.to_markdown().contains("peak device"));
        let mut on_gpu = row(MethodKind::Ft, 1, 95.0, 10.0, None);
        on_gpu.peak_device_mib = Some(2048.4);
        let gpu = report(90.0, vec![on_gpu.clone()]);
        let table = gpu.to_markdown();
        let header = table
            .lines()
            .find(|line| line.starts_with("| method"))
            .unwrap();
        let ft = table.lines().find(|line| line.starts_with("| FT")).unwrap();
        let column = header
            .split('|')
            .position(|cell| cell.trim() == "peak device (MiB)")
            .expect("a device column");
        assert_eq!(ft.split('|').nth(column).unwrap().trim(), "2048");
        assert_eq!(header.split('|').count(), ft.split('|').count());
        // Over seeds: the column comes with the GPU run, and its value is the run's.
        let summary = summarize(&[("gpu".to_owned(), gpu)], "").unwrap();
        assert!(
            summary.to_markdown().contains("| 2048 |"),
            "{}",
            summary.to_markdown()
        );
        let summary = summarize(&[("cpu".to_owned(), cpu)], "").unwrap();
        assert!(!summary.to_markdown().contains("peak device"));
    }

    #[test]
    fn a_summary_of_several_methods_is_not_named_after_the_first() {
        let forget_run = |method: MethodKind, seed: u64| {
            let mut report = report(91.0, vec![row(method, seed, 90.0, 100.0, None)]);
            report.title = format!(
                "{} on resnet20 on cifar10 — forgetting classes 3",
                method.display_name()
            );
            (format!("{}-s{seed}", method.name()), report)
        };
        // Seeds of one method: the runs' own title.
        let one_method = [forget_run(MethodKind::Ft, 0), forget_run(MethodKind::Ft, 1)];
        assert_eq!(
            summarize(&one_method, "").unwrap().title,
            "FT on resnet20 on cifar10 — forgetting classes 3"
        );
        // Several methods: every method, then what the titles share.
        let mut comparison = report(91.0, vec![row(MethodKind::Lora, 0, 95.0, 100.0, None)]);
        comparison.title = "Unlearning resnet20 on cifar10 — forgetting classes 3".into();
        let mixed = [
            forget_run(MethodKind::Prunelora, 0),
            forget_run(MethodKind::Ft, 0),
            forget_run(MethodKind::Prunelora, 1),
            ("compare".to_owned(), comparison),
        ];
        let summary = summarize(&mixed, "").unwrap();
        assert_eq!(
            summary.title,
            "PruneLoRA, FT, LoRA: resnet20 on cifar10 — forgetting classes 3"
        );
        assert!(
            summary
                .to_markdown()
                .starts_with("# Over seeds: PruneLoRA, FT, LoRA: resnet20 on cifar10")
        );
    }

    #[test]
    fn spread_is_mean_and_sample_std() {
        // Hand-worked: mean of 1, 2, 3, 4 is 2.5; squares 2.25 + 0.25 + 0.25 + 2.25 = 5,
        // over n − 1 = 3: 5/3, std = 1.2910.
        let spread = Spread::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(spread.mean, 2.5);
        assert!((spread.std.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(spread.format(2), "2.50 ± 1.29");
        let single = Spread::of(&[7.0]).unwrap();
        assert_eq!((single.mean, single.std), (7.0, None));
        assert_eq!(single.format(1), "7.0");
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn pools_seeds_of_one_configuration_only() {
        let reports = vec![
            (
                "a".to_owned(),
                report(
                    91.0,
                    vec![
                        row(MethodKind::Prunelora, 0, 89.0, 100.0, Some(2.0)),
                        row(MethodKind::Ft, 0, 95.0, 80.0, Some(1.0)),
                    ],
                ),
            ),
            (
                "b".to_owned(),
                report(
                    91.0,
                    vec![row(MethodKind::Prunelora, 1, 91.0, 300.0, Some(1.0))],
                ),
            ),
            (
                "c".to_owned(),
                report(91.0, vec![row(MethodKind::Prunelora, 2, 90.0, 200.0, None)]),
            ),
        ];
        let summary = summarize(&reports, "lethe summarize").unwrap();
        assert_eq!(summary.rows.len(), 2);
        let prunelora = &summary.rows[0];
        assert_eq!(prunelora.name, "PruneLoRA");
        let seeds: Vec<u64> = prunelora.runs.iter().map(|run| run.seed).collect();
        assert_eq!(seeds, [0, 1, 2]);
        // RA 89, 91, 90: mean 90, std 1; TA 4 lower with the same spread; RTE mean 200 s.
        assert!((prunelora.ra.mean - 90.0).abs() < 1e-12);
        assert!((prunelora.ra.std.unwrap() - 1.0).abs() < 1e-12);
        assert!((prunelora.ta.mean - 86.0).abs() < 1e-12);
        assert!((prunelora.seconds.mean - 200.0).abs() < 1e-12);
        assert!((prunelora.seconds_per_epoch.unwrap().mean - 40.0).abs() < 1e-12);
        // One run had no Retrain to compare with: no Avg. Gap for the row.
        assert_eq!(prunelora.avg_gap, None);
        let ft = &summary.rows[1];
        assert_eq!((ft.runs.len(), ft.ra.std), (1, None));
        let markdown = summary.to_markdown();
        assert!(markdown.contains("| PruneLoRA | 5 | 0, 1, 2 | 100.00 ± 0.00 |"));
        assert!(markdown.contains("| 90.00 ± 1.00 | 86.00 ± 1.00 | – | 200 ± 100 | 40 ± 20 |"));

        // Another configuration (10 epochs) is another row, not a fourth seed.
        let mut longer = row(MethodKind::Prunelora, 3, 92.0, 400.0, None);
        longer.epochs = 10;
        longer.config.as_mut().unwrap().epochs = Some(10);
        let mut more = reports.clone();
        more.push(("d".to_owned(), report(91.0, vec![longer])));
        let summary = summarize(&more, "").unwrap();
        assert_eq!(summary.rows.len(), 3);
        assert_eq!(summary.rows[2].epochs, 10);
    }

    #[test]
    fn rows_of_one_method_and_epochs_are_named_by_the_settings_that_differ() {
        use crate::unlearn::LoraTargets;
        let head_only = |seed| {
            let mut run = row(MethodKind::Prunelora, seed, 92.0, 100.0, None);
            run.config.as_mut().unwrap().lora_targets = LoraTargets::HeadOnly;
            run
        };
        let reports = vec![
            (
                "preset".to_owned(),
                report(91.0, vec![row(MethodKind::Prunelora, 0, 93.0, 100.0, None)]),
            ),
            ("head-only".to_owned(), report(91.0, vec![head_only(0)])),
            ("head-only-s1".to_owned(), report(91.0, vec![head_only(1)])),
            (
                "ft".to_owned(),
                report(91.0, vec![row(MethodKind::Ft, 0, 95.0, 100.0, None)]),
            ),
        ];
        let summary = summarize(&reports, "").unwrap();
        let names: Vec<&str> = summary.rows.iter().map(|row| row.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "PruneLoRA (lora_targets: preset)",
                "PruneLoRA (lora_targets: head-only)",
                "FT"
            ]
        );
        assert_eq!(summary.rows[1].runs.len(), 2);
        // The title names each method once.
        let mut titled = reports.clone();
        for (_, report) in &mut titled {
            report.title = format!("{} on vit-tiny", report.rows[0].name);
        }
        assert_eq!(
            summarize(&titled, "").unwrap().title,
            "PruneLoRA, FT: vit-tiny"
        );
        assert!(
            summary
                .to_markdown()
                .contains("| PruneLoRA (lora_targets: head-only) | 5 | 0, 1 |")
        );
    }

    #[test]
    fn pools_a_comparisons_own_retrain_but_not_a_given_one() {
        let retrain = |seed, ra| {
            let mut row = row(MethodKind::Retrain, seed, ra, 1200.0, None);
            row.epochs = 12;
            row.config.as_mut().unwrap().epochs = None;
            row
        };
        // A comparison that trained its Retrain (seed 0), two `forget --method retrain` runs,
        // and a forget run measured against a given Retrain model (no configuration).
        let mut comparison = report(91.0, vec![row(MethodKind::Ft, 0, 95.0, 80.0, Some(1.0))]);
        comparison.retrain = Some(retrain(0, 92.0));
        let mut given = retrain(0, 92.0);
        given.name = "Retrain (given)".into();
        given.config = None;
        let mut measured_against_given =
            report(91.0, vec![row(MethodKind::Ft, 1, 94.0, 80.0, Some(1.5))]);
        measured_against_given.retrain = Some(given);
        let reports = vec![
            ("compare".to_owned(), comparison),
            ("s1".to_owned(), report(91.0, vec![retrain(1, 93.0)])),
            ("s2".to_owned(), report(91.0, vec![retrain(2, 94.0)])),
            ("ft-s1".to_owned(), measured_against_given),
        ];
        let summary = summarize(&reports, "").unwrap();
        let names: Vec<&str> = summary.rows.iter().map(|row| row.name.as_str()).collect();
        assert_eq!(names, ["Retrain", "FT"]);
        let retrain_row = &summary.rows[0];
        let seeds: Vec<u64> = retrain_row.runs.iter().map(|run| run.seed).collect();
        assert_eq!(seeds, [0, 1, 2]);
        // RA 92, 93, 94: mean 93, std 1; 100 s per epoch over 12 epochs.
        assert!((retrain_row.ra.mean - 93.0).abs() < 1e-12);
        assert!((retrain_row.ra.std.unwrap() - 1.0).abs() < 1e-12);
        assert!((retrain_row.seconds_per_epoch.unwrap().mean - 100.0).abs() < 1e-12);
        assert_eq!(retrain_row.avg_gap, None);
        assert_eq!(summary.rows[1].runs.len(), 2);
    }

    #[test]
    fn avg_gap_against_a_given_retrain_is_computed_from_recorded_metrics() {
        // The Retrain (`lethe forget --method retrain`): UA 100, MIA-Eff 100, RA 92, TA 88.
        let mut retrain_run = row(MethodKind::Retrain, 0, 92.0, 1200.0, None);
        retrain_run.epochs = 12;
        let reference = report(91.0, vec![retrain_run]);
        // PruneLoRA seeds 0 and 1 (RA 89 / 91, TA 85 / 87), one of them measured against
        // another Retrain (gap 9.0): both gaps are replaced by those against the reference.
        // Hand-worked: seed 0 |89 − 92| + |85 − 88| = 6 over 4 → 1.5; seed 1 → 0.5.
        let reports = vec![
            (
                "s0".to_owned(),
                report(
                    91.0,
                    vec![row(MethodKind::Prunelora, 0, 89.0, 100.0, Some(9.0))],
                ),
            ),
            (
                "s1".to_owned(),
                report(91.0, vec![row(MethodKind::Prunelora, 1, 91.0, 100.0, None)]),
            ),
        ];
        let summary = summarize_against(&reports, ("retrain", &reference), "").unwrap();
        let gaps: Vec<f64> = summary.rows[0]
            .runs
            .iter()
            .map(|run| run.row.metrics.avg_gap.unwrap())
            .collect();
        assert_eq!(gaps, [1.5, 0.5]);
        let gap = summary.rows[0].avg_gap.unwrap();
        assert!((gap.mean - 1.0).abs() < 1e-12);
        assert_eq!(summary.gap_to.as_deref(), Some("retrain"));
        let markdown = summary.to_markdown();
        assert!(markdown.contains("| 1.00 ± 0.71 |"), "{markdown}");
        assert!(markdown.contains("Avg. Gap is against the Retrain row of `retrain`"));
        // Without a reference, the recorded gaps stand (one run had none: no mean).
        let plain = summarize(&reports, "").unwrap();
        assert_eq!(plain.rows[0].avg_gap, None);
        assert_eq!(plain.gap_to, None);
        // The Retrain itself, summarized against itself, is 0 away.
        let itself = summarize_against(
            &[("retrain".to_owned(), reference.clone())],
            ("retrain", &reference),
            "",
        )
        .unwrap();
        assert_eq!(itself.rows[0].avg_gap.unwrap().mean, 0.0);
    }

    #[test]
    fn refuses_a_gap_reference_without_one_retrain_or_of_another_original() {
        let reports = vec![(
            "ft".to_owned(),
            report(91.0, vec![row(MethodKind::Ft, 0, 95.0, 80.0, None)]),
        )];
        let no_retrain = report(91.0, vec![row(MethodKind::Ft, 1, 95.0, 80.0, None)]);
        assert!(matches!(
            summarize_against(&reports, ("ft-s1", &no_retrain), ""),
            Err(SummaryError::NoRetrainRow { ref reference }) if reference == "ft-s1"
        ));
        let two = report(
            91.0,
            vec![
                row(MethodKind::Retrain, 0, 92.0, 1.0, None),
                row(MethodKind::Retrain, 1, 93.0, 1.0, None),
            ],
        );
        assert!(matches!(
            summarize_against(&reports, ("two", &two), ""),
            Err(SummaryError::SeveralRetrainRows { count: 2, .. })
        ));
        let other_original = report(80.0, vec![row(MethodKind::Retrain, 0, 92.0, 1.0, None)]);
        assert!(matches!(
            summarize_against(&reports, ("other", &other_original), ""),
            Err(SummaryError::DifferentOriginal { metric: "RA", .. })
        ));
    }

    #[test]
    fn refuses_a_run_given_twice_and_another_original() {
        let run = || row(MethodKind::Lora, 1, 95.0, 10.0, None);
        let twice = vec![
            ("a".to_owned(), report(91.0, vec![run()])),
            ("b".to_owned(), report(91.0, vec![run()])),
        ];
        assert!(matches!(
            summarize(&twice, ""),
            Err(SummaryError::DuplicateSeed { seed: 1, ref first, ref second, .. })
                if first == "a" && second == "b"
        ));
        let other_original = vec![
            ("a".to_owned(), report(91.0, vec![run()])),
            ("b".to_owned(), report(88.0, vec![])),
        ];
        let error = summarize(&other_original, "").unwrap_err();
        assert!(matches!(
            error,
            SummaryError::DifferentOriginal { metric: "RA", .. }
        ));
        assert!(error.to_string().contains("88.00"));
        assert!(matches!(summarize(&[], ""), Err(SummaryError::NoRuns)));
        let empty = vec![("a".to_owned(), report(91.0, vec![]))];
        assert!(matches!(summarize(&empty, ""), Err(SummaryError::NoRuns)));
    }
}
