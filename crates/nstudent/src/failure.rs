//! Turning library errors into one-line messages and exit codes.
//!
//! Exit codes: 0 success, 2 bad input or usage (the user can fix it), 1 internal failure.

/// An error in what the user asked for, found by the CLI itself (a bad flag combination, a
/// value out of range). Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Shorthand for returning a [`UsageError`].
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::failure::UsageError(format!($($arg)*))))
    };
}
pub(crate) use usage;

/// 2 when any error in the chain was caused by the user's input, else 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        let user = if cause.is::<UsageError>() || cause.is::<std::io::Error>() {
            true
        } else if let Some(e) = cause.downcast_ref::<nstudent_data::Error>() {
            e.is_user_error()
        } else if let Some(e) = cause.downcast_ref::<nstudent_engine::Error>() {
            e.is_user_error()
        } else if let Some(e) = cause.downcast_ref::<nstudent_stats::Error>() {
            e.is_user_error()
        } else if let Some(e) = cause.downcast_ref::<nstudent_report::Error>() {
            e.is_user_error()
        } else if let Some(e) = cause.downcast_ref::<nstudent_algo::Error>() {
            e.is_user_error()
        } else if let Some(e) = cause.downcast_ref::<nstudent_experiment::Error>() {
            e.is_user_error()
        } else {
            false
        };
        if user {
            return 2;
        }
    }
    1
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
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
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
        let e = anyhow::anyhow!("bad header \u{1b}[2J\u{0}\u{fffd}x\nnext")
            .context("archive.tar.gz: unreadable");
        let line = one_line(&e);
        assert_eq!(
            line,
            "archive.tar.gz: unreadable: bad header \\u{1b}[2J\\u{0}\\u{fffd}x next"
        );
        assert!(!line.chars().any(|c| c.is_control()));
    }
}
