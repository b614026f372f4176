//! Comparing algorithms over many datasets (Demšar 2006): mean ranks, the Friedman test and
//! Iman-Davenport's F, Nemenyi's post-hoc test with its critical difference, and pairwise
//! Wilcoxon signed-rank tests with Holm's correction.
//!
//! A score matrix is `datasets x algorithms` (one row per dataset). Every function gives the
//! same numbers as SciPy 1.17 (`friedmanchisquare`, `wilcoxon` with its defaults) and
//! scikit-posthocs 0.17 (`posthoc_nemenyi_friedman`); the crate's tests check them against
//! fixtures computed with those libraries.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::dist;
use crate::table::{self, MetricsTable};
use crate::{Error, Result};

/// Friedman's chi-square test that all algorithms perform alike.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Friedman {
    /// Chi-square statistic with SciPy's correction for tied ranks.
    pub statistic: f64,
    pub p_value: f64,
    /// Degrees of freedom, algorithms - 1.
    pub df: usize,
}

/// Iman and Davenport's F form of the Friedman statistic (less conservative than chi-square).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImanDavenport {
    /// F statistic; infinite (JSON `null`) when every dataset ranks the algorithms the same
    /// way without ties, in which case the p-value is 0.
    #[serde(serialize_with = "finite_or_null")]
    pub statistic: f64,
    pub p_value: f64,
    /// Numerator degrees of freedom, k - 1.
    #[serde(skip)]
    pub df_num: f64,
    /// Denominator degrees of freedom, (k - 1)(n - 1).
    #[serde(skip)]
    pub df_den: f64,
}

/// Nemenyi's all-pairs post-hoc test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nemenyi {
    /// p-value of each pair, in algorithm order; 1 on the diagonal.
    pub p_values: Vec<Vec<f64>>,
    /// Smallest difference of mean ranks that is significant at the analysis' alpha.
    pub critical_difference: f64,
}

/// Wilcoxon signed-rank test of two paired samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Wilcoxon {
    /// min(R+, R-), the sums of ranks of positive and negative differences.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// One pair of the Wilcoxon-Holm comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairTest {
    pub a: String,
    pub b: String,
    pub statistic: f64,
    pub p_value: f64,
    /// Holm-adjusted p-value over all pairs.
    pub p_adjusted: f64,
}

/// Everything `nstudent stats` reports on one metric of a metrics table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Metric column name, e.g. `Accuracy`.
    pub metric: String,
    /// Number of datasets (tasks).
    pub datasets: usize,
    /// Algorithm names in order of first appearance in the table.
    pub algorithms: Vec<String>,
    /// Mean rank of each algorithm (1 = best), in algorithm order.
    #[serde(serialize_with = "ordered_map")]
    pub mean_ranks: Vec<(String, f64)>,
    /// Absent (`null`) with fewer than 3 algorithms.
    pub friedman: Option<Friedman>,
    /// Absent (`null`) with fewer than 3 algorithms.
    pub iman_davenport: Option<ImanDavenport>,
    /// Absent (`null`) with fewer than 3 algorithms.
    pub nemenyi: Option<Nemenyi>,
    /// Every pair `(a, b)` with `a` before `b` in algorithm order.
    pub wilcoxon_holm: Vec<PairTest>,
    /// Significance level used for the critical difference.
    #[serde(skip)]
    pub alpha: f64,
    /// True when a smaller metric value is better (FPR, times).
    #[serde(skip)]
    pub lower_is_better: bool,
    /// Dataset names, in order of first appearance (the rows of `means`).
    #[serde(skip)]
    pub dataset_names: Vec<String>,
    /// Mean of the metric over folds, `datasets x algorithms`.
    #[serde(skip)]
    pub means: Vec<Vec<f64>>,
}

impl Analysis {
    /// Mean rank of an algorithm by position.
    pub fn rank(&self, algorithm: usize) -> f64 {
        self.mean_ranks[algorithm].1
    }
}

fn finite_or_null<S: Serializer>(x: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else {
        s.serialize_none()
    }
}

fn ordered_map<S: Serializer>(
    pairs: &[(String, f64)],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// Checks that `scores` is a non-empty rectangular matrix of finite numbers; returns (n, k).
fn shape(scores: &[Vec<f64>]) -> Result<(usize, usize)> {
    let n = scores.len();
    let k = scores.first().map_or(0, Vec::len);
    if n == 0 || k == 0 {
        return Err(Error::Invalid("no scores to compare".into()));
    }
    for (i, row) in scores.iter().enumerate() {
        if row.len() != k {
            return Err(Error::Invalid(format!(
                "dataset {} has {} scores but dataset 1 has {k}",
                i + 1,
                row.len()
            )));
        }
        if let Some(j) = row.iter().position(|x| !x.is_finite()) {
            return Err(Error::Invalid(format!(
                "score of algorithm {} on dataset {} is {}, not a finite number",
                j + 1,
                i + 1,
                row[j]
            )));
        }
    }
    Ok((n, k))
}

/// Ranks 1..n of `values`, ascending, ties sharing their average rank (`scipy.stats.rankdata`).
pub fn rank_average(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            ranks[o] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Rank of each algorithm on each dataset, 1 = best, ties averaged.
pub fn ranks(scores: &[Vec<f64>], lower_is_better: bool) -> Result<Vec<Vec<f64>>> {
    shape(scores)?;
    Ok(scores
        .iter()
        .map(|row| {
            if lower_is_better {
                rank_average(row)
            } else {
                let negated: Vec<f64> = row.iter().map(|x| -x).collect();
                rank_average(&negated)
            }
        })
        .collect())
}

/// Mean over datasets of each algorithm's rank (1 = best).
pub fn mean_ranks(scores: &[Vec<f64>], lower_is_better: bool) -> Result<Vec<f64>> {
    let r = ranks(scores, lower_is_better)?;
    let n = r.len() as f64;
    let k = r[0].len();
    Ok((0..k)
        .map(|j| r.iter().map(|row| row[j]).sum::<f64>() / n)
        .collect())
}

fn need_three(k: usize, test: &str) -> Result<()> {
    if k < 3 {
        return Err(Error::Invalid(format!(
            "the {test} needs at least 3 algorithms, got {k}; with 2 algorithms only the \
             Wilcoxon signed-rank test applies"
        )));
    }
    Ok(())
}

fn need_two_datasets(n: usize) -> Result<()> {
    if n < 2 {
        return Err(Error::Invalid(format!(
            "comparing algorithms needs results on at least 2 datasets, got {n}"
        )));
    }
    Ok(())
}

/// Friedman's test, as `scipy.stats.friedmanchisquare(*columns)`.
///
/// When every dataset ties all algorithms the statistic is undefined (SciPy returns NaN);
/// here it is 0 with p-value 1: the data show no difference.
pub fn friedman(scores: &[Vec<f64>]) -> Result<Friedman> {
    let (n, k) = shape(scores)?;
    need_three(k, "Friedman test")?;
    need_two_datasets(n)?;
    let (nf, kf) = (n as f64, k as f64);
    let mut rank_sums = vec![0.0; k];
    let mut ties = 0.0;
    for row in scores {
        let r = rank_average(row);
        for (s, x) in rank_sums.iter_mut().zip(&r) {
            *s += x;
        }
        let mut sorted = r.clone();
        sorted.sort_by(f64::total_cmp);
        let mut i = 0;
        while i < sorted.len() {
            let j = sorted[i..].iter().take_while(|&&x| x == sorted[i]).count();
            let t = j as f64;
            ties += t * (t * t - 1.0);
            i += j;
        }
    }
    let c = 1.0 - ties / (kf * (kf * kf - 1.0) * nf);
    let df = k - 1;
    if c <= 0.0 {
        return Ok(Friedman {
            statistic: 0.0,
            p_value: 1.0,
            df,
        });
    }
    let ssbn: f64 = rank_sums.iter().map(|s| s * s).sum();
    let statistic = (12.0 / (kf * nf * (kf + 1.0)) * ssbn - 3.0 * nf * (kf + 1.0)) / c;
    Ok(Friedman {
        statistic,
        p_value: dist::chi2_sf(statistic, df as f64),
        df,
    })
}

/// Iman and Davenport's F = (n - 1) χ² / (n (k - 1) - χ²) on (k - 1, (k - 1)(n - 1)) degrees of
/// freedom, from a Friedman result on `n` datasets.
pub fn iman_davenport_from(friedman: &Friedman, n: usize) -> ImanDavenport {
    let nf = n as f64;
    let k1 = friedman.df as f64;
    let chi2 = friedman.statistic;
    let denominator = nf * k1 - chi2;
    let statistic = if denominator <= 1e-12 * nf * k1 {
        f64::INFINITY
    } else {
        (nf - 1.0) * chi2 / denominator
    };
    let (df_num, df_den) = (k1, k1 * (nf - 1.0));
    ImanDavenport {
        statistic,
        p_value: dist::f_sf(statistic, df_num, df_den),
        df_num,
        df_den,
    }
}

/// Iman and Davenport's F test on a `datasets x algorithms` score matrix.
pub fn iman_davenport(scores: &[Vec<f64>]) -> Result<ImanDavenport> {
    let f = friedman(scores)?;
    Ok(iman_davenport_from(&f, scores.len()))
}

/// Nemenyi p-values of every pair of algorithms from their mean ranks over `n` datasets, as
/// `scikit_posthocs.posthoc_nemenyi_friedman`: the studentized range tail of
/// |R_i - R_j| / sqrt(k (k + 1) / (6 n)) * √2 with infinite degrees of freedom.
pub fn nemenyi(mean_ranks: &[f64], n: usize) -> Vec<Vec<f64>> {
    let k = mean_ranks.len();
    let se = (k as f64 * (k as f64 + 1.0) / (6.0 * n as f64)).sqrt();
    let mut p = vec![vec![1.0; k]; k];
    for i in 0..k {
        for j in i + 1..k {
            let q = (mean_ranks[i] - mean_ranks[j]).abs() / se * std::f64::consts::SQRT_2;
            let v = dist::studentized_range_sf(q, k);
            p[i][j] = v;
            p[j][i] = v;
        }
    }
    p
}

/// Nemenyi's critical difference of mean ranks for `k` algorithms over `n` datasets at level
/// `alpha`: q_α sqrt(k (k + 1) / (6 n)), with q_α the studentized range quantile / √2
/// (Demšar 2006; q_0.05 = 2.343 for k = 3).
pub fn critical_difference(k: usize, n: usize, alpha: f64) -> Result<f64> {
    check_alpha(alpha)?;
    if k < 2 || n == 0 {
        return Err(Error::Invalid(format!(
            "a critical difference needs at least 2 algorithms and 1 dataset, got {k} and {n}"
        )));
    }
    let q = dist::studentized_range_isf(alpha, k) / std::f64::consts::SQRT_2;
    Ok(q * (k as f64 * (k as f64 + 1.0) / (6.0 * n as f64)).sqrt())
}

fn check_alpha(alpha: f64) -> Result<()> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::Invalid(format!(
            "the significance level alpha must be between 0 and 1 (exclusive), got {alpha}"
        )));
    }
    Ok(())
}

/// Two-sided Wilcoxon signed-rank test of paired samples, as `scipy.stats.wilcoxon(x, y)`
/// with its defaults (zeros dropped, no continuity correction, `method="auto"`).
///
/// The p-value is exact (the null distribution of sign flips, counted exactly) when there
/// are at most 50 pairs without tied or zero differences, or at most 13 pairs with them;
/// otherwise it is the normal approximation with the tie correction. When every difference is
/// zero the statistic is 0 and the p-value 1 (SciPy returns NaN).
pub fn wilcoxon(x: &[f64], y: &[f64]) -> Result<Wilcoxon> {
    if x.len() != y.len() {
        return Err(Error::Invalid(format!(
            "the Wilcoxon test needs paired samples, got {} and {} values",
            x.len(),
            y.len()
        )));
    }
    if x.is_empty() {
        return Err(Error::Invalid(
            "the Wilcoxon test needs at least one pair".into(),
        ));
    }
    if let Some(v) = x.iter().chain(y).find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!(
            "the Wilcoxon test needs finite values, got {v}"
        )));
    }
    let n_all = x.len();
    let d: Vec<f64> = x
        .iter()
        .zip(y)
        .map(|(a, b)| a - b)
        .filter(|d| *d != 0.0)
        .collect();
    let n_zero = n_all - d.len();
    if d.is_empty() {
        return Ok(Wilcoxon {
            statistic: 0.0,
            p_value: 1.0,
        });
    }
    let abs: Vec<f64> = d.iter().map(|v| v.abs()).collect();
    let r = rank_average(&abs);
    // Folds from +0.0: an empty f64 `sum()` is -0.0, which would print as "-0".
    let rank_sum = |positive: bool| {
        d.iter()
            .zip(&r)
            .filter(|(v, _)| (**v > 0.0) == positive)
            .fold(0.0, |acc, (_, r)| acc + r)
    };
    let (r_plus, r_minus) = (rank_sum(true), rank_sum(false));
    let statistic = r_plus.min(r_minus);

    let mut sorted = abs.clone();
    sorted.sort_by(f64::total_cmp);
    let mut tie_correct = 0.0;
    let mut has_ties = false;
    let mut i = 0;
    while i < sorted.len() {
        let j = sorted[i..].iter().take_while(|&&v| v == sorted[i]).count();
        if j > 1 {
            has_ties = true;
        }
        let t = j as f64;
        tie_correct += t * t * t - t;
        i += j;
    }

    let exact = n_all <= 50 && ((!has_ties && n_zero == 0) || n_all <= 13);
    let p_value = if exact {
        exact_signed_rank_p(&r, r_plus)
    } else {
        let count = d.len() as f64;
        let mn = count * (count + 1.0) * 0.25;
        let se = count * (count + 1.0) * (2.0 * count + 1.0);
        let se = ((se - tie_correct / 2.0) / 24.0).sqrt();
        let z = (r_plus - mn) / se;
        (2.0 * dist::normal_sf(z.abs())).min(1.0)
    };
    Ok(Wilcoxon { statistic, p_value })
}

/// Two-sided p-value of R+ = `r_plus` under random signs of the given ranks (multiples of ½):
/// 2 min(P(R+ ≤ r), P(R+ ≥ r)), capped at 1, counted exactly over all sign patterns.
fn exact_signed_rank_p(ranks: &[f64], r_plus: f64) -> f64 {
    // Doubled ranks are integers; count sign patterns by their doubled R+.
    let doubled: Vec<usize> = ranks.iter().map(|r| (2.0 * r).round() as usize).collect();
    let total: usize = doubled.iter().sum();
    let mut counts = vec![0.0f64; total + 1];
    counts[0] = 1.0;
    let mut reach = 0;
    for &w in &doubled {
        for s in (0..=reach).rev() {
            if counts[s] != 0.0 {
                counts[s + w] += counts[s];
            }
        }
        reach += w;
    }
    let all: f64 = counts.iter().sum();
    let observed = (2.0 * r_plus).round() as usize;
    let less: f64 = counts[..=observed].iter().sum();
    let greater: f64 = counts[observed..].iter().sum();
    (2.0 * less.min(greater) / all).min(1.0)
}

/// Holm's step-down adjustment of p-values for multiple comparisons (order preserved).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (i, &o) in order.iter().enumerate() {
        running = running.max(((m - i) as f64 * p_values[o]).min(1.0));
        adjusted[o] = running;
    }
    adjusted
}

/// Wilcoxon signed-rank tests of every pair of columns of a `datasets x algorithms` matrix,
/// Holm-adjusted; pairs `(i, j)`, `i < j`, in order.
pub fn wilcoxon_holm(scores: &[Vec<f64>], names: &[String]) -> Result<Vec<PairTest>> {
    let (_, k) = shape(scores)?;
    if names.len() != k {
        return Err(Error::Invalid(format!(
            "{} algorithm names for {k} columns of scores",
            names.len()
        )));
    }
    let column = |j: usize| -> Vec<f64> { scores.iter().map(|row| row[j]).collect() };
    let mut pairs = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            let w = wilcoxon(&column(i), &column(j))?;
            pairs.push(PairTest {
                a: names[i].clone(),
                b: names[j].clone(),
                statistic: w.statistic,
                p_value: w.p_value,
                p_adjusted: 0.0,
            });
        }
    }
    let adjusted = holm(&pairs.iter().map(|p| p.p_value).collect::<Vec<_>>());
    for (p, a) in pairs.iter_mut().zip(adjusted) {
        p.p_adjusted = a;
    }
    Ok(pairs)
}

/// A metric averaged over folds: the score matrix the tests run on.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldMeans {
    /// Dataset names in order of first appearance (rows of `means`).
    pub datasets: Vec<String>,
    /// Algorithm names in order of first appearance (columns of `means`).
    pub algorithms: Vec<String>,
    /// `datasets x algorithms`.
    pub means: Vec<Vec<f64>>,
}

/// The mean of `metric` over folds for each (dataset, algorithm). Errors on an unknown metric,
/// a non-finite value, a fold that appears twice or a dataset without results for some
/// algorithm.
pub fn fold_means(table: &MetricsTable, metric: &str) -> Result<FoldMeans> {
    if !table::METRICS.contains(&metric) {
        return Err(Error::Invalid(format!(
            "unknown metric \"{metric}\"; choose one of: {}",
            table::METRICS.join(", ")
        )));
    }
    if table.rows.is_empty() {
        return Err(Error::Invalid("the metrics table has no rows".into()));
    }
    let datasets = table.datasets();
    let algorithms = table.algorithms();
    let (n, k) = (datasets.len(), algorithms.len());
    let mut sums = vec![vec![0.0; k]; n];
    let mut counts = vec![vec![0usize; k]; n];
    let mut seen = std::collections::HashSet::new();
    for row in &table.rows {
        if !seen.insert((&row.dataset, &row.algorithm, row.fold)) {
            return Err(Error::Invalid(format!(
                "fold {} of {} on \"{}\" appears twice in the table; remove the duplicate row \
                 (were two result tables concatenated?)",
                row.fold, row.algorithm, row.dataset
            )));
        }
        let value = row.metric(metric).unwrap_or(f64::NAN);
        if !value.is_finite() {
            return Err(Error::Invalid(format!(
                "{metric} of {} on \"{}\" fold {} is {value}, not a finite number",
                row.algorithm, row.dataset, row.fold
            )));
        }
        if table::BOUNDED.contains(&metric) && !(0.0..=1.0).contains(&value) {
            return Err(Error::Invalid(format!(
                "{metric} of {} on \"{}\" fold {} is {value}, outside [0, 1]; give fractions \
                 (0.87, not 87%)",
                row.algorithm, row.dataset, row.fold
            )));
        }
        let i = datasets.iter().position(|d| *d == row.dataset).unwrap_or(0);
        let j = algorithms
            .iter()
            .position(|a| *a == row.algorithm)
            .unwrap_or(0);
        sums[i][j] += value;
        counts[i][j] += 1;
    }
    paired_means(datasets, algorithms, &sums, &counts)
}

/// The means `sums / counts` per (dataset, algorithm), after checking that every algorithm has
/// values on every dataset and the same number of them (means over different folds would not
/// be paired).
pub(crate) fn paired_means(
    datasets: Vec<String>,
    algorithms: Vec<String>,
    sums: &[Vec<f64>],
    counts: &[Vec<usize>],
) -> Result<FoldMeans> {
    for (i, d) in datasets.iter().enumerate() {
        if let Some(j) = counts[i].iter().position(|&c| c == 0) {
            return Err(Error::Invalid(format!(
                "dataset \"{d}\" has no result for algorithm \"{}\"; every algorithm needs \
                 results on every dataset (finish or remove the missing runs)",
                algorithms[j]
            )));
        }
        // Means over different folds are not paired: the comparison would be biased.
        if let Some(j) = counts[i].iter().position(|&c| c != counts[i][0]) {
            return Err(Error::Invalid(format!(
                "dataset \"{d}\" has {} folds of \"{}\" but {} of \"{}\"; every algorithm \
                 needs the same folds (finish or remove the missing runs)",
                counts[i][0], algorithms[0], counts[i][j], algorithms[j]
            )));
        }
    }
    let means = sums
        .iter()
        .zip(counts)
        .map(|(s, c)| s.iter().zip(c).map(|(s, &c)| s / c as f64).collect())
        .collect();
    Ok(FoldMeans {
        datasets,
        algorithms,
        means,
    })
}

/// All tests of `nstudent stats` on one metric of a metrics table, at level `alpha`.
///
/// Errors: an unknown metric, a non-finite value, a dataset missing an algorithm, fewer than
/// 2 datasets or fewer than 2 algorithms. With 2 algorithms only the Wilcoxon test is run.
pub fn analyze(table: &MetricsTable, metric: &str, alpha: f64) -> Result<Analysis> {
    check_alpha(alpha)?;
    let means = fold_means(table, metric)?;
    analyze_means(means, metric, table::lower_is_better(metric), alpha)
}

/// All tests on a score matrix, whichever table it came from (nstudent's, or a wide or long
/// table of another tool, see [`crate::layouts`]). `metric` names the values in the output;
/// `lower` is true when smaller values are better.
pub fn analyze_means(
    fold_means: FoldMeans,
    metric: &str,
    lower: bool,
    alpha: f64,
) -> Result<Analysis> {
    check_alpha(alpha)?;
    let FoldMeans {
        datasets: dataset_names,
        algorithms,
        means,
    } = fold_means;
    let (n, k) = (dataset_names.len(), algorithms.len());
    if n == 0 || k == 0 {
        return Err(Error::Invalid(
            "the table has no results: it needs a row per dataset (wide) or per value (long)"
                .into(),
        ));
    }
    if k < 2 {
        return Err(Error::Invalid(format!(
            "the table has only one algorithm (\"{}\"); comparing needs at least 2 (Wilcoxon) \
             or 3 (Friedman, Nemenyi)",
            algorithms[0]
        )));
    }
    if n < 2 {
        return Err(Error::Invalid(format!(
            "the table has results on only one dataset (\"{}\"); comparing algorithms needs \
             at least 2 datasets",
            dataset_names[0]
        )));
    }
    let ranks = mean_ranks(&means, lower)?;
    let (friedman_result, id, nem) = if k >= 3 {
        let f = friedman(&means)?;
        let id = iman_davenport_from(&f, n);
        let nem = Nemenyi {
            p_values: nemenyi(&ranks, n),
            critical_difference: critical_difference(k, n, alpha)?,
        };
        (Some(f), Some(id), Some(nem))
    } else {
        (None, None, None)
    };
    Ok(Analysis {
        metric: metric.to_string(),
        datasets: n,
        mean_ranks: algorithms.iter().cloned().zip(ranks).collect(),
        wilcoxon_holm: wilcoxon_holm(&means, &algorithms)?,
        algorithms,
        friedman: friedman_result,
        iman_davenport: id,
        nemenyi: nem,
        alpha,
        lower_is_better: lower,
        dataset_names,
        means,
    })
}

#[cfg(test)]
mod tests;
