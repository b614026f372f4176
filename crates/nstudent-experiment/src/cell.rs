//! Cells: one (task, outer fold, algorithm) of a study, its result, and its file
//! `DIR/cells/<task>/<fold>/<algorithm>.json`, written atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use nstudent_report::{Setting, SettingValue, Settings};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};
use nstudent_algo::Algorithm;
use nstudent_engine::KernelPath;

/// One unit of work: an algorithm evaluated on one outer fold of one task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cell {
    /// Position in the study's cell order (task, then fold, then algorithm); shards take
    /// the cells whose index is congruent to their shard index.
    pub index: usize,
    pub task: String,
    /// 1-based outer fold.
    pub fold: usize,
    pub algorithm: Algorithm,
}

impl Cell {
    /// The cell file, relative to the study directory.
    pub fn relative_path(&self) -> PathBuf {
        Path::new("cells")
            .join(path_component(&self.task))
            .join(self.fold.to_string())
            .join(format!("{}.json", self.algorithm.name()))
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} fold {} {}", self.task, self.fold, self.algorithm)
    }
}

/// A task name as a portable directory name (`mnist:0-4` -> `mnist_0-4`).
pub fn path_component(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Hyperparameters of one candidate (or the chosen one) of the inner search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Fraction of the training part per student iteration (slice schedule); `None` when every
    /// iteration sees the whole pool (`pseudo.unlabeled = "all"`), where it has no meaning.
    pub unl_factor: Option<f64>,
    pub threshold: f64,
    pub num_students: usize,
    /// 1 for Noisy Student.
    pub ensemble_size: usize,
}

impl Hyperparameters {
    /// The base config with this candidate's values.
    pub fn apply(
        &self,
        base: nstudent_algo::CheckedConfig,
    ) -> nstudent_algo::Result<nstudent_algo::CheckedConfig> {
        base.with_candidate(
            self.unl_factor,
            self.threshold,
            self.num_students,
            self.ensemble_size,
        )
    }

    /// This candidate's values by name, in the order the original study's table lists them
    /// (`ensemble_size` for the ensemble only; `unl_factor` is `all` without a slice schedule):
    /// what the report shows and counts, and what [`Self::table_text`] writes.
    pub fn settings(&self, algorithm: Algorithm) -> Settings {
        let unl_factor = self.unl_factor.map_or_else(
            || SettingValue::Text("all".to_string()),
            SettingValue::Number,
        );
        let mut settings = vec![
            Setting::new("unl_factor", unl_factor),
            Setting::new("threshold", SettingValue::Number(self.threshold)),
            Setting::new("num_of_students", SettingValue::Count(self.num_students)),
        ];
        if algorithm == Algorithm::Ensemble {
            settings.push(Setting::new(
                "ensemble_size",
                SettingValue::Count(self.ensemble_size),
            ));
        }
        Settings(settings)
    }

    /// The text of the table's "Hyper-Parameters Values" column, as the original study wrote it
    /// (e.g. `unl_factor: 0.2, threshold: 0.8, num_of_students: 2`): the text of
    /// [`Self::settings`].
    pub fn table_text(&self, algorithm: Algorithm) -> String {
        self.settings(algorithm).to_string()
    }
}

/// The inner search's score of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    pub hyperparameters: Hyperparameters,
    /// Validation accuracy on each inner fold (fewer than the inner folds when successive
    /// halving dropped the candidate early).
    pub inner_accuracy: Vec<f64>,
    /// Mean of `inner_accuracy`.
    pub mean_accuracy: f64,
    /// Epochs per training at which these scores were measured.
    pub epochs: usize,
}

/// The test-fold metrics, as `nstudent score` computes them (stored with the same field
/// names).
pub use nstudent_stats::metrics::Scores as CellMetrics;

/// The first teacher of a Noisy Student or Ensemble cell, measured on the test fold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TeacherRecord {
    /// The first teacher (member 0 of an ensemble's teachers): the same model as the fold's
    /// Baseline, so these equal the Baseline cell's metrics.
    pub metrics: CellMetrics,
    /// The averaged teacher ensemble, for the ensemble algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble_metrics: Option<CellMetrics>,
}

/// What computing a cell produced (everything but the cell's identity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellOutcome {
    /// The chosen hyperparameters; `None` for the baseline.
    pub hyperparameters: Option<Hyperparameters>,
    pub metrics: CellMetrics,
    /// The refit's first teacher on the test fold; `None` for the baseline (and in cell files
    /// of builds before teachers were paired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher: Option<TeacherRecord>,
    /// Wall time of the refit on the outer training part (all models of the chosen
    /// configuration), in seconds.
    pub training_seconds: f64,
    /// Wall time of predicting the test fold, in seconds.
    pub inference_seconds: f64,
    /// Every candidate's inner score, in search order.
    pub search: Vec<CandidateScore>,
    /// Models trained for this cell, search and refit together.
    pub trainings: usize,
    /// Wall time of the whole cell, in seconds.
    pub cell_seconds: f64,
    pub train_size: usize,
    pub test_size: usize,
    /// Images of the separate unlabeled set every fold pseudo-labeled (`[data] unlabeled`);
    /// `None` when the pool was the training part's other rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabeled_size: Option<usize>,
    /// The refit's pseudo-labels, one record per Noisy Student iteration; empty for the
    /// algorithms without students (and in cell files of builds before it was recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pseudo_labels: Vec<PseudoLabelRecord>,
    /// Of `trainings`, the models this computation did not train because another cell of the
    /// fold had trained them (the Noisy Student search the Ensemble reuses, from the fold's
    /// cache). An execution detail like the times: the results are the same bits either way.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reused_trainings: usize,
    /// Anything the user should know (e.g. "no pseudo-label passed the threshold").
    pub notes: Vec<String>,
}

/// How far outside [0, 1] a computed metric may lie: sums of floating-point fractions round
/// (average precision of a perfect ranking can be 1.0000000000000004).
const ROUNDING: f64 = 1e-9;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The pseudo-labels of one Noisy Student iteration of a cell's refit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PseudoLabelRecord {
    /// 1-based.
    pub iteration: usize,
    /// Unlabeled rows the teacher predicted in this iteration.
    pub predicted: usize,
    /// Pseudo-labels that passed the threshold, in all (the sum of `kept_per_class`).
    pub kept: usize,
    /// Pseudo-labels per class that passed the threshold, before balancing.
    pub kept_per_class: Vec<usize>,
    /// Pseudo-labeled rows per class the student trained on, after balancing.
    pub trained_per_class: Vec<usize>,
}

impl PseudoLabelRecord {
    /// One record per iteration of a chain.
    pub fn of_chain(iterations: &[nstudent_algo::IterationReport]) -> Vec<Self> {
        iterations
            .iter()
            .map(|it| PseudoLabelRecord {
                iteration: it.iteration,
                predicted: it.predicted_rows,
                kept: it.kept_per_class.iter().sum(),
                kept_per_class: it.kept_per_class.clone(),
                trained_per_class: it.trained_per_class.clone(),
            })
            .collect()
    }
}

/// A finished cell as stored in its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRecord {
    pub task: String,
    pub fold: usize,
    pub algorithm: Algorithm,
    /// Hash of the study config that produced it ([`crate::StudyConfig::hash`]).
    pub config_hash: String,
    /// The cell's seed, derived from the study seed.
    pub seed: u64,
    /// Threads each training of this cell used.
    pub threads: usize,
    /// The engine kernels that computed it: a cell is recomputed bit for bit on the same path
    /// (`nstudent verify` switches to it). Records written before the AVX-512 path existed
    /// have no such field and were computed on the portable path.
    #[serde(default = "portable_kernels")]
    pub kernels: KernelPath,
    /// The revision of those kernels ([`KernelPath::revision`]); records written before
    /// revisions were recorded have none and were computed by revision 1.
    #[serde(default = "first_revision")]
    pub kernel_revision: u32,
    #[serde(flatten)]
    pub outcome: CellOutcome,
    /// A digest of the rest of the record ([`CellRecord::content_checksum`]), written with it:
    /// a file edited by hand no longer matches it, so readers refuse it and `verify` tells an
    /// edit from a cell that another build or CPU family computed. Cells written before it
    /// have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

fn portable_kernels() -> KernelPath {
    KernelPath::Portable
}

fn first_revision() -> u32 {
    1
}

impl CellRecord {
    /// The first 16 hex digits of the SHA-256 of the record's compact JSON without its
    /// checksum (numbers print in their shortest form that reads back to the same bits, so
    /// a record read from its file gives the digest it was written with).
    pub fn content_checksum(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let mut bare = self.clone();
        bare.checksum = None;
        let json = serde_json::to_vec(&bare)
            .map_err(|e| Error::Internal(format!("cannot encode a cell record: {e}")))?;
        let digest = Sha256::digest(&json);
        Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
    }

    /// The record with its checksum set, as it is written.
    fn sealed(&self) -> Result<CellRecord> {
        Ok(CellRecord {
            checksum: Some(self.content_checksum()?),
            ..self.clone()
        })
    }

    /// The table row of this cell; `dataset` is the task's display name.
    pub fn row(&self, dataset: &str) -> nstudent_stats::table::Row {
        let o = &self.outcome;
        nstudent_stats::table::Row {
            dataset: dataset.to_string(),
            algorithm: self.algorithm.display_name().to_string(),
            fold: self.fold,
            hyperparameters: o
                .hyperparameters
                .map_or_else(|| "None".to_string(), |h| h.table_text(self.algorithm)),
            metrics: o.metrics,
            training_time: o.training_seconds,
            inference_time: o.inference_seconds,
        }
    }
}

/// Writes `bytes` to `path` so that a reader sees either the old file or the whole new one,
/// even after a crash or kill -9 ([`nstudent_core::fs::write_atomic`]), creating its folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{} has no directory", path.display())))?;
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    nstudent_core::fs::write_atomic(path, bytes).map_err(|e| Error::io(path, e))
}

/// Writes a finished cell's file atomically.
pub fn write_record(dir: &Path, cell: &Cell, record: &CellRecord) -> Result<()> {
    let json = serde_json::to_vec_pretty(&record.sealed()?)
        .map_err(|e| Error::Internal(format!("cannot encode {cell}: {e}")))?;
    write_atomic(&dir.join(cell.relative_path()), &json)
}

/// Writes a finished cell's file at `path` unless it exists, atomically (a temporary file
/// linked into place, which fails where a file is): false when one was there.
pub fn write_record_new(path: &Path, record: &CellRecord) -> Result<bool> {
    let json = serde_json::to_vec_pretty(&record.sealed()?)
        .map_err(|e| Error::Internal(format!("cannot encode {}: {e}", path.display())))?;
    write_new(path, &json)
}

/// Writes `bytes` to `path`, creating its folder, only if no file is there: the whole file
/// appears at once (a synced temporary file linked into place), or nothing when another
/// process published first. False when the file existed.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<bool> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{} has no directory", path.display())))?;
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".new-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(path, e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(path, e.error)),
    }
}

/// Reads a cell file; `Ok(None)` when it does not exist.
pub fn read_record(dir: &Path, cell: &Cell) -> Result<Option<CellRecord>> {
    let path = dir.join(cell.relative_path());
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let record: CellRecord = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
        path: path.clone(),
        message: format!("not a cell file nstudent wrote ({e}); delete it to recompute the cell"),
    })?;
    if record.task != cell.task || record.fold != cell.fold || record.algorithm != cell.algorithm {
        return Err(Error::Corrupt {
            path,
            message: format!(
                "holds {} fold {} {}, not {cell}; delete it to recompute the cell",
                record.task, record.fold, record.algorithm
            ),
        });
    }
    if let Some(written) = &record.checksum {
        let now = record.content_checksum()?;
        if *written != now {
            return Err(Error::Corrupt {
                path,
                message: format!(
                    "was changed after nstudent wrote it (checksum {written}, content {now}); \
                     restore it, or delete it to recompute the cell"
                ),
            });
        }
    }
    if let Some(why) = impossible_value(&record.outcome) {
        return Err(Error::Corrupt {
            path,
            message: format!(
                "{why}, a value nstudent never computes (was the file edited?); delete it to recompute the cell"
            ),
        });
    }
    Ok(Some(record))
}

/// The first value of a cell's outcome that no computation gives: a metric outside [0, 1] (by
/// more than [`ROUNDING`]) or not finite, a negative or non-finite time.
fn impossible_value(o: &CellOutcome) -> Option<String> {
    let metrics = |prefix: &str, m: &CellMetrics| -> Option<String> {
        [
            ("accuracy", m.accuracy),
            ("tpr", m.tpr),
            ("fpr", m.fpr),
            ("precision", m.precision),
            ("auc", m.auc),
            ("pr_curve", m.pr_curve),
        ]
        .into_iter()
        .find(|(_, v)| !(v.is_finite() && (-ROUNDING..=1.0 + ROUNDING).contains(v)))
        .map(|(name, v)| format!("{prefix}{name} is {v}, outside [0, 1]"))
    };
    metrics("", &o.metrics)
        .or_else(|| {
            o.teacher
                .as_ref()
                .and_then(|t| metrics("teacher.", &t.metrics))
        })
        .or_else(|| {
            o.teacher
                .as_ref()
                .and_then(|t| t.ensemble_metrics.as_ref())
                .and_then(|m| metrics("teacher.ensemble_", m))
        })
        .or_else(|| {
            [
                ("training_seconds", o.training_seconds),
                ("inference_seconds", o.inference_seconds),
                ("cell_seconds", o.cell_seconds),
            ]
            .into_iter()
            .find(|(_, v)| !(v.is_finite() && *v >= 0.0))
            .map(|(name, v)| format!("{name} is {v}, not a duration"))
        })
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A plausible record of `cell` for tests.
    pub(crate) fn record(cell: &Cell, accuracy: f64) -> CellRecord {
        CellRecord {
            task: cell.task.clone(),
            fold: cell.fold,
            algorithm: cell.algorithm,
            config_hash: "abc".into(),
            seed: 7,
            threads: 1,
            kernels: KernelPath::Portable,
            kernel_revision: 1,
            outcome: CellOutcome {
                hyperparameters: Some(Hyperparameters {
                    unl_factor: Some(0.2),
                    threshold: 0.8,
                    num_students: 2,
                    ensemble_size: 1,
                }),
                metrics: CellMetrics {
                    accuracy,
                    tpr: 0.5,
                    fpr: 0.1,
                    precision: 0.5,
                    auc: 0.9,
                    pr_curve: 0.8,
                },
                teacher: None,
                training_seconds: 1.5,
                inference_seconds: 0.25,
                search: vec![],
                trainings: 3,
                cell_seconds: 2.0,
                train_size: 90,
                test_size: 10,
                unlabeled_size: None,
                pseudo_labels: Vec::new(),
                reused_trainings: 0,
                notes: vec![],
            },
            checksum: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::record;
    use super::*;

    fn cell() -> Cell {
        Cell {
            index: 0,
            task: "mnist:0-4".into(),
            fold: 3,
            algorithm: Algorithm::NoisyStudent,
        }
    }

    #[test]
    fn a_cell_is_written_with_a_checksum_and_an_edit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = cell();
        write_record(dir.path(), &c, &record(&c, 0.5)).unwrap();
        let read = read_record(dir.path(), &c).unwrap().unwrap();
        assert_eq!(read.checksum, Some(read.content_checksum().unwrap()));
        let path = dir.path().join(c.relative_path());
        let text = fs::read_to_string(&path).unwrap();
        // A change in range, which no other check would catch.
        fs::write(
            &path,
            text.replace("\"accuracy\": 0.5", "\"accuracy\": 0.6"),
        )
        .unwrap();
        let e = read_record(dir.path(), &c).unwrap_err().to_string();
        assert!(e.contains("was changed after nstudent wrote it"), "{e}");
        // A cell from before checksums is read as it is.
        let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
        old.as_object_mut().unwrap().remove("checksum");
        fs::write(&path, old.to_string()).unwrap();
        let read = read_record(dir.path(), &c).unwrap().unwrap();
        assert_eq!(read.checksum, None);
        assert_eq!(read.outcome.metrics.accuracy, 0.5);
    }

    #[test]
    fn a_cell_with_an_impossible_value_is_refused_naming_the_file_and_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let c = cell();
        // JSON holds no NaN or infinity (the parser refuses `null` or `1e999` for a metric
        // already); these are numbers in range for JSON, out of range for a cell.
        type Edit = fn(&mut CellRecord);
        let cases: [(Edit, &str); 3] = [
            (|r| r.outcome.metrics.accuracy = 1.7, "accuracy is 1.7"),
            (
                |r| r.outcome.teacher.as_mut().unwrap().metrics.fpr = -0.1,
                "teacher.fpr is -0.1",
            ),
            (|r| r.outcome.cell_seconds = -3.0, "cell_seconds is -3"),
        ];
        for (edit, needle) in cases {
            let mut r = record(&c, 0.9);
            r.outcome.teacher = Some(TeacherRecord {
                metrics: r.outcome.metrics,
                ensemble_metrics: None,
            });
            edit(&mut r);
            write_record(dir.path(), &c, &r).unwrap();
            let e = read_record(dir.path(), &c).unwrap_err();
            assert!(e.kind().is_users());
            let msg = e.to_string();
            assert!(msg.contains(needle), "{msg}");
            let path = dir.path().join(c.relative_path());
            assert!(msg.contains(&path.display().to_string()), "{msg}");
        }
        // Rounding that real computations give is not refused.
        let mut fine = record(&c, 0.9);
        fine.outcome.metrics.pr_curve = 1.0000000000000004;
        write_record(dir.path(), &c, &fine).unwrap();
        assert_eq!(
            read_record(dir.path(), &c).unwrap(),
            Some(fine.sealed().unwrap())
        );
    }

    #[test]
    fn cell_files_round_trip_under_a_portable_path() {
        let dir = tempfile::tempdir().unwrap();
        let c = cell();
        assert_eq!(
            c.relative_path(),
            Path::new("cells/mnist_0-4/3/noisy-student.json")
        );
        assert!(read_record(dir.path(), &c).unwrap().is_none());
        let r = record(&c, 0.75);
        write_record(dir.path(), &c, &r).unwrap();
        assert_eq!(
            read_record(dir.path(), &c).unwrap(),
            Some(r.sealed().unwrap())
        );
        let row = r.row("MNIST 0-4");
        assert_eq!(row.algorithm, "Noisy Student");
        assert_eq!(
            row.hyperparameters,
            "unl_factor: 0.2, threshold: 0.8, num_of_students: 2"
        );
        // No temporary file is left next to it.
        let files: Vec<_> = fs::read_dir(dir.path().join("cells/mnist_0-4/3"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn the_tables_text_is_the_text_of_the_settings() {
        let h = Hyperparameters {
            unl_factor: Some(0.2),
            threshold: 0.8,
            num_students: 2,
            ensemble_size: 3,
        };
        assert_eq!(
            h.table_text(Algorithm::NoisyStudent),
            "unl_factor: 0.2, threshold: 0.8, num_of_students: 2"
        );
        assert_eq!(
            h.table_text(Algorithm::Ensemble),
            "unl_factor: 0.2, threshold: 0.8, num_of_students: 2, ensemble_size: 3"
        );
        let all = Hyperparameters {
            unl_factor: None,
            threshold: 1.0,
            num_students: 10,
            ..h
        };
        assert_eq!(
            all.table_text(Algorithm::NoisyStudent),
            "unl_factor: all, threshold: 1, num_of_students: 10"
        );
        let s = all.settings(Algorithm::Ensemble);
        assert_eq!(s.0[0].value, SettingValue::Text("all".to_string()));
        assert_eq!(s.0[1].value, SettingValue::Number(1.0));
        assert_eq!(
            s.0[3],
            Setting::new("ensemble_size", SettingValue::Count(3))
        );
        // The text reads back into the same names and value texts.
        let back = Settings::parse(&all.table_text(Algorithm::Ensemble)).unwrap();
        assert_eq!(back.to_string(), s.to_string());
    }

    #[test]
    fn a_torn_or_foreign_file_is_reported_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let c = cell();
        let path = dir.path().join(c.relative_path());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"{\"task\": \"mni").unwrap();
        let e = read_record(dir.path(), &c).unwrap_err();
        assert!(e.to_string().contains("delete it"), "{e}");
        let mut other = c.clone();
        other.fold = 4;
        fs::write(&path, serde_json::to_vec(&record(&other, 0.5)).unwrap()).unwrap();
        assert!(read_record(dir.path(), &c).is_err());
    }

    #[test]
    fn an_atomic_write_replaces_whole_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second version").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second version");
    }

    #[test]
    fn a_killed_writers_temporary_file_is_not_a_cell() {
        let dir = tempfile::tempdir().unwrap();
        let ns = cell();
        let baseline = Cell {
            algorithm: Algorithm::Baseline,
            ..cell()
        };
        write_record(dir.path(), &ns, &record(&ns, 0.75)).unwrap();
        // What a writer killed before its rename leaves: a hidden, half-written file next to
        // where each cell file goes.
        let folder = dir
            .path()
            .join(ns.relative_path())
            .parent()
            .unwrap()
            .to_path_buf();
        for name in [".baseline.json.a1b2c3", ".noisy-student.json.d4e5f6"] {
            fs::write(folder.join(name), b"{\"task\": \"mni").unwrap();
        }
        // The baseline is still unfinished (not an error), and the finished cell reads back.
        assert!(read_record(dir.path(), &baseline).unwrap().is_none());
        assert_eq!(
            read_record(dir.path(), &ns).unwrap(),
            Some(record(&ns, 0.75).sealed().unwrap())
        );
        // A new write of the cell replaces the cell file, not the stray one.
        write_record(dir.path(), &ns, &record(&ns, 0.5)).unwrap();
        assert_eq!(
            read_record(dir.path(), &ns).unwrap(),
            Some(record(&ns, 0.5).sealed().unwrap())
        );
        write_record(dir.path(), &baseline, &record(&baseline, 0.6)).unwrap();
        assert_eq!(
            read_record(dir.path(), &baseline).unwrap(),
            Some(record(&baseline, 0.6).sealed().unwrap())
        );
    }
}
