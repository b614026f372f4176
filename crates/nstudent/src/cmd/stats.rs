//! `nstudent stats`: Friedman, Iman-Davenport, Nemenyi and Wilcoxon-Holm over a metrics
//! table, with a critical-difference diagram.

use std::path::PathBuf;

use nstudent_stats::table::{self, MetricsTable};
use nstudent_stats::{cd_diagram, compare, render};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Metrics table (CSV in the study's layout: Dataset Name, Algorithm Name, Cross
    /// Validation [1-10], ..., one row per task, algorithm and fold).
    #[arg(value_name = "TABLE.csv")]
    pub table: PathBuf,
    /// Metric column to compare, averaged over folds: Accuracy, TPR, FPR, Precision, AUC,
    /// PR-Curve, Training Time or Inference Time (case and -/_ do not matter).
    #[arg(long, default_value = "Accuracy")]
    pub metric: String,
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
    let Some(metric) = table::metric_name(&args.metric) else {
        crate::failure::usage!(
            "unknown metric \"{}\"; choose one of: {}",
            args.metric,
            table::METRICS.join(", ")
        );
    };
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
    let table = MetricsTable::read(&args.table)?;
    let analysis = compare::analyze(&table, metric, args.alpha)
        .map_err(|e| anyhow::Error::new(e).context(format!("{}", args.table.display())))?;
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
    match args.format {
        Format::Text => print!("{}", render::text(&analysis)),
        Format::Markdown => print!("{}", render::markdown(&analysis)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&analysis)?),
    }
    Ok(())
}
