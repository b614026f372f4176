//! Running the cells of a study: skip finished ones, take this shard's share, compute the rest
//! side by side, store each one atomically as soon as it is done, show progress, and merge when
//! the whole study (all shards) is finished.
//!
//! The runner does not know how a cell is computed: [`CellWork`] does. The study's real cell
//! (nested cross-validation with the algorithms) is [`crate::nested::NestedCv`]; tests use a
//! cheap deterministic function, so that resume, shards and merge are tested in milliseconds.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cell::{Cell, CellOutcome, CellRecord};
use crate::checkpoint::{self, InnerStep, Owner};
use crate::shard::Shard;
use crate::store::StudyDir;
use crate::{seed, Error, Result};

/// Computes one cell.
pub trait CellWork: Sync {
    /// The result of `cell`; every random choice must derive from `seed` (the cell's own
    /// seed) or from the fold, never from which process, shard or attempt computes the cell.
    /// `ctx.threads` is a speed setting only: the result must not depend on it.
    fn compute(&self, cell: &Cell, seed: u64, ctx: &CellContext<'_>) -> Result<CellOutcome>;
}

impl<F> CellWork for F
where
    F: Fn(&Cell, u64, &CellContext<'_>) -> Result<CellOutcome> + Sync,
{
    fn compute(&self, cell: &Cell, seed: u64, ctx: &CellContext<'_>) -> Result<CellOutcome> {
        self(cell, seed, ctx)
    }
}

/// What a cell computation may use from the runner: its thread budget, a progress bar for
/// the training in progress, and the study log.
pub struct CellContext<'a> {
    /// Threads for each training of the cell.
    pub threads: usize,
    bar: &'a ProgressBar,
    stop: &'a AtomicBool,
    /// The study directory whose log records every training started, so that a long cell
    /// shows its progress in the log file.
    study: &'a StudyDir,
    cell: String,
    /// The cell computed, and who may resume its checkpoint.
    identity: &'a Cell,
    owner: Owner,
    started: Instant,
    trainings: AtomicUsize,
}

impl CellContext<'_> {
    /// Announces a training of `steps` gradient steps (e.g. "fold 2 inner 1 student 3").
    ///
    /// Also appends a line to the study log with the count of trainings started in this cell
    /// and the seconds since the cell started.
    pub fn start_training(&self, label: &str, steps: u64) {
        let n = self.trainings.fetch_add(1, Ordering::Relaxed) + 1;
        self.study.log(&format!(
            "progress: {}: training {n} ({label}, {steps} steps) at {:.1} s",
            self.cell,
            self.started.elapsed().as_secs_f64()
        ));
        self.bar.set_message(label.to_string());
        self.bar.set_length(steps.max(1));
        self.bar.set_position(0);
    }

    /// Reports `done` steps of the training in progress.
    pub fn step(&self, done: u64) {
        self.bar.set_position(done);
    }

    /// The inner-search steps a killed earlier attempt at this cell finished (see
    /// [`crate::checkpoint`]); empty when there are none this attempt may use.
    pub fn resumed_steps(&self) -> Vec<InnerStep> {
        let steps = checkpoint::read(&self.study.dir, self.identity, &self.owner);
        if !steps.is_empty() {
            self.study.log(&format!(
                "resume: {}: {} inner-search steps from the checkpoint of an earlier attempt",
                self.cell,
                steps.len()
            ));
        }
        steps
    }

    /// Records every inner-search step finished so far, so that a kill from now on loses only
    /// the step in progress. A failed write is logged, not fatal: a checkpoint only saves time.
    pub fn save_steps(&self, steps: &[InnerStep]) {
        if let Err(e) = checkpoint::write(&self.study.dir, self.identity, &self.owner, steps) {
            self.study
                .log(&format!("checkpoint: {}: not written: {e}", self.cell));
        }
    }

    /// True when the study is stopping (another cell failed); long cells may give up early.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// How to run a study in this process.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub shard: Shard,
    /// Threads in total.
    pub threads: usize,
    /// Cells computed side by side; each training gets `threads / jobs` threads.
    pub jobs: usize,
    /// No progress bars and no per-cell lines.
    pub quiet: bool,
    /// Stop after computing this many cells (to bound a session; `None` runs all).
    pub max_cells: Option<usize>,
    /// Tasks whose cells this run leaves out (their data is missing); a later run with the
    /// data computes them.
    pub skip_tasks: Vec<String>,
    /// Only these cells (by index), when set: to recompute chosen cells.
    pub only_cells: Option<Vec<usize>>,
}

impl Default for RunOptions {
    /// Every cell, one at a time on one thread, with progress.
    fn default() -> Self {
        Self {
            shard: Shard::ALL,
            threads: 1,
            jobs: 1,
            quiet: false,
            max_cells: None,
            skip_tasks: Vec::new(),
            only_cells: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Cells of this shard computed now.
    pub computed: usize,
    /// Cells of this shard found finished and skipped.
    pub skipped: usize,
    /// Cells of this shard still missing (only with `max_cells`).
    pub remaining: usize,
    /// True when every cell of the study, across all shards, is finished.
    pub study_finished: bool,
}

/// The seed of a cell: a function of the study seed and the cell's identity only.
pub fn cell_seed(study_seed: u64, cell: &Cell) -> u64 {
    seed::derive(
        study_seed,
        &[&cell.task, &cell.fold.to_string(), cell.algorithm.key()],
    )
}

/// Runs this shard's unfinished cells of `study` with `work`.
pub fn run_study(
    study: &StudyDir,
    work: &dyn CellWork,
    options: &RunOptions,
) -> Result<RunSummary> {
    let cells = crate::plan::cells(&study.config);
    let mut todo = Vec::new();
    let mut skipped = 0;
    for cell in cells.iter().filter(|c| {
        options.shard.owns(c.index)
            && !options.skip_tasks.contains(&c.task)
            && options
                .only_cells
                .as_ref()
                .is_none_or(|o| o.contains(&c.index))
    }) {
        if study.finished(cell)?.is_some() {
            skipped += 1;
        } else {
            todo.push(cell.clone());
        }
    }
    let limit = options.max_cells.unwrap_or(usize::MAX).min(todo.len());
    let jobs = options
        .jobs
        .clamp(1, options.threads.max(1))
        .min(limit.max(1));
    let threads_each = (options.threads / jobs).max(1);
    // Progress and log lines name a task as the table does (`digits 0-4`, not its full path).
    let names: HashMap<&str, String> = study
        .config
        .tasks
        .iter()
        .map(String::as_str)
        .zip(crate::merge::display_names(&study.config.tasks))
        .collect();
    let name_of = |cell: &Cell| {
        let task = names.get(cell.task.as_str()).unwrap_or(&cell.task);
        format!("{task} fold {} {}", cell.fold, cell.algorithm)
    };
    study.log(&format!(
        "start: shard {}, {} cells to do, {skipped} already finished, {jobs} side by side with {threads_each} threads each, config hash {}",
        options.shard,
        todo.len(),
        study.hash
    ));

    let multi = MultiProgress::with_draw_target(if options.quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let lines = !options.quiet && !std::io::stderr().is_terminal();
    let overall = multi.add(ProgressBar::new(limit as u64));
    overall.set_style(
        ProgressStyle::with_template(
            "{prefix:>8} [{elapsed_precise}] {wide_bar} {pos}/{len} cells  ETA {eta_precise}  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    overall.set_prefix("study");
    let bars: Vec<ProgressBar> = (0..jobs)
        .map(|j| {
            let b = multi.add(ProgressBar::new(1));
            b.set_style(
                ProgressStyle::with_template("{prefix:>8} {msg:<48} {bar:30} {pos}/{len} steps")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.set_prefix(format!("job {}", j + 1));
            b
        })
        .collect();
    if !options.quiet {
        overall.enable_steady_tick(Duration::from_millis(500));
    }

    let next = AtomicUsize::new(0);
    let computed = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for bar in &bars {
            let (todo, next, computed, stop, first_error, overall) =
                (&todo, &next, &computed, &stop, &first_error, &overall);
            let name_of = &name_of;
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= limit {
                    break;
                }
                let cell = &todo[i];
                let name = name_of(cell);
                bar.set_message(name.clone());
                let seed = cell_seed(study.config.seed, cell);
                let started = Instant::now();
                let ctx = CellContext {
                    threads: threads_each,
                    bar,
                    stop,
                    study,
                    cell: name.clone(),
                    identity: cell,
                    owner: Owner {
                        config_hash: study.hash.clone(),
                        seed,
                    },
                    started,
                    trainings: AtomicUsize::new(0),
                };
                let result = work.compute(cell, seed, &ctx).and_then(|mut outcome| {
                    if outcome.cell_seconds == 0.0 {
                        outcome.cell_seconds = started.elapsed().as_secs_f64();
                    }
                    let record = CellRecord {
                        task: cell.task.clone(),
                        fold: cell.fold,
                        algorithm: cell.algorithm,
                        config_hash: study.hash.clone(),
                        seed,
                        threads: threads_each,
                        outcome,
                    };
                    study.store(cell, &record)?;
                    if let Err(e) = checkpoint::remove(&study.dir, cell) {
                        study.log(&format!("checkpoint: {name}: not removed: {e}"));
                    }
                    Ok(record)
                });
                match result {
                    Ok(record) => {
                        computed.fetch_add(1, Ordering::SeqCst);
                        let line = format!(
                            "done: {name} (cell {}): accuracy {:.4}, {} trainings, {:.1} s",
                            cell.index,
                            record.outcome.metrics.accuracy,
                            record.outcome.trainings,
                            record.outcome.cell_seconds
                        );
                        study.log(&line);
                        if lines {
                            overall.suspend(|| eprintln!("{line}"));
                        }
                        overall.set_message(format!("last: {name}"));
                        overall.inc(1);
                    }
                    Err(e) => {
                        study.log(&format!("failed: {name}: {e}"));
                        stop.store(true, Ordering::Relaxed);
                        let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                        if slot.is_none() {
                            *slot = Some(match e {
                                Error::Cell { .. } | Error::Config(_) | Error::Io { .. } => e,
                                other => Error::Cell {
                                    cell: cell.to_string(),
                                    user: other.is_user_error(),
                                    message: other.to_string(),
                                },
                            });
                        }
                        break;
                    }
                }
            });
        }
    });
    for b in &bars {
        b.finish_and_clear();
    }
    overall.finish_and_clear();
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let computed = computed.into_inner();
    let mut study_finished = true;
    for cell in &cells {
        if study.finished(cell)?.is_none() {
            study_finished = false;
            break;
        }
    }
    study.log(&format!(
        "stop: shard {}, {computed} cells computed, study {}",
        options.shard,
        if study_finished {
            "finished"
        } else {
            "not finished"
        }
    ));
    Ok(RunSummary {
        computed,
        skipped,
        remaining: todo.len() - computed,
        study_finished,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cell::{CellMetrics, Hyperparameters};
    use crate::config::{Algorithm, StudyConfig};
    use crate::merge::{merge, MergeOptions};

    /// A cheap deterministic cell: metrics are a function of the seed.
    pub(crate) fn fake(cell: &Cell, seed: u64, ctx: &CellContext<'_>) -> Result<CellOutcome> {
        ctx.start_training("fake", 10);
        ctx.step(10);
        let u = (seed % 10_000) as f64 / 10_000.0;
        Ok(CellOutcome {
            hyperparameters: (cell.algorithm != Algorithm::Baseline).then_some(Hyperparameters {
                unl_factor: Some(0.1),
                threshold: 0.5 + (seed % 4) as f64 / 10.0,
                num_students: 1 + (seed % 3) as usize,
                ensemble_size: if cell.algorithm == Algorithm::Ensemble {
                    2
                } else {
                    1
                },
            }),
            metrics: CellMetrics {
                accuracy: 0.5 + u / 2.0 + 0.01 * cell.algorithm as usize as f64,
                tpr: u,
                fpr: 1.0 - u,
                precision: u / 2.0,
                auc: 0.9,
                pr_curve: 0.8,
            },
            teacher: None,
            training_seconds: 1.0,
            inference_seconds: 0.5,
            search: vec![],
            trainings: 1,
            cell_seconds: 0.01,
            train_size: 100,
            test_size: 10,
            notes: vec![],
        })
    }

    pub(crate) fn config() -> StudyConfig {
        let mut c = StudyConfig::preset("quick").unwrap();
        c.tasks = vec!["t:0-4".into(), "t:5-9".into(), "u".into()];
        c.outer_folds = 3;
        c
    }

    fn options(shard: Shard, max_cells: Option<usize>) -> RunOptions {
        RunOptions {
            shard,
            threads: 2,
            jobs: 2,
            quiet: true,
            max_cells,
            skip_tasks: Vec::new(),
            only_cells: None,
        }
    }

    fn table_of(dir: &std::path::Path) -> String {
        std::fs::read_to_string(dir.join("metrics_table.csv")).unwrap()
    }

    const NO_REPORT: MergeOptions = MergeOptions { report: false };

    #[test]
    fn interrupted_and_resumed_equals_uninterrupted() {
        let c = config();
        let whole = tempfile::tempdir().unwrap();
        let s = StudyDir::create(whole.path(), &c, false).unwrap();
        let sum = run_study(&s, &fake, &options(Shard::ALL, None)).unwrap();
        assert_eq!(
            (sum.computed, sum.skipped, sum.study_finished),
            (27, 0, true)
        );
        merge(&s, &NO_REPORT).unwrap();

        let parts = tempfile::tempdir().unwrap();
        let s2 = StudyDir::create(parts.path(), &c, false).unwrap();
        let first = run_study(&s2, &fake, &options(Shard::ALL, Some(10))).unwrap();
        assert_eq!(
            (first.computed, first.remaining, first.study_finished),
            (10, 17, false)
        );
        // A cell that fails is not stored, and the rest still run on the next attempt.
        let counter = AtomicUsize::new(0);
        let count = |cell: &Cell, seed: u64, ctx: &CellContext<'_>| {
            counter.fetch_add(1, Ordering::SeqCst);
            fake(cell, seed, ctx)
        };
        let second = run_study(&s2, &count, &options(Shard::ALL, None)).unwrap();
        assert_eq!((second.computed, second.skipped), (17, 10));
        assert_eq!(
            counter.load(Ordering::SeqCst),
            17,
            "finished cells must be skipped"
        );
        merge(&s2, &NO_REPORT).unwrap();
        assert_eq!(table_of(whole.path()), table_of(parts.path()));
        // A third run has nothing to do.
        let third = run_study(&s2, &count, &options(Shard::ALL, None)).unwrap();
        assert_eq!((third.computed, third.skipped), (0, 27));
    }

    #[test]
    fn shards_partition_the_cells_and_merge_to_the_single_process_table() {
        let c = config();
        let whole = tempfile::tempdir().unwrap();
        let s = StudyDir::create(whole.path(), &c, false).unwrap();
        run_study(&s, &fake, &options(Shard::ALL, None)).unwrap();
        merge(&s, &NO_REPORT).unwrap();

        let sharded = tempfile::tempdir().unwrap();
        let mut seen = 0;
        for i in 0..3 {
            let s = StudyDir::create(sharded.path(), &c, false).unwrap();
            let r = run_study(&s, &fake, &options(Shard::new(i, 3).unwrap(), None)).unwrap();
            seen += r.computed;
            // Only the last shard sees the whole study finished.
            assert_eq!(r.study_finished, i == 2);
        }
        assert_eq!(seen, 27);
        merge(&StudyDir::open(sharded.path()).unwrap(), &NO_REPORT).unwrap();
        assert_eq!(table_of(whole.path()), table_of(sharded.path()));
    }

    #[test]
    fn a_failing_cell_stops_the_run_names_the_cell_and_keeps_finished_ones() {
        let c = config();
        let dir = tempfile::tempdir().unwrap();
        let s = StudyDir::create(dir.path(), &c, false).unwrap();
        let failing = |cell: &Cell, seed: u64, ctx: &CellContext<'_>| {
            if cell.index == 4 {
                Err(Error::Config("no such task".into()))
            } else {
                fake(cell, seed, ctx)
            }
        };
        let mut o = options(Shard::ALL, None);
        o.jobs = 1;
        let e = run_study(&s, &failing, &o).unwrap_err();
        assert!(e.to_string().contains("no such task"), "{e}");
        assert!(e.is_user_error());
        let cells = crate::plan::cells(&c);
        assert!(s.finished(&cells[3]).unwrap().is_some());
        assert!(s.finished(&cells[4]).unwrap().is_none());
        let log = std::fs::read_to_string(dir.path().join(crate::store::LOG_FILE)).unwrap();
        assert!(log.contains("failed: t 0-4 fold 2 noisy-student"), "{log}");
        // Every training started inside a cell is logged with its label and step count.
        assert!(
            log.contains("progress: t 0-4 fold 1 baseline: training 1 (fake, 10 steps) at "),
            "{log}"
        );
        assert!(
            !log.contains("progress: t 0-4 fold 2 noisy-student"),
            "{log}"
        );
    }

    #[test]
    fn log_lines_name_a_path_task_as_the_table_does() {
        let mut c = config();
        c.tasks = vec!["/data/sets/digits.csv:0-4".into()];
        let dir = tempfile::tempdir().unwrap();
        let s = StudyDir::create(dir.path(), &c, false).unwrap();
        run_study(&s, &fake, &options(Shard::ALL, Some(1))).unwrap();
        let log = std::fs::read_to_string(dir.path().join(crate::store::LOG_FILE)).unwrap();
        assert!(
            log.contains("progress: digits 0-4 fold 1 baseline: training 1 (fake, 10 steps)"),
            "{log}"
        );
        assert!(
            log.contains("done: digits 0-4 fold 1 baseline (cell 0)"),
            "{log}"
        );
        assert!(!log.contains("/data/sets"), "{log}");
    }

    #[test]
    fn cell_seeds_depend_on_identity_only() {
        let cells = crate::plan::cells(&config());
        let mut other = cells[5].clone();
        other.index = 99;
        assert_eq!(cell_seed(1, &cells[5]), cell_seed(1, &other));
        assert_ne!(cell_seed(1, &cells[5]), cell_seed(1, &cells[6]));
        assert_ne!(cell_seed(1, &cells[5]), cell_seed(2, &cells[5]));
    }
}
