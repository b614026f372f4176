//! `nstudent run --plan --format json` and `nstudent status --format json`: the figures the text
//! output shows, as one JSON document.

use std::collections::BTreeMap;

use nstudent_experiment::estimate::{Prediction, Rates};
use nstudent_experiment::plan::{self, Remaining};
use nstudent_experiment::{Cell, Shard, StudyConfig};
use serde_json::{json, Value};

fn cell(c: &Cell) -> Value {
    json!({
        "index": c.index,
        "task": c.task,
        "fold": c.fold,
        "algorithm": c.algorithm.name(),
    })
}

/// What the unfinished cells still need, estimated from the finished ones; `null` when nothing
/// is left.
pub fn remaining(r: &Remaining, threads: usize) -> Value {
    if r.estimated + r.unknown == 0 {
        return Value::Null;
    }
    json!({
        "core_seconds": r.core_seconds,
        "estimated_cells": r.estimated,
        "unknown_cells": r.unknown,
        "threads": threads,
    })
}

/// The predicted compute of the cells to do, at the speed measured now.
pub fn prediction(p: &Prediction, rates: &BTreeMap<String, Rates>, threads: usize) -> Value {
    let calibration = p.calibration.as_ref().filter(|c| c.cells > 0).map(|c| {
        let factors: BTreeMap<&str, f64> = c.factors.iter().map(|(a, f)| (a.name(), *f)).collect();
        json!({"cells": c.cells, "factors": factors})
    });
    let speeds: BTreeMap<&String, Value> = rates
        .iter()
        .map(|(shape, r)| {
            (
                shape,
                json!({"train_images_per_second": r.train, "predict_images_per_second": r.predict}),
            )
        })
        .collect();
    json!({
        "core_seconds": p.core_seconds(),
        "threads": threads,
        "per_task_core_seconds": p.per_task,
        "calibration": calibration,
        "speeds": speeds,
        "published_sizes": p.published,
        "not_predicted": p.unknown,
    })
}

/// The document of `run --plan`: the cells with their state, the trainings they cost, and
/// the compute predicted for the cells to do (`prediction`) and estimated from finished cells
/// (`remaining`).
pub fn plan(
    config: &StudyConfig,
    cells: &[Cell],
    finished: &dyn Fn(&Cell) -> bool,
    predicted: Value,
    remaining: Value,
    shard: Shard,
) -> Value {
    let mut total = plan::Trainings::default();
    let mut done = 0;
    let listed: Vec<Value> = cells
        .iter()
        .map(|c| {
            total += plan::trainings(config, c.algorithm);
            let is_done = finished(c);
            done += usize::from(is_done);
            let mut v = cell(c);
            v["done"] = is_done.into();
            v
        })
        .collect();
    let per_cell: BTreeMap<&str, Value> = config
        .algorithms
        .iter()
        .map(|&a| {
            let t = plan::trainings(config, a);
            (
                a.name(),
                json!({"nstudent": t.nstudent, "original": t.original}),
            )
        })
        .collect();
    json!({
        "cells": listed,
        "total_cells": cells.len(),
        "done_cells": done,
        "todo_cells": cells.len() - done,
        "tasks": config.tasks.len(),
        "outer_folds": config.outer_folds,
        "algorithms": config.algorithms.len(),
        "trainings_per_cell": per_cell,
        "trainings": {"nstudent": total.nstudent, "original": total.original},
        "predicted": predicted,
        "remaining": remaining,
        "shard": (shard != Shard::ALL).then(|| shard.to_string()),
    })
}

/// The document of `status`: the finished and missing cells of a study directory.
pub fn status(
    dir: &std::path::Path,
    hash: &str,
    total: usize,
    finished: usize,
    missing: &[Cell],
    remaining: Value,
) -> Value {
    json!({
        "dir": dir.display().to_string(),
        "config_hash": hash,
        "total_cells": total,
        "finished_cells": finished,
        "missing_cells": missing.len(),
        "missing": missing.iter().map(cell).collect::<Vec<_>>(),
        "remaining": remaining,
    })
}
