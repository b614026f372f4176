//! The inner search of a cell: the candidates of the search space scored on the inner folds
//! of the outer training part (grid or successive halving), the Noisy Student search shared by
//! a fold's cells, and the original notebook's ensemble search after it.

use super::*;

impl NestedCv {
    /// The original notebook's ensemble search: Noisy Student's inner search (exactly the one
    /// its cell of this fold runs, with its seeds) picks unl_factor, threshold and num_students;
    /// then every ensemble_size is trained on the last inner fold's training part, and the
    /// size whose last students score best on that fold's validation part wins (the smallest
    /// on a tie).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn search_after_noisy_student(
        &self,
        cell: &Cell,
        noisy_student: &InnerSearch,
        sizes: &[usize],
        train: &Dataset,
        cell_seed: u64,
        ctx: &CellContext<'_>,
        notes: &mut Vec<String>,
    ) -> Result<(Hyperparameters, Vec<CandidateScore>, usize, usize)> {
        let set = self.unlabeled_set()?;
        let (ns, reused) = self.fold_noisy_student_search(cell, noisy_student, train, ctx)?;
        notes.extend(ns.notes);
        let (ns_best, mut scores, mut trainings) = (ns.best, ns.scores, ns.trainings);
        let reused = if reused { ns.trainings } else { 0 };
        let inner = KFold::new(noisy_student.inner_folds).split(train.len())?;
        let j = inner.len() - 1;
        let inner_train = train.subset(&inner[j].train)?;
        let val = train.subset(&inner[j].test)?;
        let teacher_seed = self.inner_teacher_seed(cell, j);
        let student_seed = seed::derive(cell_seed, &["ensemble-size"]);
        let largest = sizes.last().copied().unwrap_or(1);
        let cfg = self.algo_config(&cell.task, Algorithm::Ensemble, student_seed, teacher_seed)?;
        let cfg = Hyperparameters {
            ensemble_size: largest,
            ..ns_best
        }
        .apply(cfg)?;
        let split = self.split(&inner_train, &cfg, set.as_deref())?;
        let label = format!(
            "{} fold {} ensemble size, inner {}/{}",
            cell.algorithm,
            cell.fold,
            j + 1,
            inner.len()
        );
        let epochs = cfg.fit.epochs;
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
        trainings += teacher.len();
        let mut best: Option<(f64, usize)> = None;
        for_each_ensemble_size(teacher, sizes, |e, teacher_e| {
            let cc = Hyperparameters {
                ensemble_size: e,
                ..ns_best
            }
            .apply(cfg.clone())?;
            let chain = self
                .trainer(cc, set.as_deref(), ctx.threads)?
                .noisy_student(&split, teacher_e, None, &mut watch(format!("{label} e{e}")))?;
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
            Ok(())
        })?;
        let (_, e) = best.ok_or_else(|| Error::Cell {
            cell: cell.to_string(),
            message: "no ensemble size produced a student on the last inner fold (the unlabeled pool ran out)".into(),
            kind: nstudent_core::ErrorKind::Usage,
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

    /// The teacher seed of inner fold `j` of the cell's outer fold: the same for every cell of
    /// the fold, so that their inner teachers are the same models.
    fn inner_teacher_seed(&self, cell: &Cell, j: usize) -> u64 {
        let c = self.study.config();
        seed::derive(
            fold_teacher_seed(c.seed, &cell.task, cell.fold),
            &["inner", &j.to_string()],
        )
    }

    /// The Noisy Student search of the cell's fold, exactly as the fold's Noisy Student cell
    /// runs it (its cell, its seed), shared through the fold's cache.
    fn fold_noisy_student_search(
        &self,
        cell: &Cell,
        plan: &InnerSearch,
        train: &Dataset,
        ctx: &CellContext<'_>,
    ) -> Result<(crate::shared::SearchResult, bool)> {
        let ns_cell = Cell {
            algorithm: Algorithm::NoisyStudent,
            ..cell.clone()
        };
        let ns_seed = crate::runner::cell_seed(self.study.config().seed, &ns_cell);
        self.shared_noisy_student_search(&ns_cell, plan, train, ns_seed, ctx)
    }

    /// The Noisy Student search of `ns_cell`'s fold (`ns_cell` is the fold's Noisy Student
    /// cell, `seed` its seed): read from the fold's cache when a cell of this study finished
    /// it, else computed and kept there. Both the Noisy Student cell and the `seed` preset's
    /// Ensemble cell use it; the second is `true` when it was read, not computed.
    pub(super) fn shared_noisy_student_search(
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
            config_hash: study.hash().to_string(),
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
    pub(super) fn search(
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
            kind: nstudent_core::ErrorKind::Usage,
        })?;
        Ok((best, scores, progress.trainings))
    }

    /// One inner fold `j` of one rung: the teachers of the largest ensemble the rung's chains
    /// need (trained once; smaller ensembles are their first members), then every chain's
    /// students, each scored on the fold's validation part.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn inner_step(
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
        let set = self.unlabeled_set()?;
        let inner_train = train.subset(&fold.train)?;
        let val = train.subset(&fold.test)?;
        let inner_seed = seed::derive(cell_seed, &["inner", &j.to_string()]);
        let inner_teacher_seed = self.inner_teacher_seed(cell, j);
        let cfg = self
            .algo_config(&cell.task, algorithm, inner_seed, inner_teacher_seed)?
            .with_epochs(epochs)?;
        let split: LabeledSplit = self.split(&inner_train, &cfg, set.as_deref())?;
        let cfg = largest_ensemble(chains, cfg, max_students)?;
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
        let member_probs = members_pool_probabilities(&teacher, &split)?;
        let mut sizes: Vec<usize> = chains.iter().map(|ch| ch.ensemble_size).collect();
        sizes.sort_unstable();
        sizes.dedup();
        for_each_ensemble_size(teacher, &sizes, |e, teacher_e| {
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
                    .noisy_student(&split, teacher_e, Some(&probs), &mut obs)?;
                drop(obs);
                step.trainings += e * students.students.len();
                if let Some(why) = &students.stopped_early {
                    step.notes.push(format!("inner fold {}: {why}", j + 1));
                }
                for student in &students.students {
                    step.chains[ci].students.push(student.accuracy(&val)?);
                }
            }
            Ok(())
        })?;
        Ok(step)
    }
}

/// The teachers' config of a rung's inner fold: the largest ensemble the rung's chains need
/// (the first chain's other values, which the teachers do not use, keep the config a valid
/// candidate).
fn largest_ensemble(
    chains: &[Chain],
    cfg: nstudent_algo::CheckedConfig,
    max_students: usize,
) -> Result<nstudent_algo::CheckedConfig> {
    let first = chains
        .first()
        .ok_or_else(|| Error::Internal("a search rung without chains".into()))?;
    let largest = chains.iter().map(|ch| ch.ensemble_size).max().unwrap_or(1);
    Ok(Chain {
        ensemble_size: largest,
        ..*first
    }
    .apply(cfg, max_students)?)
}

/// Each teacher member's probabilities for every pool row (row-major).
fn members_pool_probabilities(teacher: &Model, split: &LabeledSplit) -> Result<Vec<Vec<f32>>> {
    Ok(teacher
        .members()
        .iter()
        .map(|m| m.predict_proba(split.pool.view()))
        .collect::<std::result::Result<_, _>>()?)
}

/// The one loop over ensemble sizes of an inner fold. `teacher` holds the members of the
/// largest size, trained once; for each size in `sizes` (ascending, as the search space lists
/// them), largest first, `run` gets the ensemble of the first `e` members: the smaller
/// ensembles are the larger ones' first members, so no teacher is trained twice.
fn for_each_ensemble_size(
    teacher: Model,
    sizes: &[usize],
    mut run: impl FnMut(usize, &Model) -> Result<()>,
) -> Result<()> {
    let mut members = teacher.into_members();
    for &e in sizes.iter().rev() {
        members.truncate(e);
        let teacher_e = Model::ensemble(members)?;
        run(e, &teacher_e)?;
        members = teacher_e.into_members();
    }
    Ok(())
}

/// What every inner fold of one rung of a search shares.
#[derive(Clone, Copy)]
pub(super) struct RungOf<'a> {
    cell: &'a Cell,
    algorithm: Algorithm,
    rung: usize,
    epochs: usize,
    chains: &'a [Chain],
    max_students: usize,
}

/// The inner folds a search has scored, its checkpoint's steps, and the models trained.
pub(super) struct SearchProgress {
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
pub(super) fn mean_of_first(member_probs: &[Vec<f32>], e: usize) -> Vec<f32> {
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
pub(super) fn candidates(
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
pub(super) fn keep_best(chains: &[Chain], scores: &[CandidateScore], keep: usize) -> Vec<Chain> {
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
pub(super) fn best_candidate(scores: &[CandidateScore], epochs: usize) -> Option<Hyperparameters> {
    scores
        .iter()
        .filter(|s| s.epochs == epochs)
        .fold(None::<&CandidateScore>, |b, s| match b {
            Some(b) if b.mean_accuracy >= s.mean_accuracy => Some(b),
            _ => Some(s),
        })
        .map(|s| s.hyperparameters)
}
