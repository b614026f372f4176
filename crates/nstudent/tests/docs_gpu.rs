//! The GPU check's prediction is written in three places: README.md, docs/gpu.md and the
//! numbers `run-gpu-check` prints beside the measured ratio. They must say the same.

use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The value of `name=` on the script's `pred_ratio=... pred_low=... pred_high=...` line.
fn script_value(script: &str, name: &str) -> String {
    let line = script
        .lines()
        .find(|l| l.starts_with("pred_ratio="))
        .expect("run-gpu-check.sh has its pred_ratio= line");
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} on the pred_ratio line"))
        .to_string()
}

#[test]
fn readme_docs_and_the_gpu_check_predict_the_same_ratio() {
    let script = read("scripts/run-gpu-check.sh");
    let (ratio, low, high) = (
        script_value(&script, "pred_ratio"),
        script_value(&script, "pred_low"),
        script_value(&script, "pred_high"),
    );
    let sentence = format!("about {ratio}, between {low} and {high}");
    for doc in ["README.md", "docs/gpu.md"] {
        let text = read(doc).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains(&sentence),
            "{doc} does not say \"{sentence}\" (run-gpu-check.sh's prediction)"
        );
    }
}
