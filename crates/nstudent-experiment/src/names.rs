//! The names of a study's tasks in its table ("Dataset Name": `mnist:0-4` -> `MNIST 0-4`) and
//! their source blocks (tasks that share a source or its images).

/// The table's "Dataset Name" of a task: the original study's spelling for its tasks
/// (`mnist:0-4` -> `MNIST 0-4`), the file or folder name for a path
/// (`../data/digits.csv:0-4` -> `digits 0-4`), a named source's title (`cifar-10-jpeg:0-4` ->
/// `CIFAR10 (JPEG copy) 0-4`), the task spec otherwise.
pub fn display_name(task: &str) -> String {
    if let Some(t) = nstudent_data::tasks::original_study()
        .into_iter()
        .find(|t| t.spec == task.trim())
    {
        return t.name;
    }
    let (source, range) = source_and_range(task);
    let name = match source {
        "fashion-mnist" => "Fashion MNIST",
        "fashion-mnist-10k" => "Fashion MNIST 10k",
        "mnist" => "MNIST",
        "cifar10" => "CIFAR10",
        "cifar100" => "CIFAR100",
        "az" | "az-handwritten" => "A-Z",
        "emnist-letters" => "EMNIST letters",
        // Other named sources by their title (`cifar-10-jpeg` -> `CIFAR10 (JPEG copy)`).
        other => nstudent_data::sources::find(other)
            .filter(|s| s.name == other)
            .map(|s| s.title)
            .or_else(|| path_stem(other))
            .unwrap_or(other),
    };
    match range {
        Some(r) => format!("{name} {r}"),
        None => name.to_string(),
    }
}

/// A task spec's source and its class range, as the data layer's task parser splits them:
/// only a trailing class list counts as a range, so `C:\\data` stays a path.
pub(crate) fn source_and_range(task: &str) -> (&str, Option<&str>) {
    let task = task.trim();
    match task.rsplit_once(':') {
        Some((s, r))
            if !r.trim().is_empty()
                && r.chars()
                    .all(|ch| ch.is_ascii_digit() || " ,-".contains(ch)) =>
        {
            (s.trim(), Some(r.trim()))
        }
        _ => (task, None),
    }
}

/// The source block of a task: tasks that share a source or its images (the halves of
/// MNIST; the CIFAR-10 JPEG copy and the CIFAR-10 subset, whose images are also in the copy)
/// are one block, and the statistics on blocks average them, since they are not independent.
/// A task of another source is its own block, named by its source.
pub fn source_block(task: &str) -> String {
    let (source, _) = source_and_range(task);
    match source {
        "mnist" => "MNIST",
        "fashion-mnist" | "fashion-mnist-10k" => "Fashion-MNIST",
        "cifar10" | "cifar-10-jpeg" | "cifar-10-subset" => "CIFAR-10",
        "cifar100" => "CIFAR-100",
        "sklearn-digits" => "Digits",
        "az" | "az-handwritten" => "A-Z",
        "emnist-letters" => "EMNIST letters",
        other => other,
    }
    .to_string()
}

/// The source block of a table's "Dataset Name" (as [`display_name`] writes it), for tables
/// read without their study: the block of the known source whose name it carries; `None`
/// for any other name (it is then its own block).
pub fn source_block_of_name(name: &str) -> Option<String> {
    nstudent_data::sources::SOURCES
        .iter()
        .map(|s| s.name)
        .find(|source| {
            let d = display_name(source);
            name == d || name.starts_with(&format!("{d} "))
        })
        .map(source_block)
}

/// The last component of a task given as a path, without its file extension; `None` when
/// `source` is not a path (has no separator) or has no usable name.
fn path_stem(source: &str) -> Option<&str> {
    if !source.contains(['/', '\\']) {
        return None;
    }
    let last = source
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()?;
    let stem = match last.split_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => last,
    };
    (!stem.is_empty() && stem != "." && stem != "..").then_some(stem)
}

/// The "Dataset Name" of each task of a study, in order: [`display_name`], except that tasks
/// whose short names collide (two folders called `data`) keep their full spec, so that no two
/// tasks share a row label in the table and the statistics.
pub fn display_names(tasks: &[String]) -> Vec<String> {
    let short: Vec<String> = tasks.iter().map(|t| display_name(t)).collect();
    short
        .iter()
        .zip(tasks)
        .map(|(name, task)| {
            if short.iter().filter(|n| *n == name).count() > 1 {
                task.trim().to_string()
            } else {
                name.clone()
            }
        })
        .collect()
}

/// The table's "Dataset Name" of each task of `tasks` (see [`display_names`]), as a lookup.
pub(crate) fn dataset_names(tasks: &[String]) -> impl Fn(&str) -> String + '_ {
    let names = display_names(tasks);
    move |task| {
        tasks
            .iter()
            .position(|t| t == task)
            .map_or_else(|| display_name(task), |i| names[i].clone())
    }
}
