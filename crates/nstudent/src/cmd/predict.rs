//! `nstudent predict`: class probabilities of a saved model (single or ensemble) as CSV.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use nstudent_algo::Model;

use crate::cmd::train::algo_error;
use crate::failure::usage;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    Train,
    Test,
}

/// Write the class probabilities of a saved model as CSV: a header of class names (`class 3`
/// for a class named by a number), then one row per image.
#[derive(clap::Args)]
pub struct Args {
    /// A model file, or an ensemble directory, written by `nstudent train`.
    #[arg(long)]
    model: PathBuf,
    /// Data: a source, a task (mnist:0-4) or a path.
    #[arg(long)]
    data: String,
    /// How --data is read when it is a CSV file or CIFAR-100 (as for `train`).
    #[command(flatten)]
    read: super::read_args::ReadArgs,
    /// Which split to predict (default: test when the data has one, else train).
    #[arg(long, value_enum)]
    split: Option<SplitArg>,
    /// Output CSV (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the true labels (one column, header `label`) for `nstudent score`.
    #[arg(long, value_name = "FILE")]
    labels_out: Option<PathBuf>,
    /// Where sources are looked up (default: $NSTUDENT_DATA or the platform data directory).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Engine that loads the model.
    #[arg(long, value_enum, default_value_t)]
    engine: nstudent_engine::EngineName,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        crate::outputs::check_file("--out", out)?;
    }
    if let Some(labels) = &args.labels_out {
        crate::outputs::check_file("--labels-out", labels)?;
    }
    let outputs: Vec<_> = [("--out", &args.out), ("--labels-out", &args.labels_out)]
        .into_iter()
        .filter_map(|(flag, p)| p.as_deref().map(|p| (flag, p)))
        .collect();
    let inputs: Vec<_> = [
        Some(("--model", args.model.as_path())),
        crate::outputs::spec_input("--data", Some(&args.data)),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::outputs::check_distinct(&inputs, &outputs)?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(nstudent_data::default_data_dir);
    let splits = super::read_args::open_noted(&args.data, &data_dir, &args.read.open_options()?)?;
    let data = match (args.split, splits.test) {
        (Some(SplitArg::Train), _) | (None, None) => splits.train,
        (Some(SplitArg::Test), Some(t)) | (None, Some(t)) => t,
        (Some(SplitArg::Test), None) => {
            usage!("{} has no test split; use --split train", args.data)
        }
    };
    let engine = args.engine.engine()?;
    let model = Model::load(engine.as_ref(), &args.model).map_err(algo_error)?;
    if model.num_classes() != data.num_classes() || model.spec().input != data.shape {
        usage!(
            "{} takes {} images of {} classes; {} has {} images of {} classes",
            args.model.display(),
            model.spec().input,
            model.num_classes(),
            args.data,
            data.shape,
            data.num_classes()
        );
    }
    check_classes(&model, &args.model, &data.class_names, &args.data)?;
    let probs = model.predict_proba(data.view()).map_err(algo_error)?;
    let k = model.num_classes();
    // Finite weights can still overflow float32 on the way to the logits.
    if let Some(row) = probs.iter().position(|p| !p.is_finite()).map(|i| i / k) {
        usage!(
            "{}: the model's probabilities are not finite (image {row} of {}): its weights \
             overflow float32, as after a diverged training; retrain it, e.g. with a lower \
             --learning-rate",
            args.model.display(),
            args.data
        );
    }
    let mut csv = String::with_capacity(probs.len() * 12);
    csv.push_str(
        &data
            .class_names
            .iter()
            .map(|n| header_field(n))
            .collect::<Vec<_>>()
            .join(","),
    );
    csv.push('\n');
    for row in probs.chunks_exact(k) {
        let cells: Vec<String> = row.iter().map(|p| p.to_string()).collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    // Both files appear together, or neither.
    let mut staged = crate::outputs::Staged::default();
    match &args.out {
        Some(path) => staged.write(path, csv.as_bytes())?,
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            out.write_all(csv.as_bytes())?;
            out.flush()?;
        }
    }
    if let Some(path) = &args.labels_out {
        let mut text = String::from("label\n");
        for l in &data.labels {
            text.push_str(&l.to_string());
            text.push('\n');
        }
        staged.write(path, text.as_bytes())?;
    }
    staged.commit()?;
    if args.out.is_some() {
        eprintln!("{} rows of {k} probabilities written", data.len());
    }
    Ok(())
}

/// Refuses data whose classes are not the model's (a model of digits 5-9 on digits 0-4 would
/// write probabilities under the wrong names). Models saved before class names were recorded
/// have none, and pass.
fn check_classes(
    model: &Model,
    model_path: &std::path::Path,
    data_classes: &[String],
    data: &str,
) -> anyhow::Result<()> {
    let trained = model.class_names();
    if trained.is_empty() || trained == data_classes {
        return Ok(());
    }
    usage!(
        "{} was trained on classes [{}], but {data} has classes [{}]; give data of the \
         model's classes (in the same order)",
        model_path.display(),
        trained.join(", "),
        data_classes.join(", ")
    )
}

/// A class name as a header cell. A name that reads as a number (MNIST's `0`..`9`) becomes
/// `class 0`, so that no reader, `nstudent score` included, takes the header for a row of
/// probabilities.
fn header_field(name: &str) -> String {
    if name.trim().parse::<f64>().is_ok() {
        csv_field(&format!("class {}", name.trim()))
    } else {
        csv_field(name)
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
