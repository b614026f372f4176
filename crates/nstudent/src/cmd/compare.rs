//! `nstudent compare`: two models on the same labeled images, with a paired verdict.

use std::path::{Path, PathBuf};

use nstudent_stats::metrics::argmax;
use nstudent_stats::predictions;
use nstudent_stats::render::format_p;
use nstudent_stats::two_models::{compare_predictions, BootstrapSettings, ModelComparison};
use serde::Serialize;

use super::format::{print_json, write_stdout, Format};
use super::predict::{load_for, open_split, probabilities, Input, SplitArg};
use crate::failure::usage;

/// Compare two models on the same labeled images: each one's accuracy, the difference with a
/// paired bootstrap interval, and McNemar's exact test. Either two saved models and the data
/// (`--model A --model B --data DATA`), or two probability CSVs of `nstudent predict` with
/// the true labels (`--labels LABELS.csv A.csv B.csv`). The difference is second minus first.
#[derive(clap::Args)]
pub struct Args {
    /// Two CSVs of class probabilities (first, then second), one row per image in the order
    /// of --labels; written by `nstudent predict`, pandas or numpy.
    #[arg(value_name = "PROBA.csv", num_args = 0..=2)]
    proba: Vec<PathBuf>,
    /// True class labels (0-based) of the probability CSVs' images, one per line.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// A saved model (file or ensemble directory); give it twice, first then second.
    #[arg(long, value_name = "MODEL")]
    model: Vec<PathBuf>,
    /// Labeled data both models classify (a source, a task or a path `train` reads).
    #[arg(long, value_name = "DATA")]
    data: Option<String>,
    /// Which split of --data (default: test when the data has one, else train).
    #[arg(long, value_enum)]
    split: Option<SplitArg>,
    /// How --data is read when it is a CSV file or CIFAR-100, and how images are resized.
    #[command(flatten)]
    read: super::read_args::ReadArgs,
    /// Where sources are looked up (default: $NSTUDENT_DATA or the platform data directory).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Engine that loads the models.
    #[arg(long, value_enum, default_value_t)]
    engine: nstudent_engine::EngineName,
    /// Names of the two models in the output (default: their file names).
    #[arg(long, num_args = 2, value_names = ["FIRST", "SECOND"])]
    names: Option<Vec<String>>,
    /// Coverage of the bootstrap interval of the accuracy difference, in (0, 1).
    #[arg(long, default_value_t = BootstrapSettings::default().level)]
    level: f64,
    /// Bootstrap resamples of the test images (>= 100).
    #[arg(long, default_value_t = BootstrapSettings::default().resamples)]
    resamples: usize,
    /// Seed of the bootstrap resamples.
    #[arg(long, default_value_t = BootstrapSettings::default().seed)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The comparison with what was compared, as `--format json` prints it.
#[derive(Serialize)]
struct Output<'a> {
    first: &'a str,
    second: &'a str,
    data: &'a str,
    #[serde(flatten)]
    comparison: &'a ModelComparison,
}

pub fn run(args: Args) -> crate::failure::Result<()> {
    let settings = BootstrapSettings {
        level: args.level,
        resamples: args.resamples,
        seed: args.seed,
    };
    if !(settings.level > 0.0 && settings.level < 1.0) {
        usage!(
            "--level must be between 0 and 1 (exclusive), got {}",
            args.level
        );
    }
    if settings.resamples < 100 {
        usage!("--resamples must be at least 100, got {}", args.resamples);
    }
    let (paths, paired) = match (&args.model[..], &args.proba[..]) {
        ([a, b], []) => ([a.clone(), b.clone()], from_models(&args, a, b)?),
        ([], [a, b]) => ([a.clone(), b.clone()], from_csvs(&args, a, b)?),
        ([], []) | ([_], []) | ([], [_]) => usage!(
            "compare needs two models (--model A --model B --data DATA) or two probability \
             CSVs (--labels LABELS.csv A.csv B.csv)"
        ),
        (models, []) => usage!(
            "--model was given {} times; compare takes exactly two models",
            models.len()
        ),
        _ => usage!(
            "give either two models (--model, with --data) or two probability CSVs (with \
             --labels), not both"
        ),
    };
    let names = match &args.names {
        Some(n) => [n[0].clone(), n[1].clone()],
        None => paths.map(|p| display_name(&p)),
    };
    let comparison = compare_predictions(&paired.labels, &paired.first, &paired.second, settings)?;
    match args.format {
        Format::Json => print_json(&Output {
            first: &names[0],
            second: &names[1],
            data: &paired.data,
            comparison: &comparison,
        }),
        Format::Text => write_stdout(&text(&comparison, &names, &paired.data)),
    }
}

/// The true labels of the compared images and each model's predicted classes, in one order.
struct Paired {
    /// What the images are, for the output.
    data: String,
    labels: Vec<u16>,
    first: Vec<usize>,
    second: Vec<usize>,
}

/// Predicted classes of two saved models on --data, with the data's labels.
fn from_models(args: &Args, a: &Path, b: &Path) -> crate::failure::Result<Paired> {
    if args.labels.is_some() {
        usage!("--labels is for probability CSVs; with --model, the labels come from --data");
    }
    let Some(shown) = args.data.as_deref() else {
        usage!("--data is required with --model: the labeled images both models classify");
    };
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(nstudent_data::default_data_dir);
    let options = args.read.open_options()?;
    let (dataset, split) = open_split(shown, args.split, &data_dir, &options)?;
    let input = Input::Dataset(dataset);
    let engine = args.engine.engine()?;
    let mut predicted = Vec::new();
    for path in [a, b] {
        let (model, _) = load_for(engine.as_ref(), path, &input, shown)?;
        let probs = probabilities(&model, path, &input, shown)?;
        predicted.push(classes(&probs, model.num_classes()));
    }
    let Input::Dataset(dataset) = input else {
        unreachable!("built as a dataset above")
    };
    let second = predicted.pop().unwrap_or_default();
    let first = predicted.pop().unwrap_or_default();
    Ok(Paired {
        data: format!("{shown} ({split})"),
        labels: dataset.labels,
        first,
        second,
    })
}

/// Predicted classes of two probability CSVs, with the labels of --labels.
fn from_csvs(args: &Args, a: &Path, b: &Path) -> crate::failure::Result<Paired> {
    if args.data.is_some() || args.split.is_some() {
        usage!("--data and --split are for models; with probability CSVs, give --labels");
    }
    let Some(labels_path) = &args.labels else {
        usage!("--labels is required with probability CSVs: the true class of each row");
    };
    let labels = predictions::read_labels(labels_path)?;
    let mut predicted = Vec::new();
    for path in [a, b] {
        let proba = predictions::read_probabilities(path)?;
        if proba.rows() != labels.len() {
            usage!(
                "{} holds {} labels but {} holds {} rows of probabilities; both need one line \
                 per image, in the same order",
                labels_path.display(),
                labels.len(),
                path.display(),
                proba.rows()
            );
        }
        if let Some(&l) = labels.iter().find(|&&l| l as usize >= proba.num_classes) {
            usage!(
                "{} has label {l}, but {} has only {} classes (labels are 0-based)",
                labels_path.display(),
                path.display(),
                proba.num_classes
            );
        }
        predicted.push(classes(&proba.values, proba.num_classes));
    }
    let second = predicted.pop().unwrap_or_default();
    let first = predicted.pop().unwrap_or_default();
    Ok(Paired {
        data: labels_path.display().to_string(),
        labels,
        first,
        second,
    })
}

/// The predicted class (argmax) of each row of row-major probabilities.
pub(crate) fn classes(probs: &[f32], k: usize) -> Vec<usize> {
    probs.chunks_exact(k.max(1)).map(argmax).collect()
}

/// A model's name in the output: its file or folder name.
fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// The comparison for people: accuracies, the difference with its interval, McNemar, and a
/// one-line reading.
pub(crate) fn text(c: &ModelComparison, names: &[String; 2], data: &str) -> String {
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let m = &c.mcnemar;
    let s = &c.interval.settings;
    let mut out = format!(
        "{} images of {}\n",
        c.images,
        crate::failure::escape_controls(data)
    );
    for (name, accuracy) in names.iter().zip([c.first_accuracy, c.second_accuracy]) {
        out.push_str(&format!("  {name:<width$}  accuracy {accuracy:.4}\n"));
    }
    out.push_str(&format!(
        "difference ({} - {}): {:+.4}, {:.0}% bootstrap interval [{:+.4}, {:+.4}] ({} \
         resamples of the images, seed {})\n",
        names[1],
        names[0],
        c.difference,
        s.level * 100.0,
        c.interval.low,
        c.interval.high,
        s.resamples,
        s.seed
    ));
    out.push_str(&format!(
        "McNemar: {} images only {} got right, {} only {}; exact p = {}{}\n",
        m.only_first,
        names[0],
        m.only_second,
        names[1],
        format_p(m.exact_p),
        match (m.chi2, m.chi2_p) {
            (Some(x), Some(p)) => format!(
                " (chi2 with continuity correction {x:.3}, p = {})",
                format_p(p)
            ),
            _ => String::new(),
        }
    ));
    out.push_str(&format!("{}\n", reading(c, names)));
    out
}

/// What the test and the interval say, in one line, at the interval's level.
fn reading(c: &ModelComparison, names: &[String; 2]) -> String {
    let alpha = 1.0 - c.interval.settings.level;
    let (low, high) = (c.interval.low, c.interval.high);
    if c.mcnemar.exact_p < alpha && low > 0.0 {
        format!(
            "verdict: {} is more accurate (McNemar p < {alpha:.2}; the interval lies above 0)",
            names[1]
        )
    } else if c.mcnemar.exact_p < alpha && high < 0.0 {
        format!(
            "verdict: {} is more accurate (McNemar p < {alpha:.2}; the interval lies below 0)",
            names[0]
        )
    } else {
        format!(
            "verdict: no significant difference at {alpha:.2}; the data are consistent with a \
             difference from {:+.1} to {:+.1} points",
            low * 100.0,
            high * 100.0
        )
    }
}
