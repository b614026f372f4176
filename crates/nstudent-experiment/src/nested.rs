//! The study's cell: one algorithm on one outer fold of one task, with nested cross-validation.
//!
//! For Noisy Student and the ensemble, an inner K-fold split of the outer training part picks
//! the hyperparameters by mean validation accuracy; nothing of the outer test fold is seen by
//! the search. In every inner fold:
//! - the labeled/unlabeled split and the teacher(s) come from the inner training part only;
//! - the teacher predicts the unlabeled pool once, and these probabilities are reused by every
//!   (unl_factor, threshold) chain;
//! - one chain of the largest `num_students` yields the candidates of every shorter length
//!   (its i-th student *is* the i-student candidate);
//! - for the ensemble, the teachers of the largest size are trained once and the smaller
//!   ensembles are their first members.
//!
//! The chosen configuration is then refit on the whole outer training part and tested on the
//! outer test fold. Its training time (teacher and students of the refit) and inference time
//! are the cell's times; the search's cost is recorded separately.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use nstudent_algo::{
    split_labeled, AlgoConfig, CheckedConfig, Event, LabeledSplit, MetricsLog, Model, Observer,
    PoolOrigin, Stage, TrainOutcome, Trainer,
};
use nstudent_data::split::KFold;
use nstudent_data::{Dataset, UnlabeledImages};
use nstudent_engine::{Engine, Threads};

use crate::cell::{
    CandidateScore, Cell, CellMetrics, CellOutcome, Hyperparameters, PseudoLabelRecord,
    TeacherRecord,
};
use crate::checkpoint::{ChainScores, InnerStep};
use crate::config::Algorithm;
use crate::plan::{Chain, InnerSearch, SearchPlan};
use crate::runner::{CellContext, CellWork};
use crate::study::Study;
use crate::{seed, Error, Result};

/// The real cell computation: data from the study's data directory, models from its engine.
pub struct NestedCv {
    study: Study,
    engine: Box<dyn Engine>,
    datasets: Mutex<HashMap<String, Arc<Dataset>>>,
    /// The checked algorithm config of each (task, algorithm), checked once.
    bases: Mutex<HashMap<(String, Algorithm), CheckedConfig>>,
    /// The study's separate unlabeled set (`[data] unlabeled`), read once when first needed.
    unlabeled: Mutex<Option<Arc<UnlabeledImages>>>,
    /// Whether a fold's Noisy Student search is kept for the fold's other cells
    /// ([`crate::shared`]); off only to show that sharing changes no result.
    share_searches: bool,
}

impl NestedCv {
    /// Uses the study's engine (`native` unless changed).
    pub fn new(study: &Study) -> Result<Self> {
        Ok(Self::with_engine(study, study.open_engine()?))
    }

    /// Uses `engine` instead of the study's (an engine set up by the caller).
    pub fn with_engine(study: &Study, engine: Box<dyn Engine>) -> Self {
        Self {
            study: study.clone(),
            engine,
            datasets: Mutex::new(HashMap::new()),
            bases: Mutex::new(HashMap::new()),
            unlabeled: Mutex::new(None),
            share_searches: true,
        }
    }

    /// The same work with the engine on the kernels of `path`: what recomputes a cell on the
    /// kernels that computed it.
    pub fn on_kernels(&self, path: nstudent_engine::KernelPath) -> Result<Self> {
        let engine = nstudent_engine::engine_on_kernels(self.study.engine().name(), path)?;
        let mut work = Self::with_engine(&self.study, engine);
        work.share_searches = self.share_searches;
        Ok(work)
    }

    /// Computes every cell's work itself, without the fold's shared cache: the same results,
    /// more trainings (for the test that shows it).
    pub fn without_sharing(mut self) -> Self {
        self.share_searches = false;
        self
    }

    /// The training data of a task (its official train split), loaded once per process.
    ///
    /// Data stored sorted by label (the A-Z CSV is) is shuffled once with the study's seed, as
    /// the original study did: unshuffled K-fold on sorted rows would leave whole classes out
    /// of every training part.
    pub fn dataset(&self, task: &str) -> Result<Arc<Dataset>> {
        let mut cache = self.datasets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = cache.get(task) {
            return Ok(Arc::clone(d));
        }
        let study = &self.study;
        let mut train = nstudent_data::open_with(task, study.data_dir(), study.read_options())?
            .splits
            .train;
        if sorted_by_label(&train.labels) {
            train = train.shuffled(self.study.config().seed);
        }
        let data = Arc::new(train);
        cache.insert(task.to_string(), Arc::clone(&data));
        Ok(data)
    }

    /// The study's separate unlabeled set, or `None` when the pool is each training part's
    /// rows outside the labeled part; loaded once per process.
    pub fn unlabeled_set(&self) -> Result<Option<Arc<UnlabeledImages>>> {
        let Some(spec) = self.study.config().data.unlabeled.as_deref() else {
            return Ok(None);
        };
        let mut cached = self.unlabeled.lock().unwrap_or_else(|p| p.into_inner());
        if cached.is_none() {
            let study = &self.study;
            let set = nstudent_data::open_unlabeled(spec, study.data_dir(), study.read_options())?;
            *cached = Some(Arc::new(set));
        }
        Ok(cached.clone())
    }

    /// The labeled part of `train` per `cfg`, and the pool: the other rows of `train`, or the
    /// separate unlabeled `set`.
    fn split(
        &self,
        train: &Dataset,
        cfg: &AlgoConfig,
        set: Option<&UnlabeledImages>,
    ) -> Result<LabeledSplit> {
        let split = split_labeled(
            train,
            cfg.teacher_factor,
            cfg.labeled_split,
            Trainer::split_seed(cfg),
        )?;
        Ok(match set {
            Some(u) => split.with_separate_pool(u.view(), &u.source)?,
            None => split,
        })
    }

    /// A trainer for `cfg`, on the separate unlabeled `set` when there is one.
    fn trainer<'t>(
        &'t self,
        cfg: CheckedConfig,
        set: Option<&'t UnlabeledImages>,
        threads: Threads,
    ) -> Result<Trainer<'t>> {
        let trainer = Trainer::checked(self.engine.as_ref(), cfg).threads(threads);
        Ok(match set {
            Some(u) => trainer.unlabeled(u.view(), &u.source)?,
            None => trainer,
        })
    }

    /// The checked algorithm config of `algorithm` on `task` ([`StudyConfig::algo_config`],
    /// checked once per process for the study's pool) with the students' `seed` and the
    /// `teacher_seed` of the labeled split and first teachers. Candidates change it through
    /// [`CheckedConfig::with_candidate`].
    fn algo_config(
        &self,
        task: &str,
        algorithm: Algorithm,
        seed: u64,
        teacher_seed: u64,
    ) -> Result<CheckedConfig> {
        let mut bases = self.bases.lock().unwrap_or_else(|p| p.into_inner());
        let key = (task.to_string(), algorithm);
        let base = match bases.get(&key) {
            Some(base) => base.clone(),
            None => {
                let origin = match self.study.config().data.unlabeled {
                    Some(_) => PoolOrigin::Separate,
                    None => PoolOrigin::TrainingData,
                };
                let base = self
                    .study
                    .config()
                    .algo_config(task, algorithm)
                    .check(origin)?;
                bases.insert(key, base.clone());
                base
            }
        };
        Ok(base.with_seeds(seed, Some(teacher_seed)))
    }
}

/// The teacher seed of an outer fold: a function of the study seed, the task and the fold
/// only, not of the algorithm, so that every algorithm of a fold starts from the same labeled
/// split and the same first teacher (paired comparisons).
pub fn fold_teacher_seed(study_seed: u64, task: &str, fold: usize) -> u64 {
    seed::derive(study_seed, &[task, &fold.to_string(), "teacher"])
}

/// Test-fold metrics of `model`.
fn test_metrics(model: &Model, test: &Dataset) -> Result<CellMetrics> {
    let proba = model.predict_proba(test.view())?;
    let s = nstudent_stats::metrics::score(&test.labels, &proba, test.num_classes())?;
    Ok(s)
}

/// The observer of one training of a cell: it drives the progress bar and the study log, and
/// collects the training's metric lines (`nstudent_algo::MetricsLog`, with the cell's task,
/// fold, algorithm, `phase` "refit" or "inner" and the progress `label`), which are appended to
/// the study's `metrics.jsonl` when the observer is dropped. `train_labels` are the labels of
/// the data the training split; `split`, for a caller that splits it itself (the inner
/// search), gives the pool's rows so that pseudo-label accuracy can be computed.
struct Watch<'a> {
    ctx: &'a CellContext<'a>,
    label: String,
    epochs: usize,
    current: Option<Stage>,
    log: MetricsLog,
}

fn observer<'a>(
    ctx: &'a CellContext<'a>,
    cell: &Cell,
    phase: &str,
    label: String,
    epochs: usize,
    train_labels: &[u16],
    split: Option<&LabeledSplit>,
) -> Watch<'a> {
    let mut context = serde_json::Map::new();
    context.insert("task".into(), cell.task.clone().into());
    context.insert("fold".into(), cell.fold.into());
    context.insert("algorithm".into(), cell.algorithm.to_string().into());
    context.insert("phase".into(), phase.into());
    context.insert("label".into(), label.clone().into());
    let mut log = MetricsLog::new(context).with_train_labels(train_labels);
    if let Some(split) = split {
        log.on_event(&Event::Split {
            labeled: split.labeled.len(),
            unlabeled: split.pool.len(),
            labeled_rows: &split.labeled_rows,
            pool_origin: split.pool_origin,
        });
    }
    Watch {
        ctx,
        label,
        epochs,
        current: None,
        log,
    }
}

impl Observer for Watch<'_> {
    fn on_event(&mut self, event: &Event<'_>) {
        if let Event::Fit {
            stage,
            member: 0,
            progress,
        } = event
        {
            let steps_per_epoch = progress.batches_per_epoch as u64;
            if self.current != Some(*stage) {
                self.current = Some(*stage);
                let what = match stage {
                    Stage::Teacher => "teacher".to_string(),
                    Stage::Student { iteration } => format!("student {iteration}"),
                };
                self.ctx.start_training(
                    &format!("{} {what}", self.label),
                    self.epochs as u64 * steps_per_epoch,
                );
            }
            self.ctx
                .step(progress.epoch as u64 * steps_per_epoch + progress.batch as u64);
        }
        self.log.on_event(event);
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        self.ctx.record_metrics(self.log.lines());
    }
}

/// What a cell's inner search gives: the chosen candidate (none for the Baseline), every
/// candidate's scores, the models trained, and how many of them were reused from the fold's
/// shared search.
struct Searched {
    chosen: Option<Hyperparameters>,
    scores: Vec<CandidateScore>,
    trainings: usize,
    reused: usize,
}

/// The refit's notes: a chain that stopped early, and iterations whose student trained on the
/// labeled rows alone.
fn refit_notes(outcome: &TrainOutcome) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(ch) = &outcome.chain {
        if let Some(why) = &ch.stopped_early {
            notes.push(format!("refit: {why}"));
        }
        for it in ch.iterations.iter().filter(|it| it.labeled_only) {
            notes.push(format!(
                    "refit: no pseudo-label passed the threshold in iteration {}; the student trained on the labeled rows alone",
                    it.iteration
                ));
        }
    }
    notes
}

/// True when the labels never decrease and at least two classes occur.
fn sorted_by_label(labels: &[u16]) -> bool {
    labels.windows(2).all(|w| w[0] <= w[1]) && labels.first() != labels.last()
}

impl CellWork for NestedCv {
    fn kernel_path(&self) -> Option<nstudent_engine::KernelPath> {
        self.engine.kernel_path()
    }

    /// Images trained and predicted (a prediction counted as a fifth of a training step),
    /// times the pixels of an image: the costliest cells start first.
    fn cost(&self, cell: &Cell) -> f64 {
        let Ok(data) = self.dataset(&cell.task) else {
            return 0.0;
        };
        let k = self.study.config().outer_folds.max(2) as f64;
        let n = data.len() as f64;
        let w = crate::estimate::cell_work(
            self.study.config(),
            cell.algorithm,
            self.study.config().epochs_for(&cell.task),
            n * (k - 1.0) / k,
            n / k,
            self.unlabeled_set().ok().flatten().map(|u| u.len() as f64),
        );
        (w.train + w.predict / 5.0) * data.shape.len() as f64
    }

    fn compute(&self, cell: &Cell, cell_seed: u64, ctx: &CellContext<'_>) -> Result<CellOutcome> {
        let started = Instant::now();
        let c = self.study.config();
        let data = self.dataset(&cell.task)?;
        let folds = KFold::new(c.outer_folds).split(data.len())?;
        let fold = folds.get(cell.fold - 1).ok_or_else(|| {
            Error::Internal(format!("no outer fold {} of {}", cell.fold, c.outer_folds))
        })?;
        let train = data.subset(&fold.train)?;
        let test = data.subset(&fold.test)?;
        let set = self.unlabeled_set()?;
        let mut notes = Vec::new();
        let searched = self.inner_search(cell, &train, cell_seed, ctx, &mut notes)?;
        let (chosen, search) = (searched.chosen, searched.scores);
        let (outcome, refit_trainings) = self.refit(cell, chosen, &train, cell_seed, ctx)?;
        let trainings = searched.trainings + refit_trainings;
        let reused_trainings = searched.reused;
        let pseudo_labels = outcome
            .chain
            .as_ref()
            .map_or_else(Vec::new, |ch| PseudoLabelRecord::of_chain(&ch.iterations));
        notes.extend(refit_notes(&outcome));
        let training_seconds = outcome.seconds;
        // The first teacher of the self-training algorithms, and the Baselines of the Baseline
        // ensemble (member 0 is the fold's Baseline): what pairs a cell with its fold's.
        let teacher = match cell.algorithm.self_trains() || cell.algorithm.is_ensemble() {
            true => Some(self.teacher_record(&outcome.teacher, &test)?),
            false => None,
        };
        let model = outcome.into_final_model();
        let t0 = Instant::now();
        let proba = model.predict_proba(test.view())?;
        let inference_seconds = t0.elapsed().as_secs_f64();
        let s = nstudent_stats::metrics::score(&test.labels, &proba, test.num_classes())?;
        Ok(CellOutcome {
            hyperparameters: chosen,
            metrics: s,
            teacher,
            training_seconds,
            inference_seconds,
            search,
            trainings,
            cell_seconds: started.elapsed().as_secs_f64(),
            train_size: train.len(),
            test_size: test.len(),
            unlabeled_size: set.as_ref().map(|u| u.len()),
            pseudo_labels,
            reused_trainings,
            notes,
        })
    }
}

impl NestedCv {
    /// The cell's inner search, as its plan says: nothing, one fixed candidate, the search of
    /// Noisy Student (shared by the fold's cells), the Ensemble's search after it, or a search
    /// of its own.
    fn inner_search(
        &self,
        cell: &Cell,
        train: &Dataset,
        cell_seed: u64,
        ctx: &CellContext<'_>,
        notes: &mut Vec<String>,
    ) -> Result<Searched> {
        let mut trainings = 0;
        let mut reused_trainings = 0;
        let c = self.study.config();
        let (chosen, scores) = match SearchPlan::for_cell(c, cell) {
            SearchPlan::Nothing { .. } => (None, Vec::new()),
            SearchPlan::Fixed(h) => {
                notes.push("inner search skipped: the search space holds one candidate".into());
                (Some(h), Vec::new())
            }
            SearchPlan::AfterNoisyStudent {
                noisy_student,
                sizes,
            } => {
                let (best, search, n, reused) = self.search_after_noisy_student(
                    cell,
                    &noisy_student,
                    &sizes,
                    train,
                    cell_seed,
                    ctx,
                    notes,
                )?;
                trainings += n;
                reused_trainings += reused;
                (Some(best), search)
            }
            SearchPlan::Inner(plan) if cell.algorithm == Algorithm::NoisyStudent => {
                let (r, reused) =
                    self.shared_noisy_student_search(cell, &plan, train, cell_seed, ctx)?;
                trainings += r.trainings;
                if reused {
                    reused_trainings += r.trainings;
                }
                notes.extend(r.notes);
                (Some(r.best), r.scores)
            }
            SearchPlan::Inner(plan) => {
                let (best, search, n) =
                    self.search(cell, cell.algorithm, &plan, train, cell_seed, ctx, notes)?;
                trainings += n;
                (Some(best), search)
            }
        };

        Ok(Searched {
            chosen,
            scores,
            trainings,
            reused: reused_trainings,
        })
    }

    /// Refits the chosen configuration on the whole outer training part; returns the outcome
    /// and the models trained.
    fn refit(
        &self,
        cell: &Cell,
        chosen: Option<Hyperparameters>,
        train: &Dataset,
        cell_seed: u64,
        ctx: &CellContext<'_>,
    ) -> Result<(TrainOutcome, usize)> {
        let c = self.study.config();
        let set = self.unlabeled_set()?;
        let refit_seed = seed::derive(cell_seed, &["refit"]);
        let teacher_seed =
            seed::derive(fold_teacher_seed(c.seed, &cell.task, cell.fold), &["refit"]);
        let mut cfg = self.algo_config(&cell.task, cell.algorithm, refit_seed, teacher_seed)?;
        if let Some(h) = chosen {
            cfg = h.apply(cfg)?;
        }
        let trainer = self.trainer(cfg, set.as_deref(), ctx.threads)?;
        let mut obs = observer(
            ctx,
            cell,
            "refit",
            format!("{} fold {} refit", cell.algorithm, cell.fold),
            trainer.config().fit.epochs,
            &train.labels,
            None,
        );
        let outcome = trainer.train(train, &mut obs)?;
        drop(obs);
        let trainings = trainer.config().members()
            * (1 + outcome.chain.as_ref().map_or(0, |ch| ch.students.len()));
        Ok((outcome, trainings))
    }

    /// The test-fold metrics of the refit's first teacher: its member 0, which is the fold's
    /// Baseline model, and for an ensemble also the averaged teacher ensemble.
    fn teacher_record(&self, teacher: &Model, test: &Dataset) -> Result<TeacherRecord> {
        let first = teacher
            .members()
            .first()
            .ok_or_else(|| Error::Internal("a teacher without members".into()))?;
        let proba = first.predict_proba(test.view())?;
        let s = nstudent_stats::metrics::score(&test.labels, &proba, test.num_classes())?;
        let ensemble_metrics = if teacher.len() > 1 {
            Some(test_metrics(teacher, test)?)
        } else {
            None
        };
        Ok(TeacherRecord {
            metrics: s,
            ensemble_metrics,
        })
    }
}

mod search;

#[cfg(test)]
mod tests;
