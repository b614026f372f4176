//! The cells a config implies and the number of model trainings they cost, next to what the
//! original study's protocol would spend on the same search space.

use std::fmt::Write as _;

use crate::cell::{Cell, CellRecord};
use crate::config::{Algorithm, EnsembleSearch, SearchStrategy, StudyConfig};

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

/// The trainings of one cell of `algorithm` under `config` (same for every task and fold
/// except for the epochs, which do not change the count).
pub fn trainings(config: &StudyConfig, algorithm: Algorithm) -> Trainings {
    let s = &config.space;
    let inner = config.inner_folds as u64;
    let max_n = s.num_students.iter().copied().max().unwrap_or(1) as u64;
    let sizes: Vec<u64> = match algorithm {
        Algorithm::Baseline => {
            return Trainings {
                nstudent: 1,
                original: 1,
            }
        }
        Algorithm::NoisyStudent => vec![1],
        Algorithm::Ensemble => s.ensemble_size.iter().map(|&e| e as u64).collect(),
    };
    let max_e = sizes.iter().copied().max().unwrap_or(1);
    let grid = (s.unl_factors(config.pseudo.unlabeled).len() * s.threshold.len()) as u64;
    let refit = max_e * (1 + max_n);
    if algorithm == Algorithm::Ensemble
        && s.ensemble_search == EnsembleSearch::AfterNoisyStudent
        && s.only_candidate(algorithm, config.pseudo.unlabeled)
            .is_none()
    {
        // Noisy Student's search, then every size on the last inner fold (its teachers
        // shared in nstudent, trained per size in the original), then the refit.
        let ns = trainings(config, Algorithm::NoisyStudent);
        let ns_refit = 1 + max_n;
        let sizes_sum: u64 = sizes.iter().sum();
        return Trainings {
            nstudent: ns.nstudent - ns_refit + max_e + sizes_sum * max_n + refit,
            original: ns.original - ns_refit + sizes_sum * (1 + max_n) + refit,
        };
    }
    if s.only_candidate(algorithm, config.pseudo.unlabeled)
        .is_some()
    {
        // Nothing to choose: no inner search, as the original protocol would need neither.
        return Trainings {
            nstudent: refit,
            original: refit,
        };
    }
    let sum_n: u64 = s.num_students.iter().map(|&n| 1 + n as u64).sum();
    let original = inner * grid * sizes.iter().map(|e| e * sum_n).sum::<u64>() + refit;
    let per_inner = match config.search {
        // Teachers are shared by every chain of an inner fold; one chain of the longest
        // length yields every shorter candidate.
        SearchStrategy::Grid => max_e + grid * max_n * sizes.iter().sum::<u64>(),
        SearchStrategy::Halving => {
            let epochs = config.training.epochs;
            let r = rungs(epochs, config.halving.min_epochs, config.halving.eta);
            let mut chains = (grid as usize) * sizes.len();
            let mut total = 0;
            for _ in &r {
                total += max_e + chains as u64 * max_n * max_e;
                chains = survivors(chains, config.halving.eta);
            }
            total
        }
    };
    Trainings {
        nstudent: inner * per_inner + refit,
        original,
    }
}

/// The text `nstudent run --plan` prints: the cells (with those already finished marked) and
/// the trainings they cost.
pub fn describe(config: &StudyConfig, cells: &[Cell], finished: &dyn Fn(&Cell) -> bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5}  {:<20} {:>4}  {:<14} state",
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
            "{:>5}  {:<20} {:>4}  {:<14} {state}",
            c.index,
            c.task,
            c.fold,
            c.algorithm.name(),
        );
        total += trainings(config, c.algorithm);
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
            "  {:<14} {:>8} / {:>8}",
            a.name(),
            t.nstudent,
            t.original
        );
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
        assert_eq!(cells.len(), 2 * 2 * 3);
        assert_eq!(
            (cells[4].task.as_str(), cells[4].fold, cells[4].algorithm),
            ("a", 2, Algorithm::NoisyStudent)
        );
        assert!(cells.iter().enumerate().all(|(i, c)| c.index == i));
    }

    #[test]
    fn original_preset_counts() {
        let c = StudyConfig::preset("original").unwrap();
        assert_eq!(cells(&c).len(), 20 * 10 * 3);
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
        let text = describe(&c, &cells(&c), &|cell| cell.index < 3);
        assert!(text.contains("600 cells"), "{text}");
        assert!(text.contains("3 done, 597 to do"), "{text}");
        assert!(text.contains("167800"), "{text}");
        assert!(text.contains("489400"), "{text}");
    }

    #[test]
    fn remaining_compute_is_the_mean_of_finished_cells_of_the_same_task_and_algorithm() {
        let mut c = StudyConfig::preset("original").unwrap();
        c.tasks = vec!["a".into(), "b".into()];
        c.outer_folds = 3;
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
        c.pseudo.unlabeled = crate::config::UnlabeledSchedule::All;
        // 3 inner folds x (1 teacher + 5 thresholds x 3 students) + refit 4.
        assert_eq!(
            trainings(&c, Algorithm::NoisyStudent).nstudent,
            3 * (1 + 15) + 4
        );
        // With one threshold and one student count there is nothing left to search.
        c.space.threshold = vec![0.6];
        c.space.num_students = vec![2];
        assert_eq!(trainings(&c, Algorithm::NoisyStudent).nstudent, 3);
        let h = c
            .space
            .only_candidate(Algorithm::NoisyStudent, c.pseudo.unlabeled)
            .unwrap();
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
