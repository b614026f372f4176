//! `predict --threads` is a budget the process keeps: with one thread the prediction runs on
//! the main thread and the process never has another; with two the main thread works beside
//! exactly one helper (named `nstudent-helper-*`). Threads are read from /proc (Linux only) while
//! the process runs.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Command, Stdio};

fn nstudent(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nstudent"));
    c.current_dir(dir)
        .env("NSTUDENT_DATA", "/nonexistent-nstudent-data")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Runs `predict` with `threads` and returns the most threads the process had at once, and the
/// most of them that were helpers.
fn predict_threads(dir: &Path, threads: &str) -> (usize, usize) {
    let mut child = nstudent(dir)
        .args([
            "predict",
            "--model",
            "m.safetensors",
            "--data",
            "fashion-mnist-10k",
        ])
        .args(["--threads", threads, "--out", &format!("p{threads}.csv")])
        .spawn()
        .unwrap();
    let task_dir = format!("/proc/{}/task", child.id());
    let (mut most, mut most_compute) = (0, 0);
    loop {
        if let Ok(tasks) = std::fs::read_dir(&task_dir) {
            let names: Vec<String> = tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .collect();
            most = most.max(names.len());
            let compute = names
                .iter()
                .filter(|n| n.starts_with("nstudent-helper"))
                .count();
            most_compute = most_compute.max(compute);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (most, most_compute)
}

#[test]
fn a_one_thread_prediction_never_starts_a_thread_and_two_start_exactly_one_helper() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = nstudent(d)
        .args(["train", "--data", "fashion-mnist-10k", "--algo", "baseline"])
        .args([
            "--epochs",
            "1",
            "--teacher-factor",
            "0.1",
            "--out",
            "m.safetensors",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // 10,000 images: long enough for the polling to see every thread the process starts.
    let (one, one_compute) = predict_threads(d, "1");
    assert_eq!(
        (one, one_compute),
        (1, 0),
        "--threads 1: the main thread alone"
    );
    let (two, two_helpers) = predict_threads(d, "2");
    assert_eq!(
        (two, two_helpers),
        (2, 1),
        "--threads 2: the main thread and one helper, nothing else"
    );
}
