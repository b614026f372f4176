//! A learning curve across studies: mean test accuracy against the labeled fraction, one line
//! per algorithm with ± 1 sd error bars, one panel per task, as SVG.

use plotters::prelude::*;
use serde::Serialize;

use crate::charts::color;
use crate::{Error, Result};

/// One algorithm on one task at one labeled fraction: its folds' accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    pub task: String,
    pub algorithm: String,
    /// Labeled share of each outer training part, in (0, 1].
    pub fraction: f64,
    pub folds: usize,
    pub mean: f64,
    /// Sample standard deviation over folds (0 for one fold).
    pub sd: f64,
}

const PANEL_WIDTH: u32 = 560;
const HEIGHT: u32 = 420;
const FONT: &str = "sans-serif";

/// The curve of `points` as SVG text: tasks and algorithms in order of first appearance.
pub fn svg(points: &[CurvePoint]) -> Result<String> {
    let mut out = String::new();
    draw(&mut out, points).map_err(|e| Error::Chart {
        chart: "curve",
        message: e.to_string(),
    })?;
    Ok(out)
}

/// The distinct values, in order of first appearance (tasks and algorithms of a curve).
pub fn first_seen<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}

fn draw(
    svg: &mut String,
    points: &[CurvePoint],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let tasks = first_seen(points.iter().map(|p| p.task.as_str()));
    let algorithms = first_seen(points.iter().map(|p| p.algorithm.as_str()));
    let width = PANEL_WIDTH * tasks.len().max(1) as u32;
    let root = SVGBackend::with_string(svg, (width, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, tasks.len().max(1)));
    let (x_lo, x_hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.fraction), hi.max(p.fraction))
    });
    // A tick at every fraction measured.
    let mut fractions: Vec<f64> = points.iter().map(|p| p.fraction).collect();
    fractions.sort_by(f64::total_cmp);
    fractions.dedup();
    for (panel, task) in panels.iter().zip(&tasks) {
        let mine: Vec<&CurvePoint> = points.iter().filter(|p| &p.task == task).collect();
        let (y_lo, y_hi) = mine.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            (lo.min(p.mean - p.sd), hi.max(p.mean + p.sd))
        });
        let pad = ((y_hi - y_lo) * 0.08).max(0.005);
        let mut chart = ChartBuilder::on(panel)
            .caption(task, (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(
                ((x_lo * 0.85)..(x_hi * 1.15))
                    .log_scale()
                    .with_key_points(fractions.clone()),
                (y_lo - pad)..(y_hi + pad),
            )?;
        chart
            .configure_mesh()
            .x_desc("labeled fraction (log scale)")
            .y_desc("test accuracy, mean ± sd over folds")
            .x_label_formatter(&|x| format!("{}%", (x * 1000.0).round() / 10.0))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .light_line_style(RGBColor(242, 242, 242))
            .draw()?;
        for (a, algorithm) in algorithms.iter().enumerate() {
            let mut line: Vec<&CurvePoint> = mine
                .iter()
                .copied()
                .filter(|p| &p.algorithm == algorithm)
                .collect();
            line.sort_by(|p, q| p.fraction.total_cmp(&q.fraction));
            if line.is_empty() {
                continue;
            }
            let c = color(a);
            // Each algorithm a little to the side, so that error bars do not overlap.
            let shift = 1.0 + 0.025 * (a as f64 - (algorithms.len() as f64 - 1.0) / 2.0);
            let xy: Vec<(f64, f64)> = line.iter().map(|p| (p.fraction * shift, p.mean)).collect();
            chart
                .draw_series(std::iter::once(PathElement::new(
                    xy.clone(),
                    c.stroke_width(2),
                )))?
                .label(algorithm.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
            chart.draw_series(xy.iter().map(|&(x, y)| Circle::new((x, y), 3, c.filled())))?;
            for p in &line {
                let x = p.fraction * shift;
                let (lo, hi) = (p.mean - p.sd, p.mean + p.sd);
                let cap = 0.012;
                let style = c.stroke_width(1);
                chart.draw_series([
                    PathElement::new(vec![(x, lo), (x, hi)], style),
                    PathElement::new(vec![(x * (1.0 - cap), lo), (x * (1.0 + cap), lo)], style),
                    PathElement::new(vec![(x * (1.0 - cap), hi), (x * (1.0 + cap), hi)], style),
                ])?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FONT, 13))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
