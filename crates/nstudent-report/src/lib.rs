//! The study report: one self-contained HTML file and a spreadsheet, built from a metrics table.
//!
//! [`write_report`] writes `report.html` (inline CSS and SVG charts, no network needed: the
//! per-task mean ± std of every metric with the best in bold, accuracy per task, the
//! critical-difference diagram and the Friedman / Iman-Davenport / Nemenyi / Wilcoxon-Holm
//! results, per-fold box plots, training and inference time, the chosen hyperparameters) and,
//! next to it, `metrics_table.xlsx` (the raw table and a per-task summary sheet).
//!
//! ```no_run
//! use std::path::Path;
//! use nstudent_stats::table::MetricsTable;
//! use nstudent_report::{write_report, ReportOptions};
//!
//! let table = MetricsTable::read(Path::new("results/metrics_table.csv"))?;
//! let files = write_report(&table, &ReportOptions::default(), Path::new("results/report.html"))?;
//! println!("{}", files.html.display());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod beside;
mod charts;
mod comparison;
pub mod curve;
mod dependence;
mod error;
mod format;
mod html;
mod pseudo;
mod settings;
mod summary;
mod xlsx;

use std::path::{Path, PathBuf};

use nstudent_stats::table::{MetricsTable, METRICS};

pub use beside::{agreements, algorithm_key, check as check_beside, task_key, Agreement, Beside};
pub use dependence::Dependence;
pub use error::{Error, Result};
pub use pseudo::{rows as pseudo_label_rows, PseudoLabelRow};
pub use settings::{ChosenSettings, SearchScore, Setting, SettingValue, Settings};
pub use xlsx::{METRICS_SHEET, SUMMARY_SHEET};

/// File name of the spreadsheet written next to the HTML report.
pub const XLSX_NAME: &str = "metrics_table.xlsx";

/// What the report shows besides the table itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// The page's title and heading.
    pub title: String,
    /// Significance level of the tests and of the critical difference, in (0, 1).
    pub alpha: f64,
    /// The metric column the statistical tests compare (see `nstudent_stats::table::METRICS`).
    pub metric: String,
    /// Where the table came from (a path), shown under the title.
    pub source: Option<String>,
    /// What the study runner knows about the study.
    pub context: StudyContext,
    /// Another study's table to set beside this one (e.g. the original study's), in a section
    /// of its own.
    pub beside: Option<Beside>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            title: "nstudent study report".to_string(),
            alpha: 0.05,
            metric: "Accuracy".to_string(),
            source: None,
            context: StudyContext::default(),
            beside: None,
        }
    }
}

/// Optional context of the study, shown in a "Study configuration" section when present.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StudyContext {
    /// The resolved study configuration (e.g. the text of `study.toml`), shown verbatim.
    pub config_text: Option<String>,
    /// A hash identifying the configuration.
    pub config_hash: Option<String>,
    /// The hyperparameters the study chose for the rows of its table, as typed values: the
    /// "Chosen hyperparameters" section counts these instead of reading the table's text
    /// column (rows without an entry are still read from it).
    pub chosen: Vec<ChosenSettings>,
    /// Every candidate's inner-search score in every cell: a table with one column per
    /// hyperparameter when not empty.
    pub inner_search: Vec<SearchScore>,
    /// Pseudo-labels of every refit iteration, averaged over folds (see
    /// [`pseudo_label_rows`]): a chart and a table when not empty.
    pub pseudo_labels: Vec<PseudoLabelRow>,
    /// The planned pairs' tests that respect dependence, the source blocks and the compute:
    /// a "Pairs and compute" section when not empty.
    pub dependence: Dependence,
}

impl StudyContext {
    /// True when there is nothing to show in the "Study configuration" section (`chosen` is
    /// shown with the table's hyperparameters instead).
    pub fn is_empty(&self) -> bool {
        self.config_text.is_none()
            && self.config_hash.is_none()
            && self.inner_search.is_empty()
            && self.pseudo_labels.is_empty()
    }
}

/// The files [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub xlsx: PathBuf,
}

fn check(table: &MetricsTable, options: &ReportOptions) -> Result<()> {
    if table.rows.is_empty() {
        return Err(Error::Invalid(
            "the metrics table has no rows; run the study (or `nstudent merge DIR`) first"
                .to_string(),
        ));
    }
    if !(options.alpha > 0.0 && options.alpha < 1.0) {
        return Err(Error::Invalid(format!(
            "alpha must be between 0 and 1 (exclusive), e.g. 0.05; got {}",
            options.alpha
        )));
    }
    if !METRICS.contains(&options.metric.as_str()) {
        return Err(Error::Invalid(format!(
            "unknown metric \"{}\"; choose one of: {}",
            options.metric,
            METRICS.join(", ")
        )));
    }
    if let Some(beside) = &options.beside {
        beside::check(table, beside)?;
    }
    Ok(())
}

/// The HTML report as text.
/// How a report names the table or study it shows: a relative path as given, and only the
/// last part of an absolute one, so that a page shared (or committed) names no machine's
/// folders, such as the temporary directory a merge ran in.
pub fn source_name(path: &std::path::Path) -> String {
    match path.file_name() {
        Some(name) if path.is_absolute() => name.to_string_lossy().into_owned(),
        _ => path.display().to_string(),
    }
}

pub fn render_html(table: &MetricsTable, options: &ReportOptions) -> Result<String> {
    check(table, options)?;
    let summary = summary::Summary::with_chosen(table, &options.context.chosen);
    let tests = comparison::section(table, &options.metric, options.alpha);
    html::document(table, &summary, options, &tests)
}

/// The comparison page of another tool's table (wide or long, see
/// `nstudent_stats::layouts`): scores per dataset, the statistical tests, the critical
/// difference diagram, effect sizes and intervals.
pub fn render_comparison_html(
    analysis: &nstudent_stats::compare::Analysis,
    effects: &nstudent_stats::effect::Effects,
    title: &str,
    source: Option<&str>,
) -> String {
    html::comparison_document(analysis, effects, title, source)
}

/// The spreadsheet as xlsx bytes: sheet [`METRICS_SHEET`] the raw table, sheet
/// [`SUMMARY_SHEET`] the mean and std of every metric per task and algorithm.
pub fn render_xlsx(table: &MetricsTable) -> Result<Vec<u8>> {
    if table.rows.is_empty() {
        return Err(Error::Invalid("the metrics table has no rows".to_string()));
    }
    xlsx::workbook(table, &summary::Summary::new(table))
}

/// Writes the HTML report to `out_html` and [`XLSX_NAME`] in the same directory.
///
/// Both are rendered in memory first, then written to temporary files in the target directory
/// and renamed into place, so an error leaves neither a partial file nor a new one behind
/// (existing files are replaced only on success). The directory must exist.
pub fn write_report(
    table: &MetricsTable,
    options: &ReportOptions,
    out_html: &Path,
) -> Result<ReportFiles> {
    let dir = match out_html.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if out_html.is_dir() {
        return Err(Error::Invalid(format!(
            "{} is a directory; give the report a file name, e.g. {}",
            out_html.display(),
            out_html.join("report.html").display()
        )));
    }
    if !dir.is_dir() {
        return Err(Error::Invalid(format!(
            "the output directory {} does not exist; create it first",
            dir.display()
        )));
    }
    let xlsx_path = dir.join(XLSX_NAME);
    if out_html.file_name() == Some(std::ffi::OsStr::new(XLSX_NAME)) {
        return Err(Error::Invalid(format!(
            "the report cannot be named {XLSX_NAME}: that is the spreadsheet's name"
        )));
    }

    let html = render_html(table, options)?;
    let book = render_xlsx(table)?;

    // The spreadsheet first: should the report fail to go in, the spreadsheet is removed
    // again, so there is no new spreadsheet without its report.
    let mut staged = nstudent_core::fs::Staged::default();
    staged
        .write(&xlsx_path, &book)
        .map_err(|e| Error::io(&xlsx_path, e))?;
    staged
        .write(out_html, html.as_bytes())
        .map_err(|e| Error::io(out_html, e))?;
    staged.commit().map_err(|(path, e)| Error::io(path, e))?;
    Ok(ReportFiles {
        html: out_html.to_path_buf(),
        xlsx: xlsx_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_name_no_machine_folder() {
        use std::path::Path;
        assert_eq!(source_name(Path::new("/tmp/.tmpX1/study")), "study");
        assert_eq!(
            source_name(Path::new("docs/results/standard-v2")),
            "docs/results/standard-v2"
        );
        assert_eq!(source_name(Path::new("t.csv")), "t.csv");
    }
}
