use std::path::PathBuf;

/// Errors of metrics and statistics.
///
/// Every variant except [`Error::Internal`] is caused by the user's input; the CLI maps those
/// to exit code 2.
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
    /// True when the error comes from the user's input rather than from nstudent itself.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Internal(_))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
