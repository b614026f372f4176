//! The results directory of a study: `study.toml` (the resolved config and its hash), the cell
//! files, the log, and the merged outputs.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cell::{self, Cell, CellRecord};
use crate::config::StudyConfig;
use crate::study::Study;
use crate::{Error, Result};

/// File name of the resolved config inside a results directory.
pub const STUDY_FILE: &str = "study.toml";
/// File name of the log inside a results directory.
pub const LOG_FILE: &str = "nstudent.log";
/// One JSON line per epoch and per Noisy Student iteration of every refit (see
/// `nstudent_algo::MetricsLog`), with the cell's task, fold and algorithm.
pub const METRICS_FILE: &str = "metrics.jsonl";
const HASH_PREFIX: &str = "# config-hash: ";

/// An opened results directory, bound to one resolved study.
#[derive(Debug, Clone)]
pub struct StudyDir {
    pub dir: PathBuf,
    study: Study,
}

impl StudyDir {
    /// Opens `dir` for `config`, creating it and its `study.toml` when new.
    ///
    /// A directory made by a different config is refused with [`Error::ConfigChanged`], unless
    /// `force`: then its cells and merged outputs are moved to `superseded-<old hash>/` (never
    /// deleted) and the directory starts over.
    pub fn create(dir: &Path, study: &Study, force: bool) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (config, hash) = (study.config(), study.hash().to_string());
        match read_hash(dir)? {
            Some(found) if found == hash => {}
            Some(found) => {
                if !force {
                    return Err(Error::ConfigChanged {
                        dir: dir.to_path_buf(),
                        found,
                        expected: hash,
                    });
                }
                supersede(dir, &found)?;
                write_study_file(dir, config, &hash)?;
            }
            // Published only if absent: of two runs started together on a new directory,
            // exactly one writes its study.toml, and the other finds it and is refused above
            // on its second look (or joins it, for the same config).
            None => {
                if !write_study_file_new(dir, config, &hash)? {
                    return Self::create(dir, study, false);
                }
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            study: study.clone(),
        })
    }

    /// Opens an existing results directory with the config recorded in it.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(STUDY_FILE);
        if !path.is_file() {
            return Err(Error::Config(format!(
                "{}: no {STUDY_FILE} here; this is not an nstudent results directory (run `nstudent run --out {}` first)",
                dir.display(),
                dir.display()
            )));
        }
        let config = StudyConfig::read(&path)?;
        let hash = config.hash();
        if let Some(recorded) = read_hash(dir)? {
            if recorded != hash {
                return Err(Error::Corrupt {
                    path,
                    message: format!(
                        "records config hash {recorded} but its contents hash to {hash}: it was edited, or written by an nstudent that computes cells differently (cell protocol {}); restore it, or start a new directory", crate::config::CELL_PROTOCOL
                    ),
                });
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            study: config.resolve()?,
        })
    }

    /// The study this directory holds.
    pub fn study(&self) -> &Study {
        &self.study
    }

    /// Its declared config (what `study.toml` holds).
    pub fn config(&self) -> &StudyConfig {
        self.study.config()
    }

    /// Its config hash, which every finished cell records.
    pub fn hash(&self) -> &str {
        self.study.hash()
    }

    /// This directory with the same study run another way (threads, jobs, data directory):
    /// see [`Study::with_execution`].
    pub fn with_execution(&self, execution: crate::config::Execution) -> Result<Self> {
        Ok(Self {
            dir: self.dir.clone(),
            study: self.study.with_execution(execution)?,
        })
    }

    /// The finished record of `cell`, if its file exists and was made by this config.
    pub fn finished(&self, cell: &Cell) -> Result<Option<CellRecord>> {
        Ok(cell::read_record(&self.dir, cell)?.filter(|r| r.config_hash == self.hash()))
    }

    /// The finished records and the unfinished cells among `cells` (an unreadable cell file
    /// counts as unfinished, as it will be recomputed).
    pub fn finished_and_todo(&self, cells: &[Cell]) -> (Vec<CellRecord>, Vec<Cell>) {
        let mut records = Vec::new();
        let mut todo = Vec::new();
        for c in cells {
            match self.finished(c) {
                Ok(Some(r)) => records.push(r),
                _ => todo.push(c.clone()),
            }
        }
        (records, todo)
    }

    /// Stores a finished cell (atomically), replacing any earlier file.
    pub fn store(&self, cell: &Cell, record: &CellRecord) -> Result<()> {
        cell::write_record(&self.dir, cell, record)
    }

    /// Stores a finished cell (atomically) unless its file exists: a finished cell is never
    /// overwritten. False when another process stored it first.
    pub fn store_new(&self, cell: &Cell, record: &CellRecord) -> Result<bool> {
        let path = self.dir.join(cell.relative_path());
        if let Ok(Some(existing)) = cell::read_record(&self.dir, cell) {
            if existing.config_hash == self.hash() {
                return Ok(false);
            }
            // A cell file of another config (kept by --force's move, or foreign): replaced.
            self.store(cell, record)?;
            return Ok(true);
        }
        cell::write_record_new(&path, record)
    }

    /// Appends a timestamped line to `DIR/nstudent.log`. Logging never fails the study.
    /// Appends the JSON lines of one training to `metrics.jsonl` ([`METRICS_FILE`]), in one
    /// write, so that cells and workers writing at once do not interleave their lines.
    pub fn append_metrics(&self, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        let mut text = lines.join("\n");
        text.push('\n');
        let path = self.dir.join(METRICS_FILE);
        if let Ok(mut f) = nstudent_core::fs::open_append_no_follow(&path) {
            let _ = f.write_all(text.as_bytes());
        }
    }

    pub fn log(&self, line: &str) {
        let path = self.dir.join(LOG_FILE);
        if let Ok(mut f) = nstudent_core::fs::open_append_no_follow(&path) {
            let _ =
                f.write_all(format!("{} [{}] {line}\n", utc_now(), std::process::id()).as_bytes());
        }
    }
}

fn read_hash(dir: &Path) -> Result<Option<String>> {
    let path = dir.join(STUDY_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    match text.lines().find_map(|l| l.strip_prefix(HASH_PREFIX)) {
        Some(h) => Ok(Some(h.trim().to_string())),
        None => Err(Error::Corrupt {
            path,
            message: format!("has no \"{HASH_PREFIX}\" line; it was not written by `nstudent run`"),
        }),
    }
}

fn study_file_text(config: &StudyConfig, hash: &str) -> String {
    format!(
        "{HASH_PREFIX}{hash}\n# Written by nstudent {}; edit a copy and pass it with --config, not this file.\n{}",
        env!("CARGO_PKG_VERSION"),
        config.to_commented_toml()
    )
}

fn write_study_file(dir: &Path, config: &StudyConfig, hash: &str) -> Result<()> {
    cell::write_atomic(
        &dir.join(STUDY_FILE),
        study_file_text(config, hash).as_bytes(),
    )
}

/// Writes `study.toml` unless one is there; false when another process published first.
fn write_study_file_new(dir: &Path, config: &StudyConfig, hash: &str) -> Result<bool> {
    cell::write_new(
        &dir.join(STUDY_FILE),
        study_file_text(config, hash).as_bytes(),
    )
}

fn supersede(dir: &Path, old_hash: &str) -> Result<()> {
    let target = dir.join(format!("superseded-{old_hash}"));
    fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
    for name in [
        "cells",
        STUDY_FILE,
        "metrics_table.csv",
        "stats.json",
        "report.html",
        "metrics_table.xlsx",
    ] {
        let from = dir.join(name);
        if from.exists() {
            let mut to = target.join(name);
            let mut n = 1;
            while to.exists() {
                to = target.join(format!("{name}.{n}"));
                n += 1;
            }
            fs::rename(&from, &to).map_err(|e| Error::io(&from, e))?;
        }
    }
    Ok(())
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_config_is_refused_unless_forced_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let a = StudyConfig::preset("quick").unwrap();
        let s = StudyDir::create(dir.path(), &a.resolve().unwrap(), false).unwrap();
        let cell = crate::plan::cells(&a)[0].clone();
        let mut rec = crate::cell::tests_support::record(&cell, 0.5);
        rec.config_hash = s.hash().to_string();
        s.store(&cell, &rec).unwrap();
        // Same config again: accepted, the cell counts as finished.
        let s = StudyDir::create(dir.path(), &a.resolve().unwrap(), false).unwrap();
        assert!(s.finished(&cell).unwrap().is_some());
        // Execution settings are not part of the hash.
        let mut threads = a.clone();
        threads.execution.threads = 1;
        StudyDir::create(dir.path(), &threads.resolve().unwrap(), false).unwrap();
        let mut b = a.clone();
        b.seed = 99;
        let e = StudyDir::create(dir.path(), &b.resolve().unwrap(), false).unwrap_err();
        assert!(
            matches!(e, Error::ConfigChanged { .. }) && e.kind().is_users(),
            "{e}"
        );
        assert!(
            s.finished(&cell).unwrap().is_some(),
            "a refused run must not touch the cells"
        );
        let forced = StudyDir::create(dir.path(), &b.resolve().unwrap(), true).unwrap();
        assert!(forced.finished(&cell).unwrap().is_none());
        assert!(dir
            .path()
            .join(format!("superseded-{}", a.hash()))
            .join(cell.relative_path())
            .is_file());
        assert_eq!(StudyDir::open(dir.path()).unwrap().config(), &b);
    }

    #[test]
    fn open_needs_a_study_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = StudyDir::open(dir.path()).unwrap_err();
        assert!(
            e.to_string().contains("not an nstudent results directory"),
            "{e}"
        );
        assert!(e.kind().is_users());
    }

    #[test]
    fn utc_timestamps_are_well_formed() {
        let t = utc_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'));
    }
}
