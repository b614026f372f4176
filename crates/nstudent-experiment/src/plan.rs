//! The cells a config implies and the number of model trainings they cost, next to what the
//! original study's protocol would spend on the same search space.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::cell::{Cell, CellRecord, Hyperparameters};
use crate::config::{
    Algorithm, EnsembleSearch, SearchSpace, SearchStrategy, StudyConfig, UnlabeledSchedule,
};

/// Every cell of the study, in order: task, then outer fold, then algorithm.
pub fn cells(config: &StudyConfig) -> Vec<Cell> {
    let mut cells = Vec::new();
    for task in &config.tasks {
        for fold in 1..=config.outer_folds {
            for &algorithm in &config.algorithms {
                cells.push(Cell {
                    index: cells.len(),
                    task: task.clone(),
                    fold,
                    algorithm,
                });
            }
        }
    }
    cells
}

/// Epochs of each rung of successive halving: `min_epochs`, times `eta` per rung, the last
/// rung always at the full `epochs`.
pub fn rungs(epochs: usize, min_epochs: usize, eta: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut e = min_epochs.max(1);
    while e < epochs {
        out.push(e);
        e = e.saturating_mul(eta.max(2));
    }
    out.push(epochs);
    out
}

/// Candidates kept after a rung of `candidates`: the best `1/eta`, at least one.
pub fn survivors(candidates: usize, eta: usize) -> usize {
    candidates.div_ceil(eta.max(2)).max(1)
}

/// Model trainings of one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trainings {
    /// What nstudent trains (an upper bound: the refit's size depends on the chosen
    /// configuration and is counted at its largest).
    pub nstudent: u64,
    /// What the original protocol trains for the same search space: every candidate
    /// (teachers and its students) from scratch, in every inner fold, plus the refit.
    pub original: u64,
}

impl std::ops::AddAssign for Trainings {
    fn add_assign(&mut self, o: Self) {
        self.nstudent += o.nstudent;
        self.original += o.original;
    }
}

/// The trainings of one cell of `algorithm` under `config`, at `training.epochs` (the count
/// differs between tasks only under successive halving, whose rungs depend on the epochs).
pub fn trainings(config: &StudyConfig, algorithm: Algorithm) -> Trainings {
    SearchPlan::new(config, algorithm, config.base.fit.epochs).trainings(config)
}

/// One chain of the search: the values that need their own training. Its i-th student is the
/// candidate of i students, so one chain of the longest length yields every shorter one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    /// `None` under `pseudo.unlabeled = "all"`, where every iteration sees the whole pool.
    pub unl_factor: Option<f64>,
    pub threshold: f64,
    /// 1 for Noisy Student.
    pub ensemble_size: usize,
}

impl Chain {
    /// The base config with this chain's values and `students` students.
    pub fn apply(
        &self,
        base: nstudent_algo::CheckedConfig,
        students: usize,
    ) -> nstudent_algo::Result<nstudent_algo::CheckedConfig> {
        self.candidate(students).apply(base)
    }

    /// The candidate of this chain's first `num_students` students.
    pub fn candidate(&self, num_students: usize) -> Hyperparameters {
        Hyperparameters {
            unl_factor: self.unl_factor,
            threshold: self.threshold,
            num_students,
            ensemble_size: self.ensemble_size,
        }
    }

    /// True when `h` is one of this chain's candidates.
    pub fn holds(&self, h: &Hyperparameters) -> bool {
        h.unl_factor == self.unl_factor
            && h.threshold == self.threshold
            && h.ensemble_size == self.ensemble_size
    }
}

/// How a cell of one algorithm chooses its hyperparameters: the one description that the
/// cell computation ([`crate::nested::NestedCv`]) follows, and that `--plan`, `status` and the
/// compute estimate count.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchPlan {
    /// An algorithm without students (the Baseline and the controls): nothing to choose;
    /// `members` models trained on the labeled part.
    Nothing { members: usize },
    /// The search space allows one candidate: no inner search.
    Fixed(Hyperparameters),
    /// An inner cross-validation over chains: a grid, or successive halving.
    Inner(InnerSearch),
    /// The original notebook's ensemble search: Noisy Student's inner search (the one its cell
    /// of the same fold runs) picks unl_factor, threshold and num_students; then every ensemble
    /// size is trained on the last inner fold.
    AfterNoisyStudent {
        noisy_student: InnerSearch,
        /// Ensemble sizes, ascending, each once.
        sizes: Vec<usize>,
    },
}

/// An inner cross-validation over chains.
#[derive(Debug, Clone, PartialEq)]
pub struct InnerSearch {
    /// The chains of the first rung, in search order: by ensemble size (ascending), then
    /// unl_factor, then threshold, as listed.
    pub chains: Vec<Chain>,
    /// The candidate lengths, as listed in `space.num_students`.
    pub num_students: Vec<usize>,
    pub inner_folds: usize,
    /// Epochs of each rung: one rung for a grid search.
    pub rungs: Vec<usize>,
    /// Successive halving keeps the best `1/eta` of the chains after each rung but the last.
    pub eta: usize,
}

impl InnerSearch {
    /// Students of every chain: the longest candidate.
    pub fn max_students(&self) -> usize {
        self.num_students.iter().copied().max().unwrap_or(1)
    }

    /// Chains kept for the next rung out of `chains`.
    pub fn survivors(&self, chains: usize) -> usize {
        survivors(chains, self.eta)
    }

    /// The chains of rung `r` for a bound on its cost: every chain in the first rung, then as
    /// many as survive, taken from the largest ensembles (which survive is known only when
    /// the search runs).
    pub fn bound_chains(&self, r: usize) -> Vec<Chain> {
        let mut alive = self.chains.len();
        for _ in 0..r {
            alive = self.survivors(alive);
        }
        let mut chains = self.chains.clone();
        chains.sort_by_key(|c| std::cmp::Reverse(c.ensemble_size));
        chains.truncate(alive);
        chains
    }

    /// Models one inner fold trains for `chains`: the largest teacher ensemble once (smaller
    /// ensembles are its first members), then every chain's students.
    pub fn step_trainings(&self, chains: &[Chain]) -> u64 {
        let teachers = chains.iter().map(|c| c.ensemble_size).max().unwrap_or(1) as u64;
        let students: u64 = chains.iter().map(|c| c.ensemble_size as u64).sum();
        teachers + students * self.max_students() as u64
    }

    /// Models the whole search trains, at most (a chain that runs out of pool stops early).
    pub fn trainings(&self) -> u64 {
        (0..self.rungs.len())
            .map(|r| self.inner_folds as u64 * self.step_trainings(&self.bound_chains(r)))
            .sum()
    }

    /// What the original protocol trains for the same space: every candidate (teachers and
    /// students) from scratch in every inner fold.
    pub fn original_trainings(&self) -> u64 {
        let per_candidate: u64 = self.num_students.iter().map(|&n| 1 + n as u64).sum();
        let members: u64 = self.chains.iter().map(|c| c.ensemble_size as u64).sum();
        self.inner_folds as u64 * members * per_candidate
    }
}

impl SearchPlan {
    /// The plan of a cell of `algorithm` whose trainings run `epochs` epochs.
    pub fn new(config: &StudyConfig, algorithm: Algorithm, epochs: usize) -> Self {
        let s = &config.space;
        if !algorithm.self_trains() {
            return SearchPlan::Nothing {
                members: config.algo_config("", algorithm).members(),
            };
        }
        if let Some(h) = only_candidate(s, algorithm, config.base.unlabeled) {
            return SearchPlan::Fixed(h);
        }
        if algorithm == Algorithm::Ensemble
            && s.ensemble_search == EnsembleSearch::AfterNoisyStudent
        {
            let mut sizes = s.ensemble_size.clone();
            sizes.sort_unstable();
            sizes.dedup();
            return SearchPlan::AfterNoisyStudent {
                noisy_student: InnerSearch::new(config, &[1], epochs),
                sizes,
            };
        }
        let sizes: Vec<usize> = match algorithm {
            Algorithm::Ensemble => {
                let mut v = s.ensemble_size.clone();
                v.sort_unstable();
                v.dedup();
                v
            }
            _ => vec![1],
        };
        SearchPlan::Inner(InnerSearch::new(config, &sizes, epochs))
    }

    /// The plan of `cell` under `config`.
    pub fn for_cell(config: &StudyConfig, cell: &Cell) -> Self {
        Self::new(config, cell.algorithm, config.epochs_for(&cell.task))
    }

    /// The largest refit this plan can choose: (models per generation, students, unl_factor).
    pub fn largest_refit(&self, config: &StudyConfig) -> (usize, usize, Option<f64>) {
        let s = &config.space;
        let max_u = s
            .unl_factors(config.base.unlabeled)
            .into_iter()
            .flatten()
            .fold(None, |m: Option<f64>, u| Some(m.map_or(u, |m| m.max(u))));
        let max_n = s.num_students.iter().copied().max().unwrap_or(1);
        match self {
            SearchPlan::Nothing { members } => (*members, 0, None),
            SearchPlan::Fixed(h) => (h.ensemble_size, h.num_students, h.unl_factor),
            SearchPlan::Inner(search) => {
                let e = search.chains.iter().map(|c| c.ensemble_size).max();
                (e.unwrap_or(1), max_n, max_u)
            }
            SearchPlan::AfterNoisyStudent { sizes, .. } => {
                (sizes.last().copied().unwrap_or(1), max_n, max_u)
            }
        }
    }

    /// Model trainings of the cell, nstudent's (at most) and the original protocol's.
    pub fn trainings(&self, config: &StudyConfig) -> Trainings {
        let (members, students, _) = self.largest_refit(config);
        let refit = (members * (1 + students)) as u64;
        let (search, original) = match self {
            SearchPlan::Nothing { .. } | SearchPlan::Fixed(_) => (0, 0),
            SearchPlan::Inner(s) => (s.trainings(), s.original_trainings()),
            SearchPlan::AfterNoisyStudent {
                noisy_student: ns,
                sizes,
            } => {
                // The largest teachers once, then a chain per size, on the last inner fold; the
                // original trains teachers per size.
                let max_n = ns.max_students() as u64;
                let sum: u64 = sizes.iter().map(|&e| e as u64).sum();
                let largest = sizes.last().copied().unwrap_or(1) as u64;
                (
                    ns.trainings() + largest + sum * max_n,
                    ns.original_trainings() + sum * (1 + max_n),
                )
            }
        };
        Trainings {
            nstudent: search + refit,
            original: original + refit,
        }
    }
}

/// The one configuration of `algorithm` the space allows, when it allows exactly one (every
/// list has a single distinct value): the inner search then has nothing to choose and is
/// skipped, so a study of fixed hyperparameters costs one training per model.
fn only_candidate(
    space: &SearchSpace,
    algorithm: Algorithm,
    schedule: UnlabeledSchedule,
) -> Option<Hyperparameters> {
    fn single<T: PartialEq + Copy>(v: &[T]) -> Option<T> {
        let first = *v.first()?;
        v.iter().all(|x| *x == first).then_some(first)
    }
    let ensemble_size = match algorithm {
        Algorithm::NoisyStudent => 1,
        Algorithm::Ensemble => single(&space.ensemble_size)?,
        Algorithm::Baseline | Algorithm::AugmentedBaseline | Algorithm::BaselineEnsemble => {
            return None
        }
    };
    Some(Hyperparameters {
        unl_factor: single(&space.unl_factors(schedule))?,
        threshold: single(&space.threshold)?,
        num_students: single(&space.num_students)?,
        ensemble_size,
    })
}

impl InnerSearch {
    fn new(config: &StudyConfig, sizes: &[usize], epochs: usize) -> Self {
        let s = &config.space;
        let mut chains = Vec::new();
        for &ensemble_size in sizes {
            for unl_factor in s.unl_factors(config.base.unlabeled) {
                for &threshold in &s.threshold {
                    chains.push(Chain {
                        unl_factor,
                        threshold,
                        ensemble_size,
                    });
                }
            }
        }
        let rungs = match config.search {
            SearchStrategy::Grid => vec![epochs],
            SearchStrategy::Halving => rungs(epochs, config.halving.min_epochs, config.halving.eta),
        };
        InnerSearch {
            chains,
            num_students: s.num_students.clone(),
            inner_folds: config.inner_folds,
            rungs,
            eta: config.halving.eta,
        }
    }
}

/// The text `nstudent run --plan` prints: the cells (with those already finished marked) and
/// the trainings they cost.
pub fn describe(config: &StudyConfig, cells: &[Cell], finished: &dyn Fn(&Cell) -> bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5}  {:<20} {:>4}  {:<18} state",
        "cell", "task", "fold", "algorithm"
    );
    let mut total = Trainings::default();
    let mut done = 0;
    for c in cells {
        let state = if finished(c) {
            done += 1;
            "done"
        } else {
            "to do"
        };
        let _ = writeln!(
            out,
            "{:>5}  {:<20} {:>4}  {:<18} {state}",
            c.index,
            c.task,
            c.fold,
            c.algorithm.name(),
        );
        total += SearchPlan::for_cell(config, c).trainings(config);
    }
    let _ = writeln!(
        out,
        "\n{} cells ({} tasks x {} outer folds x {} algorithms), {done} done, {} to do",
        cells.len(),
        config.tasks.len(),
        config.outer_folds,
        config.algorithms.len(),
        cells.len() - done
    );
    let _ = writeln!(
        out,
        "model trainings per cell (nstudent at most / original protocol):"
    );
    for &a in &config.algorithms {
        let t = trainings(config, a);
        let _ = writeln!(
            out,
            "  {:<18} {:>8} / {:>8}",
            a.name(),
            t.nstudent,
            t.original
        );
    }
    // The Noisy Student search an Ensemble cell reruns is computed once per fold when the
    // study also has the fold's Noisy Student cell (the fold's cache, `crate::shared`).
    let shared: u64 = match config.algorithms.contains(&Algorithm::NoisyStudent) {
        true => cells
            .iter()
            .map(|c| match SearchPlan::for_cell(config, c) {
                SearchPlan::AfterNoisyStudent { noisy_student, .. } => noisy_student.trainings(),
                _ => 0,
            })
            .sum(),
        false => 0,
    };
    if shared > 0 {
        let _ = writeln!(
            out,
            "shared within folds: the Ensemble cells reuse their fold's Noisy Student search, \
             {shared} trainings: {} trained in all (at most), {:.2}x fewer than without sharing",
            total.nstudent - shared,
            total.nstudent as f64 / (total.nstudent - shared).max(1) as f64
        );
        total.nstudent -= shared;
    }
    let ratio = total.original as f64 / total.nstudent.max(1) as f64;
    let saving = if total.original > total.nstudent {
        format!("{ratio:.2}x fewer")
    } else {
        "the same: nothing to share without a search".to_string()
    };
    let _ = writeln!(
        out,
        "model trainings in total: {} (nstudent, at most) vs {} (original protocol: every candidate trained from scratch) = {saving}",
        total.nstudent, total.original
    );
    out
}

/// The compute a study's unfinished cells still need, estimated from its finished ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Remaining {
    /// Estimated core-seconds (a cell's wall seconds times the threads it used) of the
    /// unfinished cells that have a finished cell of the same task and algorithm to go by.
    pub core_seconds: f64,
    /// Unfinished cells counted in `core_seconds`.
    pub estimated: usize,
    /// Unfinished cells with no finished cell of their task and algorithm: not estimated,
    /// as tasks differ in size by 20x or more.
    pub unknown: usize,
}

impl Remaining {
    /// One line for `--plan` and `status`; `None` when there is nothing left.
    pub fn describe(&self, threads: usize) -> Option<String> {
        if self.estimated + self.unknown == 0 {
            return None;
        }
        if self.estimated == 0 {
            return Some(format!(
                "compute left: unknown until a cell of each task and algorithm has finished ({} cells to do)",
                self.unknown
            ));
        }
        let hours = self.core_seconds / 3600.0;
        let mut line = format!(
            "compute left: about {hours:.1} core-hours for {} cells (the mean of the finished cells of the same task and algorithm), about {:.1} h on {threads} cores",
            self.estimated,
            hours / threads.max(1) as f64
        );
        if self.unknown > 0 {
            let _ = write!(
                line,
                "; {} more cells have no finished cell of their task and algorithm to go by",
                self.unknown
            );
        }
        Some(line)
    }
}

/// Estimates the compute `todo` still needs: each cell at the mean core-seconds of the
/// `finished` cells of its task and algorithm.
pub fn remaining(todo: &[Cell], finished: &[CellRecord]) -> Remaining {
    let mut out = Remaining::default();
    for cell in todo {
        let same: Vec<f64> = finished
            .iter()
            .filter(|r| r.task == cell.task && r.algorithm == cell.algorithm)
            .map(|r| r.outcome.cell_seconds * r.threads.max(1) as f64)
            .collect();
        if same.is_empty() {
            out.unknown += 1;
        } else {
            out.estimated += 1;
            out.core_seconds += same.iter().sum::<f64>() / same.len() as f64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_task_major_then_fold_then_algorithm() {
        let mut c = StudyConfig::preset("quick").unwrap();
        c.tasks = vec!["a".into(), "b".into()];
        c.outer_folds = 2;
        let cells = cells(&c);
        assert_eq!(cells.len(), 2 * 2 * 5);
        assert_eq!(
            (cells[7].task.as_str(), cells[7].fold, cells[7].algorithm),
            ("a", 2, Algorithm::NoisyStudent)
        );
        assert_eq!(cells[8].algorithm, Algorithm::BaselineEnsemble);
        assert!(cells.iter().enumerate().all(|(i, c)| c.index == i));
    }

    #[test]
    fn original_preset_counts() {
        let c = StudyConfig::preset("original").unwrap();
        assert_eq!(cells(&c).len(), 20 * 10 * 5);
        // Noisy Student: 3 inner folds x (1 teacher + 15 chains x 3 students) + refit (1 + 3);
        // original: 3 x 15 x (2 + 3 + 4) + 4.
        assert_eq!(
            trainings(&c, Algorithm::NoisyStudent),
            Trainings {
                nstudent: 142,
                original: 409
            }
        );
        // Ensemble: 3 x (3 teachers + 15 x 3 x (2 + 3) students) + 3 x 4; original
        // 3 x 15 x (2 + 3) x 9 + 12.
        assert_eq!(
            trainings(&c, Algorithm::Ensemble),
            Trainings {
                nstudent: 696,
                original: 2037
            }
        );
        assert_eq!(
            trainings(&c, Algorithm::Baseline),
            Trainings {
                nstudent: 1,
                original: 1
            }
        );
        // The controls: one noised Baseline; as many Baselines as the largest ensemble size.
        assert_eq!(trainings(&c, Algorithm::AugmentedBaseline).nstudent, 1);
        assert_eq!(
            trainings(&c, Algorithm::BaselineEnsemble),
            Trainings {
                nstudent: 3,
                original: 3
            }
        );
        let text = describe(&c, &cells(&c), &|cell| cell.index < 3);
        assert!(text.contains("1000 cells"), "{text}");
        assert!(text.contains("3 done, 997 to do"), "{text}");
        // 200 (task, fold) pairs x (1 + 1 + 142 + 3 + 696) and x (1 + 1 + 409 + 3 + 2037).
        assert!(text.contains("168600"), "{text}");
        assert!(text.contains("490200"), "{text}");
    }

    #[test]
    fn the_plan_counts_the_noisy_student_search_once_per_fold_in_the_seed_preset() {
        let mut c = StudyConfig::preset("seed").unwrap();
        c.tasks = vec!["a".into()];
        c.outer_folds = 2;
        let SearchPlan::AfterNoisyStudent { noisy_student, .. } =
            SearchPlan::new(&c, Algorithm::Ensemble, 5)
        else {
            panic!("the seed preset's ensemble searches after Noisy Student");
        };
        let per_fold: u64 = c
            .algorithms
            .iter()
            .map(|&a| trainings(&c, a).nstudent)
            .sum();
        let shared = 2 * noisy_student.trainings();
        let text = describe(&c, &cells(&c), &|_| false);
        assert!(
            text.contains(&format!(
                "reuse their fold's Noisy Student search, {shared} trainings: {} trained",
                2 * per_fold - shared
            )),
            "{text}"
        );
        // Without the fold's Noisy Student cell there is nothing to share.
        c.algorithms = vec![Algorithm::Ensemble];
        assert!(!describe(&c, &cells(&c), &|_| false).contains("shared within folds"));
    }

    #[test]
    fn remaining_compute_is_the_mean_of_finished_cells_of_the_same_task_and_algorithm() {
        let mut c = StudyConfig::preset("original").unwrap();
        c.tasks = vec!["a".into(), "b".into()];
        c.outer_folds = 3;
        c.algorithms = Algorithm::ORIGINAL.to_vec();
        let all = cells(&c);
        let timed = |i: usize, seconds: f64, threads: usize| {
            let mut r = crate::cell::tests_support::record(&all[i], 0.9);
            r.outcome.cell_seconds = seconds;
            r.threads = threads;
            r
        };
        // Task a: its noisy-student cells of folds 1 and 2 took 100 s x 1 thread and
        // 150 s x 2 threads (a mean of 200 core-seconds); its baseline of fold 1 took 10 s.
        let finished = [timed(1, 100.0, 1), timed(4, 150.0, 2), timed(0, 10.0, 1)];
        let done = [0, 1, 4];
        let todo: Vec<Cell> = all
            .iter()
            .filter(|c| !done.contains(&c.index))
            .cloned()
            .collect();
        let r = remaining(&todo, &finished);
        // a: 2 baselines (10 s each) and 1 noisy-student (200 s) estimated; a's 3 ensembles
        // and all 9 cells of b have nothing to go by.
        assert_eq!((r.estimated, r.unknown), (3, 12));
        assert!((r.core_seconds - 220.0).abs() < 1e-9, "{r:?}");
        let line = r.describe(2).unwrap();
        assert!(line.contains("about 0.1 core-hours for 3 cells"), "{line}");
        assert!(line.contains("12 more cells"), "{line}");
        assert_eq!(remaining(&[], &finished).describe(2), None);
        let none = remaining(&todo, &[]).describe(2).unwrap();
        assert!(
            none.contains("unknown") && none.contains("15 cells to do"),
            "{none}"
        );
    }

    #[test]
    fn a_space_with_one_candidate_costs_the_refit_only() {
        let mut c = StudyConfig::preset("original").unwrap();
        c.space.unl_factor = vec![0.2];
        c.space.threshold = vec![0.6, 0.6];
        c.space.num_students = vec![2];
        let one = |nstudent| Trainings {
            nstudent,
            original: nstudent,
        };
        assert_eq!(trainings(&c, Algorithm::NoisyStudent), one(3));
        // Two ensemble sizes are still a choice; one is not.
        assert!(trainings(&c, Algorithm::Ensemble).nstudent > 9);
        c.space.ensemble_size = vec![3];
        assert_eq!(trainings(&c, Algorithm::Ensemble), one(9));
        assert_eq!(trainings(&c, Algorithm::Baseline), one(1));
        let text = describe(&c, &cells(&c)[..3], &|_| false);
        assert!(text.contains("= the same: nothing to share"), "{text}");
    }

    #[test]
    fn the_whole_pool_schedule_does_not_search_unl_factor() {
        let mut c = StudyConfig::preset("original").unwrap();
        c.base.unlabeled = crate::config::UnlabeledSchedule::All;
        // 3 inner folds x (1 teacher + 5 thresholds x 3 students) + refit 4.
        assert_eq!(
            trainings(&c, Algorithm::NoisyStudent).nstudent,
            3 * (1 + 15) + 4
        );
        // With one threshold and one student count there is nothing left to search.
        c.space.threshold = vec![0.6];
        c.space.num_students = vec![2];
        assert_eq!(trainings(&c, Algorithm::NoisyStudent).nstudent, 3);
        let SearchPlan::Fixed(h) = SearchPlan::new(&c, Algorithm::NoisyStudent, 5) else {
            panic!("one candidate: no search");
        };
        assert_eq!(h.unl_factor, None);
        assert_eq!(
            h.table_text(Algorithm::NoisyStudent),
            "unl_factor: all, threshold: 0.6, num_of_students: 2"
        );
    }

    #[test]
    fn halving_rungs_and_counts() {
        assert_eq!(rungs(5, 1, 3), vec![1, 3, 5]);
        assert_eq!(rungs(5, 2, 3), vec![2, 5]);
        assert_eq!(rungs(1, 1, 3), vec![1]);
        assert_eq!(survivors(15, 3), 5);
        assert_eq!(survivors(2, 3), 1);
        let mut c = StudyConfig::preset("original").unwrap();
        c.search = SearchStrategy::Halving;
        c.halving.min_epochs = 2;
        // Rungs [2, 5]: 15 chains then 5 chains, each 3 students, a teacher per rung.
        let t = trainings(&c, Algorithm::NoisyStudent);
        assert_eq!(t.nstudent, 3 * ((1 + 45) + (1 + 15)) + 4);
    }
}
