//! The paired tests against baycomp 1.0.3 and SciPy (fixtures made by
//! `tests/fixtures/make_paired_fixtures.py`; the tests need no Python).
//!
//! The corrected resampled t-test and the Bayesian correlated t-test are exact, and agree to
//! 1e-6. The Bayesian signed-rank test is sampled by both: each probability must lie within
//! five standard errors of the two Monte Carlo estimates combined.

use std::path::Path;

use nstudent_stats::paired::{correlated_t, signed_rank, Probabilities};
use serde_json::Value;

fn load() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/paired.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

fn triple(p: &Probabilities) -> [f64; 3] {
    [p.first_better, p.equivalent, p.second_better]
}

#[test]
fn correlated_t_tests_equal_baycomp_and_scipy_to_1e6() {
    let data = load();
    let cases = data["correlated_t"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (floats(&case["x"]), floats(&case["y"]));
        let rope = case["rope"].as_f64().unwrap();
        let runs = case["runs"].as_u64().unwrap() as usize;
        let got = correlated_t(&x, &y, rope, runs).unwrap();
        let close = |a: f64, b: f64, what: &str| {
            assert!(
                (a - b).abs() <= 1e-6,
                "{name} {what}: got {a}, reference {b}"
            )
        };
        close(got.mean, case["mean"].as_f64().unwrap(), "mean");
        close(got.scale, case["scale"].as_f64().unwrap(), "scale");
        close(got.df, case["df"].as_f64().unwrap(), "df");
        close(got.p_value, case["p_value"].as_f64().unwrap(), "p-value");
        if let Some(t) = case["t"].as_f64() {
            close(got.t, t, "t");
        }
        for (g, w) in triple(&got.probabilities)
            .iter()
            .zip(floats(&case["probabilities"]))
        {
            close(*g, w, "probabilities");
        }
    }
}

#[test]
fn signed_rank_tests_equal_baycomp_within_monte_carlo_error() {
    let data = load();
    let cases = data["signed_rank"].as_array().unwrap();
    assert!(cases.len() >= 6);
    let ours = 200_000usize;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (floats(&case["x"]), floats(&case["y"]));
        let rope = case["rope"].as_f64().unwrap();
        let prior = case["prior"].as_f64().unwrap();
        let theirs = case["nsamples"].as_f64().unwrap();
        let got = signed_rank(&x, &y, rope, prior, ours, 11).unwrap();
        for (g, w) in triple(&got).iter().zip(floats(&case["probabilities"])) {
            let p = (g + w) / 2.0;
            let se = (p * (1.0 - p) * (1.0 / theirs + 1.0 / ours as f64)).sqrt();
            assert!(
                (g - w).abs() <= 5.0 * se + 1e-3,
                "{name}: got {got:?}, baycomp {}",
                case["probabilities"]
            );
        }
    }
}
