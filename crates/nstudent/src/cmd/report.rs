//! `nstudent report`: the study's HTML report and spreadsheet, from its metrics table.

use crate::failure::Failure;
use std::path::{Path, PathBuf};

use crate::failure::Context;

use nstudent_report::{write_report, ReportOptions, StudyContext};
use nstudent_stats::table::{Metric, MetricsTable};

use super::table_args::Layout;
use crate::failure::usage;

/// Name of the metrics table in a study's results directory.
const TABLE_NAME: &str = "metrics_table.csv";
/// Name of the resolved study configuration in a results directory.
const CONFIG_NAME: &str = "study.toml";

#[derive(clap::Args)]
pub struct Args {
    /// A study's results directory (its metrics_table.csv is read) or a metrics table CSV.
    #[arg(value_name = "RESULTS_DIR|TABLE.csv")]
    pub input: PathBuf,
    /// The HTML file to write [default: RESULTS_DIR/report.html, or report.html next to the
    /// table]. The spreadsheet metrics_table.xlsx is written next to it.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Title of the report [default: "nstudent study: " and the directory's name].
    #[arg(long)]
    pub title: Option<String>,
    /// Metric the statistical tests compare (case and -/_ do not matter).
    #[arg(long, value_enum, ignore_case = true, default_value_t = Metric::Accuracy)]
    pub metric: Metric,
    /// Significance level of the tests and of the critical difference.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Another study's metrics table to set beside this one, in a section of its own (the
    /// original study's `original_metrics_table.csv`, say): on the tasks and algorithms both
    /// have, each side's mean and sd over folds and whether they agree within the folds'
    /// spread, the folds side by side, the chosen hyperparameters, and each side's Friedman
    /// and Wilcoxon-Holm tests across the shared tasks.
    #[arg(long, value_name = "TABLE.csv")]
    pub beside: Option<PathBuf>,
    /// How the report names the table beside [default: its file name].
    #[arg(long, value_name = "NAME", requires = "beside")]
    pub beside_name: Option<String>,
    /// Another tool's table (wide or long) gives a comparison page: scores per dataset, the
    /// tests, the critical-difference diagram and the effect sizes.
    #[command(flatten)]
    pub how: super::table_args::TableArgs,
}

pub fn run(args: Args) -> crate::failure::Result<()> {
    if args.input.is_file() {
        let layout = args.how.layout(&args.input)?;
        if matches!(layout, Layout::Wide | Layout::Long) {
            if args.beside.is_some() {
                usage!(
                    "--beside sets a study's table beside another; {} is a {} table, which \
                     gets the comparison page: leave out --beside",
                    args.input.display(),
                    if matches!(layout, Layout::Wide) {
                        "wide"
                    } else {
                        "long"
                    }
                );
            }
            return comparison_page(&args);
        }
    }
    let metric = args.metric.name();
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        usage!(
            "--alpha must be between 0 and 1 (exclusive), got {}",
            args.alpha
        );
    }
    let input = &args.input;
    if !input.exists() {
        usage!(
            "{} does not exist; give a study's results directory or a metrics table CSV",
            input.display()
        );
    }
    let beside = read_beside(&args)?;
    let out = checked_output(&args, input)?;
    check_beside_early(input, beside.as_ref())?;
    let (study_context, dependence) = merge_study_first(input)?;
    let (table_path, results_dir) = table_of(input)?;
    if out
        .extension()
        .is_none_or(|e| !e.eq_ignore_ascii_case("html"))
        && !out.is_dir()
    {
        eprintln!(
            "warning: {} does not end in .html; browsers may not open it as a web page",
            out.display()
        );
    }

    let table = MetricsTable::read(&table_path)?;
    table
        .check_finite()
        .with_context(|| table_path.display().to_string())?;
    let context = report_context(&table, results_dir, study_context, dependence);
    let title = report_title(&args, &table_path, results_dir);
    let options = ReportOptions {
        title,
        alpha: args.alpha,
        metric: metric.to_string(),
        source: Some(nstudent_report::source_name(&table_path)),
        context,
        beside,
    };
    let files = write_report(&table, &options, &out).map_err(Failure::flat)?;
    println!("report: {}", files.html.display());
    println!("spreadsheet: {}", files.xlsx.display());
    Ok(())
}

/// The table of `--beside`, read and checked (whether it shares tasks with the study is
/// checked with the study's table).
fn read_beside(args: &Args) -> crate::failure::Result<Option<nstudent_report::Beside>> {
    let Some(path) = &args.beside else {
        return Ok(None);
    };
    if !path.is_file() {
        usage!(
            "--beside {}: no such file; give another study's metrics table CSV",
            path.display()
        );
    }
    let table = MetricsTable::read(path).with_context(|| format!("--beside {}", path.display()))?;
    table
        .check_finite()
        .with_context(|| format!("--beside {}", path.display()))?;
    let name = args.beside_name.clone().unwrap_or_else(|| {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    Ok(Some(nstudent_report::Beside { name, table }))
}

/// A table beside that shares no task with the study's current table is refused before a
/// study directory's table is merged again, so that the refusal writes nothing. (A study without
/// a table yet is checked after its merge, by `write_report`.)
fn check_beside_early(
    input: &Path,
    beside: Option<&nstudent_report::Beside>,
) -> crate::failure::Result<()> {
    let Some(beside) = beside else {
        return Ok(());
    };
    let table_file = if input.is_dir() {
        input.join(TABLE_NAME)
    } else {
        input.to_path_buf()
    };
    if let Ok(table) = MetricsTable::read(&table_file) {
        nstudent_report::check_beside(&table, beside).map_err(Failure::flat)?;
    }
    Ok(())
}

/// The report's path, checked before a study's table is merged again: an output that is the
/// table itself is refused before anything is written.
fn checked_output(args: &Args, input: &Path) -> crate::failure::Result<std::path::PathBuf> {
    let table_file = if input.is_dir() {
        input.join(TABLE_NAME)
    } else {
        input.to_path_buf()
    };
    let out = match &args.out {
        Some(out) => out.clone(),
        None => table_file
            .parent()
            .unwrap_or(Path::new(""))
            .join("report.html"),
    };
    if !out.is_dir() {
        crate::outputs::check_file("--out", &out)?;
        let xlsx = crate::outputs::folder_of(&out).join(nstudent_report::XLSX_NAME);
        crate::outputs::check_file("the spreadsheet", &xlsx)?;
        let mut inputs: Vec<(&str, &Path)> = vec![("the table", &table_file)];
        if let Some(beside) = &args.beside {
            inputs.push(("--beside", beside));
        }
        crate::outputs::check_distinct(&inputs, &[("--out", &out), ("the spreadsheet", &xlsx)])?;
    }
    Ok(out)
}

/// For a study directory, its table rebuilt from the finished cells first (so the report never
/// shows a table older than the cells), and the study's context and pair tests.
fn merge_study_first(
    input: &Path,
) -> crate::failure::Result<(Option<StudyContext>, Option<nstudent_report::Dependence>)> {
    let mut study_context = None;
    let mut dependence = None;
    if input.is_dir() && input.join("cells").is_dir() && input.join(CONFIG_NAME).is_file() {
        // A study directory: rebuild its table from the finished cells first, so the report
        // never shows a table older than the cells (shards may have finished since), and take
        // the chosen hyperparameters and the inner search from the cells, as typed values.
        let study = nstudent_experiment::StudyDir::open(input)?;
        let merged = nstudent_experiment::merge(
            &study,
            &nstudent_experiment::MergeOptions { report: false },
        )?;
        if !merged.missing.is_empty() {
            eprintln!(
                "note: {} cells of this study are not finished; the report covers the {} rows \
                 that are (`nstudent status {}` lists the rest)",
                merged.missing.len(),
                merged.table.rows.len(),
                input.display()
            );
        }
        study_context = Some(nstudent_experiment::report_context(&study)?);
        dependence = Some(nstudent_experiment::report_dependence(&merged.stats));
    }
    Ok((study_context, dependence))
}

/// The table's path, and the results directory it is in when the input is one.
fn table_of(input: &Path) -> crate::failure::Result<(std::path::PathBuf, Option<&Path>)> {
    Ok(if input.is_dir() {
        let path = input.join(TABLE_NAME);
        if !path.is_file() {
            if input.join("cells").is_dir() {
                usage!(
                    "{} has no {TABLE_NAME} yet; build it from the finished cells with \
                     `nstudent merge {}`",
                    input.display(),
                    input.display()
                );
            }
            usage!(
                "{} has no {TABLE_NAME}; give a study's results directory (as written by \
                 `nstudent run --out DIR`) or the path of a metrics table CSV",
                input.display()
            );
        }
        (path, Some(input))
    } else {
        (input.to_path_buf(), None)
    })
}

/// The report's title: --title, else the name of the study's (or the table's) folder.
fn report_title(args: &Args, table_path: &Path, results_dir: Option<&Path>) -> String {
    args.title.clone().unwrap_or_else(|| {
        let dir = results_dir
            .map(Path::to_path_buf)
            .or_else(|| table_path.parent().map(Path::to_path_buf))
            .and_then(|d| std::fs::canonicalize(d).ok())
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
        match dir {
            Some(name) => format!("nstudent study: {name}"),
            None => "nstudent study report".to_string(),
        }
    })
}

/// What the report shows beside the table: the study's context when the input is a study,
/// else what its folder holds (a config, pseudo-label lines); and the pairs' tests, as `run`
/// and `merge` put them in the report (from the table's own task names when there is no
/// study).
fn report_context(
    table: &MetricsTable,
    results_dir: Option<&Path>,
    study_context: Option<StudyContext>,
    dependence: Option<nstudent_report::Dependence>,
) -> StudyContext {
    let mut context = study_context.unwrap_or_else(|| StudyContext {
        config_text: results_dir
            .map(|d| d.join(CONFIG_NAME))
            .and_then(|p| std::fs::read_to_string(p).ok()),
        pseudo_labels: results_dir
            .map(|d| d.join(nstudent_experiment::store::METRICS_FILE))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|text| nstudent_report::pseudo_label_rows(&text))
            .unwrap_or_default(),
        ..StudyContext::default()
    });
    context.dependence = dependence.unwrap_or_else(|| {
        nstudent_experiment::report_dependence(&nstudent_experiment::merge::statistics(table, &[]))
    });
    context
}

/// The comparison page of a wide or long table, written next to it (or to --out).
fn comparison_page(args: &Args) -> crate::failure::Result<()> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        usage!(
            "--alpha must be between 0 and 1 (exclusive), got {}",
            args.alpha
        );
    }
    let out = args.out.clone().unwrap_or_else(|| {
        args.input
            .parent()
            .unwrap_or(Path::new(""))
            .join("report.html")
    });
    crate::outputs::check_file("--out", &out)?;
    crate::outputs::check_distinct(&[("the table", &args.input)], &[("--out", &out)])?;
    let analysis = args.how.analysis(&args.input, args.metric, args.alpha)?;
    let effects = args.how.effects(&analysis)?;
    let title = args.title.clone().unwrap_or_else(|| {
        format!(
            "{} of {} algorithms on {} datasets",
            analysis.metric,
            analysis.algorithms.len(),
            analysis.datasets
        )
    });
    // The tests section draws the critical-difference diagram where the tests allow one.
    let html = nstudent_report::render_comparison_html(
        &analysis,
        &effects,
        &title,
        Some(&nstudent_report::source_name(&args.input)),
    );
    let mut staged = crate::outputs::Staged::default();
    staged.write(&out, html.as_bytes())?;
    staged.commit()?;
    println!("report: {}", out.display());
    Ok(())
}
