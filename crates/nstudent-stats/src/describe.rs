//! Mean, variance and standard deviation of a sample: the one implementation behind the
//! table's "mean ± sd", the report's summaries and the effect sizes.

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
}
