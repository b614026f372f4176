//! An [`Analysis`] as aligned plain text or as markdown tables, for terminals and notes, or as
//! a LaTeX table for a paper.

use crate::compare::Analysis;
use crate::effect::{EffectSize, Effects};

/// A p-value with 4 decimals, or in scientific notation below 0.001.
pub fn format_p(p: f64) -> String {
    if p.is_nan() {
        "n/a".into()
    } else if p == 0.0 {
        "0".into()
    } else if p >= 1e-3 {
        format!("{p:.4}")
    } else {
        format!("{p:.2e}")
    }
}

fn format_stat(x: f64) -> String {
    if x.is_infinite() {
        "inf".into()
    } else {
        format!("{x:.4}")
    }
}

/// A table: header and rows of cells; the first column is left-aligned, the rest right-aligned.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn text(&self) -> String {
        let cols = self.header.len();
        let width: Vec<usize> = (0..cols)
            .map(|c| {
                std::iter::once(&self.header)
                    .chain(&self.rows)
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (c, cell) in cells.iter().enumerate() {
                let pad = width[c] - cell.chars().count();
                if c == 0 {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(pad));
                } else {
                    out.push_str("  ");
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        let rule: Vec<String> = width.iter().map(|&w| "-".repeat(w)).collect();
        out.push_str(&line(&rule));
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }

    fn markdown(&self) -> String {
        let cell = |s: &String| s.trim().replace('|', "\\|");
        let mut out = format!(
            "| {} |\n|{}\n",
            self.header.iter().map(cell).collect::<Vec<_>>().join(" | "),
            (0..self.header.len())
                .map(|c| if c == 0 { "---|" } else { "---:|" })
                .collect::<String>()
        );
        for r in &self.rows {
            out.push_str(&format!(
                "| {} |\n",
                r.iter().map(cell).collect::<Vec<_>>().join(" | ")
            ));
        }
        out
    }
}

fn ranks_table(a: &Analysis) -> Table {
    let mut order: Vec<usize> = (0..a.algorithms.len()).collect();
    order.sort_by(|&x, &y| a.rank(x).total_cmp(&a.rank(y)));
    Table {
        header: vec![
            "algorithm".into(),
            "mean rank".into(),
            format!("mean {}", a.metric),
        ],
        rows: order
            .iter()
            .map(|&j| {
                let mean = a.means.iter().map(|r| r[j]).sum::<f64>() / a.means.len() as f64;
                vec![
                    a.algorithms[j].clone(),
                    format!("{:.3}", a.rank(j)),
                    format!("{mean:.4}"),
                ]
            })
            .collect(),
    }
}

fn nemenyi_table(a: &Analysis) -> Option<Table> {
    let nem = a.nemenyi.as_ref()?;
    let mut header = vec![String::new()];
    header.extend(a.algorithms.iter().cloned());
    Some(Table {
        header,
        rows: a
            .algorithms
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut row = vec![name.clone()];
                row.extend((0..a.algorithms.len()).map(|j| {
                    if i == j {
                        "-".into()
                    } else {
                        let p = nem.p_values[i][j];
                        let star = if p < a.alpha { " *" } else { "  " };
                        format!("{}{star}", format_p(p))
                    }
                }));
                row
            })
            .collect(),
    })
}

fn wilcoxon_table(a: &Analysis) -> Table {
    Table {
        header: ["a", "b", "W", "p", "p (Holm)", ""]
            .map(String::from)
            .to_vec(),
        rows: a
            .wilcoxon_holm
            .iter()
            .map(|w| {
                vec![
                    w.a.clone(),
                    w.b.clone(),
                    format!("{:.1}", w.statistic),
                    format_p(w.p_value),
                    format_p(w.p_adjusted),
                    if w.p_adjusted < a.alpha { "*" } else { "" }.into(),
                ]
            })
            .collect(),
    }
}

fn summary_lines(a: &Analysis) -> Vec<String> {
    let mut lines = Vec::new();
    let direction = if a.lower_is_better { "lower" } else { "higher" };
    lines.push(format!(
        "{} over {} datasets, {} algorithms ({direction} is better; rank 1 = best; alpha = {})",
        a.metric,
        a.datasets,
        a.algorithms.len(),
        a.alpha
    ));
    lines
}

fn test_lines(a: &Analysis) -> Vec<String> {
    let mut lines = Vec::new();
    match (&a.friedman, &a.iman_davenport) {
        (Some(f), Some(id)) => {
            lines.push(format!(
                "Friedman chi-square = {} (df {}), p = {}",
                format_stat(f.statistic),
                f.df,
                format_p(f.p_value)
            ));
            lines.push(format!(
                "Iman-Davenport F = {} (df {}, {}), p = {}{}",
                format_stat(id.statistic),
                id.df_num,
                id.df_den,
                format_p(id.p_value),
                if id.statistic.is_infinite() {
                    " (every dataset ranks the algorithms the same way)"
                } else {
                    ""
                }
            ));
        }
        _ => lines.push(
            "Friedman and Nemenyi need at least 3 algorithms; with 2, only the Wilcoxon \
             signed-rank test applies."
                .into(),
        ),
    }
    lines
}

/// Plain text with aligned columns; significant results at `alpha` are marked `*`.
pub fn text(a: &Analysis) -> String {
    let mut out = summary_lines(a).join("\n") + "\n\n";
    out.push_str(&ranks_table(a).text());
    out.push('\n');
    out.push_str(&(test_lines(a).join("\n") + "\n"));
    if let (Some(t), Some(nem)) = (nemenyi_table(a), &a.nemenyi) {
        out.push_str(&format!(
            "\nNemenyi p-values (critical difference of mean ranks = {:.3}; * p < {})\n",
            nem.critical_difference, a.alpha
        ));
        out.push_str(&t.text());
    }
    out.push_str(&format!(
        "\nWilcoxon signed-rank tests, Holm-adjusted (* p (Holm) < {})\n",
        a.alpha
    ));
    out.push_str(&wilcoxon_table(a).text());
    out
}

/// Markdown: a heading, tables and the test results as a list.
pub fn markdown(a: &Analysis) -> String {
    let mut out = format!("## {} — comparison of algorithms\n\n", a.metric);
    out.push_str(&(summary_lines(a).join("\n") + "\n\n"));
    out.push_str(&ranks_table(a).markdown());
    out.push('\n');
    for l in test_lines(a) {
        out.push_str(&format!("- {l}\n"));
    }
    if let (Some(t), Some(nem)) = (nemenyi_table(a), &a.nemenyi) {
        out.push_str(&format!(
            "\n### Nemenyi p-values\n\nCritical difference of mean ranks: {:.3} (* p < {}).\n\n",
            nem.critical_difference, a.alpha
        ));
        out.push_str(&t.markdown());
    }
    out.push_str(&format!(
        "\n### Wilcoxon signed-rank tests, Holm-adjusted\n\n(* p (Holm) < {})\n\n",
        a.alpha
    ));
    out.push_str(&wilcoxon_table(a).markdown());
    out
}

/// The effect sizes and intervals of [`crate::effect::effects`], as tables: a heading line and
/// the two tables, in text (`markdown` false) or markdown.
pub fn effects(e: &Effects, alpha: f64, markdown: bool) -> String {
    let k = e.intervals.len();
    let method = match e.method {
        EffectSize::CohenD => "Cohen's d",
        EffectSize::AkinshinGamma => "Akinshin's gamma",
        EffectSize::CliffDelta => "Cliff's delta",
    };
    let normality = if e.all_normal {
        "every algorithm's scores pass"
    } else {
        "not every algorithm's scores pass"
    };
    let pairs = Table {
        header: vec!["a".into(), "b".into(), method.into(), "magnitude".into()],
        rows: e
            .pairs
            .iter()
            .map(|p| {
                vec![
                    p.a.clone(),
                    p.b.clone(),
                    format_stat(p.value),
                    format!("{:?}", p.magnitude).to_lowercase(),
                ]
            })
            .collect(),
    };
    let centre = if e.all_normal { "mean" } else { "median" };
    let level = 100.0 * (1.0 - alpha / k as f64);
    let intervals = Table {
        header: vec![
            "algorithm".into(),
            centre.into(),
            format!("{level:.1}% CI low"),
            "high".into(),
        ],
        rows: e
            .intervals
            .iter()
            .map(|i| {
                vec![
                    i.algorithm.clone(),
                    format!("{:.4}", i.centre),
                    format!("{:.4}", i.lower),
                    format!("{:.4}", i.upper),
                ]
            })
            .collect(),
    };
    let head = format!(
        "Effect sizes: {method} (a over b), chosen as autorank does: Shapiro-Wilk at {:.4} \
         (alpha / {k}): {normality}.",
        e.normality_alpha
    );
    let ci = format!(
        "Confidence intervals of each algorithm's {centre} over datasets, at {level:.1}% \
         (1 - alpha / {k}, as autorank):"
    );
    if markdown {
        format!(
            "\n### Effect sizes\n\n{head}\n\n{}\n{ci}\n\n{}",
            pairs.markdown(),
            intervals.markdown()
        )
    } else {
        format!("\n{head}\n{}\n{ci}\n{}", pairs.text(), intervals.text())
    }
}

/// LaTeX's special characters escaped, for names in a table.
fn latex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A table ready for a paper (booktabs): the metric per dataset and algorithm (mean over
/// folds, the best in bold), the mean ranks, and the omnibus test in the caption.
pub fn latex(a: &Analysis) -> String {
    let k = a.algorithms.len();
    let mut out = String::from("% nstudent stats; needs \\usepackage{booktabs}\n");
    out.push_str("\\begin{table}[t]\n\\centering\n");
    let test = match &a.friedman {
        Some(f) => format!(
            " Friedman $\\chi^2_{{{}}} = {:.2}$, $p = {}$",
            f.df,
            f.statistic,
            format_p(f.p_value)
        ),
        None => String::new(),
    };
    let cd = a
        .nemenyi
        .as_ref()
        .map(|n| {
            format!(
                "; Nemenyi critical difference {:.2} at $\\alpha = {}$",
                n.critical_difference, a.alpha
            )
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "\\caption{{{} of {k} algorithms on {} datasets (mean over folds; best in bold; rank 1 is \
         best).{test}{cd}.}}\n",
        latex_escape(&a.metric),
        a.datasets
    ));
    out.push_str(&format!(
        "\\begin{{tabular}}{{l{}}}\n\\toprule\n",
        "r".repeat(k)
    ));
    let names: Vec<String> = a.algorithms.iter().map(|n| latex_escape(n)).collect();
    out.push_str(&format!(
        "Dataset & {} \\\\\n\\midrule\n",
        names.join(" & ")
    ));
    for (dataset, row) in a.dataset_names.iter().zip(&a.means) {
        let best = if a.lower_is_better {
            row.iter().copied().fold(f64::INFINITY, f64::min)
        } else {
            row.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        };
        let cells: Vec<String> = row
            .iter()
            .map(|&v| {
                let text = format!("{v:.4}");
                if v == best {
                    format!("\\textbf{{{text}}}")
                } else {
                    text
                }
            })
            .collect();
        out.push_str(&format!(
            "{} & {} \\\\\n",
            latex_escape(dataset),
            cells.join(" & ")
        ));
    }
    let ranks: Vec<String> = (0..k).map(|j| format!("{:.2}", a.rank(j))).collect();
    out.push_str(&format!(
        "\\midrule\nMean rank & {} \\\\\n\\bottomrule\n\\end{{tabular}}\n\\end{{table}}\n",
        ranks.join(" & ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::analyze;
    use crate::table::MetricsTable;
    use std::path::Path;

    fn sample() -> Analysis {
        let mut csv = String::from(",Dataset Name,Algorithm Name,Cross Validation [1-10],Hyper-Parameters Values,Accuracy,TPR,FPR,Precision,AUC,PR-Curve,Training Time,Inference Time\n");
        for d in 0..5 {
            for (a, acc) in [
                ("Baseline", 0.5),
                ("Noisy | Student", 0.6),
                ("Ensemble", 0.65),
            ] {
                let acc = acc + d as f64 * 0.01 * if a == "Ensemble" { -1.0 } else { 1.0 };
                csv.push_str(&format!("0,t{d},{a},1,None,{acc},0,0,0,0,0,0,0\n"));
            }
        }
        let t = MetricsTable::from_reader(csv.as_bytes(), Path::new("t.csv")).unwrap();
        analyze(&t, "Accuracy", 0.05).unwrap()
    }

    #[test]
    fn text_aligns_columns_and_sorts_by_rank() {
        let out = text(&sample());
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("Accuracy over 5 datasets, 3 algorithms"),
            "{out}"
        );
        assert!(
            lines[2].starts_with("algorithm") && lines[4].starts_with("Ensemble "),
            "{out}"
        );
        assert!(lines[5].starts_with("Noisy | Student  "), "{out}");
        // Right-aligned numbers end in the same column.
        assert_eq!(lines[4].len(), lines[5].len(), "{out}");
        assert!(out.contains("Friedman chi-square = ") && out.contains("Nemenyi p-values"));
        assert!(out.contains("Wilcoxon signed-rank tests, Holm-adjusted"));
    }

    #[test]
    fn markdown_escapes_pipes_in_names() {
        let out = markdown(&sample());
        assert!(out.contains("| Noisy \\| Student |"), "{out}");
        assert!(out.contains("|---|---:|---:|"), "{out}");
    }

    #[test]
    fn latex_is_a_booktabs_table_with_the_best_in_bold_and_names_escaped() {
        let out = latex(&sample());
        assert!(
            out.contains("\\begin{tabular}{lrrr}") && out.contains("\\bottomrule"),
            "{out}"
        );
        assert!(
            out.contains("Dataset & Baseline & Noisy | Student & Ensemble \\\\"),
            "{out}"
        );
        // t0: Ensemble 0.65 is best; t4: Noisy Student 0.64 is.
        assert!(
            out.contains("t0 & 0.5000 & 0.6000 & \\textbf{0.6500} \\\\"),
            "{out}"
        );
        assert!(
            out.contains("t4 & 0.5400 & \\textbf{0.6400} & 0.6100 \\\\"),
            "{out}"
        );
        assert!(out.contains("Mean rank & 3.00 & "), "{out}");
        assert!(out.contains("Friedman $\\chi^2_{2} = "), "{out}");
        assert_eq!(latex_escape("a_b & 50%"), "a\\_b \\& 50\\%");
    }

    #[test]
    fn small_p_values_switch_to_scientific_notation() {
        assert_eq!(format_p(0.04567), "0.0457");
        assert_eq!(format_p(0.000123), "1.23e-4");
        assert_eq!(format_p(0.0), "0");
    }
}
