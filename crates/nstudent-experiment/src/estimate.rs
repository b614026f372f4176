//! The compute a study needs, predicted before it runs: the images each cell trains on and
//! predicts (from its task's size and the config), divided by the engine's speed measured on
//! this machine.
//!
//! The work it counts is an upper bound: every unlabeled row is counted as pseudo-labeled,
//! where a threshold keeps fewer (on hard tasks, far fewer). Its time is an estimate, not a
//! bound: the speed is sampled for about a second when `--plan` runs, and a machine that gets
//! busier during the run trains slower (the `seed` runs on MNIST took 1.46x and 2.01x of their
//! prediction, `docs/results/seed-mnist-*/README.md`). Once cells have finished,
//! [`crate::plan::remaining`] estimates what is left from their measured times.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use nstudent_data::ImageShape;
use nstudent_engine::bench::{infer_rate, train_rate, BenchOptions};
use nstudent_engine::Engine;

use crate::config::{Algorithm, StudyConfig, UnlabeledSchedule};
use crate::plan::{InnerSearch, SearchPlan};
use crate::Result;

/// The work of one cell, in images.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Work {
    /// Images trained on, summed over epochs and models (one image-epoch each).
    pub train: f64,
    /// Images predicted (pseudo-labeling, validation and test), summed over models.
    pub predict: f64,
}

impl std::ops::AddAssign for Work {
    fn add_assign(&mut self, o: Self) {
        self.train += o.train;
        self.predict += o.predict;
    }
}

/// The labeled rows of a training part of `n` rows, and the unlabeled pool: the rest of the
/// part, or the separate unlabeled set of `separate` rows (`[data] unlabeled`).
fn parts(config: &StudyConfig, n: f64, separate: Option<f64>) -> (f64, f64) {
    let labeled = (config.base.teacher_factor * n).max(1.0).min(n);
    (labeled, separate.unwrap_or(n - labeled))
}

/// The students of one chain: `students` iterations of `members` models on a training part of
/// `n` rows, each student scored on `n_val` rows. The first teacher is not included.
#[allow(clippy::too_many_arguments)]
fn chain(
    config: &StudyConfig,
    n: f64,
    separate: Option<f64>,
    students: usize,
    members: f64,
    unl_factor: Option<f64>,
    epochs: f64,
    n_val: f64,
) -> Work {
    let (labeled, pool) = parts(config, n, separate);
    // unl_factor slices the training part, or the separate set when there is one.
    let sliced = separate.unwrap_or(n);
    let mut w = Work::default();
    let mut used_before = 0.0;
    for i in 1..=students {
        let used = match (config.base.unlabeled, unl_factor) {
            (UnlabeledSchedule::Slice, Some(u)) => (i as f64 * u * sliced).min(pool),
            _ => pool,
        };
        let predicted = if config.base.relabel || i == 1 {
            used
        } else {
            used - used_before
        };
        used_before = used;
        // An upper bound: every used row passes the threshold.
        w.train += members * (labeled + used) * epochs;
        w.predict += members * (predicted + n_val);
    }
    w
}

/// The work of one cell of `algorithm` whose outer training part has `n_train` rows and test
/// fold `n_test`, at `epochs` per training: its [`SearchPlan`] walked as
/// [`crate::nested::NestedCv`] runs it (the inner search, then the refit and the test
/// predictions). `separate` is the size of the study's separate unlabeled set, if it has one.
pub fn cell_work(
    config: &StudyConfig,
    algorithm: Algorithm,
    epochs: usize,
    n_train: f64,
    n_test: f64,
    separate: Option<f64>,
) -> Work {
    let e = epochs as f64;
    let (labeled, _) = parts(config, n_train, separate);
    let plan = SearchPlan::new(config, algorithm, epochs);
    if let SearchPlan::Nothing { members } = plan {
        let members = members as f64;
        return Work {
            train: members * labeled * e,
            predict: members * n_test,
        };
    }
    // The refit (at the largest configuration) and the test fold, predicted by the final
    // model and by the first teacher (its metrics are recorded).
    let (members, students, unl_factor) = plan.largest_refit(config);
    let members = members as f64;
    let mut w = Work {
        train: members * labeled * e,
        predict: 2.0 * members * n_test,
    };
    w += chain(
        config, n_train, separate, students, members, unl_factor, e, 0.0,
    );
    let k = config.inner_folds as f64;
    let (n_in, n_val) = (n_train * (k - 1.0) / k, n_train / k);
    match &plan {
        SearchPlan::Nothing { .. } | SearchPlan::Fixed(_) => {}
        SearchPlan::Inner(search) => w += search_work(config, search, n_in, n_val, separate),
        SearchPlan::AfterNoisyStudent {
            noisy_student,
            sizes,
        } => {
            // Noisy Student's search (unless the fold's Noisy Student cell computes it and the
            // Ensemble reads it from the fold's cache), then every size on the last inner fold:
            // the largest teachers once, a chain per size.
            if !config.algorithms.contains(&Algorithm::NoisyStudent) {
                w += search_work(config, noisy_student, n_in, n_val, separate);
            }
            let (l_in, _) = parts(config, n_in, separate);
            w.train += members * l_in * e;
            for &size in sizes {
                w += chain(
                    config,
                    n_in,
                    separate,
                    students,
                    size as f64,
                    unl_factor,
                    e,
                    n_val,
                );
            }
        }
    }
    w
}

/// The work of an inner search on training parts of `n_in` rows and validation parts of
/// `n_val`: per rung and inner fold, the largest teacher ensemble of its chains (predicting
/// the pool) and every chain's students (the largest chains, for a bound under halving).
fn search_work(
    config: &StudyConfig,
    search: &InnerSearch,
    n_in: f64,
    n_val: f64,
    separate: Option<f64>,
) -> Work {
    let (l_in, pool_in) = parts(config, n_in, separate);
    let k = search.inner_folds as f64;
    let mut w = Work::default();
    for (r, &epochs) in search.rungs.iter().enumerate() {
        let chains = search.bound_chains(r);
        let teachers = chains.iter().map(|c| c.ensemble_size).max().unwrap_or(1) as f64;
        let re = epochs as f64;
        let mut inner = Work {
            train: teachers * l_in * re,
            predict: teachers * pool_in,
        };
        for c in &chains {
            let members = c.ensemble_size as f64;
            inner += chain(
                config,
                n_in,
                separate,
                search.max_students(),
                members,
                c.unl_factor,
                re,
                n_val,
            );
        }
        w.train += k * inner.train;
        w.predict += k * inner.predict;
    }
    w
}

/// Training and prediction images per second of one core of this machine, for one shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub train: f64,
    pub predict: f64,
}

/// Measures [`Rates`] for `shape` with `engine`: training with `side_by_side` one-thread
/// models at once (as a study runs its cells), prediction on one thread. About a second.
pub fn measure_rates(engine: &dyn Engine, shape: ImageShape, side_by_side: usize) -> Result<Rates> {
    let models = side_by_side.max(1);
    let o = BenchOptions {
        threads: nstudent_engine::Threads::ONE,
        repeats: 1,
        seconds: 0.4,
        models,
    };
    let train = train_rate(engine, shape, 32, &o)? / models as f64;
    let predict = infer_rate(engine, shape, 256, &o)?;
    Ok(Rates { train, predict })
}

/// One task's size: its training split's rows and image shape.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSize {
    pub rows: usize,
    /// Images of the study's separate unlabeled set (`[data] unlabeled`), if it has one.
    pub unlabeled_rows: Option<usize>,
    pub shape: ImageShape,
    /// The size comes from the source's published figures, as its data is not here.
    pub published: bool,
}

/// The sizes of the tasks of `config`: read from the data in `data_dir` (each source read
/// once), else, for a named source that is missing, from its published size.
pub fn task_sizes(config: &StudyConfig, data_dir: &Path) -> BTreeMap<String, TaskSize> {
    let mut sources: BTreeMap<String, Option<nstudent_data::Dataset>> = BTreeMap::new();
    // The separate unlabeled set is every task's pool: read once.
    let unlabeled_rows = config.data.unlabeled.as_deref().and_then(|spec| {
        let options = config.data.open_options().ok()?;
        nstudent_data::open_unlabeled(spec, data_dir, &options)
            .ok()
            .map(|u| u.len())
    });
    let mut out = BTreeMap::new();
    for spec in &config.tasks {
        let Ok(task) = nstudent_data::Task::parse(spec) else {
            continue;
        };
        if nstudent_data::tasks::missing_data(spec, data_dir).is_some() {
            if let Some(size) = published_size(&task) {
                out.insert(spec.clone(), size);
            }
            continue;
        }
        let data = sources.entry(task.source.clone()).or_insert_with(|| {
            nstudent_data::open(&task.source, data_dir)
                .ok()
                .map(|s| s.train)
        });
        let Some(data) = data else { continue };
        let rows = match &task.classes {
            None => data.len(),
            Some(classes) => data.labels.iter().filter(|l| classes.contains(l)).count(),
        };
        out.insert(
            spec.clone(),
            TaskSize {
                rows,
                unlabeled_rows,
                shape: data.shape,
                published: false,
            },
        );
    }
    out
}

/// The size of `task` from its source's published figures, if it is a named source.
fn published_size(task: &nstudent_data::Task) -> Option<TaskSize> {
    let p = nstudent_data::sources::find(&task.source)?.published?;
    let kept = task.classes.as_ref().map_or(p.classes, Vec::len);
    Some(TaskSize {
        rows: p.train_of(kept),
        unlabeled_rows: None,
        shape: p.shape,
        published: true,
    })
}

/// The predicted compute of a whole study.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prediction {
    /// Core-seconds per task, for the tasks whose size is known.
    pub per_task: BTreeMap<String, f64>,
    /// Tasks whose data is missing: not predicted.
    pub unknown: Vec<String>,
    /// Tasks predicted from their source's published size, as their data is missing.
    pub published: Vec<String>,
    /// The scaling by finished cells, if any.
    pub calibration: Option<Calibration>,
}

impl Prediction {
    pub fn core_seconds(&self) -> f64 {
        self.per_task.values().sum()
    }

    /// Lines for `--plan`.
    pub fn describe(&self, threads: usize, rates: &BTreeMap<String, Rates>) -> String {
        let mut out = String::new();
        if self.per_task.is_empty() {
            let _ = writeln!(
                out,
                "predicted compute: unknown, no task's data is here ({}); see `nstudent data list`",
                self.unknown.join(", ")
            );
            return out;
        }
        let hours = self.core_seconds() / 3600.0;
        match self.calibration.as_ref().filter(|c| c.cells > 0) {
            None => {
                let _ = writeln!(
                    out,
                    "predicted compute: about {hours:.1} core-hours, about {:.1} h of wall time on {threads} cores: an estimate, at the speed measured now (the work counted is an upper bound, every unlabeled row counted as pseudo-labeled where a threshold keeps fewer; the time is not: a machine busy with other work is slower)",
                    hours / threads.max(1) as f64
                );
            }
            Some(c) => {
                let factors: Vec<String> = c
                    .factors
                    .iter()
                    .map(|(a, f)| format!("{a} {f:.2}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "predicted compute: about {hours:.1} core-hours, about {:.1} h of wall time on {threads} cores (the estimate calibrated by {} finished cells: measured/predicted = {})",
                    hours / threads.max(1) as f64,
                    c.cells,
                    factors.join(", ")
                );
            }
        }
        for (task, s) in &self.per_task {
            let _ = writeln!(out, "  {task:<24} {:>6.2} core-hours", s / 3600.0);
        }
        let speeds: Vec<String> = rates
            .iter()
            .map(|(shape, r)| {
                format!(
                    "{shape}: train {:.0}, predict {:.0} images/s per core",
                    r.train, r.predict
                )
            })
            .collect();
        let _ = writeln!(out, "  speeds measured now: {}", speeds.join("; "));
        if !self.published.is_empty() {
            let _ = writeln!(
                out,
                "  sized from published figures (data missing): {}",
                self.published.join(", ")
            );
        }
        if !self.unknown.is_empty() {
            let _ = writeln!(
                out,
                "  not predicted (data missing): {}",
                self.unknown.join(", ")
            );
        }
        out
    }
}

/// The predicted core-seconds of `cell` (uncalibrated), when its task's size is known.
pub fn cell_seconds(
    config: &StudyConfig,
    cell: &crate::Cell,
    sizes: &BTreeMap<String, TaskSize>,
    rates: &BTreeMap<String, Rates>,
) -> Option<f64> {
    let size = sizes.get(&cell.task)?;
    let r = rates.get(&size.shape.to_string())?;
    let k = config.outer_folds.max(2);
    let n = size.rows as f64;
    let (n_train, n_test) = (n * (k - 1) as f64 / k as f64, n / k as f64);
    let w = cell_work(
        config,
        cell.algorithm,
        config.epochs_for(&cell.task),
        n_train,
        n_test,
        size.unlabeled_rows.map(|u| u as f64),
    );
    Some(w.train / r.train + w.predict / r.predict)
}

/// How the measured core-seconds of finished cells compare with their prediction, per
/// algorithm: the factor that turns the bound into an estimate for the cells left.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calibration {
    /// measured / predicted, per algorithm with a finished cell.
    pub factors: BTreeMap<Algorithm, f64>,
    /// Finished cells it is based on.
    pub cells: usize,
}

impl Calibration {
    /// From the finished `records` of a study: each cell's measured wall seconds times the
    /// threads it used, against its prediction.
    pub fn from_records(
        config: &StudyConfig,
        records: &[crate::CellRecord],
        sizes: &BTreeMap<String, TaskSize>,
        rates: &BTreeMap<String, Rates>,
    ) -> Self {
        let mut sums: BTreeMap<Algorithm, (f64, f64)> = BTreeMap::new();
        let mut cells = 0;
        for r in records {
            let cell = crate::Cell {
                index: 0,
                task: r.task.clone(),
                fold: r.fold,
                algorithm: r.algorithm,
            };
            let Some(predicted) = cell_seconds(config, &cell, sizes, rates) else {
                continue;
            };
            let e = sums.entry(r.algorithm).or_default();
            e.0 += r.outcome.cell_seconds * r.threads.max(1) as f64;
            e.1 += predicted;
            cells += 1;
        }
        let factors = sums
            .into_iter()
            .filter(|(_, (_, p))| *p > 0.0)
            .map(|(a, (m, p))| (a, m / p))
            .collect();
        Self { factors, cells }
    }

    /// The factor of `algorithm`: its own, else the mean of the others, else 1.
    pub fn factor(&self, algorithm: Algorithm) -> f64 {
        self.factors.get(&algorithm).copied().unwrap_or_else(|| {
            if self.factors.is_empty() {
                1.0
            } else {
                self.factors.values().sum::<f64>() / self.factors.len() as f64
            }
        })
    }
}

/// Predicts the compute of every cell of `config` among `cells` from the task sizes and the
/// rates per shape (keyed by `ImageShape`'s display), scaled by `calibration` when given.
pub fn predict(
    config: &StudyConfig,
    cells: &[crate::Cell],
    sizes: &BTreeMap<String, TaskSize>,
    rates: &BTreeMap<String, Rates>,
    calibration: Option<&Calibration>,
) -> Prediction {
    let mut p = Prediction {
        calibration: calibration.cloned(),
        ..Prediction::default()
    };
    for cell in cells {
        let Some(seconds) = cell_seconds(config, cell, sizes, rates) else {
            if !p.unknown.contains(&cell.task) {
                p.unknown.push(cell.task.clone());
            }
            continue;
        };
        if sizes.get(&cell.task).is_some_and(|s| s.published) && !p.published.contains(&cell.task) {
            p.published.push(cell.task.clone());
        }
        let factor = calibration.map_or(1.0, |c| c.factor(cell.algorithm));
        *p.per_task.entry(cell.task.clone()).or_default() += seconds * factor;
    }
    p
}

/// The compute the `todo` cells of `study` need on this machine: the tasks' sizes read from
/// their data, this machine's speed measured now with the study's engine and jobs (about a
/// second per image shape), scaled by the finished `records` when there are some. Returns the
/// prediction and the speeds it measured, per image shape (`28x28x1`).
pub fn predict_study(
    study: &crate::Study,
    todo: &[crate::Cell],
    records: &[crate::CellRecord],
) -> Result<(Prediction, BTreeMap<String, Rates>)> {
    let config = study.config();
    let sizes = task_sizes(config, study.data_dir());
    let engine = study.open_engine()?;
    let mut rates = BTreeMap::new();
    for size in sizes.values() {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            rates.entry(size.shape.to_string())
        {
            slot.insert(measure_rates(
                engine.as_ref(),
                size.shape,
                study.budget().jobs,
            )?);
        }
    }
    let calibration =
        (!records.is_empty()).then(|| Calibration::from_records(config, records, &sizes, &rates));
    let prediction = predict(config, todo, &sizes, &rates, calibration.as_ref());
    Ok((prediction, rates))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_study_is_predicted_from_its_data_and_this_machines_speed() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("small.csv");
        let rows: String = (0..90)
            .map(|i| {
                format!(
                    "{},{}\n",
                    i % 3,
                    vec![(i * 7 % 256).to_string(); 64].join(",")
                )
            })
            .collect();
        std::fs::write(&csv, rows).unwrap();
        let mut c = StudyConfig::preset("quick").unwrap();
        c.tasks = vec![csv.display().to_string()];
        c.data.shape = Some("8x8".into());
        c.execution.threads = 1;
        let study = c.resolve().unwrap();
        let cells = crate::plan::cells(&c);
        let (p, rates) = predict_study(&study, &cells, &[]).unwrap();
        // The task's size was read (90 images of 8x8x1) and its shape's speed measured.
        assert_eq!(rates.keys().collect::<Vec<_>>(), ["8x8x1"]);
        assert!(rates["8x8x1"].train > 0.0 && rates["8x8x1"].predict > 0.0);
        assert!(
            p.unknown.is_empty() && p.published.is_empty(),
            "{:?}",
            p.unknown
        );
        assert!(p.core_seconds() > 0.0 && p.per_task.contains_key(&c.tasks[0]));
        // A task whose data is missing is named, not predicted.
        c.tasks.push("no/such/data.csv".into());
        let study = c.resolve().unwrap();
        let (p, _) = predict_study(&study, &crate::plan::cells(&c), &[]).unwrap();
        assert_eq!(p.unknown, ["no/such/data.csv"]);
    }

    #[test]
    fn a_separate_unlabeled_set_is_the_pool_of_the_plan() {
        let c = StudyConfig::preset("standard").unwrap();
        // 1,000 training rows, 100 labeled; the pool is the 900 others or a 9,000-image set.
        let ns = |separate| cell_work(&c, Algorithm::NoisyStudent, 5, 1000.0, 100.0, separate);
        let (own, big) = (ns(None), ns(Some(9000.0)));
        assert!(
            big.train > own.train && big.predict > own.predict,
            "{own:?} {big:?}"
        );
        // Baselines never touch the pool.
        let b = |separate| cell_work(&c, Algorithm::Baseline, 5, 1000.0, 100.0, separate);
        assert_eq!(b(None), b(Some(9000.0)));
        // A set as large as the training part's own pool costs what that pool costs.
        assert_eq!(ns(Some(900.0)).predict, own.predict);
    }

    #[test]
    fn fixed_hyperparameters_cost_the_refit_alone() {
        let c = StudyConfig::preset("standard").unwrap();
        // 1,000 training rows: 100 labeled, 900 unlabeled; 5 epochs; 100 test rows.
        let b = cell_work(&c, Algorithm::Baseline, 5, 1000.0, 100.0, None);
        assert_eq!(
            b,
            Work {
                train: 500.0,
                predict: 100.0
            }
        );
        let ns = cell_work(&c, Algorithm::NoisyStudent, 5, 1000.0, 100.0, None);
        // Teacher 100 x 5, one student on 1,000 rows x 5; the pool and the test fold twice.
        assert_eq!(
            ns,
            Work {
                train: 500.0 + 5000.0,
                predict: 900.0 + 200.0
            }
        );
        let e = cell_work(&c, Algorithm::Ensemble, 5, 1000.0, 100.0, None);
        assert_eq!(e.train, 2.0 * ns.train);
        assert_eq!(e.predict, 2.0 * ns.predict);
    }

    #[test]
    fn a_search_adds_its_inner_folds() {
        let mut c = StudyConfig::preset("standard").unwrap();
        let fixed = cell_work(&c, Algorithm::NoisyStudent, 5, 900.0, 100.0, None);
        c.space.threshold = vec![0.5, 0.7];
        let searched = cell_work(&c, Algorithm::NoisyStudent, 5, 900.0, 100.0, None);
        // 3 inner folds of 600 rows: a teacher (60 x 5) and two chains (600 x 5 each).
        let inner = 3.0 * (60.0 * 5.0 + 2.0 * 600.0 * 5.0);
        assert!(
            (searched.train - fixed.train - inner).abs() < 1e-9,
            "{searched:?}"
        );
        assert!(searched.predict > fixed.predict);
    }

    #[test]
    fn finished_cells_calibrate_the_bound_per_algorithm() {
        let c = StudyConfig::preset("standard").unwrap();
        let shape = ImageShape::new(8, 8, 1);
        let sizes = BTreeMap::from([(
            "t".to_string(),
            TaskSize {
                rows: 1000,
                unlabeled_rows: None,
                shape,
                published: false,
            },
        )]);
        let rates = BTreeMap::from([(
            shape.to_string(),
            Rates {
                train: 1000.0,
                predict: 10_000.0,
            },
        )]);
        let cell = |fold, algorithm| crate::Cell {
            index: 0,
            task: "t".into(),
            fold,
            algorithm,
        };
        let predicted =
            cell_seconds(&c, &cell(1, Algorithm::NoisyStudent), &sizes, &rates).unwrap();
        // 900 training rows of 5 epochs (90 labeled, 810 pool) at 1,000 images/s, and 810 + 2 x
        // 100 predictions at 10,000/s: 0.45 + 4.5 + 0.101 s.
        assert!((predicted - 5.051).abs() < 1e-9, "{predicted}");
        // A finished Noisy Student cell that took half its bound on 2 threads.
        let mut record = crate::cell::tests_support::record(&cell(1, Algorithm::NoisyStudent), 0.9);
        record.task = "t".into();
        record.threads = 2;
        record.outcome.cell_seconds = predicted / 4.0;
        let cal = Calibration::from_records(&c, &[record], &sizes, &rates);
        assert_eq!(cal.cells, 1);
        assert!((cal.factor(Algorithm::NoisyStudent) - 0.5).abs() < 1e-12);
        // An algorithm with no finished cell takes the others' factor.
        assert!((cal.factor(Algorithm::Ensemble) - 0.5).abs() < 1e-12);
        let todo = [
            cell(2, Algorithm::NoisyStudent),
            cell(2, Algorithm::Ensemble),
        ];
        let p = predict(&c, &todo, &sizes, &rates, Some(&cal));
        let ensemble = cell_seconds(&c, &todo[1], &sizes, &rates).unwrap();
        assert!((p.core_seconds() - 0.5 * (predicted + ensemble)).abs() < 1e-9);
        assert!(Calibration::default().factor(Algorithm::Baseline) == 1.0);
    }

    #[test]
    fn missing_named_sources_are_sized_from_their_published_figures() {
        let c = StudyConfig::preset("original").unwrap();
        let empty = tempfile::tempdir().unwrap();
        let sizes = task_sizes(&c, empty.path());
        assert_eq!(sizes.len(), 20, "{sizes:?}");
        assert!(sizes.values().all(|s| s.published));
        let cifar100 = &sizes["cifar100:0-9"];
        assert_eq!(cifar100.rows, 5_000);
        assert_eq!(cifar100.shape, ImageShape::new(32, 32, 3));
        assert_eq!(sizes["mnist:0-4"].rows, 30_000);
        assert_eq!(sizes["fashion-mnist"].rows, 60_000);
        assert_eq!(sizes["az-handwritten:20-25"].rows, 372_450 * 6 / 26);
        // A path that does not exist has no published size.
        let mut c = c;
        c.tasks = vec!["no/such/data.csv".into()];
        assert!(task_sizes(&c, empty.path()).is_empty());
    }
}
