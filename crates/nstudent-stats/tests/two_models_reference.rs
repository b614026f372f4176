//! McNemar's test and the paired bootstrap interval against statsmodels and SciPy (fixtures
//! made by `tests/fixtures/make_two_models_fixtures.py`; the tests need no Python).
//!
//! McNemar's p-values are exact and agree to 1e-9. The interval is sampled by both, SciPy with
//! 200,000 resamples and nstudent with its default 10,000: each end must agree to within one
//! image's worth of accuracy (1/n) plus 0.002 of Monte Carlo error.

use std::path::Path;

use nstudent_stats::two_models::{compare_outcomes, BootstrapSettings};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two_models.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    data["cases"].as_array().unwrap().clone()
}

fn outcomes(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() == 1)
        .collect()
}

#[test]
fn mcnemar_equals_statsmodels_and_the_interval_scipy() {
    let cases = cases();
    assert!(cases.len() >= 6);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (first, second) = (outcomes(&case["first"]), outcomes(&case["second"]));
        let got = compare_outcomes(&first, &second, BootstrapSettings::default()).unwrap();
        let m = &got.mcnemar;
        assert_eq!(
            m.only_first as u64,
            case["only_first"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            m.only_second as u64,
            case["only_second"].as_u64().unwrap(),
            "{name}"
        );
        let exact = case["exact_p"].as_f64().unwrap();
        assert!(
            (m.exact_p - exact).abs() <= 1e-9,
            "{name}: exact p {} vs {exact}",
            m.exact_p
        );
        match (m.chi2_p, case["chi2_p"].as_f64()) {
            (Some(p), Some(r)) => assert!((p - r).abs() <= 1e-9, "{name}: chi2 p {p} vs {r}"),
            (None, None) => {}
            (p, r) => panic!("{name}: chi2 p {p:?} vs {r:?}"),
        }
        let n = first.len() as f64;
        let difference = case["difference"].as_f64().unwrap();
        assert!((got.difference - difference).abs() <= 1e-12, "{name}");
        let tolerance = 1.0 / n + 0.002;
        for (what, value, reference) in [
            ("low", got.interval.low, case["low"].as_f64().unwrap()),
            ("high", got.interval.high, case["high"].as_f64().unwrap()),
        ] {
            assert!(
                (value - reference).abs() <= tolerance,
                "{name}: interval {what} {value} vs SciPy's {reference} (tolerance {tolerance})"
            );
        }
    }
}
