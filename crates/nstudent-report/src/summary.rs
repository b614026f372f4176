//! Per-(task, algorithm) aggregates of a metrics table: what every table, chart and sheet of
//! the report is drawn from.

use std::collections::HashMap;

use nstudent_stats::table::{lower_is_better, MetricsTable, METRICS};

use crate::settings::{ChosenSettings, SettingValue, Settings};

/// Number of metric columns in the table.
pub const N_METRICS: usize = METRICS.len();

/// The folds of one (task, algorithm) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Fold numbers, in table order.
    pub folds: Vec<usize>,
    /// Chosen hyperparameters per fold, in table order; `None` where the row has none.
    pub hyperparameters: Vec<Option<Settings>>,
    /// Per metric (in [`METRICS`] order), the value of every fold in table order.
    pub values: [Vec<f64>; N_METRICS],
}

impl Cell {
    /// Mean over the folds of a metric; NaN when any fold's value is not finite.
    pub fn mean(&self, metric: usize) -> f64 {
        mean(&self.values[metric])
    }

    /// Sample standard deviation (n - 1 in the denominator, as pandas' `std`) over the folds;
    /// NaN with fewer than two folds.
    pub fn std(&self, metric: usize) -> f64 {
        sample_std(&self.values[metric])
    }
}

/// The table grouped by task and algorithm, in order of first appearance.
#[derive(Debug, Clone)]
pub struct Summary {
    pub datasets: Vec<String>,
    pub algorithms: Vec<String>,
    /// `cells[d * algorithms.len() + a]`; `None` where the table has no row for the pair.
    cells: Vec<Option<Cell>>,
    /// Rows that repeat a (task, algorithm, fold) triple already seen.
    pub duplicate_rows: usize,
    pub rows: usize,
}

impl Summary {
    /// The table's summary, its hyperparameters read from its text column.
    pub fn new(table: &MetricsTable) -> Self {
        Self::with_chosen(table, &[])
    }

    /// The table's summary with the hyperparameters its study chose: a row's come from the
    /// entry of `chosen` with its dataset, algorithm and fold, as typed values; only a row
    /// without one has its text column read ([`Settings::parse`]).
    pub fn with_chosen(table: &MetricsTable, chosen: &[ChosenSettings]) -> Self {
        let typed: HashMap<(&str, &str, usize), &Option<Settings>> = chosen
            .iter()
            .map(|c| {
                (
                    (c.dataset.as_str(), c.algorithm.as_str(), c.fold),
                    &c.settings,
                )
            })
            .collect();
        let datasets = table.datasets();
        let algorithms = table.algorithms();
        let mut cells: Vec<Option<Cell>> = vec![None; datasets.len() * algorithms.len()];
        let mut duplicate_rows = 0;
        for row in &table.rows {
            let d = position(&datasets, &row.dataset);
            let a = position(&algorithms, &row.algorithm);
            let cell = cells[d * algorithms.len() + a].get_or_insert_with(|| Cell {
                folds: Vec::new(),
                hyperparameters: Vec::new(),
                values: Default::default(),
            });
            if cell.folds.contains(&row.fold) {
                duplicate_rows += 1;
            }
            cell.folds.push(row.fold);
            let settings =
                match typed.get(&(row.dataset.as_str(), row.algorithm.as_str(), row.fold)) {
                    Some(settings) => (*settings).clone(),
                    None => Settings::parse(&row.hyperparameters),
                };
            cell.hyperparameters.push(settings);
            for (m, name) in METRICS.iter().enumerate() {
                cell.values[m].push(row.metric(name).unwrap_or(f64::NAN));
            }
        }
        Self {
            datasets,
            algorithms,
            cells,
            duplicate_rows,
            rows: table.rows.len(),
        }
    }

    pub fn cell(&self, dataset: usize, algorithm: usize) -> Option<&Cell> {
        self.cells[dataset * self.algorithms.len() + algorithm].as_ref()
    }

    /// (task, algorithm) pairs without any row.
    pub fn missing_cells(&self) -> Vec<(&str, &str)> {
        let mut missing = Vec::new();
        for (d, dataset) in self.datasets.iter().enumerate() {
            for (a, algorithm) in self.algorithms.iter().enumerate() {
                if self.cell(d, a).is_none() {
                    missing.push((dataset.as_str(), algorithm.as_str()));
                }
            }
        }
        missing
    }

    /// Distinct numbers of folds per cell, ascending (one value when the study is complete).
    pub fn fold_counts(&self) -> Vec<usize> {
        let mut counts: Vec<usize> = self.cells.iter().flatten().map(|c| c.folds.len()).collect();
        counts.sort_unstable();
        counts.dedup();
        counts
    }

    /// Number of metric values in the table that are NaN or infinite.
    pub fn non_finite_values(&self) -> usize {
        self.cells
            .iter()
            .flatten()
            .flat_map(|c| c.values.iter().flatten())
            .filter(|v| !v.is_finite())
            .count()
    }

    /// The algorithms with the best mean of `metric` on a task (several when tied); empty when
    /// no algorithm has a finite mean.
    pub fn best(&self, dataset: usize, metric: usize) -> Vec<usize> {
        let means: Vec<f64> = (0..self.algorithms.len())
            .map(|a| self.cell(dataset, a).map_or(f64::NAN, |c| c.mean(metric)))
            .collect();
        best_of(&means, lower_is_better(METRICS[metric]))
    }

    /// Per algorithm, the mean over tasks of the per-task means (NaN when a task lacks it).
    pub fn mean_over_tasks(&self, metric: usize) -> Vec<f64> {
        (0..self.algorithms.len())
            .map(|a| {
                let per_task: Vec<f64> = (0..self.datasets.len())
                    .map(|d| self.cell(d, a).map_or(f64::NAN, |c| c.mean(metric)))
                    .collect();
                mean(&per_task)
            })
            .collect()
    }

    /// Per algorithm, the mean rank (1 = best, ties get the average rank) over the tasks where
    /// every algorithm has a finite mean; with the number of tasks used.
    pub fn mean_ranks(&self, metric: usize) -> (Vec<f64>, usize) {
        let n_alg = self.algorithms.len();
        let mut sums = vec![0.0; n_alg];
        let mut used = 0;
        for d in 0..self.datasets.len() {
            let means: Vec<f64> = (0..n_alg)
                .map(|a| self.cell(d, a).map_or(f64::NAN, |c| c.mean(metric)))
                .collect();
            if means.iter().any(|v| !v.is_finite()) {
                continue;
            }
            used += 1;
            for (s, r) in sums
                .iter_mut()
                .zip(ranks(&means, lower_is_better(METRICS[metric])))
            {
                *s += r;
            }
        }
        let ranks = sums
            .into_iter()
            .map(|s| if used == 0 { f64::NAN } else { s / used as f64 })
            .collect();
        (ranks, used)
    }

    /// True when some row names chosen hyperparameters (not `None` or empty).
    pub fn has_hyperparameters(&self) -> bool {
        self.cells
            .iter()
            .flatten()
            .flat_map(|c| &c.hyperparameters)
            .any(Option::is_some)
    }

    /// Per algorithm that has hyperparameters: for each hyperparameter name (in order of first
    /// appearance), how often each value was chosen (values in order of first appearance).
    pub fn hyperparameter_counts(&self) -> Vec<(usize, HyperparameterCounts)> {
        let mut out = Vec::new();
        for a in 0..self.algorithms.len() {
            let mut counts = HyperparameterCounts::default();
            for d in 0..self.datasets.len() {
                let Some(cell) = self.cell(d, a) else {
                    continue;
                };
                for settings in cell.hyperparameters.iter().flatten() {
                    counts.folds += 1;
                    for setting in &settings.0 {
                        let (name, value) = (&setting.name, &setting.value);
                        let slot = match counts.names.iter().position(|(n, _)| n == name) {
                            Some(i) => i,
                            None => {
                                counts.names.push((name.clone(), Vec::new()));
                                counts.names.len() - 1
                            }
                        };
                        let values = &mut counts.names[slot].1;
                        match values.iter_mut().find(|(v, _)| v == value) {
                            Some((_, n)) => *n += 1,
                            None => values.push((value.clone(), 1)),
                        }
                    }
                }
            }
            if counts.folds > 0 {
                out.push((a, counts));
            }
        }
        out
    }
}

/// How often each hyperparameter value was chosen for one algorithm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HyperparameterCounts {
    /// Folds with hyperparameters.
    pub folds: usize,
    /// (name, [(value, times chosen)]).
    pub names: Vec<(String, Vec<(SettingValue, usize)>)>,
}

fn position(names: &[String], name: &str) -> usize {
    names
        .iter()
        .position(|n| n == name)
        .expect("names come from the same table")
}

pub use nstudent_stats::describe::{mean, sample_std};

/// Quantile `q` in [0, 1] of sorted finite values, interpolating linearly between order
/// statistics (numpy's default method).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

/// Ranks of finite values, 1 = best; ties share the average of their ranks.
pub fn ranks(values: &[f64], lower_better: bool) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (values[i], values[j]);
        if lower_better {
            a.total_cmp(&b)
        } else {
            b.total_cmp(&a)
        }
    });
    let mut out = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

/// Indices of the best finite values (all of them when tied).
pub fn best_of(values: &[f64], lower_better: bool) -> Vec<usize> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let best = if lower_better {
        finite.fold(f64::INFINITY, f64::min)
    } else {
        finite.fold(f64::NEG_INFINITY, f64::max)
    };
    if !best.is_finite() {
        return Vec::new();
    }
    (0..values.len()).filter(|&i| values[i] == best).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties_and_respect_direction() {
        assert_eq!(ranks(&[0.9, 0.8, 0.9], false), vec![1.5, 3.0, 1.5]);
        assert_eq!(ranks(&[0.9, 0.8, 0.7], true), vec![3.0, 2.0, 1.0]);
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.75), 3.25);
    }

    #[test]
    fn best_of_ignores_nan_and_keeps_ties() {
        assert_eq!(best_of(&[0.5, f64::NAN, 0.5, 0.4], false), vec![0, 2]);
        assert_eq!(best_of(&[0.5, f64::NAN, 0.5, 0.4], true), vec![3]);
        assert!(best_of(&[f64::NAN], true).is_empty());
    }
}
