//! The first hour with your own images: `compare` (two models, one verdict), train's
//! teacher-to-student verdict, `stats` on a one-task study, and a study from flags
//! (`run --data --unlabeled`), with the notes that say what a command skipped.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn nstudent(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(args)
        .current_dir(dir)
        .env("NSTUDENT_DATA", "/nonexistent-nstudent-data")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Exit 2 with one line on stderr that contains `needle`.
fn refused(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

/// A small, hard 3-class folder: 10x10 grey images whose class sets a faint brightness offset
/// under strong noise, so that models err and differ. `train/`, `test/` and a flat
/// `unlabeled/` beside them, as a user lays out their own images.
fn own_images(root: &Path) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    let mut write = |path: &Path, class: u32| {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let img = image::GrayImage::from_fn(10, 10, |x, y| {
            let signal = match class {
                0 => 60,
                1 => 110,
                _ => {
                    if (x + y) % 2 == 0 {
                        150
                    } else {
                        70
                    }
                }
            };
            image::Luma([(signal + next() % 90) as u8])
        });
        img.save(path).unwrap();
    };
    for class in 0..3u32 {
        let name = ["circle", "square", "star"][class as usize];
        for i in 0..40 {
            write(&root.join(format!("train/{name}/{i:03}.png")), class);
        }
        for i in 0..60 {
            write(&root.join(format!("test/{name}/{i:03}.png")), class);
        }
        for i in 0..60 {
            write(&root.join(format!("unlabeled/{name}-{i:03}.png")), class);
        }
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

#[test]
fn compare_gives_one_paired_verdict_from_models_or_from_their_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    own_images(&d.join("mydata"));
    for (out, epochs, factor) in [("a.safetensors", "1", "0.2"), ("b.safetensors", "4", "1")] {
        ok(&nstudent(
            d,
            &[
                "train",
                "--data",
                "mydata",
                "--algo",
                "baseline",
                "--epochs",
                epochs,
                "--teacher-factor",
                factor,
                "--out",
                out,
                "--threads",
                "1",
            ],
        ));
    }
    let from_models = json(&nstudent(
        d,
        &[
            "compare",
            "--model",
            "a.safetensors",
            "--model",
            "b.safetensors",
            "--data",
            "mydata",
            "--format",
            "json",
        ],
    ));
    assert_eq!(from_models["images"], 180, "the test split: 3 x 60");
    assert_eq!(from_models["data"], "mydata (test)");
    // The same predictions through predict's CSVs give the same comparison, and score agrees
    // on each accuracy.
    ok(&nstudent(
        d,
        &[
            "predict",
            "--model",
            "a.safetensors",
            "--data",
            "mydata",
            "--out",
            "a.csv",
            "--labels-out",
            "labels.csv",
        ],
    ));
    ok(&nstudent(
        d,
        &[
            "predict",
            "--model",
            "b.safetensors",
            "--data",
            "mydata",
            "--out",
            "b.csv",
        ],
    ));
    let from_csvs = json(&nstudent(
        d,
        &[
            "compare",
            "--labels",
            "labels.csv",
            "a.csv",
            "b.csv",
            "--format",
            "json",
        ],
    ));
    for key in [
        "images",
        "first_accuracy",
        "second_accuracy",
        "difference",
        "interval",
        "mcnemar",
    ] {
        assert_eq!(from_models[key], from_csvs[key], "{key}");
    }
    for (csv, key) in [("a.csv", "first_accuracy"), ("b.csv", "second_accuracy")] {
        let scores = json(&nstudent(
            d,
            &[
                "score",
                "--labels",
                "labels.csv",
                "--proba",
                csv,
                "--format",
                "json",
            ],
        ));
        assert_eq!(scores["accuracy"], from_models[key], "{csv}");
    }
    // The pieces agree: the discordant counts make the difference, and the interval holds it.
    let c = &from_models;
    let n = c["images"].as_f64().unwrap();
    let (b, s) = (
        c["mcnemar"]["only_first"].as_f64().unwrap(),
        c["mcnemar"]["only_second"].as_f64().unwrap(),
    );
    let difference = c["difference"].as_f64().unwrap();
    assert!(b + s > 0.0, "the two models differ on some image: {c}");
    assert!(((s - b) / n - difference).abs() < 1e-12, "{c}");
    let (low, high) = (
        c["interval"]["low"].as_f64().unwrap(),
        c["interval"]["high"].as_f64().unwrap(),
    );
    assert!(low <= difference && difference <= high, "{c}");
    // Swapping the models mirrors the verdict; another seed moves only the interval.
    let swapped = json(&nstudent(
        d,
        &[
            "compare",
            "--labels",
            "labels.csv",
            "b.csv",
            "a.csv",
            "--format",
            "json",
        ],
    ));
    assert_eq!(swapped["mcnemar"]["exact_p"], c["mcnemar"]["exact_p"]);
    assert_eq!(swapped["difference"].as_f64().unwrap(), -difference);
    let text_out = ok(&nstudent(
        d,
        &[
            "compare",
            "--labels",
            "labels.csv",
            "a.csv",
            "b.csv",
            "--names",
            "small",
            "big",
        ],
    ));
    assert!(text_out.contains("difference (big - small)"), "{text_out}");
    assert!(text_out.contains("95% bootstrap interval"), "{text_out}");
    assert!(
        text_out.contains("McNemar:") && text_out.contains("verdict:"),
        "{text_out}"
    );
}

#[test]
fn compare_refuses_what_it_cannot_pair() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("labels.csv"), "label\n0\n1\n1\n").unwrap();
    fs::write(d.join("a.csv"), "0.9,0.1\n0.2,0.8\n0.4,0.6\n").unwrap();
    fs::write(d.join("b.csv"), "0.9,0.1\n0.2,0.8\n").unwrap();
    fs::write(d.join("three.csv"), "1,0,0\n0,0,1\n0,1,0\n").unwrap();
    refused(
        &nstudent(d, &["compare", "--labels", "labels.csv", "a.csv", "b.csv"]),
        "holds 2 rows",
    );
    refused(
        &nstudent(d, &["compare", "a.csv", "a.csv"]),
        "--labels is required",
    );
    refused(
        &nstudent(d, &["compare", "--labels", "labels.csv", "a.csv"]),
        "two models",
    );
    refused(
        &nstudent(
            d,
            &[
                "compare",
                "--model",
                "m",
                "--labels",
                "labels.csv",
                "a.csv",
                "a.csv",
            ],
        ),
        "not both",
    );
    refused(
        &nstudent(d, &["compare", "--model", "m", "--model", "n"]),
        "--data is required",
    );
    refused(
        &nstudent(
            d,
            &[
                "compare",
                "--labels",
                "labels.csv",
                "a.csv",
                "a.csv",
                "--level",
                "1",
            ],
        ),
        "--level",
    );
    refused(
        &nstudent(
            d,
            &[
                "compare",
                "--labels",
                "labels.csv",
                "a.csv",
                "a.csv",
                "--resamples",
                "5",
            ],
        ),
        "--resamples",
    );
    fs::write(d.join("labels3.csv"), "2\n0\n2\n").unwrap();
    refused(
        &nstudent(d, &["compare", "--labels", "labels3.csv", "a.csv", "a.csv"]),
        "label 2",
    );
}

#[test]
fn train_gives_the_teacher_to_student_verdict_and_says_what_ran() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    own_images(&d.join("mydata"));
    let out = nstudent(
        d,
        &[
            "train",
            "--data",
            "mydata",
            "--unlabeled",
            "mydata/unlabeled",
            "--algo",
            "ns",
            "--eval",
            "test",
            "--epochs",
            "2",
            "--out",
            "m.safetensors",
            "--threads",
            "1",
        ],
    );
    let stdout = ok(&out);
    let stderr = text(&out.stderr);
    assert!(
        stdout.contains("student against teacher on the eval data:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("difference (student - teacher)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("McNemar:") && stdout.contains("verdict:"),
        "{stdout}"
    );
    // The verdict's accuracies are the ones the progress lines report.
    let teacher = stdout
        .lines()
        .find(|l| l.starts_with("teacher (1 model)"))
        .and_then(|l| l.rsplit("eval accuracy ").next())
        .unwrap()
        .trim()
        .to_string();
    assert!(
        stdout.contains(&format!("teacher  accuracy {teacher}")),
        "{stdout}"
    );
    assert!(
        stderr.contains("settings: threshold 0.4, 2 students, 2 epochs"),
        "the settings that ran are printed: {stderr}"
    );
    assert!(stderr.contains("student noise: RandAugment"), "{stderr}");
    assert!(
        stderr.contains("teacher epoch 1: mean loss"),
        "one model: no member number: {stderr}"
    );
    assert!(
        stderr.contains("skipped unlabeled/"),
        "data's skipped folder is named: {stderr}"
    );
    // A Baseline has no student, so no verdict.
    let out = nstudent(
        d,
        &[
            "train",
            "--data",
            "mydata",
            "--algo",
            "baseline",
            "--eval",
            "test",
            "--epochs",
            "1",
            "--out",
            "b.safetensors",
        ],
    );
    assert!(!ok(&out).contains("student against teacher"));
}

#[test]
fn a_study_from_flags_counts_its_unlabeled_set_and_says_what_it_does_not_use() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    own_images(&d.join("mydata"));
    let config = |extra: &[&str]| {
        let mut args = vec!["run", "--data", "mydata", "--print-config"];
        args.extend_from_slice(extra);
        ok(&nstudent(d, &args))
    };
    let plain = config(&[]);
    assert!(plain.contains("tasks = [\"mydata\"]"), "{plain}");
    assert!(
        plain.contains("# [data]") && plain.contains("# unlabeled = "),
        "[data] shown unset: {plain}"
    );
    assert!(plain.contains("teacher_factor = 0.1"), "{plain}");
    let with = config(&["--unlabeled", "mydata/unlabeled", "--resize", "8x8"]);
    assert!(
        with.contains("[data]\n") && with.contains("unlabeled = \"mydata/unlabeled\""),
        "{with}"
    );
    assert!(with.contains("resize = \"8x8\""), "{with}");
    assert!(
        with.contains("teacher_factor = 1.0"),
        "--unlabeled keeps every label: {with}"
    );
    // A config that sets the fraction keeps it; a config alone takes the quick settings.
    fs::write(d.join("c.toml"), "[pseudo]\nteacher_factor = 0.5\n").unwrap();
    let kept = config(&["--unlabeled", "mydata/unlabeled", "--config", "c.toml"]);
    assert!(kept.contains("teacher_factor = 0.5"), "{kept}");
    let quick = ok(&nstudent(d, &["run", "--print-config"]));
    let alone = ok(&nstudent(
        d,
        &["run", "--print-config", "--config", "c.toml"],
    ));
    let folds = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("outer_folds ="))
            .unwrap()
            .to_string()
    };
    assert_eq!(
        folds(&alone),
        folds(&quick),
        "--config alone: quick for the keys it leaves out"
    );
    refused(
        &nstudent(
            d,
            &["run", "--data", "mydata", "--tasks", "mnist", "--plan"],
        ),
        "cannot be used with",
    );
    // The plan counts the separate set: more work than the training parts' own pools.
    let plan = |extra: &[&str]| {
        let mut args = vec![
            "run", "--data", "mydata", "--plan", "--format", "json", "--out", "s",
        ];
        args.extend_from_slice(extra);
        let out = nstudent(d, &args);
        let stderr = text(&out.stderr);
        let v: Value = serde_json::from_str(&ok(&out)).unwrap();
        (v, stderr)
    };
    let (own, stderr) = plan(&[]);
    assert!(stderr.contains("does not use its test split"), "{stderr}");
    let (separate, _) = plan(&["--unlabeled", "mydata/unlabeled"]);
    // Three times the training rows per student; the speeds are measured per run, so only the
    // direction is asserted.
    let seconds = |v: &Value| {
        v["predicted"]["core_seconds"]
            .as_f64()
            .unwrap_or_else(|| panic!("{v}"))
    };
    assert!(seconds(&separate) > seconds(&own), "{own} {separate}");
}

#[test]
fn stats_on_a_one_task_table_gives_the_folds_their_tests() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    own_images(&d.join("mydata"));
    ok(&nstudent(
        d,
        &[
            "run",
            "--data",
            "mydata",
            "--unlabeled",
            "mydata/unlabeled",
            "--algorithms",
            "baseline,noisy-student",
            "--folds",
            "3",
            "--epochs",
            "1",
            "--out",
            "study",
            "--quiet",
            "--threads",
            "1",
        ],
    ));
    let stdout = ok(&nstudent(d, &["stats", "study/metrics_table.csv"]));
    assert!(
        stdout.contains("One task (mydata): the algorithms are ranked over its 3 outer folds"),
        "{stdout}"
    );
    assert!(stdout.contains("corrected t p ="), "{stdout}");
    // The per-fold differences are the table's.
    let table = fs::read_to_string(d.join("study/metrics_table.csv")).unwrap();
    // The hyperparameter column may hold quoted commas: the columns before it are counted
    // from the left, Accuracy and the 7 after it from the right.
    let mut by_fold = std::collections::BTreeMap::<String, (f64, f64)>::new();
    for line in table.lines().skip(1) {
        let r: Vec<&str> = line.split(',').collect();
        let e = by_fold.entry(r[3].to_string()).or_default();
        let v: f64 = r[r.len() - 8].parse().unwrap();
        match r[2] {
            "Baseline" => e.0 = v,
            _ => e.1 = v,
        }
    }
    let expected: Vec<String> = by_fold
        .iter()
        .map(|(f, (b, n))| format!("{f} {:+.4}", n - b))
        .collect();
    let line = format!("per fold: {}", expected.join(", "));
    assert!(stdout.contains(&line), "{line} not in {stdout}");
    let v: Value = serde_json::from_str(&ok(&nstudent(
        d,
        &["stats", "study/metrics_table.csv", "--format", "json"],
    )))
    .unwrap();
    assert_eq!(v["blocks"], "folds");
    assert_eq!(
        v["paired"][0]["per_task"][0]["fold_differences"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The report says the same, with each fold's difference.
    ok(&nstudent(d, &["report", "study", "--out", "r.html"]));
    let html = fs::read_to_string(d.join("r.html")).unwrap();
    assert!(html.contains("One task (mydata):"), "one-task note");
    assert!(
        html.contains("Per fold (Noisy Student minus Baseline)"),
        "per-fold differences"
    );
    assert!(!html.contains("No statistical comparison"));
}
