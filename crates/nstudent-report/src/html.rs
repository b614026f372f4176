//! The HTML document: one self-contained file (inline CSS and SVG, a few lines of optional
//! inline JavaScript to sort tables), readable offline and printable.

use std::fmt::Write;

use nstudent_stats::table::{lower_is_better, MetricsTable, METRICS};

use crate::charts;
use crate::comparison::TestsHtml;
use crate::format::{self, esc};
use crate::summary::{mean, Summary};
use crate::{ReportOptions, Result, StudyContext};

const STYLE: &str = r#"
:root { --ink:#1f2328; --muted:#59636e; --line:#d8dee4; --soft:#f6f8fa; --accent:#0a5cad; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; color:var(--ink); background:#fff; }
main { max-width:1240px; margin:0 auto; padding:24px 28px 64px; }
header h1 { font-size:28px; margin:0 0 4px; }
header p { margin:0; color:var(--muted); }
nav { margin:16px 0 8px; display:flex; flex-wrap:wrap; gap:6px 14px; font-size:13px; }
nav a { color:var(--accent); text-decoration:none; } nav a:hover { text-decoration:underline; }
h2 { font-size:21px; margin:40px 0 10px; padding-bottom:6px; border-bottom:1px solid var(--line); }
h3 { font-size:16px; margin:22px 0 8px; }
p.note, .note { color:var(--muted); font-size:13px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin:12px 0; }
.card { border:1px solid var(--line); border-radius:8px; padding:10px 16px; min-width:140px; background:var(--soft); }
.card .v { font-size:24px; font-weight:600; } .card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.finding { border-left:4px solid var(--accent); background:#f0f6fc; padding:10px 14px; margin:12px 0; }
.warn { border-left:4px solid #bf8700; background:#fff8c5; padding:10px 14px; margin:12px 0; }
.na { border-left:4px solid #8c959f; background:var(--soft); padding:10px 14px; margin:12px 0; }
table { border-collapse:collapse; font-size:13px; margin:6px 0 14px; }
caption { text-align:left; font-weight:600; padding:4px 0 6px; font-size:14px; }
caption .dir { font-weight:400; color:var(--muted); font-size:12px; }
th, td { padding:4px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
thead th { background:var(--soft); position:sticky; top:0; font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tbody tr:nth-child(even) { background:#fbfcfd; }
tfoot th, tfoot td { border-top:2px solid var(--line); background:var(--soft); }
td.best { font-weight:700; background:#e6f4ea; }
td:first-child, th:first-child { white-space:nowrap; }
td.sig { font-weight:700; color:#8a1c1c; }
table.sortable thead th { cursor:pointer; } table.sortable thead th:hover { text-decoration:underline; }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(100%, 540px), 1fr)); gap:4px 24px; }
.grid > div { overflow-x:auto; }
table.results th, table.results td { padding:3px 7px; }
table.results thead th { white-space:normal; vertical-align:bottom; }
.sd { color:var(--muted); font-size:11px; font-weight:400; }
.chart { margin:8px 0 16px; } .chart svg { max-width:100%; height:auto; display:block; }
.chart svg text { font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
.legend { display:flex; flex-wrap:wrap; gap:6px 18px; margin:6px 0; font-size:13px; }
.legend span.sw { display:inline-block; width:12px; height:12px; border-radius:2px; margin-right:6px; vertical-align:-1px; }
pre { background:var(--soft); border:1px solid var(--line); border-radius:6px; padding:10px 12px; overflow:auto; font-size:12px; max-height:480px; }
details { margin:8px 0; } summary { cursor:pointer; color:var(--accent); }
code { font-size:12px; background:var(--soft); padding:1px 4px; border-radius:4px; }
footer { margin-top:48px; color:var(--muted); font-size:12px; border-top:1px solid var(--line); padding-top:10px; }
@media print { nav { display:none; } thead th { position:static; } h2 { break-after:avoid; } }
"#;

/// Sorts a table's body by the clicked column (numbers by their `data-v`); the report reads the
/// same without it.
const SCRIPT: &str = r#"
document.querySelectorAll('table.sortable').forEach(function (t) {
  t.querySelectorAll('thead th').forEach(function (th, i) {
    th.title = 'Sort by this column';
    th.addEventListener('click', function () {
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.dataset.dir !== 'asc'; th.dataset.dir = asc ? 'asc' : 'desc';
      var key = function (r) { var c = r.cells[i]; if (!c) return ''; var v = c.dataset.v;
        return v === undefined ? c.textContent : parseFloat(v); };
      rows.sort(function (a, b) { var x = key(a), y = key(b);
        if (typeof x === 'number' && typeof y === 'number') { if (isNaN(x)) return 1; if (isNaN(y)) return -1; return asc ? x - y : y - x; }
        return asc ? String(x).localeCompare(String(y)) : String(y).localeCompare(String(x)); });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"#;

/// The page's head, its style and its header: the title, and what wrote it from which table.
fn page_head(h: &mut String, title: &str, kind: &str, source: Option<&str>) {
    let title = esc(title);
    let version = env!("CARGO_PKG_VERSION");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"nstudent {version}\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n<header>\n<h1>{title}</h1>\n",
    );
    let mut sub = vec![format!("nstudent {version} {kind}")];
    if let Some(source) = source {
        sub.push(format!("table <code>{}</code>", esc(source)));
    }
    let _ = writeln!(h, "<p>{}</p>\n</header>", sub.join(" · "));
}

/// The page for another tool's table (wide or long): the scores per dataset, the statistical
/// comparison and the effect sizes, with the study report's style. There are no folds, times
/// or hyperparameters to show.
pub fn comparison_document(
    analysis: &nstudent_stats::compare::Analysis,
    effects: &nstudent_stats::effect::Effects,
    title: &str,
    source: Option<&str>,
) -> String {
    let tests = crate::comparison::analysis_html(analysis);
    let mut h = String::with_capacity(64 * 1024);
    page_head(&mut h, title, "comparison", source);
    h.push_str(
        "<nav><a href=\"#summary\">Summary</a><a href=\"#scores\">Scores</a>\
         <a href=\"#tests\">Statistical tests</a><a href=\"#effects\">Effect sizes</a></nav>\n",
    );
    if let Some(finding) = &tests.finding {
        let _ = writeln!(
            h,
            "<section id=\"summary\">\n<h2>Summary</h2>\n<p>{finding}</p>\n</section>"
        );
    }
    // Scores: datasets x algorithms, the best of each dataset in bold.
    let _ = write!(
        h,
        "<section id=\"scores\">\n<h2>{} per dataset</h2>\n<table><thead><tr><th>Dataset</th>",
        esc(&analysis.metric)
    );
    for a in &analysis.algorithms {
        let _ = write!(h, "<th class=\"num\">{}</th>", esc(a));
    }
    h.push_str("</tr></thead><tbody>\n");
    for (d, row) in analysis.dataset_names.iter().zip(&analysis.means) {
        let best = crate::summary::best_of(row, analysis.lower_is_better);
        let _ = write!(h, "<tr><td>{}</td>", esc(d));
        for (a, v) in row.iter().enumerate() {
            let text = format::metric_value(&analysis.metric, *v);
            if best.contains(&a) {
                let _ = write!(h, "<td class=\"num\"><b>{text}</b></td>");
            } else {
                let _ = write!(h, "<td class=\"num\">{text}</td>");
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n</section>\n");
    let _ = write!(
        h,
        "<section id=\"tests\">\n<h2>Statistical comparison ({})</h2>\n{}</section>\n",
        esc(&analysis.metric),
        tests.body
    );
    effects_section(&mut h, effects, analysis.alpha);
    let _ = write!(
        h,
        "<footer>Written by nstudent {}. Tests follow Demšar (2006), <cite>Statistical \
         comparisons of classifiers over multiple data sets</cite>, JMLR 7; effect sizes and \
         intervals follow autorank (Herbold, 2020).</footer>\n</main>\n<script>{SCRIPT}</script>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    h
}

/// Every pair's effect size with its magnitude, and each algorithm's confidence interval.
fn effects_section(h: &mut String, e: &nstudent_stats::effect::Effects, alpha: f64) {
    use nstudent_stats::effect::EffectSize;
    let method = match e.method {
        EffectSize::CohenD => "Cohen's d",
        EffectSize::AkinshinGamma => "Akinshin's gamma",
        EffectSize::CliffDelta => "Cliff's delta",
    };
    let k = e.intervals.len();
    let _ = writeln!(
        h,
        "<section id=\"effects\">\n<h2>Effect sizes</h2>\n<p class=\"note\">{method} of \
         every pair (a over b), chosen as autorank does: Shapiro-Wilk at α / {k} = {:.4} on each \
         algorithm's scores; {}.</p>",
        e.normality_alpha,
        if e.all_normal {
            "all pass, so Cohen's d and intervals of the mean"
        } else {
            "not all pass, so a non-parametric effect size and intervals of the median"
        }
    );
    h.push_str(
        "<table><thead><tr><th>a</th><th>b</th><th class=\"num\">Effect size</th>\
         <th>Magnitude</th></tr></thead><tbody>\n",
    );
    for p in &e.pairs {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&p.a),
            esc(&p.b),
            format::number(p.value),
            format!("{:?}", p.magnitude).to_lowercase()
        );
    }
    h.push_str("</tbody></table>\n");
    let level = 100.0 * (1.0 - alpha / k as f64);
    let _ = writeln!(
        h,
        "<table><caption>{level:.1}% confidence intervals (1 − α / {k})</caption><thead><tr>\
         <th>Algorithm</th><th class=\"num\">{}</th><th class=\"num\">Low</th>\
         <th class=\"num\">High</th></tr></thead><tbody>",
        if e.all_normal { "Mean" } else { "Median" }
    );
    for i in &e.intervals {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td>\
             <td class=\"num\">{:.4}</td></tr>",
            esc(&i.algorithm),
            i.centre,
            i.lower,
            i.upper
        );
    }
    h.push_str("</tbody></table>\n</section>\n");
}

pub fn document(
    table: &MetricsTable,
    summary: &Summary,
    options: &ReportOptions,
    tests: &TestsHtml,
) -> Result<String> {
    let mut h = String::with_capacity(256 * 1024);
    page_head(
        &mut h,
        &options.title,
        "study report",
        options.source.as_deref(),
    );

    let has_hyper = summary.has_hyperparameters();
    let has_context = !options.context.is_empty();
    let mut nav = vec![
        ("summary", "Summary"),
        ("results", "Results per task"),
        ("accuracy", "Accuracy per task"),
        ("tests", "Statistical tests"),
        ("folds", "Per-fold accuracy"),
        ("time", "Time"),
    ];
    if has_hyper {
        nav.push(("hyperparameters", "Hyperparameters"));
    }
    let has_pseudo = !options.context.pseudo_labels.is_empty();
    if has_pseudo {
        nav.push(("pseudo-labels", "Pseudo-labels"));
    }
    let has_dependence = !options.context.dependence.is_empty();
    if has_dependence {
        nav.insert(4, ("dependence", "Pairs and compute"));
    }
    if options.beside.is_some() {
        let at = nav
            .iter()
            .position(|(id, _)| *id == "tests")
            .map_or(nav.len(), |i| i + 1);
        nav.insert(at, ("beside", "Beside another table"));
    }
    if has_context {
        nav.push(("study", "Study configuration"));
    }
    h.push_str("<nav>");
    for (id, label) in &nav {
        let _ = write!(h, "<a href=\"#{id}\">{label}</a>");
    }
    h.push_str("</nav>\n");

    summary_section(&mut h, table, summary, tests);
    results_section(&mut h, summary);
    accuracy_section(&mut h, summary)?;
    let _ = write!(
        h,
        "<section id=\"tests\">\n<h2>Statistical comparison ({})</h2>\n{}</section>\n",
        esc(&options.metric),
        tests.body
    );
    if let Some(beside) = &options.beside {
        crate::beside::section(&mut h, table, beside, &options.metric, options.alpha);
    }
    if has_dependence {
        crate::dependence::section(&mut h, &options.context.dependence);
    }
    folds_section(&mut h, summary)?;
    time_section(&mut h, summary)?;
    if has_hyper {
        hyperparameter_section(&mut h, summary);
    }
    if has_pseudo {
        pseudo_label_section(&mut h, &options.context.pseudo_labels)?;
    }
    if has_context {
        context_section(&mut h, &options.context);
    }
    let _ = write!(
        h,
        "<footer>Written by nstudent {}. Means and standard deviations (n − 1) are over the \
         outer folds of each task; tests follow Demšar (2006), <cite>Statistical comparisons of \
         classifiers over multiple data sets</cite>, JMLR 7.</footer>\n</main>\n<script>{SCRIPT}</script>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    Ok(h)
}

fn legend(h: &mut String, summary: &Summary) {
    h.push_str("<div class=\"legend\">");
    for (a, name) in summary.algorithms.iter().enumerate() {
        let _ = write!(
            h,
            "<span><span class=\"sw\" style=\"background:{}\"></span>{}</span>",
            charts::css_color(a),
            esc(name)
        );
    }
    h.push_str("</div>\n");
}

fn summary_section(h: &mut String, table: &MetricsTable, summary: &Summary, tests: &TestsHtml) {
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">");
    let folds = summary.fold_counts();
    let folds_text = match (folds.first(), folds.last()) {
        (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
        (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
        _ => "0".to_string(),
    };
    let training_total: f64 = table
        .rows
        .iter()
        .map(|r| r.training_time)
        .filter(|v| v.is_finite())
        .sum();
    for (k, v) in [
        ("tasks", summary.datasets.len().to_string()),
        ("algorithms", summary.algorithms.len().to_string()),
        ("outer folds per task", folds_text),
        ("table rows", summary.rows.to_string()),
        ("total training time", format::duration(training_total)),
    ] {
        let _ = write!(
            h,
            "<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{k}</div></div>",
            esc(&v)
        );
    }
    h.push_str("</div>\n");
    let _ = writeln!(
        h,
        "<p><b>Algorithms:</b> {}.</p>\n<p><b>Tasks:</b> {}.</p>",
        list(&summary.algorithms),
        list(&summary.datasets)
    );
    if let Some(finding) = &tests.finding {
        let _ = writeln!(h, "<div class=\"finding\">{finding}</div>");
    }
    let mut warnings = Vec::new();
    let missing = summary.missing_cells();
    if !missing.is_empty() {
        let shown: Vec<String> = missing
            .iter()
            .take(12)
            .map(|(d, a)| format!("{} / {}", esc(d), esc(a)))
            .collect();
        let more = if missing.len() > shown.len() {
            format!(" and {} more", missing.len() - shown.len())
        } else {
            String::new()
        };
        warnings.push(format!(
            "{} (task, algorithm) pairs have no rows: {}{more}. Is the study still running? \
             <code>nstudent status DIR</code> lists the missing cells.",
            missing.len(),
            shown.join("; ")
        ));
    }
    if folds.len() > 1 {
        warnings.push(format!(
            "Tasks and algorithms have different numbers of folds ({}); means over fewer \
             folds are less precise.",
            folds
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if summary.duplicate_rows > 0 {
        warnings.push(format!(
            "{} rows repeat a (task, algorithm, fold) already in the table; they are all \
             included in the means.",
            summary.duplicate_rows
        ));
    }
    let bad = summary.non_finite_values();
    if bad > 0 {
        warnings.push(format!(
            "{bad} metric values are not finite numbers (NaN or infinite); means that include \
             them are shown as n/a."
        ));
    }
    for w in warnings {
        let _ = writeln!(h, "<div class=\"warn\">{w}</div>");
    }
    h.push_str("</section>\n");
}

fn list(names: &[String]) -> String {
    names.iter().map(|n| esc(n)).collect::<Vec<_>>().join(", ")
}

fn results_section(h: &mut String, summary: &Summary) {
    h.push_str(
        "<section id=\"results\">\n<h2>Results per task</h2>\n<p class=\"note\">Mean ± standard \
         deviation over the outer folds; the best algorithm of each task is in bold (all of \
         them when tied). Click a column header to sort.</p>\n",
    );
    // Two tables side by side when they fit (about three algorithms), else one per row.
    let _ = writeln!(
        h,
        "<div class=\"grid\" style=\"grid-template-columns:repeat(auto-fill, minmax(min(100%, \
         {}px), 1fr))\">",
        140 + 130 * summary.algorithms.len()
    );
    for (m, metric) in METRICS.iter().enumerate() {
        let dir = if lower_is_better(metric) {
            "lower is better"
        } else {
            "higher is better"
        };
        let unit = if format::is_time(metric) { " (s)" } else { "" };
        let _ = write!(
            h,
            "<div><table class=\"sortable results\" data-metric=\"{}\"><caption>{}{unit} \
             <span class=\"dir\">({dir})</span></caption>\n<thead><tr><th>Task</th>",
            esc(metric),
            esc(metric)
        );
        for a in &summary.algorithms {
            let _ = write!(h, "<th class=\"num\">{}</th>", esc(a));
        }
        h.push_str("</tr></thead>\n<tbody>\n");
        for (d, dataset) in summary.datasets.iter().enumerate() {
            let best = summary.best(d, m);
            let _ = write!(h, "<tr><td>{}</td>", esc(dataset));
            for a in 0..summary.algorithms.len() {
                match summary.cell(d, a) {
                    Some(cell) => {
                        let (mean, std) = (cell.mean(m), cell.std(m));
                        let class = if best.contains(&a) { "num best" } else { "num" };
                        let sd = if mean.is_finite() && std.is_finite() {
                            format!(
                                "<span class=\"sd\"> ± {}</span>",
                                format::metric_value(metric, std)
                            )
                        } else {
                            String::new()
                        };
                        let _ = write!(
                            h,
                            "<td class=\"{class}\" data-v=\"{}\">{}{sd}</td>",
                            data_value(mean),
                            format::metric_value(metric, mean)
                        );
                    }
                    None => h.push_str("<td class=\"num\" data-v=\"NaN\">—</td>"),
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody>\n<tfoot><tr><th>Mean over tasks</th>");
        for v in summary.mean_over_tasks(m) {
            let _ = write!(
                h,
                "<td class=\"num\">{}</td>",
                format::metric_value(metric, v)
            );
        }
        let (ranks, used) = summary.mean_ranks(m);
        let _ = write!(
            h,
            "</tr><tr><th title=\"over {used} tasks; 1 = best\">Mean rank</th>"
        );
        for r in ranks {
            let _ = write!(h, "<td class=\"num\">{}</td>", rank_text(r));
        }
        h.push_str("</tr></tfoot></table></div>\n");
    }
    h.push_str("</div>\n</section>\n");
}

fn rank_text(r: f64) -> String {
    if r.is_finite() {
        format!("{r:.2}")
    } else {
        "n/a".to_string()
    }
}

/// A number for the sorting script's `data-v`.
fn data_value(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "NaN".to_string()
    }
}

fn accuracy_section(h: &mut String, summary: &Summary) -> Result<()> {
    let svg = charts::grouped_bars(
        summary,
        0,
        "mean accuracy over the outer folds (error bars: ± 1 std)",
    )?;
    h.push_str("<section id=\"accuracy\">\n<h2>Accuracy per task</h2>\n");
    legend(h, summary);
    let _ = writeln!(h, "<div class=\"chart\">{svg}</div>\n</section>");
    Ok(())
}

fn folds_section(h: &mut String, summary: &Summary) -> Result<()> {
    let svg = charts::fold_boxplots(summary, 0)?;
    h.push_str(
        "<section id=\"folds\">\n<h2>Per-fold accuracy</h2>\n<p class=\"note\">One panel per \
         task, each on its own scale: box = quartiles of the outer folds' accuracy, thick line \
         = median, whiskers = the furthest fold within 1.5 × IQR, circles = folds beyond.</p>\n",
    );
    legend(h, summary);
    let _ = writeln!(h, "<div class=\"chart\">{svg}</div>\n</section>");
    Ok(())
}

fn time_section(h: &mut String, summary: &Summary) -> Result<()> {
    let training = METRICS
        .iter()
        .position(|m| *m == "Training Time")
        .unwrap_or(6);
    let inference = METRICS
        .iter()
        .position(|m| *m == "Inference Time")
        .unwrap_or(7);
    let svg = charts::time_bars(summary, training, inference)?;
    h.push_str(
        "<section id=\"time\">\n<h2>Training and inference time</h2>\n<p class=\"note\">Mean \
         seconds per outer fold over all tasks; whiskers span the fastest to the slowest \
         task's mean. Times are as recorded in the table; per-task times are in the tables \
         above.</p>\n",
    );
    let _ = writeln!(h, "<div class=\"chart\">{svg}</div>");
    let reference_name = summary.algorithms.first().map_or("", String::as_str);
    let _ = write!(
        h,
        "<table class=\"sortable\"><thead><tr><th>Algorithm</th><th class=\"num\">Folds</th>\
         <th class=\"num\">Training s / fold</th><th class=\"num\">Training, total</th>\
         <th class=\"num\">Inference s / fold</th><th class=\"num\">Inference, total</th>\
         <th class=\"num\">Training cost (× {})</th></tr></thead>\n<tbody>\n",
        esc(reference_name)
    );
    let train = charts::pooled(summary, training);
    let infer = charts::pooled(summary, inference);
    let reference = train.first().map(|v| mean(v)).unwrap_or(f64::NAN);
    for (a, name) in summary.algorithms.iter().enumerate() {
        let (t, i) = (&train[a], &infer[a]);
        let ratio = mean(t) / reference;
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\" data-v=\"{}\">{}</td>\
             <td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td>\
             <td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td></tr>",
            esc(name),
            t.len(),
            data_value(mean(t)),
            format::seconds(mean(t)),
            data_value(t.iter().sum()),
            format::duration(t.iter().sum()),
            data_value(mean(i)),
            format::seconds(mean(i)),
            data_value(i.iter().sum()),
            format::duration(i.iter().sum()),
            data_value(ratio),
            if ratio.is_finite() {
                format!("{ratio:.2}×")
            } else {
                "n/a".to_string()
            }
        );
    }
    h.push_str("</tbody></table>\n</section>\n");
    Ok(())
}

fn hyperparameter_section(h: &mut String, summary: &Summary) {
    h.push_str(
        "<section id=\"hyperparameters\">\n<h2>Chosen hyperparameters</h2>\n<p class=\"note\">\
         How often the inner search chose each value, over all tasks and outer folds.</p>\n",
    );
    for (a, counts) in summary.hyperparameter_counts() {
        let _ = write!(
            h,
            "<h3>{} <span class=\"note\">({} folds)</span></h3>\n<table><thead><tr>\
             <th>Hyperparameter</th><th>Values chosen (times)</th></tr></thead><tbody>\n",
            esc(&summary.algorithms[a]),
            counts.folds
        );
        for (name, values) in &counts.names {
            let mut values = values.clone();
            values.sort_by_key(|v| std::cmp::Reverse(v.1));
            let text: Vec<String> = values
                .iter()
                .map(|(v, n)| format!("<code>{}</code> ({n})", esc(&v.to_string())))
                .collect();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(name),
                text.join(", ")
            );
        }
        h.push_str("</tbody></table>\n");
    }
    let shown: Vec<usize> = (0..summary.algorithms.len())
        .filter(|&a| {
            (0..summary.datasets.len()).any(|d| {
                summary
                    .cell(d, a)
                    .is_some_and(|c| c.hyperparameters.iter().any(Option::is_some))
            })
        })
        .collect();
    h.push_str(
        "<details><summary>Per task and fold</summary>\n<table class=\"sortable\"><thead><tr>\
         <th>Task</th><th class=\"num\">Fold</th>",
    );
    for &a in &shown {
        let _ = write!(h, "<th>{}</th>", esc(&summary.algorithms[a]));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (d, dataset) in summary.datasets.iter().enumerate() {
        let mut folds: Vec<usize> = shown
            .iter()
            .filter_map(|&a| summary.cell(d, a))
            .flat_map(|c| c.folds.iter().copied())
            .collect();
        folds.sort_unstable();
        folds.dedup();
        for fold in folds {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"num\" data-v=\"{fold}\">{fold}</td>",
                esc(dataset)
            );
            for &a in &shown {
                let text: Vec<String> = summary
                    .cell(d, a)
                    .map(|c| {
                        c.folds
                            .iter()
                            .zip(&c.hyperparameters)
                            .filter(|(f, _)| **f == fold)
                            .map(|(_, t)| {
                                esc(&t
                                    .as_ref()
                                    .map_or_else(|| "None".to_string(), |s| s.to_string()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = write!(h, "<td>{}</td>", text.join(" / "));
            }
            h.push_str("</tr>\n");
        }
    }
    h.push_str("</tbody></table>\n</details>\n</section>\n");
}

/// Pseudo-label accuracy and the share kept per iteration of every refit (`metrics.jsonl`).
fn pseudo_label_section(h: &mut String, rows: &[crate::PseudoLabelRow]) -> Result<()> {
    h.push_str(
        "<section id=\"pseudo-labels\">\n<h2>Pseudo-labels per iteration</h2>\n<p>From \
         <code>metrics.jsonl</code>: each refit's Noisy Student iterations, averaged over the \
         folds. <em>Accuracy</em> compares the kept pseudo-labels with the pool's true labels, \
         a diagnostic computed after training that never reaches it; <em>share</em> is the \
         part of the used pool above the threshold.</p>\n",
    );
    h.push_str(&crate::pseudo::chart(rows)?);
    h.push_str(
        "\n<table>\n<thead><tr><th>task</th><th>algorithm</th><th>iteration</th>\
         <th>folds</th><th>kept</th><th>share</th><th>accuracy</th></tr></thead>\n<tbody>\n",
    );
    for r in rows {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.3}</td>\
             <td>{}</td></tr>",
            esc(&r.task),
            esc(&r.algorithm),
            r.iteration,
            r.folds,
            r.kept,
            r.share,
            r.accuracy.map_or("–".to_string(), |a| format!("{a:.4}"))
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
    Ok(())
}

fn context_section(h: &mut String, context: &StudyContext) {
    h.push_str("<section id=\"study\">\n<h2>Study configuration</h2>\n");
    if let Some(hash) = &context.config_hash {
        let _ = writeln!(h, "<p>Configuration hash: <code>{}</code></p>", esc(hash));
    }
    if let Some(text) = &context.config_text {
        let _ = writeln!(h, "<pre>{}</pre>", esc(text));
    }
    if !context.inner_search.is_empty() {
        inner_search(h, &context.inner_search);
    }
    h.push_str("</section>\n");
}

/// Inner-search scores: one row per candidate and cell, one column per hyperparameter (in order
/// of first appearance); numbers sort as numbers.
fn inner_search(h: &mut String, scores: &[crate::SearchScore]) {
    let mut names: Vec<&str> = Vec::new();
    for s in scores {
        for setting in &s.candidate.0 {
            if !names.contains(&setting.name.as_str()) {
                names.push(&setting.name);
            }
        }
    }
    let _ = writeln!(
        h,
        "<details><summary>Inner-search scores ({} entries)</summary>",
        scores.len()
    );
    h.push_str(
        "<table class=\"sortable\"><thead><tr><th>task</th><th class=\"num\">fold</th>\
         <th>algorithm</th>",
    );
    for name in &names {
        let _ = write!(h, "<th>{}</th>", esc(name));
    }
    h.push_str(
        "<th class=\"num\">epochs</th><th class=\"num\" title=\"mean validation accuracy over \
         the inner folds\">val_accuracy</th></tr></thead>\n<tbody>\n",
    );
    for s in scores {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\" data-v=\"{}\">{}</td><td>{}</td>",
            esc(&s.task),
            s.fold,
            s.fold,
            esc(&s.algorithm)
        );
        for name in &names {
            match s.candidate.0.iter().find(|setting| setting.name == *name) {
                Some(setting) => match setting.value.as_f64() {
                    Some(v) => {
                        let _ = write!(
                            h,
                            "<td class=\"num\" data-v=\"{}\">{}</td>",
                            data_value(v),
                            esc(&setting.value.to_string())
                        );
                    }
                    None => {
                        let _ = write!(h, "<td>{}</td>", esc(&setting.value.to_string()));
                    }
                },
                None => h.push_str("<td></td>"),
            }
        }
        let _ = writeln!(
            h,
            "<td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td></tr>",
            s.epochs,
            s.epochs,
            data_value(s.val_accuracy),
            format::number(s.val_accuracy)
        );
    }
    h.push_str("</tbody></table>\n</details>\n");
}
