//! Mean, variance and standard deviation of a sample: the one implementation behind the
//! table's "mean ± sd", the report's summaries and the effect sizes; and a distribution-free
//! interval for a median (benchmarks' rounds).

use statrs::distribution::{Binomial, DiscreteCDF};

/// Arithmetic mean; NaN for no values.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample variance (n - 1 in the denominator, numpy's `ddof=1`); NaN with fewer than two
/// values.
pub fn sample_variance(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return f64::NAN;
    }
    let m = mean(values);
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    ss / (values.len() - 1) as f64
}

/// Sample standard deviation (`ddof=1`); NaN with fewer than two values.
pub fn sample_std(values: &[f64]) -> f64 {
    sample_variance(values).sqrt()
}

/// A confidence interval for the median of a sample, from its order statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianInterval {
    pub lower: f64,
    pub upper: f64,
    /// The probability that the interval holds the population's median, for any continuous
    /// distribution (at least the level asked for).
    pub coverage: f64,
}

/// The narrowest interval `[x_(k), x_(n+1-k)]` (order statistics, 1-based) whose coverage,
/// `1 - 2 P(B < k)` for `B ~ Binomial(n, 1/2)`, is at least `level` (e.g. 0.95): the exact,
/// distribution-free interval of a median (Conover, *Practical Nonparametric Statistics*,
/// chapter 3), which assumes only independent draws. `None` when even the smallest and largest
/// values cover less than `level` (fewer than 6 values at 0.95), or a value is NaN.
pub fn median_interval(values: &[f64], level: f64) -> Option<MedianInterval> {
    let n = values.len();
    if n == 0 || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let b = Binomial::new(0.5, n as u64).ok()?;
    let coverage = |k: usize| 1.0 - 2.0 * if k == 0 { 0.0 } else { b.cdf(k as u64 - 1) };
    let k = (1..=n.div_ceil(2))
        .take_while(|&k| coverage(k) >= level)
        .last()?;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(MedianInterval {
        lower: sorted[k - 1],
        upper: sorted[n - k],
        coverage: coverage(k),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_is_the_sample_std() {
        let s = sample_std(&[1.0, 2.0, 3.0, 4.0]);
        assert!((s - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(sample_variance(&[1.0, 2.0, 3.0, 4.0]), 5.0 / 3.0);
        assert!(sample_std(&[1.0]).is_nan());
        assert!(mean(&[]).is_nan());
        assert_eq!(mean(&[1.0, 2.0]), 1.5);
    }

    #[test]
    fn the_median_interval_takes_the_order_statistics_of_the_binomial_table() {
        // 15 values: ranks 4 and 12, coverage 1 - 2 * 576 / 32768 (P(B <= 3) for n = 15).
        let x: Vec<f64> = (1..=15).rev().map(f64::from).collect();
        let i = median_interval(&x, 0.95).unwrap();
        assert_eq!((i.lower, i.upper), (4.0, 12.0));
        assert!(
            (i.coverage - (1.0 - 2.0 * 576.0 / 32768.0)).abs() < 1e-12,
            "{i:?}"
        );
        // 10 values: ranks 2 and 9 (P(B <= 1) = 11 / 1024).
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let i = median_interval(&x, 0.95).unwrap();
        assert_eq!((i.lower, i.upper), (2.0, 9.0));
        assert!((i.coverage - (1.0 - 22.0 / 1024.0)).abs() < 1e-12, "{i:?}");
        // 6 values: only the extremes reach 95% (1 - 2 / 64); 5 cannot (1 - 2 / 32).
        let i = median_interval(&[3.0, 1.0, 2.0, 6.0, 5.0, 4.0], 0.95).unwrap();
        assert_eq!((i.lower, i.upper), (1.0, 6.0));
        assert!((i.coverage - (1.0 - 2.0 / 64.0)).abs() < 1e-12);
        assert_eq!(median_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95), None);
        assert!(median_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9).is_some());
        assert_eq!(median_interval(&[], 0.95), None);
        assert_eq!(
            median_interval(&[1.0; 9].map(|v: f64| v * f64::NAN), 0.95),
            None
        );
    }
}
