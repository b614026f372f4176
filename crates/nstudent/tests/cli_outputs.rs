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

#[test]
fn an_ensemble_manifest_lists_each_member_once() {
    let f = Fixture::new();
    let d = f.path();
    let out = nstudent(
        d,
        &[
            "train",
            "--data",
            "x.csv",
            "--algo",
            "ensemble",
            "--ensemble-size",
            "2",
            "--epochs",
            "1",
            "--out",
            "ens",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = |members: Vec<&str>| {
        let json = serde_json::json!({
            "format": "nstudent-ensemble", "version": 1, "members": members,
        });
        fs::write(d.join("ens/ensemble.json"), json.to_string()).unwrap();
    };
    let predict = [
        "predict", "--model", "ens", "--data", "x.csv", "--out", "p.csv",
    ];
    manifest(vec!["member-1.safetensors"; 2000]);
    refused(
        d,
        &predict,
        "lists 2000 members, more than an ensemble may have (32)",
    );
    manifest(vec![
        "member-1.safetensors",
        "member-2.safetensors",
        "member-1.safetensors",
    ]);
    refused(
        d,
        &predict,
        "lists the member \"member-1.safetensors\" twice",
    );
    manifest(vec!["member-2.safetensors", "member-1.safetensors"]);
    let out = nstudent(d, &predict);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The ensemble's folder is the model: nothing is written into it.
    refused(
        d,
        &[
            "predict",
            "--model",
            "ens",
            "--data",
            "x.csv",
            "--out",
            "ens/p.csv",
        ],
        "--out ens/p.csv is inside --model ens, an input",
    );
}

#[test]
fn nothing_is_decided_silently_and_no_control_character_reaches_the_terminal() {
    let f = Fixture::new();
    let d = f.path();
    // A CSV's first row read as a header is noted; a stray value in it is refused.
    let rows = fs::read_to_string(d.join("x.csv")).unwrap();
    let columns = rows.lines().next().unwrap().split(',').count();
    let header: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
    fs::write(d.join("h.csv"), format!("{}\n{rows}", header.join(","))).unwrap();
    let out = nstudent(
        d,
        &[
            "train", "--data", "h.csv", "--algo", "baseline", "--epochs", "1", "--out", "h",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("note: h.csv: the first row was read as a header (c0, c1, c2, ..."),
        "{err}"
    );
    assert!(err.contains("(120 images of"), "{err}");
    let mut bad: Vec<String> = rows
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    bad[3] = "nan".into();
    fs::write(d.join("n.csv"), format!("{}\n{rows}", bad.join(","))).unwrap();
    refused(
        d,
        &[
            "train", "--data", "n.csv", "--algo", "baseline", "--out", "n",
        ],
        "line 1, column 3: \"nan\" is not a pixel value, and the row is not a header",
    );
    // Flags that would be ignored are refused.
    refused(
        d,
        &["predict", "--model", "m", "--data", "x.csv", "--coarse"],
        "--coarse picks CIFAR-100's 20 coarse labels, but x.csv is CSV",
    );
    refused(
        d,
        &["verify", "nowhere", "--sample", "0"],
        "--sample 0 verifies nothing",
    );

    // Folder and class names holding terminal escapes are shown escaped.
    let folder = d.join("ds\u{1b}[32m");
    for class in ["\u{1b}[31mred", "blue"] {
        fs::create_dir_all(folder.join(class)).unwrap();
        for i in 0..6u8 {
            let value = if class == "blue" { 200 } else { 20 } + i;
            image::GrayImage::from_pixel(8, 8, image::Luma([value]))
                .save(folder.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    let name = "ds\u{1b}[32m";
    for args in [
        &["data", "info", name][..],
        &[
            "train", "--data", name, "--algo", "baseline", "--epochs", "1", "--out", "e",
        ][..],
    ] {
        let out = nstudent(d, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        for stream in [&out.stdout, &out.stderr] {
            assert!(!stream.contains(&0x1b), "{args:?}: {}", text(stream));
        }
        let shown = text(&out.stdout) + &text(&out.stderr);
        assert!(shown.contains("ds\\u{1b}[32m"), "{args:?}: {shown}");
    }
    let out = nstudent(d, &["data", "info", name]);
    assert!(
        text(&out.stdout).contains("\\u{1b}[31mred"),
        "{}",
        text(&out.stdout)
    );
    let out = nstudent(d, &["run", "--tasks", name, "--out", "r"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("holds a control character"));
    assert!(!out.stderr.contains(&0x1b));
    assert!(!d.join("r").exists());
}

#[test]
fn command_line_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            &["train", "--epochs", "99999999999999999999"][..],
            "invalid value '99999999999999999999' for '--epochs <EPOCHS>'",
        ),
        (
            &["run", "--seed", "-1"][..],
            "invalid value '-1' for '--seed <SEED>'",
        ),
        (
            &["train"][..],
            "the following required arguments were not provided: --data <DATA>",
        ),
        (
            &["data", "info", "x", "--max-data-gb", "0"][..],
            "--max-data-gb 0 must be a positive number",
        ),
    ] {
        refused(dir.path(), args, needle);
    }
}
