//! The study: nested cross-validation over tasks and algorithms, stored cell by cell so that it
//! resumes after a crash and scales out as shards.
//!
//! - [`config`]: the study config (TOML, presets `quick` and `original`) and its hash;
//! - [`study`]: that config checked and resolved once, the value a run works from;
//! - [`plan`]: the cells and the model trainings they cost;
//! - [`estimate`]: the compute they need, predicted from the tasks' sizes and measured speed;
//! - [`cell`]: one (task, fold, algorithm) result and its atomically written file;
//! - [`checkpoint`]: the inner-search progress of an unfinished cell, to resume long cells;
//! - [`claim`]: which process computes a cell now, so processes can share a directory;
//! - [`store`]: the results directory (`study.toml`, cells, log);
//! - [`shard`]: `--shard I/N` and array-job environments;
//! - [`runner`]: computing the missing cells, side by side, with progress;
//! - [`merge`]: the metrics table, the statistics and the report.

pub mod cell;
pub mod checkpoint;
pub mod claim;
pub mod config;
pub mod curve;
mod error;
pub mod estimate;
pub mod merge;
pub mod names;
pub mod nested;
pub mod plan;
pub mod preset;
mod report;
pub mod runner;
pub mod seed;
pub mod shard;
pub mod shared;
pub mod store;
pub mod study;
pub mod study_stats;
pub mod verify;

pub use cell::{Cell, CellOutcome, CellRecord, PseudoLabelRecord};
pub use config::{Algorithm, StudyConfig};
pub use error::{Error, Result};
pub use merge::{merge, MergeOptions, MergeOutcome};
pub use nested::NestedCv;
pub use preset::Preset;
pub use report::context as report_context;
pub use report::dependence as report_dependence;
pub use runner::{
    run_study, CellContext, CellDone, CellWork, Observer, ObserverHandle, RunOptions, RunSummary,
    Silent,
};
pub use shard::Shard;
pub use store::StudyDir;
pub use study::{missing_data, tasks_to_skip, Budget, Study, StudyTask};
