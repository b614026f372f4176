//! Effect sizes and confidence intervals, chosen as autorank chooses them (Herbold, 2020).
//!
//! Each algorithm's population is its score on every dataset (the fold means). The populations
//! are tested for normality with Shapiro-Wilk at `alpha / k` (Bonferroni). If every one is
//! normal, effect sizes are Cohen's d and each algorithm gets a t-interval of its mean;
//! otherwise Akinshin's gamma (Cohen's d with the pooled, normal-scaled median absolute
//! deviation in place of the pooled standard deviation) and an order-statistic interval of its
//! median. Cliff's delta can be asked for instead. Magnitudes follow autorank's thresholds.
//! Intervals are at level `1 - alpha / k`, as autorank computes them.
//!
//! Shapiro-Wilk is Royston's algorithm (AS R94, 1995), as SciPy's `shapiro` computes it.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::describe::{mean, sample_variance};
use crate::dist::normal_sf;
use crate::{Error, Result};

/// Which effect size measures the difference of two algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectSize {
    /// Difference of means over the pooled standard deviation (normal data).
    CohenD,
    /// Difference of medians over the pooled, normal-scaled MAD (autorank's default otherwise).
    AkinshinGamma,
    /// P(x > y) - P(x < y) over all pairs of values.
    CliffDelta,
}

/// How large an effect is, by autorank's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Magnitude {
    Negligible,
    Small,
    Medium,
    Large,
}

/// The effect of algorithm `a` over `b` (positive when `a` scores higher).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairEffect {
    pub a: String,
    pub b: String,
    pub value: f64,
    pub magnitude: Magnitude,
}

/// An algorithm's centre (mean for normal data, else median) and its confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    pub algorithm: String,
    pub centre: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Everything this module reports on one score matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effects {
    /// Shapiro-Wilk p-value of each algorithm's population, in algorithm order (`None` with
    /// fewer than 3 datasets, where it is not defined).
    pub normality_p: Vec<Option<f64>>,
    /// The level each normality test used: `alpha / k`.
    pub normality_alpha: f64,
    /// True when every population passed the normality test.
    pub all_normal: bool,
    pub method: EffectSize,
    /// Every pair `(a, b)` with `a` before `b` in algorithm order.
    pub pairs: Vec<PairEffect>,
    /// In algorithm order; the interval's level is `1 - alpha / k`.
    pub intervals: Vec<Interval>,
}

/// Effect sizes of every pair and an interval per algorithm, for `scores` (`datasets x
/// algorithms`). `method` overrides autorank's choice.
pub fn effects(
    scores: &[Vec<f64>],
    names: &[String],
    alpha: f64,
    method: Option<EffectSize>,
) -> Result<Effects> {
    let k = names.len();
    if scores.iter().any(|row| row.len() != k) || k == 0 {
        return Err(Error::Internal("score matrix and names disagree".into()));
    }
    let columns: Vec<Vec<f64>> = (0..k)
        .map(|j| scores.iter().map(|row| row[j]).collect())
        .collect();
    let normality_alpha = alpha / k as f64;
    let normality_p: Vec<Option<f64>> = columns
        .iter()
        .map(|c| shapiro_wilk(c).ok().map(|s| s.p_value))
        .collect();
    let all_normal = normality_p
        .iter()
        .all(|p| p.is_some_and(|p| p >= normality_alpha));
    let method = method.unwrap_or(if all_normal {
        EffectSize::CohenD
    } else {
        EffectSize::AkinshinGamma
    });
    let mut pairs = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            let value = effect_size(method, &columns[i], &columns[j]);
            pairs.push(PairEffect {
                a: names[i].clone(),
                b: names[j].clone(),
                value,
                magnitude: magnitude(method, value),
            });
        }
    }
    let intervals = columns
        .iter()
        .zip(names)
        .map(|(c, name)| {
            let (centre, lower, upper) = confidence_interval(c, alpha / k as f64, all_normal);
            Interval {
                algorithm: name.clone(),
                centre,
                lower,
                upper,
            }
        })
        .collect();
    Ok(Effects {
        normality_p,
        normality_alpha,
        all_normal,
        method,
        pairs,
        intervals,
    })
}

/// The effect of `x` over `y` by `method`.
pub fn effect_size(method: EffectSize, x: &[f64], y: &[f64]) -> f64 {
    match method {
        EffectSize::CohenD => cohen_d(x, y),
        EffectSize::AkinshinGamma => akinshin_gamma(x, y),
        EffectSize::CliffDelta => cliff_delta(x, y),
    }
}

/// autorank's magnitude of an effect size.
pub fn magnitude(method: EffectSize, value: f64) -> Magnitude {
    let v = value.abs();
    let [small, medium, large] = match method {
        EffectSize::CliffDelta => [0.147, 0.33, 0.474],
        EffectSize::CohenD | EffectSize::AkinshinGamma => [0.2, 0.5, 0.8],
    };
    if v < small {
        Magnitude::Negligible
    } else if v < medium {
        Magnitude::Small
    } else if v < large {
        Magnitude::Medium
    } else {
        Magnitude::Large
    }
}

/// The median, the mean of the middle two for an even count (as NumPy).
fn median(x: &[f64]) -> f64 {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// The median absolute deviation scaled to estimate a normal's standard deviation.
fn scaled_mad(x: &[f64]) -> f64 {
    let m = median(x);
    let deviations: Vec<f64> = x.iter().map(|v| (v - m).abs()).collect();
    median(&deviations) / (1.0 / 1.4826)
}

fn pooled(x: &[f64], y: &[f64], spread_x: f64, spread_y: f64) -> f64 {
    let (nx, ny) = (x.len() as f64, y.len() as f64);
    (((nx - 1.0) * spread_x * spread_x + (ny - 1.0) * spread_y * spread_y) / (nx + ny - 2.0)).sqrt()
}

/// Cohen's d with the pooled standard deviation.
pub fn cohen_d(x: &[f64], y: &[f64]) -> f64 {
    let s = pooled(x, y, sample_variance(x).sqrt(), sample_variance(y).sqrt());
    (mean(x) - mean(y)) / s
}

/// Akinshin's gamma: Cohen's d on medians, with the pooled normal-scaled MAD.
pub fn akinshin_gamma(x: &[f64], y: &[f64]) -> f64 {
    let s = pooled(x, y, scaled_mad(x), scaled_mad(y));
    (median(x) - median(y)) / s
}

/// Cliff's delta, summed as autorank sums it (row by row, a sum below 1e-15 counted as 0).
pub fn cliff_delta(x: &[f64], y: &[f64]) -> f64 {
    let mut delta = 0.0;
    for &a in x {
        let wins: i64 = y.iter().map(|&b| i64::from(a > b) - i64::from(b > a)).sum();
        delta += wins as f64 / y.len() as f64;
    }
    if delta.abs() < 1e-15 {
        0.0
    } else {
        delta / x.len() as f64
    }
}

/// `(centre, lower, upper)` at level `1 - alpha`: the t-interval of the mean for normal data,
/// else the order statistics around the median that the normal approximation picks.
pub fn confidence_interval(x: &[f64], alpha: f64, normal: bool) -> (f64, f64, f64) {
    let n = x.len() as f64;
    if normal {
        let m = mean(x);
        let sem = (sample_variance(x) / n).sqrt();
        let t = StudentsT::new(0.0, 1.0, n - 1.0)
            .map(|d| d.inverse_cdf(1.0 - alpha / 2.0))
            .unwrap_or(f64::NAN);
        (m, m - sem * t, m + sem * t)
    } else {
        let z = Normal::standard().inverse_cdf(1.0 - alpha / 2.0);
        let r = (n / 2.0 - z * (n / 2.0).sqrt()).max(0.0);
        let s = (1.0 + n / 2.0 + z * (n / 2.0).sqrt()).min(n - 1.0);
        let mut sorted = x.to_vec();
        sorted.sort_by(f64::total_cmp);
        // Python's round(): halves to even.
        let at = |v: f64| sorted[v.round_ties_even() as usize];
        (median(x), at(r), at(s))
    }
}

/// The Shapiro-Wilk test of normality.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShapiroWilk {
    pub statistic: f64,
    pub p_value: f64,
}

/// Horner's rule, lowest coefficient first.
fn poly(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

/// Shapiro-Wilk's W and p-value by Royston's approximation, for 3 to 5000 values.
pub fn shapiro_wilk(x: &[f64]) -> Result<ShapiroWilk> {
    let n = x.len();
    if !(3..=5000).contains(&n) {
        return Err(Error::Invalid(format!(
            "Shapiro-Wilk needs 3 to 5000 values, got {n}"
        )));
    }
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let range = s[n - 1] - s[0];
    if range.is_nan() || range <= 0.0 {
        return Err(Error::Invalid(
            "Shapiro-Wilk needs values that are not all equal".into(),
        ));
    }
    let a = swilk_coefficients(n);
    let w1 = one_minus_w(&a, &s, range);
    Ok(ShapiroWilk {
        statistic: 1.0 - w1,
        p_value: swilk_p_value(n, w1),
    })
}

/// The coefficients of the upper half (AS R94), `a[0]` for the largest value.
fn swilk_coefficients(n: usize) -> Vec<f64> {
    let nf = n as f64;
    let half = n / 2;
    let mut a = vec![0.0; half];
    if n == 3 {
        a[0] = std::f64::consts::FRAC_1_SQRT_2;
    } else {
        let normal = Normal::standard();
        let m: Vec<f64> = (1..=half)
            .map(|i| -normal.inverse_cdf((i as f64 - 0.375) / (nf + 0.25)))
            .collect();
        let summ2 = 2.0 * m.iter().map(|v| v * v).sum::<f64>();
        let ssumm2 = summ2.sqrt();
        let rsn = 1.0 / nf.sqrt();
        const C1: [f64; 6] = [0.0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056];
        const C2: [f64; 6] = [0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633];
        let a1 = poly(&C1, rsn) + m[0] / ssumm2;
        let (first, fac) = if n > 5 {
            let a2 = poly(&C2, rsn) + m[1] / ssumm2;
            let fac = ((summ2 - 2.0 * m[0] * m[0] - 2.0 * m[1] * m[1])
                / (1.0 - 2.0 * a1 * a1 - 2.0 * a2 * a2))
                .sqrt();
            a[1] = a2;
            (2, fac)
        } else {
            let fac = ((summ2 - 2.0 * m[0] * m[0]) / (1.0 - 2.0 * a1 * a1)).sqrt();
            (1, fac)
        };
        a[0] = a1;
        for i in first..half {
            a[i] = m[i] / fac;
        }
    }
    a
}

/// `1 - W`, W being the squared correlation of the coefficients `a` and the sorted values `s`
/// (centred on their median, as SciPy does, and scaled by `range`), in AS R94's form.
fn one_minus_w(a: &[f64], s: &[f64], range: f64) -> f64 {
    let n = s.len();
    let nf = n as f64;
    let half = n / 2;
    let full: Vec<f64> = (0..n)
        .map(|i| {
            if i < half {
                -a[i]
            } else if i >= n - half {
                a[n - 1 - i]
            } else {
                0.0
            }
        })
        .collect();
    let centre = median(s);
    let xs: Vec<f64> = s.iter().map(|v| (v - centre) / range).collect();
    let sa = full.iter().sum::<f64>() / nf;
    let sx = xs.iter().sum::<f64>() / nf;
    let (mut ssa, mut ssx, mut sax) = (0.0, 0.0, 0.0);
    for (ai, xi) in full.iter().zip(&xs) {
        let (da, dx) = (ai - sa, xi - sx);
        ssa += da * da;
        ssx += dx * dx;
        sax += da * dx;
    }
    let ssassx = (ssa * ssx).sqrt();
    (ssassx - sax) * (ssassx + sax) / (ssa * ssx)
}

/// The p-value of `w1 = 1 - W` for `n` values (AS R94's approximations).
fn swilk_p_value(n: usize, w1: f64) -> f64 {
    let nf = n as f64;
    if n == 3 {
        let pi6 = 6.0 / std::f64::consts::PI;
        let stqr = std::f64::consts::FRAC_PI_3;
        (pi6 * ((1.0 - w1).sqrt().asin() - stqr)).max(0.0)
    } else {
        let y = w1.ln();
        if n <= 11 {
            let gamma = poly(&[-2.273, 0.459], nf);
            if y >= gamma {
                1e-99
            } else {
                let m = poly(&[0.544, -0.39978, 0.025054, -6.714e-4], nf);
                let sd = poly(&[1.3822, -0.77857, 0.062767, -0.0020322], nf).exp();
                normal_sf((-(gamma - y).ln() - m) / sd)
            }
        } else {
            let xx = nf.ln();
            let m = poly(&[-1.5861, -0.31082, -0.083751, 0.0038915], xx);
            let sd = poly(&[-0.4803, -0.082676, 0.0030302], xx).exp();
            normal_sf((y - m) / sd)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitudes_follow_autoranks_thresholds() {
        assert_eq!(magnitude(EffectSize::CohenD, -0.19), Magnitude::Negligible);
        assert_eq!(magnitude(EffectSize::CohenD, 0.5), Magnitude::Medium);
        assert_eq!(magnitude(EffectSize::CliffDelta, 0.2), Magnitude::Small);
        assert_eq!(magnitude(EffectSize::CliffDelta, -0.5), Magnitude::Large);
    }

    #[test]
    fn cliff_delta_counts_wins_and_losses() {
        assert_eq!(cliff_delta(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(cliff_delta(&[1.0, 2.0], &[3.0, 4.0]), -1.0);
        assert_eq!(cliff_delta(&[1.0, 3.0], &[2.0, 2.0]), 0.0);
    }

    #[test]
    fn shapiro_wilk_refuses_what_it_cannot_test() {
        assert!(shapiro_wilk(&[1.0, 2.0]).is_err());
        assert!(shapiro_wilk(&[1.0, 1.0, 1.0]).is_err());
    }
}
