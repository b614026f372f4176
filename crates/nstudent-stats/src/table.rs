//! The study's metrics table: one row per (task, algorithm, outer fold), in the original
//! study's CSV layout, so that scripts written for it keep working.

use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::metrics::Scores;
use crate::{Error, Result};

/// Column names of the metrics table, after the leading unnamed index column.
pub const COLUMNS: [&str; 12] = [
    "Dataset Name",
    "Algorithm Name",
    "Cross Validation [1-10]",
    "Hyper-Parameters Values",
    "Accuracy",
    "TPR",
    "FPR",
    "Precision",
    "AUC",
    "PR-Curve",
    "Training Time",
    "Inference Time",
];

/// Metric columns, in table order.
pub const METRICS: [&str; 8] = [
    "Accuracy",
    "TPR",
    "FPR",
    "Precision",
    "AUC",
    "PR-Curve",
    "Training Time",
    "Inference Time",
];

/// A metric column, as `--metric` takes it: `--help` lists the values, and case, `-`, `_` and
/// spaces do not matter (`Accuracy`, `pr_curve`, `training time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Metric {
    Accuracy,
    Tpr,
    Fpr,
    Precision,
    Auc,
    #[value(alias = "pr_curve", alias = "pr curve")]
    PrCurve,
    #[value(alias = "training_time", alias = "training time")]
    TrainingTime,
    #[value(alias = "inference_time", alias = "inference time")]
    InferenceTime,
}

impl Metric {
    /// The column name in the metrics table (one of [`METRICS`]).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => METRICS[0],
            Metric::Tpr => METRICS[1],
            Metric::Fpr => METRICS[2],
            Metric::Precision => METRICS[3],
            Metric::Auc => METRICS[4],
            Metric::PrCurve => METRICS[5],
            Metric::TrainingTime => METRICS[6],
            Metric::InferenceTime => METRICS[7],
        }
    }
}

/// The metrics that are fractions in [0, 1] (the others are times, in seconds, >= 0).
pub const BOUNDED: [&str; 6] = ["Accuracy", "TPR", "FPR", "Precision", "AUC", "PR-Curve"];

/// The values a metric can take: [0, 1] for the fractions of [`BOUNDED`], [0, inf) for times;
/// `None` for a name that is none of the eight metrics (any finite value).
pub fn value_range(name: &str) -> Option<(f64, f64)> {
    let column = metric_name(name)?;
    Some(if BOUNDED.contains(&column) {
        (0.0, 1.0)
    } else {
        (0.0, f64::INFINITY)
    })
}

/// The metric column named `name`, ignoring case and treating `-`, `_` and spaces alike
/// (`accuracy`, `pr_curve`, `training-time` are accepted).
pub fn metric_name(name: &str) -> Option<&'static str> {
    let key = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '-' | '_' | ' ' => ' ',
                c => c.to_ascii_lowercase(),
            })
            .collect()
    };
    let wanted = key(name.trim());
    METRICS.iter().copied().find(|m| key(m) == wanted)
}

/// True for metrics where a smaller value is better (used for ranking).
pub fn lower_is_better(metric: &str) -> bool {
    matches!(metric, "FPR" | "Training Time" | "Inference Time")
}

/// One (task, algorithm, outer fold) result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub dataset: String,
    pub algorithm: String,
    /// 1-based outer fold.
    pub fold: usize,
    /// Chosen hyperparameters as text, e.g. `unl_factor: 0.2, threshold: 0.8`, or `None`.
    pub hyperparameters: String,
    /// The six metric columns, Accuracy to PR-Curve.
    #[serde(flatten)]
    pub metrics: Scores,
    /// Seconds.
    pub training_time: f64,
    /// Seconds.
    pub inference_time: f64,
}

impl Row {
    /// The value of a metric column by its table name (see [`METRICS`]).
    pub fn metric(&self, name: &str) -> Option<f64> {
        Some(match name {
            "Accuracy" => self.metrics.accuracy,
            "TPR" => self.metrics.tpr,
            "FPR" => self.metrics.fpr,
            "Precision" => self.metrics.precision,
            "AUC" => self.metrics.auc,
            "PR-Curve" => self.metrics.pr_curve,
            "Training Time" => self.training_time,
            "Inference Time" => self.inference_time,
            _ => return None,
        })
    }
}

/// All rows of a metrics table, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsTable {
    pub rows: Vec<Row>,
}

impl MetricsTable {
    /// The first value no computation gives: a metric that is not a finite number. Tables read
    /// from files let one through so that the tests name it with its algorithm and fold; a
    /// report, which shows every metric, checks them all first.
    pub fn check_finite(&self) -> Result<()> {
        for row in &self.rows {
            for name in METRICS {
                let v = row.metric(name).unwrap_or(f64::NAN);
                if !v.is_finite() {
                    return Err(Error::Invalid(format!(
                        "{name} of {} on \"{}\" fold {} is {v}, not a finite number",
                        row.algorithm, row.dataset, row.fold
                    )));
                }
            }
        }
        Ok(())
    }

    /// Reads a table file; `path` is used in messages.
    pub fn read(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_reader(file, path)
    }

    /// Parses a table; the leading unnamed index column is optional.
    pub fn from_reader(reader: impl Read, path: &Path) -> Result<Self> {
        let fmt = |message: String| Error::Format {
            path: path.to_path_buf(),
            message,
        };
        let mut csv = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(reader);
        let headers = csv
            .headers()
            .map_err(|e| fmt(format!("cannot read the header: {e}")))?
            .clone();
        let mut index = [0usize; 12];
        for (slot, name) in index.iter_mut().zip(COLUMNS) {
            *slot = headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| {
                    fmt(format!(
                        "missing column \"{name}\"; a metrics table needs the columns {}",
                        COLUMNS.join(", ")
                    ))
                })?;
        }
        let mut rows = Vec::new();
        for (line, record) in csv.records().enumerate() {
            let line = line + 2;
            let record = record.map_err(|e| fmt(format!("line {line}: {e}")))?;
            let text = |i: usize| record.get(index[i]).unwrap_or("").trim().to_string();
            let number = |i: usize| -> Result<f64> {
                let cell = text(i);
                let v = cell.parse::<f64>().map_err(|_| {
                    fmt(format!(
                        "line {line}: column \"{}\" holds \"{cell}\", which is not a number",
                        COLUMNS[i]
                    ))
                })?;
                let (lo, hi) = if BOUNDED.contains(&COLUMNS[i]) {
                    (0.0, 1.0)
                } else {
                    (0.0, f64::INFINITY)
                };
                // NaN passes here: the analysis names it with its algorithm and fold.
                if v < lo || v > hi {
                    return Err(fmt(format!(
                        "line {line}: column \"{}\" holds {cell}, outside {}; give fractions \
                         (0.87, not 87%) and times in seconds",
                        COLUMNS[i],
                        if hi == 1.0 { "[0, 1]" } else { "[0, inf)" }
                    )));
                }
                Ok(v)
            };
            let fold_text = text(2);
            let fold = fold_text.parse::<usize>().map_err(|_| {
                fmt(format!(
                    "line {line}: column \"{}\" holds \"{fold_text}\", which is not a fold number",
                    COLUMNS[2]
                ))
            })?;
            rows.push(Row {
                dataset: text(0),
                algorithm: text(1),
                fold,
                hyperparameters: text(3),
                metrics: Scores {
                    accuracy: number(4)?,
                    tpr: number(5)?,
                    fpr: number(6)?,
                    precision: number(7)?,
                    auc: number(8)?,
                    pr_curve: number(9)?,
                },
                training_time: number(10)?,
                inference_time: number(11)?,
            });
        }
        Ok(Self { rows })
    }

    /// Writes the table with the leading index column, as the original study's files have it.
    pub fn write(&self, writer: impl Write) -> std::io::Result<()> {
        let mut csv = csv::Writer::from_writer(writer);
        let mut header = vec![""];
        header.extend(COLUMNS);
        csv.write_record(&header)?;
        for (i, r) in self.rows.iter().enumerate() {
            csv.write_record([
                i.to_string(),
                r.dataset.clone(),
                r.algorithm.clone(),
                r.fold.to_string(),
                r.hyperparameters.clone(),
                r.metrics.accuracy.to_string(),
                r.metrics.tpr.to_string(),
                r.metrics.fpr.to_string(),
                r.metrics.precision.to_string(),
                r.metrics.auc.to_string(),
                r.metrics.pr_curve.to_string(),
                r.training_time.to_string(),
                r.inference_time.to_string(),
            ])?;
        }
        csv.flush()
    }

    /// Distinct values in order of first appearance.
    pub fn datasets(&self) -> Vec<String> {
        first_seen(self.rows.iter().map(|r| r.dataset.as_str()))
    }

    /// Distinct algorithm names in order of first appearance.
    pub fn algorithms(&self) -> Vec<String> {
        first_seen(self.rows.iter().map(|r| r.algorithm.as_str()))
    }

    /// The table with each fold as its own dataset ("Digits 0-4 fold 3", fold 1): how a
    /// one-task study's algorithms are ranked. Folds share training data, so tests over them
    /// are an indication, not a test across tasks.
    pub fn folds_as_datasets(&self) -> MetricsTable {
        let mut per_fold = self.clone();
        for r in &mut per_fold.rows {
            r.dataset = format!("{} fold {}", r.dataset, r.fold);
            r.fold = 1;
        }
        per_fold
    }
}

fn first_seen<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for n in names {
        if !seen.iter().any(|s| s == n) {
            seen.push(n.to_string());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = ",Dataset Name,Algorithm Name,Cross Validation [1-10],Hyper-Parameters Values,Accuracy,TPR,FPR,Precision,AUC,PR-Curve,Training Time,Inference Time
0,MNIST 0-4,Baseline,1,None,0.98,0.97,0.005,0.97,0.999,0.998,4.2,0.3
1,MNIST 0-4,Noisy Student,1,\"unl_factor: 0.2, threshold: 0.8, num_of_students: 2\",0.99,0.98,0.004,0.98,0.999,0.999,21.5,0.3
";

    #[test]
    fn the_metric_enum_names_every_metric_column_in_order() {
        use clap::ValueEnum;
        let names: Vec<&str> = Metric::value_variants().iter().map(|m| m.name()).collect();
        assert_eq!(names, METRICS);
        for m in Metric::value_variants() {
            // Every loose spelling `metric_name` accepts is a value `--metric` accepts.
            for spelling in [
                m.name().to_string(),
                m.name().replace(' ', "-"),
                m.name().replace(['-', ' '], "_"),
            ] {
                assert_eq!(Metric::from_str(&spelling, true), Ok(*m), "{spelling}");
            }
        }
    }

    #[test]
    fn finds_metric_columns_by_loose_names() {
        assert_eq!(metric_name("accuracy"), Some("Accuracy"));
        assert_eq!(metric_name("pr_curve"), Some("PR-Curve"));
        assert_eq!(metric_name("Training-Time"), Some("Training Time"));
        assert_eq!(metric_name("recall"), None);
    }

    #[test]
    fn round_trips_the_original_layout() {
        let t = MetricsTable::from_reader(SAMPLE.as_bytes(), Path::new("t.csv")).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(
            t.rows[1].hyperparameters,
            "unl_factor: 0.2, threshold: 0.8, num_of_students: 2"
        );
        assert_eq!(t.algorithms(), vec!["Baseline", "Noisy Student"]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), SAMPLE);
    }

    #[test]
    fn names_a_missing_column_and_a_bad_number() {
        let no_auc = SAMPLE.replace(",AUC,", ",AUX,");
        let e = MetricsTable::from_reader(no_auc.as_bytes(), Path::new("t.csv")).unwrap_err();
        assert!(e.to_string().contains("missing column \"AUC\""), "{e}");
        let bad = SAMPLE.replace("0.98,0.97", "high,0.97");
        let e = MetricsTable::from_reader(bad.as_bytes(), Path::new("t.csv")).unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("high"),
            "{e}"
        );
    }
}
