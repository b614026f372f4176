use std::path::PathBuf;

use nstudent_core::ErrorKind;

/// Errors of the training engines.
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
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::Format { .. } => ErrorKind::Data,
            Error::Invalid(_) => ErrorKind::Usage,
            Error::Data(e) => e.kind(),
            Error::Internal(_) => ErrorKind::Internal,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
