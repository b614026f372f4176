use std::path::PathBuf;

/// What kind of failure an error is, whichever crate raised it: the one fact a front end needs
/// to decide what to do (the CLI turns it into an exit code in one place; the Python package
/// into an exception class). Every library error of nstudent has a `kind()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Something the user asked for is not valid: a flag, a setting, a name, a combination.
    Usage,
    /// The user's data or files are not what they must be: a format, a label, a model file.
    Data,
    /// A file or directory could not be read or written (a path, a permission, a full disk).
    Io,
    /// The work was stopped on request (Ctrl-C) before it finished; nothing half-written.
    Interrupted,
    /// A check the user asked for did not pass (a recomputed cell that differs).
    Failed,
    /// A bug or an unexpected state inside nstudent.
    Internal,
}

impl ErrorKind {
    /// True when the user can fix the cause (an input, a setting, a path), rather than
    /// nstudent itself or a check that did not pass.
    pub fn is_users(self) -> bool {
        matches!(self, ErrorKind::Usage | ErrorKind::Data | ErrorKind::Io)
    }
}

/// Errors of the data layer.
///
/// Every variant except [`Error::Internal`] is caused by the user's input (a path, a file's
/// contents, a name); [`Error::kind`] says which.
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
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::Format { .. } => ErrorKind::Data,
            Error::Invalid(_) => ErrorKind::Usage,
            Error::Internal(_) => ErrorKind::Internal,
        }
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
