use std::path::PathBuf;

use nstudent_core::ErrorKind;

/// Errors of the study runner.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The study config (a file, a preset name or a command-line override) is not valid.
    #[error("{0}")]
    Config(String),
    /// The results directory was made by a different config.
    #[error("{dir}: holds a study with config hash {found}, but this config hashes to {expected}; use another --out, or --force to start over (finished cells are moved to {dir}/superseded-{found}/)")]
    ConfigChanged {
        dir: PathBuf,
        found: String,
        expected: String,
    },
    /// A results directory or file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file in the results directory is not what nstudent wrote there.
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error(transparent)]
    Data(#[from] nstudent_data::Error),
    #[error(transparent)]
    Engine(#[from] nstudent_engine::Error),
    #[error(transparent)]
    Algo(#[from] nstudent_algo::Error),
    #[error(transparent)]
    Report(#[from] nstudent_report::Error),
    #[error(transparent)]
    Stats(#[from] nstudent_stats::Error),
    /// A cell failed; the message names it.
    #[error("{cell}: {message}")]
    Cell {
        cell: String,
        message: String,
        /// The kind of the cause.
        kind: ErrorKind,
    },
    /// A bug or an unexpected state inside nstudent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) | Error::ConfigChanged { .. } => ErrorKind::Usage,
            Error::Io { .. } => ErrorKind::Io,
            Error::Corrupt { .. } => ErrorKind::Data,
            Error::Data(e) => e.kind(),
            Error::Engine(e) => e.kind(),
            Error::Algo(e) => e.kind(),
            Error::Stats(e) => e.kind(),
            Error::Report(e) => e.kind(),
            Error::Cell { kind, .. } => *kind,
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
