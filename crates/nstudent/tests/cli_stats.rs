//! `nstudent score` and `nstudent stats` end to end: outputs, exit codes, one-line errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn nstudent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(args)
        .output()
        .expect("run nstudent")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nstudent-stats/tests/fixtures")
        .join(name)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2, nothing on stdout, one line on stderr containing every `needle`.
#[track_caller]
fn assert_user_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(o));
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in: {err}");
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn json(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap()
}

#[test]
fn score_prints_scikit_learn_values_as_json_and_text() {
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("metrics.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A multiclass case with ties and a binary one.
    for case in [&data["cases"][4], &data["cases"][3]] {
        let k = case["num_classes"].as_u64().unwrap() as usize;
        let mut labels = String::from("label\n");
        for l in case["labels"].as_array().unwrap() {
            labels.push_str(&format!("{l}\n"));
        }
        let header: Vec<String> = (0..k).map(|c| format!("p{c}")).collect();
        let mut proba = header.join(",") + "\n";
        for row in case["proba"].as_array().unwrap().chunks(k) {
            let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
            proba.push_str(&(cells.join(",") + "\n"));
        }
        let l = write(dir.path(), "labels.csv", &labels);
        let p = write(dir.path(), "proba.csv", &proba);
        let out = json(&nstudent(&[
            "score", "--labels", &l, "--proba", &p, "--format", "json",
        ]));
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 6, "{out}");
        for key in ["accuracy", "tpr", "fpr", "precision", "auc", "pr_curve"] {
            let (got, want) = (
                out[key].as_f64().unwrap(),
                case["expected"][key].as_f64().unwrap(),
            );
            assert!((got - want).abs() < 1e-9, "{key}: {got} vs {want}");
        }
        let text = nstudent(&["score", "--labels", &l, "--proba", &p]);
        assert_eq!(text.status.code(), Some(0));
        let text = stdout(&text);
        let acc = case["expected"]["accuracy"].as_f64().unwrap();
        assert!(text.contains(&format!("accuracy   {acc:.6}")), "{text}");
        assert!(text.contains(&format!("{} classes", k)), "{text}");
    }
}

#[test]
fn score_warns_about_rows_that_are_not_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let l = write(dir.path(), "l.csv", "0\n1\n1\n");
    let p = write(dir.path(), "p.csv", "2.0,1.0\n0.2,0.8\n0.5,3\n");
    let o = nstudent(&["score", "--labels", &l, "--proba", &p, "--format", "json"]);
    assert_eq!(json(&o)["accuracy"], 1.0);
    let err = stderr(&o);
    assert!(
        err.contains("warning: 2 of 3 rows") && err.contains("line 1 sums to 3"),
        "{err}"
    );
}

#[test]
fn score_rejects_bad_files_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let l = write(d, "l.csv", "0\n1\n2\n");
    let p = write(d, "p.csv", "0.5,0.3,0.2\n0.1,0.8,0.1\n");
    let o = nstudent(&["score", "--labels", &l, "--proba", &p]);
    assert_user_error(&o, &["holds 3 labels", "2 rows"]);
    let bad = write(d, "bad.csv", "0.5,0.3,0.2\n0.1,high,0.1\n0.2,0.2,0.6\n");
    assert_user_error(
        &nstudent(&["score", "--labels", &l, "--proba", &bad]),
        &["line 2, column 2", "\"high\""],
    );
    let empty = write(d, "empty.csv", "");
    assert_user_error(
        &nstudent(&["score", "--labels", &empty, "--proba", &p]),
        &["no labels"],
    );
    let missing = d.join("nope.csv");
    assert_user_error(
        &nstudent(&[
            "score",
            "--labels",
            &l,
            "--proba",
            missing.to_str().unwrap(),
        ]),
        &["nope.csv"],
    );
    let absent = write(d, "l2.csv", "0\n0\n1\n");
    let p3 = write(d, "p3.csv", "0.5,0.3,0.2\n0.1,0.8,0.1\n0.2,0.2,0.6\n");
    assert_user_error(
        &nstudent(&["score", "--labels", &absent, "--proba", &p3]),
        &["class 2 has no sample"],
    );
    let out_of_range = write(d, "l3.csv", "0\n1\n7\n");
    assert_user_error(
        &nstudent(&["score", "--labels", &out_of_range, "--proba", &p3]),
        &["label 7"],
    );
}

#[test]
fn stats_json_has_the_documented_shape_and_values() {
    let table = fixture("table_three.csv");
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("table_three.expected.json")).unwrap(),
    )
    .unwrap();
    for metric in ["Accuracy", "FPR"] {
        let o = nstudent(&[
            "stats",
            table.to_str().unwrap(),
            "--metric",
            metric,
            "--format",
            "json",
        ]);
        let got = json(&o);
        let keys: Vec<&str> = got
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        // The tests that respect dependence come on accuracy (the study's pre-registration).
        let mut documented = vec![
            "algorithms",
            "blocks",
            "datasets",
            "effects",
            "friedman",
            "iman_davenport",
            "mean_ranks",
            "metric",
            "nemenyi",
            "wilcoxon_holm",
        ];
        if metric == "Accuracy" {
            documented.extend(["paired", "paired_settings"]);
            documented.sort_unstable();
        }
        assert_eq!(sorted, documented);
        assert_eq!(got["blocks"], "tasks", "the rank tests are across tasks");
        let want = &want["analyses"][metric];
        assert_eq!(got["metric"], metric);
        assert_eq!(got["algorithms"], want["algorithms"]);
        assert_eq!(got["datasets"], want["datasets"]);
        assert_eq!(got["mean_ranks"], want["mean_ranks"]);
        let rel = |a: &Value, b: &Value| {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            (a - b).abs() <= 1e-9 * b.abs()
        };
        assert!(rel(
            &got["friedman"]["statistic"],
            &want["friedman"]["statistic"]
        ));
        assert!(rel(
            &got["friedman"]["p_value"],
            &want["friedman"]["p_value"]
        ));
        assert_eq!(got["friedman"]["df"], 2);
        // mean_ranks lists the algorithms in their order (serde_json here sorts keys, so read
        // the raw text).
        let raw = stdout(&o);
        let ranks_text =
            &raw[raw.find("\"mean_ranks\"").unwrap()..raw.find("\"friedman\"").unwrap()];
        let positions: Vec<usize> = got["algorithms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                ranks_text
                    .find(&format!("\"{}\":", a.as_str().unwrap()))
                    .unwrap()
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{ranks_text}");
        let p = got["nemenyi"]["p_values"].as_array().unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1][1], 1.0);
        assert_eq!(got["wilcoxon_holm"].as_array().unwrap().len(), 3);
        for key in ["a", "b", "statistic", "p_value", "p_adjusted"] {
            assert!(!got["wilcoxon_holm"][0][key].is_null(), "{key}");
        }
    }
}

#[test]
fn stats_text_markdown_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let table = fixture("table_four_mixed.csv");
    let table = table.to_str().unwrap();
    let svg = dir.path().join("cd.svg");
    let o = nstudent(&[
        "stats",
        table,
        "--plot",
        svg.to_str().unwrap(),
        "--alpha",
        "0.1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("Accuracy over 6 datasets, 4 algorithms"),
        "{text}"
    );
    assert!(
        text.contains("Friedman chi-square") && text.contains("Iman-Davenport F"),
        "{text}"
    );
    assert!(
        text.contains("Nemenyi p-values (critical difference of mean ranks = "),
        "{text}"
    );
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(
        picture.starts_with("<svg") && picture.contains("Oracle ("),
        "{picture}"
    );
    let md = stdout(&nstudent(&[
        "stats",
        table,
        "--format",
        "markdown",
        "--metric",
        "training time",
    ]));
    assert!(md.starts_with("## Training Time"), "{md}");
    assert!(
        md.contains("lower is better") && md.contains("|---|---:|---:|"),
        "{md}"
    );
    let png = dir.path().join("cd.PNG");
    let o = nstudent(&["stats", table, "--plot", png.to_str().unwrap()]);
    if o.status.success() {
        assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    } else {
        assert_user_error(&o, &["no system font"]);
        assert!(!png.exists());
    }
}

#[test]
fn stats_with_two_algorithms_reports_wilcoxon_only() {
    let table = fixture("table_two.csv");
    let table = table.to_str().unwrap();
    let got = json(&nstudent(&["stats", table, "--format", "json"]));
    assert!(
        got["friedman"].is_null() && got["nemenyi"].is_null() && got["iman_davenport"].is_null()
    );
    assert_eq!(got["wilcoxon_holm"].as_array().unwrap().len(), 1);
    let text = stdout(&nstudent(&["stats", table]));
    assert!(
        text.contains("only the Wilcoxon signed-rank test applies"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("cd.svg");
    let o = nstudent(&["stats", table, "--plot", svg.to_str().unwrap()]);
    assert_user_error(&o, &["at least 3 algorithms", "Wilcoxon"]);
    assert!(!svg.exists());
}

#[test]
fn stats_rejects_bad_tables_and_flags_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let header = ",Dataset Name,Algorithm Name,Cross Validation [1-10],Hyper-Parameters Values,Accuracy,TPR,FPR,Precision,AUC,PR-Curve,Training Time,Inference Time\n";
    let row = |d: &str, a: &str, acc: &str| {
        format!("0,{d},{a},1,None,{acc},0.5,0.1,0.5,0.9,0.8,3.0,0.2\n")
    };
    let mut good = header.to_string();
    for t in ["t1", "t2", "t3"] {
        for a in ["A", "B", "C"] {
            good.push_str(&row(t, a, if a == "B" { "0.7" } else { "0.6" }));
        }
    }
    let good_path = write(d, "good.csv", &good);
    assert_eq!(nstudent(&["stats", &good_path]).status.code(), Some(0));

    let no_col = write(d, "nocol.csv", &good.replace(",TPR,", ",Recall,"));
    assert_user_error(&nstudent(&["stats", &no_col]), &["missing column \"TPR\""]);
    let bad_num = write(d, "num.csv", &(good.clone() + &row("t4", "A", "n/a")));
    assert_user_error(
        &nstudent(&["stats", &bad_num]),
        &["\"n/a\"", "not a number"],
    );
    let gap = write(
        d,
        "gap.csv",
        &(good.clone() + &row("t4", "A", "0.5") + &row("t4", "C", "0.5")),
    );
    assert_user_error(
        &nstudent(&["stats", &gap]),
        &["\"t4\" has no result for algorithm \"B\""],
    );
    let one = write(
        d,
        "one.csv",
        &(header.to_string()
            + &row("t1", "A", "0.5")
            + &row("t1", "B", "0.6")
            + &row("t1", "C", "0.7")),
    );
    assert_user_error(&nstudent(&["stats", &one]), &["only one dataset"]);
    // clap checks --metric: exit 2, the values, and the nearest one for a typo.
    let o = nstudent(&["stats", &good_path, "--metric", "recall"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("error: invalid value 'recall' for '--metric <METRIC>'")
            && stderr(&o).contains(
                "[possible values: accuracy, tpr, fpr, precision, auc, pr-curve, training-time, \
                 inference-time]"
            ),
        "{}",
        stderr(&o)
    );
    let o = nstudent(&["stats", &good_path, "--metric", "acuracy"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("a similar value exists: 'accuracy'"),
        "{}",
        stderr(&o)
    );
    assert_user_error(
        &nstudent(&["stats", &good_path, "--alpha", "0"]),
        &["--alpha"],
    );
    let pdf = d.join("cd.pdf");
    assert_user_error(
        &nstudent(&["stats", &good_path, "--plot", pdf.to_str().unwrap()]),
        &[".svg or .png"],
    );
    assert!(!pdf.exists());
    let missing = d.join("missing.csv");
    assert_user_error(
        &nstudent(&["stats", missing.to_str().unwrap()]),
        &["missing.csv"],
    );
}

#[test]
fn a_plot_path_that_cannot_be_written_is_refused_before_the_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let table = fixture("table_three.csv");
    let plots = dir.path().join("plots");
    std::fs::create_dir(&plots).unwrap();
    // 3. --plot naming a directory (with the right extension): refused, nothing left.
    let as_dir = plots.join("cd.svg");
    std::fs::create_dir(&as_dir).unwrap();
    let o = nstudent(&[
        "stats",
        table.to_str().unwrap(),
        "--plot",
        as_dir.to_str().unwrap(),
    ]);
    assert_user_error(&o, &["--plot", "is a directory"]);
    let o = nstudent(&[
        "stats",
        table.to_str().unwrap(),
        "--plot",
        plots.join("no/cd.svg").to_str().unwrap(),
    ]);
    assert_user_error(&o, &["--plot", "does not exist"]);
    let left: Vec<_> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["cd.svg"], "only the directory itself");
}

#[test]
fn stats_reads_wide_and_long_tables_and_writes_latex() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wide = write(
        d,
        "wide.csv",
        "dataset,A,B,C\nd1,0.5,0.6,0.7\nd2,0.4,0.6,0.5\nd3,0.3,0.35,0.5\nd4,0.8,0.9,0.85\nd5,0.7,0.75,0.8\n",
    );
    // The same numbers as a long table with two folds per pair (each fold = the mean).
    let mut text = String::from("task,method,fold,score\n");
    for (t, row) in [
        ("d1", [0.5, 0.6, 0.7]),
        ("d2", [0.4, 0.6, 0.5]),
        ("d3", [0.3, 0.35, 0.5]),
        ("d4", [0.8, 0.9, 0.85]),
        ("d5", [0.7, 0.75, 0.8]),
    ] {
        for (m, v) in ["A", "B", "C"].iter().zip(row) {
            for f in 1..=2 {
                text.push_str(&format!("{t},{m},{f},{v}\n"));
            }
        }
    }
    let long = write(d, "long.csv", &text);
    let w = nstudent(&["stats", &wide, "--format", "json"]);
    assert!(w.status.success(), "{}", stderr(&w));
    let l = nstudent(&[
        "stats",
        &long,
        "--dataset-col",
        "task",
        "--algorithm-col",
        "method",
        "--value-col",
        "score",
        "--fold-col",
        "fold",
        "--format",
        "json",
    ]);
    assert!(l.status.success(), "{}", stderr(&l));
    let (w, l) = (json(&w), json(&l));
    for key in [
        "mean_ranks",
        "friedman",
        "iman_davenport",
        "nemenyi",
        "wilcoxon_holm",
    ] {
        assert_eq!(w[key], l[key], "{key}");
    }
    assert_eq!(w["metric"], "Accuracy");
    // Values that are none of the eight metrics are named by --value-name, with the same tests.
    let f1 = nstudent(&["stats", &wide, "--value-name", "F1", "--format", "json"]);
    assert!(f1.status.success(), "{}", stderr(&f1));
    let f1 = json(&f1);
    assert_eq!(f1["metric"], "F1");
    assert_eq!(f1["friedman"], w["friedman"]);
    let committed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/standard/metrics_table.csv");
    let own = nstudent(&["stats", committed.to_str().unwrap(), "--value-name", "F1"]);
    assert_eq!(own.status.code(), Some(2), "{}", stderr(&own));
    assert_eq!(l["metric"], "score");

    let tex = nstudent(&["stats", &wide, "--format", "latex"]);
    let out = stdout(&tex);
    assert!(out.contains("\\begin{tabular}{lrrr}"), "{out}");
    assert!(
        out.contains("d1 & 0.5000 & 0.6000 & \\textbf{0.7000} \\\\"),
        "{out}"
    );

    // Lower is better reverses the ranks.
    let low = nstudent(&["stats", &wide, "--lower-is-better", "--format", "json"]);
    let low = json(&low);
    assert_eq!(low["mean_ranks"]["A"].as_f64(), Some(1.0), "{low}");

    // A long table without --value-col, and nstudent-only flags mixed up: one-line errors.
    assert_user_error(
        &nstudent(&["stats", &long, "--layout", "long"]),
        &["--value-col"],
    );
    assert_user_error(
        &nstudent(&["stats", &long, "--value-col", "score"]),
        &[
            "no column \"dataset\" (--dataset-col)",
            "task, method, fold, score",
        ],
    );
}

/// nstudent's table of a Baseline and a Noisy Student over 10 folds of `tasks`, with the
/// scores `x` and `y` on every task (shifted a little per task).
fn ten_fold_table(dir: &Path, tasks: &[&str], x: &[f64], y: &[f64]) -> PathBuf {
    let mut csv = String::from(
        ",Dataset Name,Algorithm Name,Cross Validation [1-10],Hyper-Parameters Values,Accuracy,TPR,FPR,Precision,AUC,PR-Curve,Training Time,Inference Time\n",
    );
    let mut i = 0;
    for (t, task) in tasks.iter().enumerate() {
        for fold in 0..10 {
            for (name, v) in [("Baseline", x[fold]), ("Noisy Student", y[fold])] {
                let v = v - 0.01 * t as f64;
                csv.push_str(&format!(
                    "{i},{task},{name},{},None,{v},{v},0.1,{v},{v},{v},1.0,0.1\n",
                    fold + 1
                ));
                i += 1;
            }
        }
    }
    let path = dir.join("t.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn stats_on_an_nstudent_table_gives_the_pairs_tests_that_respect_dependence() {
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("paired.json")).unwrap()).unwrap();
    let case = &reference["correlated_t"][0];
    let floats = |v: &Value| -> Vec<f64> { serde_json::from_value(v.clone()).unwrap() };
    let (x, y) = (floats(&case["x"]), floats(&case["y"]));
    let dir = tempfile::tempdir().unwrap();
    let table = ten_fold_table(
        dir.path(),
        &["MNIST 0-4", "MNIST 5-9", "Fashion MNIST"],
        &x,
        &y,
    );
    let out = nstudent(&["stats", table.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let pair = &v["paired"][0];
    assert_eq!(pair["second"], "Noisy Student");
    assert_eq!(pair["per_task"].as_array().unwrap().len(), 3);
    // The same differences on every task: baycomp's values, whatever the shift.
    for t in pair["per_task"].as_array().unwrap() {
        let p = t["test"]["p_value"].as_f64().unwrap();
        assert!((p - case["p_value"].as_f64().unwrap()).abs() < 1e-6, "{t}");
        let right = t["test"]["probabilities"]["second_better"]
            .as_f64()
            .unwrap();
        assert!((right - floats(&case["probabilities"])[2]).abs() < 1e-6);
    }
    // The halves of MNIST are one source block: 2 blocks, not 3.
    assert_eq!(pair["across_blocks"]["units"].as_array().unwrap().len(), 2);
    assert_eq!(pair["across_tasks"]["units"].as_array().unwrap().len(), 3);
    assert_eq!(v["source_blocks"]["blocks"][0][0], "MNIST");
    let text = nstudent(&["stats", table.to_str().unwrap()]);
    assert!(
        stdout(&text).contains("Noisy Student vs Baseline:"),
        "{}",
        stdout(&text)
    );
}
