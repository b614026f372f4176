//! The "Pseudo-labels per iteration" section: from a study's `metrics.jsonl`, the mean over
//! folds of each refit iteration's pseudo-labels kept, share of the pool above the threshold
//! and, where the pool's labels are known, pseudo-label accuracy. These show why Noisy Student
//! helps on one task and not on another.

use std::collections::BTreeMap;

use plotters::prelude::*;
use serde_json::Value;

use crate::charts::color;
use crate::{Error, Result};

/// One (task, algorithm, iteration), averaged over the folds that logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct PseudoLabelRow {
    pub task: String,
    pub algorithm: String,
    /// 1-based Noisy Student iteration.
    pub iteration: usize,
    /// Folds averaged.
    pub folds: usize,
    /// Mean pseudo-labels kept (before balancing).
    pub kept: f64,
    /// Mean share of the used pool above the threshold.
    pub share: f64,
    /// Mean pseudo-label accuracy over the folds that know the pool's labels.
    pub accuracy: Option<f64>,
}

/// The rows of a `metrics.jsonl` text: refit iterations only, in task, algorithm and iteration
/// order of first appearance. Lines that are not JSON objects are skipped.
pub fn rows(metrics_jsonl: &str) -> Vec<PseudoLabelRow> {
    type Key = (usize, String, String, usize);
    let mut order: Vec<String> = Vec::new();
    let mut sums: BTreeMap<Key, (usize, f64, f64, f64, usize)> = BTreeMap::new();
    for line in metrics_jsonl.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["event"] != "iteration" || v["phase"] != "refit" {
            continue;
        }
        let (Some(task), Some(algorithm), Some(iteration)) = (
            v["task"].as_str(),
            v["algorithm"].as_str(),
            v["iteration"].as_u64(),
        ) else {
            continue;
        };
        let t = match order.iter().position(|o| o == task) {
            Some(i) => i,
            None => {
                order.push(task.to_string());
                order.len() - 1
            }
        };
        let e = sums
            .entry((t, task.into(), algorithm.into(), iteration as usize))
            .or_default();
        e.0 += 1;
        e.1 += v["kept"].as_f64().unwrap_or(0.0);
        e.2 += v["share_above_threshold"].as_f64().unwrap_or(0.0);
        if let Some(a) = v["pseudo_label_accuracy"].as_f64() {
            e.3 += a;
            e.4 += 1;
        }
    }
    sums.into_iter()
        .map(
            |((_, task, algorithm, iteration), (n, kept, share, acc, acc_n))| PseudoLabelRow {
                task,
                algorithm,
                iteration,
                folds: n,
                kept: kept / n as f64,
                share: share / n as f64,
                accuracy: (acc_n > 0).then(|| acc / acc_n as f64),
            },
        )
        .collect()
}

/// Pseudo-label accuracy (thick line, filled markers) and the share above the threshold (thin
/// line, hollow markers) per iteration, one colour per task and algorithm.
pub fn chart(rows: &[PseudoLabelRow]) -> Result<String> {
    let mut svg = String::new();
    draw(&mut svg, rows).map_err(|e| Error::Chart {
        chart: "pseudo-labels",
        message: e.to_string(),
    })?;
    Ok(svg)
}

fn draw(
    svg: &mut String,
    rows: &[PseudoLabelRow],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut series: Vec<(String, Vec<&PseudoLabelRow>)> = Vec::new();
    for r in rows {
        let name = format!("{} · {}", r.task, r.algorithm);
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(r),
            None => series.push((name, vec![r])),
        }
    }
    let max_it = rows.iter().map(|r| r.iteration).max().unwrap_or(1) as f64;
    let root = SVGBackend::with_string(svg, (1180, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(0.5f64..max_it + 0.5, 0f64..1.0)?;
    chart
        .configure_mesh()
        .x_labels(max_it as usize + 1)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("Noisy Student iteration")
        .y_desc("accuracy (filled), share kept (hollow)")
        .label_style(("sans-serif", 15.0))
        .axis_desc_style(("sans-serif", 15.0))
        .draw()?;
    for (i, (name, points)) in series.iter().enumerate() {
        let c = color(i);
        let acc: Vec<(f64, f64)> = points
            .iter()
            .filter_map(|r| r.accuracy.map(|a| (r.iteration as f64, a)))
            .collect();
        let share: Vec<(f64, f64)> = points
            .iter()
            .map(|r| (r.iteration as f64, r.share))
            .collect();
        chart
            .draw_series(std::iter::once(PathElement::new(
                acc.clone(),
                c.stroke_width(2),
            )))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
        chart.draw_series(acc.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        chart.draw_series(std::iter::once(PathElement::new(
            share.clone(),
            c.mix(0.6).stroke_width(1),
        )))?;
        chart.draw_series(share.iter().map(|&p| Circle::new(p, 3, c.stroke_width(1))))?;
    }
    chart
        .configure_series_labels()
        // Accuracies and shares sit high; the bottom of the chart is usually free.
        .position(SeriesLabelPosition::LowerRight)
        .margin(4)
        .label_font(("sans-serif", 15.0))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_average_refit_iterations_over_folds() {
        let text = [
            r#"{"event":"iteration","phase":"refit","task":"t","algorithm":"noisy-student","iteration":1,"kept":10,"share_above_threshold":0.5,"pseudo_label_accuracy":0.8}"#,
            r#"{"event":"iteration","phase":"refit","task":"t","algorithm":"noisy-student","iteration":1,"kept":20,"share_above_threshold":0.7,"pseudo_label_accuracy":0.6}"#,
            r#"{"event":"epoch","phase":"refit","task":"t","algorithm":"noisy-student","iteration":1}"#,
            r#"{"event":"iteration","phase":"refit","task":"t","algorithm":"ensemble","iteration":1,"kept":5,"share_above_threshold":0.1,"pseudo_label_accuracy":null}"#,
            "not json",
        ]
        .join("\n");
        let rows = rows(&text);
        assert_eq!(rows.len(), 2);
        let ns = rows
            .iter()
            .find(|r| r.algorithm == "noisy-student")
            .unwrap();
        assert_eq!((ns.folds, ns.kept), (2, 15.0));
        assert!((ns.share - 0.6).abs() < 1e-12 && (ns.accuracy.unwrap() - 0.7).abs() < 1e-12);
        let e = rows.iter().find(|r| r.algorithm == "ensemble").unwrap();
        assert_eq!(e.accuracy, None);
        let svg = chart(&rows).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("t · noisy-student"),
            "{svg}"
        );
    }
}
