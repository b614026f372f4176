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
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use nstudent_algo::{
    split_labeled, AlgoConfig, CheckedConfig, Event, LabeledSplit, MetricsLog, Model, Observer,
    PoolOrigin, Stage, Trainer,
};
use nstudent_data::split::KFold;
use nstudent_data::{Dataset, UnlabeledImages};
use nstudent_engine::{Engine, Threads};

use crate::cell::{
    CandidateScore, Cell, CellMetrics, CellOutcome, Hyperparameters, PseudoLabelRecord,
    TeacherRecord,
};
use crate::checkpoint::{ChainScores, InnerStep};
use crate::config::{Algorithm, StudyConfig};
use crate::plan::{Chain, InnerSearch, SearchPlan};
use crate::runner::{CellContext, CellWork};
use crate::{seed, Error, Result};

/// The real cell computation: data from `data_dir`, models from `engine`.
pub struct NestedCv {
    config: StudyConfig,
    engine: Box<dyn Engine>,
    data_dir: PathBuf,
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
    /// Uses the engine named in `config` (`native` unless changed).
    pub fn new(config: &StudyConfig, data_dir: PathBuf) -> Result<Self> {
        let engine = nstudent_engine::engine_by_name(config.engine.trim())?;
        Ok(Self::with_engine(config, engine, data_dir))
    }

    pub fn with_engine(config: &StudyConfig, engine: Box<dyn Engine>, data_dir: PathBuf) -> Self {
        Self {
            config: config.clone(),
            engine,
            data_dir,
            datasets: Mutex::new(HashMap::new()),
            bases: Mutex::new(HashMap::new()),
            unlabeled: Mutex::new(None),
            share_searches: true,
        }
    }

    /// The same work with the engine on the kernels of `path`: what recomputes a cell on the
    /// kernels that computed it.
    pub fn on_kernels(&self, path: nstudent_engine::KernelPath) -> Result<Self> {
        let engine = nstudent_engine::engine_on_kernels(self.config.engine.trim(), path)?;
        let mut work = Self::with_engine(&self.config, engine, self.data_dir.clone());
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
        let options = self.config.data.open_options()?;
        let mut train = nstudent_data::open_with(task, &self.data_dir, &options)?
            .splits
            .train;
        if sorted_by_label(&train.labels) {
            train = train.shuffled(self.config.seed);
        }
        let data = Arc::new(train);
        cache.insert(task.to_string(), Arc::clone(&data));
        Ok(data)
    }

    /// The study's separate unlabeled set, or `None` when the pool is each training part's
    /// rows outside the labeled part; loaded once per process.
    pub fn unlabeled_set(&self) -> Result<Option<Arc<UnlabeledImages>>> {
        let Some(spec) = self.config.data.unlabeled.as_deref() else {
            return Ok(None);
        };
        let mut cached = self.unlabeled.lock().unwrap_or_else(|p| p.into_inner());
        if cached.is_none() {
            let options = self.config.data.open_options()?;
            let set = nstudent_data::open_unlabeled(spec, &self.data_dir, &options)?;
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
                let origin = match self.config.data.unlabeled {
                    Some(_) => PoolOrigin::Separate,
                    None => PoolOrigin::TrainingData,
                };
                let base = self.config.algo_config(task, algorithm).check(origin)?;
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
        let k = self.config.outer_folds.max(2) as f64;
        let n = data.len() as f64;
        let w = crate::estimate::cell_work(
            &self.config,
            cell.algorithm,
            self.config.epochs_for(&cell.task),
            n * (k - 1.0) / k,
            n / k,
            self.unlabeled_set().ok().flatten().map(|u| u.len() as f64),
        );
        (w.train + w.predict / 5.0) * data.shape.len() as f64
    }

    fn compute(&self, cell: &Cell, cell_seed: u64, ctx: &CellContext<'_>) -> Result<CellOutcome> {
        let started = Instant::now();
        let c = &self.config;
        let data = self.dataset(&cell.task)?;
        let folds = KFold::new(c.outer_folds).split(data.len())?;
        let fold = folds.get(cell.fold - 1).ok_or_else(|| {
            Error::Internal(format!("no outer fold {} of {}", cell.fold, c.outer_folds))
        })?;
        let train = data.subset(&fold.train)?;
        let test = data.subset(&fold.test)?;
        let set = self.unlabeled_set()?;
        let mut notes = Vec::new();
        let mut trainings = 0;
        let mut reused_trainings = 0;

        let (chosen, search) = match SearchPlan::for_cell(c, cell) {
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
                    &train,
                    cell_seed,
                    ctx,
                    &mut notes,
                )?;
                trainings += n;
                reused_trainings += reused;
                (Some(best), search)
            }
            SearchPlan::Inner(plan) if cell.algorithm == Algorithm::NoisyStudent => {
                let (r, reused) =
                    self.shared_noisy_student_search(cell, &plan, &train, cell_seed, ctx)?;
                trainings += r.trainings;
                if reused {
                    reused_trainings += r.trainings;
                }
                notes.extend(r.notes);
                (Some(r.best), r.scores)
            }
            SearchPlan::Inner(plan) => {
                let (best, search, n) = self.search(
                    cell,
                    cell.algorithm,
                    &plan,
                    &train,
                    cell_seed,
                    ctx,
                    &mut notes,
                )?;
                trainings += n;
                (Some(best), search)
            }
        };

        // Refit the chosen configuration on the whole outer training part.
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
        let outcome = trainer.train(&train, &mut obs)?;
        drop(obs);
        trainings += trainer.config().members()
            * (1 + outcome.chain.as_ref().map_or(0, |ch| ch.students.len()));
        let pseudo_labels = outcome
            .chain
            .as_ref()
            .map_or_else(Vec::new, |ch| PseudoLabelRecord::of_chain(&ch.iterations));
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

    /// The original notebook's ensemble search: Noisy Student's inner search (exactly the one
    /// its cell of this fold runs, with its seeds) picks unl_factor, threshold and num_students;
    /// then every ensemble_size is trained on the last inner fold's training part, and the
    /// size whose last students score best on that fold's validation part wins (the smallest
    /// on a tie).
    #[allow(clippy::too_many_arguments)]
    fn search_after_noisy_student(
        &self,
        cell: &Cell,
        noisy_student: &InnerSearch,
        sizes: &[usize],
        train: &Dataset,
        cell_seed: u64,
        ctx: &CellContext<'_>,
        notes: &mut Vec<String>,
    ) -> Result<(Hyperparameters, Vec<CandidateScore>, usize, usize)> {
        let c = &self.config;
        let set = self.unlabeled_set()?;
        let ns_cell = Cell {
            algorithm: Algorithm::NoisyStudent,
            ..cell.clone()
        };
        let ns_seed = crate::runner::cell_seed(c.seed, &ns_cell);
        let (ns, reused) =
            self.shared_noisy_student_search(&ns_cell, noisy_student, train, ns_seed, ctx)?;
        notes.extend(ns.notes);
        let (ns_best, mut scores, mut trainings) = (ns.best, ns.scores, ns.trainings);
        let reused = if reused { ns.trainings } else { 0 };
        let inner = KFold::new(noisy_student.inner_folds).split(train.len())?;
        let j = inner.len() - 1;
        let inner_train = train.subset(&inner[j].train)?;
        let val = train.subset(&inner[j].test)?;
        let teacher_seed = seed::derive(
            fold_teacher_seed(c.seed, &cell.task, cell.fold),
            &["inner", &j.to_string()],
        );
        let student_seed = seed::derive(cell_seed, &["ensemble-size"]);
        let cfg = Hyperparameters {
            ensemble_size: sizes.last().copied().unwrap_or(1),
            ..ns_best
        }
        .apply(self.algo_config(
            &cell.task,
            Algorithm::Ensemble,
            student_seed,
            teacher_seed,
        )?)?;
        let split = self.split(&inner_train, &cfg, set.as_deref())?;
        let label = format!(
            "{} fold {} ensemble size, inner {}/{}",
            cell.algorithm,
            cell.fold,
            j + 1,
            inner.len()
        );
        let epochs = cfg.fit.epochs;
        let teacher = {
            let mut obs = observer(
                ctx,
                cell,
                "inner",
                label.clone(),
                epochs,
                &inner_train.labels,
                Some(&split),
            );
            self.trainer(cfg.clone(), set.as_deref(), ctx.threads)?
                .teacher(&split.labeled, &mut obs)?
        };
        trainings += teacher.len();
        let mut members = teacher.into_members();
        let mut best: Option<(f64, usize)> = None;
        for &e in sizes.iter().rev() {
            members.truncate(e);
            let teacher_e = Model::ensemble(members)?;
            let cc = Hyperparameters {
                ensemble_size: e,
                ..ns_best
            }
            .apply(cfg.clone())?;
            let mut obs = observer(
                ctx,
                cell,
                "inner",
                format!("{label} e{e}"),
                epochs,
                &inner_train.labels,
                Some(&split),
            );
            let chain = self
                .trainer(cc, set.as_deref(), ctx.threads)?
                .noisy_student(&split, &teacher_e, None, &mut obs)?;
            trainings += e * chain.students.len();
            if let Some(why) = &chain.stopped_early {
                notes.push(format!("ensemble size {e}: {why}"));
            }
            if let Some(last) = chain.students.last() {
                let a = last.accuracy(&val)?;
                if best.is_none_or(|(b, _)| a >= b) {
                    best = Some((a, e));
                }
                scores.push(CandidateScore {
                    hyperparameters: Hyperparameters {
                        ensemble_size: e,
                        num_students: chain.students.len(),
                        ..ns_best
                    },
                    inner_accuracy: vec![a],
                    mean_accuracy: a,
                    epochs,
                });
            }
            members = teacher_e.into_members();
        }
        let (_, e) = best.ok_or_else(|| Error::Cell {
            cell: cell.to_string(),
            message: "no ensemble size produced a student on the last inner fold (the unlabeled pool ran out)".into(),
            user: true,
        })?;
        Ok((
            Hyperparameters {
                ensemble_size: e,
                ..ns_best
            },
            scores,
            trainings,
            reused,
        ))
    }

    /// The Noisy Student search of `ns_cell`'s fold (`ns_cell` is the fold's Noisy Student
    /// cell, `seed` its seed): read from the fold's cache when a cell of this study finished
    /// it, else computed and kept there. Both the Noisy Student cell and the `seed` preset's
    /// Ensemble cell use it; the second is `true` when it was read, not computed.
    fn shared_noisy_student_search(
        &self,
        ns_cell: &Cell,
        plan: &InnerSearch,
        train: &Dataset,
        seed: u64,
        ctx: &CellContext<'_>,
    ) -> Result<(crate::shared::SearchResult, bool)> {
        let study = ctx.study();
        if self.share_searches {
            if let Some(r) = crate::shared::noisy_student_search(study, &ns_cell.task, ns_cell.fold)
            {
                return Ok((r, true));
            }
        }
        let mut notes = Vec::new();
        let (best, scores, trainings) = self.search(
            ns_cell,
            Algorithm::NoisyStudent,
            plan,
            train,
            seed,
            ctx,
            &mut notes,
        )?;
        let r = crate::shared::SearchResult {
            config_hash: study.hash.clone(),
            best,
            scores,
            trainings,
            notes,
        };
        if self.share_searches {
            crate::shared::keep_noisy_student_search(study, &ns_cell.task, ns_cell.fold, &r)?;
        }
        Ok((r, false))
    }

    /// The inner search of one cell, as `plan` describes it: the chosen hyperparameters,
    /// every candidate's scores, and the number of models trained.
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        cell: &Cell,
        algorithm: Algorithm,
        plan: &InnerSearch,
        train: &Dataset,
        cell_seed: u64,
        ctx: &CellContext<'_>,
        notes: &mut Vec<String>,
    ) -> Result<(Hyperparameters, Vec<CandidateScore>, usize)> {
        let inner = KFold::new(plan.inner_folds).split(train.len())?;
        let mut progress = SearchProgress {
            resumed: ctx.resumed_steps(),
            steps: Vec::new(),
            trainings: 0,
        };
        let mut chains = plan.chains.clone();
        let mut scores: Vec<CandidateScore> = Vec::new();
        for (rung, &epochs) in plan.rungs.iter().enumerate() {
            let rung_of = RungOf {
                cell,
                algorithm,
                rung,
                epochs,
                chains: &chains,
                max_students: plan.max_students(),
            };
            // accuracy[chain][students - 1][inner fold]
            let mut accuracy = vec![vec![Vec::new(); plan.max_students()]; chains.len()];
            for (j, fold) in inner.iter().enumerate() {
                // A step an earlier attempt finished gives its scores, not its trainings.
                let (step, fresh) = match progress.take_resumed(rung, j, &chains) {
                    Some(step) => (step, false),
                    None => {
                        let step =
                            self.inner_step(&rung_of, j, inner.len(), fold, train, cell_seed, ctx)?;
                        (step, true)
                    }
                };
                for (ci, chain) in step.chains.iter().enumerate() {
                    for (i, &a) in chain.students.iter().enumerate().take(plan.max_students()) {
                        accuracy[ci][i].push(a);
                    }
                }
                progress.trainings += step.trainings;
                notes.extend(step.notes.iter().cloned());
                progress.steps.push(step);
                if fresh {
                    ctx.save_steps(&progress.steps);
                }
            }
            let rung_scores = candidates(plan, &chains, &accuracy, epochs, inner.len());
            if rung + 1 < plan.rungs.len() {
                chains = keep_best(&chains, &rung_scores, plan.survivors(chains.len()));
            }
            scores.extend(rung_scores);
        }
        let last_epochs = plan.rungs.last().copied().unwrap_or_default();
        let best = best_candidate(&scores, last_epochs).ok_or_else(|| Error::Cell {
            cell: cell.to_string(),
            message: "no candidate of the search produced a student on every inner fold (the unlabeled pool ran out); lower num_students or unl_factor".into(),
            user: true,
        })?;
        Ok((best, scores, progress.trainings))
    }

    /// One inner fold `j` of one rung: the teachers of the largest ensemble the rung's chains
    /// need (trained once; smaller ensembles are their first members), then every chain's
    /// students, each scored on the fold's validation part.
    #[allow(clippy::too_many_arguments)]
    fn inner_step(
        &self,
        rung_of: &RungOf<'_>,
        j: usize,
        inner_folds: usize,
        fold: &nstudent_data::split::Fold,
        train: &Dataset,
        cell_seed: u64,
        ctx: &CellContext<'_>,
    ) -> Result<InnerStep> {
        let RungOf {
            cell,
            algorithm,
            rung,
            epochs,
            chains,
            max_students,
        } = *rung_of;
        let c = &self.config;
        let set = self.unlabeled_set()?;
        let inner_train = train.subset(&fold.train)?;
        let val = train.subset(&fold.test)?;
        let inner_seed = seed::derive(cell_seed, &["inner", &j.to_string()]);
        let inner_teacher_seed = seed::derive(
            fold_teacher_seed(c.seed, &cell.task, cell.fold),
            &["inner", &j.to_string()],
        );
        let cfg = self
            .algo_config(&cell.task, algorithm, inner_seed, inner_teacher_seed)?
            .with_epochs(epochs)?;
        let split: LabeledSplit = self.split(&inner_train, &cfg, set.as_deref())?;
        // The teachers: the largest ensemble the rung's chains need (the first chain's other
        // values, which the teachers do not use, keep the config a valid candidate).
        let first = chains
            .first()
            .ok_or_else(|| Error::Internal("a search rung without chains".into()))?;
        let largest = chains.iter().map(|ch| ch.ensemble_size).max().unwrap_or(1);
        let cfg = Chain {
            ensemble_size: largest,
            ..*first
        }
        .apply(cfg, max_students)?;
        let label = format!(
            "{} fold {} inner {}/{inner_folds}",
            cell.algorithm,
            cell.fold,
            j + 1,
        );
        let watch = |label: String| {
            observer(
                ctx,
                cell,
                "inner",
                label,
                epochs,
                &inner_train.labels,
                Some(&split),
            )
        };
        let teacher = self
            .trainer(cfg.clone(), set.as_deref(), ctx.threads)?
            .teacher(&split.labeled, &mut watch(label.clone()))?;
        let mut step = InnerStep {
            rung,
            inner_fold: j,
            chains: chains
                .iter()
                .map(|&chain| ChainScores::new(chain))
                .collect(),
            trainings: teacher.len(),
            notes: Vec::new(),
        };
        // Each member predicts the pool once; ensembles of the first e members average.
        let member_probs: Vec<Vec<f32>> = teacher
            .members()
            .iter()
            .map(|m| m.predict_proba(split.pool.view()))
            .collect::<std::result::Result<_, _>>()?;
        let mut members = teacher.into_members();
        let mut sizes: Vec<usize> = chains.iter().map(|ch| ch.ensemble_size).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes.dedup();
        for e in sizes {
            members.truncate(e);
            let teacher_e = Model::ensemble(members)?;
            let probs = mean_of_first(&member_probs, e);
            for (ci, chain) in chains
                .iter()
                .enumerate()
                .filter(|(_, ch)| ch.ensemble_size == e)
            {
                if ctx.stopping() {
                    return Err(Error::Internal(
                        "stopped because another cell failed".into(),
                    ));
                }
                let cc = chain.apply(cfg.clone(), max_students)?;
                let unl = chain
                    .unl_factor
                    .map_or_else(|| "all".into(), |u| u.to_string());
                let mut obs = watch(format!("{label} u{unl} t{} e{e}", chain.threshold));
                let students = self
                    .trainer(cc, set.as_deref(), ctx.threads)?
                    .noisy_student(&split, &teacher_e, Some(&probs), &mut obs)?;
                drop(obs);
                step.trainings += e * students.students.len();
                if let Some(why) = &students.stopped_early {
                    step.notes.push(format!("inner fold {}: {why}", j + 1));
                }
                for student in &students.students {
                    step.chains[ci].students.push(student.accuracy(&val)?);
                }
            }
            members = teacher_e.into_members();
        }
        Ok(step)
    }
}

/// What every inner fold of one rung of a search shares.
#[derive(Clone, Copy)]
struct RungOf<'a> {
    cell: &'a Cell,
    algorithm: Algorithm,
    rung: usize,
    epochs: usize,
    chains: &'a [Chain],
    max_students: usize,
}

/// The inner folds a search has scored, its checkpoint's steps, and the models trained.
struct SearchProgress {
    /// Steps an earlier attempt of the cell finished, not yet used.
    resumed: Vec<InnerStep>,
    steps: Vec<InnerStep>,
    trainings: usize,
}

impl SearchProgress {
    /// The step of `rung` and inner fold `j` an earlier attempt finished for the same chains.
    fn take_resumed(&mut self, rung: usize, j: usize, chains: &[Chain]) -> Option<InnerStep> {
        let k = self.resumed.iter().position(|s| {
            s.rung == rung
                && s.inner_fold == j
                && s.chains.iter().map(|c| c.chain).eq(chains.iter().copied())
        })?;
        Some(self.resumed.swap_remove(k))
    }
}

/// The average of the first `e` members' pool probabilities (the first member's alone for 1).
fn mean_of_first(member_probs: &[Vec<f32>], e: usize) -> Vec<f32> {
    let mut probs = member_probs[0].clone();
    for m in &member_probs[1..e] {
        probs.iter_mut().zip(m).for_each(|(s, p)| *s += p);
    }
    if e > 1 {
        probs.iter_mut().for_each(|s| *s /= e as f32);
    }
    probs
}

/// The candidates of one rung, in search order: every chain at every listed length whose
/// students scored on every inner fold.
fn candidates(
    plan: &InnerSearch,
    chains: &[Chain],
    accuracy: &[Vec<Vec<f64>>],
    epochs: usize,
    inner_folds: usize,
) -> Vec<CandidateScore> {
    let mut out = Vec::new();
    for (ci, chain) in chains.iter().enumerate() {
        for &n in &plan.num_students {
            let v = &accuracy[ci][n - 1];
            if v.len() != inner_folds {
                continue;
            }
            out.push(CandidateScore {
                hyperparameters: chain.candidate(n),
                mean_accuracy: v.iter().sum::<f64>() / v.len() as f64,
                inner_accuracy: v.clone(),
                epochs,
            });
        }
    }
    out
}

/// The `keep` chains whose best candidate scored highest (the earlier chain on a tie), in
/// search order: the chains of successive halving's next rung.
fn keep_best(chains: &[Chain], scores: &[CandidateScore], keep: usize) -> Vec<Chain> {
    let mut best: Vec<(usize, f64)> = chains
        .iter()
        .enumerate()
        .map(|(ci, ch)| {
            let b = scores
                .iter()
                .filter(|s| ch.holds(&s.hyperparameters))
                .map(|s| s.mean_accuracy)
                .fold(f64::NEG_INFINITY, f64::max);
            (ci, b)
        })
        .collect();
    best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut kept: Vec<usize> = best.iter().take(keep).map(|(ci, _)| *ci).collect();
    kept.sort_unstable();
    kept.into_iter().map(|ci| chains[ci]).collect()
}

/// The candidate of the last rung (`epochs`) with the highest mean accuracy, the earliest on a
/// tie.
fn best_candidate(scores: &[CandidateScore], epochs: usize) -> Option<Hyperparameters> {
    scores
        .iter()
        .filter(|s| s.epochs == epochs)
        .fold(None::<&CandidateScore>, |b, s| match b {
            Some(b) if b.mean_accuracy >= s.mean_accuracy => Some(b),
            _ => Some(s),
        })
        .map(|s| s.hyperparameters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use nstudent_engine::{Classifier, ModelSpec, NativeEngine};

    use crate::checkpoint;
    use crate::runner::{cell_seed, run_study, RunOptions};
    use crate::{Shard, StudyDir};

    /// The native engine, counting the models it builds, and failing the `fail_at`-th build
    /// as a kill in the middle of a cell would.
    struct Counting {
        builds: Arc<AtomicUsize>,
        fail_at: Option<usize>,
    }

    impl Engine for Counting {
        fn name(&self) -> &'static str {
            "native"
        }

        fn build(
            &self,
            spec: &ModelSpec,
            seed: u64,
        ) -> nstudent_engine::Result<Box<dyn Classifier>> {
            let n = self.builds.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fail_at == Some(n) {
                return Err(nstudent_engine::Error::Invalid("killed".into()));
            }
            NativeEngine::default().build(spec, seed)
        }

        fn load(&self, path: &std::path::Path) -> nstudent_engine::Result<Box<dyn Classifier>> {
            NativeEngine::default().load(path)
        }
    }

    /// A 3-class task of 8x8 grey images (a bright row band per class, in noise), as CSV.
    fn tiny_task(dir: &std::path::Path) -> String {
        let mut state: u32 = 99;
        let mut csv = String::new();
        for i in 0..240usize {
            let class = (i * 5 + i / 7) % 3;
            csv.push_str(&class.to_string());
            for px in 0..64usize {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = state >> 26;
                let band = px / 8 / 3 == class;
                csv.push_str(&format!(",{}", if band { 120 + noise } else { noise }));
            }
            csv.push('\n');
        }
        let path = dir.join("bands.csv");
        std::fs::write(&path, csv).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn a_cell_killed_in_its_search_resumes_from_its_checkpoint_with_the_same_result() {
        let data = tempfile::tempdir().unwrap();
        let mut c = StudyConfig::preset("quick").unwrap();
        c.tasks = vec![tiny_task(data.path())];
        c.algorithms = vec![Algorithm::NoisyStudent];
        c.outer_folds = 2;
        c.inner_folds = 2;
        c.space.unl_factor = vec![0.3];
        c.space.threshold = vec![0.5, 0.7];
        c.space.num_students = vec![1, 2];
        c.base.fit.epochs = 2;
        c.base.fit.batch_size = 16;
        c.epochs_by_source.clear();
        c.base.teacher_factor = 0.3;
        let options = RunOptions {
            shard: Shard::ALL,
            threads: nstudent_engine::Threads::ONE,
            jobs: 1,
            observer: Default::default(),
            max_cells: Some(1),
            skip_tasks: Vec::new(),
            only_cells: None,
            worker: false,
            claim_timeout: crate::runner::CLAIM_TIMEOUT,
        };
        let run = |dir: &std::path::Path, fail_at: Option<usize>| {
            let builds = Arc::new(AtomicUsize::new(0));
            let engine = Counting {
                builds: Arc::clone(&builds),
                fail_at,
            };
            let study = StudyDir::create(dir, &c, false).unwrap();
            let work = NestedCv::with_engine(&c, Box::new(engine), data.path().to_path_buf());
            let result = run_study(&study, &work, &options);
            (result, builds.load(Ordering::SeqCst))
        };
        let cell = &crate::plan::cells(&c)[0];

        let whole = tempfile::tempdir().unwrap();
        let (done, builds_whole) = run(whole.path(), None);
        done.unwrap();
        assert!(!checkpoint::path(whole.path(), cell).exists());

        // Each inner fold trains 1 teacher and 2 chains of 2 students: the 7th model is the
        // second fold's first student.
        let parts = tempfile::tempdir().unwrap();
        let (killed, _) = run(parts.path(), Some(7));
        assert!(killed.is_err());
        let owner = checkpoint::Owner {
            config_hash: c.hash(),
            seed: cell_seed(c.seed, cell),
        };
        let steps = checkpoint::read(parts.path(), cell, &owner);
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert_eq!((steps[0].inner_fold, steps[0].trainings), (0, 5));
        assert_eq!(steps[0].chains.len(), 2);

        let (resumed, builds_resumed) = run(parts.path(), None);
        resumed.unwrap();
        assert_eq!(builds_resumed, builds_whole - 5);
        assert!(!checkpoint::path(parts.path(), cell).exists());
        // The same cell file, to the last digit, but for the times.
        let text = |dir: &std::path::Path| {
            std::fs::read_to_string(dir.join(cell.relative_path()))
                .unwrap()
                .lines()
                .filter(|l| !l.contains("_seconds") && !l.contains("\"checksum\""))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (a, b) = (text(whole.path()), text(parts.path()));
        assert!(
            a.contains("\"search\"") && a.contains("inner_accuracy"),
            "{a}"
        );
        assert_eq!(a, b);
        let log = std::fs::read_to_string(parts.path().join(crate::store::LOG_FILE)).unwrap();
        assert!(
            log.contains("1 inner-search steps from the checkpoint"),
            "{log}"
        );
    }

    /// One training as the engine saw it.
    #[derive(Debug, Clone, PartialEq)]
    struct Fit {
        /// Training images.
        images: usize,
        dropout: f32,
        augment: Option<nstudent_data::augment::RandAugment>,
        /// FNV-1a over the bits of the trained model's probabilities on its training images.
        digest: u64,
    }

    impl Fit {
        /// Teachers train clean: no dropout, no augmentation.
        fn is_teacher(&self) -> bool {
            self.dropout == 0.0 && self.augment.is_none()
        }
    }

    /// The native engine, recording every training it does.
    struct Recording {
        fits: Arc<Mutex<Vec<Fit>>>,
    }

    struct RecordingClassifier {
        inner: Box<dyn Classifier>,
        fits: Arc<Mutex<Vec<Fit>>>,
    }

    impl Engine for Recording {
        fn name(&self) -> &'static str {
            "native"
        }

        fn build(
            &self,
            spec: &ModelSpec,
            seed: u64,
        ) -> nstudent_engine::Result<Box<dyn Classifier>> {
            Ok(Box::new(RecordingClassifier {
                inner: NativeEngine::default().build(spec, seed)?,
                fits: Arc::clone(&self.fits),
            }))
        }

        fn load(&self, path: &std::path::Path) -> nstudent_engine::Result<Box<dyn Classifier>> {
            NativeEngine::default().load(path)
        }
    }

    impl Classifier for RecordingClassifier {
        fn spec(&self) -> &ModelSpec {
            self.inner.spec()
        }

        fn fit(
            &mut self,
            images: nstudent_data::ImagesRef<'_>,
            targets: nstudent_engine::Targets<'_>,
            options: &nstudent_engine::FitOptions,
            progress: &mut dyn FnMut(nstudent_engine::FitProgress),
        ) -> nstudent_engine::Result<nstudent_engine::FitReport> {
            let report = self.inner.fit(images, targets, options, progress)?;
            let probs = self.inner.predict_proba(images)?;
            let digest = probs.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, p| {
                (h ^ u64::from(p.to_bits())).wrapping_mul(0x0000_0100_0000_01b3)
            });
            self.fits.lock().unwrap().push(Fit {
                images: images.len(),
                dropout: self.inner.spec().dropout,
                augment: options.augment.clone(),
                digest,
            });
            Ok(report)
        }

        fn predict_proba(
            &self,
            images: nstudent_data::ImagesRef<'_>,
        ) -> nstudent_engine::Result<Vec<f32>> {
            self.inner.predict_proba(images)
        }

        fn save(&self, path: &std::path::Path) -> nstudent_engine::Result<()> {
            self.inner.save(path)
        }
    }

    /// Runs `cell` of `study` with a recording engine: its trainings.
    fn run_cell(
        study: &StudyDir,
        c: &StudyConfig,
        data: &std::path::Path,
        cell: &Cell,
    ) -> Vec<Fit> {
        let fits = Arc::new(Mutex::new(Vec::new()));
        let engine = Recording {
            fits: Arc::clone(&fits),
        };
        let work = NestedCv::with_engine(c, Box::new(engine), data.to_path_buf());
        let options = RunOptions {
            shard: Shard::ALL,
            threads: nstudent_engine::Threads::ONE,
            jobs: 1,
            observer: Default::default(),
            max_cells: None,
            skip_tasks: Vec::new(),
            only_cells: Some(vec![cell.index]),
            worker: false,
            claim_timeout: crate::runner::CLAIM_TIMEOUT,
        };
        run_study(study, &work, &options).unwrap();
        let fits = fits.lock().unwrap().clone();
        fits
    }

    /// A small searched config on the tiny task.
    fn searched_config(data: &std::path::Path) -> StudyConfig {
        let mut c = StudyConfig::preset("quick").unwrap();
        c.tasks = vec![tiny_task(data)];
        c.outer_folds = 2;
        c.inner_folds = 2;
        c.space.unl_factor = vec![0.3];
        c.space.threshold = vec![0.5, 0.7];
        c.space.num_students = vec![1];
        c.space.ensemble_size = vec![2];
        c.base.fit.epochs = 1;
        c.base.fit.batch_size = 16;
        c.epochs_by_source.clear();
        c.base.teacher_factor = 0.3;
        c
    }

    #[test]
    fn every_fold_pseudo_labels_the_separate_unlabeled_set_and_records_its_size() {
        let data = tempfile::tempdir().unwrap();
        let mut c = searched_config(data.path());
        c.algorithms = vec![Algorithm::NoisyStudent];
        // Threshold 0 and no balancing keep every pseudo-label, whatever the one-epoch
        // teacher predicts (balancing would drop rows by the teacher's class counts, which
        // depend on its last bits).
        c.space.threshold = vec![0.0, 0.7];
        c.base.balance = crate::config::Balance::None;
        c.base.unlabeled = crate::config::UnlabeledSchedule::All;
        let other = data.path().join("unlabeled");
        std::fs::create_dir(&other).unwrap();
        c.data.unlabeled = Some(tiny_task(&other));
        let dir = tempfile::tempdir().unwrap();
        let study = StudyDir::create(dir.path(), &c, false).unwrap();
        for cell in crate::plan::cells(&c) {
            let fits = run_cell(&study, &c, data.path(), &cell);
            let outcome = study.finished(&cell).unwrap().unwrap().outcome;
            assert_eq!(outcome.unlabeled_size, Some(240));
            // Cross-validation splits only the task: 120 training rows, 36 of them labeled.
            assert_eq!(outcome.train_size, 120);
            let teachers: Vec<usize> = fits
                .iter()
                .filter(|f| f.is_teacher())
                .map(|f| f.images)
                .collect();
            assert!(teachers.iter().all(|&n| n <= 36), "{teachers:?}");
            // Students see pseudo-labels from the 240-image set: more images than the 120 of
            // a training part could give.
            let most = fits
                .iter()
                .filter(|f| !f.is_teacher())
                .map(|f| f.images)
                .max();
            assert!(most.unwrap() > 120, "{fits:?}");
        }
    }

    #[test]
    fn scrambled_test_fold_labels_change_no_choice_and_no_model() {
        let data = tempfile::tempdir().unwrap();
        let mut c = searched_config(data.path());
        c.algorithms = vec![Algorithm::NoisyStudent];
        let csv = std::path::PathBuf::from(&c.tasks[0]);
        let run = || {
            let dir = tempfile::tempdir().unwrap();
            let study = StudyDir::create(dir.path(), &c, false).unwrap();
            let cell = &crate::plan::cells(&c)[0];
            let fits = run_cell(&study, &c, data.path(), cell);
            (fits, study.finished(cell).unwrap().unwrap().outcome)
        };
        let (fits, clean) = run();
        // Fold 1's test rows are the first half (unshuffled 2-fold): give every one of them
        // another class, keeping the file the same task (its name seeds the cell).
        let text = std::fs::read_to_string(&csv).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        let half = rows.len() / 2;
        let scrambled: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let (label, pixels) = row.split_once(',').unwrap();
                if i < half {
                    let l: u32 = label.parse().unwrap();
                    format!("{},{pixels}", (l + 1) % 3)
                } else {
                    row.to_string()
                }
            })
            .collect();
        std::fs::write(&csv, scrambled.join("\n") + "\n").unwrap();
        let (fits_scrambled, leaked) = run();
        assert!(fits.len() > 3, "{fits:?}");
        assert_eq!(
            fits, fits_scrambled,
            "every model trained is the same, bit for bit"
        );
        assert_eq!(clean.hyperparameters, leaked.hyperparameters);
        assert_eq!(clean.search, leaked.search);
        // The labels did change what the test fold scores.
        assert_ne!(clean.metrics, leaked.metrics);
    }

    #[test]
    fn the_noise_reaches_the_students_and_never_the_teachers() {
        let data = tempfile::tempdir().unwrap();
        let mut c = searched_config(data.path());
        c.base.augment.magnitude = 7.0;
        c.base.student.dropout = 0.25;
        for algorithm in [Algorithm::NoisyStudent, Algorithm::Ensemble] {
            c.algorithms = vec![algorithm];
            let dir = tempfile::tempdir().unwrap();
            let study = StudyDir::create(dir.path(), &c, false).unwrap();
            let fits = run_cell(&study, &c, data.path(), &crate::plan::cells(&c)[0]);
            let (teachers, students): (Vec<&Fit>, Vec<&Fit>) = fits
                .iter()
                .partition(|f| f.dropout == 0.0 && f.augment.is_none());
            // 2 inner folds and the refit; one model each, or two for the ensemble; one
            // student per chain (2 thresholds in the inner folds).
            let members = if algorithm == Algorithm::Ensemble {
                2
            } else {
                1
            };
            assert_eq!(teachers.len(), 3 * members, "{algorithm}: {fits:?}");
            assert_eq!(
                students.len(),
                (2 * 2 + 1) * members,
                "{algorithm}: {fits:?}"
            );
            for s in students {
                assert_eq!(s.dropout, 0.25);
                let aug = s.augment.as_ref().unwrap();
                assert_eq!((aug.num_ops, aug.magnitude), (2, 7.0));
            }
            assert!(teachers.iter().all(|t| t.is_teacher()));
        }
    }

    #[test]
    fn every_algorithm_of_a_fold_starts_from_the_same_teacher_in_every_inner_fold() {
        let data = tempfile::tempdir().unwrap();
        let c = searched_config(data.path());
        assert!(
            c.base.student.dropout > 0.0,
            "students must differ from teachers"
        );
        let dir = tempfile::tempdir().unwrap();
        let study = StudyDir::create(dir.path(), &c, false).unwrap();
        // One cell per run, in study order, each with its own record of teachers.
        let mut teachers: HashMap<(usize, Algorithm), Vec<u64>> = HashMap::new();
        for cell in crate::plan::cells(&c) {
            let fits = run_cell(&study, &c, data.path(), &cell);
            let digests = fits
                .iter()
                .filter(|f| f.is_teacher())
                .map(|f| f.digest)
                .collect();
            teachers.insert((cell.fold, cell.algorithm), digests);
        }
        for fold in [1, 2] {
            let baseline = &teachers[&(fold, Algorithm::Baseline)];
            let ns = &teachers[&(fold, Algorithm::NoisyStudent)];
            let ensemble = &teachers[&(fold, Algorithm::Ensemble)];
            // Baseline: the refit. Noisy Student: inner fold 1, inner fold 2, refit. Ensemble:
            // two members for each of those.
            assert_eq!((baseline.len(), ns.len(), ensemble.len()), (1, 3, 6));
            assert_eq!(ns[2], baseline[0], "fold {fold}: refit teacher = Baseline");
            assert_eq!(
                *ns,
                vec![ensemble[0], ensemble[2], ensemble[4]],
                "fold {fold}: every first teacher = the ensemble's member 0"
            );
            assert_ne!(ensemble[0], ensemble[1], "members differ");
            assert_ne!(ns[0], ns[1], "inner folds differ");
        }
        assert_ne!(
            teachers[&(1, Algorithm::Baseline)],
            teachers[&(2, Algorithm::Baseline)]
        );
    }

    /// The search of one cell of `algorithm` under `c` on the tiny task: (the plan's count,
    /// the models the cell trained, the models the engine built), each less the refit.
    fn search_counts(c: &StudyConfig, algorithm: Algorithm) -> (usize, usize, usize) {
        let data = tempfile::tempdir().unwrap();
        let mut c = c.clone();
        c.tasks = vec![tiny_task(data.path())];
        c.algorithms = vec![algorithm];
        c.outer_folds = 2;
        c.inner_folds = 2;
        c.base.fit.batch_size = 16;
        c.epochs_by_source.clear();
        c.base.teacher_factor = 0.3;
        let builds = Arc::new(AtomicUsize::new(0));
        let engine = Counting {
            builds: Arc::clone(&builds),
            fail_at: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let study = StudyDir::create(dir.path(), &c, false).unwrap();
        let work = NestedCv::with_engine(&c, Box::new(engine), data.path().to_path_buf());
        let options = RunOptions {
            max_cells: Some(1),
            ..RunOptions::default()
        };
        run_study(&study, &work, &options).unwrap();
        let cell = &crate::plan::cells(&c)[0];
        let outcome = study.finished(cell).unwrap().unwrap().outcome;
        let h = outcome.hyperparameters.unwrap();
        let refit = h.ensemble_size * (1 + h.num_students);
        let plan = SearchPlan::for_cell(&c, cell);
        let (members, students, _) = plan.largest_refit(&c);
        let planned = plan.trainings(&c).nstudent as usize - members * (1 + students);
        let built = builds.load(Ordering::SeqCst) - refit;
        (planned, outcome.trainings - refit, built)
    }

    #[test]
    fn the_plan_counts_what_the_search_trains() {
        let mut c = StudyConfig::preset("quick").unwrap();
        c.base.unlabeled = crate::config::UnlabeledSchedule::All;
        c.space.threshold = vec![0.5, 0.9];
        c.space.num_students = vec![1, 2];
        c.space.ensemble_size = vec![1, 2];
        c.base.fit.epochs = 1;
        // A grid: 2 inner folds x (teachers + every chain's 2 students), nothing stops early.
        let (planned, trained, built) = search_counts(&c, Algorithm::NoisyStudent);
        assert_eq!((planned, trained, built), (2 * (1 + 2 * 2), 2 * 5, 2 * 5));
        let (planned, trained, built) = search_counts(&c, Algorithm::Ensemble);
        assert_eq!((planned, trained), (2 * (2 + 2 * 2 + 2 * 2 * 2), 2 * 14));
        assert_eq!(built, trained);
        // Successive halving: rungs of 1, 2 and 3 epochs keep 4, 2, then 1 chains.
        c.search = crate::config::SearchStrategy::Halving;
        c.halving.eta = 2;
        c.base.fit.epochs = 3;
        c.space.threshold = vec![0.3, 0.5, 0.7, 0.9];
        c.space.num_students = vec![1];
        let (planned, trained, built) = search_counts(&c, Algorithm::NoisyStudent);
        assert_eq!(planned, 2 * ((1 + 4) + (1 + 2) + (1 + 1)));
        assert_eq!((trained, built), (planned, planned));
        // The notebook's ensemble search runs Noisy Student's inner search even when that has
        // a single candidate (2 folds x (teacher + student)), then the largest teachers once
        // and a student chain per size on the last inner fold.
        c.search = crate::config::SearchStrategy::Grid;
        c.base.fit.epochs = 1;
        c.space.threshold = vec![0.5];
        c.space.ensemble_size = vec![2, 3];
        c.space.ensemble_search = crate::config::EnsembleSearch::AfterNoisyStudent;
        let (planned, trained, built) = search_counts(&c, Algorithm::Ensemble);
        assert_eq!(planned, 2 * (1 + 1) + 3 + (2 + 3));
        assert_eq!((trained, built), (planned, planned));
    }

    #[test]
    fn the_notebooks_ensemble_search_takes_noisy_students_choice_then_picks_a_size() {
        let data = tempfile::tempdir().unwrap();
        let mut c = StudyConfig::preset("seed").unwrap();
        c.tasks = vec![tiny_task(data.path())];
        c.outer_folds = 2;
        c.inner_folds = 2;
        c.algorithms = vec![Algorithm::NoisyStudent, Algorithm::Ensemble];
        c.space.unl_factor = vec![0.2, 0.3];
        c.space.threshold = vec![0.5, 1.0];
        c.space.num_students = vec![1, 2];
        c.space.ensemble_size = vec![2, 3];
        c.base.fit.epochs = 1;
        c.base.fit.batch_size = 16;
        c.epochs_by_source.clear();
        c.base.teacher_factor = 0.3;
        let dir = tempfile::tempdir().unwrap();
        let study = StudyDir::create(dir.path(), &c, false).unwrap();
        let work = NestedCv::with_engine(
            &c,
            Box::new(NativeEngine::default()),
            data.path().to_path_buf(),
        );
        let options = RunOptions {
            shard: Shard::ALL,
            threads: nstudent_engine::Threads::ONE,
            jobs: 1,
            observer: Default::default(),
            max_cells: None,
            skip_tasks: Vec::new(),
            only_cells: None,
            worker: false,
            claim_timeout: crate::runner::CLAIM_TIMEOUT,
        };
        run_study(&study, &work, &options).unwrap();
        let cells = crate::plan::cells(&c);
        for fold in [1, 2] {
            let get = |a: Algorithm| {
                let cell = cells
                    .iter()
                    .find(|x| x.fold == fold && x.algorithm == a)
                    .unwrap();
                study.finished(cell).unwrap().unwrap().outcome
            };
            let (ns, ensemble) = (get(Algorithm::NoisyStudent), get(Algorithm::Ensemble));
            let (h_ns, h_e) = (
                ns.hyperparameters.unwrap(),
                ensemble.hyperparameters.unwrap(),
            );
            // Noisy Student's own choice, recomputed in the ensemble's cell.
            assert_eq!(
                (h_e.unl_factor, h_e.threshold, h_e.num_students),
                (h_ns.unl_factor, h_ns.threshold, h_ns.num_students)
            );
            assert!([2, 3].contains(&h_e.ensemble_size));
            // Its search holds Noisy Student's candidates, then one score per size, measured
            // on the last inner fold only.
            let n_ns = ns.search.len();
            assert_eq!(ensemble.search[..n_ns], ns.search[..]);
            let sizes = &ensemble.search[n_ns..];
            assert_eq!(sizes.len(), 2, "{sizes:?}");
            for s in sizes {
                assert_eq!(s.inner_accuracy.len(), 1);
                assert_eq!(s.hyperparameters.threshold, h_ns.threshold);
            }
            let best = sizes
                .iter()
                .find(|s| s.hyperparameters.ensemble_size == h_e.ensemble_size)
                .unwrap();
            assert!(sizes.iter().all(|s| s.mean_accuracy <= best.mean_accuracy));
            // The cell counts what it trained: the search, the sizes and the refit.
            let plan = crate::plan::trainings(&c, Algorithm::Ensemble).nstudent as usize;
            assert!(
                ensemble.trainings <= plan,
                "{} > {plan}",
                ensemble.trainings
            );
            assert!(ensemble.trainings > ns.trainings);
        }
    }

    #[test]
    fn sharing_the_noisy_student_search_within_a_fold_changes_no_bit() {
        // A small `seed` study (every algorithm, the notebook's ensemble search) computed with
        // the fold's shared cache and without it: every cell equal in every field but the
        // times and the count of reused trainings, and the shared run trains fewer models.
        let data = tempfile::tempdir().unwrap();
        let mut c = StudyConfig::preset("seed").unwrap();
        c.tasks = vec![tiny_task(data.path())];
        c.outer_folds = 2;
        c.inner_folds = 2;
        c.space.unl_factor = vec![0.3, 0.2];
        c.space.threshold = vec![0.5, 0.7];
        c.space.num_students = vec![1, 2];
        c.space.ensemble_size = vec![2, 3];
        c.base.fit.epochs = 1;
        c.base.fit.batch_size = 16;
        c.epochs_by_source.clear();
        c.base.teacher_factor = 0.3;
        let options = RunOptions {
            shard: Shard::ALL,
            threads: nstudent_engine::Threads::ONE,
            jobs: 2,
            observer: Default::default(),
            max_cells: None,
            skip_tasks: Vec::new(),
            only_cells: None,
            worker: false,
            claim_timeout: crate::runner::CLAIM_TIMEOUT,
        };
        let run = |share: bool| {
            let dir = tempfile::tempdir().unwrap();
            let study = StudyDir::create(dir.path(), &c, false).unwrap();
            let mut work = NestedCv::with_engine(
                &c,
                Box::new(NativeEngine::default()),
                data.path().to_path_buf(),
            );
            if !share {
                work = work.without_sharing();
            }
            run_study(&study, &work, &options).unwrap();
            let records: Vec<_> = crate::plan::cells(&c)
                .iter()
                .map(|cell| study.finished(cell).unwrap().unwrap())
                .collect();
            (dir, records)
        };
        let (_a, shared) = run(true);
        let (_b, alone) = run(false);
        let comparable = |r: &crate::CellRecord| {
            let mut r = r.clone();
            r.outcome.training_seconds = 0.0;
            r.outcome.inference_seconds = 0.0;
            r.outcome.cell_seconds = 0.0;
            r.outcome.reused_trainings = 0;
            r.checksum = None;
            r
        };
        assert_eq!(shared.len(), 8);
        for (x, y) in shared.iter().zip(&alone) {
            assert_eq!(comparable(x), comparable(y), "{} fold {}", x.task, x.fold);
            assert_eq!(y.outcome.reused_trainings, 0);
        }
        // In each fold, one of the two cells read the search the other computed.
        for fold in [1, 2] {
            let reused: usize = shared
                .iter()
                .filter(|r| r.fold == fold)
                .map(|r| r.outcome.reused_trainings)
                .sum();
            let ns = shared
                .iter()
                .find(|r| r.fold == fold && r.algorithm == Algorithm::NoisyStudent)
                .unwrap();
            let refit = ns.outcome.hyperparameters.unwrap().num_students + 1;
            assert_eq!(reused, ns.outcome.trainings - refit, "fold {fold}");
        }
    }

    #[test]
    fn only_label_sorted_data_counts_as_sorted() {
        assert!(sorted_by_label(&[0, 0, 1, 2, 2]));
        assert!(!sorted_by_label(&[0, 1, 0, 2]));
        assert!(!sorted_by_label(&[3, 3, 3]));
        assert!(!sorted_by_label(&[]));
    }
}
