//! nstudent's errors as Python exceptions.

use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

/// A library error as Python raises it: the user's input (settings, data, a model file that
/// is not nstudent's) as `ValueError`, a file that cannot be read or written as `OSError`, a
/// stopped training as `KeyboardInterrupt`, and nstudent's own failures as `RuntimeError`.
pub fn to_py(e: nstudent_algo::Error) -> PyErr {
    use nstudent_core::ErrorKind;
    let message = e.to_string();
    match e.kind() {
        ErrorKind::Interrupted => PyKeyboardInterrupt::new_err(message),
        ErrorKind::Io => PyOSError::new_err(message),
        ErrorKind::Usage | ErrorKind::Data => PyValueError::new_err(message),
        ErrorKind::Failed | ErrorKind::Internal => PyRuntimeError::new_err(message),
    }
}
