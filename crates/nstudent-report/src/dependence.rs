//! The report's section on comparisons that respect dependence: each planned pair per task
//! (corrected resampled and Bayesian correlated t-tests) and across tasks and source blocks
//! (Bayesian signed-rank test), the rank tests on source blocks, and each algorithm's compute.

use std::fmt::Write;

use nstudent_stats::paired::{PairComparison, PairSettings, Probabilities, Verdict};
use serde::Serialize;

use crate::format::esc;

/// What the study runner computed for this section (see `nstudent_experiment::merge`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Dependence {
    pub settings: Option<PairSettings>,
    pub paired: Vec<PairComparison>,
    /// Each source block with its tasks, when two tasks share one.
    pub blocks: Vec<(String, Vec<String>)>,
    /// Friedman's p-value and the mean ranks over the block means.
    pub block_friedman_p: Option<f64>,
    pub block_mean_ranks: Vec<(String, f64)>,
    /// Per algorithm: cells, models trained per cell, core-hours in all.
    pub compute: Vec<(String, usize, f64, f64)>,
}

impl Dependence {
    pub fn is_empty(&self) -> bool {
        self.paired.is_empty() && self.blocks.is_empty() && self.compute.is_empty()
    }
}

fn verdict(v: Verdict, second: &str, first: &str) -> String {
    match v {
        Verdict::SecondBetter => format!("<strong>{}</strong> better", esc(second)),
        Verdict::FirstBetter => format!("<strong>{}</strong> better", esc(first)),
        Verdict::Equivalent => "practically equivalent".into(),
        Verdict::Undecided => "undecided".into(),
    }
}

fn probabilities(p: &Probabilities) -> String {
    format!(
        "<td>{:.3}</td><td>{:.3}</td><td>{:.3}</td>",
        p.second_better, p.equivalent, p.first_better
    )
}

/// The section's HTML.
pub fn section(h: &mut String, d: &Dependence) {
    h.push_str("<section id=\"dependence\">\n<h2>Pairs and compute</h2>\n");
    compute_table(h, d);
    source_blocks(h, d);
    if let Some(s) = &d.settings {
        if !d.paired.is_empty() {
            let _ = writeln!(
                h,
                "<h3>Pairs</h3>\n<p class=\"note\">Per task: the corrected resampled t-test \
                 (Nadeau and Bengio, 2003) and the Bayesian correlated t-test (Benavoli et al., \
                 JMLR 2017), which correct for folds that share training data. Across tasks and \
                 source blocks: the Bayesian signed-rank test. Region of practical equivalence \
                 ±{}; a region is called when its probability is at least {}.</p>",
                s.rope, s.decision
            );
        }
    }
    for p in &d.paired {
        pair_table(h, p);
    }
    h.push_str("</section>\n");
}

/// Cells, models per cell and core-hours of each algorithm.
fn compute_table(h: &mut String, d: &Dependence) {
    if !d.compute.is_empty() {
        h.push_str(
            "<h3>Compute per algorithm</h3>\n<table>\n<thead><tr><th>algorithm</th>\
             <th>cells</th><th>models per cell</th><th>core-hours</th></tr></thead>\n<tbody>\n",
        );
        for (a, cells, per_cell, hours) in &d.compute {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{cells}</td><td>{per_cell:.1}</td><td>{hours:.2}</td></tr>",
                esc(a)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
}

/// The tasks of each source block, and the rank tests on the blocks' means.
fn source_blocks(h: &mut String, d: &Dependence) {
    if !d.blocks.is_empty() {
        let blocks: Vec<String> = d
            .blocks
            .iter()
            .map(|(b, tasks)| format!("{} ({})", esc(b), esc(&tasks.join(", "))))
            .collect();
        let _ = writeln!(
            h,
            "<h3>Source blocks</h3>\n<p>Tasks that share a source or its images are not \
             independent, so the rank tests are repeated on the blocks' means: {}.</p>",
            blocks.join("; ")
        );
        if let Some(p) = d.block_friedman_p {
            let ranks: Vec<String> = d
                .block_mean_ranks
                .iter()
                .map(|(a, r)| format!("{} {r:.2}", esc(a)))
                .collect();
            let _ = writeln!(
                h,
                "<p>Mean ranks over {} blocks: {}; Friedman p = {p:.4}.</p>",
                d.blocks.len(),
                ranks.join(", ")
            );
        }
    }
}

/// One planned pair: a row per task, then across tasks and source blocks; with one task, the
/// difference of each fold.
fn pair_table(h: &mut String, p: &PairComparison) {
    let _ = writeln!(
        h,
        "<h4>{} against {}</h4>\n<table>\n<thead><tr><th>task</th><th>difference</th>\
         <th>folds better</th><th>corrected t p</th><th>P(better)</th><th>P(equivalent)</th>\
         <th>P(worse)</th><th>verdict</th></tr></thead>\n<tbody>",
        esc(&p.second),
        esc(&p.first)
    );
    for t in &p.per_task {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{:+.4}</td><td>{} of {}</td><td>{:.4}</td>{}<td>{}</td></tr>",
            esc(&t.task),
            t.second_mean - t.first_mean,
            t.second_wins,
            t.folds,
            t.test.p_value,
            probabilities(&t.test.probabilities),
            verdict(t.verdict, &p.second, &p.first)
        );
    }
    across_rows(h, p);
    h.push_str("</tbody>\n</table>\n");
    // One task: its folds are all the evidence there is, so show each.
    if let [t] = &p.per_task[..] {
        let folds: Vec<String> = t
            .fold_differences
            .iter()
            .map(|f| format!("fold {}: {:+.4}", f.fold, f.difference))
            .collect();
        let _ = writeln!(
            h,
            "<p class=\"note\">Per fold ({} minus {}): {}.</p>",
            esc(&p.second),
            esc(&p.first),
            folds.join(" · ")
        );
    }
}

/// The Bayesian signed-rank rows of one pair, across tasks and across source blocks.
fn across_rows(h: &mut String, p: &PairComparison) {
    for (what, across) in [
        ("tasks", p.across_tasks.as_ref()),
        ("source blocks", p.across_blocks.as_ref()),
    ] {
        if let Some(a) = across {
            let n = a.units.len() as f64;
            let diff = a
                .second_means
                .iter()
                .zip(&a.first_means)
                .map(|(y, x)| y - x)
                .sum::<f64>()
                / n;
            let wins = a
                .second_means
                .iter()
                .zip(&a.first_means)
                .filter(|(y, x)| y > x)
                .count();
            let _ = writeln!(
                h,
                "<tr><td><em>across {} {what}</em></td><td>{diff:+.4}</td><td>{wins} of {}</td>\
                 <td>–</td>{}<td>{}</td></tr>",
                a.units.len(),
                a.units.len(),
                probabilities(&a.probabilities),
                verdict(a.verdict, &p.second, &p.first)
            );
        }
    }
}
