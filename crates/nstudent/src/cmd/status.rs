//! `nstudent status`: which cells of a study directory are finished, and what the rest cost.

use crate::failure::Failure;
use std::path::PathBuf;

use nstudent_experiment::{merge as merging, plan, StudyDir};

use super::format::{print_json, Format};
use super::run::out;
use super::study_json;

/// List the cells of a study directory that are still missing.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// Results directory of `nstudent run`.
    #[arg(default_value = "nstudent-results")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: StatusArgs) -> crate::failure::Result<()> {
    let study = StudyDir::open(&args.dir).map_err(Failure::flat)?;
    let cells = plan::cells(study.config());
    let (table, missing) = merging::collect(&study).map_err(Failure::flat)?;
    if args.format == Format::Json {
        let (records, todo) = study.finished_and_todo(&cells);
        let threads = study.study().budget().threads;
        let remaining = study_json::remaining(&plan::remaining(&todo, &records), threads.get());
        return print_json(&study_json::status(
            &args.dir,
            study.hash(),
            cells.len(),
            table.rows.len(),
            &missing,
            remaining,
        ));
    }
    out(&format!(
        "{}: {} of {} cells finished, {} missing (config hash {})",
        args.dir.display(),
        table.rows.len(),
        cells.len(),
        missing.len(),
        study.hash()
    ));
    for c in &missing {
        out(&format!(
            "missing  cell {:>5}  {}  fold {}  {}",
            c.index, c.task, c.fold, c.algorithm
        ));
    }
    let (records, todo) = study.finished_and_todo(&cells);
    let threads = study.study().budget().threads;
    if let Some(line) = plan::remaining(&todo, &records).describe(threads.get()) {
        out(&line);
    }
    Ok(())
}
