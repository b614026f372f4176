//! Reading the inputs of `nstudent score`: a CSV of true labels and a CSV of class
//! probabilities, as written by `nstudent predict`, pandas or numpy.
//!
//! Both files may start with a header line (any first line that does not parse as numbers),
//! and both may have a leading index column, as pandas' `to_csv()` writes it (a header whose
//! first cell is empty).

use std::path::Path;

use crate::{Error, Result};

/// Class probabilities, one row per sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Probabilities {
    /// Row-major `rows x num_classes`.
    pub values: Vec<f32>,
    pub num_classes: usize,
    /// Rows whose sum differs from 1 by more than 1e-3 (a hint that the file holds scores or
    /// logits rather than probabilities; the metrics are still defined for them).
    pub rows_not_summing_to_one: usize,
    /// 1-based line and sum of the first such row.
    pub first_bad_sum: Option<(usize, f64)>,
}

impl Probabilities {
    pub fn rows(&self) -> usize {
        self.values.len() / self.num_classes.max(1)
    }
}

/// Lines of a CSV file as trimmed cells, with their 1-based line numbers; blank lines skipped.
fn records(path: &Path) -> Result<Vec<(usize, Vec<String>)>> {
    let format = |message: String| Error::Format {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file);
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::Io(_) => format(format!("cannot read: {e}")),
            csv::ErrorKind::Utf8 { .. } => {
                format("is not a UTF-8 text CSV file (is it a binary file?)".into())
            }
            _ => format(e.to_string()),
        })?;
        let line = record
            .position()
            .map_or(out.len() + 1, |p| p.line() as usize);
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        out.push((line, cells));
    }
    Ok(out)
}

/// Removes a header line (when its cells do not all parse) and reports whether the file has
/// an id column: pandas' index (the header's first cell empty), or `nstudent predict`'s `row`
/// or `file` column (also `index` or `id`).
fn strip_header(rows: &mut Vec<(usize, Vec<String>)>) -> bool {
    let Some((_, first)) = rows.first() else {
        return false;
    };
    let numeric = first.iter().all(|c| c.parse::<f64>().is_ok());
    if numeric {
        return false;
    }
    let id = first[0].trim().to_ascii_lowercase();
    let index_column =
        first.len() > 1 && matches!(id.as_str(), "" | "row" | "file" | "index" | "id");
    rows.remove(0);
    index_column
}

/// True class labels: one non-negative integer per line (a single column, or an index column
/// and the labels).
pub fn read_labels(path: &Path) -> Result<Vec<u16>> {
    let format = |message: String| Error::Format {
        path: path.to_path_buf(),
        message,
    };
    let mut rows = records(path)?;
    let index_column = strip_header(&mut rows);
    if rows.is_empty() {
        return Err(format("holds no labels".into()));
    }
    let want = if index_column { 2 } else { 1 };
    let mut labels = Vec::with_capacity(rows.len());
    for (line, cells) in rows {
        if cells.len() != want {
            return Err(format(format!(
                "line {line} has {} columns; a labels file has one column of class numbers \
                 (were --labels and --proba swapped?)",
                cells.len()
            )));
        }
        let cell = &cells[want - 1];
        let label = cell
            .parse::<f64>()
            .ok()
            .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= u16::MAX as f64)
            .ok_or_else(|| {
                format(format!(
                    "line {line}: \"{cell}\" is not a class label (a whole number from 0)"
                ))
            })?;
        labels.push(label as u16);
    }
    Ok(labels)
}

/// Class probabilities: one row per sample, one column per class, every row as long.
pub fn read_probabilities(path: &Path) -> Result<Probabilities> {
    let format = |message: String| Error::Format {
        path: path.to_path_buf(),
        message,
    };
    let mut rows = records(path)?;
    let skip = usize::from(strip_header(&mut rows));
    let Some((_, first)) = rows.first() else {
        return Err(format("holds no probabilities".into()));
    };
    let num_classes = first.len() - skip;
    if num_classes < 2 {
        return Err(format(format!(
            "has {num_classes} probability column; it needs one column per class (at least 2)"
        )));
    }
    let mut values = Vec::with_capacity(rows.len() * num_classes);
    let mut rows_not_summing_to_one = 0;
    let mut first_bad_sum = None;
    for (line, cells) in &rows {
        if cells.len() - skip != num_classes {
            return Err(format(format!(
                "line {line} has {} probabilities but the first row has {num_classes}",
                cells.len() - skip
            )));
        }
        let mut sum = 0.0f64;
        for (col, cell) in cells[skip..].iter().enumerate() {
            let v = cell
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    format(format!(
                        "line {line}, column {}: \"{cell}\" is not a finite number",
                        col + 1 + skip
                    ))
                })?;
            // Scores may not sum to 1 (a warning says so), but no score is below 0: AUC and
            // the PR curve rank them, and a negative one is no model's output.
            if v < 0.0 {
                return Err(format(format!(
                    "line {line}, column {}: {v} is negative; give class probabilities (or \
                     scores >= 0, such as softmax outputs)",
                    col + 1 + skip
                )));
            }
            sum += v;
            values.push(v as f32);
        }
        if (sum - 1.0).abs() > 1e-3 {
            rows_not_summing_to_one += 1;
            first_bad_sum.get_or_insert((*line, sum));
        }
    }
    Ok(Probabilities {
        values,
        num_classes,
        rows_not_summing_to_one,
        first_bad_sum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn negative_probabilities_are_refused_naming_the_cell() {
        let e = read_probabilities(file("p0,p1\n0.25,0.75\n1.2,-0.2\n").path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, column 2: -0.2 is negative"), "{e}");
        assert!(read_probabilities(file("p0,p1\n0.25,0.75\n1.2,0\n").path()).is_ok());
    }

    #[test]
    fn reads_plain_headed_and_pandas_files() {
        assert_eq!(
            read_labels(file("1\n0\n2\n").path()).unwrap(),
            vec![1, 0, 2]
        );
        assert_eq!(
            read_labels(file("label\n1\n\n0\n").path()).unwrap(),
            vec![1, 0]
        );
        assert_eq!(
            read_labels(file(",0\n0,3\n1,1.0\n").path()).unwrap(),
            vec![3, 1]
        );
        let p = read_probabilities(file("p0,p1\n0.25,0.75\n1,0\n").path()).unwrap();
        assert_eq!((p.values, p.num_classes), (vec![0.25, 0.75, 1.0, 0.0], 2));
        let p = read_probabilities(file(",0,1,2\n0,0.2,0.3,0.5\n1,0.5,0.5,0.5\n").path()).unwrap();
        assert_eq!(p.num_classes, 3);
        assert_eq!(p.rows(), 2);
        assert_eq!(
            (p.rows_not_summing_to_one, p.first_bad_sum),
            (1, Some((3, 1.5)))
        );
    }

    #[test]
    fn names_the_line_of_bad_input() {
        let e = read_labels(file("1\n2\nx\n").path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("\"x\""), "{e}");
        let e = read_labels(file("1\n-1\n").path()).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = read_labels(file("0.5,0.5\n").path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("swapped"), "{e}");
        let e = read_labels(file("").path()).unwrap_err().to_string();
        assert!(e.contains("no labels"), "{e}");
        let e = read_probabilities(file("0.5,0.5\n0.5\n").path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2 has 1"), "{e}");
        let e = read_probabilities(file("0.5,0.5\n0.5,nan\n").path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column 2"), "{e}");
        let e = read_probabilities(file("a,b\n").path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no probabilities"), "{e}");
        let e = read_probabilities(file("1\n0\n").path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("one column per class"), "{e}");
    }
}
