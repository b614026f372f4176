//! Effect sizes, magnitudes, confidence intervals and Shapiro-Wilk against autorank's own
//! functions and its whole pipeline, and SciPy (fixtures made by
//! `tests/fixtures/make_effect_fixtures.py`; the tests need no Python).

use std::path::Path;

use nstudent_stats::effect::{
    confidence_interval, effect_size, effects, magnitude, shapiro_wilk, EffectSize, Magnitude,
};
use serde_json::Value;

fn load() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/effect.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Equal within `rel` (relative) or 1e-14 (absolute); a JSON null stands for NaN.
#[track_caller]
fn close(got: f64, want: &Value, rel: f64, what: &str) {
    match want.as_f64() {
        None => assert!(got.is_nan(), "{what}: got {got:e}, autorank NaN"),
        Some(w) => assert!(
            (got - w).abs() <= 1e-14_f64.max(rel * w.abs()),
            "{what}: got {got:e}, reference {w:e}"
        ),
    }
}

fn magnitude_name(m: Magnitude) -> &'static str {
    match m {
        Magnitude::Negligible => "negligible",
        Magnitude::Small => "small",
        Magnitude::Medium => "medium",
        Magnitude::Large => "large",
    }
}

fn column(scores: &[Vec<f64>], j: usize) -> Vec<f64> {
    scores.iter().map(|r| r[j]).collect()
}

#[test]
fn effect_sizes_intervals_and_normality_equal_autoranks() {
    let data = load();
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    let mut compared_pipelines = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let scores: Vec<Vec<f64>> = serde_json::from_value(case["scores"].clone()).unwrap();
        let names: Vec<String> = serde_json::from_value(case["names"].clone()).unwrap();
        let k = names.len();
        let alpha = 0.05;
        let got = effects(&scores, &names, alpha, None).unwrap();

        for (j, sw) in case["shapiro"].as_array().unwrap().iter().enumerate() {
            let s = shapiro_wilk(&column(&scores, j)).unwrap();
            close(
                s.statistic,
                &sw[0],
                1e-8,
                &format!("{name} W of {}", names[j]),
            );
            close(
                s.p_value,
                &sw[1],
                1e-6,
                &format!("{name} Shapiro p of {}", names[j]),
            );
        }
        assert_eq!(
            got.all_normal,
            case["all_normal"].as_bool().unwrap(),
            "{name}"
        );

        for pair in case["pairs"].as_array().unwrap() {
            let a = names
                .iter()
                .position(|n| n == pair["a"].as_str().unwrap())
                .unwrap();
            let b = names
                .iter()
                .position(|n| n == pair["b"].as_str().unwrap())
                .unwrap();
            let (x, y) = (column(&scores, a), column(&scores, b));
            for (method, key) in [
                (EffectSize::CohenD, "cohen_d"),
                (EffectSize::AkinshinGamma, "akinshin_gamma"),
                (EffectSize::CliffDelta, "cliff_delta"),
            ] {
                let v = effect_size(method, &x, &y);
                close(v, &pair[key], 1e-12, &format!("{name} {key} {a}-{b}"));
            }
            for (method, key) in [
                (EffectSize::CohenD, "magnitude_cohen_d"),
                (EffectSize::CliffDelta, "magnitude_cliff_delta"),
            ] {
                let m = magnitude(method, effect_size(method, &x, &y));
                assert_eq!(
                    magnitude_name(m),
                    pair[key].as_str().unwrap(),
                    "{name} {key}"
                );
            }
        }

        for (normal, want) in case["intervals"].as_object().unwrap() {
            let normal = normal == "True";
            for (j, w) in want.as_array().unwrap().iter().enumerate() {
                let (_, lo, hi) =
                    confidence_interval(&column(&scores, j), alpha / k as f64, normal);
                close(
                    lo,
                    &w[0],
                    1e-9,
                    &format!("{name} CI low {j} normal={normal}"),
                );
                close(
                    hi,
                    &w[1],
                    1e-9,
                    &format!("{name} CI high {j} normal={normal}"),
                );
            }
        }

        // autorank's pipeline: effect sizes against its best-ranked algorithm, by the method
        // it chose, and its intervals where they are not Tukey's.
        let Some(whole) = case["autorank"].as_object() else {
            continue;
        };
        compared_pipelines += 1;
        let best = names
            .iter()
            .position(|n| n == whole["best"].as_str().unwrap())
            .unwrap();
        for (j, n) in names.iter().enumerate() {
            let v = effect_size(got.method, &column(&scores, best), &column(&scores, j));
            close(
                v,
                &whole["effect_size"][n],
                1e-12,
                &format!("{name} autorank effect {n}"),
            );
            assert_eq!(
                magnitude_name(magnitude(got.method, v)),
                whole["magnitude"][n].as_str().unwrap(),
                "{name} {n}"
            );
            if whole["intervals_comparable"].as_bool().unwrap() {
                let i = &got.intervals[j];
                close(
                    i.lower,
                    &whole["ci"][n][0],
                    1e-9,
                    &format!("{name} autorank CI {n}"),
                );
                close(
                    i.upper,
                    &whole["ci"][n][1],
                    1e-9,
                    &format!("{name} autorank CI {n}"),
                );
            }
        }
    }
    assert!(compared_pipelines >= 5);
}
