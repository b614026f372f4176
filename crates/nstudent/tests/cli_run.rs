//! `nstudent run`, `status` and `merge` end to end, on a tiny generated task.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nstudent(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(args)
        .current_dir(cwd)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .output()
        .expect("run nstudent")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_usage_error(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(err.contains(needle), "expected {needle:?} in {err}");
}

/// A 4-class task of 12x12 grey images (a brighter quadrant per class, in strong noise), written as
/// raw IDX files.
fn tiny_task(dir: &Path) -> PathBuf {
    let (n, side) = (400usize, 12usize);
    let mut images = Vec::with_capacity(n * side * side);
    let mut labels = Vec::with_capacity(n);
    let mut state: u32 = 12345;
    for i in 0..n {
        let class = (i * 7 + i / 5) % 4;
        labels.push(class as u8);
        for y in 0..side {
            for x in 0..side {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 25) as u8;
                let quadrant = (y >= side / 2) as usize * 2 + (x >= side / 2) as usize;
                images.push(if quadrant == class {
                    100 + noise
                } else {
                    noise
                });
            }
        }
    }
    let data = dir.join("tiny");
    fs::create_dir_all(&data).unwrap();
    let mut img = vec![0, 0, 8, 3];
    for d in [n, side, side] {
        img.extend_from_slice(&(d as u32).to_be_bytes());
    }
    img.extend_from_slice(&images);
    fs::write(data.join("train-images-idx3-ubyte"), img).unwrap();
    let mut lab = vec![0, 0, 8, 1];
    lab.extend_from_slice(&(n as u32).to_be_bytes());
    lab.extend_from_slice(&labels);
    fs::write(data.join("train-labels-idx1-ubyte"), lab).unwrap();
    data
}

fn tiny_config(dir: &Path) -> PathBuf {
    let data = tiny_task(dir);
    let config = dir.join("tiny.toml");
    fs::write(
        &config,
        format!(
            r#"seed = 4
tasks = ["{}"]
algorithms = ["baseline", "noisy-student", "ensemble"]
outer_folds = 2
inner_folds = 2
[space]
unl_factor = [0.3]
threshold = [0.5]
num_students = [1, 2]
ensemble_size = [2]
[training]
epochs = 3
batch_size = 8
epochs_by_source = {{}}
[pseudo]
teacher_factor = 0.2
[execution]
threads = 2
"#,
            // Relative to the working directory, so the task name (and the seeds derived
            // from it) is the same on every run.
            data.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    config
}

/// The table without the timing columns (the only ones that differ between runs).
fn table_without_times(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("metrics_table.csv"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.rsplitn(3, ',').collect();
            cells.reverse();
            cells[0].to_string()
        })
        .collect()
}

#[test]
fn print_config_is_documented_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let out = nstudent(&["run", "--print-config"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("tasks = [\"fashion-mnist-10k\"]"),
        "{printed}"
    );
    assert!(printed.contains("outer_folds = 5"), "{printed}");
    assert!(
        printed.contains("# Outer cross-validation folds"),
        "{printed}"
    );
    let file = dir.path().join("printed.toml");
    fs::write(&file, &printed).unwrap();
    let again = nstudent(
        &["run", "--config", file.to_str().unwrap(), "--print-config"],
        dir.path(),
    );
    assert_eq!(text(&again.stdout), printed);
    let original = nstudent(
        &["run", "--preset", "original", "--print-config"],
        dir.path(),
    );
    let original = text(&original.stdout);
    assert!(original.contains("outer_folds = 10"), "{original}");
    assert!(
        original.contains("threshold = [0.4, 0.5, 0.6, 0.7, 0.8]"),
        "{original}"
    );
    assert!(original.contains("cifar100 = 2"), "{original}");
    // `--threads 0` and `--jobs 0` mean what they mean in the config: every core, the default.
    let zero = nstudent(
        &["run", "--threads", "0", "--jobs", "0", "--print-config"],
        dir.path(),
    );
    assert!(zero.status.success(), "{}", text(&zero.stderr));
    let zero = text(&zero.stdout);
    assert!(zero.contains("threads = 0\n"), "{zero}");
    assert!(zero.contains("jobs = 0\n"), "{zero}");
}

#[test]
fn bad_configs_and_flags_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, "[space]\nthreshold = [0.4, -0.8]\n").unwrap();
    assert_usage_error(
        &nstudent(
            &["run", "--config", bad.to_str().unwrap(), "--plan"],
            dir.path(),
        ),
        "threshold",
    );
    // Stochastic depth with a model that has no residual blocks would do nothing.
    fs::write(&bad, "[noise]\nsurvival = 0.8\n").unwrap();
    assert_usage_error(
        &nstudent(
            &["run", "--config", bad.to_str().unwrap(), "--plan"],
            dir.path(),
        ),
        "no residual blocks",
    );
    fs::write(&bad, "seed = 2\n\nouter_folds = \"two\"\n").unwrap();
    assert_usage_error(
        &nstudent(
            &["run", "--config", bad.to_str().unwrap(), "--plan"],
            dir.path(),
        ),
        "bad.toml line 3: outer_folds must be a whole number, got the string \"two\"",
    );
    let file = dir.path().join("results.txt");
    fs::write(&file, "notes").unwrap();
    assert_usage_error(
        &nstudent(&["run", "--out", file.to_str().unwrap()], dir.path()),
        "--out names a results directory",
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "notes");
    fs::write(&bad, "outer_fold = 3\n").unwrap();
    assert_usage_error(
        &nstudent(
            &["run", "--config", bad.to_str().unwrap(), "--plan"],
            dir.path(),
        ),
        "unknown field",
    );
    // clap checks --preset and --engine: exit 2, the values, the nearest one for a typo.
    let typo = nstudent(&["run", "--preset", "quik", "--plan"], dir.path());
    assert_eq!(typo.status.code(), Some(2));
    let err = text(&typo.stderr);
    assert!(
        err.starts_with("error: invalid value 'quik' for '--preset <PRESET>'")
            && err.contains("[possible values: quick, standard, original, seed]")
            && err.contains("a similar value exists: 'quick'"),
        "{err}"
    );
    let typo = nstudent(&["run", "--engine", "nativ", "--plan"], dir.path());
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        text(&typo.stderr).contains("[possible values: native, burn]"),
        "{}",
        text(&typo.stderr)
    );
    #[cfg(not(feature = "burn"))]
    assert_usage_error(
        &nstudent(&["run", "--engine", "burn", "--plan"], dir.path()),
        "rebuild with `--features burn`",
    );
    // --format is --plan's.
    let alone = nstudent(&["run", "--format", "json"], dir.path());
    assert_eq!(alone.status.code(), Some(2));
    assert!(text(&alone.stderr).contains("--plan"));
    assert_usage_error(
        &nstudent(&["run", "--folds", "1", "--plan"], dir.path()),
        "outer_folds",
    );
    assert_usage_error(
        &nstudent(&["run", "--shard", "2/2", "--plan"], dir.path()),
        "shard index",
    );
    assert_usage_error(
        &nstudent(&["run", "--config", "missing.toml", "--plan"], dir.path()),
        "missing.toml",
    );
    assert_usage_error(
        &nstudent(&["status", "nowhere"], dir.path()),
        "not an nstudent results directory",
    );
    assert!(
        !dir.path().join("nstudent-results").exists(),
        "no output on bad input"
    );
}

#[test]
fn plan_counts_trainings_against_the_original_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let out = nstudent(&["run", "--preset", "original", "--plan"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("1000 cells (20 tasks x 10 outer folds x 5 algorithms)"),
        "{s}"
    );
    assert!(s.contains("168600") && s.contains("490200"), "{s}");
    let out = nstudent(
        &["run", "--preset", "original", "--plan", "--format", "json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["total_cells"], 1000);
    assert_eq!(p["cells"].as_array().unwrap().len(), 1000);
    assert_eq!(p["done_cells"], 0);
    assert_eq!(p["tasks"], 20);
    assert_eq!(p["outer_folds"], 10);
    assert_eq!(p["algorithms"], 5);
    assert_eq!(p["trainings"]["nstudent"], 168600);
    assert_eq!(p["trainings"]["original"], 490200);
    assert_eq!(p["trainings_per_cell"]["baseline"]["original"], 1);
    assert!(p["remaining"].is_null());
    let shard = nstudent(
        &["run", "--preset", "original", "--plan", "--shard", "1/4"],
        dir.path(),
    );
    assert!(
        text(&shard.stdout).contains("250 cells"),
        "{}",
        text(&shard.stdout)
    );
    // Kubernetes: the index from the environment, the count from the flag.
    let k8s = Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args([
            "run",
            "--preset",
            "original",
            "--plan",
            "--shard-count",
            "3",
        ])
        .env("JOB_COMPLETION_INDEX", "2")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        text(&k8s.stdout).contains("333 cells"),
        "{}",
        text(&k8s.stderr)
    );
    assert!(text(&k8s.stdout).contains("(shard 2/3 only)"));
}

#[test]
fn tiny_study_runs_resumes_shards_and_refuses_a_changed_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path());
    let cfg = config.to_str().unwrap();

    // Uninterrupted.
    let out = nstudent(
        &["run", "--config", cfg, "--out", "whole", "--quiet"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Noisy Student") && stdout.contains("Wilcoxon"),
        "{stdout}"
    );
    let whole = dir.path().join("whole");
    for f in [
        "metrics_table.csv",
        "stats.json",
        "report.html",
        "study.toml",
        "nstudent.log",
    ] {
        assert!(whole.join(f).is_file(), "{f} missing");
    }
    let rows = table_without_times(&whole);
    assert_eq!(rows.len(), 1 + 2 * 3, "{rows:?}");
    // The cell directory is named after the task (its path, made portable).
    let task_dir = fs::read_dir(whole.join("cells"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let cell: serde_json::Value =
        serde_json::from_slice(&fs::read(task_dir.join("2/ensemble.json")).unwrap()).unwrap();
    assert_eq!(cell["fold"], 2);
    assert_eq!(cell["hyperparameters"]["ensemble_size"], 2);
    assert_eq!(cell["search"].as_array().unwrap().len(), 2, "{cell}");
    assert!(
        cell["trainings"].as_u64().unwrap() >= 2 * (2 + 2 * 2) + 2,
        "{cell}"
    );
    let baseline: serde_json::Value =
        serde_json::from_slice(&fs::read(task_dir.join("1/baseline.json")).unwrap()).unwrap();
    let acc = baseline["metrics"]["accuracy"].as_f64().unwrap();
    assert!(acc > 0.6, "the tiny task is learnable: {acc}");
    assert_eq!(baseline["hyperparameters"], serde_json::Value::Null);
    assert_eq!(baseline["teacher"], serde_json::Value::Null);

    // Paired teachers: in every fold, the first teacher of Noisy Student and of the Ensemble
    // (its member 0) is the fold's Baseline model, so it scores exactly the Baseline's
    // metrics on the test fold.
    let read_cell = |fold: usize, algorithm: &str| -> serde_json::Value {
        let path = task_dir.join(format!("{fold}/{algorithm}.json"));
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    };
    for fold in [1, 2] {
        let baseline = read_cell(fold, "baseline");
        for algorithm in ["noisy-student", "ensemble"] {
            let cell = read_cell(fold, algorithm);
            assert_eq!(
                cell["teacher"]["metrics"], baseline["metrics"],
                "fold {fold} {algorithm}: {cell}"
            );
        }
        let ensemble = read_cell(fold, "ensemble");
        assert!(
            ensemble["teacher"]["ensemble_metrics"]["accuracy"].is_f64(),
            "{ensemble}"
        );
    }

    // `verify` recomputes finished cells, on another thread count, bit for bit; a tampered
    // cell file is caught.
    let verified = nstudent(
        &["verify", "whole", "--cells", "0,1,2", "--threads", "1"],
        dir.path(),
    );
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert_eq!(text(&verified.stdout).matches("identical").count(), 3);
    let cell_file = task_dir.join("1/noisy-student.json");
    let original = fs::read_to_string(&cell_file).unwrap();
    let mut tampered: serde_json::Value = serde_json::from_str(&original).unwrap();
    assert!(tampered["checksum"].is_string(), "{tampered}");
    tampered["metrics"]["accuracy"] = serde_json::json!(0.123);
    fs::write(&cell_file, tampered.to_string()).unwrap();
    // An edit no longer matches the checksum written with the cell: refused as edited.
    assert_usage_error(
        &nstudent(&["verify", "whole", "--cells", "1"], dir.path()),
        "noisy-student.json: was changed after nstudent wrote it",
    );
    // Without a checksum (a cell from before them), verify cannot tell an edit from another
    // build, and says so.
    tampered.as_object_mut().unwrap().remove("checksum");
    fs::write(&cell_file, tampered.to_string()).unwrap();
    let caught = nstudent(&["verify", "whole", "--cells", "1"], dir.path());
    assert_eq!(caught.status.code(), Some(1), "{}", text(&caught.stderr));
    assert!(
        text(&caught.stdout).contains("DIFFERENT")
            && text(&caught.stdout).contains("metrics.accuracy: 0.123"),
        "{}",
        text(&caught.stdout)
    );
    assert!(
        text(&caught.stderr).contains("or 1 of them were edited"),
        "{}",
        text(&caught.stderr)
    );

    // A cell computed by another revision of its kernels is not recomputed: this build would
    // give other bits. It is refused with a usage error naming both revisions.
    let mut other_revision: serde_json::Value = serde_json::from_str(&original).unwrap();
    assert!(
        other_revision["kernel_revision"].is_u64(),
        "{other_revision}"
    );
    other_revision["kernel_revision"] = serde_json::json!(99);
    other_revision.as_object_mut().unwrap().remove("checksum");
    fs::write(&cell_file, other_revision.to_string()).unwrap();
    assert_usage_error(
        &nstudent(&["verify", "whole", "--cells", "1"], dir.path()),
        "revision 99",
    );
    fs::write(&cell_file, original).unwrap();
    assert_usage_error(
        &nstudent(&["verify", "whole", "--cells", "99"], dir.path()),
        "cells 0-5",
    );

    // Interrupted after 3 cells, then resumed: the same table. The costliest cells start
    // first: the two ensembles, then Noisy Student (fold 1, the study order among equals).
    let first = nstudent(
        &[
            "run",
            "--config",
            cfg,
            "--out",
            "parts",
            "--quiet",
            "--max-cells",
            "3",
        ],
        dir.path(),
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let parts = dir.path().join("parts");
    assert!(!parts.join("metrics_table.csv").exists());
    let status = nstudent(&["status", "parts"], dir.path());
    let listed = text(&status.stdout);
    assert!(
        listed.contains("3 of 6 cells finished, 3 missing")
            && listed.contains("missing  cell     0  tiny  fold 1  baseline")
            && listed.contains("missing  cell     4  tiny  fold 2  noisy-student"),
        "{listed}"
    );
    // Fold 2's Noisy Student is estimated from fold 1's; no baseline has finished to
    // estimate the two baseline cells from.
    assert!(
        listed.contains("core-hours for 1 cells")
            && listed.contains("2 more cells have no finished cell"),
        "{listed}"
    );
    // For those, it names the plan that predicts every cell; that command runs as printed and
    // sees the 3 finished cells.
    let hint = listed
        .lines()
        .find_map(|l| l.split_once("speed: nstudent "))
        .map(|(_, command)| command.to_string())
        .unwrap_or_else(|| panic!("no plan command in {listed}"));
    assert_eq!(hint, "run --config parts/study.toml --out parts --plan");
    let hinted = nstudent(&hint.split(' ').collect::<Vec<_>>(), dir.path());
    assert!(hinted.status.success(), "{}", text(&hinted.stderr));
    assert!(
        text(&hinted.stdout).contains("3 done, 3 to do"),
        "{}",
        text(&hinted.stdout)
    );
    // The same as one JSON document.
    let status = nstudent(&["status", "parts", "--format", "json"], dir.path());
    assert!(status.status.success(), "{}", text(&status.stderr));
    let s: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(s["dir"], "parts");
    assert_eq!(s["total_cells"], 6);
    assert_eq!(s["finished_cells"], 3);
    assert_eq!(s["missing_cells"], 3);
    assert_eq!(
        s["missing"][0],
        serde_json::json!({"index": 0, "task": "tiny", "fold": 1, "algorithm": "baseline"})
    );
    assert_eq!(s["missing"][2]["index"], 4);
    assert_eq!(s["missing"][2]["algorithm"], "noisy-student");
    assert_eq!(s["remaining"]["estimated_cells"], 1);
    assert_eq!(s["remaining"]["unknown_cells"], 2);
    assert!(s["remaining"]["core_seconds"].as_f64().unwrap() > 0.0);
    assert!(listed.contains(&format!(
        "(config hash {})",
        s["config_hash"].as_str().unwrap()
    )));
    // `run --plan` of the same directory: which cells are done, and what is left.
    let plan = nstudent(
        &[
            "run", "--config", cfg, "--out", "parts", "--plan", "--format", "json",
        ],
        dir.path(),
    );
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    let p: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(p["total_cells"], 6);
    assert_eq!(p["done_cells"], 3);
    assert_eq!(p["todo_cells"], 3);
    let cells = p["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 6);
    assert_eq!(cells[0]["done"], false);
    assert_eq!(cells[2]["algorithm"], "ensemble");
    assert_eq!(cells[2]["done"], true);
    assert_eq!(p["remaining"], s["remaining"]);
    assert!(p["predicted"]["core_seconds"].as_f64().unwrap() > 0.0);
    assert!(p["shard"].is_null());
    let second = nstudent(&["run", "--config", cfg, "--out", "parts"], dir.path());
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains("3 cells computed, 3 were already finished"),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(table_without_times(&parts), rows);

    // Resumed with a single cell left, which then trains with both threads where the
    // uninterrupted run gave each cell one: the same table, bit for bit.
    let five = nstudent(
        &[
            "run",
            "--config",
            cfg,
            "--out",
            "last",
            "--quiet",
            "--max-cells",
            "5",
        ],
        dir.path(),
    );
    assert!(five.status.success(), "{}", text(&five.stderr));
    let last = nstudent(&["run", "--config", cfg, "--out", "last"], dir.path());
    assert!(last.status.success(), "{}", text(&last.stderr));
    let log = fs::read_to_string(dir.path().join("last/nstudent.log")).unwrap();
    assert!(
        log.contains("1 cells to do, 5 already finished, 1 side by side with 2 threads each"),
        "{log}"
    );
    assert_eq!(table_without_times(&dir.path().join("last")), rows);

    // Two shards in two processes with different thread counts: the last one merges; the
    // same table.
    for (shard, threads, jobs) in [("0/2", "1", "1"), ("1/2", "2", "1")] {
        let o = nstudent(
            &[
                "run",
                "--config",
                cfg,
                "--out",
                "sharded",
                "--quiet",
                "--shard",
                shard,
                "--threads",
                threads,
                "--jobs",
                jobs,
            ],
            dir.path(),
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    assert_eq!(table_without_times(&dir.path().join("sharded")), rows);
    let merged = nstudent(&["merge", "sharded", "--no-report"], dir.path());
    assert!(merged.status.success(), "{}", text(&merged.stderr));
    assert_eq!(table_without_times(&dir.path().join("sharded")), rows);

    // A different config in the same directory is refused, and nothing is touched.
    let before = fs::read(whole.join("metrics_table.csv")).unwrap();
    let changed = nstudent(
        &["run", "--config", cfg, "--out", "whole", "--seed", "5"],
        dir.path(),
    );
    assert_usage_error(&changed, "--force");
    assert_eq!(fs::read(whole.join("metrics_table.csv")).unwrap(), before);
    // Its plan is refused the same way (not planned as if the directory were new); with
    // --force it is planned from scratch, still touching nothing.
    let plan = |extra: &[&str]| {
        let args = [
            &[
                "run", "--config", cfg, "--out", "whole", "--seed", "5", "--plan",
            ][..],
            extra,
        ]
        .concat();
        nstudent(&args, dir.path())
    };
    assert_usage_error(&plan(&[]), "holds a study with config hash");
    let forced = plan(&["--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert!(
        text(&forced.stdout).contains(", 0 done, "),
        "{}",
        text(&forced.stdout)
    );
    assert_eq!(fs::read(whole.join("metrics_table.csv")).unwrap(), before);
    let superseded = fs::read_dir(&whole)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("superseded-"))
        .count();
    assert_eq!(superseded, 0, "a plan moved cells");
}

#[test]
fn successive_halving_keeps_the_best_third_for_the_full_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path());
    let mut toml = fs::read_to_string(&config).unwrap();
    toml = toml.replace("threshold = [0.5]", "threshold = [0.3, 0.5, 0.7]");
    toml = toml.replace("inner_folds = 2", "inner_folds = 2\nsearch = \"halving\"");
    toml = toml.replace(
        "algorithms = [\"baseline\", \"noisy-student\", \"ensemble\"]",
        "algorithms = [\"noisy-student\"]",
    );
    toml.push_str("[halving]\neta = 3\nmin_epochs = 1\n");
    fs::write(&config, toml).unwrap();
    let cfg = config.to_str().unwrap();
    let plan = nstudent(&["run", "--config", cfg, "--plan"], dir.path());
    // Per inner fold: rung 1 (1 epoch) a teacher + 3 chains x 2 students, rung 2 (3 epochs) a
    // teacher + 1 chain x 2 students; plus the refit (1 + 2): 2 x (7 + 3) + 3 = 23 per cell.
    assert!(
        text(&plan.stdout).contains("noisy-student            23 /"),
        "{}",
        text(&plan.stdout)
    );
    let out = nstudent(
        &["run", "--config", cfg, "--out", "halving", "--quiet"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cell: serde_json::Value = serde_json::from_slice(
        &fs::read(dir.path().join("halving/cells/tiny/1/noisy-student.json")).unwrap(),
    )
    .unwrap();
    let search = cell["search"].as_array().unwrap();
    let at = |e: u64| search.iter().filter(|s| s["epochs"] == e).count();
    assert_eq!((at(1), at(3)), (6, 2), "{cell}");
    // The plan's 23 is an upper bound: the refit trains 1 + the chosen num_students.
    let chosen = &cell["hyperparameters"];
    assert_eq!(
        cell["trainings"].as_u64().unwrap(),
        20 + 1 + chosen["num_students"].as_u64().unwrap(),
        "{cell}"
    );
    // The chosen configuration is one measured at the full epochs.
    assert!(search
        .iter()
        .any(|s| s["epochs"] == 3 && &s["hyperparameters"] == chosen));
}

#[test]
fn a_one_candidate_space_skips_the_inner_search() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path());
    let mut toml = fs::read_to_string(&config).unwrap();
    toml = toml.replace("num_students = [1, 2]", "num_students = [2]");
    toml = toml.replace(
        "algorithms = [\"baseline\", \"noisy-student\", \"ensemble\"]",
        "algorithms = [\"noisy-student\", \"ensemble\"]",
    );
    fs::write(&config, toml).unwrap();
    let cfg = config.to_str().unwrap();
    let plan = nstudent(&["run", "--config", cfg, "--plan"], dir.path());
    // No search: the refit alone, a teacher and 2 students per member.
    let plan = text(&plan.stdout);
    assert!(
        plan.contains("noisy-student             3 /        3"),
        "{plan}"
    );
    assert!(
        plan.contains("ensemble                  6 /        6"),
        "{plan}"
    );
    let out = nstudent(
        &["run", "--config", cfg, "--out", "fixed", "--quiet"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (algorithm, trainings, size) in [("noisy-student", 3, 1), ("ensemble", 6, 2)] {
        let cell: serde_json::Value = serde_json::from_slice(
            &fs::read(
                dir.path()
                    .join(format!("fixed/cells/tiny/1/{algorithm}.json")),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(cell["search"].as_array().unwrap().len(), 0, "{cell}");
        assert_eq!(cell["trainings"], trainings, "{cell}");
        assert_eq!(cell["hyperparameters"]["num_students"], 2, "{cell}");
        assert_eq!(cell["hyperparameters"]["ensemble_size"], size, "{cell}");
        assert!(
            cell["notes"].to_string().contains("inner search skipped"),
            "{cell}"
        );
    }
}

#[test]
fn two_plain_runs_at_once_share_the_directory_and_compute_each_cell_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path());
    let cfg = config.to_str().unwrap();
    let whole = nstudent(
        &["run", "--config", cfg, "--out", "whole", "--quiet"],
        dir.path(),
    );
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    let rows = table_without_times(&dir.path().join("whole"));

    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_nstudent"))
            .args([
                "run",
                "--config",
                cfg,
                "--out",
                "shared",
                "--quiet",
                "--threads",
                "1",
            ])
            .current_dir(dir.path())
            .env_remove("SLURM_ARRAY_TASK_ID")
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    // Whichever finished last merged; merge again to be sure of the final table.
    let merged = nstudent(&["merge", "shared", "--no-report"], dir.path());
    assert!(merged.status.success(), "{}", text(&merged.stderr));
    assert_eq!(table_without_times(&dir.path().join("shared")), rows);
    let log = fs::read_to_string(dir.path().join("shared/nstudent.log")).unwrap();
    assert_eq!(log.matches("] done: ").count(), 6, "{log}");
    assert!(!log.contains("elsewhere first"), "{log}");
}

#[test]
fn a_worker_killed_mid_cell_is_taken_over_by_another() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path());
    // Slow cells: many epochs, one fold's search at a time.
    let slow = fs::read_to_string(&config)
        .unwrap()
        .replace("epochs = 3", "epochs = 40")
        .replace("threads = 2", "threads = 1");
    let slow_path = dir.path().join("slow.toml");
    fs::write(&slow_path, slow).unwrap();
    let cfg = slow_path.to_str().unwrap();
    let worker = |out: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nstudent"));
        c.args([
            "run",
            "--config",
            cfg,
            "--out",
            out,
            "--quiet",
            "--worker",
            "--algorithms",
            "noisy-student",
        ])
        .current_dir(dir.path())
        .env_remove("SLURM_ARRAY_TASK_ID")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
        c
    };
    let mut first = worker("shared").spawn().unwrap();
    // Kill it -9 once it holds a cell and has checkpointed an inner fold.
    let cells = dir.path().join("shared/cells");
    let started = std::time::Instant::now();
    let found = |ext: &str| {
        walk(&cells)
            .iter()
            .any(|p| p.to_string_lossy().ends_with(ext))
    };
    while !(found(".claim") && found(".partial.json")) {
        assert!(started.elapsed().as_secs() < 120, "no checkpoint came");
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first worker ended early"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(found(".claim"), "the killed worker leaves its claim");
    // Another worker (same machine: the dead process's claim is stale at once) resumes it.
    let second = worker("shared").output().unwrap();
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(!found(".claim") && !found(".partial.json"));
    let log = fs::read_to_string(dir.path().join("shared/nstudent.log")).unwrap();
    assert!(
        log.contains("inner-search steps from the checkpoint"),
        "{log}"
    );
    // The same cells as one uninterrupted worker's.
    let clean = worker("clean").output().unwrap();
    assert!(clean.status.success(), "{}", text(&clean.stderr));
    assert_eq!(
        table_without_times(&dir.path().join("shared")),
        table_without_times(&dir.path().join("clean"))
    );
}

/// Every file below `dir` (none when it does not exist).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_study_with_a_separate_unlabeled_set_records_it_in_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path());
    let set = dir.path().join("set");
    fs::create_dir(&set).unwrap();
    let set_dir = tiny_task(&set);
    let base = fs::read_to_string(&config).unwrap();

    // A set that cannot be read: exit 2 before any results directory exists.
    let broken = dir.path().join("broken.toml");
    fs::write(
        &broken,
        format!("{base}[data]\nunlabeled = \"no-such-set.csv\"\n"),
    )
    .unwrap();
    let out = nstudent(
        &["run", "--config", "broken.toml", "--out", "r0", "--quiet"],
        dir.path(),
    );
    assert_usage_error(&out, "no-such-set.csv");
    assert!(!dir.path().join("r0").exists());

    // A set of another image size: exit 2 naming both shapes, before any directory exists.
    fs::write(dir.path().join("small.csv"), "0,1,2,3,4\n1,5,6,7,8\n").unwrap();
    fs::write(
        &broken,
        format!("{base}[data]\nunlabeled = \"small.csv\"\n"),
    )
    .unwrap();
    let out = nstudent(
        &["run", "--config", "broken.toml", "--out", "r0", "--quiet"],
        dir.path(),
    );
    assert_usage_error(&out, "2x2x1");
    assert!(
        text(&out.stderr).contains("12x12x1"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("r0").exists());

    let with_set = dir.path().join("set.toml");
    let spec = set_dir.to_string_lossy().replace('\\', "/");
    fs::write(&with_set, format!("{base}[data]\nunlabeled = \"{spec}\"\n")).unwrap();
    let out = nstudent(
        &[
            "run",
            "--config",
            "set.toml",
            "--out",
            "r1",
            "--algorithms",
            "noisy-student",
            "--max-cells",
            "1",
        ],
        dir.path(),
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("unlabeled set") && err.contains("every fold pseudo-labels it"),
        "{err}"
    );
    let study_toml = fs::read_to_string(dir.path().join("r1/study.toml")).unwrap();
    assert!(study_toml.contains("[data]"), "{study_toml}");
    let cells: Vec<PathBuf> = walk(&dir.path().join("r1/cells"));
    assert_eq!(cells.len(), 1, "{cells:?}");
    let cell: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&cells[0]).unwrap()).unwrap();
    // tiny_task writes 400 images.
    assert_eq!(cell["unlabeled_size"], 400, "{cell}");

    // The refit's metric lines, with the cell's identity; a separate set's labels are not
    // known, so no pseudo-label accuracy.
    let metrics = fs::read_to_string(dir.path().join("r1/metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = metrics
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let iteration = lines
        .iter()
        .find(|l| l["event"] == "iteration" && l["phase"] == "refit")
        .unwrap_or_else(|| panic!("{metrics}"));
    // Every training writes its lines, the inner search's too.
    assert!(
        lines
            .iter()
            .any(|l| l["phase"] == "inner" && l["event"] == "iteration"),
        "{metrics}"
    );
    assert_eq!(iteration["task"], cell["task"]);
    assert_eq!(iteration["algorithm"], "noisy-student");
    assert!(iteration["pseudo_label_accuracy"].is_null(), "{iteration}");
    assert!(lines
        .iter()
        .any(|l| l["event"] == "epoch" && l["stage"] == "teacher"));
}

#[test]
fn the_data_table_reads_csv_tasks_and_resizes_them() {
    let dir = tempfile::tempdir().unwrap();
    // A CSV task with its label in the last column and pixels 0-16: the tiny task's images,
    // scaled down.
    let idx = tiny_task(dir.path());
    let images = fs::read(idx.join("train-images-idx3-ubyte")).unwrap();
    let labels = fs::read(idx.join("train-labels-idx1-ubyte")).unwrap();
    let mut csv = String::new();
    for (i, label) in labels[8..].iter().enumerate() {
        let px = &images[16 + i * 144..16 + (i + 1) * 144];
        let cells: Vec<String> = px
            .iter()
            .map(|p| (u32::from(*p) * 16 / 255).to_string())
            .collect();
        csv.push_str(&format!("{},{label}\n", cells.join(",")));
    }
    fs::write(dir.path().join("last.csv"), csv).unwrap();
    let base = r#"seed = 4
tasks = ["last.csv"]
algorithms = ["baseline"]
outer_folds = 2
[training]
epochs = 1
batch_size = 8
epochs_by_source = {}
"#;
    let write = |name: &str, data: &str| {
        fs::write(dir.path().join(name), format!("{base}[data]\n{data}")).unwrap();
    };
    write(
        "ok.toml",
        "label_column = \"last\"\nmax_value = 16\nresize = \"6x6\"\ncolour = \"rgb\"\n",
    );
    let out = nstudent(
        &["run", "--config", "ok.toml", "--out", "r", "--quiet"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let study = fs::read_to_string(dir.path().join("r/study.toml")).unwrap();
    assert!(
        study.contains("label_column = \"last\"") && study.contains("resize = \"6x6\""),
        "{study}"
    );
    let table = fs::read_to_string(dir.path().join("r/metrics_table.csv")).unwrap();
    assert_eq!(table.lines().count(), 3, "{table}");

    // Read with the defaults, the first column (a pixel) would be the label: refused.
    fs::write(dir.path().join("plain.toml"), base).unwrap();
    let out = nstudent(
        &["run", "--config", "plain.toml", "--out", "p", "--quiet"],
        dir.path(),
    );
    assert!(!out.status.success());

    // A value that does not parse names its key, before anything runs.
    write("bad.toml", "resize = \"6\"\n");
    let out = nstudent(
        &["run", "--config", "bad.toml", "--out", "b", "--quiet"],
        dir.path(),
    );
    assert_usage_error(&out, "data.resize");
    assert!(!dir.path().join("b").exists());
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let dir = tempfile::tempdir().unwrap();
    let bash = nstudent(&["completions", "bash"], dir.path());
    assert!(bash.status.success(), "{}", text(&bash.stderr));
    let script = text(&bash.stdout);
    assert!(script.contains("_nstudent()"), "{script}");
    for sub in [
        "data",
        "train",
        "predict",
        "score",
        "run",
        "status",
        "merge",
        "verify",
        "stats",
        "report",
        "bench",
        "completions",
    ] {
        assert!(
            script.contains(&format!("nstudent,{sub})")),
            "no `{sub}` in the bash script"
        );
    }
    // The values of the value enums are completed.
    assert!(script.contains("quick standard original seed"), "{script}");
    for shell in ["zsh", "fish"] {
        let out = nstudent(&["completions", shell], dir.path());
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("nstudent"));
    }
    let bad = nstudent(&["completions", "tcsh"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("[possible values: bash, zsh, fish]"),
        "{}",
        text(&bad.stderr)
    );
    assert!(bad.stdout.is_empty());
}

#[test]
fn curve_draws_accuracy_against_the_labeled_fraction_of_studies_that_vary_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    tiny_task(cwd);
    let study = |fraction: &str, seed: u32| {
        let name = format!("f{fraction}-{seed}");
        fs::write(
            cwd.join(format!("{name}.toml")),
            format!(
                "seed = {seed}\ntasks = [\"tiny\"]\nalgorithms = [\"baseline\", \"augmented-baseline\", \"noisy-student\"]\nouter_folds = 2\n[space]\nthreshold = [0.5]\nnum_students = [1]\n[training]\nepochs = 1\nbatch_size = 8\n[pseudo]\nteacher_factor = {fraction}\n"
            ),
        )
        .unwrap();
        let out = nstudent(
            &[
                "run",
                "--preset",
                "standard",
                "--config",
                &format!("{name}.toml"),
                "--out",
                &name,
                "--quiet",
            ],
            cwd,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        name
    };
    let (a, b) = (study("0.1", 4), study("0.3", 4));
    let out = nstudent(&["curve", &b, &a, "--out", "lc"], cwd);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = fs::read_to_string(cwd.join("lc.csv")).unwrap();
    // 2 fractions x 3 algorithms, in ascending fraction whatever the argument order.
    assert_eq!(csv.lines().count(), 1 + 6, "{csv}");
    assert!(csv.lines().nth(1).unwrap().contains(",0.1,2,"), "{csv}");
    assert!(
        csv.lines()
            .nth(6)
            .unwrap()
            .contains("\"Noisy Student\",0.3,2,"),
        "{csv}"
    );
    let svg = fs::read_to_string(cwd.join("lc.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Augmented Baseline"));
    let md = fs::read_to_string(cwd.join("lc.md")).unwrap();
    assert_eq!(text(&out.stdout), md);
    assert!(
        md.contains("| 10% |") && md.contains("Noisy Student vs Augmented Baseline"),
        "{md}"
    );
    // Studies that differ in more than the fraction are refused, and nothing is written.
    let c = study("0.2", 5);
    let out = nstudent(&["curve", &a, &c, "--out", "bad"], cwd);
    assert_usage_error(&out, "differs from");
    assert!(!cwd.join("bad.svg").exists());
    let out = nstudent(&["curve", &a, &a, "--out", "bad"], cwd);
    assert_usage_error(&out, "both label 0.1");
    // Nothing is written inside a study (its own table would be replaced).
    let table = cwd.join(&a).join("metrics_table.csv");
    let before = fs::read(&table).unwrap();
    let inside = format!("{a}/metrics_table");
    let out = nstudent(&["curve", &a, &b, "--out", &inside], cwd);
    assert_usage_error(&out, "inside the study");
    assert_eq!(fs::read(&table).unwrap(), before);
}

#[test]
fn two_configs_started_together_on_one_new_directory_never_mix() {
    let dir = tempfile::tempdir().unwrap();
    let base = fs::read_to_string(tiny_config(dir.path()))
        .unwrap()
        .replace(
            r#"algorithms = ["baseline", "noisy-student", "ensemble"]"#,
            r#"algorithms = ["baseline"]"#,
        )
        .replace("epochs = 3", "epochs = 1");
    fs::write(dir.path().join("a.toml"), &base).unwrap();
    fs::write(
        dir.path().join("b.toml"),
        base.replace("seed = 4", "seed = 5"),
    )
    .unwrap();
    for round in 0..20 {
        let out = format!("r{round}");
        let spawn = |config: &str| {
            Command::new(env!("CARGO_BIN_EXE_nstudent"))
                .args(["run", "--config", config, "--out", &out])
                .current_dir(dir.path())
                .env_remove("SLURM_ARRAY_TASK_ID")
                .env_remove("JOB_COMPLETION_INDEX")
                .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn("a.toml"), spawn("b.toml"));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let codes = (a.status.code(), b.status.code());
        let loser = match codes {
            (Some(0), Some(2)) => &b,
            (Some(2), Some(0)) => &a,
            _ => panic!(
                "round {round}: exit codes {codes:?}: {} | {}",
                text(&a.stderr),
                text(&b.stderr)
            ),
        };
        let err = text(&loser.stderr);
        assert!(err.contains("holds a study with config hash"), "{err}");
        let results = dir.path().join(&out);
        let study = fs::read_to_string(results.join("study.toml")).unwrap();
        let hash = study
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# config-hash: "))
            .unwrap()
            .to_string();
        // The winner's table is complete, and every cell file is the winner's.
        let table = fs::read_to_string(results.join("metrics_table.csv")).unwrap();
        assert_eq!(table.lines().count(), 3, "round {round}: {table}");
        let mut cells = 0;
        for entry in walk(&results.join("cells")) {
            let name = entry.to_string_lossy().into_owned();
            assert!(
                name.ends_with(".json"),
                "round {round}: left behind: {name}"
            );
            let cell: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(&entry).unwrap()).unwrap();
            assert_eq!(cell["config_hash"], hash.as_str(), "round {round}: {name}");
            cells += 1;
        }
        assert_eq!(cells, 2, "round {round}");
    }
}

#[test]
fn impossible_sizes_are_refused_before_the_results_directory_exists() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path());
    let config = config.to_str().unwrap();
    // 400 images cannot fill 500 folds; the split is checked before anything is written.
    for (extra, needle) in [
        (
            &["--folds", "500"][..],
            "task tiny has 400 images, too few for outer_folds = 500",
        ),
        (
            &["--folds", "4294967296"][..],
            "outer_folds = 4294967296 is more than the limit 1000",
        ),
    ] {
        let args = [&["run", "--config", config, "--out", "r"][..], extra].concat();
        assert_usage_error(&nstudent(&args, dir.path()), needle);
        assert!(!dir.path().join("r").exists(), "{extra:?} left r behind");
    }
    let big = fs::read_to_string(config)
        .unwrap()
        .replace("ensemble_size = [2]", "ensemble_size = [100000]");
    fs::write(dir.path().join("big.toml"), big).unwrap();
    assert_usage_error(
        &nstudent(&["run", "--config", "big.toml", "--out", "r"], dir.path()),
        "ensemble_size 100000 is more than the limit 32",
    );
    assert!(!dir.path().join("r").exists());
}
