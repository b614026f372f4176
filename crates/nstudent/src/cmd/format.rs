//! `--format text|json`, the same flag on every command that prints results.

/// How a command prints its results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    #[default]
    Text,
    /// One JSON document, its numbers as numbers.
    Json,
}

/// Prints `value` as one pretty JSON document and a newline to stdout; a closed pipe
/// (`| head`) is not an error.
pub fn print_json(value: &impl serde::Serialize) -> crate::failure::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    write_stdout(&format!("{text}\n"))
}

/// Writes to stdout; a closed pipe ends the output quietly.
pub fn write_stdout(text: &str) -> crate::failure::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
