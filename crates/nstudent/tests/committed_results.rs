//! The committed study in `docs/results/standard/` stays checkable: `merge` rewrites its table
//! and statistics byte for byte, and its cells recompute bit for bit with this build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/standard")
}

fn nstudent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(args)
        .output()
        .expect("the nstudent binary runs")
}

/// A copy of the committed cells and config, without the merged files.
fn copy_of_cells() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = committed();
    std::fs::copy(from.join("study.toml"), dir.path().join("study.toml")).unwrap();
    for entry in walk(&from.join("cells")) {
        let to = dir.path().join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    dir
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[test]
fn merge_rewrites_the_committed_table_and_statistics() {
    let dir = copy_of_cells();
    let out = nstudent(&["merge", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["metrics_table.csv", "stats.json", "cd-accuracy.svg"] {
        let merged = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let kept = std::fs::read_to_string(committed().join(file)).unwrap();
        assert!(merged == kept, "{file} differs from the committed one");
    }
    let table = std::fs::read_to_string(committed().join("metrics_table.csv")).unwrap();
    assert_eq!(
        table.lines().count(),
        241,
        "8 tasks x 10 folds x 3 algorithms"
    );
}

#[test]
fn committed_cells_recompute_bit_for_bit() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    if !data.is_dir() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{} is absent, and CI=true: this check must run in CI",
            data.display()
        );
        eprintln!("skipped: {} is absent", data.display());
        return;
    }
    let dir = copy_of_cells();
    // The Digits cells (0-4 fold 1, 5-9 fold 10: all three algorithms) take milliseconds.
    let out = nstudent(&[
        "verify",
        dir.path().to_str().unwrap(),
        "--cells",
        "180,181,182,237,238,239",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("identical").count(), 6, "{stdout}");
}
