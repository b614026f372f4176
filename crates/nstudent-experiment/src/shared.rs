//! Work that several cells of one outer fold share, computed once and kept in the study
//! directory: `DIR/cache/<task>/<fold>/<what>.json`.
//!
//! Today that is the Noisy Student search of a fold: the `seed` preset's Ensemble cell reruns
//! it (`ensemble_search = "after-noisy-student"`) with the Noisy Student cell's own seeds, so
//! it is the same search, bit for bit. Whichever of the two cells gets there first computes it
//! and writes it; the other reads it. A file is written atomically and tied to the config
//! hash, so that workers, shards and a resumed run see either nothing or the whole result,
//! and never another study's.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::cell::{self, path_component, CandidateScore, Hyperparameters};
use crate::store::StudyDir;
use crate::{Error, Result};

/// A finished inner search: what the cells that share it need of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The config hash of the study that computed it.
    pub config_hash: String,
    pub best: Hyperparameters,
    pub scores: Vec<CandidateScore>,
    /// Models the search trained.
    pub trainings: usize,
    /// The notes the search added to its cell.
    pub notes: Vec<String>,
}

/// The cache file of `what` for one fold of `task`.
fn path(study: &StudyDir, task: &str, fold: usize, what: &str) -> PathBuf {
    study
        .dir
        .join("cache")
        .join(path_component(task))
        .join(fold.to_string())
        .join(format!("{what}.json"))
}

/// The Noisy Student search of a fold, if a cell of this study has finished it. A file that
/// does not parse, or that another config wrote, is ignored (the search is recomputed and the
/// file replaced).
pub fn noisy_student_search(study: &StudyDir, task: &str, fold: usize) -> Option<SearchResult> {
    let text = std::fs::read(path(study, task, fold, "noisy-student-search")).ok()?;
    let r: SearchResult = serde_json::from_slice(&text).ok()?;
    (r.config_hash == study.hash()).then_some(r)
}

/// Keeps a fold's finished Noisy Student search for the other cells of the fold.
pub fn keep_noisy_student_search(
    study: &StudyDir,
    task: &str,
    fold: usize,
    result: &SearchResult,
) -> Result<()> {
    let p = path(study, task, fold, "noisy-student-search");
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let json = serde_json::to_vec_pretty(result)
        .map_err(|e| Error::Internal(format!("cannot encode a search result: {e}")))?;
    cell::write_atomic(&p, &json)
}
