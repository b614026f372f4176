//! `nstudent run --plan --format json` and `nstudent status --format json`: the figures the text
//! output shows, as one JSON document each. Every document is a serde struct, so that its
//! fields are named and typed once, here.

use std::collections::BTreeMap;

use nstudent_experiment::estimate::{Prediction, Rates};
use nstudent_experiment::plan::{self, Remaining};
use nstudent_experiment::{Cell, Shard, StudyConfig};
use serde::Serialize;

/// A cell as the documents list it.
#[derive(Serialize)]
pub struct CellDoc<'a> {
    index: usize,
    task: &'a str,
    fold: usize,
    algorithm: &'static str,
    /// In `--plan` only: whether the cell is finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    done: Option<bool>,
}

impl<'a> CellDoc<'a> {
    fn new(c: &'a Cell, done: Option<bool>) -> Self {
        CellDoc {
            index: c.index,
            task: &c.task,
            fold: c.fold,
            algorithm: c.algorithm.name(),
            done,
        }
    }
}

/// What the unfinished cells still need, estimated from the finished ones.
#[derive(Serialize)]
pub struct RemainingDoc {
    core_seconds: f64,
    estimated_cells: usize,
    unknown_cells: usize,
    threads: usize,
}

/// `None` (JSON `null`) when nothing is left.
pub fn remaining(r: &Remaining, threads: usize) -> Option<RemainingDoc> {
    (r.estimated + r.unknown > 0).then_some(RemainingDoc {
        core_seconds: r.core_seconds,
        estimated_cells: r.estimated,
        unknown_cells: r.unknown,
        threads,
    })
}

/// The predicted compute of the cells to do, at the speed measured now.
#[derive(Serialize)]
pub struct PredictionDoc<'a> {
    core_seconds: f64,
    threads: usize,
    per_task_core_seconds: &'a BTreeMap<String, f64>,
    calibration: Option<CalibrationDoc>,
    /// Per image shape (`28x28x1`).
    speeds: BTreeMap<&'a str, SpeedDoc>,
    published_sizes: &'a [String],
    not_predicted: &'a [String],
}

/// The scaling of the prediction by finished cells: measured / predicted per algorithm.
#[derive(Serialize)]
pub struct CalibrationDoc {
    cells: usize,
    factors: BTreeMap<&'static str, f64>,
}

/// This machine's speed on one image shape, measured now (images per second).
#[derive(Serialize)]
pub struct SpeedDoc {
    train_images_per_second: f64,
    predict_images_per_second: f64,
}

pub fn prediction<'a>(
    p: &'a Prediction,
    rates: &'a BTreeMap<String, Rates>,
    threads: usize,
) -> PredictionDoc<'a> {
    PredictionDoc {
        core_seconds: p.core_seconds(),
        threads,
        per_task_core_seconds: &p.per_task,
        calibration: p
            .calibration
            .as_ref()
            .filter(|c| c.cells > 0)
            .map(|c| CalibrationDoc {
                cells: c.cells,
                factors: c.factors.iter().map(|(a, f)| (a.name(), *f)).collect(),
            }),
        speeds: rates
            .iter()
            .map(|(shape, r)| {
                (
                    shape.as_str(),
                    SpeedDoc {
                        train_images_per_second: r.train,
                        predict_images_per_second: r.predict,
                    },
                )
            })
            .collect(),
        published_sizes: &p.published,
        not_predicted: &p.unknown,
    }
}

/// Model trainings, counted as nstudent trains them and as the original study did.
#[derive(Serialize)]
pub struct TrainingsDoc {
    nstudent: u64,
    original: u64,
}

impl From<plan::Trainings> for TrainingsDoc {
    fn from(t: plan::Trainings) -> Self {
        TrainingsDoc {
            nstudent: t.nstudent,
            original: t.original,
        }
    }
}

/// The document of `run --plan`: the cells with their state, the trainings they cost, and
/// the compute predicted for the cells to do and estimated from finished cells.
#[derive(Serialize)]
pub struct PlanDoc<'a> {
    cells: Vec<CellDoc<'a>>,
    total_cells: usize,
    done_cells: usize,
    todo_cells: usize,
    tasks: usize,
    outer_folds: usize,
    algorithms: usize,
    trainings_per_cell: BTreeMap<&'static str, TrainingsDoc>,
    trainings: TrainingsDoc,
    predicted: Option<PredictionDoc<'a>>,
    remaining: Option<RemainingDoc>,
    /// `I/N` when the plan is one shard's.
    shard: Option<String>,
}

pub fn plan<'a>(
    config: &StudyConfig,
    cells: &'a [Cell],
    finished: &dyn Fn(&Cell) -> bool,
    predicted: Option<PredictionDoc<'a>>,
    remaining: Option<RemainingDoc>,
    shard: Shard,
) -> PlanDoc<'a> {
    let mut total = plan::Trainings::default();
    let listed: Vec<CellDoc<'a>> = cells
        .iter()
        .map(|c| {
            total += plan::trainings(config, c.algorithm);
            CellDoc::new(c, Some(finished(c)))
        })
        .collect();
    let done = listed.iter().filter(|c| c.done == Some(true)).count();
    PlanDoc {
        total_cells: cells.len(),
        done_cells: done,
        todo_cells: cells.len() - done,
        cells: listed,
        tasks: config.tasks.len(),
        outer_folds: config.outer_folds,
        algorithms: config.algorithms.len(),
        trainings_per_cell: config
            .algorithms
            .iter()
            .map(|&a| (a.name(), plan::trainings(config, a).into()))
            .collect(),
        trainings: total.into(),
        predicted,
        remaining,
        shard: (shard != Shard::ALL).then(|| shard.to_string()),
    }
}

/// The document of `status`: the finished and missing cells of a study directory.
#[derive(Serialize)]
pub struct StatusDoc<'a> {
    dir: String,
    config_hash: &'a str,
    total_cells: usize,
    finished_cells: usize,
    missing_cells: usize,
    missing: Vec<CellDoc<'a>>,
    remaining: Option<RemainingDoc>,
}

pub fn status<'a>(
    dir: &std::path::Path,
    hash: &'a str,
    total: usize,
    finished: usize,
    missing: &'a [Cell],
    remaining: Option<RemainingDoc>,
) -> StatusDoc<'a> {
    StatusDoc {
        dir: dir.display().to_string(),
        config_hash: hash,
        total_cells: total,
        finished_cells: finished,
        missing_cells: missing.len(),
        missing: missing.iter().map(|c| CellDoc::new(c, None)).collect(),
        remaining,
    }
}
