//! A study's statistics (`stats.json`): the rank tests over tasks (or the folds of one task),
//! the planned pairs with tests that respect dependence, the source blocks, each algorithm's
//! compute; and their text, as `run`, `merge` and `stats` print it.

use std::fmt::Write as _;

use nstudent_algo::Algorithm;
use nstudent_stats::compare::{self, Analysis};
use nstudent_stats::paired::{compare_pair, PairComparison, PairSettings, Verdict};
use nstudent_stats::table::{MetricsTable, METRICS};
use serde::Serialize;

use crate::names::{display_names, source_block, source_block_of_name};
use crate::store::StudyDir;
use crate::{plan, Result};

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
        .config()
        .algorithms
        .iter()
        .map(|a| AlgorithmCompute {
            algorithm: a.display_name().to_string(),
            cells: 0,
            trainings: 0,
            core_seconds: 0.0,
        })
        .collect();
    for c in plan::cells(study.config()) {
        if let Some(r) = study.finished(&c)? {
            if let Some(i) = study
                .config()
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
