use std::path::PathBuf;

use nstudent_core::ErrorKind;

/// Errors of the algorithms.
///
/// Every variant except [`Error::Internal`] (and engine or data errors that are internal
/// themselves) is caused by the user's input; [`Error::kind`] says which.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting of [`crate::AlgoConfig`] out of range; `key` is its path in the config
    /// (`threshold`, `student.dropout`, `fit.epochs`, ...), so that a study can name its own
    /// key for it.
    #[error("{message}")]
    OutOfRange { key: &'static str, message: String },
    /// An option that does not fit, or data that does not fit the algorithm.
    #[error("{0}")]
    Invalid(String),
    /// A model file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A saved model or ensemble that nstudent cannot load.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// A trained model's probabilities on its own training image `image` (0-based) are not
    /// finite: the training diverged, and nothing may be saved.
    #[error(
        "training diverged: the model's probabilities for training image {image} are not \
         finite, so nothing was saved; lower the learning rate (--lr {learning_rate})"
    )]
    Diverged { image: usize, learning_rate: f64 },
    /// Training was stopped by [`crate::Trainer::stop_on`]'s flag (Ctrl-C in Python) before
    /// it finished; no model was made.
    #[error("training was interrupted before it finished; no model was made")]
    Interrupted,
    #[error(transparent)]
    Engine(#[from] nstudent_engine::Error),
    #[error(transparent)]
    Data(#[from] nstudent_data::Error),
    /// A bug or an unexpected state inside nstudent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            // A diverged training is fixed by a lower learning rate.
            Error::OutOfRange { .. } | Error::Invalid(_) | Error::Diverged { .. } => {
                ErrorKind::Usage
            }
            Error::Interrupted => ErrorKind::Interrupted,
            Error::Io { .. } => ErrorKind::Io,
            Error::Format { .. } => ErrorKind::Data,
            Error::Engine(e) => e.kind(),
            Error::Data(e) => e.kind(),
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
