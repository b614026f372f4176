//! Training from Python: the config built as `nstudent train` builds it, the training on its
//! own thread with the GIL released, and a watcher on the calling thread that takes the GIL
//! every [`WATCH_INTERVAL`] to let Python handle signals (Ctrl-C) and to pass progress on.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use nstudent_algo::{Event, PoolOrigin, Stage, TrainOutcome, Trainer};
use nstudent_core::{Dataset, ImageShape, ImagesRef};
use nstudent_engine::Threads;
use numpy::{PyReadonlyArray1, PyReadonlyArray4, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::to_py;
use crate::model::PyModel;
use crate::params;

/// How often the watcher takes the GIL while training runs: Ctrl-C is seen within this time
/// plus one batch.
const WATCH_INTERVAL: Duration = Duration::from_millis(100);

/// The effective config of `params` as TOML, as `nstudent train --print-config` prints it;
/// `separate_pool` as with `--unlabeled`.
#[pyfunction]
pub fn config_toml(params: &Bound<'_, PyDict>, separate_pool: bool) -> PyResult<String> {
    params::check_names(params)?;
    let config = params::overrides(params)?
        .apply(Default::default(), &BTreeSet::new(), origin(separate_pool))
        .map_err(to_py)?;
    config.to_toml().map_err(to_py)
}

fn origin(separate_pool: bool) -> PoolOrigin {
    match separate_pool {
        true => PoolOrigin::Separate,
        false => PoolOrigin::TrainingData,
    }
}

/// Trains on `images` (uint8, `(n, h, w, c)`) with `labels` (class indices into
/// `class_names`) and, when given, the separate unlabeled set `unlabeled` (uint8,
/// `(m, h, w, c)`), as `nstudent train --data ... [--unlabeled ...]` with the flags `params`.
/// `threads` is the resolved thread count (0: every core). `on_event`, when given, is called
/// with each event as a JSON string (no per-batch events). Returns the final model and the
/// run's report as JSON.
#[pyfunction]
#[pyo3(signature = (images, labels, class_names, unlabeled, params, threads, on_event=None))]
#[allow(clippy::too_many_arguments)]
pub fn train(
    py: Python<'_>,
    images: PyReadonlyArray4<'_, u8>,
    labels: PyReadonlyArray1<'_, i64>,
    class_names: Vec<String>,
    unlabeled: Option<PyReadonlyArray4<'_, u8>>,
    params: &Bound<'_, PyDict>,
    threads: usize,
    on_event: Option<Bound<'_, PyAny>>,
) -> PyResult<(PyModel, String)> {
    params::check_names(params)?;
    let config = params::overrides(params)?
        .apply(
            Default::default(),
            &BTreeSet::new(),
            origin(unlabeled.is_some()),
        )
        .map_err(to_py)?;
    let engine = params::engine(params)?
        .engine()
        .map_err(|e| to_py(e.into()))?;
    let sequential = params
        .get_item("sequential_members")?
        .map(|v| v.is_truthy())
        .transpose()?
        .unwrap_or(false);
    let data = dataset(&images, &labels, class_names)?;
    let pool = match &unlabeled {
        Some(u) => Some(images_of(u, "X_unlabeled")?),
        None => None,
    };
    if let Some((_, shape)) = &pool {
        if *shape != data.shape {
            return Err(PyValueError::new_err(format!(
                "X_unlabeled holds {shape} images, X holds {}: give images of one shape",
                data.shape
            )));
        }
    }
    let pool_view = pool.as_ref().map(|(p, shape)| ImagesRef {
        pixels: p,
        shape: *shape,
    });
    let learning_rate = config.fit.learning_rate;
    let report_config = (*config).clone();
    let job = |stop: &AtomicBool, send: &mpsc::Sender<String>| {
        let mut trainer = Trainer::checked(engine.as_ref(), config)
            .threads(Threads::resolve(threads))
            .stop_on(stop);
        if let Some(view) = pool_view {
            trainer = trainer.unlabeled(view, "X_unlabeled")?;
        }
        if sequential {
            trainer = trainer.members_one_by_one();
        }
        let outcome = trainer.train(&data, &mut |e: &Event<'_>| {
            if let Some(text) = event_json(e) {
                let _ = send.send(text);
            }
        })?;
        outcome
            .final_model()
            .check_finite_outputs(data.view(), learning_rate)?;
        Ok::<_, nstudent_algo::Error>(outcome)
    };
    let outcome = watched(py, job, on_event.as_ref())?;
    let report = report_json(&report_config, &outcome);
    Ok((PyModel::new(outcome.into_final_model()), report))
}

/// Runs `job` on its own thread with the GIL released. Every [`WATCH_INTERVAL`], and on each
/// event, the calling thread takes the GIL, passes the events to `on_event` and lets Python
/// run its signal handlers: an exception there (Ctrl-C's `KeyboardInterrupt`, or one raised by
/// `on_event`) sets the stop flag, waits for the training to stop, and is raised.
fn watched<T: Send>(
    py: Python<'_>,
    job: impl FnOnce(&AtomicBool, &mpsc::Sender<String>) -> nstudent_algo::Result<T> + Send,
    on_event: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    let stop = AtomicBool::new(false);
    let (send, receive) = mpsc::channel::<String>();
    let on_event = on_event.map(|f| f.clone().unbind());
    let stop = &stop;
    let (result, raised) = py.detach(move || {
        std::thread::scope(|scope| {
            let worker = scope.spawn(move || job(stop, &send));
            let mut raised: Option<PyErr> = None;
            loop {
                let first = receive.recv_timeout(WATCH_INTERVAL);
                let done = first == Err(RecvTimeoutError::Disconnected);
                let events: Vec<String> = first.into_iter().chain(receive.try_iter()).collect();
                Python::attach(|py| {
                    if raised.is_some() {
                        return;
                    }
                    let delivered = events.into_iter().try_for_each(|text| match &on_event {
                        Some(f) => f.call1(py, (text,)).map(drop),
                        None => Ok(()),
                    });
                    if let Err(e) = delivered.and_then(|()| py.check_signals()) {
                        raised = Some(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                });
                if done {
                    break;
                }
            }
            let result = worker.join().unwrap_or_else(|_| {
                Err(nstudent_algo::Error::Internal(
                    "the training thread panicked".into(),
                ))
            });
            (result, raised)
        })
    });
    match (result, raised) {
        (_, Some(e)) => Err(e),
        (Ok(t), None) => Ok(t),
        (Err(e), None) => Err(to_py(e)),
    }
}

/// The labeled data as a [`Dataset`]: the pixels are copied once, as a file reader would
/// hold them.
fn dataset(
    images: &PyReadonlyArray4<'_, u8>,
    labels: &PyReadonlyArray1<'_, i64>,
    class_names: Vec<String>,
) -> PyResult<Dataset> {
    let (pixels, shape) = images_of(images, "X")?;
    let k = class_names.len();
    let labels = labels
        .as_slice()
        .map_err(|e| PyValueError::new_err(format!("y: {e}")))?
        .iter()
        .map(|&l| {
            u16::try_from(l)
                .ok()
                .filter(|&l| usize::from(l) < k)
                .ok_or_else(|| PyValueError::new_err(format!("label index {l} is outside 0..{k}")))
        })
        .collect::<PyResult<Vec<u16>>>()?;
    Dataset::new(pixels, labels, shape, class_names, "X").map_err(|e| to_py(e.into()))
}

/// The pixels of a `(n, h, w, c)` uint8 array, row after row, and their shape.
pub fn images_of(a: &PyReadonlyArray4<'_, u8>, name: &str) -> PyResult<(Vec<u8>, ImageShape)> {
    let dims = a.shape();
    let shape = ImageShape::new(dims[1], dims[2], dims[3]);
    let pixels = match a.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => a.as_array().iter().copied().collect(),
    };
    if shape.is_empty() {
        return Err(PyValueError::new_err(format!(
            "{name}: images of {}x{}x{} have no pixels",
            dims[1], dims[2], dims[3]
        )));
    }
    Ok((pixels, shape))
}

/// An event as JSON for Python, or `None` for the per-batch ones (too many to cross into
/// Python; an epoch's last batch is passed on as an `epoch` event).
fn event_json(e: &Event<'_>) -> Option<String> {
    use serde_json::json;
    let value = match e {
        Event::Split {
            labeled,
            unlabeled,
            pool_origin,
            ..
        } => json!({
            "event": "split",
            "labeled": labeled,
            "unlabeled": unlabeled,
            "separate_pool": *pool_origin == PoolOrigin::Separate,
        }),
        Event::Fit {
            stage,
            member,
            progress,
        } => {
            let loss = progress.epoch_loss?;
            let iteration = match stage {
                Stage::Teacher => 0,
                Stage::Student { iteration } => *iteration,
            };
            json!({
                "event": "epoch",
                "iteration": iteration,
                "member": member,
                "epoch": progress.epoch + 1,
                "loss": loss,
                "seconds": progress.seconds,
            })
        }
        Event::Teacher { model, seconds, .. } => {
            json!({"event": "teacher", "models": model.len(), "seconds": seconds})
        }
        Event::Iteration { report, .. } => {
            let mut v = serde_json::to_value(report).ok()?;
            v["event"] = json!("iteration");
            v
        }
        Event::Stopped { message } => json!({"event": "stopped", "message": message}),
    };
    Some(value.to_string())
}

/// The run's report, as `nstudent train --report` writes it (without the unlabeled set's
/// name: it is the caller's array).
fn report_json(config: &nstudent_algo::AlgoConfig, outcome: &TrainOutcome) -> String {
    serde_json::json!({
        "config": config,
        "labeled_rows": outcome.labeled_rows,
        "unlabeled_rows": outcome.unlabeled_rows,
        "teacher_seconds": outcome.teacher_seconds,
        "iterations": outcome.chain.as_ref().map(|c| &c.iterations),
        "stopped_early": outcome.chain.as_ref().and_then(|c| c.stopped_early.clone()),
        "seconds": outcome.seconds,
    })
    .to_string()
}
