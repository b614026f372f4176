//! Turning library errors into one-line messages and exit codes.
//!
//! Exit codes: 0 success, 2 bad input or usage (the user can fix it), 130 interrupted, 1 a
//! failed check or an internal failure ([`exit_code`]).

use nstudent_core::ErrorKind;

/// An error in what the user asked for, found by the CLI itself (a bad flag combination, a
/// value out of range): [`ErrorKind::Usage`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Why a command failed: the kind of failure, which alone decides the exit code
/// ([`exit_code`]), and the message chain. Every library error becomes one through `?`, keeping
/// the kind it carries; nothing is told apart later by downcasting.
#[derive(Debug)]
pub struct Failure {
    kind: ErrorKind,
    error: anyhow::Error,
}

/// The outermost message; [`one_line`] gives the whole chain.
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// What a command returns.
pub type Result<T = ()> = std::result::Result<T, Failure>;

/// Errors that know their kind: nstudent's library errors, the CLI's usage errors, and I/O.
pub trait Kinded: std::error::Error + Send + Sync + 'static {
    fn error_kind(&self) -> ErrorKind;
}

macro_rules! library_errors {
    ($($t:ty),*) => {
        $(impl Kinded for $t {
            fn error_kind(&self) -> ErrorKind {
                self.kind()
            }
        })*
    };
}
library_errors!(
    nstudent_core::Error,
    nstudent_engine::Error,
    nstudent_algo::Error,
    nstudent_stats::Error,
    nstudent_report::Error,
    nstudent_experiment::Error
);

impl Kinded for std::io::Error {
    fn error_kind(&self) -> ErrorKind {
        ErrorKind::Io
    }
}

/// The CLI uses serde_json only to write its own values as JSON, which fails only by a bug.
impl Kinded for serde_json::Error {
    fn error_kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}

/// Writing text into a `String` fails only by a bug.
impl Kinded for std::fmt::Error {
    fn error_kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}

impl Kinded for UsageError {
    fn error_kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }
}

impl<E: Kinded> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            kind: e.error_kind(),
            error: anyhow::Error::new(e),
        }
    }
}

impl Failure {
    /// A failure of `kind` with `error`'s message chain.
    pub fn new(kind: ErrorKind, error: impl Into<anyhow::Error>) -> Self {
        Failure {
            kind,
            error: error.into(),
        }
    }

    /// A library error the user can fix, shown as its own message only (its causes are in
    /// it already); other kinds keep their whole chain.
    pub fn flat<E: Kinded>(e: E) -> Self {
        match e.error_kind() {
            kind if kind.is_users() => Failure::new(kind, UsageError(e.to_string())),
            _ => Failure::from(e),
        }
    }

    /// A check the user asked for that did not pass.
    pub fn failed(message: String) -> Self {
        Failure::new(ErrorKind::Failed, anyhow::Error::msg(message))
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The same failure, its message prefixed with `context`.
    pub fn context(self, context: impl std::fmt::Display + Send + Sync + 'static) -> Self {
        Failure {
            kind: self.kind,
            error: self.error.context(context),
        }
    }
}

/// `.with_context()` for the results commands handle: the message grows, the kind stays.
pub trait Context<T> {
    fn with_context<C: std::fmt::Display + Send + Sync + 'static>(
        self,
        context: impl FnOnce() -> C,
    ) -> Result<T>;
}

impl<T, E: Into<Failure>> Context<T> for std::result::Result<T, E> {
    fn with_context<C: std::fmt::Display + Send + Sync + 'static>(
        self,
        context: impl FnOnce() -> C,
    ) -> Result<T> {
        self.map_err(|e| e.into().context(context()))
    }
}

/// Shorthand for returning a [`UsageError`].
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err($crate::failure::Failure::from($crate::failure::UsageError(format!($($arg)*))))
    };
}
pub(crate) use usage;

/// The exit code of a failure, the one place kinds become codes: 2 when the user can fix the
/// cause, 130 when stopped by Ctrl-C (as shells report SIGINT), 1 otherwise.
pub fn exit_code(failure: &Failure) -> u8 {
    match failure.kind() {
        ErrorKind::Usage | ErrorKind::Data | ErrorKind::Io => 2,
        ErrorKind::Interrupted => 130,
        ErrorKind::Failed | ErrorKind::Internal => 1,
    }
}

/// `text` with its control characters escaped (`\u{1b}` for ESC, `\n` for a newline), so that
/// names from the user's files (a folder called `\e[31mred`) cannot drive the terminal.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = c.is_control() || c == '\u{fffd}';
            let shown: Vec<char> = if escape {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            shown
        })
        .collect()
}

/// The whole error chain on one line: "context: cause: root cause". Control characters (a
/// corrupt archive's binary bytes, quoted by a reader) are escaped, so the terminal shows the
/// message and nothing else.
pub fn one_line(failure: &Failure) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in failure.error.chain() {
        let text = escape_controls(&cause.to_string().replace('\n', " "));
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_of_printable_text() {
        let e = Failure::new(
            ErrorKind::Data,
            anyhow::anyhow!("bad header \u{1b}[2J\u{0}\u{fffd}x\nnext"),
        )
        .context("archive.tar.gz: unreadable");
        let line = one_line(&e);
        assert_eq!(
            line,
            "archive.tar.gz: unreadable: bad header \\u{1b}[2J\\u{0}\\u{fffd}x next"
        );
        assert!(!line.chars().any(|c| c.is_control()));
    }

    #[test]
    fn the_kind_alone_decides_the_exit_code_and_survives_context() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let cases: [(Failure, u8); 6] = [
            (UsageError("bad flag".into()).into(), 2),
            (
                nstudent_core::Error::format("f.csv", "no label column").into(),
                2,
            ),
            (io.into(), 2),
            (
                Failure::new(ErrorKind::Interrupted, anyhow::anyhow!("stopped")),
                130,
            ),
            (Failure::failed("1 of 2 cells differ".into()), 1),
            (nstudent_experiment::Error::Internal("bug".into()).into(), 1),
        ];
        for (failure, code) in cases {
            let kind = failure.kind();
            let wrapped = failure.context("while reading");
            assert_eq!((wrapped.kind(), exit_code(&wrapped)), (kind, code));
        }
    }

    #[test]
    fn a_library_error_keeps_its_kind_through_question_mark() {
        fn open() -> Result<()> {
            let inner = nstudent_core::Error::io(
                "x.csv",
                std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
            );
            Err(nstudent_algo::Error::Data(inner))?;
            Ok(())
        }
        let e = open().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(one_line(&e), "x.csv: gone");
        // A user's error shown flat keeps its kind; an internal one keeps its chain.
        let flat = Failure::flat(nstudent_algo::Error::Invalid("too few images".into()));
        assert_eq!(
            (flat.kind(), one_line(&flat).as_str()),
            (ErrorKind::Usage, "too few images")
        );
    }
}
