//! `nstudent merge`: a study's table, statistics and report, built from its finished cells.

use crate::failure::Failure;
use std::path::PathBuf;

use nstudent_experiment::{merge as merging, MergeOptions, StudyDir};

use super::run::{list_written, out};

/// Build the metrics table, statistics and report of a study directory from its cells.
#[derive(clap::Args)]
pub struct MergeArgs {
    /// Results directory of `nstudent run`.
    #[arg(default_value = "nstudent-results")]
    pub dir: PathBuf,
    /// Skip report.html.
    #[arg(long)]
    pub no_report: bool,
}

pub fn run(args: MergeArgs) -> crate::failure::Result<()> {
    let study = StudyDir::open(&args.dir).map_err(Failure::flat)?;
    let merged = merging::merge(
        &study,
        &MergeOptions {
            report: !args.no_report,
        },
    )
    .map_err(Failure::flat)?;
    if !merged.missing.is_empty() {
        eprintln!(
            "nstudent: {} cells are missing; the outputs hold the {} finished ones (`nstudent status {}` lists the rest)",
            merged.missing.len(),
            merged.table.rows.len(),
            args.dir.display()
        );
    }
    out(&format!(
        "{}\nresults: {}",
        merging::summary_text(&merged.table, &merged.stats),
        list_written(&merged.written)
    ));
    Ok(())
}
