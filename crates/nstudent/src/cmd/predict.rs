//! `nstudent predict`: class probabilities of a saved model (single or ensemble) as CSV.

use crate::failure::Failure;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use nstudent_algo::Model;

use crate::failure::usage;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    Train,
    Test,
}

/// Write the class probabilities of a saved model as CSV: a header (`row` or `file`, then the
/// class names; `class 3` for a class named by a number), then one row per image, in the
/// order of the data as read (a dataset's split order; the files in the order given, a
/// folder's in name order).
#[derive(clap::Args)]
pub struct Args {
    /// A model file, or an ensemble directory, written by `nstudent train`.
    #[arg(long)]
    model: PathBuf,
    /// What to predict: a dataset (a source, a task such as mnist:0-4, or a path `train`
    /// reads), or new images: a folder of images (no class folders), or image files (one or
    /// more: `--data new/*.jpg`).
    #[arg(long, num_args = 1.., required = true, value_name = "DATA")]
    data: Vec<String>,
    /// How --data is read when it is a CSV file or CIFAR-100 (as for `train`), and how images
    /// are resized and coloured.
    #[command(flatten)]
    read: super::read_args::ReadArgs,
    /// Which split of a dataset to predict (default: test when the data has one, else train).
    #[arg(long, value_enum)]
    split: Option<SplitArg>,
    /// Output CSV (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the true labels of a dataset (one column, header `label`) for
    /// `nstudent score`.
    #[arg(long, value_name = "FILE")]
    labels_out: Option<PathBuf>,
    /// Where sources are looked up (default: $NSTUDENT_DATA or the platform data directory).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Engine that loads the model.
    #[arg(long, value_enum, default_value_t)]
    engine: nstudent_engine::EngineName,
    /// Threads the prediction runs on; 0 or none uses every core. A speed setting only: the
    /// probabilities are the same bits for any thread count.
    #[arg(long)]
    threads: Option<usize>,
}

/// The images to predict: a dataset's split, or new image files with no labels.
pub(crate) enum Input {
    Dataset(nstudent_data::Dataset),
    Files {
        files: Vec<PathBuf>,
        images: Vec<u8>,
        shape: nstudent_data::ImageShape,
    },
}

impl Input {
    fn len(&self) -> usize {
        match self {
            Input::Dataset(d) => d.len(),
            Input::Files { files, .. } => files.len(),
        }
    }

    fn view(&self) -> crate::failure::Result<nstudent_data::ImagesRef<'_>> {
        Ok(match self {
            Input::Dataset(d) => d.view(),
            Input::Files { images, shape, .. } => nstudent_data::ImagesRef::new(images, *shape)?,
        })
    }

    fn shape(&self) -> nstudent_data::ImageShape {
        match self {
            Input::Dataset(d) => d.shape,
            Input::Files { shape, .. } => *shape,
        }
    }
}

/// The image files `--data` names, when it names new images (a flat folder, or image files)
/// rather than a dataset.
fn image_files(data: &[String]) -> crate::failure::Result<Option<Vec<PathBuf>>> {
    use nstudent_data::read::image_folder::{image_files, is_flat_image_folder, is_image};
    let paths: Vec<&Path> = data.iter().map(Path::new).collect();
    if let [one] = paths[..] {
        if one.is_dir() && is_flat_image_folder(one) {
            return Ok(Some(image_files(one)?));
        }
        if !(one.is_file() && is_image(one)) {
            return Ok(None);
        }
    }
    for path in &paths {
        if !(path.is_file() && is_image(path)) {
            usage!(
                "--data {}: with several values, each must be an image file (.png, .jpg); \
                 give a dataset alone",
                path.display()
            );
        }
    }
    Ok(Some(paths.iter().map(|p| p.to_path_buf()).collect()))
}

pub fn run(args: Args) -> crate::failure::Result<()> {
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
    let mut inputs = vec![("--model", args.model.as_path())];
    inputs.extend(args.data.iter().map(|d| ("--data", Path::new(d.as_str()))));
    let inputs: Vec<_> = inputs.into_iter().filter(|(_, p)| p.exists()).collect();
    crate::outputs::check_distinct(&inputs, &outputs)?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(nstudent_data::default_data_dir);
    let options = args.read.open_options()?;
    let shown = args.data.join(" ");
    let input = match image_files(&args.data)? {
        Some(files) => {
            if args.labels_out.is_some() || args.split.is_some() {
                usage!(
                    "--labels-out and --split are for datasets; {shown} holds images with no \
                     labels"
                );
            }
            let (images, shape) =
                nstudent_data::read::image_folder::read_files(&files, &options.image)?;
            Input::Files {
                files,
                images,
                shape,
            }
        }
        None => Input::Dataset(open_split(&shown, args.split, &data_dir, &options)?.0),
    };
    let engine = args.engine.engine()?;
    let (mut model, classes) = load_for(engine.as_ref(), &args.model, &input, &shown)?;
    model.set_threads(nstudent_engine::Threads::resolve(args.threads.unwrap_or(0)));
    let probs = probabilities(&model, &args.model, &input, &shown)?;
    let k = model.num_classes();
    let csv = probabilities_csv(&input, &classes, &probs, k);
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
    if let (Some(path), Input::Dataset(data)) = (&args.labels_out, &input) {
        let mut text = String::from("label\n");
        for l in &data.labels {
            text.push_str(&l.to_string());
            text.push('\n');
        }
        staged.write(path, text.as_bytes())?;
    }
    staged.commit()?;
    if args.out.is_some() {
        eprintln!("{} rows of {k} probabilities written", input.len());
    }
    Ok(())
}

/// The split of a dataset to predict: `split`, or by default the test split when there is
/// one; with the split's name (`train` or `test`).
pub(crate) fn open_split(
    shown: &str,
    split: Option<SplitArg>,
    data_dir: &Path,
    options: &nstudent_data::OpenOptions,
) -> crate::failure::Result<(nstudent_data::Dataset, &'static str)> {
    let splits = super::read_args::open_noted(shown, data_dir, options)?;
    Ok(match (split, splits.test) {
        (Some(SplitArg::Train), _) | (None, None) => (splits.train, "train"),
        (Some(SplitArg::Test), Some(t)) | (None, Some(t)) => (t, "test"),
        (Some(SplitArg::Test), None) => usage!("{shown} has no test split; use --split train"),
    })
}

/// Loads a saved model and checks that it takes `input`'s images (and a dataset's classes);
/// returns it with the class names of the output's columns.
pub(crate) fn load_for(
    engine: &dyn nstudent_engine::Engine,
    path: &Path,
    input: &Input,
    shown: &str,
) -> crate::failure::Result<(Model, Vec<String>)> {
    let model = Model::load(engine, path).map_err(Failure::flat)?;
    let classes = match input {
        Input::Dataset(data) => {
            if model.num_classes() != data.num_classes() {
                usage!(
                    "{} takes {} classes; {shown} has {} classes",
                    path.display(),
                    model.num_classes(),
                    data.num_classes()
                );
            }
            check_classes(&model, path, &data.class_names, shown)?;
            data.class_names.clone()
        }
        Input::Files { .. } => match model.class_names() {
            [] => (0..model.num_classes()).map(|c| c.to_string()).collect(),
            names => names.to_vec(),
        },
    };
    if model.spec().input != input.shape() {
        usage!(
            "{} takes images of {}; {shown} has images of {}: resize or convert them \
             (--resize WxH, --grayscale or --rgb)",
            path.display(),
            model.spec().input,
            input.shape()
        );
    }
    Ok((model, classes))
}

/// The model's class probabilities of `input`, row-major, refused when not finite.
pub(crate) fn probabilities(
    model: &Model,
    path: &Path,
    input: &Input,
    shown: &str,
) -> crate::failure::Result<Vec<f32>> {
    let probs = model.predict_proba(input.view()?).map_err(Failure::flat)?;
    let k = model.num_classes();
    // Finite weights can still overflow float32 on the way to the logits.
    if let Some(row) = probs.iter().position(|p| !p.is_finite()).map(|i| i / k) {
        usage!(
            "{}: the model's probabilities are not finite (image {row} of {shown}): its \
             weights overflow float32, as after a diverged training; retrain it, e.g. with a \
             lower --lr",
            path.display()
        );
    }
    Ok(probs)
}

/// The CSV: an id column (`row`: the 0-based position in the split; `file`: the image's path
/// as given), then one column per class.
fn probabilities_csv(input: &Input, classes: &[String], probs: &[f32], k: usize) -> String {
    let mut csv = String::with_capacity(probs.len() * 12);
    let id = match input {
        Input::Dataset(_) => "row",
        Input::Files { .. } => "file",
    };
    csv.push_str(id);
    for name in classes {
        csv.push(',');
        csv.push_str(&header_field(name));
    }
    csv.push('\n');
    for (i, row) in probs.chunks_exact(k).enumerate() {
        match input {
            Input::Dataset(_) => csv.push_str(&i.to_string()),
            Input::Files { files, .. } => csv.push_str(&csv_field(&files[i].display().to_string())),
        }
        for p in row {
            csv.push(',');
            csv.push_str(&p.to_string());
        }
        csv.push('\n');
    }
    csv
}

/// Refuses data whose classes are not the model's (a model of digits 5-9 on digits 0-4 would
/// write probabilities under the wrong names). Models saved before class names were recorded
/// have none, and pass.
fn check_classes(
    model: &Model,
    model_path: &std::path::Path,
    data_classes: &[String],
    data: &str,
) -> crate::failure::Result<()> {
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
