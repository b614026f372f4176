//! `nstudent verify`: recompute finished cells and check them bit for bit
//! ([`nstudent_experiment::verify`] does the work; this prints it).

use crate::failure::Failure;
use std::path::PathBuf;

use nstudent_experiment::{plan, verify, NestedCv, StudyDir};

use super::run::out;
use crate::failure::usage;

/// Recompute finished cells of a study directory and check they come out bit for bit the same.
///
/// Each chosen cell is computed again, with the config recorded in the directory, into a
/// temporary directory; every field of its cell file must equal the stored one, except the
/// times and the thread count. Exits 0 when all are identical, 1 when one differs.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// Results directory of `nstudent run`.
    #[arg(default_value = "nstudent-results")]
    pub dir: PathBuf,
    /// Cells to recompute, by index (as `nstudent status` and the log number them),
    /// comma-separated. Without it, `--sample` cells are picked.
    #[arg(long, value_delimiter = ',', value_name = "INDEX")]
    pub cells: Option<Vec<usize>>,
    /// How many finished cells to pick (seeded by --seed) when --cells is not given.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub sample: usize,
    /// Seed of the pick.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where named datasets are read from (default: the directory's config, $NSTUDENT_DATA or
    /// the platform's data dir).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Threads in total; 0 or none uses every core. A speed setting only.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

pub fn run(args: VerifyArgs) -> crate::failure::Result<()> {
    if args.sample == 0 && args.cells.is_none() {
        usage!("--sample 0 verifies nothing; pick at least 1 cell (or name them with --cells)");
    }
    let recorded = StudyDir::open(&args.dir).map_err(Failure::flat)?;
    let mut execution = recorded.config().execution.clone();
    if let Some(d) = &args.data_dir {
        execution.data_dir = d.to_string_lossy().into_owned();
    }
    if let Some(t) = args.threads {
        execution.threads = t;
        execution.jobs = 1;
    }
    let study = recorded.with_execution(execution).map_err(Failure::flat)?;
    let config = study.config();
    let cells = plan::cells(config);
    let (records, _) = study.finished_and_todo(&cells);
    let finished: Vec<_> = cells
        .iter()
        .filter(|c| {
            records
                .iter()
                .any(|r| r.task == c.task && r.fold == c.fold && r.algorithm == c.algorithm)
        })
        .cloned()
        .collect();
    // A named cell whose file cannot be trusted (edited, torn) says why, not "not finished".
    for &i in args.cells.iter().flatten() {
        if let Some(cell) = cells.get(i) {
            study.finished(cell).map_err(Failure::flat)?;
        }
    }
    if args.cells.is_none() && finished.is_empty() {
        usage!("no finished cell to verify in {}", args.dir.display());
    }
    let chosen = verify::pick_cells(
        &finished,
        cells.len(),
        args.cells.as_deref(),
        args.sample,
        args.seed,
    )
    .map_err(Failure::flat)?;
    if let Some((task, why)) = nstudent_experiment::missing_data(study.study())
        .into_iter()
        .find(|(t, _)| chosen.iter().any(|c| &c.task == t))
    {
        usage!("task {task}: its data is missing ({why}); pass --data-dir");
    }
    let work = NestedCv::new(study.study()).map_err(Failure::flat)?;
    let mut unsealed = 0;
    let mut differing = 0;
    for cell in &chosen {
        let v = verify::verify_cell(&study, &work, cell).map_err(Failure::flat)?;
        let what = format!(
            "cell {} ({} fold {} {}, {} kernels)",
            cell.index, cell.task, cell.fold, cell.algorithm, v.stored.kernels
        );
        match &v.difference {
            None => out(&format!(
                "identical  {what}: accuracy {:.4}, {} training{}, recomputed in {:.1} s",
                v.again.outcome.metrics.accuracy,
                v.again.outcome.trainings,
                if v.again.outcome.trainings == 1 {
                    ""
                } else {
                    "s"
                },
                v.again.outcome.cell_seconds
            )),
            Some(diff) => {
                differing += 1;
                // A sealed cell was read only if its checksum matched: not edited.
                unsealed += usize::from(v.stored.checksum.is_none());
                out(&format!("DIFFERENT  {what}: {diff}"));
            }
        }
    }
    if differing > 0 {
        let cause = match unsealed {
            0 => "their files are as nstudent wrote them (checksums match), so another build \
                  or CPU family computed them"
                .to_string(),
            n => format!(
                "another build or CPU family computed them, or {n} of them were edited (cells \
                 written before checksums cannot tell)"
            ),
        };
        return Err(Failure::failed(format!(
            "{differing} of {} recomputed cells differ from {}: {cause} (see \
             docs/running-studies.md, Reproducibility)",
            chosen.len(),
            args.dir.display()
        )));
    }
    Ok(())
}
