use std::path::PathBuf;

use nstudent_core::ErrorKind;

/// Errors of report writing.
///
/// [`Error::Io`], [`Error::Invalid`] and user errors of the statistics crate come from the
/// user's input or environment; [`Error::Chart`], [`Error::Workbook`]
/// and [`Error::Internal`] are nstudent's own failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A table or option that no report can be made from (an empty table, a bad alpha).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Stats(#[from] nstudent_stats::Error),
    #[error("cannot draw the {chart} chart: {message}")]
    Chart {
        chart: &'static str,
        message: String,
    },
    #[error("cannot build the spreadsheet: {0}")]
    Workbook(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::Invalid(_) => ErrorKind::Usage,
            Error::Stats(e) => e.kind(),
            Error::Chart { .. } | Error::Workbook(_) | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<rust_xlsxwriter::XlsxError> for Error {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        Error::Workbook(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
