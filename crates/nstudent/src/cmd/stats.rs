//! `nstudent stats`: Friedman, Iman-Davenport, Nemenyi and Wilcoxon-Holm over a metrics
//! table, with a critical-difference diagram.

use std::path::PathBuf;

use nstudent_stats::effect::{self, EffectSize};
use nstudent_stats::table::{self, MetricsTable};
use nstudent_stats::{cd_diagram, compare, layouts, render};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
    /// A booktabs table for a paper.
    Latex,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EffectArg {
    Auto,
    CohenD,
    AkinshinGamma,
    CliffDelta,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// nstudent's table when it has its columns; long when --value-col is given; else wide.
    Auto,
    /// nstudent's metrics table (Dataset Name, Algorithm Name, Cross Validation, ...).
    Nstudent,
    /// A dataset column, then one column per algorithm, one row per dataset (as autorank
    /// and scikit-posthocs take).
    Wide,
    /// One value per row, in the columns --dataset-col, --algorithm-col, --value-col and
    /// optionally --fold-col.
    Long,
}

#[derive(clap::Args)]
pub struct Args {
    /// Results table: nstudent's metrics table, or another tool's wide or long CSV (see
    /// --layout).
    #[arg(value_name = "TABLE.csv")]
    pub table: PathBuf,
    /// Metric column to compare, averaged over folds: Accuracy, TPR, FPR, Precision, AUC,
    /// PR-Curve, Training Time or Inference Time (case and -/_ do not matter). For a wide
    /// table, the name its values are reported under.
    #[arg(long, default_value = "Accuracy")]
    pub metric: String,
    /// How the table is laid out.
    #[arg(long, value_enum, default_value_t = Layout::Auto)]
    pub layout: Layout,
    /// Long tables: the column naming the dataset.
    #[arg(long, value_name = "COLUMN", default_value = "dataset")]
    pub dataset_col: String,
    /// Long tables: the column naming the algorithm.
    #[arg(long, value_name = "COLUMN", default_value = "algorithm")]
    pub algorithm_col: String,
    /// Long tables: the column of values compared (its name is the metric's in the output).
    #[arg(long, value_name = "COLUMN")]
    pub value_col: Option<String>,
    /// Long tables: the fold column; each pair's folds are averaged. Without it, one row per
    /// dataset and algorithm.
    #[arg(long, value_name = "COLUMN")]
    pub fold_col: Option<String>,
    /// Wide and long tables: smaller values are better (errors, times).
    #[arg(long)]
    pub lower_is_better: bool,
    /// Effect size of every pair: as autorank chooses (Cohen's d when every algorithm's
    /// scores pass Shapiro-Wilk, else Akinshin's gamma), or the one named.
    #[arg(long, value_enum, default_value_t = EffectArg::Auto)]
    pub effect_size: EffectArg,
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

pub fn run(args: Args) -> anyhow::Result<()> {
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
    }
    let analysis = analysis(&args)?;
    if let Some(plot) = &args.plot {
        if analysis.nemenyi.is_none() {
            crate::failure::usage!(
                "--plot: a critical-difference diagram needs at least 3 algorithms, {} has {}; \
                 run without --plot for the Wilcoxon test",
                args.table.display(),
                analysis.algorithms.len()
            );
        }
        cd_diagram::write(&analysis, plot)?;
        eprintln!(
            "wrote the critical-difference diagram to {}",
            plot.display()
        );
    }
    let method = match args.effect_size {
        EffectArg::Auto => None,
        EffectArg::CohenD => Some(EffectSize::CohenD),
        EffectArg::AkinshinGamma => Some(EffectSize::AkinshinGamma),
        EffectArg::CliffDelta => Some(EffectSize::CliffDelta),
    };
    let effects = effect::effects(&analysis.means, &analysis.algorithms, args.alpha, method)?;
    match args.format {
        Format::Text => print!(
            "{}{}",
            render::text(&analysis),
            render::effects(&effects, args.alpha, false)
        ),
        Format::Markdown => print!(
            "{}{}",
            render::markdown(&analysis),
            render::effects(&effects, args.alpha, true)
        ),
        Format::Json => {
            /// The analysis's keys in their order, then the effect sizes.
            #[derive(serde::Serialize)]
            struct Output<'a> {
                #[serde(flatten)]
                analysis: &'a compare::Analysis,
                effects: &'a effect::Effects,
            }
            let output = Output {
                analysis: &analysis,
                effects: &effects,
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
        }
        Format::Latex => print!("{}", render::latex(&analysis)),
    }
    Ok(())
}

/// The layout of the table: as given, or guessed from its header and the flags.
fn layout(args: &Args) -> anyhow::Result<Layout> {
    if args.layout != Layout::Auto {
        return Ok(args.layout);
    }
    if args.value_col.is_some() {
        return Ok(Layout::Long);
    }
    let io = |source| nstudent_stats::Error::Io {
        path: args.table.clone(),
        source,
    };
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(std::fs::File::open(&args.table).map_err(io)?),
        &mut first,
    )
    .map_err(io)?;
    Ok(
        if first.contains("Dataset Name") && first.contains("Algorithm Name") {
            Layout::Nstudent
        } else {
            Layout::Wide
        },
    )
}

/// Reads the table in its layout and runs the tests.
fn analysis(args: &Args) -> anyhow::Result<compare::Analysis> {
    let metric_of_table = || match table::metric_name(&args.metric) {
        Some(m) => Ok(m),
        None => crate::failure::usage!(
            "unknown metric \"{}\"; choose one of: {}",
            args.metric,
            table::METRICS.join(", ")
        ),
    };
    // The tests' errors say what is wrong with the numbers; the file is named here.
    let in_table = |e: nstudent_stats::Error| {
        anyhow::Error::new(e).context(format!("{}", args.table.display()))
    };
    Ok(match layout(args)? {
        Layout::Nstudent | Layout::Auto => {
            if args.value_col.is_some() || args.fold_col.is_some() || args.lower_is_better {
                crate::failure::usage!(
                    "--value-col, --fold-col and --lower-is-better are for wide and long \
                     tables; nstudent's table names its metric with --metric"
                );
            }
            let metric = metric_of_table()?;
            let table = MetricsTable::read(&args.table)?;
            compare::analyze(&table, metric, args.alpha).map_err(in_table)?
        }
        Layout::Wide => {
            let means = layouts::read_wide(&args.table)?;
            let name = table::metric_name(&args.metric).unwrap_or(&args.metric);
            compare::analyze_means(means, name, args.lower_is_better, args.alpha)
                .map_err(in_table)?
        }
        Layout::Long => {
            let Some(value) = args.value_col.clone() else {
                crate::failure::usage!(
                    "--layout long needs --value-col, the column of values to compare"
                );
            };
            let columns = layouts::LongColumns {
                dataset: args.dataset_col.clone(),
                algorithm: args.algorithm_col.clone(),
                value: value.clone(),
                fold: args.fold_col.clone(),
            };
            let means = layouts::read_long(&args.table, &columns)?;
            compare::analyze_means(means, &value, args.lower_is_better, args.alpha)
                .map_err(in_table)?
        }
    })
}
