//! `nstudent status`: which cells of a study directory are finished, and what the rest cost.

use crate::failure::Failure;
use std::path::PathBuf;

use nstudent_experiment::{merge as merging, plan, StudyDir};

use super::format::{print_json, Format};
use super::run::out;
use super::study_json;

/// List the cells of a study directory that are still missing.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// Results directory of `nstudent run`.
    #[arg(default_value = "nstudent-results")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: StatusArgs) -> crate::failure::Result<()> {
    let study = StudyDir::open(&args.dir).map_err(Failure::flat)?;
    let cells = plan::cells(study.config());
    let (table, missing) = merging::collect(&study).map_err(Failure::flat)?;
    if args.format == Format::Json {
        let (records, todo) = study.finished_and_todo(&cells);
        let threads = study.study().budget().threads;
        let remaining = study_json::remaining(&plan::remaining(&todo, &records), threads.get());
        return print_json(&study_json::status(
            &args.dir,
            study.hash(),
            cells.len(),
            table.rows.len(),
            &missing,
            remaining,
        ));
    }
    out(&format!(
        "{}: {} of {} cells finished, {} missing (config hash {})",
        args.dir.display(),
        table.rows.len(),
        cells.len(),
        missing.len(),
        study.hash()
    ));
    for c in &missing {
        out(&format!(
            "missing  cell {:>5}  {}  fold {}  {}",
            c.index, c.task, c.fold, c.algorithm
        ));
    }
    let (records, todo) = study.finished_and_todo(&cells);
    let threads = study.study().budget().threads;
    let remaining = plan::remaining(&todo, &records);
    if let Some(line) = remaining.describe(threads.get()) {
        out(&line);
    }
    if remaining.unknown > 0 {
        let dir = shell_word(&args.dir.display().to_string());
        out(&format!(
            "for a prediction of every cell from the data and this machine's speed: nstudent run --config {} --out {dir} --plan",
            shell_word(&args.dir.join("study.toml").display().to_string())
        ));
    }
    Ok(())
}

/// `word` as one word of a POSIX shell command line: as it is when it holds only characters no
/// shell treats specially, otherwise in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./,:+@%=".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn a_word_is_quoted_only_when_a_shell_would_split_or_expand_it() {
        assert_eq!(
            shell_word("results/seed-mnist_0-4"),
            "results/seed-mnist_0-4"
        );
        assert_eq!(shell_word("my results"), "'my results'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
        assert_eq!(shell_word(""), "''");
    }
}
