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
        Gamma::new(shape, 1.0)
            .map_err(|e| Error::Internal(format!("Gamma({shape}, 1): {e}")))
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
        return Err(Error::Invalid(format!("{test} needs finite scores, got {v}")));
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
