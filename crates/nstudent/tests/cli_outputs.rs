//! Outputs never destroy: a device, FIFO or directory given as an output is refused, a symlinked
//! output writes its target and keeps the target's mode, and an output that is also an input
//! (or another output) is refused, each with exit 2, one line, and nothing written. Nothing
//! impossible is published either: no model of other classes' data, no diverged model, no
//! negative probability.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// 120 6x6 grey images of 3 classes as a CSV, label first.
fn write_csv(dir: &Path) -> PathBuf {
    let mut csv = String::new();
    for i in 0..120u32 {
        let c = i % 3;
        csv.push_str(&c.to_string());
        for p in 0..36u32 {
            let v = if p % 3 == c { 200 } else { 10 } + (i * 7 + p * 13) % 40;
            csv.push_str(&format!(",{v}"));
        }
        csv.push('\n');
    }
    let path = dir.join("x.csv");
    fs::write(&path, csv).unwrap();
    path
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// A snapshot of a folder: each entry's name, type, mode and content.
fn snapshot(dir: &Path) -> Vec<(String, String, u32, Vec<u8>)> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = fs::symlink_metadata(e.path()).unwrap();
            let t = meta.file_type();
            let kind = if t.is_symlink() {
                format!("link to {}", fs::read_link(e.path()).unwrap().display())
            } else if t.is_fifo() {
                "fifo".into()
            } else if t.is_dir() {
                "dir".into()
            } else {
                "file".into()
            };
            let bytes = if t.is_file() {
                fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            let name = e.file_name().to_string_lossy().into_owned();
            (name, kind, meta.permissions().mode() & 0o7777, bytes)
        })
        .collect();
    v.sort();
    v
}

/// Runs `args` in `dir`, expects exit 2 with one error line naming `needle`, and no change in
/// `dir`.
fn refused(dir: &Path, args: &[&str], needle: &str) {
    let before = snapshot(dir);
    let out = nstudent(dir, args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    // One error line, the last (a refusal after training follows its progress lines).
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{args:?}: {err}");
    assert_eq!(err.lines().last(), Some(errors[0]), "{args:?}: {err}");
    assert!(errors[0].contains(needle), "{args:?}: {err}");
    assert_eq!(snapshot(dir), before, "{args:?} changed the folder");
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A folder with data `x.csv`, a model `m`, a metrics table `t.csv`, a FIFO `fifo`, a link
    /// `null.csv` to /dev/null and a folder `folder`.
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_csv(d);
        let out = nstudent(
            d,
            &[
                "train", "--data", "x.csv", "--algo", "baseline", "--epochs", "1", "--out", "m",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let table = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/results/standard-v2/metrics_table.csv");
        fs::copy(table, d.join("t.csv")).unwrap();
        mkfifo(&d.join("fifo"));
        symlink("/dev/null", d.join("null.csv")).unwrap();
        fs::create_dir(d.join("folder")).unwrap();
        Fixture { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

#[test]
fn outputs_that_are_not_regular_files_are_refused() {
    let f = Fixture::new();
    let d = f.path();
    let train = [
        "train", "--data", "x.csv", "--algo", "baseline", "--epochs", "1",
    ];
    let predict = ["predict", "--model", "m", "--data", "x.csv"];
    for (target, what) in [
        ("fifo", "is a FIFO"),
        ("null.csv", "/dev/null is a character device"),
    ] {
        refused(d, &[&predict[..], &["--out", target]].concat(), what);
        refused(d, &[&predict[..], &["--labels-out", target]].concat(), what);
        refused(d, &[&train[..], &["--out", target]].concat(), what);
        refused(
            d,
            &[&train[..], &["--out", "new", "--report", target]].concat(),
            what,
        );
        refused(d, &["report", "t.csv", "--out", target], what);
    }
    // The diagram's name must end in .svg: a FIFO and a device link of that name.
    mkfifo(&d.join("fifo.svg"));
    symlink("/dev/null", d.join("null.svg")).unwrap();
    refused(d, &["stats", "t.csv", "--plot", "fifo.svg"], "is a FIFO");
    refused(
        d,
        &["stats", "t.csv", "--plot", "null.svg"],
        "character device",
    );
    refused(
        d,
        &[&predict[..], &["--out", "folder"]].concat(),
        "directory",
    );
}

#[test]
fn a_symlinked_output_writes_its_target_and_keeps_its_mode() {
    let f = Fixture::new();
    let d = f.path();
    fs::write(d.join("target.csv"), "old\n").unwrap();
    fs::set_permissions(d.join("target.csv"), fs::Permissions::from_mode(0o640)).unwrap();
    symlink("target.csv", d.join("link.csv")).unwrap();
    let out = nstudent(
        d,
        &[
            "predict", "--model", "m", "--data", "x.csv", "--out", "link.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let link = fs::symlink_metadata(d.join("link.csv")).unwrap();
    assert!(link.file_type().is_symlink());
    let target = fs::metadata(d.join("target.csv")).unwrap();
    assert_eq!(target.permissions().mode() & 0o777, 0o640);
    let written = fs::read_to_string(d.join("target.csv")).unwrap();
    assert_eq!(written.lines().count(), 121, "a header and 120 rows");
    // A new output gets the mode of any new file under the same umask.
    let out = nstudent(
        d,
        &[
            "predict", "--model", "m", "--data", "x.csv", "--out", "new.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    fs::File::create(d.join("plain")).unwrap();
    let mode = |p: &str| fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("new.csv"), mode("plain"));
}

#[test]
fn an_output_that_is_an_input_or_another_output_is_refused() {
    let f = Fixture::new();
    let d = f.path();
    symlink("x.csv", d.join("x-link.csv")).unwrap();
    let train = ["train", "--algo", "baseline", "--epochs", "1"];
    let same = "(input file is output file)";
    refused(
        d,
        &[&train[..], &["--data", "x.csv", "--out", "x.csv"]].concat(),
        "--out x.csv is the same file as --data x.csv",
    );
    refused(
        d,
        &[&train[..], &["--data", "x.csv", "--out", "x-link.csv"]].concat(),
        same,
    );
    refused(
        d,
        &[
            &train[..],
            &["--data", "x.csv", "--out", "a", "--report", "x.csv"],
        ]
        .concat(),
        "--report x.csv is the same file as --data x.csv",
    );
    refused(
        d,
        &[
            &train[..],
            &["--data", "x.csv", "--out", "a", "--report", "a"],
        ]
        .concat(),
        "--out a and --report a are the same file",
    );
    refused(
        d,
        &[
            &train[..],
            &["--data", "x.csv", "--out", "a", "--report", "./a"],
        ]
        .concat(),
        "are the same file",
    );
    refused(
        d,
        &["predict", "--model", "m", "--data", "x.csv", "--out", "m"],
        "--out m is the same file as --model m",
    );
    refused(
        d,
        &[
            "predict", "--model", "m", "--data", "x.csv", "--out", "x.csv",
        ],
        "--out x.csv is the same file as --data x.csv",
    );
    refused(
        d,
        &[
            "predict",
            "--model",
            "m",
            "--data",
            "x.csv",
            "--out",
            "p",
            "--labels-out",
            "p",
        ],
        "are the same file",
    );
    refused(d, &["report", "t.csv", "--out", "t.csv"], same);
    fs::copy(d.join("t.csv"), d.join("t.svg")).unwrap();
    refused(d, &["stats", "t.svg", "--plot", "t.svg"], same);
}

#[test]
fn nothing_impossible_is_published() {
    let f = Fixture::new();
    let d = f.path();
    // The same images under other class names (3, 4, 5 for 0, 1, 2).
    let shifted: String = fs::read_to_string(d.join("x.csv"))
        .unwrap()
        .lines()
        .map(|l| {
            let (label, rest) = l.split_once(',').unwrap();
            format!("{},{rest}\n", label.parse::<u32>().unwrap() + 3)
        })
        .collect();
    fs::write(d.join("y.csv"), shifted).unwrap();
    refused(
        d,
        &[
            "predict",
            "--model",
            "m",
            "--data",
            "y.csv:3,4,5",
            "--out",
            "p.csv",
        ],
        "m was trained on classes [0, 1, 2], but y.csv:3,4,5 has classes [3, 4, 5]",
    );
    // A learning rate that overflows the outputs: refused before anything is written.
    refused(
        d,
        &[
            "train", "--data", "x.csv", "--algo", "baseline", "--epochs", "1", "--lr", "1e10",
            "--out", "big", "--report", "big.json",
        ],
        "lower the learning rate",
    );
    fs::write(d.join("labels.csv"), "label\n0\n1\n").unwrap();
    fs::write(d.join("proba.csv"), "a,b\n0.9,0.1\n1.2,-0.2\n").unwrap();
    refused(
        d,
        &["score", "--labels", "labels.csv", "--proba", "proba.csv"],
        "-0.2 is negative",
    );
}
