//! `nstudent data ...` end to end: the built binary, its exit codes (0 success, 2 bad input)
//! and one-line error messages.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn nstudent(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nstudent"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("NSTUDENT_MIRROR")
        .env_remove("NSTUDENT_DATA");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the nstudent binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Exit code 2 and a single `error: ...` line on stderr containing every needle.
fn assert_user_error(o: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for n in needles {
        assert!(
            lines[0].contains(n),
            "`{}` does not mention `{n}`",
            lines[0]
        );
    }
}

#[test]
fn info_on_the_embedded_default_works_from_any_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let o = nstudent(&["data", "info", "fashion-mnist-10k"], tmp.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    for needle in [
        "IDX (gzip)",
        "28x28x1",
        "train 10000",
        "T-shirt/top",
        "Ankle boot",
        "embedded",
    ] {
        assert!(out.contains(needle), "missing `{needle}` in:\n{out}");
    }
    // Every class row shows 1000 images.
    assert_eq!(
        out.lines()
            .filter(|l| l.trim_end().ends_with(" 1000"))
            .count(),
        10,
        "{out}"
    );
}

#[test]
fn info_on_a_task_shows_the_remapped_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let o = nstudent(&["data", "info", "fashion-mnist-10k:5-9"], tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("train 5000"), "{out}");
    assert!(out.contains("classes    5"), "{out}");
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("0  Sandal")),
        "{out}"
    );
}

#[test]
fn info_on_a_csv_with_options() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..6 {
        let row: Vec<String> = (0..64).map(|j| ((i + j) % 17).to_string()).collect();
        text.push_str(&format!("{},{}\n", row.join(","), i % 3));
    }
    std::fs::write(tmp.path().join("digits.csv"), text).unwrap();
    let o = nstudent(
        &[
            "data",
            "info",
            "digits.csv",
            "--label-column",
            "last",
            "--max-value",
            "16",
        ],
        tmp.path(),
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    assert!(
        out.contains("8x8x1") && out.contains("train 6") && out.contains("0-255"),
        "{out}"
    );
    // Without the options the values 0-16 are read as they are but the label is column 0.
    let o = nstudent(
        &["data", "info", "digits.csv", "--shape", "8y8"],
        tmp.path(),
        &[],
    );
    assert_user_error(&o, &["--shape", "8y8"]);
    let o = nstudent(
        &["data", "info", "digits.csv", "--label-column", "middle"],
        tmp.path(),
        &[],
    );
    assert_user_error(&o, &["middle"]);
}

#[test]
fn info_bad_inputs_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let o = nstudent(&["data", "info", "./missing.csv"], tmp.path(), &[]);
    assert_user_error(&o, &["missing.csv"]);
    let o = nstudent(&["data", "info", "mnsit"], tmp.path(), &[]);
    assert_user_error(&o, &["mnsit", "nstudent data list"]);
    let o = nstudent(&["data", "info", "fashion-mnist-10k:5-12"], tmp.path(), &[]);
    assert_user_error(&o, &["10, 11, 12"]);
    let empty = tmp.path().join("data");
    let o = nstudent(
        &[
            "data",
            "info",
            "mnist",
            "--data-dir",
            empty.to_str().unwrap(),
        ],
        tmp.path(),
        &[],
    );
    assert_user_error(&o, &["nstudent data fetch mnist"]);
    // NSTUDENT_DATA sets the data directory too.
    let o = nstudent(
        &["data", "info", "cifar10:0-4"],
        tmp.path(),
        &[("NSTUDENT_DATA", empty.to_str().unwrap())],
    );
    assert_user_error(
        &o,
        &["nstudent data fetch cifar10", empty.to_str().unwrap()],
    );
    std::fs::write(tmp.path().join("data_batch_1.bin"), vec![0u8; 3000]).unwrap();
    let o = nstudent(&["data", "info", "data_batch_1.bin"], tmp.path(), &[]);
    assert_user_error(&o, &["data_batch_1.bin", "3073-byte records"]);
    let o = nstudent(
        // `--dir`, the old name of `--data-dir`, still works.
        &["data", "info", "az:0-4", "--dir", empty.to_str().unwrap()],
        tmp.path(),
        &[],
    );
    assert_user_error(&o, &["Kaggle"]);
}

fn write_idx(dir: &Path, prefix: &str, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let mut images = vec![0, 0, 8, 3];
    for d in [n, 2, 2] {
        images.extend_from_slice(&d.to_be_bytes());
    }
    images.extend((0..n * 4).map(|i| (i % 256) as u8));
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&n.to_be_bytes());
    labels.extend((0..n).map(|i| (i % 10) as u8));
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
}

#[test]
fn list_shows_sources_and_the_twenty_tasks_with_sizes_when_present() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx(&tmp.path().join("mnist"), "train", 100);
    write_idx(&tmp.path().join("mnist"), "t10k", 20);
    let o = nstudent(
        &["data", "list", "--data-dir", tmp.path().to_str().unwrap()],
        tmp.path(),
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    for needle in [
        "fashion-mnist-10k",
        "built-in",
        "ossci-datasets",
        "cifar-100-binary.tar.gz",
        "kaggle.com",
        "Fashion MNIST",
        "CIFAR100 90-99",
        "A-Z 20-25",
    ] {
        assert!(out.contains(needle), "missing `{needle}` in:\n{out}");
    }
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or("")
            .to_string()
    };
    // mnist is present: 100 train images, labels i % 10, so classes 0-4 hold 50; test 10.
    let mnist = row("MNIST 0-4");
    assert!(
        mnist
            .split_whitespace()
            .collect::<Vec<_>>()
            .ends_with(&["5", "50", "10"]),
        "{mnist}"
    );
    assert!(row("CIFAR10 0-4").contains("missing"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("mnist ") && l.contains(" yes ")),
        "{out}"
    );
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("one JSON document on stdout")
}

#[test]
fn list_and_info_print_one_json_document_with_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx(&tmp.path().join("mnist"), "train", 100);
    write_idx(&tmp.path().join("mnist"), "t10k", 20);
    let dir = tmp.path().to_str().unwrap();
    let list = json(&nstudent(
        &["data", "list", "--data-dir", dir, "--format", "json"],
        tmp.path(),
        &[],
    ));
    assert_eq!(list["data_dir"], dir);
    let sources = list["sources"].as_array().unwrap();
    let source = |name: &str| sources.iter().find(|s| s["name"] == name).unwrap().clone();
    assert_eq!(source("fashion-mnist-10k")["embedded"], true);
    assert_eq!(source("fashion-mnist-10k")["present"], true);
    assert_eq!(source("mnist")["present"], true);
    assert_eq!(source("cifar10")["present"], false);
    let tasks = list["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 20);
    let task = |name: &str| tasks.iter().find(|t| t["name"] == name).unwrap().clone();
    // As the text table: classes 0-4 of 100 train images labelled i % 10 hold 50; test 10.
    let mnist = task("MNIST 0-4");
    assert_eq!(mnist["spec"], "mnist:0-4");
    assert_eq!(mnist["classes"], 5);
    assert_eq!(mnist["train"], 50);
    assert_eq!(mnist["test"], 10);
    assert_eq!(mnist["error"], false);
    let cifar = task("CIFAR10 0-4");
    assert_eq!(cifar["present"], false);
    assert!(cifar["train"].is_null() && cifar["test"].is_null());
    assert_eq!(list["unreadable"].as_array().unwrap().len(), 0);
    // --no-sizes: present, not counted.
    let quick = json(&nstudent(
        &[
            "data",
            "list",
            "--data-dir",
            dir,
            "--no-sizes",
            "--format",
            "json",
        ],
        tmp.path(),
        &[],
    ));
    let mnist = quick["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "MNIST 0-4")
        .unwrap();
    assert_eq!(mnist["present"], true);
    assert!(mnist["train"].is_null());

    let info = json(&nstudent(
        &["data", "info", "fashion-mnist-10k", "--format", "json"],
        tmp.path(),
        &[],
    ));
    assert_eq!(info["dataset"], "fashion-mnist-10k");
    assert_eq!(info["format"], "IDX (gzip)");
    assert_eq!(info["image"]["height"], 28);
    assert_eq!(info["image"]["width"], 28);
    assert_eq!(info["image"]["channels"], 1);
    assert_eq!(info["num_classes"], 10);
    assert_eq!(info["images"]["train"], 10000);
    assert_eq!(info["images"]["total"], 10000);
    assert!(info["images"].get("test").is_none());
    assert_eq!(info["pixels"]["min"], 0);
    assert_eq!(info["pixels"]["max"], 255);
    // The text shows the mean rounded: "mean 73.1".
    let mean = info["pixels"]["mean"].as_f64().unwrap();
    let text = stdout(&nstudent(
        &["data", "info", "fashion-mnist-10k"],
        tmp.path(),
        &[],
    ));
    assert!(
        text.contains(&format!("mean {mean:.1}")),
        "{mean} vs {text}"
    );
    let classes = info["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 10);
    assert_eq!(classes[9]["label"], 9);
    assert_eq!(classes[9]["class"], "Ankle boot");
    assert_eq!(classes[9]["train"], 1000);
    // A split with a test set counts it per class too.
    let info = json(&nstudent(
        &[
            "data",
            "info",
            "mnist:0-4",
            "--data-dir",
            dir,
            "--format",
            "json",
        ],
        tmp.path(),
        &[],
    ));
    assert_eq!(info["images"]["test"], 10);
    assert_eq!(info["images"]["total"], 60);
    assert_eq!(info["classes"][0]["test"], 2);
    assert_eq!(info["classes"][0]["train"], 10);
    let o = nstudent(&["data", "list", "--format", "yaml"], tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
}

/// Serves `files` over HTTP on 127.0.0.1 from a thread; returns the base URL.
fn serve(files: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("/");
            let reply = match files.get(path) {
                Some(body) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(body);
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&reply);
        }
    });
    base
}

#[test]
fn fetch_with_a_bad_mirror_file_leaves_nothing_and_exits_2() {
    let files: HashMap<String, Vec<u8>> = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    .iter()
    .map(|f| (format!("/mnist/{f}"), b"not the real file".to_vec()))
    .collect();
    let base = serve(files);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let o = nstudent(
        &[
            "data",
            "fetch",
            "mnist",
            "--data-dir",
            data.to_str().unwrap(),
            "--mirror",
            &base,
        ],
        tmp.path(),
        &[],
    );
    assert_user_error(
        &o,
        &["checksum mismatch", "f68b3c2dcbeaaa9fbdd348bbdeb94873"],
    );
    // Not even an empty source folder, which would look like data to the next command.
    assert!(
        !data.join("mnist").exists(),
        "the source folder was left behind"
    );
    // The mirror can also come from the environment; a missing file is an HTTP error.
    let o = nstudent(
        &[
            "data",
            "fetch",
            "cifar10",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        tmp.path(),
        &[("NSTUDENT_MIRROR", &base)],
    );
    assert_user_error(&o, &["HTTP 404", "/cifar10/cifar-10-binary.tar.gz"]);
}

#[test]
fn fetch_refuses_manual_and_unknown_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let o = nstudent(
        &["data", "fetch", "az-handwritten", "--data-dir", dir],
        tmp.path(),
        &[],
    );
    assert_user_error(&o, &["Kaggle", "A_Z Handwritten Data.csv"]);
    let o = nstudent(
        &["data", "fetch", "mnist", "imagenet", "--data-dir", dir],
        tmp.path(),
        &[],
    );
    assert_user_error(&o, &["imagenet", "mnist, fashion-mnist"]);
    assert!(
        !tmp.path().join("mnist").exists(),
        "nothing is fetched when a name is wrong"
    );
    let o = nstudent(&["data", "fetch"], tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    let o = nstudent(
        &["data", "fetch", "fashion-mnist-10k", "--data-dir", dir],
        tmp.path(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("built into nstudent"));
}

/// `nstudent data list | head -1`: once the reader has gone, the process ends quietly on
/// SIGPIPE, as other Unix tools do, instead of panicking in `print!`.
#[cfg(unix)]
#[test]
fn a_closed_stdout_pipe_ends_the_process_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(["data", "list"])
        .current_dir(dir.path())
        .env("NSTUDENT_DATA", dir.path())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        out.status.signal(),
        Some(13),
        "ended by SIGPIPE: {:?}",
        out.status
    );
}
