//! A learning curve from several studies that differ in their labeled fraction
//! (`[pseudo] teacher_factor`): each algorithm's accuracy per task and fraction, and the
//! planned pairs' tests per fraction (`nstudent curve`).

use std::fmt::Write as _;
use std::path::PathBuf;

use nstudent_report::curve::{first_seen, CurvePoint};
use nstudent_stats::paired::{compare_pair, PairSettings, TaskComparison};
use serde::Serialize;

use crate::merge::collect;
use crate::store::StudyDir;
use crate::study_stats::verdict_text;
use crate::{Algorithm, Error, Result};

/// The pairs a curve tests at each fraction: Noisy Student against its noise control, and
/// against the Baseline.
const PAIRS: [(Algorithm, Algorithm); 2] = [
    (Algorithm::AugmentedBaseline, Algorithm::NoisyStudent),
    (Algorithm::Baseline, Algorithm::NoisyStudent),
];

/// One pair compared at one fraction on one task.
#[derive(Debug, Clone, Serialize)]
pub struct FractionTest {
    pub fraction: f64,
    pub first: String,
    pub second: String,
    pub comparison: TaskComparison,
}

/// A learning curve: its points and tests.
#[derive(Debug, Clone, Serialize)]
pub struct Curve {
    /// The studies, in ascending fraction.
    pub studies: Vec<PathBuf>,
    pub points: Vec<CurvePoint>,
    pub tests: Vec<FractionTest>,
    pub settings: PairSettings,
}

/// Reads the studies in `dirs` (their finished cells). Two studies with the same fraction, or
/// studies whose configs differ in more than the fraction's key, are refused: a curve must
/// vary one thing.
pub fn curve(dirs: &[PathBuf]) -> Result<Curve> {
    if dirs.len() < 2 {
        return Err(Error::Config(
            "a curve needs at least 2 study directories, one per labeled fraction".into(),
        ));
    }
    let mut studies: Vec<(f64, StudyDir)> = Vec::new();
    for d in dirs {
        let s = StudyDir::open(d)?;
        let f = s.config().base.teacher_factor;
        if let Some((_, other)) = studies.iter().find(|(g, _)| *g == f) {
            return Err(Error::Config(format!(
                "{} and {} both label {f} of each training part; give one study per fraction",
                other.dir.display(),
                d.display()
            )));
        }
        studies.push((f, s));
    }
    let same_but_fraction = |s: &StudyDir| {
        let mut c = s.config().clone();
        c.base.teacher_factor = studies[0].1.config().base.teacher_factor;
        c.hash()
    };
    let reference = same_but_fraction(&studies[0].1);
    if let Some((_, odd)) = studies
        .iter()
        .find(|(_, s)| same_but_fraction(s) != reference)
    {
        return Err(Error::Config(format!(
            "{} differs from {} in more than [pseudo] teacher_factor; a curve compares studies \
             that vary the labeled fraction only",
            odd.dir.display(),
            studies[0].1.dir.display()
        )));
    }
    studies.sort_by(|a, b| a.0.total_cmp(&b.0));
    let settings = PairSettings::default();
    let mut points = Vec::new();
    let mut tests = Vec::new();
    for (fraction, study) in &studies {
        let (table, _) = collect(study)?;
        for task in table.datasets() {
            for algorithm in table.algorithms() {
                let v: Vec<f64> = table
                    .rows
                    .iter()
                    .filter(|r| r.dataset == task && r.algorithm == algorithm)
                    .map(|r| r.metrics.accuracy)
                    .collect();
                if v.is_empty() {
                    continue;
                }
                let mean = nstudent_stats::describe::mean(&v);
                let sd = match v.len() {
                    1 => 0.0,
                    _ => nstudent_stats::describe::sample_std(&v),
                };
                points.push(CurvePoint {
                    task: task.clone(),
                    algorithm: algorithm.clone(),
                    fraction: *fraction,
                    folds: v.len(),
                    mean,
                    sd,
                });
            }
        }
        for (a, b) in PAIRS {
            let (a, b) = (a.display_name(), b.display_name());
            let present = table.algorithms();
            if !present.iter().any(|p| p == a) || !present.iter().any(|p| p == b) {
                continue;
            }
            let pair = compare_pair(&table, "Accuracy", a, b, &|_| None, &settings)?;
            tests.extend(pair.per_task.into_iter().map(|comparison| FractionTest {
                fraction: *fraction,
                first: a.to_string(),
                second: b.to_string(),
                comparison,
            }));
        }
    }
    Ok(Curve {
        studies: studies.iter().map(|(_, s)| s.dir.clone()).collect(),
        points,
        tests,
        settings,
    })
}

impl Curve {
    /// The points as CSV: task, algorithm, fraction, folds, mean, sd.
    pub fn csv(&self) -> String {
        let mut out =
            String::from("task,algorithm,labeled_fraction,folds,accuracy_mean,accuracy_sd\n");
        for p in &self.points {
            let _ = writeln!(
                out,
                "\"{}\",\"{}\",{},{},{:.6},{:.6}",
                p.task.replace('"', "\"\""),
                p.algorithm.replace('"', "\"\""),
                p.fraction,
                p.folds,
                p.mean,
                p.sd
            );
        }
        out
    }

    /// A markdown table per task (mean ± sd per algorithm and fraction), then the tests.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let tasks = first_seen(self.points.iter().map(|p| p.task.as_str()));
        let algorithms = first_seen(self.points.iter().map(|p| p.algorithm.as_str()));
        let mut fractions: Vec<f64> = self.points.iter().map(|p| p.fraction).collect();
        fractions.sort_by(f64::total_cmp);
        fractions.dedup();
        for task in &tasks {
            let _ = writeln!(out, "**{task}** (test accuracy, mean ± sd over folds)\n");
            let _ = write!(out, "| labeled |");
            for a in &algorithms {
                let _ = write!(out, " {a} |");
            }
            let _ = write!(out, "\n|---|");
            for _ in &algorithms {
                let _ = write!(out, "---|");
            }
            let _ = writeln!(out);
            for f in &fractions {
                let _ = write!(out, "| {}% |", f * 100.0);
                for a in &algorithms {
                    let cell = self
                        .points
                        .iter()
                        .find(|p| &p.task == task && &p.algorithm == a && p.fraction == *f)
                        .map_or("–".to_string(), |p| {
                            format!("{:.4} ± {:.4}", p.mean, p.sd)
                        });
                    let _ = write!(out, " {cell} |");
                }
                let _ = writeln!(out);
            }
            let _ = writeln!(out);
        }
        if !self.tests.is_empty() {
            let _ = writeln!(
                out,
                "Pairs per fraction: corrected resampled t-test and Bayesian correlated t-test \
                 (ROPE ±{}, a region called at P ≥ {}).\n",
                self.settings.rope, self.settings.decision
            );
            let _ = writeln!(
                out,
                "| task | labeled | pair | difference | folds better | corrected t p | P(better) | P(equivalent) | P(worse) | verdict |\n|---|---|---|---|---|---|---|---|---|---|"
            );
            for t in &self.tests {
                let c = &t.comparison;
                let p = &c.test.probabilities;
                let _ = writeln!(
                    out,
                    "| {} | {}% | {} vs {} | {:+.4} | {} of {} | {:.4} | {:.3} | {:.3} | {:.3} | {} |",
                    c.task,
                    t.fraction * 100.0,
                    t.second,
                    t.first,
                    c.second_mean - c.first_mean,
                    c.second_wins,
                    c.folds,
                    c.test.p_value,
                    p.second_better,
                    p.equivalent,
                    p.first_better,
                    verdict_text(c.verdict, &t.second, &t.first)
                );
            }
        }
        out
    }

    /// The figure as SVG.
    pub fn svg(&self) -> Result<String> {
        Ok(nstudent_report::curve::svg(&self.points)?)
    }
}
