use std::path::PathBuf;

/// Errors of the training engines.
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
    /// A model file is not one nstudent can load.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// A spec, option or input that does not fit the model.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Data(#[from] nstudent_core::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// True when the error comes from the user's input rather than from nstudent itself.
    pub fn is_user_error(&self) -> bool {
        match self {
            Error::Internal(_) => false,
            Error::Data(e) => e.is_user_error(),
            _ => true,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
