//! `nstudent`: Noisy Student self-training studies from the command line.

mod cmd;
mod failure;
mod outputs;
mod progress;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Noisy Student self-training studies on small image datasets.
///
/// Start with `nstudent run` (a quick study on the embedded Fashion-MNIST test split) or
/// `nstudent data info fashion-mnist-10k`.
#[derive(Parser)]
#[command(name = "nstudent", version, about, long_about = None)]
#[command(propagate_version = true, arg_required_else_help = true)]
#[command(after_help = "Environment:\n  \
    NSTUDENT_DATA         where datasets live (default: $XDG_DATA_HOME/nstudent)\n  \
    NSTUDENT_MIRROR       where `data fetch` downloads from\n  \
    NSTUDENT_MAX_DATA_GB  the data budget of --max-data-gb (default 2)\n  \
    NSTUDENT_KERNELS      the native engine's kernels: auto (default), avx512 or portable\n  \
    NSTUDENT_BURN_DEVICE  the burn engine's backend: flex, cuda, cuda:N or wgpu")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The most gigabytes (2^30 bytes) one data file may decompress to, or hold as pixels:
    /// a small compressed file cannot claim the machine's memory [default: 2, or
    /// $NSTUDENT_MAX_DATA_GB]
    #[arg(long, global = true, value_name = "GB")]
    max_data_gb: Option<f64>,
}

#[derive(Subcommand)]
enum Command {
    /// List, inspect and download datasets.
    #[command(subcommand)]
    Data(cmd::data::DataCommand),
    /// Train a model (baseline, Noisy Student or ensemble) and save it.
    // A negative value (`--threshold -0.1`) reaches validation, which names the range.
    #[command(allow_negative_numbers = true)]
    Train(Box<cmd::train::Args>),
    /// Write class probabilities of a saved model as CSV.
    // A negative value (`--threshold -0.1`) reaches validation, which names the range.
    #[command(allow_negative_numbers = true)]
    Predict(cmd::predict::Args),
    /// Score class probabilities against true labels (accuracy, TPR, FPR, precision, AUC, AP).
    // A negative value (`--threshold -0.1`) reaches validation, which names the range.
    #[command(allow_negative_numbers = true)]
    Score(cmd::score::Args),
    /// Compare two models on the same labeled images: accuracies, the difference with a
    /// bootstrap interval, McNemar's test.
    Compare(cmd::compare::Args),
    /// Run the study: nested cross-validation of the algorithms over tasks.
    // A negative value (`--threshold -0.1`) reaches validation, which names the range.
    #[command(allow_negative_numbers = true)]
    Run(cmd::run::Args),
    /// List the cells of a study directory that are still missing.
    Status(cmd::status::StatusArgs),
    /// Build the metrics table of a study directory from its finished cells.
    Merge(cmd::merge::MergeArgs),
    /// Recompute finished cells of a study directory and check they are the same, bit for bit.
    // A negative value (`--threshold -0.1`) reaches validation, which names the range.
    #[command(allow_negative_numbers = true)]
    Verify(cmd::verify::VerifyArgs),
    /// Friedman, Nemenyi and Wilcoxon-Holm tests over a metrics table, with a CD diagram.
    // A negative value (`--threshold -0.1`) reaches validation, which names the range.
    #[command(allow_negative_numbers = true)]
    Stats(cmd::stats::Args),
    /// Write the HTML report and spreadsheet of a study.
    Report(cmd::report::Args),
    /// Plot accuracy against the labeled fraction from studies that vary only that fraction.
    Curve(cmd::curve::Args),
    /// Measure training and inference speed of the engine on this machine.
    Bench(cmd::bench::Args),
    /// Print a shell completion script (e.g. `nstudent completions bash > ~/.local/share/bash-completion/completions/nstudent`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// The shells `nstudent completions` writes a script for.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Writes the completion script of `shell` to stdout.
fn completions(shell: Shell) -> crate::failure::Result<()> {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "nstudent", &mut script);
    let script = String::from_utf8(script)
        .map_err(|e| failure::Failure::new(nstudent_core::ErrorKind::Internal, e))?;
    cmd::format::write_stdout(&script)
}

/// Rust ignores SIGPIPE, so `print!` to a closed pipe (`nstudent stats t.csv | head -3`)
/// panics; the default action ends the process quietly instead, as for other Unix tools.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: sets the disposition of one signal to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}

/// A command-line error as one line: clap's message with its possible values and tips,
/// without the usage block, and where to look next.
fn usage_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut line = String::new();
    let mut in_usage = false;
    for part in text.lines().map(str::trim) {
        if part.starts_with("Usage:") {
            in_usage = true;
            continue;
        }
        if part.is_empty() {
            in_usage = false;
            continue;
        }
        if in_usage || part.starts_with("For more information") {
            continue;
        }
        let part = part.strip_prefix("error: ").unwrap_or(part);
        if !line.is_empty() {
            let joint = part.starts_with('[') || line.ends_with(':');
            line.push_str(if joint { " " } else { "; " });
        }
        line.push_str(part);
    }
    if line.is_empty() {
        line.push_str("invalid arguments");
    }
    format!("{}; see --help", failure::escape_controls(&line))
}

fn main() -> ExitCode {
    restore_sigpipe();
    let command = Cli::command().mut_subcommand("train", cmd::train::with_defaults);
    let parsed = command
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        // Help and version go to stdout as clap prints them.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprintln!("error: {}", usage_line(&e));
            return ExitCode::from(2);
        }
    };
    if let Some(gb) = cli.max_data_gb {
        if !(gb.is_finite() && gb > 0.0) {
            eprintln!("error: --max-data-gb {gb} must be a positive number of gigabytes");
            return ExitCode::from(2);
        }
        nstudent_data::set_data_budget((gb * (1u64 << 30) as f64) as u64);
    }
    // A bad NSTUDENT_KERNELS is the user's input: refuse it before any work.
    if let Err(e) = nstudent_engine::KernelPath::from_env() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Data(c) => cmd::data::run(c),
        Command::Train(a) => cmd::train::run(*a),
        Command::Predict(a) => cmd::predict::run(a),
        Command::Score(a) => cmd::score::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Status(a) => cmd::status::run(a),
        Command::Merge(a) => cmd::merge::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Stats(a) => cmd::stats::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Curve(a) => cmd::curve::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Completions { shell } => completions(shell),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = failure::exit_code(&err);
            eprintln!("error: {}", failure::one_line(&err));
            ExitCode::from(code)
        }
    }
}
