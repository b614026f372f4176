//! Comparisons of two algorithms that respect how their scores depend on each other.
//!
//! - Within one task, the folds of a cross-validation share most of their training data, so
//!   their scores are correlated and a plain t-test or Wilcoxon on them understates the
//!   variance. [`correlated_t`] applies Nadeau and Bengio's correction (Machine Learning,
//!   2003): the corrected resampled t-test, and the Bayesian correlated t-test of Benavoli,
//!   Corani, Demšar and Zaffalon (JMLR 2017) with a region of practical equivalence (ROPE).
//! - Across tasks, [`signed_rank`] is their Bayesian signed-rank test (Benavoli et al., ICML
//!   2014), a Dirichlet process posterior on the task-level differences, with a ROPE.
//!
//! Both follow baycomp 1.0.3 (`CorrelatedTTest`, `SignedRankTest`) value for value: the
//! differences are `y - x`, so "right" means the second algorithm is better. The tests
//! compare them with baycomp's on committed fixtures.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::{Error, Result};

/// Posterior probabilities of the three regions of the difference `y - x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Probabilities {
    /// P(y - x < -rope): the first algorithm is better by more than the ROPE.
    pub first_better: f64,
    /// P(|y - x| <= rope): practically equivalent.
    pub equivalent: f64,
    /// P(y - x > rope): the second algorithm is better by more than the ROPE.
    pub second_better: f64,
}

/// What the probabilities say at a decision threshold (0.95 in the study's pre-registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    FirstBetter,
    Equivalent,
    SecondBetter,
    Undecided,
}

impl Probabilities {
    /// The region whose probability is at least `threshold`, if one is.
    pub fn verdict(&self, threshold: f64) -> Verdict {
        if self.first_better >= threshold {
            Verdict::FirstBetter
        } else if self.second_better >= threshold {
            Verdict::SecondBetter
        } else if self.equivalent >= threshold {
            Verdict::Equivalent
        } else {
            Verdict::Undecided
        }
    }
}

/// The corrected resampled t-test and the Bayesian correlated t-test of one pair of
/// algorithms on the folds of one task.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CorrelatedT {
    /// Mean of the differences `y - x`.
    pub mean: f64,
    /// Standard error of the mean after Nadeau and Bengio's correction: the scale of the
    /// posterior Student t.
    pub scale: f64,
    /// Degrees of freedom: the number of folds minus 1.
    pub df: f64,
    /// `mean / scale`; infinite when every difference is the same non-zero value.
    pub t: f64,
    /// Two-sided p-value of the corrected resampled t-test.
    pub p_value: f64,
    /// The Bayesian correlated t-test's posterior probabilities.
    pub probabilities: Probabilities,
}

/// Both tests on the scores `x` and `y` of `runs` repetitions of one k-fold
/// cross-validation (`x.len()` folds in all, `runs` times k), with a ROPE of `rope` (in the
/// scores' units, >= 0).
///
/// The variance of the differences is multiplied by `1/n + 1/(k - 1)`, where `1/(k - 1)` is
/// the ratio of test to training data of a fold: the correction for overlapping training sets.
pub fn correlated_t(x: &[f64], y: &[f64], rope: f64, runs: usize) -> Result<CorrelatedT> {
    let diff = differences(x, y, "the correlated t-test")?;
    check_rope(rope)?;
    let n = diff.len();
    if runs == 0 || n % runs != 0 {
        return Err(Error::Invalid(format!(
            "the correlated t-test needs the folds of whole runs: {n} scores do not split into {runs} run(s)"
        )));
    }
    let folds = n / runs;
    if folds < 2 {
        return Err(Error::Invalid(format!(
            "the correlated t-test needs at least 2 folds per run, got {folds}"
        )));
    }
    let mean = diff.iter().sum::<f64>() / n as f64;
    let var = diff.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let var = var * (1.0 / n as f64 + 1.0 / (folds - 1) as f64);
    let df = (n - 1) as f64;
    let scale = var.sqrt();
    if var == 0.0 {
        let p_value = if mean == 0.0 { 1.0 } else { 0.0 };
        let t = if mean == 0.0 {
            0.0
        } else {
            mean.signum() * f64::INFINITY
        };
        let (left, right) = match rope > 0.0 {
            true => (bool_f(mean < -rope), bool_f(mean > rope)),
            false => {
                let right = bool_f(mean > 0.0) + 0.5 * bool_f(mean == 0.0);
                (1.0 - right, right)
            }
        };
        return Ok(CorrelatedT {
            mean,
            scale,
            df,
            t,
            p_value,
            probabilities: three(left, right),
        });
    }
    let posterior = StudentsT::new(mean, scale, df)
        .map_err(|e| Error::Internal(format!("Student t({mean}, {scale}, {df}): {e}")))?;
    let (left, right) = match rope > 0.0 {
        true => (posterior.cdf(-rope), 1.0 - posterior.cdf(rope)),
        false => {
            let right = 1.0 - posterior.cdf(0.0);
            (1.0 - right, right)
        }
    };
    let t = mean / scale;
    let null = StudentsT::new(0.0, 1.0, df)
        .map_err(|e| Error::Internal(format!("Student t(0, 1, {df}): {e}")))?;
    let p_value = (2.0 * null.sf(t.abs())).min(1.0);
    Ok(CorrelatedT {
        mean,
        scale,
        df,
        t,
        p_value,
        probabilities: three(left, right),
    })
}

/// The Bayesian signed-rank test of the per-task scores `x` and `y` (one value per task),
/// with a ROPE of `rope`, a prior pseudo-observation of weight `prior` at 0 (baycomp's 0.5),
/// and `samples` posterior samples drawn from `seed`.
///
/// Each sample draws Dirichlet weights for the differences and the pseudo-observation, and
/// sums the weight of every pair `(i, j)` whose mean difference lies below, within or above
/// the ROPE; the probabilities are the shares of samples in which each region holds the
/// most weight. They are Monte Carlo estimates: their standard error is about
/// `sqrt(p (1 - p) / samples)`.
pub fn signed_rank(
    x: &[f64],
    y: &[f64],
    rope: f64,
    prior: f64,
    samples: usize,
    seed: u64,
) -> Result<Probabilities> {
    let diff = differences(x, y, "the Bayesian signed-rank test")?;
    check_rope(rope)?;
    if !(prior.is_finite() && prior > 0.0) || samples == 0 {
        return Err(Error::Invalid(format!(
            "the Bayesian signed-rank test needs a prior weight > 0 and at least one sample, got {prior} and {samples}"
        )));
    }
    let z: Vec<f64> = std::iter::once(0.0).chain(diff).collect();
    let m = z.len();
    // Weight of each pair's sum in the regions below and above the ROPE (ties count half).
    let heaviside = |a: f64, threshold: f64| {
        if a > threshold {
            1.0
        } else if a == threshold {
            0.5
        } else {
            0.0
        }
    };
    let mut below = vec![0.0; m * m];
    let mut above = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            let sum = z[i] + z[j];
            let threshold = if rope > 0.0 { 2.0 * rope } else { 0.0 };
            above[i * m + j] = heaviside(sum, threshold);
            below[i * m + j] = match rope > 0.0 {
                true => heaviside(-sum, threshold),
                false => 1.0 - above[i * m + j],
            };
        }
    }
    let gamma = |shape: f64| {
        Gamma::new(shape, 1.0).map_err(|e| Error::Internal(format!("Gamma({shape}, 1): {e}")))
    };
    let (prior_gamma, one) = (gamma(prior)?, gamma(1.0)?);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut wins = [0usize; 3];
    let mut w = vec![0.0; m];
    for _ in 0..samples {
        w[0] = prior_gamma.sample(&mut rng);
        for wi in &mut w[1..] {
            *wi = one.sample(&mut rng);
        }
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|wi| *wi /= total);
        let (mut lo, mut hi) = (0.0, 0.0);
        for i in 0..m {
            for j in 0..m {
                let ww = w[i] * w[j];
                lo += ww * below[i * m + j];
                hi += ww * above[i * m + j];
            }
        }
        let middle = if rope > 0.0 { 1.0 - lo - hi } else { 0.0 };
        let regions = [lo, middle, hi];
        // The first region of greatest weight, as numpy's argmax.
        let best = (0..3).fold(0, |b, r| if regions[r] > regions[b] { r } else { b });
        wins[best] += 1;
    }
    let share = |c: usize| c as f64 / samples as f64;
    if rope > 0.0 {
        Ok(Probabilities {
            first_better: share(wins[0]),
            equivalent: share(wins[1]),
            second_better: share(wins[2]),
        })
    } else {
        // Without a ROPE there are two regions; the middle one is empty.
        let decided = (wins[0] + wins[2]).max(1) as f64;
        Ok(Probabilities {
            first_better: wins[0] as f64 / decided,
            equivalent: 0.0,
            second_better: wins[2] as f64 / decided,
        })
    }
}

fn three(left: f64, right: f64) -> Probabilities {
    Probabilities {
        first_better: left,
        equivalent: (1.0 - left - right).max(0.0),
        second_better: right,
    }
}

fn bool_f(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn check_rope(rope: f64) -> Result<()> {
    if !(rope.is_finite() && rope >= 0.0) {
        return Err(Error::Invalid(format!(
            "the region of practical equivalence must be a finite width >= 0, got {rope}"
        )));
    }
    Ok(())
}

/// `y - x`, checked: paired, non-empty, finite.
fn differences(x: &[f64], y: &[f64], test: &str) -> Result<Vec<f64>> {
    if x.len() != y.len() {
        return Err(Error::Invalid(format!(
            "{test} needs paired scores, got {} and {} values",
            x.len(),
            y.len()
        )));
    }
    if x.len() < 2 {
        return Err(Error::Invalid(format!(
            "{test} needs at least 2 pairs, got {}",
            x.len()
        )));
    }
    if let Some(v) = x.iter().chain(y).find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!(
            "{test} needs finite scores, got {v}"
        )));
    }
    Ok(x.iter().zip(y).map(|(a, b)| b - a).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_differences_have_no_variance_and_a_certain_verdict() {
        let x = [0.5; 5];
        let y = [0.53; 5];
        let t = correlated_t(&x, &y, 0.01, 1).unwrap();
        assert_eq!(t.p_value, 0.0);
        assert_eq!(t.probabilities.second_better, 1.0);
        assert_eq!(t.probabilities.verdict(0.95), Verdict::SecondBetter);
        let same = correlated_t(&x, &x, 0.01, 1).unwrap();
        assert_eq!((same.p_value, same.probabilities.equivalent), (1.0, 1.0));
    }

    #[test]
    fn the_correction_widens_the_plain_t_test() {
        // 10 folds: the plain standard error is sd / sqrt(10); the corrected one is
        // sd * sqrt(1/10 + 1/9).
        let x = [0.80, 0.82, 0.79, 0.81, 0.80, 0.83, 0.78, 0.80, 0.82, 0.81];
        let y = [0.82, 0.83, 0.80, 0.84, 0.81, 0.83, 0.80, 0.83, 0.83, 0.82];
        let t = correlated_t(&x, &y, 0.0, 1).unwrap();
        let d: Vec<f64> = x.iter().zip(&y).map(|(a, b)| b - a).collect();
        let mean = d.iter().sum::<f64>() / 10.0;
        let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
        assert!((t.scale - sd * (0.1f64 + 1.0 / 9.0).sqrt()).abs() < 1e-15);
        assert!(t.scale > sd / 10f64.sqrt());
        assert!(t.p_value > 0.0 && t.p_value < 0.05, "{t:?}");
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(correlated_t(&[0.1, 0.2], &[0.1], 0.0, 1).is_err());
        assert!(correlated_t(&[0.1, 0.2, 0.3], &[0.1, 0.2, 0.3], 0.0, 2).is_err());
        assert!(correlated_t(&[0.1, f64::NAN], &[0.1, 0.2], 0.0, 1).is_err());
        assert!(correlated_t(&[0.1, 0.2], &[0.1, 0.2], -0.1, 1).is_err());
        assert!(signed_rank(&[0.1, 0.2], &[0.1, 0.2], 0.01, 0.0, 10, 1).is_err());
        assert!(signed_rank(&[0.1], &[0.1], 0.01, 0.5, 10, 1).is_err());
    }

    #[test]
    fn signed_rank_is_seeded_and_follows_the_sign_of_the_differences() {
        let x = [0.70, 0.80, 0.60, 0.90, 0.75, 0.85];
        let y = [0.75, 0.86, 0.64, 0.93, 0.80, 0.90];
        let a = signed_rank(&x, &y, 0.01, 0.5, 2000, 7).unwrap();
        assert_eq!(a, signed_rank(&x, &y, 0.01, 0.5, 2000, 7).unwrap());
        assert!(a.second_better > 0.9, "{a:?}");
        let b = signed_rank(&y, &x, 0.01, 0.5, 2000, 7).unwrap();
        assert!(b.first_better > 0.9, "{b:?}");
    }
}

/// Settings of a [`compare_pair`]: fixed before a study runs (its pre-registration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairSettings {
    /// Region of practical equivalence, in the metric's units (0.01 = one point of accuracy).
    pub rope: f64,
    /// Posterior probability at which a region is called ([`Probabilities::verdict`]).
    pub decision: f64,
    /// Repetitions of the cross-validation behind each task's folds.
    pub runs: usize,
    /// Posterior samples of the signed-rank test, and their seed.
    pub samples: usize,
    pub seed: u64,
}

impl Default for PairSettings {
    /// The `standard` preset's pre-registered settings (`docs/standard.md`): a ROPE of one
    /// point, a 0.95 decision, one run, baycomp's 50,000 samples.
    fn default() -> Self {
        Self {
            rope: 0.01,
            decision: 0.95,
            runs: 1,
            samples: 50_000,
            seed: 1,
        }
    }
}

/// One task's folds, compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskComparison {
    pub task: String,
    /// Folds both algorithms have.
    pub folds: usize,
    pub first_mean: f64,
    pub second_mean: f64,
    /// Folds on which the second algorithm scored higher (better, for a lower-is-better
    /// metric: lower), and on which the first did.
    pub second_wins: usize,
    pub first_wins: usize,
    /// Each common fold's difference, second minus first (for a lower-is-better metric, first
    /// minus second, so that positive is always better for the second), in fold order.
    pub fold_differences: Vec<FoldDifference>,
    pub test: CorrelatedT,
    pub verdict: Verdict,
}

/// One fold's difference between the two algorithms of a [`TaskComparison`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FoldDifference {
    pub fold: usize,
    pub difference: f64,
}

/// The Bayesian signed-rank test over units (tasks, or source blocks).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AcrossComparison {
    /// Unit names, with each algorithm's mean per unit.
    pub units: Vec<String>,
    pub first_means: Vec<f64>,
    pub second_means: Vec<f64>,
    pub probabilities: Probabilities,
    pub verdict: Verdict,
}

/// Two algorithms compared on one metric, per task and across tasks and source blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairComparison {
    pub metric: String,
    pub first: String,
    pub second: String,
    /// One entry per task where both have at least 2 common folds, in table order.
    pub per_task: Vec<TaskComparison>,
    /// Over the task means; `None` with fewer than 2 tasks.
    pub across_tasks: Option<AcrossComparison>,
    /// Over the source blocks' means (the task means of a block averaged); `None` with fewer
    /// than 2 blocks or without a block map.
    pub across_blocks: Option<AcrossComparison>,
}

/// `first` against `second` on `metric` of `table`. `block_of` maps a task (its "Dataset
/// Name") to its source block; tasks it does not map are their own block. For a metric where
/// lower is better (FPR, times) the differences are negated, so that "second better" always
/// means better.
pub fn compare_pair(
    table: &crate::table::MetricsTable,
    metric: &str,
    first: &str,
    second: &str,
    block_of: &dyn Fn(&str) -> Option<String>,
    settings: &PairSettings,
) -> Result<PairComparison> {
    let sign = if crate::table::lower_is_better(metric) {
        -1.0
    } else {
        1.0
    };
    let mut per_task = Vec::new();
    let mut task_means: Vec<(String, f64, f64)> = Vec::new();
    for task in table.datasets() {
        let scores = |algorithm: &str| -> Vec<(usize, f64)> {
            table
                .rows
                .iter()
                .filter(|r| r.dataset == task && r.algorithm == algorithm)
                .filter_map(|r| r.metric(metric).map(|v| (r.fold, sign * v)))
                .collect()
        };
        let (a, b) = (scores(first), scores(second));
        if let Some((fold, v)) = a.iter().chain(&b).find(|(_, v)| {
            !v.is_finite()
                || (crate::table::BOUNDED.contains(&metric)
                    && !(-1e-9..=1.0 + 1e-9).contains(&(sign * v)))
        }) {
            return Err(Error::Invalid(format!(
                "{metric} on \"{task}\" fold {fold} is {}, not a finite value in [0, 1]",
                sign * v
            )));
        }
        let mut pairs: Vec<(usize, f64, f64)> = a
            .iter()
            .filter_map(|&(fold, x)| {
                b.iter()
                    .find(|(f, _)| *f == fold)
                    .map(|&(_, y)| (fold, x, y))
            })
            .collect();
        pairs.sort_by_key(|p| p.0);
        if pairs.len() < 2 {
            continue;
        }
        let x: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let y: Vec<f64> = pairs.iter().map(|p| p.2).collect();
        let test = correlated_t(&x, &y, settings.rope, settings.runs)?;
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        task_means.push((task.clone(), mx, my));
        per_task.push(TaskComparison {
            task,
            folds: x.len(),
            first_mean: sign * mx,
            second_mean: sign * my,
            second_wins: pairs.iter().filter(|p| p.2 > p.1).count(),
            first_wins: pairs.iter().filter(|p| p.1 > p.2).count(),
            fold_differences: pairs
                .iter()
                .map(|&(fold, x, y)| FoldDifference {
                    fold,
                    difference: y - x,
                })
                .collect(),
            verdict: test.probabilities.verdict(settings.decision),
            test,
        });
    }
    let across = |units: Vec<(String, f64, f64)>| -> Result<Option<AcrossComparison>> {
        if units.len() < 2 {
            return Ok(None);
        }
        let x: Vec<f64> = units.iter().map(|u| u.1).collect();
        let y: Vec<f64> = units.iter().map(|u| u.2).collect();
        let probabilities =
            signed_rank(&x, &y, settings.rope, 0.5, settings.samples, settings.seed)?;
        Ok(Some(AcrossComparison {
            units: units.iter().map(|u| u.0.clone()).collect(),
            first_means: x.iter().map(|v| sign * v).collect(),
            second_means: y.iter().map(|v| sign * v).collect(),
            verdict: probabilities.verdict(settings.decision),
            probabilities,
        }))
    };
    let mut blocks: Vec<(String, f64, f64, usize)> = Vec::new();
    for (task, x, y) in &task_means {
        let block = block_of(task).unwrap_or_else(|| task.clone());
        match blocks.iter_mut().find(|b| b.0 == block) {
            Some(b) => {
                b.1 += x;
                b.2 += y;
                b.3 += 1;
            }
            None => blocks.push((block, *x, *y, 1)),
        }
    }
    let distinct_blocks = blocks.len() < task_means.len();
    let block_means: Vec<(String, f64, f64)> = blocks
        .into_iter()
        .map(|(name, x, y, n)| (name, x / n as f64, y / n as f64))
        .collect();
    Ok(PairComparison {
        metric: metric.to_string(),
        first: first.to_string(),
        second: second.to_string(),
        per_task,
        across_tasks: across(task_means)?,
        across_blocks: match distinct_blocks {
            true => across(block_means)?,
            false => None,
        },
    })
}

/// The fold means of `means` averaged over the tasks of each source block: the rows become
/// blocks, in order of their first task. `block_of` as in [`compare_pair`].
pub fn block_means(
    means: crate::compare::FoldMeans,
    block_of: &dyn Fn(&str) -> Option<String>,
) -> crate::compare::FoldMeans {
    let k = means.algorithms.len();
    let mut names: Vec<String> = Vec::new();
    let mut sums: Vec<Vec<f64>> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for (task, row) in means.datasets.iter().zip(&means.means) {
        let block = block_of(task).unwrap_or_else(|| task.clone());
        let i = match names.iter().position(|n| *n == block) {
            Some(i) => i,
            None => {
                names.push(block);
                sums.push(vec![0.0; k]);
                counts.push(0);
                names.len() - 1
            }
        };
        sums[i].iter_mut().zip(row).for_each(|(s, v)| *s += v);
        counts[i] += 1;
    }
    crate::compare::FoldMeans {
        datasets: names,
        algorithms: means.algorithms,
        means: sums
            .into_iter()
            .zip(counts)
            .map(|(s, c)| s.into_iter().map(|v| v / c as f64).collect())
            .collect(),
    }
}
