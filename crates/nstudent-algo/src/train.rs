//! Training the teachers and the Noisy Student chain.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use nstudent_data::{augment::RandAugment, Dataset, ImagesRef};
use nstudent_engine::{
    Classifier, Engine, FitOptions, FitProgress, FitReport, ModelSpec, Targets, Threads,
};
use serde::Serialize;

use crate::config::{
    AlgoConfig, Algorithm, Balance, CheckedConfig, LabelKind, PoolOrigin, UnlabeledSchedule,
};
use crate::model::Model;
use crate::pseudo::{balance_classes, pseudo_label, LabelMode, PseudoLabels};
use crate::split::{split_labeled, LabeledSplit};
use crate::{Error, Result};

/// Which model generation a training belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Stage {
    /// The first teacher (or teacher ensemble): the baseline.
    Teacher,
    /// The student(s) of Noisy Student iteration `iteration` (1-based).
    Student { iteration: usize },
}

/// What happens during training, in order, for progress bars and logs.
#[derive(Debug)]
pub enum Event<'a> {
    /// The training data was split.
    Split {
        labeled: usize,
        unlabeled: usize,
        /// Rows of the training data that keep their labels, ascending; with a pool drawn
        /// from the training data, the pool is the other rows, in order.
        labeled_rows: &'a [usize],
        /// Where the pool came from.
        pool_origin: PoolOrigin,
    },
    /// A batch of member `member` (0-based) of `stage` finished.
    Fit {
        stage: Stage,
        member: usize,
        progress: FitProgress,
    },
    /// The first teacher is trained.
    Teacher {
        model: &'a Model,
        seconds: f64,
        eval_accuracy: Option<f64>,
    },
    /// A Noisy Student iteration finished; `student` is its (ensemble) model. `kept` are the
    /// pseudo-labels that passed the threshold (pool rows, before balancing), for diagnostics
    /// an observer computes outside training.
    Iteration {
        report: &'a IterationReport,
        student: &'a Model,
        kept: &'a PseudoLabels,
    },
    /// The chain stopped before `num_students` iterations.
    Stopped { message: &'a str },
}

/// Receives [`Event`]s. Any `FnMut(&Event)` closure is an observer.
pub trait Observer {
    fn on_event(&mut self, event: &Event<'_>);
}

impl<F: FnMut(&Event<'_>)> Observer for F {
    fn on_event(&mut self, event: &Event<'_>) {
        self(event)
    }
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {
    fn on_event(&mut self, _event: &Event<'_>) {}
}

/// What one Noisy Student iteration did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IterationReport {
    /// 1-based.
    pub iteration: usize,
    /// Unlabeled rows whose pseudo-labels the student could use (all slices so far, or the
    /// whole pool).
    pub unlabeled_rows: usize,
    /// Rows the teacher predicted in this iteration (all used rows with relabeling, only the
    /// new slice without).
    pub predicted_rows: usize,
    /// Pseudo-labels per class that passed the threshold.
    pub kept_per_class: Vec<usize>,
    /// Pseudo-labeled rows per class the student trained on, after balancing.
    pub trained_per_class: Vec<usize>,
    /// Labeled rows the student trained on.
    pub labeled_rows: usize,
    /// No pseudo-label passed the threshold: the student trained on the labeled rows alone.
    pub labeled_only: bool,
    /// Wall time of the iteration (prediction, labeling, training), in seconds.
    pub seconds: f64,
    /// Accuracy of the student on the evaluation set, when one was given.
    pub eval_accuracy: Option<f64>,
    /// One report per student member.
    pub fit: Vec<FitReport>,
}

/// Every student of a Noisy Student chain: `students[i]` is the model after `i + 1` iterations.
#[derive(Debug)]
pub struct ChainOutcome {
    pub students: Vec<Model>,
    pub iterations: Vec<IterationReport>,
    /// Why the chain ran fewer than `num_students` iterations, if it did.
    pub stopped_early: Option<String>,
}

/// The result of [`Trainer::train`].
#[derive(Debug)]
pub struct TrainOutcome {
    pub algorithm: Algorithm,
    pub labeled_rows: usize,
    pub unlabeled_rows: usize,
    /// The first model(s) trained on the labeled part: the baseline, the teacher ensemble of
    /// the two ensembles, or the augmented Baseline.
    pub teacher: Model,
    pub teacher_seconds: f64,
    pub teacher_eval_accuracy: Option<f64>,
    /// `None` for the algorithms that do not self-train.
    pub chain: Option<ChainOutcome>,
    /// Wall time of the whole training, in seconds (evaluation excluded).
    pub seconds: f64,
}

impl TrainOutcome {
    /// The model the algorithm delivers: the last student, or the teacher for the baseline.
    pub fn final_model(&self) -> &Model {
        self.chain
            .as_ref()
            .and_then(|c| c.students.last())
            .unwrap_or(&self.teacher)
    }

    pub fn into_final_model(self) -> Model {
        match self.chain {
            Some(mut c) if !c.students.is_empty() => c.students.pop().unwrap_or(self.teacher),
            _ => self.teacher,
        }
    }
}

/// Runs the algorithms of one [`AlgoConfig`] with one engine.
///
/// ```no_run
/// use nstudent_algo::{AlgoConfig, Event, Trainer};
/// use nstudent_engine::NativeEngine;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let splits = nstudent_data::open("fashion-mnist", &nstudent_data::default_data_dir())?;
/// let test = splits.test.ok_or("fashion-mnist has a test split")?;
/// let engine = NativeEngine::default();
/// let trainer = Trainer::new(&engine, AlgoConfig::default())?.eval(&test);
/// let outcome = trainer.train(&splits.train, &mut |e: &Event| println!("{e:?}"))?;
/// println!("{} students", outcome.chain.map_or(0, |c| c.students.len()));
/// # Ok(())
/// # }
/// ```
pub struct Trainer<'a> {
    engine: &'a dyn Engine,
    config: CheckedConfig,
    /// The thread budget of this trainer's work, ensemble members included.
    threads: Threads,
    /// Whether ensemble members may train side by side (within `threads`).
    members_side_by_side: bool,
    eval: Option<&'a Dataset>,
    /// A separate unlabeled set and its name, replacing the pool drawn from the training data.
    unlabeled: Option<(ImagesRef<'a>, &'a str)>,
    /// When set, training stops with [`Error::Interrupted`] at the next batch.
    stop: Option<&'a AtomicBool>,
}

/// The payload that unwinds a fit out of its progress callback when the stop flag is set
/// (the engine's `fit` has no way to stop; see [`Trainer::stop_on`]).
struct StopRequested;

impl<'a> Trainer<'a> {
    /// Checks `config` for a pool drawn from the training data ([`AlgoConfig::checked`]):
    /// every out-of-range hyperparameter is rejected here, before training.
    pub fn new(engine: &'a dyn Engine, config: AlgoConfig) -> Result<Self> {
        Ok(Self::checked(engine, config.checked()?))
    }

    /// A trainer of a config checked already: nothing is checked again.
    pub fn checked(engine: &'a dyn Engine, config: CheckedConfig) -> Self {
        Self {
            engine,
            config,
            threads: Threads::all_cores(),
            members_side_by_side: true,
            eval: None,
            unlabeled: None,
            stop: None,
        }
    }

    /// A trainer whose Noisy Student pool is the separate unlabeled set `images` (named
    /// `source` in messages), the paper's setting, instead of the training rows outside the
    /// labeled part. `config` is checked for such a pool: `teacher_factor` may be 1, and
    /// `unl_factor` slices the unlabeled set.
    pub fn with_unlabeled(
        engine: &'a dyn Engine,
        config: AlgoConfig,
        images: ImagesRef<'a>,
        source: &'a str,
    ) -> Result<Self> {
        Self::checked(engine, config.check(PoolOrigin::Separate)?).unlabeled(images, source)
    }

    /// Pseudo-labels the separate unlabeled set `images` (named `source` in messages); the
    /// config must have been checked for a separate pool.
    pub fn unlabeled(mut self, images: ImagesRef<'a>, source: &'a str) -> Result<Self> {
        if self.config.origin() != PoolOrigin::Separate {
            return Err(Error::Internal(
                "a config checked for a pool from the training data was given a separate unlabeled set".into(),
            ));
        }
        self.unlabeled = Some((images, source));
        Ok(self)
    }

    /// The thread budget of every training (every core unless set). An ensemble's members
    /// share it: as many train side by side as it has threads, each with an equal part. The
    /// results are the same bits whatever the budget.
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// Trains an ensemble's members one after the other, each with the whole thread budget,
    /// instead of side by side.
    pub fn members_one_by_one(mut self) -> Self {
        self.members_side_by_side = false;
        self
    }

    /// Measures every teacher and student on `data` (reported in events and reports; the
    /// time is not counted in training times).
    pub fn eval(mut self, data: &'a Dataset) -> Self {
        self.eval = Some(data);
        self
    }

    /// Stops training when `flag` becomes true: [`Trainer::train`] then returns
    /// [`Error::Interrupted`] within one batch (or one pool prediction), and no model.
    ///
    /// The flag is read after every batch and between stages; reading it changes no result.
    /// An engine's `fit` has no way to stop, so the trainer leaves it by unwinding from the
    /// batch callback with a private payload (`resume_unwind`: no panic message) and catches
    /// exactly that payload around the fit; the half-trained model is dropped.
    pub fn stop_on(mut self, flag: &'a AtomicBool) -> Self {
        self.stop = Some(flag);
        self
    }

    /// [`Error::Interrupted`] once the stop flag is set.
    fn check_stop(&self) -> Result<()> {
        match self.stop {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(Error::Interrupted),
            _ => Ok(()),
        }
    }

    /// `model.fit`, left at the first batch after the stop flag is set.
    fn fit_stoppable(
        &self,
        model: &mut dyn Classifier,
        images: ImagesRef<'_>,
        targets: Targets<'_>,
        options: &FitOptions,
        progress: &mut dyn FnMut(FitProgress),
    ) -> Result<FitReport> {
        let Some(flag) = self.stop else {
            return Ok(model.fit(images, targets, options, progress)?);
        };
        self.check_stop()?;
        let mut checked = |p: FitProgress| {
            progress(p);
            if flag.load(Ordering::Relaxed) {
                resume_unwind(Box::new(StopRequested));
            }
        };
        match catch_unwind(AssertUnwindSafe(|| {
            model.fit(images, targets, options, &mut checked)
        })) {
            Ok(report) => Ok(report?),
            Err(payload) if payload.is::<StopRequested>() => Err(Error::Interrupted),
            Err(payload) => resume_unwind(payload),
        }
    }

    pub fn config(&self) -> &CheckedConfig {
        &self.config
    }

    /// Splits `data` per the config, trains the teacher and, unless the algorithm is the
    /// baseline, the Noisy Student chain.
    pub fn train(&self, data: &Dataset, observer: &mut dyn Observer) -> Result<TrainOutcome> {
        let start = Instant::now();
        let c = &self.config;
        let mut split =
            split_labeled(data, c.teacher_factor, c.labeled_split, Self::split_seed(c))?;
        if let Some((images, source)) = self.unlabeled {
            split = split.with_separate_pool(images, source)?;
        }
        observer.on_event(&Event::Split {
            labeled: split.labeled.len(),
            unlabeled: split.pool.len(),
            labeled_rows: &split.labeled_rows,
            pool_origin: split.pool_origin,
        });
        let teacher_start = Instant::now();
        let teacher = match c.algorithm {
            Algorithm::AugmentedBaseline => self.augmented_baseline(&split.labeled, observer)?,
            _ => self.teacher(&split.labeled, observer)?,
        };
        let teacher_seconds = teacher_start.elapsed().as_secs_f64();
        self.check_stop()?;
        let teacher_eval_accuracy = self.evaluate(&teacher)?;
        observer.on_event(&Event::Teacher {
            model: &teacher,
            seconds: teacher_seconds,
            eval_accuracy: teacher_eval_accuracy,
        });
        let chain = match c.algorithm.self_trains() {
            true => Some(self.noisy_student(&split, &teacher, None, observer)?),
            false => None,
        };
        Ok(TrainOutcome {
            algorithm: c.algorithm,
            labeled_rows: split.labeled.len(),
            unlabeled_rows: split.pool.len(),
            teacher,
            teacher_seconds,
            teacher_eval_accuracy,
            chain,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// The seed of the labeled split of [`Trainer::train`], derived from the teacher seed:
    /// callers that split the data themselves (the study's inner folds) use it to get the
    /// split `train` would make.
    pub fn split_seed(config: &AlgoConfig) -> u64 {
        mix(config.teacher_seed(), 0x5, 0)
    }

    /// Trains the first teacher on `labeled`: one clean model (seed member 0), or
    /// `ensemble_size` of them with different seeds for the two ensembles, all from
    /// [`AlgoConfig::teacher_seed`]. Member 0 of an ensemble is the baseline of the same
    /// teacher seed, bit for bit.
    pub fn teacher(&self, labeled: &Dataset, observer: &mut dyn Observer) -> Result<Model> {
        let c = &self.config;
        self.train_labeled(labeled, &c.teacher, None, c.members(), observer)
    }

    /// The augmented Baseline: one model of the student's config (its architecture and
    /// dropout) trained on `labeled` with the student's RandAugment and epochs. Its seeds are
    /// the Baseline's (member 0 of [`AlgoConfig::teacher_seed`]): the same initial weights and
    /// batch order, so that it differs from the Baseline by the noise alone.
    pub fn augmented_baseline(
        &self,
        labeled: &Dataset,
        observer: &mut dyn Observer,
    ) -> Result<Model> {
        let c = &self.config;
        let augment = c.augment.for_shape(labeled.shape);
        self.train_labeled(labeled, &c.student, augment, 1, observer)
    }

    /// `members` models of `model` trained on `labeled` with the teacher seeds (member `m`
    /// from `mix(teacher_seed, 0, m)`), averaged.
    fn train_labeled(
        &self,
        labeled: &Dataset,
        model: &crate::config::ModelConfig,
        augment: Option<RandAugment>,
        members: usize,
        observer: &mut dyn Observer,
    ) -> Result<Model> {
        let c = &self.config;
        if labeled.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: no labeled images",
                labeled.source
            )));
        }
        let spec = model.spec(labeled.shape, labeled.num_classes());
        let seeds: Vec<u64> = (0..members)
            .map(|m| mix(c.teacher_seed(), 0, m as u64))
            .collect();
        let (mut model, _) = self.train_members(
            &spec,
            labeled.view(),
            Targets::Hard(&labeled.labels),
            augment,
            &seeds,
            Stage::Teacher,
            observer,
        )?;
        model.set_class_names(&labeled.class_names);
        Ok(model)
    }

    /// Runs the Noisy Student chain from an already-trained `teacher` (single or ensemble),
    /// returning every student.
    ///
    /// `teacher_pool_probs`, if given, are the teacher's probabilities for every row of
    /// `split.pool` (row-major), computed once by the caller and reused across configurations;
    /// they replace the first iteration's predictions.
    pub fn noisy_student(
        &self,
        split: &LabeledSplit,
        teacher: &Model,
        teacher_pool_probs: Option<&[f32]>,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome> {
        let c = &self.config;
        let k = split.labeled.num_classes();
        let pool = &split.pool;
        self.check_chain_inputs(split, teacher, teacher_pool_probs)?;
        let mode = self.label_mode();
        let slice = self.rows_per_slice(split);
        let spec = c.student.spec(split.labeled.shape, k);
        let augment = c.augment.for_shape(split.labeled.shape);

        let mut students: Vec<Model> = Vec::with_capacity(c.num_students);
        let mut iterations = Vec::with_capacity(c.num_students);
        let mut stopped_early = None;
        let mut current = PseudoLabels {
            num_classes: k,
            ..PseudoLabels::default()
        };
        let mut labeled_upto = 0;
        for iteration in 1..=c.num_students {
            self.check_stop()?;
            let start = Instant::now();
            let (first_new, used) = match c.unlabeled {
                UnlabeledSchedule::Slice => {
                    ((iteration - 1) * slice, (iteration * slice).min(pool.len()))
                }
                UnlabeledSchedule::All => (0, pool.len()),
            };
            if first_new >= pool.len() {
                let message = format!(
                    "the unlabeled pool ran out: {} of {} iterations ran ({} pool rows, {slice} \
                     per iteration)",
                    iteration - 1,
                    c.num_students,
                    pool.len()
                );
                observer.on_event(&Event::Stopped { message: &message });
                stopped_early = Some(message);
                break;
            }
            let relabel = c.relabel || iteration == 1;
            let predict_from = if relabel { 0 } else { labeled_upto };
            let teacher_now = students.last().unwrap_or(teacher);
            let probs = match (iteration, teacher_pool_probs) {
                _ if predict_from == used => Vec::new(),
                (1, Some(p)) => p[predict_from * k..used * k].to_vec(),
                _ => teacher_now.predict_proba(pool.rows(predict_from..used))?,
            };
            self.check_stop()?;
            let fresh = pseudo_label(&probs, k, c.threshold as f32, mode)?;
            if relabel {
                current = fresh;
                current.rows.iter_mut().for_each(|r| *r += predict_from);
            } else {
                current.extend(&fresh, predict_from);
            }
            labeled_upto = used;
            let (mut student, trained, fit) =
                self.train_student(split, &current, iteration, (&spec, &augment), observer)?;
            student.set_class_names(&split.labeled.class_names);
            let seconds = start.elapsed().as_secs_f64();
            let report = IterationReport {
                iteration,
                unlabeled_rows: used,
                predicted_rows: used - predict_from,
                kept_per_class: current.per_class(),
                trained_per_class: trained.per_class(),
                labeled_rows: split.labeled.len(),
                labeled_only: trained.is_empty(),
                seconds,
                eval_accuracy: self.evaluate(&student)?,
                fit,
            };
            observer.on_event(&Event::Iteration {
                report: &report,
                student: &student,
                kept: &current,
            });
            iterations.push(report);
            students.push(student);
        }
        Ok(ChainOutcome {
            students,
            iterations,
            stopped_early,
        })
    }

    /// Refuses a chain that cannot run: an empty pool, a teacher of other images or classes,
    /// or teacher probabilities that do not cover the pool.
    fn check_chain_inputs(
        &self,
        split: &LabeledSplit,
        teacher: &Model,
        teacher_pool_probs: Option<&[f32]>,
    ) -> Result<()> {
        let c = &self.config;
        let k = split.labeled.num_classes();
        let pool = &split.pool;
        if pool.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: no unlabeled rows left (teacher_factor {}); lower teacher_factor",
                split.labeled.source, c.teacher_factor
            )));
        }
        if teacher.num_classes() != k || teacher.spec().input != split.labeled.shape {
            return Err(Error::Invalid(format!(
                "the teacher takes {} images of {} classes, the data has {} images of {k}",
                teacher.spec().input,
                teacher.num_classes(),
                split.labeled.shape
            )));
        }
        if let Some(p) = teacher_pool_probs {
            if p.len() != pool.len() * k {
                return Err(Error::Invalid(format!(
                    "{} teacher probabilities do not cover {} pool rows of {k} classes",
                    p.len(),
                    pool.len()
                )));
            }
        }
        Ok(())
    }

    /// Hard pseudo-labels, or soft ones at the configured temperature.
    fn label_mode(&self) -> LabelMode {
        let c = &self.config;
        match c.labels {
            LabelKind::Hard => LabelMode::Hard,
            LabelKind::Soft => LabelMode::Soft {
                temperature: c.temperature as f32,
            },
        }
    }

    /// The pool rows each iteration adds under the slice schedule (`unl_factor` of the data
    /// the slices are cut from, at least 1), or the whole pool.
    fn rows_per_slice(&self, split: &LabeledSplit) -> usize {
        let c = &self.config;
        let pool = &split.pool;
        // Slices are fractions of the data they are cut from.
        let total = match split.pool_origin {
            PoolOrigin::TrainingData => split.labeled.len() + pool.len(),
            PoolOrigin::Separate => pool.len(),
        };
        match c.unlabeled {
            UnlabeledSchedule::Slice => ((c.unl_factor * total as f64 + 1e-9) as usize).max(1),
            UnlabeledSchedule::All => pool.len(),
        }
    }

    /// One iteration's student: the kept pseudo-labels balanced (when asked), added to the
    /// labeled part, and the student's members trained on them with noise. Returns the
    /// student, the pseudo-labels it trained on, and each member's fit.
    fn train_student(
        &self,
        split: &LabeledSplit,
        current: &PseudoLabels,
        iteration: usize,
        (spec, augment): (&ModelSpec, &Option<RandAugment>),
        observer: &mut dyn Observer,
    ) -> Result<(Model, PseudoLabels, Vec<FitReport>)> {
        let c = &self.config;
        let k = split.labeled.num_classes();
        let trained = match c.balance {
            Balance::Paper => balance_classes(
                current,
                c.balance_target,
                mix(c.seed, iteration as u64, 0xba1),
            ),
            Balance::None => current.clone(),
        };
        let (images, targets) = student_data(split, &trained);
        let seeds: Vec<u64> = (0..c.members())
            .map(|m| mix(c.seed, iteration as u64, m as u64))
            .collect();
        let view = ImagesRef {
            pixels: &images,
            shape: split.labeled.shape,
        };
        let (student, fit) = self.train_members(
            spec,
            view,
            targets.as_targets(k),
            augment.clone(),
            &seeds,
            Stage::Student { iteration },
            observer,
        )?;
        Ok((student, trained, fit))
    }

    fn evaluate(&self, model: &Model) -> Result<Option<f64>> {
        self.eval.map(|d| model.accuracy(d)).transpose()
    }

    /// Builds and fits one model per seed. Members train side by side within the thread
    /// budget (as many at once as it has threads, each with an equal part) unless
    /// [`Trainer::members_one_by_one`] was asked for; the models are the same either way.
    #[allow(clippy::too_many_arguments)]
    fn train_members(
        &self,
        spec: &ModelSpec,
        images: ImagesRef<'_>,
        targets: Targets<'_>,
        augment: Option<RandAugment>,
        seeds: &[u64],
        stage: Stage,
        observer: &mut dyn Observer,
    ) -> Result<(Model, Vec<FitReport>)> {
        let fit = &self.config.fit;
        let engine = self.engine;
        let train_one = |seed: u64, threads: Threads, progress: &mut dyn FnMut(FitProgress)| {
            let mut model = engine.build(spec, seed)?;
            let options = fit.options(mix(seed, 1, 1), augment.clone(), threads);
            let report = self.fit_stoppable(model.as_mut(), images, targets, &options, progress)?;
            Ok::<_, Error>((model, report))
        };
        let (side_by_side, threads_each) = match self.members_side_by_side {
            true => self.threads.share(seeds.len()),
            false => (1, self.threads),
        };
        let mut results: Vec<Result<(Box<dyn Classifier>, FitReport)>> =
            Vec::with_capacity(seeds.len());
        for (wave, wave_seeds) in seeds.chunks(side_by_side).enumerate() {
            let first_member = wave * side_by_side;
            if wave_seeds.len() == 1 {
                let member = first_member;
                results.push(train_one(wave_seeds[0], threads_each, &mut |progress| {
                    observer.on_event(&Event::Fit {
                        stage,
                        member,
                        progress,
                    })
                }));
                continue;
            }
            let (tx, rx) = mpsc::channel::<(usize, FitProgress)>();
            std::thread::scope(|scope| {
                let handles: Vec<_> = wave_seeds
                    .iter()
                    .enumerate()
                    .map(|(i, &seed)| {
                        let tx = tx.clone();
                        let train_one = &train_one;
                        let member = first_member + i;
                        scope.spawn(move || {
                            train_one(seed, threads_each, &mut |p| {
                                let _ = tx.send((member, p));
                            })
                        })
                    })
                    .collect();
                drop(tx);
                for (member, progress) in rx {
                    observer.on_event(&Event::Fit {
                        stage,
                        member,
                        progress,
                    });
                }
                results.extend(handles.into_iter().map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::Internal("a training thread panicked".into()))
                    })
                }));
            });
        }
        let mut members = Vec::with_capacity(seeds.len());
        let mut reports = Vec::with_capacity(seeds.len());
        for r in results {
            let (m, rep) = r?;
            members.push(m);
            reports.push(rep);
        }
        Ok((Model::ensemble(members)?, reports))
    }
}

/// Targets of a student's training set, owned.
enum OwnedTargets {
    Hard(Vec<u16>),
    Soft(Vec<f32>),
}

impl OwnedTargets {
    fn as_targets(&self, classes: usize) -> Targets<'_> {
        match self {
            OwnedTargets::Hard(l) => Targets::Hard(l),
            OwnedTargets::Soft(p) => Targets::Soft { probs: p, classes },
        }
    }
}

/// The labeled rows followed by the pseudo-labeled pool rows, with their targets. With soft
/// pseudo-labels, the true labels become one-hot vectors.
fn student_data(split: &LabeledSplit, pseudo: &PseudoLabels) -> (Vec<u8>, OwnedTargets) {
    let labeled = &split.labeled;
    let n = labeled.shape.len();
    let k = labeled.num_classes();
    let mut images = Vec::with_capacity((labeled.len() + pseudo.len()) * n);
    images.extend_from_slice(&labeled.images);
    for &r in &pseudo.rows {
        images.extend_from_slice(split.pool.image(r));
    }
    let targets = match &pseudo.soft {
        None => {
            let mut l = labeled.labels.clone();
            l.extend_from_slice(&pseudo.classes);
            OwnedTargets::Hard(l)
        }
        Some(soft) => {
            let mut p = vec![0.0f32; labeled.len() * k];
            for (i, &l) in labeled.labels.iter().enumerate() {
                p[i * k + usize::from(l)] = 1.0;
            }
            p.extend_from_slice(soft);
            OwnedTargets::Soft(p)
        }
    };
    (images, targets)
}

/// A seed for one random stream, derived from the run's seed and two tags (splitmix64), so
/// streams are independent and adding members or iterations does not shift the others.
pub fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let z = seed
        ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F).rotate_left(17);
    nstudent_data::seed::splitmix64(nstudent_data::seed::splitmix64(z))
}

#[cfg(test)]
#[test]
fn mixed_seeds_are_pinned() {
    // Every member's and student's seed comes from these: a change would change the results.
    assert_eq!(mix(7, 1, 1), 8_828_205_598_390_080_535);
    assert_eq!(mix(0, 5, 0), 1_428_740_210_282_922_284);
    assert_eq!(mix(u64::MAX, 3, 9), 3_996_619_985_968_536_704);
}
