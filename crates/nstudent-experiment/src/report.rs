//! The HTML report (and spreadsheet) of a study, written by `nstudent-report` with the study's
//! config and inner-search scores as context.

use std::path::{Path, PathBuf};

use nstudent_report::{write_report, ReportOptions, StudyContext};
use nstudent_stats::table::MetricsTable;

use crate::store::{StudyDir, STUDY_FILE};
use crate::{plan, Result};

/// Writes `report.html` (and the spreadsheet next to it) for `table` at `path`; returns the
/// files written.
pub fn write(study: &StudyDir, table: &MetricsTable, path: &Path) -> Result<Vec<PathBuf>> {
    let mut search = Vec::new();
    for cell in plan::cells(&study.config) {
        if let Some(record) = study.finished(&cell)? {
            for s in &record.outcome.search {
                search.push(serde_json::json!({
                    "task": cell.task,
                    "fold": cell.fold,
                    "algorithm": cell.algorithm.display_name(),
                    "config": s.hyperparameters.table_text(cell.algorithm),
                    "epochs": s.epochs,
                    "val_accuracy": s.mean_accuracy,
                }));
            }
        }
    }
    let options = ReportOptions {
        title: format!(
            "nstudent study: {} task(s), {} outer folds",
            study.config.tasks.len(),
            study.config.outer_folds
        ),
        source: Some(study.dir.display().to_string()),
        context: StudyContext {
            config_text: std::fs::read_to_string(study.dir.join(STUDY_FILE)).ok(),
            config_hash: Some(study.hash.clone()),
            inner_search: (!search.is_empty()).then_some(serde_json::Value::Array(search)),
            pseudo_labels: std::fs::read_to_string(study.dir.join(crate::store::METRICS_FILE))
                .map(|text| nstudent_report::pseudo_label_rows(&text))
                .unwrap_or_default(),
        },
        ..ReportOptions::default()
    };
    let files = write_report(table, &options, path)?;
    Ok(vec![files.html, files.xlsx])
}
