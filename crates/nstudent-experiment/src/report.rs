//! The HTML report (and spreadsheet) of a study, written by `nstudent-report` with the study's
//! config, its chosen hyperparameters and its inner-search scores as context.

use std::path::{Path, PathBuf};

use nstudent_report::{write_report, ChosenSettings, ReportOptions, SearchScore, StudyContext};
use nstudent_stats::table::MetricsTable;

use crate::store::{StudyDir, STUDY_FILE};
use crate::study_stats::StudyStats;
use crate::{names, plan, Result};

/// What the study knows beyond its table, from its finished cells: the hyperparameters each
/// chose and every candidate's inner score, as typed values (the report counts and tabulates
/// them without reading the table's text), and the study's config, hash and pseudo-labels.
pub fn context(study: &StudyDir) -> Result<StudyContext> {
    let dataset = names::dataset_names(&study.config().tasks);
    let mut chosen = Vec::new();
    let mut inner_search = Vec::new();
    for cell in plan::cells(study.config()) {
        let Some(record) = study.finished(&cell)? else {
            continue;
        };
        let algorithm = cell.algorithm.display_name().to_string();
        chosen.push(ChosenSettings {
            dataset: dataset(&cell.task),
            algorithm: algorithm.clone(),
            fold: cell.fold,
            settings: record
                .outcome
                .hyperparameters
                .map(|h| h.settings(cell.algorithm)),
        });
        inner_search.extend(record.outcome.search.iter().map(|s| SearchScore {
            task: cell.task.clone(),
            fold: cell.fold,
            algorithm: algorithm.clone(),
            candidate: s.hyperparameters.settings(cell.algorithm),
            epochs: s.epochs,
            val_accuracy: s.mean_accuracy,
        }));
    }
    Ok(StudyContext {
        config_text: std::fs::read_to_string(study.dir.join(STUDY_FILE)).ok(),
        config_hash: Some(study.hash().to_string()),
        chosen,
        inner_search,
        pseudo_labels: std::fs::read_to_string(study.dir.join(crate::store::METRICS_FILE))
            .map(|text| nstudent_report::pseudo_label_rows(&text))
            .unwrap_or_default(),
        dependence: nstudent_report::Dependence::default(),
    })
}

/// The report's "Pairs and compute" section from a merge's statistics.
pub fn dependence(stats: &StudyStats) -> nstudent_report::Dependence {
    let blocks = stats.source_blocks.as_ref();
    let block_analysis = blocks.and_then(|b| b.analysis.as_ref());
    nstudent_report::Dependence {
        settings: Some(stats.paired_settings),
        paired: stats.paired.clone(),
        blocks: blocks.map(|b| b.blocks.clone()).unwrap_or_default(),
        block_friedman_p: block_analysis.and_then(|a| a.friedman.as_ref().map(|f| f.p_value)),
        block_mean_ranks: block_analysis
            .map(|a| a.mean_ranks.clone())
            .unwrap_or_default(),
        compute: stats
            .compute
            .iter()
            .map(|c| {
                (
                    c.algorithm.clone(),
                    c.cells,
                    c.trainings_per_cell(),
                    c.core_seconds / 3600.0,
                )
            })
            .collect(),
    }
}

/// Writes `report.html` (and the spreadsheet next to it) for `table` at `path`; returns the
/// files written.
pub fn write(
    study: &StudyDir,
    table: &MetricsTable,
    stats: &StudyStats,
    path: &Path,
) -> Result<Vec<PathBuf>> {
    let mut context = context(study)?;
    context.dependence = dependence(stats);
    let options = ReportOptions {
        title: format!(
            "nstudent study: {} task(s), {} outer folds",
            study.config().tasks.len(),
            study.config().outer_folds
        ),
        source: Some(nstudent_report::source_name(&study.dir)),
        context,
        ..ReportOptions::default()
    };
    let files = write_report(table, &options, path)?;
    Ok(vec![files.html, files.xlsx])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{CandidateScore, Cell, CellOutcome, Hyperparameters};
    use crate::runner::tests::{config, fake};
    use crate::runner::{run_study, CellContext, RunOptions};
    use crate::{merge, Algorithm, MergeOptions, Shard};
    use nstudent_report::{render_html, SettingValue};

    /// The runner's fake cell with a two-candidate search, and the whole pool (`all`) for
    /// Noisy Student.
    fn searched(cell: &Cell, seed: u64, ctx: &CellContext<'_>) -> crate::Result<CellOutcome> {
        let mut outcome = fake(cell, seed, ctx)?;
        if let Some(h) = &mut outcome.hyperparameters {
            if cell.algorithm == Algorithm::NoisyStudent {
                h.unl_factor = None;
            }
            outcome.search = [0.6, 0.7]
                .into_iter()
                .map(|threshold| CandidateScore {
                    hyperparameters: Hyperparameters { threshold, ..*h },
                    inner_accuracy: vec![threshold, 0.5],
                    mean_accuracy: (threshold + 0.5) / 2.0,
                    epochs: 2,
                })
                .collect();
        }
        Ok(outcome)
    }

    /// The "Chosen hyperparameters" section of a report.
    fn counts(html: &str) -> &str {
        let start = html.find("<section id=\"hyperparameters\">").unwrap();
        let end = start + html[start..].find("</section>").unwrap();
        &html[start..end]
    }

    #[test]
    fn the_report_counts_the_cells_typed_hyperparameters() {
        let dir = tempfile::tempdir().unwrap();
        let s = StudyDir::create(
            dir.path(),
            &crate::study::tests_support::study(&config(), 1, 1),
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
        run_study(&s, &searched, &o).unwrap();
        let table = merge(&s, &MergeOptions { report: false }).unwrap().table;
        let context = context(&s).unwrap();

        // One entry per row of the table, with the row's keys and the row's text.
        assert_eq!(context.chosen.len(), table.rows.len());
        for (c, row) in context.chosen.iter().zip(&table.rows) {
            assert_eq!(
                (c.dataset.as_str(), c.algorithm.as_str(), c.fold),
                (row.dataset.as_str(), row.algorithm.as_str(), row.fold)
            );
            let text = c
                .settings
                .as_ref()
                .map_or_else(|| "None".to_string(), ToString::to_string);
            assert_eq!(text, row.hyperparameters);
        }
        let ns = context
            .chosen
            .iter()
            .find(|c| c.algorithm == "Noisy Student")
            .unwrap();
        let ns = &ns.settings.as_ref().unwrap().0;
        assert_eq!(ns[0].value, SettingValue::Text("all".to_string()));
        assert_eq!(ns[2].value.as_f64().map(|v| v >= 1.0), Some(true));
        // Two candidates in each of the 18 cells with a search.
        assert_eq!(context.inner_search.len(), 36);
        assert_eq!(context.inner_search[0].candidate.0.len(), 3);
        assert_eq!(context.inner_search[2].algorithm, "Ensemble Noisy Student");
        assert_eq!(context.inner_search[2].candidate.0.len(), 4);
        assert_eq!(context.inner_search[0].val_accuracy, 0.55);

        // The typed counts are those the table's text gives.
        let typed = ReportOptions {
            context,
            ..ReportOptions::default()
        };
        let typed = render_html(&table, &typed).unwrap();
        let text = render_html(&table, &ReportOptions::default()).unwrap();
        assert_eq!(counts(&typed), counts(&text));
        assert!(
            counts(&typed).contains("<tr><td>unl_factor</td><td><code>all</code> (9)</td></tr>")
        );
        assert!(typed.contains("Inner-search scores (36 entries)"));
        assert!(typed.contains("<th>ensemble_size</th>"));
    }
}
