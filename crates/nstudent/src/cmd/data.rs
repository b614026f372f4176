//! `nstudent data`: list, inspect and download datasets.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use nstudent_data::fetch::{self, FetchOptions, Outcome};
use nstudent_data::{sources, tasks, Dataset, Splits};

// A closed pipe (`nstudent data list | head`) ends the output quietly.
use super::format::{print_json, write_stdout as emit, Format};
use crate::failure::usage;

/// `println!` through [`emit`].
macro_rules! emitln {
    ($($arg:tt)*) => {
        emit(&format!("{}\n", format!($($arg)*)))?
    };
}

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// The named sources (present in the data directory or not, and where they come from) and
    /// the 20 tasks of the original study with their sizes.
    List(ListArgs),
    /// Format, image shape, count per split and per class, pixel range of a PATH, NAME or TASK.
    #[command(allow_negative_numbers = true)]
    Info(InfoArgs),
    /// Download named sources into the data directory (resumable, checksum-verified).
    Fetch(FetchArgs),
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Data directory [default: $NSTUDENT_DATA, else $XDG_DATA_HOME/nstudent]
    // `--dir` was its name before every command called it `--data-dir`.
    #[arg(long, value_name = "DIR", alias = "dir")]
    pub data_dir: Option<PathBuf>,
    /// Do not open present sources to count the tasks' images (faster).
    #[arg(long)]
    pub no_sizes: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct InfoArgs {
    /// A file, directory or archive; a source name (mnist, cifar10, fashion-mnist-10k, ...);
    /// or a task such as mnist:0-4.
    #[arg(value_name = "PATH|NAME|TASK")]
    pub spec: String,
    /// Data directory [default: $NSTUDENT_DATA, else $XDG_DATA_HOME/nstudent]
    // `--dir` was its name before every command called it `--data-dir`.
    #[arg(long, value_name = "DIR", alias = "dir")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub read: super::read_args::ReadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct FetchArgs {
    /// Sources to download (see `nstudent data list`), or `all`.
    #[arg(value_name = "NAME", required = true)]
    pub names: Vec<String>,
    /// Data directory [default: $NSTUDENT_DATA, else $XDG_DATA_HOME/nstudent]
    // `--dir` was its name before every command called it `--data-dir`.
    #[arg(long, value_name = "DIR", alias = "dir")]
    pub data_dir: Option<PathBuf>,
    /// Base URL of a mirror holding MIRROR/<source>/<file>, instead of the official locations.
    #[arg(long, value_name = "URL", env = "NSTUDENT_MIRROR")]
    pub mirror: Option<String>,
}

pub fn run(command: DataCommand) -> crate::failure::Result<()> {
    match command {
        DataCommand::List(a) => list(a),
        DataCommand::Info(a) => info(a),
        DataCommand::Fetch(a) => fetch_sources(a),
    }
}

fn data_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(nstudent_data::default_data_dir)
}

/// The images of one task of the original study, as `data list` counts them.
enum TaskSizes {
    /// Its source is not in the data directory.
    Missing,
    /// Not counted (`--no-sizes`).
    NotCounted,
    /// Its source could not be read, or the task not made from it.
    Error,
    Counted {
        train: usize,
        test: Option<usize>,
    },
}

fn list(args: ListArgs) -> crate::failure::Result<()> {
    let dir = data_dir(args.data_dir);
    let (tasks, unreadable) = study_tasks(&dir, args.no_sizes);
    if args.format == Format::Json {
        return print_json(&list_doc(&dir, &tasks, &unreadable));
    }
    emit(&list_text(&dir, &tasks, &unreadable)?)
}

/// A source that could not be read, with the reason.
type Unreadable = (String, String);

/// The original study's tasks with their sizes (unless `no_sizes`), and the sources that
/// could not be read. Each source is opened once.
fn study_tasks(dir: &Path, no_sizes: bool) -> (Vec<(tasks::Task, TaskSizes)>, Vec<Unreadable>) {
    let mut cache: BTreeMap<String, Result<Splits, String>> = BTreeMap::new();
    let tasks: Vec<(tasks::Task, TaskSizes)> = tasks::original_study()
        .into_iter()
        .map(|task| {
            let source = sources::find(&task.source);
            let present = source.is_some_and(|s| s.is_present(dir));
            let sizes = if !present {
                TaskSizes::Missing
            } else if no_sizes {
                TaskSizes::NotCounted
            } else {
                let loaded = cache.entry(task.source.clone()).or_insert_with(|| {
                    nstudent_data::open(&task.source, dir).map_err(|e| e.to_string())
                });
                match loaded.as_ref().map(|splits| task.apply(splits)) {
                    Ok(Ok(t)) => TaskSizes::Counted {
                        train: t.train.len(),
                        test: t.test.map(|d| d.len()),
                    },
                    _ => TaskSizes::Error,
                }
            };
            (task, sizes)
        })
        .collect();
    let unreadable = cache
        .into_iter()
        .filter_map(|(source, r)| r.err().map(|e| (source, e)))
        .collect();
    (tasks, unreadable)
}

/// `data list --format json`.
fn list_doc<'a>(
    dir: &Path,
    tasks: &'a [(tasks::Task, TaskSizes)],
    unreadable: &'a [Unreadable],
) -> DataListDoc<'a> {
    let sources: Vec<SourceDoc> = sources::SOURCES
        .iter()
        .map(|s| SourceDoc {
            name: s.name,
            title: s.title,
            description: s.description,
            origin: s.origin(),
            embedded: s.embedded,
            present: s.is_present(dir),
            manual: s.manual.is_some(),
        })
        .collect();
    let tasks: Vec<TaskDoc> = tasks
        .iter()
        .map(|(task, sizes)| {
            let (train, test) = match sizes {
                TaskSizes::Counted { train, test } => (Some(*train), *test),
                _ => (None, None),
            };
            TaskDoc {
                name: &task.name,
                spec: &task.spec,
                source: &task.source,
                classes: task.num_classes(),
                present: !matches!(sizes, TaskSizes::Missing),
                train,
                test,
                error: matches!(sizes, TaskSizes::Error),
            }
        })
        .collect();
    DataListDoc {
        data_dir: dir.display().to_string(),
        sources,
        tasks,
        unreadable: unreadable
            .iter()
            .map(|(source, error)| UnreadableDoc { source, error })
            .collect(),
    }
}

/// `data list` as a table: the sources, then the study's tasks.
fn list_text(
    dir: &Path,
    tasks: &[(tasks::Task, TaskSizes)],
    unreadable: &[Unreadable],
) -> crate::failure::Result<String> {
    let mut out = String::new();
    writeln!(out, "Data directory: {}", dir.display())?;
    writeln!(
        out,
        "  (change it with --data-dir or NSTUDENT_DATA; get a source with `nstudent data fetch NAME`)"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<18} {:<8} DESCRIPTION / ORIGIN",
        "SOURCE", "PRESENT"
    )?;
    for s in sources::SOURCES {
        let present = if s.embedded {
            "built-in"
        } else if s.is_present(dir) {
            "yes"
        } else {
            "no"
        };
        writeln!(out, "{:<18} {:<8} {}", s.name, present, s.description)?;
        let origin = if s.manual.is_some() {
            format!(
                "{} (manual step: `nstudent data fetch {}` says what to do)",
                s.origin(),
                s.name
            )
        } else {
            s.origin()
        };
        writeln!(out, "{:<18} {:<8} {}", "", "", origin)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Tasks of the original study (train split; folds come from cross-validation):"
    )?;
    writeln!(
        out,
        "{:<16} {:<22} {:>7} {:>8} {:>8}",
        "TASK", "SPEC", "CLASSES", "TRAIN", "TEST"
    )?;
    for (task, sizes) in tasks {
        let classes = task
            .num_classes()
            .map(|k| k.to_string())
            .unwrap_or_else(|| "all".into());
        let (train, test) = match sizes {
            TaskSizes::Missing => ("-".to_string(), "missing".to_string()),
            TaskSizes::NotCounted => ("?".to_string(), "?".to_string()),
            TaskSizes::Error => ("error".into(), "-".into()),
            TaskSizes::Counted { train, test } => (
                train.to_string(),
                test.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
            ),
        };
        writeln!(
            out,
            "{:<16} {:<22} {:>7} {:>8} {:>8}",
            task.name, task.spec, classes, train, test
        )?;
    }
    for (source, e) in unreadable {
        writeln!(out, "\nnote: cannot read {source}: {e}")?;
    }
    Ok(out)
}

fn info(args: InfoArgs) -> crate::failure::Result<()> {
    let dir = data_dir(args.data_dir.clone());
    let options = args.read.open_options()?;
    let path = std::path::Path::new(&args.spec);
    if path.is_dir() && nstudent_data::read::image_folder::is_flat_image_folder(path) {
        return flat_folder_info(&args, &options);
    }
    // The reader's errors name the file at fault (`mydata/train/cat/1.jpg: ...`).
    let loaded = nstudent_data::open_with(&args.spec, &dir, &options)?;
    super::read_args::check_coarse(&args.spec, &options, &loaded)?;
    super::read_args::print_notes(&loaded);
    let splits = &loaded.splits;
    let mut parts: Vec<(&str, &Dataset)> = vec![("train", &splits.train)];
    if let Some(test) = &splits.test {
        parts.push(("test", test));
    }
    if args.format == Format::Json {
        return print_json(&info_doc(&args.spec, &loaded, &parts));
    }
    let out = info_text(&args.spec, &loaded, &parts)?;
    // Names come from the user's files and folders: no control character reaches the terminal.
    let shown: Vec<String> = out.lines().map(crate::failure::escape_controls).collect();
    emit(&(shown.join("\n") + "\n"))
}

/// The range and mean of every pixel value of the splits.
fn pixel_stats(parts: &[(&str, &Dataset)]) -> PixelsDoc {
    let (mut min, mut max, mut sum, mut n) = (u8::MAX, u8::MIN, 0u64, 0u64);
    for (_, d) in parts {
        for &p in &d.images {
            min = min.min(p);
            max = max.max(p);
            sum += u64::from(p);
        }
        n += d.images.len() as u64;
    }
    let mean = if n > 0 { sum as f64 / n as f64 } else { 0.0 };
    PixelsDoc { min, max, mean }
}

/// `data info --format json`.
fn info_doc<'a>(
    spec: &'a str,
    loaded: &'a nstudent_data::Loaded,
    parts: &[(&'a str, &Dataset)],
) -> DatasetDoc<'a> {
    let train = &loaded.splits.train;
    let mut images: BTreeMap<&str, usize> =
        parts.iter().map(|(name, d)| (*name, d.len())).collect();
    images.insert("total", parts.iter().map(|(_, d)| d.len()).sum());
    let per_split: Vec<Vec<usize>> = parts.iter().map(|(_, d)| d.class_counts()).collect();
    let classes: Vec<ClassDoc> = train
        .class_names
        .iter()
        .enumerate()
        .map(|(label, class)| ClassDoc {
            label,
            class,
            images: parts
                .iter()
                .zip(&per_split)
                .map(|((name, _), counts)| (*name, counts.get(label).copied().unwrap_or(0)))
                .collect(),
        })
        .collect();
    DatasetDoc {
        dataset: spec,
        location: Some(&loaded.location),
        format: &loaded.format,
        notes: Some(&loaded.notes),
        image: train.shape.into(),
        num_classes: train.num_classes(),
        images,
        pixels: Some(pixel_stats(parts)),
        classes: Some(classes),
    }
}

/// `data info` as text: what the data is, then a table of images per class and split.
fn info_text(
    spec: &str,
    loaded: &nstudent_data::Loaded,
    parts: &[(&str, &Dataset)],
) -> crate::failure::Result<String> {
    let train = &loaded.splits.train;
    let colour = match train.shape.channels {
        1 => "grey",
        3 => "RGB",
        _ => "channels",
    };
    let total: usize = parts.iter().map(|(_, d)| d.len()).sum();
    let PixelsDoc { min, max, mean } = pixel_stats(parts);
    let mut out = String::new();
    writeln!(out, "{:<10} {}", "dataset", spec)?;
    writeln!(out, "{:<10} {}", "location", loaded.location)?;
    writeln!(out, "{:<10} {}", "format", loaded.format)?;
    writeln!(
        out,
        "{:<10} {} ({colour}, height x width x channels)",
        "image", train.shape
    )?;
    writeln!(out, "{:<10} {}", "classes", train.num_classes())?;
    let counts: Vec<String> = parts
        .iter()
        .map(|(n, d)| format!("{n} {}", d.len()))
        .collect();
    writeln!(
        out,
        "{:<10} {} (total {total})",
        "images",
        counts.join(", ")
    )?;
    writeln!(out, "{:<10} {min}-{max} (u8), mean {mean:.1}", "pixels")?;
    writeln!(out)?;
    write_class_table(&mut out, &train.class_names, parts)?;
    Ok(out)
}

/// Images per class (rows) and split (columns).
fn write_class_table(
    out: &mut String,
    class_names: &[String],
    parts: &[(&str, &Dataset)],
) -> std::fmt::Result {
    let per_split: Vec<Vec<usize>> = parts.iter().map(|(_, d)| d.class_counts()).collect();
    let width = class_names
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    write!(out, "{:>5}  {:<width$}", "label", "class")?;
    for (name, _) in parts {
        write!(out, " {name:>8}")?;
    }
    writeln!(out)?;
    for (label, class) in class_names.iter().enumerate() {
        write!(out, "{label:>5}  {class:<width$}")?;
        for counts in &per_split {
            write!(out, " {:>8}", counts.get(label).copied().unwrap_or(0))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// A folder of images with no class folders: images without labels, as `--unlabeled` and
/// `predict` take them. Says what it holds, and what a dataset reader would have needed.
fn flat_folder_info(
    args: &InfoArgs,
    options: &nstudent_data::OpenOptions,
) -> crate::failure::Result<()> {
    let set = nstudent_data::open_unlabeled(&args.spec, std::path::Path::new(""), options)?;
    let role = "images with no labels (no class folders): what `train --unlabeled` and \
                `predict --data` take; a training set needs one folder per class";
    if args.format == Format::Json {
        return print_json(&DatasetDoc {
            dataset: &args.spec,
            location: None,
            format: "image folder (no classes)",
            notes: None,
            image: set.shape.into(),
            num_classes: 0,
            images: BTreeMap::from([("total", set.len())]),
            pixels: None,
            classes: None,
        });
    }
    let mut out = String::new();
    writeln!(out, "{:<10} {}", "dataset", args.spec)?;
    writeln!(out, "{:<10} {role}", "format")?;
    writeln!(out, "{:<10} {}", "image", set.shape)?;
    writeln!(out, "{:<10} {}", "images", set.len())?;
    let shown: Vec<String> = out.lines().map(crate::failure::escape_controls).collect();
    emit(&(shown.join("\n") + "\n"))
}

fn fetch_sources(args: FetchArgs) -> crate::failure::Result<()> {
    let dir = data_dir(args.data_dir);
    let mut chosen: Vec<&'static nstudent_data::Source> = Vec::new();
    for name in &args.names {
        if name == "all" {
            chosen.extend(sources::SOURCES.iter().filter(|s| !s.downloads.is_empty()));
            continue;
        }
        let source = sources::get(name)?;
        if !chosen.contains(&source) {
            chosen.push(source);
        }
    }
    // Sources behind a manual step are refused before anything is downloaded.
    if let Some(manual) = chosen.iter().find(|s| s.manual.is_some()) {
        usage!(
            "`{}` cannot be downloaded automatically: {}",
            manual.name,
            manual.how_to_get(&dir)
        );
    }
    let options = FetchOptions {
        mirror: args.mirror.filter(|m| !m.is_empty()),
        // A bar only on a terminal; a log gets the per-file lines below.
        progress: match std::io::stderr().is_terminal() {
            true => {
                fetch::ProgressHandle(std::sync::Arc::new(crate::progress::DownloadBar::default()))
            }
            false => fetch::ProgressHandle::default(),
        },
        ..FetchOptions::default()
    };
    for source in chosen {
        if source.embedded {
            emitln!("{}: built into nstudent, nothing to download", source.name);
            continue;
        }
        emitln!(
            "{}: fetching into {}",
            source.name,
            source.dir(&dir).display()
        );
        let fetched = fetch::fetch(source, &dir, &options)?;
        for f in fetched {
            let what = match f.outcome {
                Outcome::AlreadyPresent => "already present, checksum ok".to_string(),
                Outcome::Downloaded {
                    bytes,
                    resumed_from: 0,
                } => format!("downloaded {bytes} bytes, checksum ok"),
                Outcome::Downloaded {
                    bytes,
                    resumed_from,
                } => format!("downloaded {bytes} bytes (resumed at {resumed_from}), checksum ok"),
            };
            emitln!("{}: {} {what}", source.name, f.path.display());
        }
    }
    Ok(())
}

/// `data list --format json`.
#[derive(serde::Serialize)]
struct DataListDoc<'a> {
    data_dir: String,
    sources: Vec<SourceDoc>,
    tasks: Vec<TaskDoc<'a>>,
    /// Sources whose files are here but cannot be read.
    unreadable: Vec<UnreadableDoc<'a>>,
}

#[derive(serde::Serialize)]
struct SourceDoc {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    origin: String,
    embedded: bool,
    present: bool,
    /// Whether it must be downloaded by hand (a licence or a login).
    manual: bool,
}

#[derive(serde::Serialize)]
struct TaskDoc<'a> {
    name: &'a str,
    spec: &'a str,
    source: &'a str,
    classes: Option<usize>,
    present: bool,
    /// Images of its training and test splits, when its data is here.
    train: Option<usize>,
    test: Option<usize>,
    /// True when its data is here but cannot be read.
    error: bool,
}

#[derive(serde::Serialize)]
struct UnreadableDoc<'a> {
    source: &'a str,
    error: &'a str,
}

/// `data info --format json`: one dataset, or a folder of unlabeled images.
#[derive(serde::Serialize)]
struct DatasetDoc<'a> {
    dataset: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    format: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<&'a [String]>,
    image: ImageDoc,
    num_classes: usize,
    /// Images per split (`train`, `test`) and in all (`total`).
    images: BTreeMap<&'a str, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pixels: Option<PixelsDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classes: Option<Vec<ClassDoc<'a>>>,
}

#[derive(serde::Serialize)]
struct ImageDoc {
    height: usize,
    width: usize,
    channels: usize,
}

impl From<nstudent_data::ImageShape> for ImageDoc {
    fn from(s: nstudent_data::ImageShape) -> Self {
        ImageDoc {
            height: s.height,
            width: s.width,
            channels: s.channels,
        }
    }
}

/// Pixel values over every image, 0-255.
#[derive(serde::Serialize)]
struct PixelsDoc {
    min: u8,
    max: u8,
    mean: f64,
}

/// A class: its label, its name and its images per split (`"train": 12`, `"test": 3`).
#[derive(serde::Serialize)]
struct ClassDoc<'a> {
    label: usize,
    class: &'a str,
    #[serde(flatten)]
    images: BTreeMap<&'a str, usize>,
}
