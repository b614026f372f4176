//! Result tables of other tools, for `nstudent stats` on anyone's results:
//!
//! - **wide**: one row per dataset, a first column naming it, then one column per algorithm
//!   (what autorank and scikit-posthocs take as a DataFrame);
//! - **long**: any CSV with one value per row, its dataset, algorithm and (optionally) fold
//!   in columns the user names (what USB, TorchSSL or a hand-kept log give).
//!
//! Both become the [`FoldMeans`] matrix the tests run on, so the same numbers give the same
//! analysis whichever table carries them. Values are averaged over folds in file order, as
//! [`crate::compare::fold_means`] does for nstudent's own table.

use std::collections::HashSet;
use std::path::Path;

use crate::compare::{paired_means, FoldMeans};
use crate::{Error, Result};

/// The columns of a long table, by header name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongColumns {
    pub dataset: String,
    pub algorithm: String,
    pub value: String,
    /// Without it, each (dataset, algorithm) pair has exactly one row.
    pub fold: Option<String>,
}

/// The values a table may hold: finite, and inside `range` when the values are a metric with
/// one (`crate::table::value_range`: accuracy in [0, 1], times >= 0).
pub type Range = Option<(f64, f64)>;

/// Reads a wide table: a header `<any>,<algorithm>,...`, then one row per dataset.
pub fn read_wide(path: &Path, range: Range) -> Result<FoldMeans> {
    let fmt = |message: String| Error::Format {
        path: path.to_path_buf(),
        message,
    };
    let (mut reader, headers) = open(path)?;
    let algorithms: Vec<String> = headers
        .iter()
        .skip(1)
        .map(|h| h.trim().to_string())
        .collect();
    if algorithms.is_empty() {
        return Err(fmt(
            "a wide table needs a dataset column and one column per algorithm".into(),
        ));
    }
    check_unique(&algorithms, "algorithm column", &fmt)?;
    let mut datasets = Vec::new();
    let mut means = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| fmt(format!("line {line}: {e}")))?;
        let dataset = record.get(0).unwrap_or("").trim().to_string();
        let row = record
            .iter()
            .skip(1)
            .zip(&algorithms)
            .map(|(cell, algorithm)| {
                number(cell, range, &format!("line {line}, {algorithm}"), &fmt)
            })
            .collect::<Result<Vec<f64>>>()?;
        datasets.push(dataset);
        means.push(row);
    }
    check_unique(&datasets, "dataset", &fmt)?;
    Ok(FoldMeans {
        datasets,
        algorithms,
        means,
    })
}

/// Reads a long table with the given columns, averaging the folds of each pair.
pub fn read_long(path: &Path, columns: &LongColumns, range: Range) -> Result<FoldMeans> {
    let fmt = |message: String| Error::Format {
        path: path.to_path_buf(),
        message,
    };
    let (mut reader, headers) = open(path)?;
    let find = |name: &str, flag: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                fmt(format!(
                    "no column \"{name}\" ({flag}); the columns are: {}",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ))
            })
    };
    let d = find(&columns.dataset, "--dataset-col")?;
    let a = find(&columns.algorithm, "--algorithm-col")?;
    let v = find(&columns.value, "--value-col")?;
    let f = columns
        .fold
        .as_deref()
        .map(|name| find(name, "--fold-col"))
        .transpose()?;
    let mut datasets: Vec<String> = Vec::new();
    let mut algorithms: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| fmt(format!("line {line}: {e}")))?;
        let cell = |c: usize| record.get(c).unwrap_or("").trim().to_string();
        let (dataset, algorithm) = (cell(d), cell(a));
        let fold = f.map(cell).unwrap_or_default();
        if !seen.insert((dataset.clone(), algorithm.clone(), fold.clone())) {
            return Err(fmt(match f {
                Some(_) => format!(
                    "line {line}: fold {fold} of \"{algorithm}\" on \"{dataset}\" appears twice"
                ),
                None => format!(
                    "line {line}: \"{algorithm}\" on \"{dataset}\" appears twice; name the fold \
                     column with --fold-col to average folds"
                ),
            }));
        }
        let value = number(
            record.get(v).unwrap_or(""),
            range,
            &format!("line {line}"),
            &fmt,
        )?;
        let i = index_of(&mut datasets, dataset);
        let j = index_of(&mut algorithms, algorithm);
        entries.push((i, j, value));
    }
    let (n, k) = (datasets.len(), algorithms.len());
    let mut sums = vec![vec![0.0; k]; n];
    let mut counts = vec![vec![0usize; k]; n];
    for (i, j, value) in entries {
        sums[i][j] += value;
        counts[i][j] += 1;
    }
    paired_means(datasets, algorithms, &sums, &counts).map_err(|e| fmt(e.to_string()))
}

/// A CSV reader of `path` and its header row.
fn open(path: &Path) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(file);
    let headers = reader
        .headers()
        .map_err(|e| Error::Format {
            path: path.to_path_buf(),
            message: format!("cannot read the header: {e}"),
        })?
        .clone();
    Ok((reader, headers))
}

/// A finite number inside `range`, or an error naming where the cell is.
fn number(cell: &str, range: Range, at: &str, fmt: &impl Fn(String) -> Error) -> Result<f64> {
    let v = match cell.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => v,
        _ => {
            return Err(fmt(format!(
                "{at}: \"{}\" is not a finite number",
                cell.trim()
            )))
        }
    };
    match range {
        Some((lo, hi)) if !(lo..=hi).contains(&v) => Err(fmt(if hi.is_finite() {
            format!(
                "{at}: {v} is outside [{lo}, {hi}]; give fractions (0.87, not 87%), or name \
                 other values with --value-name"
            )
        } else {
            format!("{at}: {v} is negative, and times are not; name other values with --value-name")
        })),
        _ => Ok(v),
    }
}

fn check_unique(names: &[String], what: &str, fmt: &impl Fn(String) -> Error) -> Result<()> {
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(fmt(format!("{what} \"{name}\" appears twice")));
        }
    }
    Ok(())
}

/// The position of `name` in `names`, appended when new (order of first appearance).
fn index_of(names: &mut Vec<String>, name: String) -> usize {
    match names.iter().position(|n| *n == name) {
        Some(i) => i,
        None => {
            names.push(name);
            names.len() - 1
        }
    }
}
