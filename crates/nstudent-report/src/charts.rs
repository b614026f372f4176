//! The report's charts as SVG text, drawn with plotters' SVG backend (text stays `<text>`
//! elements, so no font files are needed and the browser picks the font).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format;
use crate::summary::{quantile, Summary};
use crate::{Error, Result};

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Colour-blind-safe palette (Okabe & Ito), one colour per algorithm, cycling after eight.
pub const PALETTE: [(u8, u8, u8); 8] = [
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (120, 120, 120),
    (240, 228, 66),
];

/// The colour of algorithm `a`.
pub fn color(a: usize) -> RGBColor {
    let (r, g, b) = PALETTE[a % PALETTE.len()];
    RGBColor(r, g, b)
}

/// CSS hex of the colour of algorithm `a`, for HTML legends.
pub fn css_color(a: usize) -> String {
    let (r, g, b) = PALETTE[a % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

const WIDTH: u32 = 1180;
const FONT: &str = "sans-serif";
/// plotters writes font-size = size / 1.24; 15 gives 12 px text.
const LABEL_SIZE: f64 = 15.0;

fn chart_error(chart: &'static str) -> impl Fn(Box<dyn std::error::Error>) -> Error {
    move |e| Error::Chart {
        chart,
        message: e.to_string(),
    }
}

/// Pixels for a label area holding `chars` characters at [`LABEL_SIZE`] (plotters' own width
/// estimate, so its layout and ours agree).
fn label_width(chars: usize) -> u32 {
    let em = LABEL_SIZE / 1.24 / 1.24;
    (em * 0.7 * chars as f64 + 16.0).ceil() as u32
}

fn finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Horizontal grouped bars: for every task, one bar per algorithm with the mean of `metric`
/// over folds and a ± 1 std error bar. Tasks top to bottom in table order.
pub fn grouped_bars(summary: &Summary, metric: usize, axis_label: &str) -> Result<String> {
    let mut svg = String::new();
    draw_grouped_bars(&mut svg, summary, metric, axis_label).map_err(chart_error("bar"))?;
    Ok(svg)
}

fn draw_grouped_bars(
    svg: &mut String,
    summary: &Summary,
    metric: usize,
    axis_label: &str,
) -> DrawResult {
    let n_tasks = summary.datasets.len().max(1);
    let n_alg = summary.algorithms.len().max(1);
    let bar = if n_alg <= 3 { 9.0 } else { 7.0 };
    let band = (bar * n_alg as f64 + 10.0).clamp(22.0, 70.0);
    let height = (band * n_tasks as f64) as u32 + 70;
    let longest = summary.datasets.iter().map(|d| d.chars().count()).max();
    let y_area = label_width(longest.unwrap_or(4)).min(320);

    let mut x_max: f64 = 1.0;
    for d in 0..summary.datasets.len() {
        for a in 0..summary.algorithms.len() {
            if let Some(c) = summary.cell(d, a) {
                let top = c.mean(metric) + c.std(metric).max(0.0);
                if top.is_finite() {
                    x_max = x_max.max(top * 1.05);
                }
            }
        }
    }

    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = n_tasks as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(y_area)
        .build_cartesian_2d(0f64..x_max, 0f64..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(11)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .x_desc(axis_label)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, LABEL_SIZE))
        .max_light_lines(1)
        .light_line_style(RGBColor(242, 242, 242))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    for (d, name) in summary.datasets.iter().enumerate() {
        category_label(&root, &chart, name, n - d as f64 - 0.5)?;
    }

    // Fraction of a task's band taken by one bar.
    let h = bar / band;
    for d in 0..summary.datasets.len() {
        let top = n - d as f64 - 0.5 + h * n_alg as f64 / 2.0;
        for a in 0..summary.algorithms.len() {
            let Some(cell) = summary.cell(d, a) else {
                continue;
            };
            let (mean, std) = (cell.mean(metric), cell.std(metric));
            if !mean.is_finite() {
                continue;
            }
            let y1 = top - h * a as f64;
            let y0 = y1 - h;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y0), (mean, y1)],
                color(a).filled(),
            )))?;
            if std.is_finite() && std > 0.0 {
                let yc = (y0 + y1) / 2.0;
                let cap = h * 0.3;
                let style = BLACK.mix(0.7).stroke_width(1);
                let (lo, hi) = ((mean - std).max(0.0), mean + std);
                chart.draw_series([
                    PathElement::new(vec![(lo, yc), (hi, yc)], style),
                    PathElement::new(vec![(lo, yc - cap), (lo, yc + cap)], style),
                    PathElement::new(vec![(hi, yc - cap), (hi, yc + cap)], style),
                ])?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// Writes a category name right-aligned left of the y axis at data height `y`.
fn category_label<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    name: &str,
    y: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (px, py) = chart.backend_coord(&(chart.x_range().start, y));
    let (ox, oy) = area.get_base_pixel();
    let style = TextStyle::from((FONT, LABEL_SIZE).into_font())
        .color(&RGBColor(40, 40, 40))
        .pos(Pos::new(HPos::Right, VPos::Center));
    area.draw(&Text::new(name.to_string(), (px - ox - 8, py - oy), style))?;
    Ok(())
}

/// Small multiples: one panel per task with a box plot of the per-fold values of `metric` for
/// every algorithm (box = quartiles, line = median, whiskers = 1.5 IQR, circles = outliers),
/// each panel on its own scale so that small differences stay visible.
pub fn fold_boxplots(summary: &Summary, metric: usize) -> Result<String> {
    let mut svg = String::new();
    draw_fold_boxplots(&mut svg, summary, metric).map_err(chart_error("box plot"))?;
    Ok(svg)
}

fn draw_fold_boxplots(svg: &mut String, summary: &Summary, metric: usize) -> DrawResult {
    let n_tasks = summary.datasets.len().max(1);
    let n_alg = summary.algorithms.len().max(1);
    let cols = n_tasks.min(if n_alg > 5 { 3 } else { 4 });
    let rows = n_tasks.div_ceil(cols);
    let panel_h = 200;
    let root = SVGBackend::with_string(svg, (WIDTH, panel_h * rows as u32 + 8)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.margin(4, 4, 4, 4).split_evenly((rows, cols));
    for (d, area) in panels.iter().enumerate().take(summary.datasets.len()) {
        let per_alg: Vec<Vec<f64>> = (0..summary.algorithms.len())
            .map(|a| {
                summary
                    .cell(d, a)
                    .map_or_else(Vec::new, |c| finite(&c.values[metric]))
            })
            .collect();
        let (lo, hi, decimals) = padded_range(&finite(&per_alg.concat()));
        let title = short_title(&summary.datasets[d]);
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 16.0))
            .margin(6)
            .margin_right(10)
            .x_label_area_size(4)
            .y_label_area_size(52)
            .build_cartesian_2d(-0.6f64..(n_alg as f64 - 0.4), lo..hi)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(5)
            .max_light_lines(1)
            .y_label_formatter(&|y| format!("{y:.decimals$}"))
            .label_style((FONT, 13.0))
            .light_line_style(RGBColor(245, 245, 245))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()?;
        for (a, values) in per_alg.iter().enumerate() {
            if values.is_empty() {
                continue;
            }
            let x = a as f64;
            let BoxStats {
                q1,
                med,
                q3,
                w_lo,
                w_hi,
                fence_lo,
                fence_hi,
            } = box_stats(values);
            let c = color(a);
            let line = c.stroke_width(2);
            chart.draw_series([
                Rectangle::new([(x - 0.3, q1), (x + 0.3, q3)], c.mix(0.25).filled()),
                Rectangle::new([(x - 0.3, q1), (x + 0.3, q3)], c.stroke_width(1)),
            ])?;
            chart.draw_series([
                PathElement::new(vec![(x - 0.3, med), (x + 0.3, med)], c.stroke_width(3)),
                PathElement::new(vec![(x, q3), (x, w_hi)], line),
                PathElement::new(vec![(x, q1), (x, w_lo)], line),
                PathElement::new(vec![(x - 0.15, w_hi), (x + 0.15, w_hi)], line),
                PathElement::new(vec![(x - 0.15, w_lo), (x + 0.15, w_lo)], line),
            ])?;
            chart.draw_series(
                values
                    .iter()
                    .filter(|v| **v < fence_lo || **v > fence_hi)
                    .map(|v| Circle::new((x, *v), 3, c.stroke_width(1))),
            )?;
        }
    }
    root.present()?;
    Ok(())
}

/// The y range of a panel of sorted values, padded by 8% (0 to 1 for no values), and the
/// decimals its labels need.
fn padded_range(all: &[f64]) -> (f64, f64, usize) {
    let (mut lo, mut hi) = match (all.first(), all.last()) {
        (Some(&lo), Some(&hi)) => (lo, hi),
        _ => (0.0, 1.0),
    };
    let pad = ((hi - lo) * 0.08)
        .max(lo.abs().max(hi.abs()) * 1e-3)
        .max(1e-6);
    lo -= pad;
    hi += pad;
    let span = hi - lo;
    let decimals = if span < 0.005 {
        4
    } else if span < 0.05 {
        3
    } else {
        2
    };
    (lo, hi, decimals)
}

/// A panel's title: the task's name, cut to 34 characters.
fn short_title(name: &str) -> String {
    if name.chars().count() > 34 {
        name.chars().take(33).chain(['…']).collect()
    } else {
        name.to_string()
    }
}

/// A box plot's quartiles, whiskers (the furthest values within 1.5 IQR) and fences.
struct BoxStats {
    q1: f64,
    med: f64,
    q3: f64,
    w_lo: f64,
    w_hi: f64,
    fence_lo: f64,
    fence_hi: f64,
}

/// The box of sorted `values`.
fn box_stats(values: &[f64]) -> BoxStats {
    let (q1, med, q3) = (
        quantile(values, 0.25),
        quantile(values, 0.5),
        quantile(values, 0.75),
    );
    let iqr = q3 - q1;
    let (fence_lo, fence_hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let inside: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| *v >= fence_lo && *v <= fence_hi)
        .collect();
    BoxStats {
        q1,
        med,
        q3,
        w_lo: inside.first().copied().unwrap_or(q1),
        w_hi: inside.last().copied().unwrap_or(q3),
        fence_lo,
        fence_hi,
    }
}

/// Two panels: mean training time and mean inference time per fold for every algorithm over
/// all tasks (bars, value written at the bar), with whiskers from the fastest to the slowest
/// task's mean (times differ more between tasks than between folds).
pub fn time_bars(summary: &Summary, training: usize, inference: usize) -> Result<String> {
    let mut svg = String::new();
    draw_time_bars(&mut svg, summary, training, inference).map_err(chart_error("time"))?;
    Ok(svg)
}

/// Per algorithm, the smallest and largest per-task mean of `metric` (NaN when none).
pub fn task_mean_range(summary: &Summary, metric: usize) -> Vec<(f64, f64)> {
    (0..summary.algorithms.len())
        .map(|a| {
            let means = finite(
                &(0..summary.datasets.len())
                    .filter_map(|d| summary.cell(d, a).map(|c| c.mean(metric)))
                    .collect::<Vec<_>>(),
            );
            match (means.first(), means.last()) {
                (Some(lo), Some(hi)) => (*lo, *hi),
                _ => (f64::NAN, f64::NAN),
            }
        })
        .collect()
}

/// Per algorithm, all finite values of `metric` over every task and fold.
pub fn pooled(summary: &Summary, metric: usize) -> Vec<Vec<f64>> {
    (0..summary.algorithms.len())
        .map(|a| {
            let mut v = Vec::new();
            for d in 0..summary.datasets.len() {
                if let Some(c) = summary.cell(d, a) {
                    v.extend(c.values[metric].iter().copied().filter(|x| x.is_finite()));
                }
            }
            v
        })
        .collect()
}

fn draw_time_bars(
    svg: &mut String,
    summary: &Summary,
    training: usize,
    inference: usize,
) -> DrawResult {
    let n_alg = summary.algorithms.len().max(1);
    let height = 40 * n_alg as u32 + 90;
    let longest = summary.algorithms.iter().map(|a| a.chars().count()).max();
    let y_area = label_width(longest.unwrap_or(4)).min(300);
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(WIDTH / 2);
    for (area, metric, title) in [
        (left, training, "Training time per fold (s)"),
        (right, inference, "Inference time per fold (s)"),
    ] {
        let means: Vec<f64> = pooled(summary, metric)
            .iter()
            .map(|v| crate::summary::mean(v))
            .collect();
        let ranges = task_mean_range(summary, metric);
        let x_max = means
            .iter()
            .chain(ranges.iter().map(|(_, hi)| hi))
            .filter(|v| v.is_finite())
            .fold(0.0, |m: f64, v| m.max(*v))
            * 1.3;
        let x_max = if x_max > 0.0 { x_max } else { 1.0 };
        let n = n_alg as f64;
        let mut chart = ChartBuilder::on(&area)
            .caption(title, (FONT, 17.0))
            .margin(10)
            .margin_right(20)
            .x_label_area_size(30)
            .y_label_area_size(y_area)
            .build_cartesian_2d(0f64..x_max, 0f64..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_formatter(&|x| format::number(*x))
            .label_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .light_line_style(RGBColor(245, 245, 245))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()?;
        for (a, name) in summary.algorithms.iter().enumerate() {
            category_label(&area, &chart, name, n - a as f64 - 0.5)?;
        }
        for (a, mean) in means.iter().enumerate() {
            if !mean.is_finite() {
                continue;
            }
            let yc = n - a as f64 - 0.5;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, yc - 0.3), (*mean, yc + 0.3)],
                color(a).filled(),
            )))?;
            let mut end = *mean;
            let (lo, hi) = ranges[a];
            if lo.is_finite() && hi > lo {
                let style = BLACK.mix(0.7).stroke_width(1);
                end = end.max(hi);
                chart.draw_series([
                    PathElement::new(vec![(lo, yc), (hi, yc)], style),
                    PathElement::new(vec![(lo, yc - 0.12), (lo, yc + 0.12)], style),
                    PathElement::new(vec![(hi, yc - 0.12), (hi, yc + 0.12)], style),
                ])?;
            }
            let label = format!("{} s", format::seconds(*mean));
            chart.draw_series(std::iter::once(Text::new(
                label,
                (end + x_max * 0.015, yc),
                TextStyle::from((FONT, 14.0).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}
