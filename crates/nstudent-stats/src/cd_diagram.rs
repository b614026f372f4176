//! Critical-difference diagrams (Demšar 2006, as drawn by Orange): the mean rank of each
//! algorithm on an axis (1 = best, on the left), names on both sides joined to their rank by
//! elbow lines, the Nemenyi critical difference as a bar, and thick bars joining groups of
//! algorithms whose mean ranks differ by less than the critical difference (not significantly
//! different).
//!
//! The SVG is written directly (it is a handful of lines and labels; no plotting library
//! gives this layout). PNG output rasterises that SVG with `resvg`, using the system's fonts.

use std::fmt::Write as _;
use std::path::Path;

use crate::compare::Analysis;
use crate::{Error, Result};

const FONT: f64 = 13.0;
const ROW: f64 = 21.0;
const AXIS_Y: f64 = 64.0;
const MARGIN: f64 = 16.0;
const AXIS_WIDTH: f64 = 420.0;

/// Approximate width in pixels of `text` at the diagram's font size (sans-serif).
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT * 0.6
}

/// Groups of algorithms (indices into `ranks`) whose mean ranks all lie within `cd` of each
/// other, maximal and with at least two members, ordered by their best rank.
pub fn groups(ranks: &[f64], cd: f64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..ranks.len()).collect();
    order.sort_by(|&a, &b| ranks[a].total_cmp(&ranks[b]));
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for i in 0..order.len() {
        let mut j = i;
        while j + 1 < order.len() && ranks[order[j + 1]] - ranks[order[i]] < cd {
            j += 1;
        }
        if j > i && !spans.iter().any(|&(a, b)| a <= i && j <= b) {
            spans.push((i, j));
        }
    }
    spans
        .into_iter()
        .map(|(i, j)| order[i..=j].to_vec())
        .collect()
}

/// The critical-difference diagram of `analysis` as a standalone SVG document.
///
/// Needs the Nemenyi test, hence at least 3 algorithms.
pub fn render_svg(analysis: &Analysis) -> Result<String> {
    let nemenyi = analysis.nemenyi.as_ref().ok_or_else(|| {
        Error::Invalid(format!(
            "a critical-difference diagram needs at least 3 algorithms, the table has {}",
            analysis.algorithms.len()
        ))
    })?;
    let d = Drawing::new(analysis, nemenyi.critical_difference);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{0:.0}" height="{1:.0}" viewBox="0 0 {0:.0} {1:.0}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="{FONT}">"#,
        d.width, d.height
    );
    let _ = writeln!(
        s,
        r#"<title>Critical-difference diagram of {} (Nemenyi, alpha = {}, {} datasets)</title>"#,
        crate::markup::escape(&analysis.metric),
        analysis.alpha,
        analysis.datasets
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    d.lines(&mut s);
    d.cliques(&mut s);
    d.text(&mut s, analysis);
    let _ = writeln!(s, "</g>\n</svg>");
    Ok(s)
}

/// Where everything of one diagram goes, in SVG user units.
struct Drawing {
    k: usize,
    cd: f64,
    ranks: Vec<f64>,
    /// The better half of the algorithms (named on the left), best first.
    left: Vec<usize>,
    /// The rest (named on the right), best first.
    right: Vec<usize>,
    labels: Vec<String>,
    left_width: f64,
    right_width: f64,
    /// The axis runs from rank 1 at `x0` to rank k at `x1`.
    x0: f64,
    x1: f64,
    width: f64,
    height: f64,
    /// Groups of algorithms whose ranks differ by less than the critical difference.
    groups: Vec<Vec<usize>>,
    clique_top: f64,
    names_top: f64,
    /// The critical difference's bar: its height and its two ends.
    cd_y: f64,
    cx0: f64,
    cx1: f64,
}

impl Drawing {
    fn new(analysis: &Analysis, cd: f64) -> Self {
        let k = analysis.algorithms.len();
        let ranks: Vec<f64> = analysis.mean_ranks.iter().map(|(_, r)| *r).collect();
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| ranks[a].total_cmp(&ranks[b]));
        let (left, right) = order.split_at(k.div_ceil(2));
        let labels: Vec<String> = (0..k)
            .map(|i| format!("{} ({:.2})", analysis.algorithms[i], ranks[i]))
            .collect();
        let side_width = |side: &[usize]| {
            side.iter()
                .map(|&i| text_width(&labels[i]))
                .fold(0.0f64, f64::max)
                + 28.0
        };
        let (left_width, right_width) = (side_width(left), side_width(right).max(40.0));
        let x0 = MARGIN + left_width;
        let x1 = x0 + AXIS_WIDTH;
        let groups = groups(&ranks, cd);
        let clique_top = AXIS_Y + 14.0;
        let names_top = clique_top + groups.len() as f64 * 9.0 + 18.0;
        let rows = left.len().max(right.len()) as f64;
        let mut d = Drawing {
            k,
            cd,
            left: left.to_vec(),
            right: right.to_vec(),
            labels,
            left_width,
            right_width,
            x0,
            x1,
            width: x1 + right_width + MARGIN,
            height: names_top + (rows - 1.0) * ROW + MARGIN + 8.0,
            groups,
            clique_top,
            names_top,
            cd_y: 22.0,
            cx0: 0.0,
            cx1: 0.0,
            ranks,
        };
        // The critical difference, above the left end of the axis.
        (d.cx0, d.cx1) = (d.x(1.0), d.x(1.0 + cd).min(x1 + right_width));
        d
    }

    /// The horizontal position of a mean rank.
    fn x(&self, rank: f64) -> f64 {
        self.x0 + (rank - 1.0) / (self.k as f64 - 1.0) * AXIS_WIDTH
    }

    /// The axis with its ticks, the critical difference's bar, and the elbow lines from each
    /// rank down and out to its name.
    fn lines(&self, s: &mut String) {
        let (x0, x1, k, cd_y) = (self.x0, self.x1, self.k, self.cd_y);
        let _ = writeln!(s, r#"<g stroke="black" stroke-width="1" fill="none">"#);
        let _ = writeln!(
            s,
            r#"<line x1="{x0:.1}" y1="{AXIS_Y}" x2="{x1:.1}" y2="{AXIS_Y}"/>"#
        );
        for t in 0..=(2 * (k - 1)) {
            let r = 1.0 + t as f64 / 2.0;
            let len = if t % 2 == 0 { 8.0 } else { 4.0 };
            let _ = writeln!(
                s,
                r#"<line x1="{0:.1}" y1="{AXIS_Y}" x2="{0:.1}" y2="{1}"/>"#,
                self.x(r),
                AXIS_Y - len
            );
        }
        let (cx0, cx1) = (self.cx0, self.cx1);
        let _ = writeln!(
            s,
            r#"<line x1="{cx0:.1}" y1="{cd_y}" x2="{cx1:.1}" y2="{cd_y}" stroke-width="2"/><line x1="{cx0:.1}" y1="{0}" x2="{cx0:.1}" y2="{1}"/><line x1="{cx1:.1}" y1="{0}" x2="{cx1:.1}" y2="{1}"/>"#,
            cd_y - 4.0,
            cd_y + 4.0
        );
        for (row, &i) in self.left.iter().enumerate() {
            let y = self.names_top + row as f64 * ROW;
            let _ = writeln!(
                s,
                r#"<polyline points="{0:.1},{AXIS_Y} {0:.1},{y:.1} {1:.1},{y:.1}"/>"#,
                self.x(self.ranks[i]),
                MARGIN + self.left_width - 10.0
            );
        }
        for (row, &i) in self.right.iter().rev().enumerate() {
            let y = self.names_top + row as f64 * ROW;
            let _ = writeln!(
                s,
                r#"<polyline points="{0:.1},{AXIS_Y} {0:.1},{y:.1} {1:.1},{y:.1}"/>"#,
                self.x(self.ranks[i]),
                x1 + 10.0
            );
        }
        let _ = writeln!(s, "</g>");
    }

    /// A thick bar under each group of algorithms not significantly different.
    fn cliques(&self, s: &mut String) {
        let _ = writeln!(
            s,
            r#"<g stroke="black" stroke-width="4" stroke-linecap="round">"#
        );
        for (g, members) in self.groups.iter().enumerate() {
            let lo = members
                .iter()
                .map(|&i| self.ranks[i])
                .fold(f64::INFINITY, f64::min);
            let hi = members
                .iter()
                .map(|&i| self.ranks[i])
                .fold(f64::NEG_INFINITY, f64::max);
            let y = self.clique_top + g as f64 * 9.0;
            let _ = writeln!(
                s,
                r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/>"#,
                self.x(lo) - 4.0,
                self.x(hi) + 4.0
            );
        }
        let _ = writeln!(s, "</g>");
    }

    /// The tick numbers, the critical difference's value, the caption and the names.
    fn text(&self, s: &mut String, analysis: &Analysis) {
        let (x1, cd, cd_y) = (self.x1, self.cd, self.cd_y);
        let _ = writeln!(s, r#"<g fill="black" stroke="none">"#);
        for t in 1..=self.k {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{t}</text>"#,
                self.x(t as f64),
                AXIS_Y - 12.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">CD = {cd:.3}</text>"#,
            (self.cx0 + self.cx1) / 2.0,
            cd_y - 7.0
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{}" text-anchor="end" fill="#555">{} · mean rank (1 = best) · α = {}</text>"##,
            x1 + self.right_width,
            cd_y - 7.0,
            crate::markup::escape(&analysis.metric),
            analysis.alpha
        );
        for (row, &i) in self.left.iter().enumerate() {
            let y = self.names_top + row as f64 * ROW + FONT * 0.35;
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{y:.1}" text-anchor="end">{}</text>"#,
                MARGIN + self.left_width - 14.0,
                crate::markup::escape(&self.labels[i])
            );
        }
        for (row, &i) in self.right.iter().rev().enumerate() {
            let y = self.names_top + row as f64 * ROW + FONT * 0.35;
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{y:.1}" text-anchor="start">{}</text>"#,
                x1 + 14.0,
                crate::markup::escape(&self.labels[i])
            );
        }
    }
}

/// The diagram as PNG bytes, drawn at twice the SVG's size with the system's fonts.
///
/// Fails when the machine has no font to draw the names with (install e.g. `fonts-dejavu`,
/// or write an SVG instead).
#[cfg(feature = "png")]
pub fn render_png(analysis: &Analysis) -> Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let svg = render_svg(analysis)?;
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    if options.fontdb.is_empty() {
        return Err(Error::Invalid(
            "no system font found to draw the diagram's names into a PNG; install a font \
             package (e.g. fonts-dejavu) or write an SVG (--plot cd.svg)"
                .into(),
        ));
    }
    let tree = usvg::Tree::from_str(&svg, &options)
        .map_err(|e| Error::Internal(format!("the CD diagram's SVG does not parse: {e}")))?;
    let scale = 2.0;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or_else(|| Error::Internal("the CD diagram has an empty size".into()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| Error::Internal("cannot allocate the PNG image".into()))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| Error::Internal(format!("cannot encode the PNG image: {e}")))
}

/// Writes the diagram to `path`, as PNG when it ends in `.png` (case-insensitive), as SVG
/// when it ends in `.svg`. The file is written atomically: a temporary file in the same
/// directory is renamed over `path`, so a failure leaves no partial file behind.
pub fn write(analysis: &Analysis, path: &Path) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("svg") => render_svg(analysis)?.into_bytes(),
        #[cfg(feature = "png")]
        Some("png") => render_png(analysis)?,
        _ => {
            return Err(Error::Invalid(format!(
                "{}: the diagram's file name must end in .svg or .png",
                path.display()
            )))
        }
    };
    nstudent_core::fs::write_atomic(path, &bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Analysis, Nemenyi};

    fn analysis(names: &[&str], ranks: &[f64], cd: f64) -> Analysis {
        Analysis {
            metric: "Accuracy".into(),
            datasets: 10,
            algorithms: names.iter().map(|s| s.to_string()).collect(),
            mean_ranks: names
                .iter()
                .map(|s| s.to_string())
                .zip(ranks.iter().copied())
                .collect(),
            friedman: None,
            iman_davenport: None,
            nemenyi: Some(Nemenyi {
                p_values: vec![vec![1.0; names.len()]; names.len()],
                critical_difference: cd,
            }),
            wilcoxon_holm: Vec::new(),
            alpha: 0.05,
            lower_is_better: false,
            dataset_names: Vec::new(),
            means: Vec::new(),
        }
    }

    #[test]
    fn groups_are_maximal_runs_within_the_critical_difference() {
        // Sorted ranks 1.0 (2), 1.5 (0), 2.9 (3), 3.6 (1); CD 1.0.
        let g = groups(&[1.5, 3.6, 1.0, 2.9], 1.0);
        assert_eq!(g, vec![vec![2, 0], vec![3, 1]]);
        assert!(groups(&[1.0, 2.0, 3.0], 0.5).is_empty());
        assert_eq!(groups(&[1.0, 2.0, 3.0], 5.0), vec![vec![0, 1, 2]]);
    }

    #[test]
    fn svg_names_every_algorithm_with_its_rank_and_escapes_them() {
        let a = analysis(&["Base<line>", "NS & co", "Ens"], &[2.7, 1.2, 2.1], 1.05);
        let svg = render_svg(&a).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("Base&lt;line&gt; (2.70)"));
        assert!(svg.contains("NS &amp; co (1.20)"));
        assert!(svg.contains("CD = 1.050"));
        // Two thick bars: 1.2..2.1 and 2.1..2.7 (1.2..2.7 exceeds the CD).
        let bars = svg.split("stroke-width=\"4\"").nth(1).unwrap();
        assert_eq!(
            bars.split("</g>").next().unwrap().matches("<line").count(),
            2
        );
    }

    #[test]
    fn needs_the_nemenyi_test() {
        let mut a = analysis(&["A", "B"], &[1.0, 2.0], 1.0);
        a.nemenyi = None;
        assert!(render_svg(&a)
            .unwrap_err()
            .to_string()
            .contains("at least 3 algorithms"));
    }

    #[test]
    fn writes_atomically_and_checks_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        let a = analysis(&["A", "B", "C"], &[1.0, 2.0, 3.0], 1.0);
        let path = dir.path().join("cd.svg");
        write(&a, &path).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("</svg>"));
        let e = write(&a, &dir.path().join("cd.pdf"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(".svg or .png"), "{e}");
        let e = write(&a, &dir.path().join("missing/cd.svg")).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("cd.svg")]);
    }

    #[cfg(feature = "png")]
    #[test]
    fn png_is_a_png_when_fonts_exist() {
        let a = analysis(&["A", "B", "C"], &[1.0, 2.0, 3.0], 1.0);
        match render_png(&a) {
            Ok(bytes) => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n"),
            Err(e) => {
                assert!(e.to_string().contains("no system font"), "{e}");
                eprintln!("skipped: {e}");
            }
        }
    }
}
