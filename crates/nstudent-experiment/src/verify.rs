//! Recomputing finished cells and checking they come out bit for bit the same: what
//! `nstudent verify` does, as library functions.
//!
//! A cell is recomputed with the study's recorded config into a scratch directory, on the
//! kernels that computed it, and every field of its record must equal the stored one except
//! the execution details (times, thread count, trainings reused from the fold's cache, the
//! checksum).

use std::path::Path;

use crate::{Cell, CellRecord, Error, NestedCv, Result, RunOptions, Study, StudyDir};

/// The cells to recompute: the named ones (each must be finished), or a seeded sample of
/// `sample` finished cells. `all` is the study's number of cells, for the message of an index
/// out of range.
pub fn pick_cells(
    finished: &[Cell],
    all: usize,
    wanted: Option<&[usize]>,
    sample: usize,
    seed: u64,
) -> Result<Vec<Cell>> {
    if let Some(wanted) = wanted {
        return wanted
            .iter()
            .map(|&i| {
                finished
                    .iter()
                    .find(|c| c.index == i)
                    .cloned()
                    .ok_or_else(|| {
                        Error::Config(if i >= all {
                            format!(
                                "--cells {i}: the study has cells 0-{}",
                                all.saturating_sub(1)
                            )
                        } else {
                            format!(
                                "--cells {i}: that cell is not finished, so there is nothing to \
                                 verify"
                            )
                        })
                    })
            })
            .collect();
    }
    // A seeded partial Fisher-Yates shuffle of the finished cells.
    let mut pool = finished.to_vec();
    let mut state = seed;
    let n = sample.min(pool.len());
    for i in 0..n {
        state = crate::seed::derive(state, &["verify"]);
        let j = i + (state % (pool.len() - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(n);
    Ok(pool)
}

/// The fields of a cell record that must not change when it is recomputed: all but the
/// times, the thread count, the trainings reused from the fold's cache and the checksum.
pub fn comparable(record: &CellRecord) -> Result<serde_json::Value> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| {
                    !k.ends_with("_seconds")
                        && k != "threads"
                        && k != "reused_trainings"
                        && k != "checksum"
                });
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(record)
        .map_err(|e| Error::Internal(format!("a cell record as JSON: {e}")))?;
    strip(&mut v);
    Ok(v)
}

/// The first field where two JSON values differ, as `path: a vs b`; `None` when equal.
pub fn first_difference(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &str,
) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                first_difference(va, vb, &format!("{path}.{k}"))
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{}: {a} vs {b}", path.trim_start_matches('.'))),
    }
}

/// One recomputed cell: its stored record, the record computed again, and the first field in
/// which they differ (`None`: identical).
#[derive(Debug)]
pub struct Verified {
    pub stored: CellRecord,
    pub again: CellRecord,
    pub difference: Option<String>,
}

/// Recomputes `cell` of `study` (on its threads: [`StudyDir::with_execution`] changes them)
/// on the kernels that computed it, in a scratch directory, and compares the two records.
pub fn verify_cell(study: &StudyDir, work: &NestedCv, cell: &Cell) -> Result<Verified> {
    let stored = study
        .finished(cell)?
        .ok_or_else(|| Error::Internal(format!("cell {} vanished while verifying", cell.index)))?;
    // Recompute on the kernels that computed the cell: the paths differ in their last bits.
    // `work` itself when its engine runs them (its loaded data is kept), else a copy on them.
    let rebuilt;
    let work = if crate::runner::CellWork::kernel_path(work) == Some(stored.kernels) {
        work
    } else {
        rebuilt = work.on_kernels(stored.kernels).map_err(|e| {
            Error::Config(format!(
                "cell {}: it was computed on the {} kernels: {e}",
                cell.index, stored.kernels
            ))
        })?;
        &rebuilt
    };
    if stored.kernel_revision != stored.kernels.revision() {
        return Err(Error::Config(format!(
            "cell {}: it was computed by revision {} of the {} kernels, and this build runs \
             revision {}, which gives other bits; verify it with a build of revision {} (see \
             docs/running-studies.md, Reproducibility)",
            cell.index,
            stored.kernel_revision,
            stored.kernels,
            stored.kernels.revision(),
            stored.kernel_revision
        )));
    }
    let scratch = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut again = recompute(scratch.path(), study.study(), work, cell)?;
    // Builds before cells recorded their pseudo-labels wrote none: compare what they wrote.
    if stored.outcome.pseudo_labels.is_empty() {
        again.outcome.pseudo_labels.clear();
    }
    let difference = first_difference(&comparable(&stored)?, &comparable(&again)?, "");
    Ok(Verified {
        stored,
        again,
        difference,
    })
}

/// `cell` computed alone (on every thread of the study's budget) into a new study directory
/// at `dir`.
fn recompute(dir: &Path, study: &Study, work: &NestedCv, cell: &Cell) -> Result<CellRecord> {
    let fresh = StudyDir::create(dir, study, false)?;
    let options = RunOptions {
        only_cells: Some(vec![cell.index]),
        ..RunOptions::default()
    };
    crate::run_study(&fresh, work, &options)?;
    fresh
        .finished(cell)?
        .ok_or_else(|| Error::Internal(format!("cell {} was not recomputed", cell.index)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StudyConfig;
    use serde_json::json;

    fn cells(n: usize) -> Vec<Cell> {
        let config = StudyConfig::preset("quick").unwrap();
        crate::plan::cells(&config).into_iter().take(n).collect()
    }

    #[test]
    fn a_sample_is_seeded_distinct_and_finished() {
        let finished = cells(10);
        let a = pick_cells(&finished, 25, None, 3, 1).unwrap();
        assert_eq!(a, pick_cells(&finished, 25, None, 3, 1).unwrap());
        assert_ne!(a, pick_cells(&finished, 25, None, 3, 2).unwrap());
        let mut idx: Vec<usize> = a.iter().map(|c| c.index).collect();
        idx.sort_unstable();
        idx.dedup();
        assert_eq!(idx.len(), 3);
        assert!(a.iter().all(|c| finished.contains(c)));
        assert_eq!(pick_cells(&finished, 25, None, 99, 1).unwrap().len(), 10);
    }

    #[test]
    fn named_cells_must_exist_and_be_finished() {
        let finished = cells(4);
        assert_eq!(
            pick_cells(&finished, 25, Some(&[2]), 1, 1).unwrap()[0].index,
            2
        );
        let e = pick_cells(&finished, 25, Some(&[99]), 1, 1).unwrap_err();
        assert!(e.to_string().contains("the study has cells 0-24"), "{e}");
        let e = pick_cells(&finished, 25, Some(&[7]), 1, 1).unwrap_err();
        assert!(e.to_string().contains("not finished"), "{e}");
        assert!(e.kind().is_users());
    }

    #[test]
    fn the_first_difference_is_named_by_its_path() {
        let a = json!({"outcome": {"metrics": {"accuracy": 0.5}, "list": [1, 2]}, "x": 1});
        let mut b = a.clone();
        assert_eq!(first_difference(&a, &b, ""), None);
        b["outcome"]["list"][1] = json!(3);
        assert_eq!(
            first_difference(&a, &b, "").as_deref(),
            Some("outcome.list[1]: 2 vs 3")
        );
        b = a.clone();
        b["y"] = json!(true);
        assert_eq!(
            first_difference(&a, &b, "").as_deref(),
            Some("y: null vs true")
        );
    }
}
