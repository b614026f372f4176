//! `nstudent score`: the study's metrics of a CSV of class probabilities against true labels.

use std::path::PathBuf;

use crate::failure::Context;
use nstudent_stats::{metrics, predictions};

use super::format::Format;

#[derive(clap::Args)]
pub struct Args {
    /// CSV of true class labels (0-based), one per line; a header line is allowed.
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// CSV of class probabilities: one row per sample, one column per class; a header line
    /// (and a pandas index column) is allowed.
    #[arg(long, value_name = "FILE")]
    pub proba: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: Args) -> crate::failure::Result<()> {
    let labels = predictions::read_labels(&args.labels)?;
    let proba = predictions::read_probabilities(&args.proba)?;
    if labels.len() != proba.rows() {
        crate::failure::usage!(
            "{} holds {} labels but {} holds {} rows of probabilities; both files need one line \
             per sample, in the same order",
            args.labels.display(),
            labels.len(),
            args.proba.display(),
            proba.rows()
        );
    }
    let scores = metrics::score(&labels, &proba.values, proba.num_classes)
        .with_context(|| format!("cannot score {}", args.proba.display()))?;
    if let Some((line, sum)) = proba.first_bad_sum {
        eprintln!(
            "warning: {} of {} rows of {} do not sum to 1 (line {line} sums to {sum:.4}); \
             the metrics treat them as scores",
            proba.rows_not_summing_to_one,
            proba.rows(),
            args.proba.display()
        );
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&scores)?),
        Format::Text => {
            println!("{} samples, {} classes", labels.len(), proba.num_classes);
            for (name, value) in [
                ("accuracy", scores.accuracy),
                ("tpr", scores.tpr),
                ("fpr", scores.fpr),
                ("precision", scores.precision),
                ("auc", scores.auc),
                ("pr_curve", scores.pr_curve),
            ] {
                println!("{name:<10} {value:.6}");
            }
        }
    }
    Ok(())
}
