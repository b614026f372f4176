//! Tasks: a class subset of a source with labels remapped to `0..k-1`, e.g. `mnist:0-4` or
//! `cifar100:30-39`, and the 20 tasks of the original study.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{sources, Dataset, Error, Result, Splits};

/// A class subset of a source (or of a dataset file), as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Task {
    /// Display name, as in the study's tables ("MNIST 0-4").
    pub name: String,
    /// What to pass to [`crate::open()`] to get it ("mnist:0-4").
    pub spec: String,
    /// The source name (canonical) or the path of the data.
    pub source: String,
    /// The source's labels kept, in the order of their new labels `0..k-1`; `None` keeps all.
    pub classes: Option<Vec<u16>>,
}

/// Parses a class list such as `0-4`, `7`, or `0-2,5,9`.
fn parse_classes(text: &str, spec: &str) -> Result<Vec<u16>> {
    let bad = || {
        Error::Invalid(format!(
            "task `{spec}`: classes `{text}` are not valid: use a range such as 0-4, or a list such \
             as 0,2,5"
        ))
    };
    let mut out: Vec<u16> = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let lo: u16 = lo.parse().map_err(|_| bad())?;
        let hi: u16 = hi.parse().map_err(|_| bad())?;
        if hi < lo {
            return Err(Error::Invalid(format!(
                "task `{spec}`: the range {lo}-{hi} is reversed: write {hi}-{lo}"
            )));
        }
        for c in lo..=hi {
            if out.contains(&c) {
                return Err(Error::Invalid(format!(
                    "task `{spec}`: class {c} is listed twice"
                )));
            }
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

impl Task {
    /// Parses `SOURCE[:CLASSES]`, where SOURCE is a source name (see `nstudent data list`) or
    /// an existing path, and CLASSES a range (`0-4`) or list (`0,2,5`) of its labels.
    pub fn parse(spec: &str) -> Result<Task> {
        let spec = spec.trim();
        let (base, classes_text) = match spec.rsplit_once(':') {
            Some((b, c))
                if !c.is_empty()
                    && c.chars()
                        .all(|ch| ch.is_ascii_digit() || " ,-".contains(ch)) =>
            {
                (b, Some(c))
            }
            _ => (spec, None),
        };
        let classes = classes_text.map(|c| parse_classes(c, spec)).transpose()?;
        let (source, title) = if let Some(s) = sources::find(base) {
            (s.name.to_string(), s.title.to_string())
        } else if !base.is_empty() && Path::new(base).exists() {
            let title = Path::new(base)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| base.to_string());
            (base.to_string(), title)
        } else {
            return Err(Error::Invalid(format!(
                "`{base}` is neither a source nor an existing path: the sources are {}; tasks look \
                 like mnist:0-4 (run `nstudent data list`)",
                sources::names().join(", ")
            )));
        };
        let name = match classes_text {
            Some(c) => format!("{title} {}", c.replace(' ', "")),
            None => title,
        };
        let canonical = match classes_text {
            Some(c) => format!("{source}:{}", c.replace(' ', "")),
            None => source.clone(),
        };
        Ok(Task {
            name,
            spec: canonical,
            source,
            classes,
        })
    }

    fn named(name: &str, spec: &str) -> Task {
        let mut t = Task::parse(spec).unwrap_or_else(|e| panic!("built-in task {spec}: {e}"));
        t.name = name.to_string();
        t
    }

    /// Number of classes of the task, when it names them.
    pub fn num_classes(&self) -> Option<usize> {
        self.classes.as_ref().map(Vec::len)
    }

    /// Restricts both splits to the task's classes.
    pub fn apply(&self, splits: &Splits) -> Result<Splits> {
        Ok(Splits {
            train: self.apply_to(&splits.train)?,
            test: splits.test.as_ref().map(|t| self.apply_to(t)).transpose()?,
        })
    }

    /// Restricts one dataset to the task's classes, relabelled `0..k-1` in the task's order.
    pub fn apply_to(&self, data: &Dataset) -> Result<Dataset> {
        let Some(classes) = &self.classes else {
            let mut d = data.clone();
            d.source = self.spec.clone();
            return Ok(d);
        };
        select_classes(data, classes, &self.spec)
    }
}

/// The images of `classes` (labels of `data`), relabelled by their position in `classes`;
/// class names follow. `source` names the result.
pub fn select_classes(data: &Dataset, classes: &[u16], source: &str) -> Result<Dataset> {
    let k = data.num_classes();
    let missing: Vec<String> = classes
        .iter()
        .filter(|&&c| usize::from(c) >= k)
        .map(|c| c.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Invalid(format!(
            "task `{source}`: class{} {} do{} not exist: {} has {k} classes (0-{})",
            if missing.len() > 1 { "es" } else { "" },
            missing.join(", "),
            if missing.len() > 1 { "" } else { "es" },
            data.source,
            k.saturating_sub(1)
        )));
    }
    let mut new_label = vec![u16::MAX; k];
    for (i, &c) in classes.iter().enumerate() {
        new_label[usize::from(c)] = i as u16;
    }
    let n = data.shape.len();
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for (i, &l) in data.labels.iter().enumerate() {
        let m = new_label[usize::from(l)];
        if m != u16::MAX {
            images.extend_from_slice(&data.images[i * n..(i + 1) * n]);
            labels.push(m);
        }
    }
    if labels.is_empty() {
        return Err(Error::Invalid(format!(
            "task `{source}`: {} holds no images of classes {classes:?}",
            data.source
        )));
    }
    let names = classes
        .iter()
        .map(|&c| data.class_names[usize::from(c)].clone())
        .collect();
    Dataset::new(images, labels, data.shape, names, source)
}

/// Why the data of `spec` (a source, a task or a path) is not there to open from `data_dir`,
/// with the step that gets it; `None` when it is there. Checks files only: no data is read.
pub fn missing_data(spec: &str, data_dir: &Path) -> Option<String> {
    let spec = spec.trim();
    let base = match spec.rsplit_once(':') {
        Some((b, c))
            if !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_digit() || " ,-".contains(ch))
                && !Path::new(spec).exists() =>
        {
            b
        }
        _ => spec,
    };
    if let Some(source) = sources::find(base) {
        return (!source.is_present(data_dir)).then(|| {
            format!(
                "source `{}` is not in {}: {}",
                source.name,
                source.dir(data_dir).display(),
                source.how_to_get(data_dir)
            )
        });
    }
    (!Path::new(base).exists()).then(|| format!("{base}: no such file or directory"))
}

/// The 20 tasks of the original study, in the order of its tables.
pub fn original_study() -> Vec<Task> {
    let mut tasks = vec![
        Task::named("Fashion MNIST", "fashion-mnist"),
        Task::named("MNIST 0-4", "mnist:0-4"),
        Task::named("MNIST 5-9", "mnist:5-9"),
        Task::named("CIFAR10 0-4", "cifar10:0-4"),
        Task::named("CIFAR10 5-9", "cifar10:5-9"),
    ];
    for i in 0..10 {
        let (lo, hi) = (i * 10, i * 10 + 9);
        tasks.push(Task::named(
            &format!("CIFAR100 {lo}-{hi}"),
            &format!("cifar100:{lo}-{hi}"),
        ));
    }
    for (lo, hi) in [(0, 4), (5, 9), (10, 14), (15, 19), (20, 25)] {
        tasks.push(Task::named(
            &format!("A-Z {lo}-{hi}"),
            &format!("az:{lo}-{hi}"),
        ));
    }
    tasks
}
