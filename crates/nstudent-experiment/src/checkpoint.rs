//! The inner-search progress of an unfinished cell, next to where its cell file will go
//! (`cells/<task>/<fold>/<algorithm>.partial.json`).
//!
//! A cell of the original protocol trains hundreds of models (an ensemble cell on MNIST takes
//! hours on one core). The checkpoint keeps the validation scores of every finished
//! (rung, inner fold), so that a cell killed or preempted in its search resumes from its last
//! finished inner fold instead of from scratch.
//!
//! A checkpoint is used only by the same config and cell seed that wrote it, and every inner
//! fold's training derives from the cell's seeds alone and gives the same bits whatever the
//! thread count, so a resumed cell computes exactly what an uninterrupted one would, also on
//! another number of threads. The runner deletes it once the cell is stored.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cell::{write_atomic, Cell};
use crate::config::Algorithm;
use crate::plan::Chain;
use crate::{Error, Result};

/// The scores one (rung, inner fold) of a cell's search produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InnerStep {
    /// Rung of successive halving (0 for a grid search).
    pub rung: usize,
    /// Inner fold, from 0.
    pub inner_fold: usize,
    /// Every chain the rung trained, in search order.
    pub chains: Vec<ChainScores>,
    /// Models trained in this step.
    pub trainings: usize,
    /// Notes the step added to the cell (a chain that stopped early, ...).
    pub notes: Vec<String>,
}

/// One chain of students of an inner fold: what it was, and how its students scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainScores {
    #[serde(flatten)]
    pub chain: Chain,
    /// Validation accuracy (0..1) of the chain's 1st, 2nd, ... student.
    pub students: Vec<f64>,
}

impl ChainScores {
    /// A chain before any student scored.
    pub fn new(chain: Chain) -> Self {
        Self {
            chain,
            students: Vec::new(),
        }
    }
}

/// Who may use a checkpoint: the attempt that wrote it, or one computing the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub config_hash: String,
    pub seed: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    task: String,
    fold: usize,
    algorithm: Algorithm,
    #[serde(flatten)]
    owner: Owner,
    steps: Vec<InnerStep>,
}

/// The checkpoint file of `cell` inside the results directory `dir`.
pub fn path(dir: &Path, cell: &Cell) -> PathBuf {
    dir.join(cell.relative_path().with_extension("partial.json"))
}

/// The steps a previous attempt at `cell` finished, when `owner` may use them; empty when
/// there is no checkpoint, or one that is unreadable or from another config or seed (the cell
/// then starts over, as it would have without checkpoints).
pub fn read(dir: &Path, cell: &Cell, owner: &Owner) -> Vec<InnerStep> {
    let Ok(bytes) = fs::read(path(dir, cell)) else {
        return Vec::new();
    };
    match serde_json::from_slice::<Checkpoint>(&bytes) {
        Ok(c)
            if c.owner == *owner
                && c.task == cell.task
                && c.fold == cell.fold
                && c.algorithm == cell.algorithm =>
        {
            c.steps
        }
        _ => Vec::new(),
    }
}

/// Records the finished `steps` of `cell` atomically: a kill leaves the previous checkpoint
/// or this one, never a torn file.
pub fn write(dir: &Path, cell: &Cell, owner: &Owner, steps: &[InnerStep]) -> Result<()> {
    let checkpoint = Checkpoint {
        task: cell.task.clone(),
        fold: cell.fold,
        algorithm: cell.algorithm,
        owner: owner.clone(),
        steps: steps.to_vec(),
    };
    let json = serde_json::to_vec(&checkpoint)
        .map_err(|e| Error::Internal(format!("cannot encode the checkpoint of {cell}: {e}")))?;
    write_atomic(&path(dir, cell), &json)
}

/// Deletes the checkpoint of `cell` (its cell file now holds the result).
pub fn remove(dir: &Path, cell: &Cell) -> Result<()> {
    let p = path(dir, cell);
    match fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(p, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell() -> Cell {
        Cell {
            index: 4,
            task: "mnist:0-4".into(),
            fold: 2,
            algorithm: Algorithm::Ensemble,
        }
    }

    fn owner() -> Owner {
        Owner {
            config_hash: "abc".into(),
            seed: 9,
        }
    }

    fn step(j: usize) -> InnerStep {
        InnerStep {
            rung: 0,
            inner_fold: j,
            chains: vec![ChainScores {
                chain: Chain {
                    unl_factor: Some(0.1),
                    threshold: 0.5,
                    ensemble_size: 2,
                },
                // Accuracies on 1,200 validation images, which a parser that is not exact
                // reads back one bit off (0.23583333333333337).
                students: vec![283.0 / 1200.0, 248.0 / 1200.0],
            }],
            trainings: 7,
            notes: vec![format!("inner fold {}: stopped", j + 1)],
        }
    }

    #[test]
    fn steps_round_trip_for_their_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let (c, o) = (cell(), owner());
        assert!(read(dir.path(), &c, &o).is_empty());
        write(dir.path(), &c, &o, &[step(0), step(1)]).unwrap();
        assert_eq!(
            path(dir.path(), &c),
            dir.path().join("cells/mnist_0-4/2/ensemble.partial.json")
        );
        assert_eq!(read(dir.path(), &c, &o), vec![step(0), step(1)]);
        // The chain's values sit beside the scores, as checkpoints have always written them.
        let text = std::fs::read_to_string(path(dir.path(), &c)).unwrap();
        assert!(
            text.contains(r#"{"unl_factor":0.1,"threshold":0.5,"ensemble_size":2,"students":["#),
            "{text}"
        );
        // Another seed or config would not compute the same scores.
        for other in [
            Owner { seed: 8, ..owner() },
            Owner {
                config_hash: "abd".into(),
                ..owner()
            },
        ] {
            assert!(read(dir.path(), &c, &other).is_empty());
        }
        let mut elsewhere = cell();
        elsewhere.fold = 3;
        assert!(read(dir.path(), &elsewhere, &o).is_empty());
        remove(dir.path(), &c).unwrap();
        assert!(!path(dir.path(), &c).exists());
        remove(dir.path(), &c).unwrap();
    }

    #[test]
    fn a_torn_or_foreign_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (c, o) = (cell(), owner());
        write(dir.path(), &c, &o, &[step(0)]).unwrap();
        let p = path(dir.path(), &c);
        let bytes = fs::read(&p).unwrap();
        fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        assert!(read(dir.path(), &c, &o).is_empty());
        fs::write(&p, b"{\"hello\": 1}").unwrap();
        assert!(read(dir.path(), &c, &o).is_empty());
    }
}
