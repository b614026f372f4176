//! Merging a study's cells into its outputs: `metrics_table.csv` (the original study's
//! layout), `stats.json` ([`crate::study_stats`]) and `report.html`.

use std::path::PathBuf;

use nstudent_stats::table::MetricsTable;

use crate::cell::{self, Cell};
use crate::store::StudyDir;
use crate::{plan, Error, Result};

// The names and the statistics were part of this module; their paths stay.
pub(crate) use crate::names::dataset_names;
pub use crate::names::{display_name, display_names, source_block, source_block_of_name};
pub use crate::study_stats::*;

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

/// Reads every finished cell of `study` into the metrics table, in study order (task, fold,
/// algorithm), whichever process or shard computed them.
pub fn collect(study: &StudyDir) -> Result<(MetricsTable, Vec<Cell>)> {
    let mut table = MetricsTable::default();
    let mut missing = Vec::new();
    let name_of = dataset_names(&study.config().tasks);
    for c in plan::cells(study.config()) {
        let name = name_of(&c.task);
        match study.finished(&c)? {
            Some(record) => table.rows.push(record.row(&name)),
            None => missing.push(c),
        }
    }
    Ok((table, missing))
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

    let mut stats = statistics(&table, &study.config().tasks);
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
        let s = StudyDir::create(
            dir.path(),
            &crate::study::tests_support::study(&c, 1, 1),
            false,
        )
        .unwrap();
        let o = RunOptions {
            shard: Shard::new(1, 2).unwrap(),
            observer: Default::default(),
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
        let s = StudyDir::create(
            dir.path(),
            &crate::study::tests_support::study(&c, 1, 1),
            false,
        )
        .unwrap();
        let o = RunOptions {
            shard: Shard::ALL,
            observer: Default::default(),
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
