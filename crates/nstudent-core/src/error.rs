use std::path::PathBuf;

/// Errors of the data layer.
///
/// Every variant except [`Error::Internal`] is caused by the user's input (a path, a file's
/// contents, a name); the CLI maps those to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file's contents are not what its format requires.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// A name, range or option the user gave is not valid.
    #[error("{0}")]
    Invalid(String),
    /// A bug or an unexpected state inside nstudent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// True when the error comes from the user's input rather than from nstudent itself.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Internal(_))
    }

    /// An [`Error::Io`] naming `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Format`] naming `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
