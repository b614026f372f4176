//! Running the cells of a study: skip finished ones, take this shard's share, compute the rest
//! side by side, store each one atomically as soon as it is done, show progress, and merge when
//! the whole study (all shards) is finished.
//!
//! The runner does not know how a cell is computed: [`CellWork`] does. The study's real cell
//! (nested cross-validation with the algorithms) is [`crate::nested::NestedCv`]; tests use a
//! cheap deterministic function, so that resume, shards and merge are tested in milliseconds.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nstudent_engine::Threads;

use crate::cell::{Cell, CellOutcome, CellRecord};
use crate::checkpoint::{self, InnerStep, Owner};
use crate::claim::{Attempt, Claim, ClaimInfo};
use crate::shard::Shard;
use crate::store::StudyDir;
use crate::{seed, Error, Result};

/// Computes one cell.
pub trait CellWork: Sync {
    /// The result of `cell`; every random choice must derive from `seed` (the cell's own
    /// seed) or from the fold, never from which process, shard or attempt computes the cell.
    /// `ctx.threads` is a speed setting only: the result must not depend on it.
    fn compute(&self, cell: &Cell, seed: u64, ctx: &CellContext<'_>) -> Result<CellOutcome>;

    /// The relative cost of `cell` (any unit), so that the costliest cells start first and
    /// side-by-side runs end together. 0 (the default) keeps the study order.
    fn cost(&self, cell: &Cell) -> f64 {
        let _ = cell;
        0.0
    }

    /// The native kernels the cells' models run on, which each record names; `None` (the
    /// default) for work without kernel paths.
    fn kernel_path(&self) -> Option<nstudent_engine::KernelPath> {
        None
    }
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
    pub threads: Threads,
    observer: &'a dyn Observer,
    /// The job (0-based) computing this cell, for the observer.
    job: usize,
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
    /// The study this cell belongs to (its directory holds the per-fold cache of work that
    /// several cells of a fold share).
    pub(crate) fn study(&self) -> &StudyDir {
        self.study
    }

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
        self.observer.training(self.job, label, steps);
    }

    /// Appends one training's metric lines to the study's `metrics.jsonl`.
    pub fn record_metrics(&self, lines: &[String]) {
        self.study.append_metrics(lines);
    }

    /// Reports `done` steps of the training in progress.
    pub fn step(&self, done: u64) {
        self.observer.step(self.job, done);
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

/// What a run reports while it works. The runner never draws or prints: the CLI implements
/// this with progress bars and lines, and a library user may collect the events or ignore
/// them ([`Silent`]). Jobs are numbered from 0; calls come from the jobs' threads.
pub trait Observer: Send + Sync {
    /// The run starts `cells` cells (at most), `jobs` side by side.
    fn started(&self, _cells: usize, _jobs: usize) {}
    /// Job `job` starts the cell named `name` ("MNIST 0-4 fold 3 noisy-student").
    fn cell_started(&self, _job: usize, _name: &str) {}
    /// Job `job` starts a training of `steps` gradient steps, labelled `label`.
    fn training(&self, _job: usize, _label: &str, _steps: u64) {}
    /// Job `job`'s training in progress has done `done` steps.
    fn step(&self, _job: usize, _done: u64) {}
    /// Job `job` computed and stored a cell.
    fn cell_done(&self, _job: usize, _done: &CellDone<'_>) {}
    /// The run's jobs are over.
    fn finished(&self) {}
}

/// A cell computed and stored by this process.
#[derive(Debug)]
pub struct CellDone<'a> {
    pub cell: &'a Cell,
    /// The cell as progress lines name it.
    pub name: &'a str,
    pub record: &'a CellRecord,
    /// The line the study's log got: `done: NAME (cell I): accuracy A, N trainings, S s`.
    pub line: &'a str,
}

/// Hears nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// A shared [`Observer`] in [`RunOptions`].
#[derive(Clone)]
pub struct ObserverHandle(pub Arc<dyn Observer>);

impl Default for ObserverHandle {
    fn default() -> Self {
        Self(Arc::new(Silent))
    }
}

impl std::fmt::Debug for ObserverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObserverHandle(..)")
    }
}

/// How to run a study in this process.
#[derive(Debug, Clone)]
///
/// How many threads and cells side by side come from the study ([`crate::Study::budget`]).
pub struct RunOptions {
    pub shard: Shard,
    /// Who hears of the run's progress (the CLI draws it); [`Silent`] by default.
    pub observer: ObserverHandle,
    /// Stop after computing this many cells (to bound a session; `None` runs all).
    pub max_cells: Option<usize>,
    /// Tasks whose cells this run leaves out (their data is missing); a later run with the
    /// data computes them.
    pub skip_tasks: Vec<String>,
    /// Only these cells (by index), when set: to recompute chosen cells.
    pub only_cells: Option<Vec<usize>>,
    /// Keep going until every cell of this shard is finished: wait for the cells that other
    /// processes hold, and take over those whose holder stops. Without it, cells held
    /// elsewhere are left to their holders.
    pub worker: bool,
    /// A claim whose heartbeat is older than this is stale, and its cell is taken over.
    pub claim_timeout: Duration,
}

/// The default [`RunOptions::claim_timeout`]: heartbeats come every 30 s at most.
pub const CLAIM_TIMEOUT: Duration = Duration::from_secs(300);

impl Default for RunOptions {
    /// Every cell of every shard, reporting to nobody.
    fn default() -> Self {
        Self {
            shard: Shard::ALL,
            observer: ObserverHandle::default(),
            max_cells: None,
            skip_tasks: Vec::new(),
            only_cells: None,
            worker: false,
            claim_timeout: CLAIM_TIMEOUT,
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
    /// Cells of this shard left unfinished because other processes hold them (never with
    /// `worker`), with who holds them.
    pub held_elsewhere: Vec<(Cell, crate::claim::ClaimInfo)>,
    /// True when every cell of the study, across all shards, is finished.
    pub study_finished: bool,
}

/// The seed of a cell: a function of the study seed and the cell's identity only.
pub fn cell_seed(study_seed: u64, cell: &Cell) -> u64 {
    seed::derive(
        study_seed,
        &[&cell.task, &cell.fold.to_string(), cell.algorithm.name()],
    )
}

/// Runs this shard's unfinished cells of `study` with `work`.
pub fn run_study(
    study: &StudyDir,
    work: &dyn CellWork,
    options: &RunOptions,
) -> Result<RunSummary> {
    let cells = crate::plan::cells(study.config());
    let (todo, skipped) = cells_to_do(study, &cells, work, options)?;
    let limit = options.max_cells.unwrap_or(usize::MAX).min(todo.len());
    let budget = study.study().budget();
    let (jobs, threads_each) = budget.threads.share(budget.jobs.min(limit.max(1)));
    study.log(&format!(
        "start: shard {}, {} cells to do, {skipped} already finished, {jobs} side by side with {threads_each} threads each, config hash {}",
        options.shard,
        todo.len(),
        study.hash()
    ));
    let observer = options.observer.0.as_ref();
    observer.started(limit, jobs);
    let run = Run {
        study,
        work,
        options,
        names: task_names(study),
        limit,
        threads_each,
        observer,
        queue: Mutex::new(todo.iter().cloned().collect()),
        elsewhere: Mutex::new(Vec::new()),
        holding: Mutex::new(Vec::new()),
        started_cells: AtomicUsize::new(0),
        computed: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        first_error: Mutex::new(None),
    };
    let done = AtomicBool::new(false);
    let beat =
        (options.claim_timeout / 4).clamp(Duration::from_millis(200), Duration::from_secs(30));
    std::thread::scope(|scope| {
        let (holding, done) = (&run.holding, &done);
        scope.spawn(move || heartbeats(study, holding, done, beat));
        let handles: Vec<_> = (0..jobs)
            .map(|job| {
                let run = &run;
                scope.spawn(move || run.job(job))
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
        done.store(true, Ordering::Relaxed);
    });
    observer.finished();
    if let Some(e) = run
        .first_error
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(e);
    }
    let elsewhere = run
        .elsewhere
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    summarize(
        study,
        options,
        &cells,
        &todo,
        skipped,
        run.computed.into_inner(),
        elsewhere,
    )
}

/// This shard's unfinished cells of `cells` that `options` selects, costliest first, and the
/// number of selected cells found finished.
fn cells_to_do(
    study: &StudyDir,
    cells: &[Cell],
    work: &dyn CellWork,
    options: &RunOptions,
) -> Result<(Vec<Cell>, usize)> {
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
    // Longest first, so that the cells side by side (and the processes sharing the
    // directory) end together; ties keep the study order.
    let costs: HashMap<usize, f64> = todo.iter().map(|c| (c.index, work.cost(c))).collect();
    todo.sort_by(|a, b| costs[&b.index].total_cmp(&costs[&a.index]));
    Ok((todo, skipped))
}

/// The names progress and log lines give the study's tasks, as the table does (`digits 0-4`,
/// not its full path).
fn task_names(study: &StudyDir) -> HashMap<&str, String> {
    study
        .config()
        .tasks
        .iter()
        .map(String::as_str)
        .zip(crate::names::display_names(&study.config().tasks))
        .collect()
}

/// Renews, every `beat`, the claims this process holds, until `done`.
fn heartbeats(
    study: &StudyDir,
    holding: &Mutex<Vec<Arc<Claim>>>,
    done: &AtomicBool,
    beat: Duration,
) {
    let mut last = Instant::now();
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if last.elapsed() >= beat {
            last = Instant::now();
            let held: Vec<Arc<Claim>> = lock(holding).clone();
            for c in held {
                if !c.heartbeat() {
                    study.log(&format!(
                        "claim: {} was taken over by another process; the first to finish stores the cell",
                        c.path().display()
                    ));
                }
            }
        }
    }
}

/// What the jobs of one run share.
struct Run<'a> {
    study: &'a StudyDir,
    work: &'a dyn CellWork,
    options: &'a RunOptions,
    names: HashMap<&'a str, String>,
    /// Cells this run may start at most.
    limit: usize,
    threads_each: Threads,
    observer: &'a dyn Observer,
    queue: Mutex<VecDeque<Cell>>,
    /// Cells other processes hold, with who holds them.
    elsewhere: Mutex<Vec<(Cell, ClaimInfo)>>,
    /// The claims this process holds, renewed by the heartbeat thread.
    holding: Mutex<Vec<Arc<Claim>>>,
    /// Cells taken from the queue to compute here (at most `limit`).
    started_cells: AtomicUsize,
    computed: AtomicUsize,
    stop: AtomicBool,
    first_error: Mutex<Option<Error>>,
}

impl Run<'_> {
    /// A cell as progress and log lines name it.
    fn name_of(&self, cell: &Cell) -> String {
        let task = self.names.get(cell.task.as_str()).unwrap_or(&cell.task);
        format!("{task} fold {} {}", cell.fold, cell.algorithm)
    }

    /// One job: claims and computes cells until none is left, the limit is reached or a cell
    /// fails.
    fn job(&self, job: usize) {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            // `next_cell` counts the cell as started; a cell not computed here gives its
            // place back.
            let Some(cell) = self.next_cell() else {
                break;
            };
            let claim =
                match crate::claim::try_claim(&self.study.dir, &cell, self.options.claim_timeout) {
                    Ok(Attempt::Claimed(c)) => Arc::new(c),
                    Ok(Attempt::Busy { by, .. }) => {
                        self.started_cells.fetch_sub(1, Ordering::SeqCst);
                        lock(&self.elsewhere).push((cell, by));
                        continue;
                    }
                    Err(e) => {
                        self.fail(&cell, &self.name_of(&cell), e);
                        break;
                    }
                };
            // Another process may have finished it between the listing and the claim.
            if matches!(self.study.finished(&cell), Ok(Some(_))) {
                self.started_cells.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            if !self.compute_claimed(&cell, claim, job) {
                break;
            }
        }
    }

    /// The next cell to claim, counted as started; `None` when there is none, when the run has
    /// started its limit of cells, or when it is stopping. Once the
    /// queue is empty, a plain run leaves the cells held elsewhere to their holders; a worker
    /// waits, then retries them (a stale claim is taken over).
    fn next_cell(&self) -> Option<Cell> {
        loop {
            // Taken from the queue and counted as started under one lock: with a limit, the
            // cells started are the first ones of the queue, whatever the jobs' timing.
            let next = {
                let mut queue = lock(&self.queue);
                if self.started_cells.load(Ordering::SeqCst) >= self.limit {
                    return None;
                }
                let next = queue.pop_front();
                if next.is_some() {
                    self.started_cells.fetch_add(1, Ordering::SeqCst);
                }
                next
            };
            if next.is_some() {
                return next;
            }
            if !self.options.worker {
                return None;
            }
            let waiting: Vec<Cell> = lock(&self.elsewhere)
                .drain(..)
                .map(|(c, _)| c)
                .filter(|c| !matches!(self.study.finished(c), Ok(Some(_))))
                .collect();
            if waiting.is_empty() {
                return None;
            }
            std::thread::sleep(poll_interval(self.options.claim_timeout));
            lock(&self.queue).extend(waiting);
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
        }
    }

    /// Computes and stores `cell`, whose `claim` this process holds, and reports it; false
    /// when it failed (the run stops).
    fn compute_claimed(&self, cell: &Cell, claim: Arc<Claim>, job: usize) -> bool {
        lock(&self.holding).push(Arc::clone(&claim));
        let name = self.name_of(cell);
        self.observer.cell_started(job, &name);
        let result = compute_cell(
            self.study,
            self.work,
            cell,
            &name,
            (self.observer, job),
            &self.stop,
            self.threads_each,
        );
        lock(&self.holding).retain(|c| !Arc::ptr_eq(c, &claim));
        drop(claim);
        match result {
            Ok(Some(record)) => {
                self.computed.fetch_add(1, Ordering::SeqCst);
                let line = format!(
                    "done: {name} (cell {}): accuracy {:.4}, {} trainings, {:.1} s",
                    cell.index,
                    record.outcome.metrics.accuracy,
                    record.outcome.trainings,
                    record.outcome.cell_seconds
                );
                self.study.log(&line);
                self.observer.cell_done(
                    job,
                    &CellDone {
                        cell,
                        name: &name,
                        record: &record,
                        line: &line,
                    },
                );
                true
            }
            Ok(None) => {
                self.study.log(&format!(
                    "done: {name} (cell {}) elsewhere first; this process's result is discarded",
                    cell.index
                ));
                true
            }
            Err(e) => {
                self.fail(cell, &name, e);
                false
            }
        }
    }

    fn fail(&self, cell: &Cell, name: &str, e: Error) {
        fail(self.study, &self.stop, &self.first_error, cell, name, e);
    }
}

/// What the run did, once its jobs are over: logs the end and tells whether the whole study
/// is finished.
fn summarize(
    study: &StudyDir,
    options: &RunOptions,
    cells: &[Cell],
    todo: &[Cell],
    skipped: usize,
    computed: usize,
    elsewhere: Vec<(Cell, ClaimInfo)>,
) -> Result<RunSummary> {
    let mut study_finished = true;
    for cell in cells {
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
    let held_elsewhere: Vec<(Cell, ClaimInfo)> = elsewhere
        .into_iter()
        .filter(|(c, _)| !matches!(study.finished(c), Ok(Some(_))))
        .collect();
    let unfinished = todo
        .iter()
        .filter(|c| !matches!(study.finished(c), Ok(Some(_))))
        .count();
    Ok(RunSummary {
        computed,
        skipped,
        remaining: unfinished - held_elsewhere.len().min(unfinished),
        held_elsewhere,
        study_finished,
    })
}

/// Locks a mutex, whatever a panicked holder left.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How long a worker waits before looking again at the cells other processes hold.
fn poll_interval(claim_timeout: Duration) -> Duration {
    (claim_timeout / 10).clamp(Duration::from_millis(100), Duration::from_secs(10))
}

/// Records the first failure and stops the other cells of this process.
fn fail(
    study: &StudyDir,
    stop: &AtomicBool,
    first_error: &Mutex<Option<Error>>,
    cell: &Cell,
    name: &str,
    e: Error,
) {
    study.log(&format!("failed: {name}: {e}"));
    stop.store(true, Ordering::Relaxed);
    let mut slot = lock(first_error);
    if slot.is_none() {
        *slot = Some(match e {
            Error::Cell { .. } | Error::Config(_) | Error::Io { .. } => e,
            other => Error::Cell {
                cell: cell.to_string(),
                kind: other.kind(),
                message: other.to_string(),
            },
        });
    }
}

/// Computes `cell` (this process holds its claim) and stores it; `None` when another process
/// stored it first (a finished cell is never overwritten).
fn compute_cell(
    study: &StudyDir,
    work: &dyn CellWork,
    cell: &Cell,
    name: &str,
    (observer, job): (&dyn Observer, usize),
    stop: &AtomicBool,
    threads_each: Threads,
) -> Result<Option<CellRecord>> {
    let seed = cell_seed(study.config().seed, cell);
    let started = Instant::now();
    let ctx = CellContext {
        threads: threads_each,
        observer,
        job,
        stop,
        study,
        cell: name.to_string(),
        identity: cell,
        owner: Owner {
            config_hash: study.hash().to_string(),
            seed,
        },
        started,
        trainings: AtomicUsize::new(0),
    };
    let mut outcome = work.compute(cell, seed, &ctx)?;
    // The kernels the cell's models ran on (an engine without kernel paths counts as
    // portable, as records written before they existed do).
    let kernels = work
        .kernel_path()
        .unwrap_or(nstudent_engine::KernelPath::Portable);
    if outcome.cell_seconds == 0.0 {
        outcome.cell_seconds = started.elapsed().as_secs_f64();
    }
    let record = CellRecord {
        task: cell.task.clone(),
        fold: cell.fold,
        algorithm: cell.algorithm,
        config_hash: study.hash().to_string(),
        seed,
        threads: threads_each.get(),
        kernels,
        kernel_revision: kernels.revision(),
        outcome,
        checksum: None,
    };
    let stored = study.store_new(cell, &record)?;
    if let Err(e) = checkpoint::remove(&study.dir, cell) {
        study.log(&format!("checkpoint: {name}: not removed: {e}"));
    }
    Ok(stored.then_some(record))
}

#[cfg(test)]
pub(crate) mod tests;
