//! Merging a study's cells into its outputs: `metrics_table.csv` (the original study's
//! layout), `stats.json` (Friedman, Nemenyi, Wilcoxon-Holm) and `report.html`.

use std::fmt::Write as _;
use std::path::PathBuf;

use nstudent_algo::Algorithm;
use nstudent_stats::compare::{self, Analysis};
use nstudent_stats::paired::{compare_pair, PairComparison, PairSettings, Verdict};
use nstudent_stats::table::{MetricsTable, METRICS};
use serde::Serialize;

use crate::cell::{self, Cell};
use crate::store::StudyDir;
use crate::{plan, Error, Result};

/// What to build besides the table and the statistics.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Also write `report.html` (and what the report writer puts next to it).
    pub report: bool,
}

impl Default for MergeOptions {
    fn default() -> Self {
        Self { report: true }
    }
}

/// Significance level of the tests in `stats.json`.
pub const ALPHA: f64 = 0.05;

/// What the statistics compare across.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blocks {
    /// Per-task means (the study's design; needs at least 2 tasks).
    Tasks,
    /// Outer folds of the single task (each fold one block): an indication only, since folds
    /// share training data.
    Folds,
}

/// The contents of `stats.json`.
#[derive(Debug, Clone, Serialize)]
pub struct StudyStats {
    pub blocks: Blocks,
    pub alpha: f64,
    /// One analysis per metric column, in table order.
    pub analyses: Vec<Analysis>,
    /// Why a comparison was not possible (e.g. a single algorithm); `null` otherwise.
    pub skipped: Option<String>,
    /// The settings of `paired` (ROPE, decision threshold, samples).
    pub paired_settings: PairSettings,
    /// Accuracy of each planned pair ([`planned_pairs`]) that the table holds, with tests that
    /// respect dependence: per task the corrected resampled and Bayesian correlated t-tests,
    /// across tasks and source blocks the Bayesian signed-rank test.
    pub paired: Vec<PairComparison>,
    /// The source blocks of the tasks and the accuracy analysis over their means; `null`
    /// when no two tasks share a block (it would equal the analysis over tasks).
    pub source_blocks: Option<BlockStats>,
    /// What each algorithm's finished cells cost, in table order (empty for a table read
    /// without its cells).
    pub compute: Vec<AlgorithmCompute>,
}

/// The compute of one algorithm's finished cells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlgorithmCompute {
    pub algorithm: String,
    pub cells: usize,
    /// Models trained, search and refit, summed over the cells.
    pub trainings: usize,
    /// Wall seconds of each cell times the threads it used, summed.
    pub core_seconds: f64,
}

impl AlgorithmCompute {
    /// Models trained per cell, on average.
    pub fn trainings_per_cell(&self) -> f64 {
        self.trainings as f64 / self.cells.max(1) as f64
    }
}

/// The compute of every algorithm of `study`'s finished cells, in the study's order.
pub fn compute_per_algorithm(study: &StudyDir) -> Result<Vec<AlgorithmCompute>> {
    let mut out: Vec<AlgorithmCompute> = study
        .config
        .algorithms
        .iter()
        .map(|a| AlgorithmCompute {
            algorithm: a.display_name().to_string(),
            cells: 0,
            trainings: 0,
            core_seconds: 0.0,
        })
        .collect();
    for c in plan::cells(&study.config) {
        if let Some(r) = study.finished(&c)? {
            if let Some(i) = study
                .config
                .algorithms
                .iter()
                .position(|a| *a == c.algorithm)
            {
                out[i].cells += 1;
                out[i].trainings += r.outcome.trainings;
                out[i].core_seconds += r.outcome.cell_seconds * r.threads.max(1) as f64;
            }
        }
    }
    out.retain(|a| a.cells > 0);
    Ok(out)
}

/// The analysis of accuracy on source blocks (the tasks of one source averaged).
#[derive(Debug, Clone, Serialize)]
pub struct BlockStats {
    /// Each block with its tasks ("Dataset Name"s), in table order.
    pub blocks: Vec<(String, Vec<String>)>,
    /// Friedman, Iman-Davenport, Nemenyi and Wilcoxon-Holm over the block means; `null` with
    /// fewer than 2 blocks (see `skipped`).
    pub analysis: Option<Analysis>,
    pub skipped: Option<String>,
}

/// The comparisons of a study that its controls make possible, in order: each self-training
/// algorithm against its control (the primary pair of `docs/standard.md` first), then the
/// comparisons of the original study's three algorithms. Pairs whose algorithms a table
/// lacks are left out.
pub fn planned_pairs() -> [(Algorithm, Algorithm); 4] {
    [
        (Algorithm::AugmentedBaseline, Algorithm::NoisyStudent),
        (Algorithm::BaselineEnsemble, Algorithm::Ensemble),
        (Algorithm::Baseline, Algorithm::NoisyStudent),
        (Algorithm::NoisyStudent, Algorithm::Ensemble),
    ]
}

/// What a merge found and wrote.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    pub table: MetricsTable,
    /// Cells of the study without a finished file; the table lacks their rows.
    pub missing: Vec<Cell>,
    pub stats: StudyStats,
    /// Files written, in order.
    pub written: Vec<PathBuf>,
}

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
fn source_and_range(task: &str) -> (&str, Option<&str>) {
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

/// Reads every finished cell of `study` into the metrics table, in study order (task, fold,
/// algorithm), whichever process or shard computed them.
pub fn collect(study: &StudyDir) -> Result<(MetricsTable, Vec<Cell>)> {
    let mut table = MetricsTable::default();
    let mut missing = Vec::new();
    let name_of = dataset_names(&study.config.tasks);
    for c in plan::cells(&study.config) {
        let name = name_of(&c.task);
        match study.finished(&c)? {
            Some(record) => table.rows.push(record.row(&name)),
            None => missing.push(c),
        }
    }
    Ok((table, missing))
}

/// The statistics over `table`: across tasks when it has several, across the folds of its
/// single task otherwise. `tasks` are the study's task specs, whose source blocks
/// ([`source_block`]) group the table's tasks.
pub fn statistics(table: &MetricsTable, tasks: &[String]) -> StudyStats {
    let names = display_names(tasks);
    let block_of = |dataset: &str| {
        names
            .iter()
            .position(|n| n == dataset)
            .map(|i| source_block(&tasks[i]))
            .or_else(|| source_block_of_name(dataset))
    };
    let mut stats = rank_statistics(table);
    stats.paired = paired_comparisons(table, &block_of, &stats.paired_settings);
    stats.source_blocks = block_statistics(table, &block_of);
    stats
}

/// The tests that respect dependence for a metrics table read without its study (`nstudent
/// stats`): each planned pair it holds, and the analysis on source blocks, which come from
/// the "Dataset Name"s ([`source_block_of_name`]).
pub fn table_dependence_statistics(
    table: &MetricsTable,
) -> (PairSettings, Vec<PairComparison>, Option<BlockStats>) {
    let settings = PairSettings::default();
    let paired = paired_comparisons(table, &source_block_of_name, &settings);
    (
        settings,
        paired,
        block_statistics(table, &source_block_of_name),
    )
}

/// Each planned pair the table holds, on accuracy.
fn paired_comparisons(
    table: &MetricsTable,
    block_of: &dyn Fn(&str) -> Option<String>,
    settings: &PairSettings,
) -> Vec<PairComparison> {
    let present = table.algorithms();
    planned_pairs()
        .into_iter()
        .map(|(a, b)| (a.display_name(), b.display_name()))
        .filter(|(a, b)| present.iter().any(|p| p == a) && present.iter().any(|p| p == b))
        .filter_map(|(a, b)| compare_pair(table, "Accuracy", a, b, block_of, settings).ok())
        .collect()
}

/// The accuracy analysis over source blocks, when two tasks share one.
fn block_statistics(
    table: &MetricsTable,
    block_of: &dyn Fn(&str) -> Option<String>,
) -> Option<BlockStats> {
    let datasets = table.datasets();
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    for d in &datasets {
        let b = block_of(d).unwrap_or_else(|| d.clone());
        match blocks.iter_mut().find(|(name, _)| *name == b) {
            Some((_, members)) => members.push(d.clone()),
            None => blocks.push((b, vec![d.clone()])),
        }
    }
    if blocks.len() == datasets.len() || table.algorithms().len() < 2 {
        return None;
    }
    let analysis = compare::fold_means(table, "Accuracy")
        .map(|m| nstudent_stats::paired::block_means(m, block_of))
        .and_then(|m| compare::analyze_means(m, "Accuracy", false, ALPHA));
    let (analysis, skipped) = match analysis {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Some(BlockStats {
        blocks,
        analysis,
        skipped,
    })
}

/// Friedman, Nemenyi and Wilcoxon-Holm on every metric, over tasks or folds.
fn rank_statistics(table: &MetricsTable) -> StudyStats {
    let algorithms = table.algorithms();
    let tasks = table.datasets();
    let (blocks, view) = if tasks.len() >= 2 {
        (Blocks::Tasks, table.clone())
    } else {
        (Blocks::Folds, table.folds_as_datasets())
    };
    let mut stats = StudyStats {
        blocks,
        alpha: ALPHA,
        analyses: Vec::new(),
        skipped: None,
        paired_settings: PairSettings::default(),
        paired: Vec::new(),
        source_blocks: None,
        compute: Vec::new(),
    };
    if algorithms.len() < 2 {
        stats.skipped = Some(format!(
            "{} algorithm(s) in the table; comparing needs at least 2",
            algorithms.len()
        ));
        return stats;
    }
    for metric in METRICS {
        match compare::analyze(&view, metric, ALPHA) {
            Ok(a) => stats.analyses.push(a),
            Err(e) => {
                stats.skipped = Some(format!("{metric}: {e}"));
                break;
            }
        }
    }
    stats
}

/// File name of the accuracy's critical-difference diagram in a results directory.
pub const CD_FILE: &str = "cd-accuracy.svg";

/// Builds `metrics_table.csv`, `stats.json`, `cd-accuracy.svg` (with 3 algorithms or more) and
/// (with `options.report`) `report.html` and `metrics_table.xlsx` from the finished cells. Works on a partial study too: the outputs then lack the missing cells.
pub fn merge(study: &StudyDir, options: &MergeOptions) -> Result<MergeOutcome> {
    let (table, missing) = collect(study)?;
    let mut written = Vec::new();
    let mut csv = Vec::new();
    table
        .write(&mut csv)
        .map_err(|e| Error::Internal(format!("cannot format the metrics table: {e}")))?;
    let path = study.dir.join("metrics_table.csv");
    cell::write_atomic(&path, &csv)?;
    written.push(path);

    let mut stats = statistics(&table, &study.config.tasks);
    stats.compute = compute_per_algorithm(study)?;
    let json = serde_json::to_vec_pretty(&stats)
        .map_err(|e| Error::Internal(format!("cannot encode the statistics: {e}")))?;
    let path = study.dir.join("stats.json");
    cell::write_atomic(&path, &json)?;
    written.push(path);

    // The critical-difference diagram of accuracy (it needs 3 algorithms or more).
    if let Some(accuracy) = stats
        .analyses
        .iter()
        .find(|a| a.metric == "Accuracy" && a.nemenyi.is_some())
    {
        let svg = nstudent_stats::cd_diagram::render_svg(accuracy)?;
        let path = study.dir.join(CD_FILE);
        cell::write_atomic(&path, svg.as_bytes())?;
        written.push(path);
    }

    if options.report && !table.rows.is_empty() {
        let path = study.dir.join("report.html");
        written.extend(crate::report::write(study, &table, &stats, &path)?);
    }
    study.log(&format!(
        "merge: {} rows, {} cells missing, wrote {}",
        table.rows.len(),
        missing.len(),
        written
            .iter()
            .map(|p| p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(MergeOutcome {
        table,
        missing,
        stats,
        written,
    })
}

/// The per-task, per-algorithm mean ± standard deviation of accuracy over folds, and the
/// tests on accuracy: what `nstudent run` prints at the end.
pub fn summary_text(table: &MetricsTable, stats: &StudyStats) -> String {
    let mut out = String::new();
    let algorithms = table.algorithms();
    let width = algorithms
        .iter()
        .map(|a| a.len())
        .max()
        .unwrap_or(8)
        .max(15);
    // The label column fits the longest task name.
    let label = table
        .datasets()
        .iter()
        .map(|d| d.chars().count())
        .max()
        .unwrap_or(0)
        .max(22);
    let _ = write!(out, "{:<label$}", "accuracy (mean ± sd)");
    for a in &algorithms {
        let _ = write!(out, "  {a:>width$}");
    }
    let _ = writeln!(out);
    for d in table.datasets() {
        let _ = write!(out, "{d:<label$}");
        for a in &algorithms {
            let v: Vec<f64> = table
                .rows
                .iter()
                .filter(|r| r.dataset == d && &r.algorithm == a)
                .map(|r| r.metrics.accuracy)
                .collect();
            let text = if v.is_empty() {
                "-".to_string()
            } else {
                let (m, s) = mean_sd(&v);
                format!("{m:.4} ± {s:.4} ({})", v.len())
            };
            let _ = write!(out, "  {text:>width$}");
        }
        let _ = writeln!(out);
    }
    let _ = write!(out, "{:<label$}", "train time (s, mean)");
    for a in &algorithms {
        let v: Vec<f64> = table
            .rows
            .iter()
            .filter(|r| &r.algorithm == a)
            .map(|r| r.training_time)
            .collect();
        let _ = write!(out, "  {:>width$.1}", mean_sd(&v).0);
    }
    let _ = writeln!(out);
    if !stats.compute.is_empty() {
        for (what, value) in [
            (
                "models per cell",
                Box::new(|c: &AlgorithmCompute| format!("{:.1}", c.trainings_per_cell()))
                    as Box<dyn Fn(&AlgorithmCompute) -> String>,
            ),
            (
                "core-hours (sum)",
                Box::new(|c: &AlgorithmCompute| format!("{:.2}", c.core_seconds / 3600.0)),
            ),
        ] {
            let _ = write!(out, "{what:<label$}");
            for a in &algorithms {
                let text = stats
                    .compute
                    .iter()
                    .find(|c| &c.algorithm == a)
                    .map_or_else(|| "-".to_string(), &value);
                let _ = write!(out, "  {text:>width$}");
            }
            let _ = writeln!(out);
        }
    }
    if let Some(a) = stats.analyses.iter().find(|a| a.metric == "Accuracy") {
        let over = match stats.blocks {
            Blocks::Tasks => format!("{} tasks", a.datasets),
            Blocks::Folds => format!("{} outer folds of one task (folds share training data: an indication, not a test across tasks)", a.datasets),
        };
        let _ = writeln!(out, "\nAccuracy compared over {over}:");
        rank_tests_text(&mut out, a, true);
    } else if let Some(why) = &stats.skipped {
        let _ = writeln!(out, "\nNo tests: {why}");
    }
    out.push_str(&dependence_text(
        &stats.paired_settings,
        &stats.paired,
        stats.source_blocks.as_ref(),
    ));
    out
}

/// The rank tests of an analysis as indented lines: mean ranks, Friedman, (with `nemenyi`)
/// Nemenyi's critical difference and p-values, and Wilcoxon-Holm.
fn rank_tests_text(out: &mut String, a: &Analysis, nemenyi: bool) {
    let ranks: Vec<String> = a
        .mean_ranks
        .iter()
        .map(|(n, r)| format!("{n} {r:.2}"))
        .collect();
    let _ = writeln!(out, "  mean ranks (1 = best): {}", ranks.join(", "));
    if let Some(f) = &a.friedman {
        let _ = writeln!(
            out,
            "  Friedman chi2 = {:.3}, p = {:.4}",
            f.statistic, f.p_value
        );
    }
    if let (true, Some(n)) = (nemenyi, &a.nemenyi) {
        let _ = writeln!(
            out,
            "  Nemenyi critical difference at alpha {ALPHA}: {:.3}",
            n.critical_difference
        );
        for i in 0..a.algorithms.len() {
            for j in i + 1..a.algorithms.len() {
                let _ = writeln!(
                    out,
                    "    {} vs {}: p = {:.4}",
                    a.algorithms[i], a.algorithms[j], n.p_values[i][j]
                );
            }
        }
    }
    for w in &a.wilcoxon_holm {
        let _ = writeln!(
            out,
            "  Wilcoxon {} vs {}: p = {:.4}, Holm-adjusted p = {:.4}",
            w.a, w.b, w.p_value, w.p_adjusted
        );
    }
}

/// The paired tests and the source-block analysis as text: what `run`, `merge` and `stats`
/// print after the rank tests.
pub fn dependence_text(
    settings: &PairSettings,
    paired: &[PairComparison],
    blocks: Option<&BlockStats>,
) -> String {
    let mut out = String::new();
    if let Some(b) = blocks {
        let names: Vec<String> = b
            .blocks
            .iter()
            .map(|(n, tasks)| format!("{n} ({})", tasks.join(", ")))
            .collect();
        let _ = writeln!(
            out,
            "\nAccuracy compared over {} source blocks (the tasks of one source averaged): {}",
            b.blocks.len(),
            names.join("; ")
        );
        match (&b.analysis, &b.skipped) {
            (Some(a), _) => rank_tests_text(&mut out, a, false),
            (None, Some(why)) => {
                let _ = writeln!(out, "  no tests: {why}");
            }
            (None, None) => {}
        }
    }
    if paired.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\nPairs, with tests that respect dependence (ROPE ±{}, a region called at P >= {}): \
         per task the corrected resampled t-test (Nadeau-Bengio) and the Bayesian correlated \
         t-test; across tasks and source blocks the Bayesian signed-rank test",
        settings.rope, settings.decision
    );
    for p in paired {
        let _ = writeln!(out, "  {} vs {}:", p.second, p.first);
        for t in &p.per_task {
            let pr = &t.test.probabilities;
            let _ = writeln!(
                out,
                "    {:<24} {:+.4} ({} of {} folds better), corrected t p = {:.4}; P(better) {:.3}, \
                 P(equivalent) {:.3}, P(worse) {:.3}: {}",
                t.task,
                t.second_mean - t.first_mean,
                t.second_wins,
                t.folds,
                t.test.p_value,
                pr.second_better,
                pr.equivalent,
                pr.first_better,
                verdict_text(t.verdict, &p.second, &p.first)
            );
            // One task: its folds are all the evidence there is, so show each.
            if p.per_task.len() == 1 {
                let folds: Vec<String> = t
                    .fold_differences
                    .iter()
                    .map(|f| format!("{} {:+.4}", f.fold, f.difference))
                    .collect();
                let _ = writeln!(out, "      per fold: {}", folds.join(", "));
            }
        }
        for (what, across) in [
            ("tasks", p.across_tasks.as_ref()),
            ("source blocks", p.across_blocks.as_ref()),
        ] {
            if let Some(a) = across {
                let pr = &a.probabilities;
                let _ = writeln!(
                    out,
                    "    across {} {}: P(better) {:.3}, P(equivalent) {:.3}, P(worse) {:.3}: {}",
                    a.units.len(),
                    what,
                    pr.second_better,
                    pr.equivalent,
                    pr.first_better,
                    verdict_text(a.verdict, &p.second, &p.first)
                );
            }
        }
    }
    out
}

/// A verdict in words, with `second` the algorithm whose gain is measured.
pub fn verdict_text(v: Verdict, second: &str, first: &str) -> String {
    match v {
        Verdict::SecondBetter => format!("{second} better"),
        Verdict::FirstBetter => format!("{first} better"),
        Verdict::Equivalent => "practically equivalent".to_string(),
        Verdict::Undecided => "undecided".to_string(),
    }
}

/// Mean and sample sd; the sd of a single value is 0 (NaN for none).
fn mean_sd(v: &[f64]) -> (f64, f64) {
    use nstudent_stats::describe::{mean, sample_std};
    let sd = match v.len() {
        0 => f64::NAN,
        1 => 0.0,
        _ => sample_std(v),
    };
    (mean(v), sd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::tests::{config, fake};
    use crate::runner::{run_study, RunOptions};
    use crate::shard::Shard;

    #[test]
    fn display_names_follow_the_original_table() {
        assert_eq!(display_name("mnist:0-4"), "MNIST 0-4");
        assert_eq!(display_name("cifar100:30-39"), "CIFAR100 30-39");
        assert_eq!(display_name("fashion-mnist"), "Fashion MNIST");
        assert_eq!(display_name("my-source"), "my-source");
        assert_eq!(display_name("cifar-10-jpeg:5-9"), "CIFAR10 (JPEG copy) 5-9");
        assert_eq!(display_name("cifar-10-subset"), "CIFAR10 subset");
        assert_eq!(display_name("sklearn-digits:0-4"), "Digits 0-4");
        assert_eq!(
            display_name("../shared/datasets/cifar-10-subset"),
            "cifar-10-subset"
        );
        assert_eq!(display_name("/data/digits.csv:0-4"), "digits 0-4");
        assert_eq!(display_name("data/mine/"), "mine");
        assert_eq!(display_name("C:\\data\\letters.csv"), "letters");
        assert_eq!(display_name("./.hidden"), ".hidden");
        assert_eq!(display_name("../"), "../");
        // The original preset's tasks are the data layer's list, with its display names.
        let specs = crate::config::original_tasks();
        assert_eq!(specs.len(), 20);
        assert_eq!(display_name(&specs[15]), "A-Z 0-4");
        assert_eq!(display_name(&specs[0]), "Fashion MNIST");
    }

    #[test]
    fn display_names_keep_full_specs_where_short_names_collide() {
        let tasks: Vec<String> = ["a/data", "b/data.csv", "mnist:0-4", "c/other"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            display_names(&tasks),
            ["a/data", "b/data.csv", "MNIST 0-4", "other"]
        );
    }

    #[test]
    fn merge_writes_the_table_in_study_order_and_statistics() {
        let c = config();
        let dir = tempfile::tempdir().unwrap();
        let s = StudyDir::create(dir.path(), &c, false).unwrap();
        let o = RunOptions {
            shard: Shard::new(1, 2).unwrap(),
            threads: nstudent_engine::Threads::ONE,
            jobs: 1,
            quiet: true,
            max_cells: None,
            skip_tasks: Vec::new(),
            only_cells: None,
            worker: false,
            claim_timeout: crate::runner::CLAIM_TIMEOUT,
        };
        run_study(&s, &fake, &o).unwrap();
        let partial = merge(&s, &MergeOptions { report: false }).unwrap();
        assert_eq!(partial.table.rows.len(), 13);
        assert_eq!(partial.missing.len(), 14);
        run_study(
            &s,
            &fake,
            &RunOptions {
                shard: Shard::new(0, 2).unwrap(),
                ..o
            },
        )
        .unwrap();
        let m = merge(&s, &MergeOptions { report: false }).unwrap();
        assert!(m.missing.is_empty());
        let back = MetricsTable::read(&dir.path().join("metrics_table.csv")).unwrap();
        assert_eq!(back.rows.len(), 27);
        assert_eq!(back.datasets(), ["t 0-4", "t 5-9", "u"]);
        assert_eq!(
            back.algorithms(),
            ["Baseline", "Noisy Student", "Ensemble Noisy Student"]
        );
        assert_eq!(
            (back.rows[3].fold, back.rows[3].algorithm.as_str()),
            (2, "Baseline")
        );
        assert_eq!(back.rows[0].hyperparameters, "None");
        assert!(back.rows[2].hyperparameters.contains("ensemble_size: 2"));
        assert_eq!(m.stats.blocks, Blocks::Tasks);
        assert_eq!(m.stats.analyses.len(), 8);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("stats.json")).unwrap()).unwrap();
        assert_eq!(json["analyses"][0]["metric"], "Accuracy");
        assert_eq!(json["analyses"][0]["datasets"], 3);
        let svg = std::fs::read_to_string(dir.path().join(CD_FILE)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Baseline"), "{svg}");
        assert!(m.written.contains(&dir.path().join(CD_FILE)));
        let text = summary_text(&m.table, &m.stats);
        assert!(text.contains("Friedman chi2"), "{text}");
        assert!(text.contains("(3)"), "{text}");
    }

    #[test]
    fn a_single_task_is_compared_over_its_folds() {
        let mut c = config();
        c.tasks.truncate(1);
        let dir = tempfile::tempdir().unwrap();
        let s = StudyDir::create(dir.path(), &c, false).unwrap();
        let o = RunOptions {
            shard: Shard::ALL,
            threads: nstudent_engine::Threads::ONE,
            jobs: 1,
            quiet: true,
            max_cells: None,
            skip_tasks: Vec::new(),
            only_cells: None,
            worker: false,
            claim_timeout: crate::runner::CLAIM_TIMEOUT,
        };
        run_study(&s, &fake, &o).unwrap();
        let m = merge(&s, &MergeOptions { report: false }).unwrap();
        assert_eq!(m.stats.blocks, Blocks::Folds);
        assert_eq!(m.stats.analyses[0].datasets, 3);
        // The table itself keeps the real task name and folds.
        assert!(m.table.rows.iter().all(|r| r.dataset == "t 0-4"));
        assert!(summary_text(&m.table, &m.stats).contains("outer folds of one task"));
    }
}
