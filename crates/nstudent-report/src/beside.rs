//! The "Beside another table" section: a study's table next to another one (the original
//! study's `metrics_table.csv`, say) on the tasks and algorithms both have. Per task and
//! algorithm, each side's mean and sd over folds and whether the difference of the means lies
//! within the folds' spread (the larger of the two sds); the folds side by side; the chosen
//! hyperparameters of each side; and, across the shared tasks, each side's mean ranks, Friedman
//! test and Wilcoxon-Holm pairs. The two tables' folds need not be the same splits (the
//! original study's came from an unseeded shuffle), so the fold-by-fold view is descriptive.

use std::collections::HashSet;
use std::fmt::Write;

use nstudent_stats::compare;
use nstudent_stats::table::{MetricsTable, Row, METRICS};

use crate::format::{esc, metric_value, p_value};
use crate::summary::{HyperparameterCounts, Summary};
use crate::{Error, Result};

/// Another study's table to show beside this one.
#[derive(Debug, Clone, PartialEq)]
pub struct Beside {
    /// How the report names it, e.g. "the original study".
    pub name: String,
    pub table: MetricsTable,
}

/// A task's name with the spellings two tables of the same task may differ in made equal:
/// the JPEG copy of CIFAR-10 is CIFAR-10's task, `CIFAR10 5_9` is `CIFAR10 5-9`, and
/// `A-Z Handwritten` is `A-Z`.
pub fn task_key(name: &str) -> String {
    name.replace(" (JPEG copy)", "")
        .replace("CIFAR10 5_9", "CIFAR10 5-9")
        .replace("A-Z Handwritten", "A-Z")
}

/// An algorithm's name, with the original study's "Improved Noisy Student" (its ensemble of
/// teachers and students) named as nstudent names it.
pub fn algorithm_key(name: &str) -> String {
    match name {
        "Improved Noisy Student" => "Ensemble Noisy Student".to_string(),
        other => other.to_string(),
    }
}

/// The rows of `table` whose (task, algorithm) keys are in `tasks` and `algorithms`, named by
/// their keys.
fn restricted(table: &MetricsTable, tasks: &[String], algorithms: &[String]) -> MetricsTable {
    let rows = table
        .rows
        .iter()
        .filter_map(|r| {
            let (task, algorithm) = (task_key(&r.dataset), algorithm_key(&r.algorithm));
            (tasks.contains(&task) && algorithms.contains(&algorithm)).then(|| Row {
                dataset: task,
                algorithm,
                ..r.clone()
            })
        })
        .collect();
    MetricsTable { rows }
}

/// The tasks and algorithms both tables have, in `ours`' order.
pub fn shared(ours: &MetricsTable, theirs: &MetricsTable) -> (Vec<String>, Vec<String>) {
    let keys = |t: &MetricsTable| -> (HashSet<String>, HashSet<String>) {
        (
            t.rows.iter().map(|r| task_key(&r.dataset)).collect(),
            t.rows.iter().map(|r| algorithm_key(&r.algorithm)).collect(),
        )
    };
    let (their_tasks, their_algorithms) = keys(theirs);
    let mut tasks: Vec<String> = Vec::new();
    let mut algorithms: Vec<String> = Vec::new();
    for r in &ours.rows {
        let (t, a) = (task_key(&r.dataset), algorithm_key(&r.algorithm));
        if their_tasks.contains(&t) && !tasks.contains(&t) {
            tasks.push(t);
        }
        if their_algorithms.contains(&a) && !algorithms.contains(&a) {
            algorithms.push(a);
        }
    }
    (tasks, algorithms)
}

/// Refuses a table that shares no task or no algorithm with the study: the section would be
/// empty, and the likely cause is the wrong file.
pub fn check(ours: &MetricsTable, beside: &Beside) -> Result<()> {
    let (tasks, algorithms) = shared(ours, &beside.table);
    let names = |t: &MetricsTable, f: fn(&Row) -> String| {
        let mut v: Vec<String> = Vec::new();
        for r in &t.rows {
            let n = f(r);
            if !v.contains(&n) {
                v.push(n);
            }
        }
        v.join(", ")
    };
    if tasks.is_empty() {
        return Err(Error::Invalid(format!(
            "the table beside ({}) shares no task with this study (its tasks: {}; this study's: \
             {}); give the metrics table of a study of the same tasks",
            beside.name,
            names(&beside.table, |r| r.dataset.clone()),
            names(ours, |r| r.dataset.clone())
        )));
    }
    if algorithms.is_empty() {
        return Err(Error::Invalid(format!(
            "the table beside ({}) shares no algorithm with this study (its algorithms: {}; this \
             study's: {})",
            beside.name,
            names(&beside.table, |r| r.algorithm.clone()),
            names(ours, |r| r.algorithm.clone())
        )));
    }
    Ok(())
}

/// One (task, algorithm) of both sides: mean and sd over folds of the metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    pub ours: (f64, f64),
    pub theirs: (f64, f64),
}

impl Agreement {
    /// Ours minus theirs.
    pub fn difference(&self) -> f64 {
        self.ours.0 - self.theirs.0
    }

    /// The larger of the two sds: the folds' spread.
    pub fn spread(&self) -> f64 {
        self.ours.1.max(self.theirs.1)
    }

    /// True when the difference of the means is at most the folds' spread.
    pub fn within_spread(&self) -> bool {
        self.difference().abs() <= self.spread()
    }
}

/// The two sides restricted to the shared tasks and algorithms, named alike.
struct Sides {
    tasks: Vec<String>,
    algorithms: Vec<String>,
    ours: Summary,
    theirs: Summary,
    ours_table: MetricsTable,
    theirs_table: MetricsTable,
}

impl Sides {
    fn new(ours: &MetricsTable, theirs: &MetricsTable) -> Self {
        let (tasks, algorithms) = shared(ours, theirs);
        let ours_table = restricted(ours, &tasks, &algorithms);
        let theirs_table = restricted(theirs, &tasks, &algorithms);
        Sides {
            ours: Summary::new(&ours_table),
            theirs: Summary::new(&theirs_table),
            tasks,
            algorithms,
            ours_table,
            theirs_table,
        }
    }

    /// A (task, algorithm) of one side: fold numbers and values of metric `m`.
    fn folds(
        side: &Summary,
        task: &str,
        algorithm: &str,
        m: usize,
    ) -> Option<(Vec<usize>, Vec<f64>)> {
        let d = side.datasets.iter().position(|t| t == task)?;
        let a = side.algorithms.iter().position(|x| x == algorithm)?;
        side.cell(d, a)
            .map(|c| (c.folds.clone(), c.values[m].clone()))
    }

    fn agreement(&self, task: &str, algorithm: &str, m: usize) -> Option<Agreement> {
        let stats = |s: &Summary| {
            let d = s.datasets.iter().position(|t| t == task)?;
            let a = s.algorithms.iter().position(|x| x == algorithm)?;
            s.cell(d, a).map(|c| (c.mean(m), c.std(m)))
        };
        Some(Agreement {
            ours: stats(&self.ours)?,
            theirs: stats(&self.theirs)?,
        })
    }
}

/// Per shared task and algorithm, each side's mean and sd of `metric` over folds (for the
/// README's and the tests' use).
pub fn agreements(
    ours: &MetricsTable,
    theirs: &MetricsTable,
    metric: &str,
) -> Vec<(String, String, Agreement)> {
    let Some(m) = METRICS.iter().position(|x| *x == metric) else {
        return Vec::new();
    };
    let sides = Sides::new(ours, theirs);
    let mut out = Vec::new();
    for t in &sides.tasks {
        for a in &sides.algorithms {
            if let Some(g) = sides.agreement(t, a, m) {
                out.push((t.clone(), a.clone(), g));
            }
        }
    }
    out
}

/// The section's HTML, appended to `h`.
pub fn section(h: &mut String, ours: &MetricsTable, beside: &Beside, metric: &str, alpha: f64) {
    let Some(m) = METRICS.iter().position(|x| *x == metric) else {
        return;
    };
    let sides = Sides::new(ours, &beside.table);
    let name = esc(&beside.name);
    let _ = write!(
        h,
        "<section id=\"beside\">\n<h2>Beside {name} ({})</h2>\n<p class=\"note\">This study's \
         rows and those of {name} on the {} task(s) and {} algorithm(s) both tables have ({}; {}). \
         The two <b>agree</b> on a task and algorithm when the difference of their means is at \
         most the larger of their two standard deviations over folds, the folds' spread. The \
         tables' folds need not be the same splits, so the fold-by-fold columns are descriptive.\
         </p>\n",
        esc(metric),
        sides.tasks.len(),
        sides.algorithms.len(),
        esc(&sides.tasks.join(", ")),
        esc(&sides.algorithms.join(", "))
    );
    means_table(h, &sides, m, &name);
    folds_tables(h, &sides, m, &name);
    hyperparameters(h, &sides, &name);
    across_tasks(h, &sides, metric, alpha, &name);
    h.push_str("</section>\n");
}

fn means_table(h: &mut String, sides: &Sides, m: usize, name: &str) {
    let metric = METRICS[m];
    let _ = write!(
        h,
        "<h3>Mean ± sd over folds</h3>\n<table><thead><tr><th>Task</th><th>Algorithm</th>\
         <th class=\"num\">This study</th><th class=\"num\">{name}</th>\
         <th class=\"num\">Difference</th><th class=\"num\">Folds' spread</th><th>Verdict</th>\
         </tr></thead><tbody>\n"
    );
    for t in &sides.tasks {
        for a in &sides.algorithms {
            let Some(g) = sides.agreement(t, a, m) else {
                continue;
            };
            let verdict = if !g.difference().is_finite() || !g.spread().is_finite() {
                "n/a"
            } else if g.within_spread() {
                "agree"
            } else {
                "<b>disagree</b>"
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{} ± {}</td>\
                 <td class=\"num\">{} ± {}</td><td class=\"num\">{:+.4}</td>\
                 <td class=\"num\">{}</td><td>{verdict}</td></tr>",
                esc(t),
                esc(a),
                metric_value(metric, g.ours.0),
                metric_value(metric, g.ours.1),
                metric_value(metric, g.theirs.0),
                metric_value(metric, g.theirs.1),
                g.difference(),
                metric_value(metric, g.spread()),
            );
        }
    }
    h.push_str("</tbody></table>\n");
}

fn folds_tables(h: &mut String, sides: &Sides, m: usize, name: &str) {
    let metric = METRICS[m];
    let _ = writeln!(
        h,
        "<details><summary>Fold by fold: this study / {name} / difference</summary>"
    );
    for t in &sides.tasks {
        let _ = write!(
            h,
            "<h3>{}</h3>\n<table><thead><tr><th class=\"num\">Fold</th>",
            esc(t)
        );
        for a in &sides.algorithms {
            let _ = write!(h, "<th class=\"num\">{}</th>", esc(a));
        }
        h.push_str("</tr></thead><tbody>\n");
        let columns: Vec<_> = sides
            .algorithms
            .iter()
            .map(|a| {
                (
                    Sides::folds(&sides.ours, t, a, m),
                    Sides::folds(&sides.theirs, t, a, m),
                )
            })
            .collect();
        let mut folds: Vec<usize> = columns
            .iter()
            .flat_map(|(o, th)| o.iter().chain(th).flat_map(|(f, _)| f.iter().copied()))
            .collect();
        folds.sort_unstable();
        folds.dedup();
        let at = |side: &Option<(Vec<usize>, Vec<f64>)>, fold: usize| {
            side.as_ref()
                .and_then(|(f, v)| f.iter().position(|x| *x == fold).map(|i| v[i]))
        };
        for fold in folds {
            let _ = write!(h, "<tr><td class=\"num\">{fold}</td>");
            for (o, th) in &columns {
                let text = match (at(o, fold), at(th, fold)) {
                    (Some(x), Some(y)) => format!(
                        "{} / {} / {:+.4}",
                        metric_value(metric, x),
                        metric_value(metric, y),
                        x - y
                    ),
                    (Some(x), None) => format!("{} / – / –", metric_value(metric, x)),
                    (None, Some(y)) => format!("– / {} / –", metric_value(metric, y)),
                    (None, None) => "–".to_string(),
                };
                let _ = write!(h, "<td class=\"num\">{text}</td>");
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</details>\n");
}

/// "value (times)" for one hyperparameter of one side, most chosen first.
fn counts_text(counts: Option<&HyperparameterCounts>, hyper: &str) -> String {
    let Some((_, values)) = counts.and_then(|c| c.names.iter().find(|(n, _)| n == hyper)) else {
        return "–".to_string();
    };
    let mut values = values.clone();
    values.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.to_string().cmp(&b.0.to_string()))
    });
    values
        .iter()
        .map(|(v, n)| format!("<code>{}</code> ({n})", esc(&v.to_string())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn hyperparameters(h: &mut String, sides: &Sides, name: &str) {
    let ours = sides.ours.hyperparameter_counts();
    let theirs = sides.theirs.hyperparameter_counts();
    let find = |s: &Summary, list: &[(usize, HyperparameterCounts)], a: &str| {
        let i = s.algorithms.iter().position(|x| x == a)?;
        list.iter().find(|(j, _)| *j == i).map(|(_, c)| c.clone())
    };
    let mut rows = String::new();
    for a in &sides.algorithms {
        let (o, t) = (find(&sides.ours, &ours, a), find(&sides.theirs, &theirs, a));
        let mut hypers: Vec<String> = Vec::new();
        for c in o.iter().chain(&t) {
            for (n, _) in &c.names {
                if !hypers.contains(n) {
                    hypers.push(n.clone());
                }
            }
        }
        for hyper in hypers {
            let _ = writeln!(
                rows,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(a),
                esc(&hyper),
                counts_text(o.as_ref(), &hyper),
                counts_text(t.as_ref(), &hyper)
            );
        }
    }
    if rows.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h3>Chosen hyperparameters (folds per value, over the shared tasks)</h3>\n<table><thead>\
         <tr><th>Algorithm</th><th>Hyperparameter</th><th>This study</th><th>{name}</th></tr>\
         </thead><tbody>\n{rows}</tbody></table>\n"
    );
}

fn across_tasks(h: &mut String, sides: &Sides, metric: &str, alpha: f64, name: &str) {
    let _ = writeln!(h, "<h3>Across the {} shared tasks</h3>", sides.tasks.len());
    let analyses = [
        (
            "This study",
            compare::analyze(&sides.ours_table, metric, alpha),
        ),
        (name, compare::analyze(&sides.theirs_table, metric, alpha)),
    ];
    let failed: Vec<String> = analyses
        .iter()
        .filter_map(|(side, r)| r.as_ref().err().map(|e| format!("{side}: {e}")))
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(
            h,
            "<div class=\"na\">The tests across tasks do not apply here: {}.</div>",
            esc(&failed.join("; "))
        );
        return;
    }
    let [(_, Ok(ours)), (_, Ok(theirs))] = &analyses else {
        return;
    };
    h.push_str(
        "<table><thead><tr><th>Side</th><th>Mean ranks (1 = best)</th>\
         <th class=\"num\">Friedman p</th></tr></thead><tbody>\n",
    );
    for (side, a) in [("This study", ours), (name, theirs)] {
        let ranks: Vec<String> = a
            .mean_ranks
            .iter()
            .map(|(n, r)| format!("{} {:.2}", esc(n), r))
            .collect();
        let _ = writeln!(
            h,
            "<tr><td>{side}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            ranks.join(", "),
            a.friedman.map_or("n/a".to_string(), |f| p_value(f.p_value))
        );
    }
    h.push_str("</tbody></table>\n");
    let _ = writeln!(
        h,
        "<table><thead><tr><th>Pair (Wilcoxon signed-rank over tasks)</th>\
         <th class=\"num\">This study: p (Holm)</th><th class=\"num\">{name}: p (Holm)</th>\
         </tr></thead><tbody>"
    );
    for w in &ours.wilcoxon_holm {
        let other = theirs
            .wilcoxon_holm
            .iter()
            .find(|x| (x.a == w.a && x.b == w.b) || (x.a == w.b && x.b == w.a));
        let _ = writeln!(
            h,
            "<tr><td>{} vs {}</td><td class=\"num\">{} ({})</td><td class=\"num\">{}</td></tr>",
            esc(&w.a),
            esc(&w.b),
            p_value(w.p_value),
            p_value(w.p_adjusted),
            other.map_or("n/a".to_string(), |x| format!(
                "{} ({})",
                p_value(x.p_value),
                p_value(x.p_adjusted)
            ))
        );
    }
    let _ = writeln!(
        h,
        "</tbody></table>\n<p class=\"note\">With {} tasks the tests have little power \
         (Demšar recommends 10 or more); the rows say what each table's tests give, not whether \
         the two tables differ.</p>",
        sides.tasks.len()
    );
}
