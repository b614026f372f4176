//! `nstudent._native`: the Rust side of the Python package's estimator. It trains through
//! [`nstudent_algo::Trainer`] with the config `nstudent train` builds from the same settings
//! ([`nstudent_algo::Overrides`]), so that Python and the CLI save the same model bits, and
//! predicts with the saved model files. The scikit-learn conventions live in Python
//! (`python/nstudent/estimator.py`).

mod error;
mod model;
mod params;
mod train;

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Pixel values (float64, any shape flattened) as bytes, as a CSV's pixels are read:
/// `max_value` `None` takes integers 0-255 as they are, a maximum `m` scales `[0, m]` to
/// 0-255 by `round(v * 255 / m)`. A value outside that range, NaN or infinity is a
/// `ValueError` naming its position.
#[pyfunction]
#[pyo3(signature = (values, max_value=None))]
fn pixels_to_bytes<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
    max_value: Option<f64>,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    use nstudent_data::read::csv::{pixel_scale, pixel_value_byte};
    let scale = pixel_scale(max_value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let values = values.as_array();
    let mut out = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        match pixel_value_byte(v, scale) {
            Some(b) => out.push(b),
            None => return Err(PyValueError::new_err(bad_pixel(i, v, max_value))),
        }
    }
    Ok(PyArray1::from_vec(py, out))
}

/// Why pixel value `v` at flat position `i` was refused, and the fix.
fn bad_pixel(i: usize, v: f64, max_value: Option<f64>) -> String {
    match max_value {
        _ if !v.is_finite() => {
            format!("X holds {v} at flat position {i}: pixels must be finite numbers")
        }
        Some(m) => format!(
            "X holds {v} at flat position {i}, outside 0-{m}: pass max_value, the largest pixel \
             value (1 for [0, 1], 16 for scikit-learn's digits, 255 for 0-255)"
        ),
        None => format!(
            "X holds {v} at flat position {i}, not an integer 0-255: pass max_value, the largest \
             pixel value (1 for [0, 1], 16 for scikit-learn's digits)"
        ),
    }
}

/// `(height, width, channels)` of a flat row of `pixels` values as a CSV row is read when no
/// shape is given (a square grey image, else a square RGB one), or `None`.
#[pyfunction]
fn infer_image_shape(pixels: usize) -> Option<(usize, usize, usize)> {
    nstudent_data::read::csv::infer_shape(pixels).map(|s| (s.height, s.width, s.channels))
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(params::defaults, m)?)?;
    m.add_function(wrap_pyfunction!(train::config_toml, m)?)?;
    m.add_function(wrap_pyfunction!(train::train, m)?)?;
    m.add_function(wrap_pyfunction!(pixels_to_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(infer_image_shape, m)?)?;
    m.add_class::<model::PyModel>()?;
    m.add("MODEL_PARAMS", params::MODEL_PARAMS.to_vec())?;
    m.add("RUN_PARAMS", params::RUN_PARAMS.to_vec())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
