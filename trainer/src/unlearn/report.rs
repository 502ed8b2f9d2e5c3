//! Report rows and tables: `report.json` (everything) and `report.md` (the paper-style table).

use lethe_shared::adapt::slim::SlimReport;
use lethe_shared::weights::Versions;
use serde::{Deserialize, Serialize};

use super::measure::MethodMetrics;
use super::{MethodKind, UnlearnConfig};

/// One method's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodRow {
    /// The method (`None` for the original model).
    pub method: Option<MethodKind>,
    /// Name in tables.
    pub name: String,
    /// Epochs run.
    pub epochs: usize,
    /// RTE: wall time of the unlearning run, seconds.
    pub seconds: f64,
    /// Peak resident memory of the process during the run, MiB.
    pub peak_rss_mib: Option<f64>,
    /// Peak device memory reserved during the run, MiB (GPU backends only: spec §4's "peak
    /// memory" on a GPU; [`crate::memory`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_device_mib: Option<f64>,
    /// Parameters trained during unlearning.
    pub trainable_params: usize,
    /// Learnable parameters of the resulting model.
    pub params: usize,
    /// The metrics.
    pub metrics: MethodMetrics,
    /// Slim export, when requested.
    pub slim: Option<SlimSummary>,
    /// The run's configuration.
    pub config: Option<UnlearnConfig>,
}

impl MethodRow {
    /// Seconds per epoch.
    pub fn seconds_per_epoch(&self) -> Option<f64> {
        (self.epochs > 0).then(|| self.seconds / self.epochs as f64)
    }
}

/// What `--slim` produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlimSummary {
    /// Parameters before / after, channels removed.
    pub report: SlimReport,
    /// Share of parameters removed, in %.
    pub params_removed_percent: f64,
    /// Test images on which the slim and the full model predict the same class.
    pub identical_predictions: usize,
    /// Test images compared.
    pub compared: usize,
    /// Largest absolute logit difference over those images.
    pub max_logit_difference: f64,
}

/// A whole report: the original model, then one row per method.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Title line.
    pub title: String,
    /// The original model before unlearning.
    pub original: MethodRow,
    /// The Retrain row, when there is one.
    pub retrain: Option<MethodRow>,
    /// The other methods' rows.
    pub rows: Vec<MethodRow>,
    /// Methods that failed, with the error.
    pub failures: Vec<(String, String)>,
    /// Class names of the dataset.
    pub class_names: Vec<String>,
    /// Tool versions.
    pub versions: Versions,
    /// The command line that made the report.
    pub command: String,
}

fn percent(value: f64) -> String {
    format!("{value:.2}")
}

/// One Markdown table row: `| a | b |` and a newline.
fn table_row(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells.collect();
    format!("| {} |\n", cells.join(" | "))
}

fn optional(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".into(), |value| format!("{value:.digits$}"))
}

impl Report {
    /// Every row in table order: original, Retrain, then the methods.
    pub fn all_rows(&self) -> impl Iterator<Item = &MethodRow> {
        std::iter::once(&self.original)
            .chain(self.retrain.iter())
            .chain(self.rows.iter())
    }

    /// The report as Markdown: the headline table, per-class accuracy, and failures.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# {}\n\nCommand: `{}`\n\n", self.title, self.command);
        // The device-memory column appears only when a run had one (GPU backends).
        let device_memory = self.all_rows().any(|row| row.peak_device_mib.is_some());
        let mut header = vec![
            "method",
            "epochs",
            "UA",
            "MIA-Eff",
            "RA",
            "TA",
            "Acc(test_f)",
            "Avg. Gap",
            "RTE (s)",
            "s/epoch",
            "peak RSS (MiB)",
        ];
        if device_memory {
            header.push("peak device (MiB)");
        }
        header.extend([
            "D_r dist",
            "D_f dist",
            "MIA-loss",
            "trained params",
            "params",
        ]);
        out.push_str(&table_row(header.iter().map(|cell| cell.to_string())));
        out.push_str(&table_row(header.iter().map(|_| "---".to_string())));
        for row in self.all_rows() {
            let metrics = &row.metrics;
            let method = row.method.is_some();
            let mut cells = vec![
                row.name.clone(),
                row.epochs.to_string(),
                percent(metrics.ua),
                percent(metrics.mia_efficacy),
                percent(metrics.ra),
                percent(metrics.ta),
                optional(metrics.test_forget_accuracy, 2),
                optional(metrics.avg_gap, 2),
                if method {
                    format!("{:.0}", row.seconds)
                } else {
                    "–".into()
                },
                optional(row.seconds_per_epoch().filter(|_| method), 1),
                optional(row.peak_rss_mib.filter(|_| method), 0),
            ];
            if device_memory {
                cells.push(optional(row.peak_device_mib.filter(|_| method), 0));
            }
            cells.extend([
                optional(metrics.activation_distance_retain, 4),
                optional(metrics.activation_distance_forget, 4),
                percent(metrics.mia_loss),
                row.trainable_params.to_string(),
                row.params.to_string(),
            ]);
            out.push_str(&table_row(cells.into_iter()));
        }
        out.push_str(
            "\nUA = 100 − Acc(D_f); MIA-Eff = share of D_f an RBF-SVM on true-class confidence calls \
             non-member; RA = Acc(D_r); TA = Acc(test_r); Avg. Gap = mean |method − Retrain| over \
             UA, MIA-Eff, RA, TA; D_r / D_f dist = activation distance to Retrain; MIA-loss = the \
             PruneLoRA code's logistic-regression attack on the loss.",
        );
        if device_memory {
            out.push_str(" Peak device = the GPU allocator's highest reserved memory.");
        }
        out.push_str(" All in % except times, memory, distances and counts.\n");

        out.push_str("\n## Per-class test accuracy (%)\n\n| method |");
        for name in &self.class_names {
            out.push_str(&format!(" {name} |"));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(self.class_names.len()));
        out.push('\n');
        for row in self.all_rows() {
            out.push_str(&format!("| {} |", row.name));
            for value in &row.metrics.per_class_test_accuracy {
                out.push_str(&format!(" {} |", optional(*value, 1)));
            }
            out.push('\n');
        }

        let slims: Vec<&MethodRow> = self.all_rows().filter(|row| row.slim.is_some()).collect();
        if !slims.is_empty() {
            out.push_str("\n## Slim export\n\n| method | params before | after | removed | identical predictions | max logit diff |\n|---|---|---|---|---|---|\n");
            for row in slims {
                if let Some(slim) = &row.slim {
                    out.push_str(&format!(
                        "| {} | {} | {} | {:.1} % | {} / {} | {:.2e} |\n",
                        row.name,
                        slim.report.params_before,
                        slim.report.params_after,
                        slim.params_removed_percent,
                        slim.identical_predictions,
                        slim.compared,
                        slim.max_logit_difference
                    ));
                }
            }
        }
        if !self.failures.is_empty() {
            out.push_str("\n## Failed methods\n\n");
            for (method, error) in &self.failures {
                out.push_str(&format!("- **{method}**: {error}\n"));
            }
        }
        out.push_str(&format!(
            "\nLethe {}, Burn {}.\n",
            self.versions.lethe, self.versions.burn
        ));
        out
    }
}
