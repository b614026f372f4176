//! `nstudent stats`: Friedman, Iman-Davenport, Nemenyi and Wilcoxon-Holm over a metrics
//! table, with a critical-difference diagram.

use std::path::PathBuf;

use nstudent_experiment::merge::{
    dependence_text, table_dependence_statistics, BlockStats, Blocks,
};
use nstudent_stats::paired::{PairComparison, PairSettings};
use nstudent_stats::table::{Metric, MetricsTable};
use nstudent_stats::{cd_diagram, compare, effect, render};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
    /// A booktabs table for a paper.
    Latex,
}

#[derive(clap::Args)]
pub struct Args {
    /// Results table: nstudent's metrics table, or another tool's wide or long CSV (see
    /// --layout).
    #[arg(value_name = "TABLE.csv")]
    pub table: PathBuf,
    /// Metric column to compare, averaged over folds (case and -/_ do not matter). For a wide
    /// table, the name its values are reported under.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Metric::Accuracy)]
    pub metric: Metric,
    /// How the table is read, and the effect size.
    #[command(flatten)]
    pub how: super::table_args::TableArgs,
    /// Significance level of the critical difference and of the marks in the output.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the critical-difference diagram here (.svg or .png).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

pub fn run(args: Args) -> crate::failure::Result<()> {
    check_args(&args)?;
    let analysis = args.how.analysis(&args.table, args.metric, args.alpha)?;
    if let Some(plot) = &args.plot {
        write_plot(&args, &analysis, plot)?;
    }
    let effects = args.how.effects(&analysis)?;
    // nstudent's own table has its folds: the planned pairs' tests that respect dependence,
    // and the rank tests on source blocks (accuracy only, as the study's pre-registration).
    // nstudent's own table, read once for what follows.
    let own_table = match args.how.layout(&args.table)? {
        super::table_args::Layout::Nstudent => Some(MetricsTable::read(&args.table)?),
        _ => None,
    };
    let dependence = own_table
        .as_ref()
        .filter(|_| args.metric == Metric::Accuracy)
        .map(table_dependence_statistics);
    let dependence_text = dependence
        .as_ref()
        .map(|(settings, paired, blocks)| dependence_text(settings, paired, blocks.as_ref()))
        .unwrap_or_default();
    let one_task = own_table.as_ref().and_then(one_task_note);
    if let (Some(note), Format::Text | Format::Markdown) = (&one_task, args.format) {
        println!("{note}\n");
    }
    match args.format {
        Format::Text => print!(
            "{}{}{dependence_text}",
            render::text(&analysis),
            render::effects(&effects, args.alpha, false)
        ),
        Format::Markdown => print!(
            "{}{}{dependence_text}",
            render::markdown(&analysis),
            render::effects(&effects, args.alpha, true)
        ),
        Format::Json => {
            let output = Output {
                blocks: match one_task {
                    Some(_) => Blocks::Folds,
                    None => Blocks::Tasks,
                },
                analysis: &analysis,
                effects: &effects,
                paired_settings: dependence.as_ref().map(|d| &d.0),
                paired: dependence.as_ref().map(|d| d.1.as_slice()),
                source_blocks: dependence.as_ref().and_then(|d| d.2.as_ref()),
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
        }
        Format::Latex => print!("{}", render::latex(&analysis)),
    }
    Ok(())
}

/// `stats --format json`: the analysis's keys in their order, then the effect sizes.
#[derive(serde::Serialize)]
struct Output<'a> {
    /// What the rank tests compare across: `tasks`, or the `folds` of one task.
    blocks: Blocks,
    #[serde(flatten)]
    analysis: &'a compare::Analysis,
    effects: &'a effect::Effects,
    #[serde(skip_serializing_if = "Option::is_none")]
    paired_settings: Option<&'a PairSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paired: Option<&'a [PairComparison]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_blocks: Option<&'a BlockStats>,
}

/// Refuses a bad `--alpha` or `--plot` before the table is read.
fn check_args(args: &Args) -> crate::failure::Result<()> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        crate::failure::usage!(
            "--alpha must be between 0 and 1 (exclusive), got {}",
            args.alpha
        );
    }
    if let Some(plot) = &args.plot {
        let ext = plot
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(ext.as_deref(), Some("svg" | "png")) {
            crate::failure::usage!(
                "--plot {}: the diagram's file name must end in .svg or .png",
                plot.display()
            );
        }
        crate::outputs::check_file("--plot", plot)?;
        crate::outputs::check_distinct(&[("the table", &args.table)], &[("--plot", plot)])?;
    }
    Ok(())
}

/// The critical-difference diagram (`--plot`): it needs the Nemenyi test, so 3 algorithms.
fn write_plot(
    args: &Args,
    analysis: &compare::Analysis,
    plot: &std::path::Path,
) -> crate::failure::Result<()> {
    if analysis.nemenyi.is_none() {
        crate::failure::usage!(
            "--plot: a critical-difference diagram needs at least 3 algorithms, {} has {}; \
             run without --plot for the Wilcoxon test",
            args.table.display(),
            analysis.algorithms.len()
        );
    }
    cd_diagram::write(analysis, plot)?;
    eprintln!(
        "wrote the critical-difference diagram to {}",
        plot.display()
    );
    Ok(())
}

/// For nstudent's table of a single task, the line that says what its tests are: ranks over
/// the outer folds, an indication only, and the pairs' corrected t-tests. `None` otherwise.
fn one_task_note(table: &MetricsTable) -> Option<String> {
    let [task] = &table.datasets()[..] else {
        return None;
    };
    let folds = table.folds_as_datasets().datasets().len();
    Some(format!(
        "One task ({task}): the algorithms are ranked over its {folds} outer folds, which share \
         training data: an indication, not a test across tasks. The pairs' corrected resampled \
         t-tests below account for that."
    ))
}
