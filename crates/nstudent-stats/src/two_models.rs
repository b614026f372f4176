//! Two models compared on the same test images: McNemar's test and a paired bootstrap
//! interval of the accuracy difference.
//!
//! Both models classify the same images, so their errors are paired: an image both get right
//! (or both wrong) says nothing about which is better. McNemar's test looks only at the
//! discordant images, and the bootstrap resamples whole images, keeping each image's pair of
//! outcomes together. This is the verdict for one dataset (`nstudent compare`, and `train`'s
//! teacher-to-student gain); the tests across tasks live in [`crate::compare`] and
//! [`crate::paired`].
//!
//! Conventions follow statsmodels' `mcnemar` (exact: twice the binomial tail of the smaller
//! discordant count, capped at 1; asymptotic: chi-square with continuity correction) and
//! SciPy's `bootstrap(..., paired=True, method="percentile")`.

use rand::{Rng, SeedableRng};
use serde::Serialize;
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::{Error, Result};

/// How the bootstrap interval is drawn. Fixed before looking at the data; `seed` makes the
/// interval reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapSettings {
    /// Coverage of the interval, in (0, 1): 0.95 for a 95% interval.
    pub level: f64,
    /// Bootstrap resamples (each draws as many images as the test set has, with replacement).
    pub resamples: usize,
    pub seed: u64,
}

impl Default for BootstrapSettings {
    /// A 95% interval from 10,000 resamples: the Monte Carlo error of its ends is then well
    /// under one image's worth of accuracy on test sets of a few thousand images.
    fn default() -> Self {
        Self {
            level: 0.95,
            resamples: 10_000,
            seed: 0,
        }
    }
}

/// McNemar's test on the images where exactly one model is right.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct McNemar {
    /// Images only the first model classifies correctly.
    pub only_first: usize,
    /// Images only the second model classifies correctly.
    pub only_second: usize,
    /// Exact two-sided p-value: P(a Binomial(only_first + only_second, 1/2) count is at least
    /// as far from its mean as observed). 1 when no image is discordant.
    pub exact_p: f64,
    /// Chi-square statistic with continuity correction, `(|b - c| - 1)^2 / (b + c)`; `None`
    /// when no image is discordant.
    pub chi2: Option<f64>,
    /// Its p-value (1 degree of freedom).
    pub chi2_p: Option<f64>,
}

/// A bootstrap interval of `second accuracy - first accuracy`, in accuracy units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    pub settings: BootstrapSettings,
}

/// Two models' predictions on the same labeled images, compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelComparison {
    pub images: usize,
    pub first_accuracy: f64,
    pub second_accuracy: f64,
    /// `second_accuracy - first_accuracy`.
    pub difference: f64,
    pub interval: Interval,
    pub mcnemar: McNemar,
}

/// Compares two models from their predicted classes on the same images, in the same order.
pub fn compare_predictions(
    labels: &[u16],
    first: &[usize],
    second: &[usize],
    settings: BootstrapSettings,
) -> Result<ModelComparison> {
    if first.len() != labels.len() || second.len() != labels.len() {
        return Err(Error::Invalid(format!(
            "the two models predict {} and {} images, but there are {} labels; both need one \
             prediction per labeled image, in the same order",
            first.len(),
            second.len(),
            labels.len()
        )));
    }
    let correct = |predicted: &[usize]| -> Vec<bool> {
        predicted
            .iter()
            .zip(labels)
            .map(|(&p, &l)| p == l as usize)
            .collect()
    };
    compare_outcomes(&correct(first), &correct(second), settings)
}

/// Compares two models from whether each got each image right.
pub fn compare_outcomes(
    first: &[bool],
    second: &[bool],
    settings: BootstrapSettings,
) -> Result<ModelComparison> {
    let n = first.len();
    if n == 0 || second.len() != n {
        return Err(Error::Invalid(format!(
            "a paired comparison needs the same images for both models, at least one; got {} \
             and {}",
            n,
            second.len()
        )));
    }
    let accuracy = |c: &[bool]| c.iter().filter(|&&x| x).count() as f64 / n as f64;
    let (a, b) = (accuracy(first), accuracy(second));
    Ok(ModelComparison {
        images: n,
        first_accuracy: a,
        second_accuracy: b,
        difference: b - a,
        interval: bootstrap_difference(first, second, settings)?,
        mcnemar: mcnemar(first, second),
    })
}

/// McNemar's test of two paired outcome vectors of equal length.
pub fn mcnemar(first: &[bool], second: &[bool]) -> McNemar {
    let only_first = first
        .iter()
        .zip(second)
        .filter(|(a, b)| **a && !**b)
        .count();
    let only_second = first
        .iter()
        .zip(second)
        .filter(|(a, b)| !**a && **b)
        .count();
    let discordant = only_first + only_second;
    let (chi2, chi2_p) = if discordant == 0 {
        (None, None)
    } else {
        let d = (only_first as f64 - only_second as f64).abs() - 1.0;
        let stat = d.max(0.0).powi(2) / discordant as f64;
        (Some(stat), Some(crate::dist::chi2_sf(stat, 1.0)))
    };
    McNemar {
        only_first,
        only_second,
        exact_p: binomial_two_sided(only_first.min(only_second), discordant),
        chi2,
        chi2_p,
    }
}

/// Twice the lower binomial tail P(X <= k) for X ~ Binomial(n, 1/2), capped at 1.
fn binomial_two_sided(k: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    // `new` fails only for p outside [0, 1]; 0.5 is inside.
    let tail = Binomial::new(0.5, n as u64).map_or(1.0, |b| b.cdf(k as u64));
    (2.0 * tail).min(1.0)
}

/// The percentile bootstrap interval of `mean(second) - mean(first)`, resampling images.
///
/// Only discordant images change the difference, so each resample counts how many of its `n`
/// draws land on an image only the second model got right (+1) or only the first (-1).
pub fn bootstrap_difference(
    first: &[bool],
    second: &[bool],
    settings: BootstrapSettings,
) -> Result<Interval> {
    let n = first.len();
    if n == 0 || second.len() != n {
        return Err(Error::Invalid(
            "a bootstrap interval needs the same images for both models, at least one".into(),
        ));
    }
    if !(settings.level > 0.0 && settings.level < 1.0) {
        return Err(Error::Invalid(format!(
            "the interval's level must be between 0 and 1 (exclusive), got {}",
            settings.level
        )));
    }
    if settings.resamples < 100 {
        return Err(Error::Invalid(format!(
            "a bootstrap interval needs at least 100 resamples, got {}",
            settings.resamples
        )));
    }
    let sign: Vec<i8> = first
        .iter()
        .zip(second)
        .map(|(&a, &b)| i8::from(b) - i8::from(a))
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(settings.seed);
    let mut differences: Vec<f64> = (0..settings.resamples)
        .map(|_| {
            let sum: i64 = (0..n).map(|_| i64::from(sign[rng.gen_range(0..n)])).sum();
            sum as f64 / n as f64
        })
        .collect();
    differences.sort_by(f64::total_cmp);
    let tail = (1.0 - settings.level) / 2.0;
    Ok(Interval {
        low: percentile(&differences, tail),
        high: percentile(&differences, 1.0 - tail),
        settings,
    })
}

/// The `q`-quantile of sorted values with linear interpolation between order statistics
/// (NumPy's default, which SciPy's percentile bootstrap uses).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(pairs: &[(bool, bool, usize)]) -> (Vec<bool>, Vec<bool>) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for &(x, y, count) in pairs {
            a.extend(std::iter::repeat_n(x, count));
            b.extend(std::iter::repeat_n(y, count));
        }
        (a, b)
    }

    #[test]
    fn no_discordant_image_means_no_evidence() {
        let (a, b) = outcomes(&[(true, true, 30), (false, false, 10)]);
        let m = mcnemar(&a, &b);
        assert_eq!((m.only_first, m.only_second), (0, 0));
        assert_eq!(m.exact_p, 1.0);
        assert!(m.chi2.is_none());
        let c = compare_outcomes(&a, &b, BootstrapSettings::default()).unwrap();
        assert_eq!((c.interval.low, c.interval.high), (0.0, 0.0));
    }

    #[test]
    fn the_interval_is_seeded_and_contains_the_difference() {
        let (a, b) = outcomes(&[(true, true, 50), (false, true, 20), (true, false, 5)]);
        let s = BootstrapSettings::default();
        let c = compare_outcomes(&a, &b, s).unwrap();
        assert!((c.difference - 15.0 / 75.0).abs() < 1e-12);
        assert!(c.interval.low < c.difference && c.difference < c.interval.high);
        assert!(
            c.interval.low > 0.0,
            "15 more right of 75 is clearly better"
        );
        assert_eq!(c, compare_outcomes(&a, &b, s).unwrap());
        let other = compare_outcomes(&a, &b, BootstrapSettings { seed: 1, ..s }).unwrap();
        assert_ne!(c.interval, other.interval);
    }

    #[test]
    fn swapping_the_models_mirrors_everything() {
        let (a, b) = outcomes(&[(true, true, 40), (false, true, 12), (true, false, 4)]);
        let s = BootstrapSettings::default();
        let ab = compare_outcomes(&a, &b, s).unwrap();
        let ba = compare_outcomes(&b, &a, s).unwrap();
        assert_eq!(ab.mcnemar.exact_p, ba.mcnemar.exact_p);
        assert_eq!(ab.difference, -ba.difference);
        assert_eq!(ab.interval.low, -ba.interval.high);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let s = BootstrapSettings::default();
        assert!(compare_outcomes(&[], &[], s).is_err());
        assert!(compare_outcomes(&[true], &[true, false], s).is_err());
        assert!(compare_predictions(&[0, 1], &[0], &[0, 1], s).is_err());
        for level in [0.0, 1.0, f64::NAN] {
            assert!(compare_outcomes(&[true], &[false], BootstrapSettings { level, ..s }).is_err());
        }
        let few = BootstrapSettings { resamples: 10, ..s };
        assert!(compare_outcomes(&[true], &[false], few).is_err());
    }
}
