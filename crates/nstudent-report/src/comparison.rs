//! The statistical-comparison section: mean ranks, Friedman and Iman-Davenport, the
//! critical-difference diagram, the Nemenyi p-value matrix and the Wilcoxon-Holm table, from
//! `nstudent_stats::compare::analyze`. Where a test does not apply (too few tasks or
//! algorithms, incomplete results) the section says so instead of failing.

use std::fmt::Write;

use nstudent_stats::compare::{self, Analysis};
use nstudent_stats::table::MetricsTable;

use crate::format::{self, esc};

/// What the statistical-tests section shows: its body, and a sentence for the report's summary.
pub struct TestsHtml {
    /// The section's body.
    pub body: String,
    /// One sentence for the summary at the top, if the tests ran.
    pub finding: Option<String>,
}

pub fn section(table: &MetricsTable, metric: &str, alpha: f64) -> TestsHtml {
    if let [task] = &table.datasets()[..] {
        return one_task_section(table, task, metric, alpha);
    }
    match compare::analyze(table, metric, alpha) {
        Ok(analysis) => analysis_html(&analysis),
        Err(e) => TestsHtml {
            body: format!(
                "<div class=\"na\"><b>The tests across tasks do not apply to this table:</b> {}.\
                 <br>Friedman, Iman-Davenport, Nemenyi and the critical-difference diagram \
                 need at least 3 algorithms, the Wilcoxon-Holm tests at least 2, and all tests \
                 need every algorithm's results on at least 2 tasks (Demšar recommends 10 or \
                 more).</div>\n",
                esc(e.to_string().trim_end_matches('.'))
            ),
            finding: Some(format!(
                "No statistical comparison: {}.",
                esc(e.to_string().trim_end_matches('.'))
            )),
        },
    }
}

/// A one-task study: the rank tests over its outer folds, said to be an indication only (the
/// folds share training data); the pairs' corrected t-tests are the tests to read.
fn one_task_section(table: &MetricsTable, task: &str, metric: &str, alpha: f64) -> TestsHtml {
    let folds = table.folds_as_datasets();
    let note = format!(
        "<div class=\"na\"><b>One task ({}):</b> the algorithms are ranked over its outer \
         folds. The folds share training data, so these tests are an indication, not a test \
         across tasks; the corrected resampled t-tests under <a href=\"#dependence\">Pairs and \
         compute</a> account for that.</div>\n",
        esc(task)
    );
    match compare::analyze(&folds, metric, alpha) {
        Ok(analysis) => {
            let mut html = analysis_html(&analysis);
            html.body = format!("{note}{}", html.body);
            html.finding = Some(format!(
                "One task: ranked over {} outer folds (an indication; see the pairs' corrected \
                 t-tests).",
                analysis.datasets
            ));
            html
        }
        Err(e) => TestsHtml {
            body: format!(
                "{note}<div class=\"na\">No rank tests over the folds: {}.</div>\n",
                esc(e.to_string().trim_end_matches('.'))
            ),
            finding: Some(format!(
                "One task; no rank tests over its folds: {}.",
                esc(e.to_string().trim_end_matches('.'))
            )),
        },
    }
}

fn significance(p: f64, alpha: f64) -> &'static str {
    if p < alpha {
        "significant"
    } else {
        "not significant"
    }
}

pub(crate) fn analysis_html(an: &Analysis) -> TestsHtml {
    let mut h = String::new();
    write_intro(an, &mut h);
    let order = write_rank_table(an, &mut h);
    let best = order[0];
    let mut finding = format!(
        "On {}, <b>{}</b> has the best mean rank ({:.2}) over {} tasks.",
        esc(&an.metric),
        esc(&an.algorithms[best]),
        an.rank(best),
        an.datasets
    );
    write_friedman(an, &mut h, &mut finding);
    write_nemenyi(an, &mut h, &mut finding);
    write_wilcoxon_holm(an, &mut h, &mut finding);
    TestsHtml {
        body: h,
        finding: Some(finding),
    }
}

/// What the tests are run on, and a warning when there are too few tasks for them.
fn write_intro(an: &Analysis, h: &mut String) {
    let k = an.algorithms.len();
    let alpha = an.alpha;
    let direction = if an.lower_is_better {
        "lower is better"
    } else {
        "higher is better"
    };
    let _ = writeln!(
        h,
        "<p class=\"note\">On the mean {} over the outer folds of each task ({direction}): {} \
         tasks, {k} algorithms, α = {alpha}. Rank 1 is the best algorithm on a task; ties share \
         their average rank.</p>",
        esc(&an.metric),
        an.datasets
    );
    if an.datasets < 10 {
        let _ = writeln!(
            h,
            "<div class=\"warn\">Only {} tasks: the tests have little power and the \
             chi-square approximation of the Friedman test is rough below about 10 tasks \
             (Demšar 2006).</div>",
            an.datasets
        );
    }
}

/// The mean rank of every algorithm, best first; returns that order.
fn write_rank_table(an: &Analysis, h: &mut String) -> Vec<usize> {
    let k = an.algorithms.len();
    // Mean ranks, best first.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| an.rank(a).total_cmp(&an.rank(b)));
    h.push_str(
        "<table><caption>Mean rank over tasks</caption><thead><tr><th>Algorithm</th>\
         <th class=\"num\">Mean rank</th><th class=\"num\">Mean over tasks</th>\
         <th class=\"num\">Tasks best</th></tr></thead><tbody>\n",
    );
    for &a in &order {
        let mean_over = crate::summary::mean(&an.means.iter().map(|r| r[a]).collect::<Vec<_>>());
        let best_on = an
            .means
            .iter()
            .filter(|row| crate::summary::best_of(row, an.lower_is_better).contains(&a))
            .count();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{:.3}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{best_on}</td></tr>",
            esc(&an.algorithms[a]),
            an.rank(a),
            format::metric_value(&an.metric, mean_over)
        );
    }
    h.push_str("</tbody></table>\n");
    order
}

/// The Friedman and Iman-Davenport tests (or why they do not apply), and their verdict.
fn write_friedman(an: &Analysis, h: &mut String, finding: &mut String) {
    let (k, alpha) = (an.algorithms.len(), an.alpha);
    match (&an.friedman, &an.iman_davenport) {
        (Some(f), Some(id)) => {
            let _ = writeln!(
                h,
                "<h3>Friedman test</h3>\n<table><thead><tr><th>Test</th>\
                 <th class=\"num\">Statistic</th><th class=\"num\">df</th>\
                 <th class=\"num\">p-value</th><th>At α = {alpha}</th></tr></thead><tbody>\n\
                 <tr><td>Friedman χ²</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num{}\">{}</td><td>{}</td></tr>\n\
                 <tr><td>Iman-Davenport F</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}, {}</td><td class=\"num{}\">{}</td><td>{}</td></tr>\n\
                 </tbody></table>",
                format::number(f.statistic),
                f.df,
                if f.p_value < alpha { " sig" } else { "" },
                format::p_value(f.p_value),
                significance(f.p_value, alpha),
                format::number(id.statistic),
                format::number(id.df_num),
                format::number(id.df_den),
                if id.p_value < alpha { " sig" } else { "" },
                format::p_value(id.p_value),
                significance(id.p_value, alpha),
            );
            let verdict = if f.p_value < alpha {
                "the algorithms do not all perform alike"
            } else {
                "no significant difference between the algorithms"
            };
            let _ = write!(
                finding,
                " Friedman test: p = {} — {verdict} at α = {alpha}.",
                format::p_value(f.p_value)
            );
        }
        _ => {
            let _ = writeln!(
                h,
                "<div class=\"na\">With {k} algorithms the Friedman and Iman-Davenport tests, \
                 the Nemenyi post-hoc test and the critical-difference diagram do not apply \
                 (they need at least 3 algorithms); the Wilcoxon signed-rank test below \
                 compares the two.</div>"
            );
        }
    }
}

/// The critical-difference diagram and the Nemenyi p-values of every pair.
fn write_nemenyi(an: &Analysis, h: &mut String, finding: &mut String) {
    let alpha = an.alpha;
    if let Some(nem) = &an.nemenyi {
        let _ = writeln!(
            h,
            "<h3>Critical-difference diagram</h3>\n<p class=\"note\">Algorithms on the axis \
             of mean ranks (1 = best, on the left); a bar joins algorithms whose mean ranks \
             differ by less than the critical difference CD = {} (Nemenyi, α = {alpha}), i.e. \
             that are not significantly different.</p>",
            format::number(nem.critical_difference)
        );
        match nstudent_stats::cd_diagram::render_svg(an) {
            Ok(svg) => {
                let _ = writeln!(h, "<div class=\"chart cd\">{}</div>", strip_prolog(&svg));
            }
            Err(e) => {
                let _ = writeln!(
                    h,
                    "<div class=\"na\">The diagram could not be drawn: {}</div>",
                    esc(&e.to_string())
                );
            }
        }
        let _ = write!(
            h,
            "<h3>Nemenyi post-hoc test</h3>\n<p class=\"note\">p-values of every pair; bold \
             red: significant at α = {alpha}.</p>\n<table class=\"nemenyi\"><thead><tr><th></th>"
        );
        for a in &an.algorithms {
            let _ = write!(h, "<th class=\"num\">{}</th>", esc(a));
        }
        h.push_str("</tr></thead><tbody>\n");
        let mut pairs = Vec::new();
        for (i, row) in nem.p_values.iter().enumerate() {
            let _ = write!(h, "<tr><th>{}</th>", esc(&an.algorithms[i]));
            for (j, p) in row.iter().enumerate() {
                if i == j {
                    h.push_str("<td class=\"num\">—</td>");
                } else {
                    let class = if *p < alpha { "num sig" } else { "num" };
                    let _ = write!(h, "<td class=\"{class}\">{}</td>", format::p_value(*p));
                    if i < j && *p < alpha {
                        pairs.push(format!(
                            "{} vs {}",
                            esc(&an.algorithms[i]),
                            esc(&an.algorithms[j])
                        ));
                    }
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table>\n");
        if pairs.is_empty() {
            finding.push_str(" Nemenyi: no pair differs significantly.");
        } else {
            let _ = write!(
                finding,
                " Nemenyi: {} differ significantly.",
                pairs.join("; ")
            );
        }
    }
}

/// The pairwise Wilcoxon signed-rank tests with Holm's correction.
fn write_wilcoxon_holm(an: &Analysis, h: &mut String, finding: &mut String) {
    let alpha = an.alpha;
    if !an.wilcoxon_holm.is_empty() {
        let _ = writeln!(
            h,
            "<h3>Wilcoxon signed-rank tests with Holm's correction</h3>\n<p class=\"note\">\
             Each pair compared on the per-task means; p-values adjusted for {} comparisons \
             (Holm). Wins / ties / losses count the tasks where the first algorithm is \
             better / equal / worse.</p>",
            an.wilcoxon_holm.len()
        );
        h.push_str(
            "<table class=\"sortable wilcoxon\"><thead><tr><th>A</th><th>B</th>\
             <th class=\"num\">W</th><th class=\"num\">p</th><th class=\"num\">p (Holm)</th>\
             <th>At α</th><th class=\"num\">A wins / ties / losses</th></tr></thead><tbody>\n",
        );
        for pair in &an.wilcoxon_holm {
            let ia = an.algorithms.iter().position(|n| *n == pair.a);
            let ib = an.algorithms.iter().position(|n| *n == pair.b);
            let record = match (ia, ib) {
                (Some(ia), Some(ib)) => {
                    let (mut w, mut t, mut l) = (0, 0, 0);
                    for row in &an.means {
                        let (x, y) = (row[ia], row[ib]);
                        let better = if an.lower_is_better { x < y } else { x > y };
                        if x == y {
                            t += 1;
                        } else if better {
                            w += 1;
                        } else {
                            l += 1;
                        }
                    }
                    format!("{w} / {t} / {l}")
                }
                _ => String::new(),
            };
            let class = if pair.p_adjusted < alpha {
                "num sig"
            } else {
                "num"
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\" data-v=\"{}\">{}</td>\
                 <td class=\"num\" data-v=\"{}\">{}</td><td class=\"{class}\" data-v=\"{}\">{}</td>\
                 <td>{}</td><td class=\"num\">{record}</td></tr>",
                esc(&pair.a),
                esc(&pair.b),
                pair.statistic,
                format::number(pair.statistic),
                pair.p_value,
                format::p_value(pair.p_value),
                pair.p_adjusted,
                format::p_value(pair.p_adjusted),
                significance(pair.p_adjusted, alpha),
            );
        }
        h.push_str("</tbody></table>\n");
        if an.nemenyi.is_none() {
            let sig: Vec<String> = an
                .wilcoxon_holm
                .iter()
                .filter(|p| p.p_adjusted < alpha)
                .map(|p| format!("{} vs {}", esc(&p.a), esc(&p.b)))
                .collect();
            if sig.is_empty() {
                finding.push_str(" Wilcoxon-Holm: no significant difference.");
            } else {
                let _ = write!(
                    finding,
                    " Wilcoxon-Holm: {} differ significantly.",
                    sig.join("; ")
                );
            }
        }
    }
}

/// An SVG document as an inline element: without an XML declaration or doctype.
fn strip_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}
