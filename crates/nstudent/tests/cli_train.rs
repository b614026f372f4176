//! `nstudent train` and `nstudent predict` end to end, on a small generated CSV dataset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nstudent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(args)
        .env("NSTUDENT_DATA", "/nonexistent-nstudent-data")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// 400 10x10 grey images of 3 classes (bright row, bright column, bright diagonal) with noise,
/// as a CSV with a label column first.
fn write_csv(dir: &Path) -> PathBuf {
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let mut csv = String::new();
    for i in 0..400 {
        let c = i % 3;
        let at = (next() % 10) as usize;
        csv.push_str(&c.to_string());
        for y in 0..10 {
            for x in 0..10 {
                let on = match c {
                    0 => y == at,
                    1 => x == at,
                    _ => x == y,
                };
                let v = if on { 200 } else { 20 } + next() % 40;
                csv.push_str(&format!(",{v}"));
            }
        }
        csv.push('\n');
    }
    let path = dir.join("lines.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn check_probs_csv(path: &Path, rows: usize) {
    let content = std::fs::read_to_string(path).unwrap();
    let mut lines = content.lines();
    // Numeric class names are prefixed, so that no reader takes the header for data.
    assert_eq!(lines.next().unwrap(), "row,class 0,class 1,class 2");
    let body: Vec<&str> = lines.collect();
    assert_eq!(body.len(), rows);
    for (i, line) in body.into_iter().enumerate() {
        let (row, probs) = line.split_once(',').unwrap();
        assert_eq!(row, i.to_string());
        let p: Vec<f64> = probs.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(p.len(), 3);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-4, "{line}");
    }
}

#[test]
fn train_and_predict_all_three_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_csv(dir.path());
    let data = data.to_str().unwrap();
    let common = [
        "--data",
        data,
        "--epochs",
        "2",
        "--seed",
        "1",
        "--teacher-factor",
        "0.2",
        "--unlabeled-schedule",
        "slices",
        "--unl-factor",
        "0.3",
        "--num-students",
        "2",
        "--threshold",
        "0.4",
    ];
    for (algo, out, first) in [
        ("baseline", "base.safetensors", "baseline (1 model)"),
        (
            "augmented-baseline",
            "aug.safetensors",
            "augmented baseline (1 model)",
        ),
        ("noisy-student", "ns.safetensors", "teacher (1 model)"),
        ("baseline-ensemble", "bens", "baseline ensemble (2 models)"),
        ("ensemble", "ens", "teacher (2 models)"),
    ] {
        let model = dir.path().join(out);
        let mut args = vec!["train", "--algo", algo, "--eval", data];
        args.extend(common);
        args.extend(["--ensemble-size", "2", "--out", model.to_str().unwrap()]);
        let run = nstudent(&args);
        let stdout = text(&run.stdout);
        assert!(
            run.status.success(),
            "{algo}: {}{}",
            stdout,
            text(&run.stderr)
        );
        assert!(stdout.contains(first), "{stdout}");
        assert!(stdout.contains("eval accuracy"), "{stdout}");
        if algo.contains("baseline") {
            assert!(!stdout.contains("iteration"), "{stdout}");
        } else {
            assert!(stdout.contains("iteration 2:"), "{stdout}");
            assert!(stdout.contains("kept "), "{stdout}");
        }
        if algo.ends_with("ensemble") {
            assert!(model.join("ensemble.json").is_file());
            assert!(model.join("member-2.safetensors").is_file());
        } else {
            assert!(model.is_file());
        }
        let probs = dir.path().join(format!("{algo}.csv"));
        let labels = dir.path().join(format!("{algo}-labels.csv"));
        let run = nstudent(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data,
            "--out",
            probs.to_str().unwrap(),
            "--labels-out",
            labels.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{}", text(&run.stderr));
        check_probs_csv(&probs, 400);
        assert_eq!(
            std::fs::read_to_string(&labels).unwrap().lines().count(),
            401
        );
        // predict's own files score as they are.
        let run = nstudent(&[
            "score",
            "--labels",
            labels.to_str().unwrap(),
            "--proba",
            probs.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert!(run.status.success(), "{algo}: {}", text(&run.stderr));
        let scores: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        // The accuracy of the very rows predict wrote, recounted here.
        let truth: Vec<usize> = std::fs::read_to_string(&labels)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.parse().unwrap())
            .collect();
        let right = std::fs::read_to_string(&probs)
            .unwrap()
            .lines()
            .skip(1)
            .zip(&truth)
            .filter(|(row, &t)| {
                // The first column is the row's position.
                let p: Vec<f64> = row.split(',').skip(1).map(|v| v.parse().unwrap()).collect();
                let best = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
                best == t
            })
            .count();
        assert_eq!(
            scores["accuracy"].as_f64().unwrap(),
            right as f64 / truth.len() as f64,
            "{algo}: {scores}"
        );
    }
}

/// 300 12x12 images of 3 classes (a bright quadrant each), as raw MNIST-format IDX files.
fn write_idx(dir: &Path) -> PathBuf {
    let (n, side) = (300usize, 12usize);
    let mut state: u32 = 7;
    let mut images = vec![0, 0, 8, 3];
    for d in [n, side, side] {
        images.extend_from_slice(&(d as u32).to_be_bytes());
    }
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&(n as u32).to_be_bytes());
    for i in 0..n {
        let class = i % 3;
        labels.push(class as u8);
        for y in 0..side {
            for x in 0..side {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let q = (y >= side / 2) as usize * 2 + (x >= side / 2) as usize;
                images.push(if q == class { 150 } else { 0 } + (state >> 26) as u8);
            }
        }
    }
    let data = dir.join("digits-like");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("train-images-idx3-ubyte"), images).unwrap();
    std::fs::write(data.join("train-labels-idx1-ubyte"), labels).unwrap();
    data
}

#[test]
fn an_mnist_format_task_goes_from_train_to_predict_to_score() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_idx(dir.path());
    let data = data.to_str().unwrap();
    let model = dir.path().join("m.safetensors");
    let run = nstudent(&[
        "train",
        "--data",
        data,
        "--algo",
        "baseline",
        "--epochs",
        "2",
        "--teacher-factor",
        "0.5",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let (probs, labels) = (dir.path().join("p.csv"), dir.path().join("l.csv"));
    let run = nstudent(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data,
        "--out",
        probs.to_str().unwrap(),
        "--labels-out",
        labels.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let run = nstudent(&[
        "score",
        "--labels",
        labels.to_str().unwrap(),
        "--proba",
        probs.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("accuracy"),
        "{}",
        text(&run.stdout)
    );

    // A model whose weights went NaN is refused, and nothing is written.
    let mut bytes = std::fs::read(&model).unwrap();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[8 + header..8 + header + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let broken = dir.path().join("nan.safetensors");
    std::fs::write(&broken, bytes).unwrap();
    let out = dir.path().join("nan.csv");
    let run = nstudent(&[
        "predict",
        "--model",
        broken.to_str().unwrap(),
        "--data",
        data,
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not finite"), "{err}");
    assert!(!out.exists());

    // Finite weights that overflow float32 on the way to the logits (found by the model_file
    // fuzz target): refused the same way, not written as NaN probabilities.
    let mut bytes = std::fs::read(&model).unwrap();
    for w in bytes[8 + header..].chunks_exact_mut(4) {
        w.copy_from_slice(&1e30f32.to_le_bytes());
    }
    std::fs::write(&broken, bytes).unwrap();
    let run = nstudent(&[
        "predict",
        "--model",
        broken.to_str().unwrap(),
        "--data",
        data,
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("probabilities are not finite"), "{err}");
    assert!(!out.exists());
}

#[test]
fn print_config_round_trips_through_config() {
    let dir = tempfile::tempdir().unwrap();
    let run = nstudent(&[
        "train",
        "--data",
        "x",
        "--threshold",
        "0.8",
        "--print-config",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let toml = text(&run.stdout);
    assert!(toml.contains("threshold = 0.8"), "{toml}");
    let file = dir.path().join("c.toml");
    std::fs::write(&file, toml.replace("num_students = 2", "num_students = 3")).unwrap();
    let run = nstudent(&[
        "train",
        "--data",
        "x",
        "--config",
        file.to_str().unwrap(),
        "--print-config",
    ]);
    let again = text(&run.stdout);
    assert!(
        again.contains("num_students = 3") && again.contains("threshold = 0.8"),
        "{again}"
    );
}

#[test]
fn bad_hyperparameters_exit_2_on_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_csv(dir.path());
    let out = dir.path().join("m.safetensors");
    for (flags, needle) in [
        (vec!["--threshold", "nan"], "threshold"),
        // A negative number is a value, which validation then names.
        (
            vec!["--threshold", "-0.1"],
            "threshold -0.1 must be a probability in [0, 1]",
        ),
        (
            vec!["--threshold", "40"],
            "threshold 40 must be a probability in [0, 1] (0.4, not 40",
        ),
        // Noisy Student with every row labeled is refused before the teacher trains.
        (vec!["--teacher-factor", "1"], "no unlabeled data"),
        (vec!["--teacher-factor", "0"], "teacher_factor"),
        (
            vec![
                "--unlabeled-schedule",
                "slices",
                "--unl-factor",
                "0.3",
                "--num-students",
                "4",
            ],
            "exceeds",
        ),
        (
            vec!["--algo", "ensemble", "--ensemble-size", "0"],
            "ensemble_size",
        ),
    ] {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(flags);
        let run = nstudent(&args);
        let err = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(!out.exists());
    }
    let run = nstudent(&[
        "predict",
        "--model",
        dir.path().join("missing").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
}

/// Every file in `dir`, hidden ones included.
fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_failed_train_or_predict_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_csv(dir.path());
    let data = data.to_str().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let at = |name: &str| out.join(name).to_str().unwrap().to_string();
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train", "--data", data, "--algo", "baseline", "--epochs", "1",
        ];
        args.extend(extra);
        nstudent(&args)
    };
    // Exit 2 and a one-line error last on stderr (a training prints its progress before).
    let refused = |run: &Output, needle: &str| {
        let err = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{err}");
        let last = err.trim().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(needle),
            "{needle}: {err}"
        );
    };

    // 1. A disk that fills while saving: no model, no temporary file. A file size limit of
    //    a few KiB, smaller than the model, stands in for the full disk (with SIGXFSZ ignored, a
    //    write past it fails as one past the end of the disk does).
    let out_m = at("m.safetensors");
    let mut args = vec![
        "-c",
        "trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_nstudent"),
        "train",
        "--data",
        data,
        "--algo",
        "baseline",
        "--epochs",
        "1",
    ];
    args.extend(["--out", out_m.as_str()]);
    let run = Command::new("sh")
        .args(&args)
        .env("NSTUDENT_DATA", "/nonexistent-nstudent-data")
        .output()
        .expect("sh runs");
    refused(&run, "File too large");
    assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));

    // 4. and 5. --report naming a directory, or a folder that does not exist: refused before
    //    training, so no model either.
    let run = train(&[
        "--out",
        &at("m.safetensors"),
        "--report",
        out.to_str().unwrap(),
    ]);
    refused(&run, "--report");
    let run = train(&[
        "--out",
        &at("m.safetensors"),
        "--report",
        &at("no/rep.json"),
    ]);
    refused(&run, "does not exist");
    assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));

    // A model to predict with, and its report, written together.
    let model = dir.path().join("m.safetensors");
    let run = train(&[
        "--out",
        model.to_str().unwrap(),
        "--report",
        &at("rep.json"),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(files_in(&out), ["rep.json"]);
    std::fs::remove_file(out.join("rep.json")).unwrap();

    // 2. and 6. predict with --out or --labels-out naming a directory or a missing folder:
    //    refused before predicting; neither file is written, no hidden file is left.
    let predict = |probs: &str, labels: &str| {
        nstudent(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data,
            "--out",
            probs,
            "--labels-out",
            labels,
        ])
    };
    refused(
        &predict(out.to_str().unwrap(), &at("l.csv")),
        "is a directory",
    );
    refused(
        &predict(&at("p.csv"), out.to_str().unwrap()),
        "is a directory",
    );
    refused(&predict(&at("p.csv"), &at("no/l.csv")), "does not exist");
    assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));
    let run = predict(&at("p.csv"), &at("l.csv"));
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(files_in(&out), ["l.csv", "p.csv"]);
}

/// The README's CSV options (`--label-column last --max-value 16`) reach `train` and
/// `predict`, not only `data info`: a digits-like CSV with the label last and values 0-16.
#[test]
fn csv_options_reach_train_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let first = std::fs::read_to_string(write_csv(dir.path())).unwrap();
    let mut last = String::new();
    for line in first.lines() {
        let (label, pixels) = line.split_once(',').unwrap();
        let scaled: Vec<String> = pixels
            .split(',')
            .map(|v| (v.parse::<u32>().unwrap() * 16 / 255).to_string())
            .collect();
        last.push_str(&format!("{},{label}\n", scaled.join(",")));
    }
    let csv = dir.path().join("digits.csv");
    std::fs::write(&csv, last).unwrap();
    let (csv, model) = (csv.to_str().unwrap(), dir.path().join("m.safetensors"));
    let read = ["--label-column", "last", "--max-value", "16"];
    let mut args = vec![
        "train", "--data", csv, "--algo", "baseline", "--epochs", "3",
    ];
    args.extend(read);
    args.extend(["--out", model.to_str().unwrap()]);
    let out = nstudent(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (proba, labels) = (dir.path().join("p.csv"), dir.path().join("y.csv"));
    let mut args = vec!["predict", "--model", model.to_str().unwrap(), "--data", csv];
    args.extend(read);
    args.extend(["--out", proba.to_str().unwrap()]);
    args.extend(["--labels-out", labels.to_str().unwrap()]);
    let out = nstudent(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    check_probs_csv(&proba, 400);
    let y = std::fs::read_to_string(&labels).unwrap();
    assert_eq!(
        y.lines().skip(1).filter(|l| *l == "2").count(),
        133,
        "labels read from the last column"
    );
    // Read with the defaults, the last pixel column is not a label: the first column is.
    let out = nstudent(&["predict", "--model", model.to_str().unwrap(), "--data", csv]);
    assert!(!out.status.success(), "the defaults read another dataset");
    // A bad value is named.
    let out = nstudent(&[
        "train",
        "--data",
        csv,
        "--max-value",
        "-1",
        "--out",
        "x.safetensors",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--max-value -1"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_separate_unlabeled_set_is_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_csv(dir.path());
    // The unlabeled set: the same kind of images, another file; its labels are dropped.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let unlabeled = write_csv(&other);
    let report = dir.path().join("run.json");
    let model = dir.path().join("m.safetensors");
    let run = nstudent(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--unlabeled",
        unlabeled.to_str().unwrap(),
        "--algo",
        "noisy-student",
        "--epochs",
        "1",
        "--num-students",
        "1",
        "--threads",
        "1",
        "--report",
        report.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    let err = text(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(
        err.contains("unlabeled set:") && err.contains("400 images of 10x10x1"),
        "{err}"
    );
    // The generator made the same images twice: the overlap is named.
    assert!(
        err.contains("warning: 400 of the 400 --unlabeled images are also in --data"),
        "{err}"
    );
    // With a separate unlabeled set, every label of --data is kept unless said otherwise.
    assert!(
        err.contains("labels: all 400 training images keep their label; 400 images of --unlabeled are the pool"),
        "{err}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["labeled_rows"], 400);
    assert_eq!(json["unlabeled_rows"], 400);
    assert_eq!(json["unlabeled_set"], unlabeled.to_str().unwrap());

    // Without it, the study's protocol hides labels, and says so with the numbers and the flag.
    let run = nstudent(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--algo",
        "baseline",
        "--epochs",
        "1",
        "--out",
        model.to_str().unwrap(),
    ]);
    let err = text(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(
        err.contains("labels: 40 of the 400 training images keep their label (--teacher-factor); the labels of the other 360 are hidden")
            && err.contains("--teacher-factor 1 keeps them all"),
        "{err}"
    );

    // Images of another size: exit 2, both shapes named, nothing written.
    let small = dir.path().join("small.csv");
    std::fs::write(&small, "0,1,2,3,4\n1,5,6,7,8\n").unwrap();
    let out = dir.path().join("n.safetensors");
    let run = nstudent(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--unlabeled",
        small.to_str().unwrap(),
        "--algo",
        "noisy-student",
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("2x2x1") && err.contains("10x10x1"), "{err}");
    assert!(!out.exists());

    // The schedule's old spelling points to its new flag.
    let run = nstudent(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--unlabeled",
        "slices",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("--unlabeled-schedule slices"), "{err}");
}

#[test]
fn resize_and_colour_flags_reach_train_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_csv(dir.path());
    let data = data.to_str().unwrap();
    let model = dir.path().join("m.safetensors");
    let flags = ["--resize", "12x8", "--rgb"];
    let mut args = vec![
        "train",
        "--data",
        data,
        "--algo",
        "baseline",
        "--epochs",
        "1",
        "--out",
        model.to_str().unwrap(),
    ];
    args.extend(flags);
    let run = nstudent(&args);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("8x12x3"),
        "{}",
        text(&run.stderr)
    );
    // The model takes 8x12 RGB images: the data as stored (10x10 grey) does not fit.
    let probs = dir.path().join("p.csv");
    let predict = |extra: &[&str]| {
        let mut a = vec![
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data,
            "--out",
            probs.to_str().unwrap(),
        ];
        a.extend(extra);
        nstudent(&a)
    };
    let run = predict(&[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("10x10x1"),
        "{}",
        text(&run.stderr)
    );
    let run = predict(&flags);
    assert!(run.status.success(), "{}", text(&run.stderr));
    check_probs_csv(&probs, 400);
    // A size that is not WxH: exit 2 naming the flag.
    let run = predict(&["--resize", "12"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("--resize"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn metrics_lines_watch_training_and_never_change_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_csv(dir.path());
    let train = |out: &Path, metrics: Option<&Path>| {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--algo",
            "noisy-student",
            "--epochs",
            "2",
            "--num-students",
            "2",
            "--threshold",
            "0.5",
            "--threads",
            "1",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(m) = metrics {
            args.extend(["--metrics", m.to_str().unwrap()]);
        }
        let run = nstudent(&args);
        assert!(run.status.success(), "{}", text(&run.stderr));
    };
    let (with, without) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    let metrics = dir.path().join("m.jsonl");
    train(&with, Some(&metrics));
    train(&without, None);
    // The diagnostic reads the pool's true labels after the fact: the model is the same, bit
    // for bit.
    assert_eq!(
        std::fs::read(&with).unwrap(),
        std::fs::read(&without).unwrap()
    );

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&metrics)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let epochs: Vec<&serde_json::Value> = lines.iter().filter(|l| l["event"] == "epoch").collect();
    // 2 epochs of the teacher and of each of the 2 students.
    assert_eq!(epochs.len(), 6, "{lines:?}");
    for e in &epochs {
        assert!(e["loss"].as_f64().unwrap() > 0.0, "{e}");
        assert!(e["images_per_second"].as_f64().unwrap() > 0.0, "{e}");
        assert!(e["elapsed_seconds"].as_f64().unwrap() > 0.0, "{e}");
    }
    let iterations: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["event"] == "iteration").collect();
    assert_eq!(iterations.len(), 2);
    for it in iterations {
        let kept: u64 = it["kept_per_class"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(it["kept"].as_u64(), Some(kept));
        let share = it["share_above_threshold"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share), "{it}");
        // The pool is the CSV's rows outside the labeled 10%: their labels are known.
        let accuracy = it["pseudo_label_accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&accuracy), "{it}");
        assert_eq!(it["pseudo_label_precision"].as_array().unwrap().len(), 3);
    }
}

#[test]
fn bench_prints_one_json_object_of_figures_with_format_json_or_json() {
    let args = [
        "bench",
        "--threads",
        "1",
        "--repeats",
        "1",
        "--seconds",
        "0.01",
    ];
    for flag in [&["--format", "json"][..], &["--json"][..]] {
        let out = nstudent(&[&args[..], flag].concat());
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["engine"], "native");
        assert_eq!(v["threads"], 1);
        assert_eq!(v["models"], 1);
        let kernels = v["kernels"].as_str().unwrap_or_default();
        assert!(["portable", "avx512"].contains(&kernels), "{v}");
        for key in ["train_28x28x1_b32", "infer_32x32x3_b1024"] {
            let rate = v[key].as_f64().unwrap_or(-1.0);
            assert!(rate > 0.0, "{key}: {v}");
        }
    }
    let out = nstudent(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.starts_with("engine native (")
            && table.contains("kernels) on cpu, 1 thread(s) per model")
            && table.contains("train_28x28x1_b32"),
        "{table}"
    );
    // NSTUDENT_KERNELS chooses the kernels; a value that is not a path exits 2 on one line.
    let with_kernels = |value: &str| {
        Command::new(env!("CARGO_BIN_EXE_nstudent"))
            .args(args)
            .args(["--format", "json"])
            .env("NSTUDENT_KERNELS", value)
            .output()
            .expect("the binary runs")
    };
    let out = with_kernels("portable");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kernels"], "portable", "{v}");
    let out = with_kernels("sse9");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("portable, avx512 or auto"), "{err}");
    // A build without the burn engine says how to get it: one line, exit 2.
    #[cfg(not(feature = "burn"))]
    {
        let out = nstudent(&["bench", "--engine", "burn", "--format", "json"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("--features burn"), "{err}");
    }
}

#[test]
fn bench_scaling_prints_each_shape_s_one_and_two_thread_rates_their_ratio_and_its_ceiling() {
    // Six rounds: the ratio is the median of the rounds' 2-thread over 1-thread rates, and
    // its 95% interval the smallest and largest of them (the only one six values give).
    let out = nstudent(&[
        "bench",
        "--scaling",
        "--threads",
        "2",
        "--repeats",
        "6",
        "--seconds",
        "0.01",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["threads"].as_u64(), v["rounds"].as_u64()),
        (Some(2), Some(6)),
        "{v}"
    );
    let num = |x: &serde_json::Value| x.as_f64().unwrap_or(-1.0);
    for shape in ["28x28x1", "32x32x3"] {
        let rounds = v[format!("rounds_{shape}_b32")].as_array().cloned();
        let rounds = rounds.unwrap_or_default();
        assert_eq!(rounds.len(), 6, "{shape}: {v}");
        let ratio_of = |key: &str| -> Vec<f64> {
            let mut r: Vec<f64> = rounds
                .iter()
                .map(|r| num(&r[key]) / num(&r["1t"]))
                .collect();
            r.sort_by(f64::total_cmp);
            r
        };
        let (ratios, ceilings) = (ratio_of("2t"), ratio_of("2x1t"));
        assert!(rounds.iter().all(|r| num(&r["1t"]) > 0.0), "{v}");
        for (what, per_round) in [("scaling", &ratios), ("ceiling", &ceilings)] {
            let median = (per_round[2] + per_round[3]) / 2.0;
            let reported = num(&v[format!("{what}_{shape}_b32")]);
            assert!((reported - median).abs() < 0.011, "{what} {shape}: {v}");
            let ci = &v[format!("{what}_{shape}_b32_ci")];
            assert!(
                (num(&ci[0]) - per_round[0]).abs() < 0.011,
                "{what} {shape}: {v}"
            );
            assert!(
                (num(&ci[1]) - per_round[5]).abs() < 0.011,
                "{what} {shape}: {v}"
            );
        }
    }
    // One round: no interval.
    let out = nstudent(&[
        "bench",
        "--scaling",
        "--threads",
        "2",
        "--repeats",
        "1",
        "--seconds",
        "0.01",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert_eq!(shown.matches("no interval").count(), 4, "{shown}");
    // Against one thread, one thread is no comparison; --models is another benchmark.
    for bad in [&["--threads", "1"][..], &["--models", "2"][..]] {
        let out = nstudent(&[&["bench", "--scaling"][..], bad].concat());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    }
}

#[test]
fn train_help_describes_every_flag_and_shows_the_defaults() {
    let out = nstudent(&["train", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    let lines: Vec<&str> = help.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("--") || line.trim_start().starts_with("-h,") {
            let next = lines.get(i + 1).map_or("", |l| l.trim());
            assert!(!next.is_empty(), "no description for {line}");
        }
    }
    for shown in [
        "[default: 0.4]",
        "Noisy Student iterations [default: 2]",
        "[default: 5]",
        "[default: 0.1 (1 with --unlabeled)]",
        "[default: noisy-student]",
    ] {
        assert!(help.contains(shown), "{shown} missing from:\n{help}");
    }
    // --print-config needs no data.
    let out = nstudent(&["train", "--print-config"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("threshold = 0.4"));
}
