//! nstudent-stats against values computed by scikit-learn, SciPy and scikit-posthocs
//! (fixtures made by `tests/fixtures/make_fixtures.py`; the tests need no Python).

use std::path::{Path, PathBuf};

use nstudent_stats::compare::{self, Analysis};
use nstudent_stats::table::MetricsTable;
use nstudent_stats::{dist, metrics};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[track_caller]
fn close(got: f64, want: f64, rel: f64, abs: f64, what: &str) {
    let ok = (got - want).abs() <= abs.max(rel * want.abs());
    assert!(ok, "{what}: got {got:e}, scikit/scipy {want:e}");
}

#[test]
fn scores_equal_scikit_learn() {
    let data = load("metrics.json");
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let k = case["num_classes"].as_u64().unwrap() as usize;
        let labels: Vec<u16> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u16)
            .collect();
        let proba: Vec<f32> = case["proba"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| f(v) as f32)
            .collect();
        let s = metrics::score(&labels, &proba, k).unwrap();
        let e = &case["expected"];
        for (key, got) in [
            ("accuracy", s.accuracy),
            ("tpr", s.tpr),
            ("fpr", s.fpr),
            ("precision", s.precision),
            ("auc", s.auc),
            ("pr_curve", s.pr_curve),
        ] {
            close(got, f(&e[key]), 0.0, 1e-9, &format!("{name} {key}"));
        }
    }
}

#[test]
fn studentized_range_equals_scipy() {
    let data = load("studentized_range.json");
    for v in data["sf"].as_array().unwrap() {
        let (q, k) = (f(&v["q"]), v["k"].as_u64().unwrap() as usize);
        let got = dist::studentized_range_sf(q, k);
        close(got, f(&v["sf"]), 1e-7, 1e-10, &format!("sf(q={q}, k={k})"));
    }
    for v in data["isf"].as_array().unwrap() {
        let (alpha, k) = (f(&v["alpha"]), v["k"].as_u64().unwrap() as usize);
        let got = dist::studentized_range_isf(alpha, k);
        close(
            got,
            f(&v["q"]),
            1e-8,
            0.0,
            &format!("isf(alpha={alpha}, k={k})"),
        );
    }
}

#[test]
fn wilcoxon_equals_scipy() {
    let data = load("wilcoxon.json");
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 60);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let vec = |key: &str| -> Vec<f64> { case[key].as_array().unwrap().iter().map(f).collect() };
        let w = compare::wilcoxon(&vec("x"), &vec("y")).unwrap();
        close(
            w.statistic,
            f(&case["statistic"]),
            1e-12,
            1e-12,
            &format!("{name} W"),
        );
        close(
            w.p_value,
            f(&case["p_value"]),
            1e-9,
            1e-14,
            &format!("{name} p"),
        );
    }
}

/// Compares an analysis with the reference JSON of the same shape.
fn check_analysis(got: &Analysis, want: &Value, name: &str) {
    let json = serde_json::to_value(got).unwrap();
    assert_eq!(json["datasets"], want["datasets"], "{name}");
    assert_eq!(json["algorithms"], want["algorithms"], "{name}");
    let ranks = want["mean_ranks"].as_object().unwrap();
    let got_ranks = json["mean_ranks"].as_object().unwrap();
    assert_eq!(got_ranks.len(), ranks.len(), "{name}");
    for (alg, r) in ranks {
        close(
            f(&got_ranks[alg]),
            f(r),
            1e-12,
            0.0,
            &format!("{name} rank {alg}"),
        );
    }
    match want["friedman"].as_object() {
        None => {
            assert!(json["friedman"].is_null(), "{name}");
            assert!(json["iman_davenport"].is_null(), "{name}");
            assert!(json["nemenyi"].is_null(), "{name}");
        }
        Some(fr) => {
            let g = &json["friedman"];
            close(
                f(&g["statistic"]),
                f(&fr["statistic"]),
                1e-9,
                0.0,
                &format!("{name} chi2"),
            );
            close(
                f(&g["p_value"]),
                f(&fr["p_value"]),
                1e-9,
                0.0,
                &format!("{name} friedman p"),
            );
            assert_eq!(g["df"], fr["df"], "{name}");
            let (g, w) = (&json["iman_davenport"], &want["iman_davenport"]);
            if w["statistic"].is_null() {
                assert!(g["statistic"].is_null(), "{name}: {g}");
            } else {
                close(
                    f(&g["statistic"]),
                    f(&w["statistic"]),
                    1e-9,
                    0.0,
                    &format!("{name} F"),
                );
            }
            close(
                f(&g["p_value"]),
                f(&w["p_value"]),
                1e-8,
                1e-300,
                &format!("{name} F p"),
            );
            let (g, w) = (&json["nemenyi"], &want["nemenyi"]);
            close(
                f(&g["critical_difference"]),
                f(&w["critical_difference"]),
                1e-8,
                0.0,
                &format!("{name} CD"),
            );
            let (gp, wp) = (
                g["p_values"].as_array().unwrap(),
                w["p_values"].as_array().unwrap(),
            );
            assert_eq!(gp.len(), wp.len());
            for (i, (gr, wr)) in gp.iter().zip(wp).enumerate() {
                for (j, (a, b)) in gr
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(wr.as_array().unwrap())
                    .enumerate()
                {
                    close(f(a), f(b), 0.0, 1e-6, &format!("{name} nemenyi[{i}][{j}]"));
                }
            }
        }
    }
    let (g, w) = (
        json["wilcoxon_holm"].as_array().unwrap(),
        want["wilcoxon_holm"].as_array().unwrap(),
    );
    assert_eq!(g.len(), w.len(), "{name}");
    for (a, b) in g.iter().zip(w) {
        assert_eq!(a["a"], b["a"], "{name}");
        assert_eq!(a["b"], b["b"], "{name}");
        let pair = format!("{name} {}-{}", b["a"], b["b"]);
        close(f(&a["statistic"]), f(&b["statistic"]), 1e-12, 1e-12, &pair);
        close(f(&a["p_value"]), f(&b["p_value"]), 1e-9, 1e-14, &pair);
        close(f(&a["p_adjusted"]), f(&b["p_adjusted"]), 1e-9, 1e-14, &pair);
    }
}

/// A metrics table with one fold per (dataset, algorithm) holding the matrix' values.
/// A metrics table holding `matrix / 2` in the `metric` column.
fn table_of(matrix: &[Vec<f64>], names: &[String], metric: &str) -> MetricsTable {
    let mut csv = String::from(
        ",Dataset Name,Algorithm Name,Cross Validation [1-10],Hyper-Parameters Values,Accuracy,TPR,FPR,Precision,AUC,PR-Curve,Training Time,Inference Time\n",
    );
    let col = nstudent_stats::table::METRICS
        .iter()
        .position(|m| *m == metric)
        .unwrap();
    let mut i = 0;
    for (d, row) in matrix.iter().enumerate() {
        for (a, v) in row.iter().enumerate() {
            let mut cells = vec!["0.5".to_string(); 8];
            // Halved, exactly (a power of two), to fit the metric's [0, 1]: every test is
            // rank-based, so ranks, statistics and p-values stay those of the reference.
            cells[col] = format!("{:?}", v * 0.5);
            csv.push_str(&format!(
                "{i},data {d},{},1,None,{}\n",
                names[a],
                cells.join(",")
            ));
            i += 1;
        }
    }
    MetricsTable::from_reader(csv.as_bytes(), Path::new("matrix.csv")).unwrap()
}

#[test]
fn analyses_equal_scipy_and_scikit_posthocs() {
    let data = load("compare.json");
    let cases = data["cases"].as_array().unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let matrix: Vec<Vec<f64>> = case["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(f).collect())
            .collect();
        let want = &case["expected"];
        let names: Vec<String> = want["algorithms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let lower = case["lower_is_better"].as_bool().unwrap();
        let metric = if lower { "FPR" } else { "Accuracy" };
        let table = table_of(&matrix, &names, metric);
        let alpha = f(&case["alpha"]);
        let got = compare::analyze(&table, metric, alpha).unwrap();
        check_analysis(&got, want, name);
        // The separate entry points agree with the analysis.
        if names.len() >= 3 {
            let fr = compare::friedman(&matrix).unwrap();
            assert_eq!(Some(fr), got.friedman, "{name}");
            let id = compare::iman_davenport(&matrix).unwrap();
            assert_eq!(Some(id), got.iman_davenport, "{name}");
        } else {
            let e = compare::friedman(&matrix).unwrap_err().to_string();
            assert!(
                e.contains("at least 3 algorithms") && e.contains("Wilcoxon"),
                "{e}"
            );
        }
    }
}

#[test]
fn analyses_of_metrics_tables_equal_the_references() {
    for name in ["three", "five_ties", "four_mixed", "two"] {
        let table = MetricsTable::read(&fixture(&format!("table_{name}.csv"))).unwrap();
        let want = load(&format!("table_{name}.expected.json"));
        for (metric, expected) in want["analyses"].as_object().unwrap() {
            let got = compare::analyze(&table, metric, 0.05).unwrap();
            assert_eq!(got.metric, *metric);
            check_analysis(&got, expected, &format!("{name} {metric}"));
        }
    }
}
