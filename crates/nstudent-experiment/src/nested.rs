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
    split_labeled, AlgoConfig, AugmentConfig, Event, FitConfig, LabeledSplit, Model, ModelConfig,
    Stage, Trainer,
};
use nstudent_data::split::KFold;
use nstudent_data::Dataset;
use nstudent_engine::Engine;

use crate::cell::{CandidateScore, Cell, CellMetrics, CellOutcome, Hyperparameters};
use crate::config::{self, Algorithm, SearchStrategy, StudyConfig};
use crate::runner::{CellContext, CellWork};
use crate::{plan, seed, Error, Result};

/// The real cell computation: data from `data_dir`, models from `engine`.
pub struct NestedCv {
    config: StudyConfig,
    engine: Box<dyn Engine>,
    data_dir: PathBuf,
    datasets: Mutex<HashMap<String, Arc<Dataset>>>,
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
        }
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
        let mut train = nstudent_data::open(task, &self.data_dir)?.train;
        if sorted_by_label(&train.labels) {
            train = train.shuffled(self.config.seed);
        }
        let data = Arc::new(train);
        cache.insert(task.to_string(), Arc::clone(&data));
        Ok(data)
    }

    /// The algorithms' config for `algorithm` on `task` with the given threads and seed.
    fn algo_config(
        &self,
        task: &str,
        algorithm: Algorithm,
        threads: usize,
        seed: u64,
    ) -> AlgoConfig {
        let c = &self.config;
        AlgoConfig {
            algorithm: match algorithm {
                Algorithm::Baseline => nstudent_algo::Algorithm::Baseline,
                Algorithm::NoisyStudent => nstudent_algo::Algorithm::NoisyStudent,
                Algorithm::Ensemble => nstudent_algo::Algorithm::Ensemble,
            },
            teacher_factor: c.pseudo.teacher_factor,
            labeled_split: match c.pseudo.labeled_split {
                config::LabeledSplit::First => nstudent_algo::LabeledSplitMode::First,
                config::LabeledSplit::Stratified => nstudent_algo::LabeledSplitMode::Stratified,
            },
            unlabeled: match c.pseudo.unlabeled {
                config::UnlabeledSchedule::Slice => nstudent_algo::UnlabeledSchedule::Slices,
                config::UnlabeledSchedule::All => nstudent_algo::UnlabeledSchedule::All,
            },
            labels: match c.pseudo.labels {
                config::LabelKind::Hard => nstudent_algo::LabelKind::Hard,
                config::LabelKind::Soft => nstudent_algo::LabelKind::Soft,
            },
            temperature: c.pseudo.temperature as f32,
            balance: match c.pseudo.balance {
                config::Balance::Paper => nstudent_algo::Balance::Paper,
                config::Balance::None => nstudent_algo::Balance::None,
            },
            balance_target: None,
            relabel: c.pseudo.relabel,
            teacher: ModelConfig {
                arch: c.training.arch,
                width: c.training.width,
                dropout: 0.0,
                survival: 1.0,
            },
            student: ModelConfig {
                arch: c.training.arch,
                width: c.training.width,
                dropout: c.noise.dropout as f32,
                survival: c.noise.survival as f32,
            },
            augment: AugmentConfig {
                enabled: c.noise.augment,
                num_ops: c.noise.augment_ops,
                magnitude: c.noise.augment_magnitude as f32,
                horizontal_flip: None,
            },
            fit: FitConfig {
                epochs: c.epochs_for(task),
                batch_size: c.training.batch_size,
                learning_rate: c.training.learning_rate as f32,
                threads,
                parallel_members: threads >= 2,
            },
            seed,
            ..AlgoConfig::default()
        }
    }
}

/// Progress of one training shown on the cell's bar.
fn observer<'a>(
    ctx: &'a CellContext<'a>,
    label: String,
    epochs: usize,
) -> impl FnMut(&Event<'_>) + 'a {
    let mut current: Option<Stage> = None;
    move |event| {
        if let Event::Fit {
            stage,
            member: 0,
            progress,
        } = event
        {
            let steps_per_epoch = progress.batches_per_epoch as u64;
            if current != Some(*stage) {
                current = Some(*stage);
                let what = match stage {
                    Stage::Teacher => "teacher".to_string(),
                    Stage::Student { iteration } => format!("student {iteration}"),
                };
                ctx.start_training(&format!("{label} {what}"), epochs as u64 * steps_per_epoch);
            }
            ctx.step(progress.epoch as u64 * steps_per_epoch + progress.batch as u64);
        }
    }
}

/// One chain of the search: the hyperparameters that need their own training.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Chain {
    unl_factor: Option<f64>,
    threshold: f64,
    ensemble_size: usize,
}

/// True when the labels never decrease and at least two classes occur.
fn sorted_by_label(labels: &[u16]) -> bool {
    labels.windows(2).all(|w| w[0] <= w[1]) && labels.first() != labels.last()
}

impl CellWork for NestedCv {
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
        let mut notes = Vec::new();
        let mut trainings = 0;

        let (chosen, search) = match cell.algorithm {
            Algorithm::Baseline => (None, Vec::new()),
            a if c.space.only_candidate(a, c.pseudo.unlabeled).is_some() => {
                notes.push("inner search skipped: the search space holds one candidate".into());
                (c.space.only_candidate(a, c.pseudo.unlabeled), Vec::new())
            }
            a => {
                let (best, search, n) = self.search(cell, a, &train, cell_seed, ctx, &mut notes)?;
                trainings += n;
                (Some(best), search)
            }
        };

        // Refit the chosen configuration on the whole outer training part.
        let refit_seed = seed::derive(cell_seed, &["refit"]);
        let mut cfg = self.algo_config(&cell.task, cell.algorithm, ctx.threads, refit_seed);
        if let Some(h) = chosen {
            cfg.unl_factor = h.unl_factor.unwrap_or(cfg.unl_factor);
            cfg.threshold = h.threshold as f32;
            cfg.num_students = h.num_students;
            cfg.ensemble_size = h.ensemble_size;
        }
        let trainer = Trainer::new(self.engine.as_ref(), cfg)?;
        let mut obs = observer(
            ctx,
            format!("{} fold {} refit", cell.algorithm, cell.fold),
            trainer.config().fit.epochs,
        );
        let outcome = trainer.train(&train, &mut obs)?;
        trainings += trainer.config().members()
            * (1 + outcome.chain.as_ref().map_or(0, |ch| ch.students.len()));
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
        let model = outcome.into_final_model();
        let t0 = Instant::now();
        let proba = model.predict_proba(test.view())?;
        let inference_seconds = t0.elapsed().as_secs_f64();
        let s = nstudent_stats::metrics::score(&test.labels, &proba, test.num_classes())?;
        Ok(CellOutcome {
            hyperparameters: chosen,
            metrics: CellMetrics {
                accuracy: s.accuracy,
                tpr: s.tpr,
                fpr: s.fpr,
                precision: s.precision,
                auc: s.auc,
                pr_curve: s.pr_curve,
            },
            training_seconds,
            inference_seconds,
            search,
            trainings,
            cell_seconds: started.elapsed().as_secs_f64(),
            train_size: train.len(),
            test_size: test.len(),
            notes,
        })
    }
}

impl NestedCv {
    /// The inner search of one cell: the chosen hyperparameters, every candidate's scores, and
    /// the number of models trained.
    fn search(
        &self,
        cell: &Cell,
        algorithm: Algorithm,
        train: &Dataset,
        cell_seed: u64,
        ctx: &CellContext<'_>,
        notes: &mut Vec<String>,
    ) -> Result<(Hyperparameters, Vec<CandidateScore>, usize)> {
        let c = &self.config;
        let s = &c.space;
        let sizes: Vec<usize> = match algorithm {
            Algorithm::Ensemble => {
                let mut v = s.ensemble_size.clone();
                v.sort_unstable_by(|a, b| b.cmp(a));
                v.dedup();
                v
            }
            _ => vec![1],
        };
        let max_n = s.num_students.iter().copied().max().unwrap_or(1);
        let mut chains = Vec::new();
        for &e in sizes.iter().rev() {
            for u in s.unl_factors(c.pseudo.unlabeled) {
                for &t in &s.threshold {
                    chains.push(Chain {
                        unl_factor: u,
                        threshold: t,
                        ensemble_size: e,
                    });
                }
            }
        }
        let full = c.epochs_for(&cell.task);
        let rung_epochs = match c.search {
            SearchStrategy::Grid => vec![full],
            SearchStrategy::Halving => plan::rungs(full, c.halving.min_epochs, c.halving.eta),
        };
        let inner = KFold::new(c.inner_folds).split(train.len())?;
        let mut trainings = 0;
        let mut scores: Vec<CandidateScore> = Vec::new();
        for (r, &epochs) in rung_epochs.iter().enumerate() {
            // scores[chain][n-1][inner fold]
            let mut acc: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); max_n]; chains.len()];
            for (j, fold) in inner.iter().enumerate() {
                let inner_train = train.subset(&fold.train)?;
                let val = train.subset(&fold.test)?;
                let inner_seed = seed::derive(cell_seed, &["inner", &j.to_string()]);
                let mut cfg = self.algo_config(&cell.task, algorithm, ctx.threads, inner_seed);
                cfg.fit.epochs = epochs;
                let split: LabeledSplit = split_labeled(
                    &inner_train,
                    cfg.teacher_factor,
                    cfg.labeled_split,
                    nstudent_algo::mix(inner_seed, 0x5, 0),
                )?;
                // The largest teacher ensemble needed by the surviving chains, trained once.
                let max_e = chains.iter().map(|ch| ch.ensemble_size).max().unwrap_or(1);
                cfg.ensemble_size = max_e;
                cfg.num_students = max_n;
                let label = format!(
                    "{} fold {} inner {}/{}",
                    cell.algorithm,
                    cell.fold,
                    j + 1,
                    inner.len()
                );
                let teacher = {
                    let mut obs = observer(ctx, label.clone(), epochs);
                    Trainer::new(self.engine.as_ref(), cfg.clone())?
                        .teacher(&split.labeled, &mut obs)?
                };
                trainings += teacher.len();
                // Each member predicts the pool once; ensembles of the first e members average.
                let member_probs: Vec<Vec<f32>> = teacher
                    .members()
                    .iter()
                    .map(|m| m.predict_proba(split.pool.view()))
                    .collect::<std::result::Result<_, _>>()?;
                let mut members = teacher.into_members();
                let mut sizes_left: Vec<usize> = chains.iter().map(|ch| ch.ensemble_size).collect();
                sizes_left.sort_unstable_by(|a, b| b.cmp(a));
                sizes_left.dedup();
                for e in sizes_left {
                    members.truncate(e);
                    let teacher_e = Model::ensemble(members)?;
                    let mut probs = member_probs[0].clone();
                    for m in &member_probs[1..e] {
                        probs.iter_mut().zip(m).for_each(|(s, p)| *s += p);
                    }
                    if e > 1 {
                        probs.iter_mut().for_each(|s| *s /= e as f32);
                    }
                    for (ci, ch) in chains
                        .iter()
                        .enumerate()
                        .filter(|(_, ch)| ch.ensemble_size == e)
                    {
                        if ctx.stopping() {
                            return Err(Error::Internal(
                                "stopped because another cell failed".into(),
                            ));
                        }
                        let mut cc = cfg.clone();
                        cc.unl_factor = ch.unl_factor.unwrap_or(cc.unl_factor);
                        cc.threshold = ch.threshold as f32;
                        cc.ensemble_size = e;
                        let trainer = Trainer::new(self.engine.as_ref(), cc)?;
                        let mut obs = observer(
                            ctx,
                            format!(
                                "{label} u{} t{} e{e}",
                                ch.unl_factor
                                    .map_or_else(|| "all".into(), |u| u.to_string()),
                                ch.threshold
                            ),
                            epochs,
                        );
                        let chain =
                            trainer.noisy_student(&split, &teacher_e, Some(&probs), &mut obs)?;
                        trainings += e * chain.students.len();
                        if let Some(why) = &chain.stopped_early {
                            notes.push(format!("inner fold {}: {why}", j + 1));
                        }
                        for (i, student) in chain.students.iter().enumerate() {
                            acc[ci][i].push(student.accuracy(&val)?);
                        }
                    }
                    members = teacher_e.into_members();
                }
            }
            // Candidates of this rung, in search order.
            let mut rung_scores = Vec::new();
            for (ci, ch) in chains.iter().enumerate() {
                for &n in &s.num_students {
                    let v = &acc[ci][n - 1];
                    if v.len() != inner.len() {
                        continue;
                    }
                    rung_scores.push(CandidateScore {
                        hyperparameters: Hyperparameters {
                            unl_factor: ch.unl_factor,
                            threshold: ch.threshold,
                            num_students: n,
                            ensemble_size: ch.ensemble_size,
                        },
                        mean_accuracy: v.iter().sum::<f64>() / v.len() as f64,
                        inner_accuracy: v.clone(),
                        epochs,
                    });
                }
            }
            let last = r + 1 == rung_epochs.len();
            if !last {
                // Keep the best chains (by their best candidate) for the next rung.
                let keep = plan::survivors(chains.len(), c.halving.eta);
                let mut best: Vec<(usize, f64)> = chains
                    .iter()
                    .enumerate()
                    .map(|(ci, ch)| {
                        let b = rung_scores
                            .iter()
                            .filter(|s| {
                                s.hyperparameters.unl_factor == ch.unl_factor
                                    && s.hyperparameters.threshold == ch.threshold
                                    && s.hyperparameters.ensemble_size == ch.ensemble_size
                            })
                            .map(|s| s.mean_accuracy)
                            .fold(f64::NEG_INFINITY, f64::max);
                        (ci, b)
                    })
                    .collect();
                best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let mut kept: Vec<usize> = best.iter().take(keep).map(|(ci, _)| *ci).collect();
                kept.sort_unstable();
                chains = kept.into_iter().map(|ci| chains[ci]).collect();
            }
            scores.extend(rung_scores);
        }
        let last_epochs = *rung_epochs.last().unwrap_or(&full);
        let best = scores
            .iter()
            .filter(|s| s.epochs == last_epochs)
            .fold(None::<&CandidateScore>, |b, s| match b {
                Some(b) if b.mean_accuracy >= s.mean_accuracy => Some(b),
                _ => Some(s),
            })
            .ok_or_else(|| Error::Cell {
                cell: cell.to_string(),
                message: "no candidate of the search produced a student on every inner fold (the unlabeled pool ran out); lower num_students or unl_factor".into(),
                user: true,
            })?;
        Ok((best.hyperparameters, scores.clone(), trainings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_label_sorted_data_counts_as_sorted() {
        assert!(sorted_by_label(&[0, 0, 1, 2, 2]));
        assert!(!sorted_by_label(&[0, 1, 0, 2]));
        assert!(!sorted_by_label(&[3, 3, 3]));
        assert!(!sorted_by_label(&[]));
    }
}
