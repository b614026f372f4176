//! Tail probabilities of the distributions the tests need.
//!
//! The chi-square, F and normal tails come from `statrs`' special functions, called so that
//! small p-values keep their relative precision. The studentized range distribution with
//! infinite degrees of freedom (Nemenyi's test, the critical difference) is not in any crate:
//! it is integrated here by composite Gauss-Legendre quadrature.

use std::f64::consts::{FRAC_1_SQRT_2, PI};
use std::sync::OnceLock;

use statrs::function::{beta::beta_reg, erf::erfc, gamma::gamma_ur};

/// P(X > x) for X ~ chi-square with `df` degrees of freedom.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    gamma_ur(df / 2.0, x / 2.0)
}

/// P(X > x) for X ~ F(`df1`, `df2`).
pub fn f_sf(x: f64, df1: f64, df2: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    beta_reg(df2 / 2.0, df1 / 2.0, df2 / (df2 + df1 * x))
}

/// P(Z > z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z * FRAC_1_SQRT_2)
}

fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// Nodes and weights of 16-point Gauss-Legendre quadrature on [-1, 1], found by Newton's
/// method on the Legendre polynomial.
fn gauss_legendre() -> &'static [(f64, f64)] {
    static RULE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    RULE.get_or_init(|| {
        const N: usize = 16;
        let mut rule = Vec::with_capacity(N);
        for i in 0..N {
            let mut x = (PI * (i as f64 + 0.75) / (N as f64 + 0.5)).cos();
            let mut derivative = 0.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for j in 2..=N {
                    let p2 = ((2 * j - 1) as f64 * x * p1 - (j - 1) as f64 * p0) / j as f64;
                    p0 = p1;
                    p1 = p2;
                }
                derivative = N as f64 * (x * p1 - p0) / (x * x - 1.0);
                let step = p1 / derivative;
                x -= step;
                if step.abs() < 1e-16 {
                    break;
                }
            }
            rule.push((x, 2.0 / ((1.0 - x * x) * derivative * derivative)));
        }
        rule
    })
}

/// Integral of `f` over [a, b] in `panels` equal panels of Gauss-Legendre quadrature.
fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64, panels: usize) -> f64 {
    let width = (b - a) / panels as f64;
    let rule = gauss_legendre();
    let mut total = 0.0;
    for p in 0..panels {
        let mid = a + (p as f64 + 0.5) * width;
        let half = width / 2.0;
        total += half
            * rule
                .iter()
                .map(|&(x, w)| w * f(mid + half * x))
                .sum::<f64>();
    }
    total
}

/// P(Q > q) where Q is the range of `k` independent standard normals (the studentized range
/// with infinite degrees of freedom), as `scipy.stats.studentized_range.sf(q, k, inf)`.
///
/// With Φ the normal CDF, P(Q ≤ q) = k ∫ φ(z) (Φ(z) − Φ(z − q))^(k−1) dz. The tail is
/// integrated directly, as k ∫ φ(z) (Φ(z)^(k−1) − (Φ(z) − Φ(z − q))^(k−1)) dz, so that small
/// p-values keep their relative precision instead of being 1 minus a number close to 1.
pub fn studentized_range_sf(q: f64, k: usize) -> f64 {
    if q.is_nan() || k < 2 {
        return f64::NAN;
    }
    if q <= 0.0 {
        return 1.0;
    }
    if q.is_infinite() {
        return 0.0;
    }
    let m = k - 1;
    let integrand = |z: f64| {
        // Φ(z) and Φ(z − q) as tails, each on the side where it is small and exact.
        let (phi_z, phi_zq) = (normal_sf(-z), normal_sf(q - z));
        let inside = if z >= 0.0 {
            normal_sf(z - q) - normal_sf(z)
        } else {
            phi_z - phi_zq
        };
        // a^m − b^m = (a − b) Σ a^i b^(m−1−i) with a − b = Φ(z − q), exactly.
        let mut sum = 0.0;
        let mut a_pow = 1.0;
        for i in 0..m {
            sum += a_pow * inside.powi((m - 1 - i) as i32);
            a_pow *= phi_z;
        }
        normal_pdf(z) * phi_zq * sum
    };
    let p = k as f64 * integrate(integrand, -9.0, 9.0 + q / 2.0, 48);
    p.clamp(0.0, 1.0)
}

/// The `1 - alpha` quantile of the studentized range of `k` standard normals: the q with
/// [`studentized_range_sf`]`(q, k) == alpha` (Demšar's q_α times √2).
pub fn studentized_range_isf(alpha: f64, k: usize) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while studentized_range_sf(hi, k) > alpha {
        lo = hi;
        hi *= 2.0;
        if hi > 1e3 {
            return f64::NAN;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if studentized_range_sf(mid, k) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_rule_integrates_polynomials_exactly() {
        let sum: f64 = gauss_legendre().iter().map(|&(_, w)| w).sum();
        assert!((sum - 2.0).abs() < 1e-14);
        let x30 = integrate(|x| x.powi(30), 0.0, 1.0, 1);
        assert!((x30 - 1.0 / 31.0).abs() < 1e-14, "{x30}");
    }

    #[test]
    fn range_of_two_normals_is_a_scaled_half_normal() {
        // The range of two standard normals is |N(0, 2)|: P(Q > q) = 2 P(Z > q / √2).
        for q in [0.1, 1.0, 2.5, 5.0, 8.0] {
            let expected = 2.0 * normal_sf(q / 2f64.sqrt());
            let got = studentized_range_sf(q, 2);
            assert!(
                ((got - expected) / expected).abs() < 1e-10,
                "{q}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn critical_values_match_demsar_table() {
        // Demšar (2006), Table 5: q_α for k = 2..10, given to 3 decimals (quantiles / √2).
        let table = [
            1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164,
        ];
        for (i, q) in table.iter().enumerate() {
            let got = studentized_range_isf(0.05, i + 2) / 2f64.sqrt();
            assert!((got - q).abs() < 1e-3, "k={}: {got} vs {q}", i + 2);
        }
        let table10 = [
            1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920,
        ];
        for (i, q) in table10.iter().enumerate() {
            let got = studentized_range_isf(0.10, i + 2) / 2f64.sqrt();
            assert!((got - q).abs() < 1e-3, "k={}: {got} vs {q}", i + 2);
        }
    }
}
