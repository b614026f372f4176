//! Numeric CSV: one image per row, a label column and pixel columns.
//!
//! The file is streamed line by line (the A-Z Handwritten Alphabets CSV is ~700 MB), so memory
//! holds only the decoded `u8` pixels. Gzip-compressed files are read the same way.
//!
//! Quoted fields follow RFC 4180 (`"pixel,1"`, `"say ""hi"""`) within one line: a quoted field
//! cannot span lines, which a numeric CSV never needs. Lines are split at the delimiter by hand,
//! and a line whose quotes could hide a delimiter (a quote anywhere but at both ends of a cell)
//! is split again by the `csv` crate, the parser nstudent-stats uses. The `csv` crate does not
//! read every line because it halves the speed: on the 677 MB A-Z layout
//! (`cargo run --release -p nstudent-data --example read_speed az 372450`, runs interleaved on
//! one machine) it took 4.7-5.2 s where splitting by hand takes 2.4-3.9 s, best 4.7 s against
//! 2.4 s; splitting by hand with this check for quotes keeps the old speed. What the `csv`
//! crate would add, a delimiter inside quotes, occurs in header names, not in pixel rows.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{numbered_classes, GZIP_MAGIC};
use crate::{Dataset, Error, ImageShape, Result};

/// Where the label is in each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelColumn {
    First,
    Last,
    /// Zero-based column index.
    Index(usize),
}

impl std::str::FromStr for LabelColumn {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "first" => Ok(LabelColumn::First),
            "last" => Ok(LabelColumn::Last),
            other => other.parse().map(LabelColumn::Index).map_err(|_| {
                Error::Invalid(format!(
                    "label column `{s}` is not valid: use `first`, `last` or a zero-based column number"
                ))
            }),
        }
    }
}

/// How to read a CSV file. The defaults read the common layout: an optional header row
/// (detected), the label in the first column (or in a header column named `label`, `target`,
/// `class` or `y`), pixels 0-255 forming a square grey image (or a square RGB image, channels
/// last, when the pixel count is 3 times a square).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Label column; `None` detects it from the header, else takes the first column.
    pub label_column: Option<LabelColumn>,
    /// Image shape; `None` infers a square grey or RGB image from the pixel count.
    pub shape: Option<ImageShape>,
    /// Largest pixel value; values are scaled to 0-255 by `255 / max_value` (16 for the
    /// scikit-learn digits, 1 for pixels in [0, 1]). `None`: values must be integers 0-255.
    pub max_value: Option<f64>,
    /// Whether the first row is a header; `None` detects it (a non-numeric cell).
    pub header: Option<bool>,
    /// Class names; `None` numbers the classes `0..=max label`.
    pub class_names: Option<Vec<String>>,
    /// Field separator.
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            label_column: None,
            shape: None,
            max_value: None,
            header: None,
            class_names: None,
            delimiter: b',',
        }
    }
}

/// Opens a possibly gzip-compressed file for buffered reading.
fn open_text(path: &Path) -> Result<Box<dyn BufRead>> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 2];
    let n = read_up_to(&mut file, &mut head).map_err(|e| Error::io(path, e))?;
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0))
        .map_err(|e| Error::io(path, e))?;
    Ok(if n == 2 && head == GZIP_MAGIC {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, file)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, file))
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A cell's numeric value: integers take a fast path, anything else goes through `f64`.
fn parse_number(cell: &[u8]) -> Option<f64> {
    if !cell.is_empty() && cell.len() <= 9 && cell.iter().all(u8::is_ascii_digit) {
        let mut v: u32 = 0;
        for &b in cell {
            v = v * 10 + u32::from(b - b'0');
        }
        return Some(f64::from(v));
    }
    std::str::from_utf8(cell)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// A cell of 1-3 ASCII digits holding 0-255.
#[inline]
fn small_int(cell: &[u8]) -> Option<u8> {
    let mut v: u16 = 0;
    for &b in cell {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u16::from(d);
    }
    u8::try_from(v).ok()
}

#[inline]
fn trim(cell: &[u8]) -> &[u8] {
    match (cell.first(), cell.last()) {
        (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => return cell,
        _ => {}
    }
    let cell = cell.trim_ascii();
    // Numbers are sometimes quoted.
    if cell.len() >= 2 && cell[0] == b'"' && cell[cell.len() - 1] == b'"' {
        cell[1..cell.len() - 1].trim_ascii()
    } else {
        cell
    }
}

/// True when `cell` (a piece of a line split at every delimiter) holds no quote, or holds one
/// quoted field with no quote inside: then no delimiter was inside quotes, and splitting at
/// every delimiter read the line as a CSV parser would.
fn plainly_quoted(cell: &[u8]) -> bool {
    match cell.trim_ascii() {
        [b'"', inner @ .., b'"'] => !inner.contains(&b'"'),
        c => !c.contains(&b'"'),
    }
}

/// Splits one line with quoted fields into `record` (RFC 4180: a delimiter or a doubled quote
/// inside quotes is text).
fn split_quoted(
    line: &[u8],
    delim: u8,
    record: &mut csv::ByteRecord,
    path: &Path,
    line_no: usize,
) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(line);
    match reader.read_byte_record(record) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::format(
            path,
            format!("line {line_no} is not readable as CSV ({e}): fix its quotes"),
        )),
    }
}

/// The image shape of a row of `pixels` values when none is given: a square grey image, else a
/// square RGB one (channels last). Public for the Python estimator's flat arrays.
pub fn infer_shape(pixels: usize) -> Option<ImageShape> {
    let side = |n: usize| {
        let s = (n as f64).sqrt().round() as usize;
        (s > 1 && s * s == n).then_some(s)
    };
    if let Some(s) = side(pixels) {
        Some(ImageShape::new(s, s, 1))
    } else if pixels.is_multiple_of(3) {
        side(pixels / 3).map(|s| ImageShape::new(s, s, 3))
    } else {
        None
    }
}

/// A CSV file as read: its images, and the header row when one was detected (not given with
/// `CsvOptions::header`), so that the caller can say so: a first row dropped as a header is
/// never dropped silently.
#[derive(Debug)]
pub struct CsvRead {
    pub data: Dataset,
    /// The detected header's first cells, for a note ("label, pixel1, pixel2, ...").
    pub detected_header: Option<String>,
}

/// Reads a CSV file (plain or gzip) into a dataset.
pub fn read(path: &Path, options: &CsvOptions, source: &str) -> Result<CsvRead> {
    let reader = open_text(path)?;
    let size = std::fs::metadata(path).map(|m| m.len()).ok();
    read_rows(
        reader,
        path,
        options,
        source,
        size.filter(|_| !is_gz_name(path)),
    )
}

fn is_gz_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Reads CSV rows from any buffered reader (`path` names the file in messages).
pub fn read_from(
    reader: impl BufRead,
    path: &Path,
    options: &CsvOptions,
    source: &str,
) -> Result<CsvRead> {
    read_rows(reader, path, options, source, None)
}

/// `text_size`: bytes of uncompressed text, when known, to size the pixel buffer once (the
/// A-Z CSV would otherwise briefly need twice its ~290 MB of pixels while the buffer grows).
fn read_rows(
    mut reader: impl BufRead,
    path: &Path,
    options: &CsvOptions,
    source: &str,
    text_size: Option<u64>,
) -> Result<CsvRead> {
    let scale = pixel_scale(options.max_value)?;
    let mut line = Vec::with_capacity(1 << 14);
    let mut quoted = csv::ByteRecord::new();
    let mut line_no = 0usize;
    let mut layout: Option<Layout> = None;
    let mut pixels: Vec<u8> = Vec::new();
    let mut labels: Vec<u16> = Vec::new();
    let mut detected_header = None;
    let budget = super::data_budget();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| read_error(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if trim(&line).is_empty() {
            continue;
        }
        let cells = split_cells(&line, options.delimiter, &mut quoted, path, line_no)?;
        let row_layout = match layout {
            Some(l) => l,
            None => {
                let l = Layout::of_first_row(&cells, options, path, line_no)?;
                if let Some(size) = text_size {
                    reserve_rows(size, line.len(), l.width - 1, &mut pixels, &mut labels);
                }
                layout = Some(l);
                if l.is_header {
                    if options.header.is_none() {
                        detected_header = Some(header_preview(&cells));
                    }
                    continue;
                }
                l
            }
        };
        push_row(
            &cells,
            row_layout,
            scale,
            path,
            line_no,
            &mut pixels,
            &mut labels,
        )?;
        if pixels.len() as u64 > budget {
            return Err(super::over_budget(
                path,
                &format!(
                    "its first {line_no} lines hold {} bytes of pixels",
                    pixels.len()
                ),
            ));
        }
    }
    // Without a first row, only a shape that was given is known.
    let Some(shape) = layout.map(|l| l.shape).or(options.shape) else {
        return Err(Error::format(path, "holds zero images: the file is empty"));
    };
    if labels.is_empty() {
        return Err(Error::format(path, "holds zero images: only a header row"));
    }
    let class_names = class_names(options.class_names.as_ref(), &labels, path)?;
    Ok(CsvRead {
        data: Dataset::new(pixels, labels, shape, class_names, source)?,
        detected_header,
    })
}

/// The first cells of a header row, for a note: "label, pixel1, pixel2, ... (785 columns)".
fn header_preview(cells: &[&[u8]]) -> String {
    let shown: Vec<String> = cells
        .iter()
        .take(3)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    match cells.len() {
        n if n > 3 => format!("{}, ... ({n} columns)", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// Whether a first row that is not all numbers is a header: its first cell is text (a label
/// column's name, or pandas' empty index header), or at least half its cells are. A row of
/// numbers with a stray `nan`, `inf` or word in it is neither a header nor an image, and is
/// refused naming the cell, as the same row further down would be.
fn first_row_is_header(cells: &[&[u8]], path: &Path, line_no: usize) -> Result<bool> {
    let is_text = |c: &[u8]| {
        parse_number(c).is_none()
            && std::str::from_utf8(c)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .is_none()
    };
    let texts = cells.iter().filter(|c| is_text(c)).count();
    if cells.first().is_some_and(|c| is_text(c)) || 2 * texts >= cells.len() {
        return Ok(true);
    }
    let (col, cell) = cells
        .iter()
        .enumerate()
        .find(|(_, c)| parse_number(c).is_none())
        .map(|(i, c)| (i, String::from_utf8_lossy(c).into_owned()))
        .unwrap_or_default();
    Err(Error::format(
        path,
        format!(
            "line {line_no}, column {col}: \"{cell}\" is not a pixel value, and the row is not a \
             header (its other cells are numbers): fix the cell, or pass --header if the row is \
             a header"
        ),
    ))
}

/// The factor that scales pixel values to 0-255 (`255 / max_value`); `None` when the values
/// must be integers 0-255 already. Public so that other readers of numbers (the Python
/// estimator's float arrays) scale pixels exactly as a CSV's are.
pub fn pixel_scale(max_value: Option<f64>) -> Result<Option<f64>> {
    match max_value {
        Some(m) if !(m > 0.0 && m.is_finite()) => Err(Error::Invalid(format!(
            "maximum pixel value {m} must be a positive number"
        ))),
        Some(m) => Ok(Some(255.0 / m)),
        None => Ok(None),
    }
}

/// The byte a pixel value becomes: with a `scale` ([`pixel_scale`]), `round(v * scale)` for
/// `v` in `[0, 255 / scale]`; without one, `v` itself when it is an integer 0-255. `None` for
/// any other value, NaN included.
pub fn pixel_value_byte(v: f64, scale: Option<f64>) -> Option<u8> {
    match scale {
        Some(s) => (0.0..=255.0 / s)
            .contains(&v)
            .then(|| (v * s).round() as u8),
        None => ((0.0..=255.0).contains(&v) && v.fract() == 0.0).then_some(v as u8),
    }
}

/// The error of a failed read: corrupt gzip data is a format error, anything else an I/O one.
fn read_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::InvalidData || e.kind() == std::io::ErrorKind::UnexpectedEof
    {
        Error::format(
            path,
            format!(
                "unreadable gzip data ({e}): the file is truncated or corrupt; download it again"
            ),
        )
    } else {
        Error::io(path, e)
    }
}

/// The trimmed cells of one line: split at every delimiter, or by the `csv` crate when quotes
/// could hide a delimiter.
fn split_cells<'a>(
    line: &'a [u8],
    delim: u8,
    quoted: &'a mut csv::ByteRecord,
    path: &Path,
    line_no: usize,
) -> Result<Vec<&'a [u8]>> {
    if line.contains(&b'"') && !line.split(|&b| b == delim).all(plainly_quoted) {
        split_quoted(line, delim, quoted, path, line_no)?;
        let quoted: &'a csv::ByteRecord = quoted;
        Ok(quoted.iter().map(trim).collect())
    } else {
        Ok(line.split(|&b| b == delim).map(trim).collect())
    }
}

/// The layout every row must have, set by the first non-empty line.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Cells per row: the label and the pixels.
    width: usize,
    label_col: usize,
    shape: ImageShape,
    /// The first line is a header, not an image.
    is_header: bool,
}

impl Layout {
    /// The layout `options` and the first line's `cells` give: whether it is a header, which
    /// column holds the label, and the image shape (given, or inferred from the pixel count).
    fn of_first_row(
        cells: &[&[u8]],
        options: &CsvOptions,
        path: &Path,
        line_no: usize,
    ) -> Result<Layout> {
        let numeric = cells.iter().all(|c| parse_number(c).is_some());
        let is_header = match options.header {
            Some(h) => h,
            None => !numeric && first_row_is_header(cells, path, line_no)?,
        };
        let label_col = match options.label_column {
            Some(LabelColumn::First) => 0,
            Some(LabelColumn::Last) => cells.len().saturating_sub(1),
            Some(LabelColumn::Index(i)) => i,
            None if is_header => cells
                .iter()
                .position(|c| {
                    let c = String::from_utf8_lossy(c).to_ascii_lowercase();
                    matches!(c.as_str(), "label" | "labels" | "target" | "class" | "y")
                })
                .unwrap_or(0),
            None => 0,
        };
        if label_col >= cells.len() {
            return Err(Error::format(
                path,
                format!(
                    "label column {label_col} does not exist: line {line_no} has {} columns (numbered from 0)",
                    cells.len()
                ),
            ));
        }
        if cells.len() < 2 {
            return Err(Error::format(
                path,
                format!(
                    "line {line_no} has {} column: a label and pixel columns are needed",
                    cells.len()
                ),
            ));
        }
        let npix = cells.len() - 1;
        let shape = image_shape(options.shape, npix, path)?;
        Ok(Layout {
            width: cells.len(),
            label_col,
            shape,
            is_header,
        })
    }
}

/// The image shape of rows with `npix` pixels: `given`, when it has that many pixels, else a
/// square grey or RGB image.
fn image_shape(given: Option<ImageShape>, npix: usize, path: &Path) -> Result<ImageShape> {
    match given {
        Some(s) if s.len() != npix => Err(Error::format(
            path,
            format!(
                "rows have {npix} pixel columns but the image shape {s} needs {}: fix the \
                 shape or the label column",
                s.len()
            ),
        )),
        Some(s) => Ok(s),
        None => infer_shape(npix).ok_or_else(|| {
            Error::format(
                path,
                format!(
                    "rows have {npix} pixel columns, which is not a square grey or RGB \
                     image: give the shape (e.g. --shape 28x28x1)"
                ),
            )
        }),
    }
}

/// Reserves room for the rows of a `text_size`-byte file whose first line is `line_len` bytes.
fn reserve_rows(
    text_size: u64,
    line_len: usize,
    npix: usize,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<u16>,
) {
    // Rows of similar length: estimate the row count from the first row, plus 5%.
    let rows = (text_size as f64 / line_len.max(1) as f64 * 1.05) as usize;
    // Every pixel takes at least two bytes of text (a digit and a separator).
    let cap = (text_size / 2) as usize;
    pixels.reserve(rows.saturating_mul(npix).min(cap));
    labels.reserve(rows.min(cap / npix.max(1)));
}

/// Appends the label and pixels of one data row.
fn push_row(
    cells: &[&[u8]],
    layout: Layout,
    scale: Option<f64>,
    path: &Path,
    line_no: usize,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<u16>,
) -> Result<()> {
    let w = layout.width;
    if cells.len() != w {
        return Err(Error::format(
            path,
            format!(
                "line {line_no} has {} columns, expected {w} (a label and {} pixels) like the \
                 first row: the file is truncated or malformed",
                cells.len(),
                w - 1
            ),
        ));
    }
    let lc = layout.label_col;
    for (col, cell) in cells.iter().enumerate() {
        // Fast path for the common case: a plain 0-255 integer pixel, no scaling.
        if col != lc && scale.is_none() && (1..=3).contains(&cell.len()) {
            if let Some(v) = small_int(cell) {
                pixels.push(v);
                continue;
            }
        }
        let Some(v) = parse_number(cell) else {
            return Err(Error::format(
                path,
                format!(
                    "line {line_no}, column {}: `{}` is not a number",
                    col + 1,
                    String::from_utf8_lossy(cell)
                ),
            ));
        };
        if col == lc {
            labels.push(label_value(v, cell, path, line_no)?);
        } else {
            pixels.push(pixel_byte(v, scale, path, line_no, col)?);
        }
    }
    Ok(())
}

/// The class number a label cell holding `v` gives.
fn label_value(v: f64, cell: &[u8], path: &Path, line_no: usize) -> Result<u16> {
    if v < 0.0 || v.fract() != 0.0 || v > f64::from(u16::MAX) {
        return Err(Error::format(
            path,
            format!(
                "line {line_no}: label `{}` is not a class number (0, 1, 2, ...)",
                String::from_utf8_lossy(cell)
            ),
        ));
    }
    Ok(v as u16)
}

/// The 0-255 pixel a cell (column `col`) holding `v` gives, scaled by `scale` when set.
fn pixel_byte(v: f64, scale: Option<f64>, path: &Path, line_no: usize, col: usize) -> Result<u8> {
    if let Some(byte) = pixel_value_byte(v, scale) {
        return Ok(byte);
    }
    let message = match scale {
        Some(s) => format!(
            "line {line_no}, column {}: pixel value {v} is outside 0-{}; fix the maximum pixel \
             value",
            col + 1,
            255.0 / s
        ),
        None => format!(
            "line {line_no}, column {}: pixel value {v} is not an integer 0-255; if pixels use \
             another range give its maximum (e.g. --max-value 1 or 16)",
            col + 1
        ),
    };
    Err(Error::format(path, message))
}

/// The class names: `given` (every label must name one), or numbers up to the largest label.
fn class_names(given: Option<&Vec<String>>, labels: &[u16], path: &Path) -> Result<Vec<String>> {
    let Some(names) = given else {
        return Ok(numbered_classes(
            usize::from(labels.iter().copied().max().unwrap_or(0)) + 1,
        ));
    };
    if let Some((i, &bad)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| usize::from(l) >= names.len())
    {
        return Err(Error::format(
            path,
            format!(
                "label {bad} of image {} is out of range: this dataset has {} classes (0-{})",
                i + 1,
                names.len(),
                names.len().saturating_sub(1)
            ),
        ));
    }
    Ok(names.clone())
}
