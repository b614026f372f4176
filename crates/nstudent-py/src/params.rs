//! The estimator's parameters: their defaults (from [`AlgoConfig::default`], the one place
//! they are declared) and their reading into [`Overrides`], the settings `nstudent train`'s
//! flags become.

use clap::ValueEnum;
use nstudent_algo::{AlgoConfig, Flip, Overrides};
use nstudent_engine::EngineName;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyNone};

/// Parameters that are `nstudent train` flags of the same name (`--student-arch` is
/// `student_arch`) and shape the model, in the flags' order.
pub const MODEL_PARAMS: &[&str] = &[
    "algo",
    "teacher_factor",
    "labeled_split",
    "unl_factor",
    "unlabeled_schedule",
    "threshold",
    "num_students",
    "labels",
    "temperature",
    "balance",
    "balance_target",
    "relabel",
    "ensemble_size",
    "arch",
    "width",
    "student_arch",
    "student_width",
    "dropout",
    "survival",
    "augment",
    "augment_ops",
    "magnitude",
    "flip",
    "no_noise",
    "epochs",
    "batch",
    "lr",
    "seed",
];

/// Flags of `nstudent train` that choose how to train, not what: the same model whatever
/// their value (`threads`, `sequential_members`) or the engine that trains it.
pub const RUN_PARAMS: &[&str] = &["engine", "threads", "sequential_members"];

/// The name a flag value has on the command line (`noisy-student`, `res-cnn`).
fn value_name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

/// Every parameter of [`MODEL_PARAMS`] and [`RUN_PARAMS`] with `nstudent train`'s default:
/// `None` where the flag's default depends on the data (`teacher_factor`: 0.1, or 1 with an
/// unlabeled set), is computed (`balance_target`) or means every core (`threads`).
#[pyfunction]
pub fn defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = AlgoConfig::default();
    let out = PyDict::new(py);
    let none = PyNone::get(py);
    out.set_item("algo", value_name(&d.algorithm))?;
    out.set_item("teacher_factor", none)?;
    out.set_item("labeled_split", value_name(&d.labeled_split))?;
    out.set_item("unl_factor", d.unl_factor)?;
    out.set_item("unlabeled_schedule", value_name(&d.unlabeled))?;
    out.set_item("threshold", d.threshold)?;
    out.set_item("num_students", d.num_students)?;
    out.set_item("labels", value_name(&d.labels))?;
    out.set_item("temperature", d.temperature)?;
    out.set_item("balance", value_name(&d.balance))?;
    out.set_item("balance_target", d.balance_target)?;
    out.set_item("relabel", d.relabel)?;
    out.set_item("ensemble_size", d.ensemble_size)?;
    out.set_item("arch", value_name(&d.teacher.arch))?;
    out.set_item("width", f64::from(d.teacher.width))?;
    out.set_item("student_arch", value_name(&d.student.arch))?;
    out.set_item("student_width", f64::from(d.student.width))?;
    out.set_item("dropout", d.student.dropout)?;
    out.set_item("survival", d.student.survival)?;
    out.set_item("augment", d.augment.enabled)?;
    out.set_item("augment_ops", d.augment.num_ops)?;
    out.set_item("magnitude", d.augment.magnitude)?;
    out.set_item("flip", value_name(&Flip::default()))?;
    out.set_item("no_noise", false)?;
    out.set_item("epochs", d.fit.epochs)?;
    out.set_item("batch", d.fit.batch_size)?;
    out.set_item("lr", d.fit.learning_rate)?;
    out.set_item("seed", d.seed)?;
    out.set_item("engine", value_name(&EngineName::default()))?;
    out.set_item("threads", none)?;
    out.set_item("sequential_members", false)?;
    Ok(out)
}

/// The [`Overrides`] of the model parameters in `params` (a dict holding every name of
/// [`MODEL_PARAMS`]; `None` keeps the default).
pub fn overrides(params: &Bound<'_, PyDict>) -> PyResult<Overrides> {
    let p = Params(params);
    Ok(Overrides {
        algo: p.choice("algo")?,
        teacher_factor: p.float("teacher_factor")?,
        labeled_split: p.choice("labeled_split")?,
        unl_factor: p.float("unl_factor")?,
        unlabeled_schedule: p.choice("unlabeled_schedule")?,
        threshold: p.float("threshold")?,
        num_students: p.count("num_students")?,
        labels: p.choice("labels")?,
        temperature: p.float("temperature")?,
        balance: p.choice("balance")?,
        balance_target: p.count("balance_target")?,
        relabel: p.flag("relabel")?,
        ensemble_size: p.count("ensemble_size")?,
        arch: p.choice("arch")?,
        width: p.float32("width")?,
        student_arch: p.choice("student_arch")?,
        student_width: p.float32("student_width")?,
        dropout: p.float("dropout")?,
        survival: p.float("survival")?,
        augment: p.flag("augment")?,
        augment_ops: p.count("augment_ops")?,
        magnitude: p.float("magnitude")?,
        flip: p.choice("flip")?,
        no_noise: p.flag("no_noise")?.unwrap_or(false),
        epochs: p.count("epochs")?,
        batch: p.count("batch")?,
        lr: p.float("lr")?,
        seed: p.seed("seed")?,
    })
}

/// The engine a name chooses, as `--engine` reads it.
pub fn engine(params: &Bound<'_, PyDict>) -> PyResult<EngineName> {
    Ok(Params(params).choice("engine")?.unwrap_or_default())
}

/// Refuses a parameter dict with a name that is not a parameter (a typo would otherwise be
/// ignored silently).
pub fn check_names(params: &Bound<'_, PyDict>) -> PyResult<()> {
    for key in params.keys() {
        let name: String = key.extract()?;
        if !MODEL_PARAMS.contains(&name.as_str()) && !RUN_PARAMS.contains(&name.as_str()) {
            return Err(PyValueError::new_err(format!(
                "{name} is not a parameter of nstudent train; the parameters are: {}",
                MODEL_PARAMS
                    .iter()
                    .chain(RUN_PARAMS)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

/// Typed reads of one parameter dict; `None` (or a missing key) is "not set".
struct Params<'a, 'py>(&'a Bound<'py, PyDict>);

impl Params<'_, '_> {
    fn get(&self, name: &str) -> PyResult<Option<Bound<'_, PyAny>>> {
        Ok(self.0.get_item(name)?.filter(|v| !v.is_none()))
    }

    fn read<T>(
        &self,
        name: &str,
        what: &str,
        f: impl Fn(&Bound<'_, PyAny>) -> Option<T>,
    ) -> PyResult<Option<T>> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => match f(&v) {
                Some(t) => Ok(Some(t)),
                None => Err(PyValueError::new_err(format!(
                    "{name}={}: expected {what}",
                    v.repr().map(|r| r.to_string()).unwrap_or_default()
                ))),
            },
        }
    }

    fn choice<T: ValueEnum>(&self, name: &str) -> PyResult<Option<T>> {
        let names: Vec<String> = T::value_variants().iter().map(value_name).collect();
        let what = format!("one of {}", names.join(", "));
        self.read(name, &what, |v| {
            let text: String = v.extract().ok()?;
            T::from_str(&text, false).ok()
        })
    }

    fn float(&self, name: &str) -> PyResult<Option<f64>> {
        self.read(name, "a number", |v| {
            if v.is_instance_of::<pyo3::types::PyBool>() {
                return None;
            }
            v.extract::<f64>().ok()
        })
    }

    /// A float32 setting read as the CLI reads it: the number's shortest decimal text parsed
    /// as f32, so that `width=1.3` is the `--width 1.3` float exactly.
    fn float32(&self, name: &str) -> PyResult<Option<f32>> {
        Ok(match self.float(name)? {
            Some(v) => {
                Some(v.to_string().parse::<f32>().map_err(|e| {
                    PyValueError::new_err(format!("{name}={v}: not a float32 ({e})"))
                })?)
            }
            None => None,
        })
    }

    fn count(&self, name: &str) -> PyResult<Option<usize>> {
        self.read(name, "a whole number >= 0", |v| {
            if v.is_instance_of::<pyo3::types::PyBool>() {
                return None;
            }
            v.extract::<usize>().ok()
        })
    }

    fn seed(&self, name: &str) -> PyResult<Option<u64>> {
        self.read(name, "a whole number 0 to 2**64 - 1", |v| {
            if v.is_instance_of::<pyo3::types::PyBool>() {
                return None;
            }
            v.extract::<u64>().ok()
        })
    }

    fn flag(&self, name: &str) -> PyResult<Option<bool>> {
        self.read(name, "True or False", |v| v.extract::<bool>().ok())
    }
}
