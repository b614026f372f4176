//! The study config as a TOML file: reading one (over a preset), and writing it with a
//! comment on every key (`--print-config`, `study.toml`).

use std::fmt::Write as _;
use std::path::Path;

use super::*;

/// Documentation of every key, in the order `--print-config` writes them.
const DOCS: &[(&str, &str)] = &[
    ("seed", "Root seed: every random choice of every cell derives from it and the cell's (task, fold, algorithm)."),
    ("engine", "Training engine: \"native\" (CPU) or another engine compiled in (e.g. \"burn\")."),
    ("tasks", "Tasks: a source name (\"fashion-mnist-10k\", \"mnist\") or a class range (\"mnist:0-4\", \"cifar100:30-39\")."),
    ("algorithms", "Algorithms compared: \"baseline\", \"augmented-baseline\" (the Baseline with the student's noise), \"noisy-student\", \"baseline-ensemble\" (the Ensemble's teachers alone), \"ensemble\"."),
    ("outer_folds", "Outer cross-validation folds (unshuffled K-fold, as scikit-learn's KFold)."),
    ("inner_folds", "Inner folds of the hyperparameter search, split from each outer training part."),
    ("search", "\"grid\": every candidate at full epochs; \"halving\": successive halving (see [halving])."),
    ("space", "The search space. Noisy Student searches unl_factor x threshold x num_students; the ensemble also ensemble_size."),
    ("space.unl_factor", "Fraction of the training part that each student iteration pseudo-labels, in (0, 1]."),
    ("space.threshold", "A pseudo-label is kept when the teacher's top probability exceeds it (strictly); 1 or more keeps none, so the student trains on the labeled rows alone."),
    ("space.num_students", "Student iterations; one chain of the largest value yields all smaller ones."),
    ("space.ensemble_size", "Teachers and students per iteration of the ensemble algorithm; the baseline ensemble averages the largest of these sizes."),
    ("space.ensemble_search", "\"grid\": the ensemble searches its own grid; \"after-noisy-student\": Noisy Student's search picks the rest, then ensemble_size is chosen on the last inner fold (the original notebook)."),
    ("halving", "Successive halving (search = \"halving\")."),
    ("halving.eta", "Keep the best 1/eta of the candidates at each rung (>= 2)."),
    ("halving.min_epochs", "Epochs of the first rung; each rung multiplies them by eta up to training.epochs."),
    ("training", "Model and optimiser (Adam with Keras' defaults)."),
    ("training.arch", "Architecture: \"cnn\" (the original study's) or \"res-cnn\" (residual, for stochastic depth)."),
    ("training.width", "Channel/unit multiplier; 1.0 is the original 32/64/128."),
    ("training.epochs", "Epochs of every training unless epochs_by_source says otherwise."),
    ("training.epochs_by_source", "Epochs per data source, e.g. { cifar100 = 2 } as in the original study."),
    ("training.batch_size", "Images per gradient step."),
    ("training.learning_rate", "Adam step size."),
    ("noise", "Noise of the students (teachers always predict clean, in eval mode)."),
    ("noise.augment", "RandAugment-style input noise on student training batches."),
    ("noise.augment_ops", "Augmentation operations drawn per image."),
    ("noise.augment_magnitude", "Augmentation strength on the RandAugment 0-30 scale."),
    ("noise.dropout", "Dropout before the classifier of students, in [0, 1)."),
    ("noise.survival", "Stochastic depth survival probability of the last residual block (res-cnn only); 1 disables."),
    ("pseudo", "Labeled part and pseudo-labels."),
    ("pseudo.teacher_factor", "Fraction of the training part that keeps its labels (the baseline's data)."),
    ("pseudo.labeled_split", "\"stratified\" (seeded) or \"first\" (the original study's first rows)."),
    ("pseudo.unlabeled", "\"slice\": iteration i sees the i-th unl_factor slice (original); \"all\": the whole pool (paper)."),
    ("pseudo.labels", "\"hard\" (argmax) or \"soft\" (probability vector) pseudo-labels."),
    ("pseudo.temperature", "Softmax temperature of soft pseudo-labels."),
    ("pseudo.balance", "\"paper\": balance pseudo-labeled classes to the mean count; \"none\"."),
    ("pseudo.relabel", "Each new teacher relabels all unlabeled rows used so far (the paper)."),
    ("data", "Data beyond the tasks, and how tasks given by path are read; written only when set."),
    ("data.label_column", "CSV: the label column, \"first\", \"last\" or a zero-based number."),
    ("data.shape", "CSV: the image shape, \"HxW\" or \"HxWxC\"."),
    ("data.max_value", "CSV: the largest pixel value, scaled to 255 (16 for scikit-learn's digits)."),
    ("data.header", "CSV: whether the first row is a header (detected when absent)."),
    ("data.resize", "Every image resized to \"WxH\" pixels (width x height), bilinear."),
    ("data.colour", "Every image converted to \"grey\" or \"rgb\"."),
    ("data.unlabeled", "A separate unlabeled set for every task (a source, a task, a path, or a folder of images without class folders); its labels are dropped. Cross-validation splits only the task's data; every fold pseudo-labels this whole set."),
    ("execution", "How the work runs on this machine; not part of the config hash."),
    ("execution.threads", "Threads in total; 0 uses every core."),
    ("execution.jobs", "Cells trained side by side (each with threads/jobs threads); 0 picks min(threads, 2)."),
    ("execution.data_dir", "Where named sources are read from; empty uses $NSTUDENT_DATA or the platform default."),
];

impl StudyConfig {
    /// Parses a TOML config; missing keys take the `original` preset's values.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML config whose missing keys take `base`'s values.
    pub fn from_toml_over(text: &str, origin: &Path, base: &StudyConfig) -> Result<Self> {
        let bad =
            |e: String| Error::Config(format!("{}: {}", origin.display(), e.replace('\n', " ")));
        let overlay: toml::Table =
            toml::from_str(text).map_err(|e: toml::de::Error| toml_error(origin, text, &e))?;
        // The file alone (every key has a default): a type error here has its line.
        toml::from_str::<Self>(text).map_err(|e| toml_error(origin, text, &e))?;
        let mut merged = toml::Value::try_from(base)
            .map_err(|e| Error::Internal(format!("cannot encode the base config: {e}")))?;
        deep_merge(&mut merged, toml::Value::Table(overlay));
        let config: Self = merged
            .try_into()
            .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Whether the TOML config file at `path` sets `key` (dotted: `pseudo.teacher_factor`).
    pub fn file_sets(path: &Path, key: &str) -> Result<bool> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let table: toml::Table =
            toml::from_str(&text).map_err(|e: toml::de::Error| toml_error(path, &text, &e))?;
        let mut value = Some(&toml::Value::Table(table));
        for part in key.split('.') {
            value = value.and_then(|v| v.get(part));
        }
        Ok(value.is_some())
    }

    /// Reads a TOML config file whose missing keys take `base`'s values.
    pub fn read_over(path: &Path, base: &StudyConfig) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_over(&text, path, base)
    }

    /// Reads and validates a TOML config file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// The config as TOML with a comment on every key: what `--print-config` prints and what
    /// `study.toml` holds.
    pub fn to_commented_toml(&self) -> String {
        let value = toml::Value::try_from(self).unwrap_or(toml::Value::Table(Default::default()));
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# nstudent study configuration. Every key is optional; missing keys take the\n# `quick` preset's value (or --preset's). Run `nstudent run --print-config` for the resolved values.\n"
        );
        if let toml::Value::Table(table) = value {
            write_table(&mut out, "", &table);
        }
        if self.data.is_empty() {
            write_unset_data(&mut out);
        }
        out
    }
}

/// The `[data]` table, commented out, when nothing in it is set (it is then left out of the
/// config and its hash): every key is still shown, with an example value.
fn write_unset_data(out: &mut String) {
    const EXAMPLES: [(&str, &str); 7] = [
        ("data.unlabeled", "\"mydata/unlabeled\""),
        ("data.label_column", "\"last\""),
        ("data.shape", "\"28x28x1\""),
        ("data.max_value", "16"),
        ("data.header", "true"),
        ("data.resize", "\"32x32\""),
        ("data.colour", "\"rgb\""),
    ];
    let _ = writeln!(out, "\n# {}", doc("data").unwrap_or_default());
    let _ = writeln!(out, "# (unset: uncomment a key to set it)\n# [data]");
    for (key, example) in EXAMPLES {
        if let Some(d) = doc(key) {
            let _ = writeln!(out, "# {d}");
        }
        let _ = writeln!(out, "# {} = {example}", key.trim_start_matches("data."));
    }
}

/// A TOML syntax or type error as one line naming the file, the line and the key:
/// `study.toml line 4: outer_folds must be a whole number, got the string "two"`.
fn toml_error(origin: &Path, text: &str, e: &toml::de::Error) -> Error {
    let message = readable_type_error(&e.message().replace('\n', " "));
    let Some(span) = e.span() else {
        return Error::Config(format!("{}: {message}", origin.display()));
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"'))
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match key {
        Some(k) if !message.contains(k) => Error::Config(format!(
            "{} line {line_no}: {k} {message}",
            origin.display()
        )),
        _ => Error::Config(format!("{} line {line_no}: {message}", origin.display())),
    }
}

/// serde's "invalid type: string \"two\", expected usize" as "must be a whole number, got the
/// string \"two\"".
fn readable_type_error(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.to_string();
    };
    let Some((got, expected)) = rest.split_once(", expected ") else {
        return message.to_string();
    };
    let want = match expected.trim() {
        "usize" | "u64" | "u32" | "u16" | "u8" | "i64" | "i32" => "a whole number",
        "f64" | "f32" => "a number",
        "a boolean" | "bool" => "true or false",
        "a sequence" => "a list, e.g. [1, 2]",
        "a string" => "a string in quotes",
        other => other,
    };
    format!(
        "must be {want}, got {}",
        got.replace("integer", "the integer")
            .replace("string", "the string")
    )
}

/// Overlays `top` on `base`: tables merge key by key, anything else replaces.
fn deep_merge(base: &mut toml::Value, top: toml::Value) {
    match (base, top) {
        (toml::Value::Table(b), toml::Value::Table(t)) => {
            for (k, v) in t {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_table() && v.is_table() && k != "epochs_by_source" => {
                        deep_merge(slot, v)
                    }
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, t) => *b = t,
    }
}

pub(super) fn doc(key: &str) -> Option<&'static str> {
    DOCS.iter().find(|(k, _)| *k == key).map(|(_, d)| *d)
}

fn is_section(key: &str, v: &toml::Value) -> bool {
    matches!(v, toml::Value::Table(_)) && !key.ends_with("epochs_by_source")
}

fn write_table(out: &mut String, prefix: &str, table: &toml::map::Map<String, toml::Value>) {
    let full = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    let mut keys: Vec<&String> = table.keys().collect();
    keys.sort_by_key(|k| {
        DOCS.iter()
            .position(|(d, _)| *d == full(k))
            .unwrap_or(usize::MAX)
    });
    for k in keys
        .iter()
        .filter(|k| !is_section(&full(k), &table[k.as_str()]))
    {
        let key = full(k);
        if let Some(d) = doc(&key) {
            let _ = writeln!(out, "# {d}");
        }
        let _ = writeln!(out, "{k} = {}", inline(&table[k.as_str()]));
    }
    for k in keys
        .iter()
        .filter(|k| is_section(&full(k), &table[k.as_str()]))
    {
        let key = full(k);
        let _ = writeln!(out);
        if let Some(d) = doc(&key) {
            let _ = writeln!(out, "# {d}");
        }
        let _ = writeln!(out, "[{key}]");
        if let toml::Value::Table(t) = &table[k.as_str()] {
            write_table(out, &key, t);
        }
    }
}

fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(t) => {
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{k} = {}", inline(v)))
                .collect();
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
        toml::Value::Array(a) => {
            format!("[{}]", a.iter().map(inline).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}
