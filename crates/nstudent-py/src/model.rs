//! A trained model in Python: prediction, and the CLI's model files.

use std::path::PathBuf;

use nstudent_algo::Model;
use nstudent_core::ImagesRef;
use nstudent_engine::{EngineName, Threads};
use numpy::{PyArray2, PyReadonlyArray4};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::error::to_py;
use crate::train::images_of;

/// One model or an ensemble, as `nstudent train` saves it and `nstudent predict` loads it.
#[pyclass(name = "Model", module = "nstudent._native", frozen)]
pub struct PyModel {
    model: Model,
}

impl PyModel {
    pub fn new(model: Model) -> Self {
        Self { model }
    }
}

#[pymethods]
impl PyModel {
    /// Loads a model file or an ensemble directory saved by `nstudent train` or `save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let engine = EngineName::Native.engine().map_err(|e| to_py(e.into()))?;
        let model = py
            .detach(|| Model::load(engine.as_ref(), &path))
            .map_err(to_py)?;
        Ok(Self { model })
    }

    /// Saves to `path`: one safetensors file, or a directory for an ensemble (written beside
    /// and renamed into place, so a failed save leaves no partial model).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.model.save(&path)).map_err(to_py)
    }

    /// Class probabilities of uint8 `(n, h, w, c)` images, `(n, num_classes)` float32, on
    /// `threads` threads (0: every core); the same values for any thread count.
    #[pyo3(signature = (images, threads=0))]
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        images: PyReadonlyArray4<'py, u8>,
        threads: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (pixels, shape) = images_of(&images, "X")?;
        let n = pixels.len() / shape.len();
        let k = self.model.num_classes();
        let images = ImagesRef {
            pixels: &pixels,
            shape,
        };
        let probs = py
            .detach(|| {
                self.model
                    .predict_proba_on(images, Threads::resolve(threads))
            })
            .map_err(to_py)?;
        let rows: Vec<Vec<f32>> = probs.chunks(k.max(1)).map(<[f32]>::to_vec).collect();
        debug_assert_eq!(rows.len(), n);
        PyArray2::from_vec2(py, &rows).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The class names saved with the model (the training labels as text).
    #[getter]
    fn class_names(&self) -> Vec<String> {
        self.model.class_names().to_vec()
    }

    /// `(height, width, channels)` of the images the model takes.
    #[getter]
    fn input_shape(&self) -> (usize, usize, usize) {
        let s = self.model.spec().input;
        (s.height, s.width, s.channels)
    }

    #[getter]
    fn num_classes(&self) -> usize {
        self.model.num_classes()
    }

    /// Models averaged (1 for a single model).
    #[getter]
    fn members(&self) -> usize {
        self.model.len()
    }

    fn __repr__(&self) -> String {
        let s = self.model.spec().input;
        format!(
            "Model({} classes, {}x{}x{} images, {} member{})",
            self.model.num_classes(),
            s.height,
            s.width,
            s.channels,
            self.model.len(),
            if self.model.len() == 1 { "" } else { "s" }
        )
    }
}
