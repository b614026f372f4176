//! The committed `standard` study, version 2 (`docs/results/standard-v2/`), holds what its
//! pre-registration (`docs/standard.md`) promises: every task pseudo-labels in at least 90% of
//! its Noisy Student cells, and the controls are paired with their fold's Baseline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/standard-v2")
}

/// Every cell file, by (task folder, fold, algorithm).
fn cells() -> BTreeMap<(String, u32, String), Value> {
    let mut out = BTreeMap::new();
    let root = committed().join("cells");
    for task in std::fs::read_dir(&root).unwrap() {
        let task = task.unwrap().path();
        for fold in std::fs::read_dir(&task).unwrap() {
            let fold = fold.unwrap().path();
            for cell in std::fs::read_dir(&fold).unwrap() {
                let cell = cell.unwrap().path();
                let v: Value =
                    serde_json::from_str(&std::fs::read_to_string(&cell).unwrap()).unwrap();
                let key = (
                    task.file_name().unwrap().to_string_lossy().into_owned(),
                    fold.file_name().unwrap().to_string_lossy().parse().unwrap(),
                    cell.file_stem().unwrap().to_string_lossy().into_owned(),
                );
                out.insert(key, v);
            }
        }
    }
    out
}

#[test]
fn the_answer_is_complete_and_every_task_pseudo_labels_in_90_percent_of_its_cells() {
    let cells = cells();
    assert_eq!(cells.len(), 300, "6 tasks x 10 folds x 5 algorithms");
    let tasks: std::collections::BTreeSet<&String> = cells.keys().map(|k| &k.0).collect();
    assert_eq!(tasks.len(), 6);
    for task in tasks {
        let ns: Vec<&Value> = cells
            .iter()
            .filter(|(k, _)| &k.0 == task && k.2 == "noisy-student")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(ns.len(), 10, "{task}");
        let labeled = ns
            .iter()
            .filter(|v| {
                let iterations = v["pseudo_labels"].as_array().expect("pseudo_labels");
                !iterations.is_empty()
                    && iterations.iter().all(|it| it["kept"].as_u64().unwrap() > 0)
            })
            .count();
        assert!(
            labeled * 10 >= ns.len() * 9,
            "{task}: {labeled} of {} Noisy Student cells kept pseudo-labels",
            ns.len()
        );
    }
}

#[test]
fn the_controls_and_self_training_cells_are_paired_with_their_folds_baseline() {
    let cells = cells();
    let mut checked = 0;
    for ((task, fold, algorithm), v) in &cells {
        let baseline = &cells[&(task.clone(), *fold, "baseline".to_string())];
        match algorithm.as_str() {
            "noisy-student" | "ensemble" | "baseline-ensemble" => {
                assert_eq!(
                    v["teacher"]["metrics"], baseline["metrics"],
                    "{task} fold {fold} {algorithm}: its first teacher is not the Baseline"
                );
                checked += 1;
            }
            _ => {}
        }
        if algorithm == "baseline-ensemble" {
            // The Ensemble's teachers are the Baseline ensemble's models.
            let ensemble = &cells[&(task.clone(), *fold, "ensemble".to_string())];
            assert_eq!(v["metrics"], ensemble["teacher"]["ensemble_metrics"]);
            assert_eq!(v["trainings"], 2);
        }
        if algorithm == "augmented-baseline" {
            assert_eq!(v["trainings"], 1);
            assert_eq!(v["train_size"], baseline["train_size"]);
            assert_ne!(
                v["metrics"], baseline["metrics"],
                "{task} fold {fold}: the augmented Baseline equals the Baseline"
            );
        }
    }
    assert_eq!(checked, 180);
}

#[test]
fn merge_rewrites_the_committed_answer_byte_for_byte() {
    let from = committed();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(from.join("study.toml"), dir.path().join("study.toml")).unwrap();
    let mut stack = vec![from.join("cells")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let to = dir.path().join(p.strip_prefix(&from).unwrap());
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(&p, &to).unwrap();
            }
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(["merge", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["metrics_table.csv", "stats.json", "cd-accuracy.svg"] {
        let merged = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let kept = std::fs::read_to_string(from.join(file)).unwrap();
        assert!(merged == kept, "{file} differs from the committed one");
    }
}
