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
        unlabeled_size: None,
        pseudo_labels: Vec::new(),
        reused_trainings: 0,
        notes: vec![],
    })
}

pub(crate) fn config() -> StudyConfig {
    let mut c = StudyConfig::preset("quick").unwrap();
    c.tasks = vec!["t:0-4".into(), "t:5-9".into(), "u".into()];
    c.outer_folds = 3;
    // The runner's mechanics, on the original study's three algorithms.
    c.algorithms = Algorithm::ORIGINAL.to_vec();
    c
}

fn options(shard: Shard, max_cells: Option<usize>) -> RunOptions {
    RunOptions {
        shard,
        observer: Default::default(),
        max_cells,
        skip_tasks: Vec::new(),
        only_cells: None,
        worker: false,
        claim_timeout: CLAIM_TIMEOUT,
    }
}

fn table_of(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("metrics_table.csv")).unwrap()
}

const NO_REPORT: MergeOptions = MergeOptions { report: false };

/// Every event, in order, as one line each.
#[derive(Default)]
struct Collect(Mutex<Vec<String>>);

impl Observer for Collect {
    fn started(&self, cells: usize, jobs: usize) {
        lock(&self.0).push(format!("started {cells} {jobs}"));
    }
    fn cell_started(&self, job: usize, name: &str) {
        lock(&self.0).push(format!("cell {job} {name}"));
    }
    fn training(&self, job: usize, label: &str, steps: u64) {
        lock(&self.0).push(format!("training {job} {label} {steps}"));
    }
    fn cell_done(&self, job: usize, done: &CellDone<'_>) {
        lock(&self.0).push(format!("done {job} {}", done.name));
        assert!(done
            .line
            .starts_with(&format!("done: {} (cell {})", done.name, done.cell.index)));
    }
    fn finished(&self) {
        lock(&self.0).push("finished".into());
    }
}

#[test]
fn the_runner_reports_every_cell_to_its_observer() {
    let c = config();
    let dir = tempfile::tempdir().unwrap();
    let s = StudyDir::create(
        dir.path(),
        &crate::study::tests_support::study(&c, 2, 2),
        false,
    )
    .unwrap();
    let events = Arc::new(Collect::default());
    let work = |cell: &Cell, seed: u64, ctx: &CellContext<'_>| {
        ctx.start_training("only", 7);
        ctx.step(7);
        fake(cell, seed, ctx)
    };
    let mut o = options(Shard::ALL, Some(5));
    o.observer = ObserverHandle(events.clone());
    let sum = run_study(&s, &work, &o).unwrap();
    let events = lock(&events.0).clone();
    assert_eq!(events.first().map(String::as_str), Some("started 5 2"));
    assert_eq!(events.last().map(String::as_str), Some("finished"));
    let done: Vec<&String> = events.iter().filter(|e| e.starts_with("done ")).collect();
    assert_eq!(done.len(), sum.computed);
    assert_eq!(sum.computed, 5);
    // Each cell's start, then its training, then its end, on the job that computed it.
    for d in done {
        let (job, name) = d["done ".len()..].split_once(' ').unwrap();
        let start = events
            .iter()
            .position(|e| *e == format!("cell {job} {name}"))
            .unwrap();
        let end = events.iter().position(|e| e == d).unwrap();
        assert!(start < end);
        assert!(events[start..end].contains(&format!("training {job} only 7")));
    }
}

#[test]
fn interrupted_and_resumed_equals_uninterrupted() {
    let c = config();
    let whole = tempfile::tempdir().unwrap();
    let s = StudyDir::create(
        whole.path(),
        &crate::study::tests_support::study(&c, 2, 2),
        false,
    )
    .unwrap();
    let sum = run_study(&s, &fake, &options(Shard::ALL, None)).unwrap();
    assert_eq!(
        (sum.computed, sum.skipped, sum.study_finished),
        (27, 0, true)
    );
    merge(&s, &NO_REPORT).unwrap();

    let parts = tempfile::tempdir().unwrap();
    let s2 = StudyDir::create(
        parts.path(),
        &crate::study::tests_support::study(&c, 2, 2),
        false,
    )
    .unwrap();
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

/// The fake cell, slowed a little so that workers interleave, counting computations.
fn counted<'a>(
    counts: &'a Mutex<HashMap<usize, usize>>,
) -> impl Fn(&Cell, u64, &CellContext<'_>) -> Result<CellOutcome> + Sync + 'a {
    move |cell: &Cell, seed: u64, ctx: &CellContext<'_>| {
        *lock(counts).entry(cell.index).or_default() += 1;
        std::thread::sleep(Duration::from_millis(5));
        fake(cell, seed, ctx)
    }
}

#[test]
fn three_workers_on_one_directory_compute_each_cell_once() {
    let c = config();
    let whole = tempfile::tempdir().unwrap();
    let s = StudyDir::create(
        whole.path(),
        &crate::study::tests_support::study(&c, 2, 2),
        false,
    )
    .unwrap();
    run_study(&s, &fake, &options(Shard::ALL, None)).unwrap();
    merge(&s, &NO_REPORT).unwrap();

    let shared = tempfile::tempdir().unwrap();
    let counts = Mutex::new(HashMap::new());
    let work = counted(&counts);
    let summaries: Vec<RunSummary> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let s = StudyDir::create(
                        shared.path(),
                        &crate::study::tests_support::study(&c, 2, 2),
                        false,
                    )
                    .unwrap();
                    let o = RunOptions {
                        worker: true,
                        claim_timeout: Duration::from_secs(2),
                        ..options(Shard::ALL, None)
                    };
                    run_study(&s, &work, &o).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    drop(work);
    let counts = counts.into_inner().unwrap();
    assert_eq!(counts.len(), 27);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert_eq!(summaries.iter().map(|s| s.computed).sum::<usize>(), 27);
    assert!(summaries
        .iter()
        .all(|s| s.study_finished && s.held_elsewhere.is_empty()));
    let s = StudyDir::open(shared.path()).unwrap();
    merge(&s, &NO_REPORT).unwrap();
    assert_eq!(table_of(whole.path()), table_of(shared.path()));
    // No claim is left behind.
    let claims = crate::plan::cells(&c)
        .iter()
        .filter(|cell| crate::claim::path(shared.path(), cell).exists())
        .count();
    assert_eq!(claims, 0);
}

#[test]
fn a_cell_held_elsewhere_is_left_by_a_run_and_taken_over_by_a_worker_once_stale() {
    let c = config();
    let dir = tempfile::tempdir().unwrap();
    let s = StudyDir::create(
        dir.path(),
        &crate::study::tests_support::study(&c, 2, 2),
        false,
    )
    .unwrap();
    let cells = crate::plan::cells(&c);
    // Cell 5 is held by a process on another machine, alive for now.
    let held = &cells[5];
    let claim = crate::claim::path(dir.path(), held);
    std::fs::create_dir_all(claim.parent().unwrap()).unwrap();
    let other = crate::claim::ClaimInfo {
        host: "node-9".into(),
        pid: 4242,
        started: 0,
        token: 99,
    };
    std::fs::write(&claim, serde_json::to_vec(&other).unwrap()).unwrap();
    let counts = Mutex::new(HashMap::new());
    let work = counted(&counts);
    let plain = run_study(&s, &work, &options(Shard::ALL, None)).unwrap();
    assert_eq!(plain.computed, 26);
    assert!(!plain.study_finished);
    assert_eq!(plain.held_elsewhere.len(), 1);
    assert_eq!(plain.held_elsewhere[0].0.index, 5);
    assert_eq!(plain.held_elsewhere[0].1, other);
    assert!(s.finished(held).unwrap().is_none());
    // A worker waits; once the holder's heartbeat is older than the timeout, it takes the
    // cell over and finishes the study.
    let worker = RunOptions {
        worker: true,
        claim_timeout: Duration::from_millis(300),
        ..options(Shard::ALL, None)
    };
    // Its last heartbeat: now.
    std::fs::File::options()
        .append(true)
        .open(&claim)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    let started = Instant::now();
    let w = run_study(&s, &work, &worker).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!((w.computed, w.study_finished), (1, true));
    assert!(!claim.exists());
    assert!(lock(&counts).values().all(|&n| n == 1));
}

#[test]
fn shards_partition_the_cells_and_merge_to_the_single_process_table() {
    let c = config();
    let whole = tempfile::tempdir().unwrap();
    let s = StudyDir::create(
        whole.path(),
        &crate::study::tests_support::study(&c, 2, 2),
        false,
    )
    .unwrap();
    run_study(&s, &fake, &options(Shard::ALL, None)).unwrap();
    merge(&s, &NO_REPORT).unwrap();

    let sharded = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for i in 0..3 {
        let s = StudyDir::create(
            sharded.path(),
            &crate::study::tests_support::study(&c, 2, 2),
            false,
        )
        .unwrap();
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
    let s = StudyDir::create(
        dir.path(),
        &crate::study::tests_support::study(&c, 2, 1),
        false,
    )
    .unwrap();
    let failing = |cell: &Cell, seed: u64, ctx: &CellContext<'_>| {
        if cell.index == 4 {
            Err(Error::Config("no such task".into()))
        } else {
            fake(cell, seed, ctx)
        }
    };
    let o = options(Shard::ALL, None);
    let e = run_study(&s, &failing, &o).unwrap_err();
    assert!(e.to_string().contains("no such task"), "{e}");
    assert!(e.kind().is_users());
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
    let s = StudyDir::create(
        dir.path(),
        &crate::study::tests_support::study(&c, 2, 2),
        false,
    )
    .unwrap();
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
