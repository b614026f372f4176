use std::path::PathBuf;

use nstudent_core::ErrorKind;

/// Errors of metrics and statistics.
///
/// Every variant except [`Error::Internal`] is caused by the user's input; [`Error::kind`] says
/// which.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A table or CSV file that does not have the expected layout or values.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// Inputs that a metric or test cannot be computed on.
    #[error("{0}")]
    Invalid(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::Format { .. } | Error::Invalid(_) => ErrorKind::Data,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
