//! Opening a dataset from what the user typed: a path (file, directory or archive of any
//! supported format), a source name, or a task (`mnist:0-4`).

use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::image_options::ImageOptions;
use crate::read::cifar::{self, Cifar100Labels, CifarKind};
use crate::read::csv::{self, CsvOptions, LabelColumn};
use crate::read::idx::{self, PairOptions};
use crate::read::{file_name, gunzip, image_folder, list_dirs, list_files};
use crate::sources::{self, Source};
use crate::tasks::Task;
use crate::{Dataset, Error, ImageShape, Result, Splits};

/// The format name of image folders in [`Loaded::format`].
const IMAGE_FOLDER: &str = "image folder";

/// Options for formats that cannot describe themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenOptions {
    /// How to read CSV files given by path.
    pub csv: CsvOptions,
    /// Fine (default) or coarse labels for CIFAR-100.
    pub cifar100_labels: Cifar100Labels,
    /// Resizing and colour conversion of every image, whatever the format.
    pub image: ImageOptions,
}

/// A dataset together with how it was read, for `nstudent data info`.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub splits: Splits,
    /// The format as a reader would name it, e.g. "IDX (gzip)", "CIFAR-10 binary (archive)".
    pub format: String,
    /// Where the files are ("embedded in nstudent" for the default).
    pub location: String,
    /// What the reader decided that the user should know, one line each (a CSV's first row
    /// read as a header): callers print them.
    pub notes: Vec<String>,
}

/// The note that a CSV's first row was read as a header (it holds no image).
fn header_note(path: &Path, read: &csv::CsvRead) -> Option<String> {
    let header = read.detected_header.as_ref()?;
    Some(format!(
        "{}: the first row was read as a header ({header}), not as an image; pass --no-header \
         if it is an image",
        path.display()
    ))
}

/// The data directory: `$NSTUDENT_DATA`, else the platform's data directory
/// (`$XDG_DATA_HOME/nstudent`, `~/.local/share/nstudent` on Linux).
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NSTUDENT_DATA").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir()
        .map(|d| d.join("nstudent"))
        .unwrap_or_else(|| PathBuf::from(".nstudent-data"))
}

/// Opens a PATH, a source NAME or a TASK with default options. See [`open_with`].
pub fn open(spec: &str, data_dir: &Path) -> Result<Splits> {
    open_with(spec, data_dir, &OpenOptions::default()).map(|l| l.splits)
}

/// Opens what `spec` names:
/// - a source name (`mnist`, `cifar100`, `fashion-mnist-10k`, ...), read from `data_dir`;
/// - a task `SOURCE:CLASSES` (`mnist:0-4`, `cifar100:30-39`, `az:20-25`, `./my.csv:0,3`):
///   the classes' images with labels remapped to `0..k-1`, class names kept;
/// - a path: an IDX file or directory, CIFAR `.bin` files, directory or `.tar.gz`, a CSV
///   (optionally gzip or inside a `.zip`), or an image folder.
///
/// Names win over paths: write `./mnist` for a folder called `mnist`.
pub fn open_with(spec: &str, data_dir: &Path, options: &OpenOptions) -> Result<Loaded> {
    let mut loaded = open_as_stored(spec, data_dir, options)?;
    // Image folders resize and convert each file as it is decoded (their sizes may differ).
    if !options.image.is_identity() && loaded.format != IMAGE_FOLDER {
        loaded.splits.train = options.image.apply(loaded.splits.train)?;
        loaded.splits.test = loaded
            .splits
            .test
            .map(|t| options.image.apply(t))
            .transpose()?;
    }
    Ok(loaded)
}

/// [`open_with`] before the image options of formats other than image folders.
fn open_as_stored(spec: &str, data_dir: &Path, options: &OpenOptions) -> Result<Loaded> {
    let is_task = spec.rsplit_once(':').is_some_and(|(_, c)| {
        !c.is_empty()
            && c.chars()
                .all(|ch| ch.is_ascii_digit() || " ,-".contains(ch))
    });
    if is_task && sources::find(spec).is_none() && !Path::new(spec).exists() {
        let task = Task::parse(spec)?;
        let loaded = open_source_or_path(&task.source, data_dir, options)?;
        return Ok(Loaded {
            splits: task.apply(&loaded.splits)?,
            ..loaded
        });
    }
    let loaded = open_source_or_path(spec, data_dir, options)?;
    // IDX and CSV files name no classes: they are numbered 0..=max label. (CIFAR files, image
    // folders and named sources declare theirs, and may hold a subset.)
    let numbered = (loaded.format.starts_with("IDX") || loaded.format.starts_with("CSV"))
        && options.csv.class_names.is_none()
        && sources::find(spec).is_none();
    if numbered {
        require_no_empty_class(&loaded.splits, spec)?;
    }
    if loaded.format.starts_with("CSV") && loaded.splits.train.num_classes() < 2 {
        return Err(Error::Invalid(format!(
            "{spec}: every row has the same label ({}), so there is one class and nothing to classify; is the label column right? (--label-column first, last or a column number)",
            loaded.splits.train.class_names.first().map_or("", String::as_str)
        )));
    }
    Ok(loaded)
}

impl Task {
    /// Opens the task's data (train and test splits of the source, restricted to its classes).
    pub fn open(&self, data_dir: &Path) -> Result<Splits> {
        let splits = open_source_or_path(&self.source, data_dir, &Default::default())?.splits;
        self.apply(&splits)
    }
}

/// Classes numbered `0..=max label` from the labels: labels such as 200 and 255 would make a
/// 256-class dataset whose other 254 classes have no image. Refused, naming the labels found
/// and the two ways out.
fn require_no_empty_class(splits: &Splits, spec: &str) -> Result<()> {
    let mut counts = splits.train.class_counts();
    if let Some(test) = &splits.test {
        for (c, n) in counts.iter_mut().zip(test.class_counts()) {
            *c += n;
        }
    }
    let empty = counts.iter().filter(|&&n| n == 0).count();
    if empty == 0 {
        return Ok(());
    }
    let found: Vec<String> = counts
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(c, _)| c.to_string())
        .collect();
    let shown = if found.len() > 8 {
        format!("{}, ...", found[..8].join(", "))
    } else {
        found.join(", ")
    };
    Err(Error::Invalid(format!(
        "{spec}: {} of its {} classes (0-{}) have no image; the labels found are {shown}: relabel the data 0-{}, or keep only those classes as a task (`{spec}:{}`)",
        empty,
        counts.len(),
        counts.len() - 1,
        found.len().saturating_sub(1),
        found.join(",")
    )))
}

pub(crate) fn open_source_or_path(
    spec: &str,
    data_dir: &Path,
    options: &OpenOptions,
) -> Result<Loaded> {
    if let Some(source) = sources::find(spec) {
        return open_source(source, data_dir, options);
    }
    let path = Path::new(spec);
    if path.exists() {
        return open_path(path, options, &Hints::default(), spec);
    }
    let looks_like_path = spec.contains('/') || spec.contains('\\') || spec.contains('.');
    Err(Error::Invalid(if looks_like_path {
        format!("{spec}: no such file or directory: check the path")
    } else {
        format!(
            "`{spec}` is not a source, a task or an existing path: the sources are {}; tasks look \
             like mnist:0-4 (run `nstudent data list`)",
            sources::names().join(", ")
        )
    }))
}

const EMBEDDED_IMAGES: &[u8] =
    include_bytes!("../../../data/fashion-mnist-10k/t10k-images-idx3-ubyte.gz");
const EMBEDDED_LABELS: &[u8] =
    include_bytes!("../../../data/fashion-mnist-10k/t10k-labels-idx1-ubyte.gz");

/// The embedded default: the Fashion-MNIST test split (10,000 images, 1,000 per class).
pub fn embedded_default() -> Result<Dataset> {
    let name = Path::new("fashion-mnist-10k");
    let images = idx::parse(gunzip(EMBEDDED_IMAGES, name)?, name)?;
    let labels = idx::parse(gunzip(EMBEDDED_LABELS, name)?, name)?;
    let options = PairOptions {
        class_names: Some(
            sources::FASHION_CLASSES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        ..Default::default()
    };
    idx::from_arrays(images, name, labels, name, &options, "fashion-mnist-10k")
        .map_err(|e| Error::Internal(format!("the embedded dataset is damaged: {e}")))
}

/// Opens a named source from the data directory.
pub fn open_source(source: &Source, data_dir: &Path, options: &OpenOptions) -> Result<Loaded> {
    if source.embedded {
        return Ok(Loaded {
            notes: Vec::new(),
            splits: Splits {
                train: embedded_default()?,
                test: None,
            },
            format: "IDX (gzip)".into(),
            location: "embedded in nstudent".into(),
        });
    }
    let dir = source.dir(data_dir);
    if !source.is_present(data_dir) {
        let extra = if source.name == "fashion-mnist" {
            " (the embedded `fashion-mnist-10k` needs no download)"
        } else {
            ""
        };
        return Err(Error::Invalid(format!(
            "source `{}` is not in {}: {}{extra}",
            source.name,
            dir.display(),
            source.how_to_get(data_dir)
        )));
    }
    let mut hints = Hints {
        class_names: sources::class_names(source),
        ..Default::default()
    };
    let mut options = options.clone();
    match source.name {
        "az-handwritten" => {
            options.csv = CsvOptions {
                label_column: Some(LabelColumn::First),
                shape: Some(ImageShape::new(28, 28, 1)),
                header: None,
                ..CsvOptions::default()
            };
        }
        "emnist-letters" => {
            hints.label_offset = 1;
            hints.transpose = true;
        }
        "sklearn-digits" => {
            options.csv = CsvOptions {
                label_column: Some(LabelColumn::Last),
                shape: Some(ImageShape::new(8, 8, 1)),
                max_value: Some(16.0),
                header: Some(false),
                ..CsvOptions::default()
            };
        }
        _ => {}
    }
    open_path(&dir, &options, &hints, source.name)
}

/// What a named source knows that its files do not say.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hints {
    class_names: Option<Vec<String>>,
    label_offset: u16,
    transpose: bool,
}

impl Hints {
    fn pair_options(&self) -> PairOptions {
        PairOptions {
            class_names: self.class_names.clone(),
            label_offset: self.label_offset,
            transpose: self.transpose,
        }
    }
}

fn lower_name(path: &Path) -> String {
    file_name(path).to_ascii_lowercase()
}

fn is_archive(name: &str) -> bool {
    name.ends_with(".tar.gz")
        || name.ends_with(".tgz")
        || name.ends_with(".tar")
        || name.ends_with(".zip")
}

fn is_csv(name: &str) -> bool {
    name.ends_with(".csv") || name.ends_with(".csv.gz")
}

fn cifar_format(kind: CifarKind, labels: Cifar100Labels, how: &str) -> String {
    match kind {
        CifarKind::Cifar10 => format!("CIFAR-10 binary ({how})"),
        CifarKind::Cifar100 => format!(
            "CIFAR-100 binary ({how}, {} labels)",
            match labels {
                Cifar100Labels::Fine => "fine",
                Cifar100Labels::Coarse => "coarse",
            }
        ),
    }
}

/// Opens a file or directory, detecting its format.
pub(crate) fn open_path(
    path: &Path,
    options: &OpenOptions,
    hints: &Hints,
    source: &str,
) -> Result<Loaded> {
    let location = path.display().to_string();
    let loaded = |splits, format: String| Loaded {
        notes: Vec::new(),
        splits,
        format,
        location: location.clone(),
    };
    if path.is_dir() {
        return open_dir(path, options, hints, source);
    }
    let name = lower_name(path);
    if name.ends_with(".zip") {
        return open_zip(path, options, hints, source);
    }
    if is_archive(&name) {
        let members = cifar::members_of_archive(path)?;
        let (splits, kind) = cifar::from_members(members, path, options.cifar100_labels, source)?;
        return Ok(loaded(
            splits,
            cifar_format(kind, options.cifar100_labels, "archive"),
        ));
    }
    if is_csv(&name) {
        let csv_options = csv_options(options, hints);
        let train = csv::read(path, &csv_options, source)?;
        let notes = header_note(path, &train).into_iter().collect();
        return Ok(Loaded {
            notes,
            ..loaded(
                Splits {
                    train: train.data,
                    test: None,
                },
                "CSV".into(),
            )
        });
    }
    if name.ends_with(".bin") {
        let member = cifar::Member {
            origin: location.clone(),
            name: file_name(path),
            bytes: crate::read::read_file(path)?,
        };
        let (splits, kind) =
            cifar::from_members(vec![member], path, options.cifar100_labels, source)?;
        return Ok(loaded(
            splits,
            cifar_format(kind, options.cifar100_labels, "file"),
        ));
    }
    if idx::looks_like_idx(&name) {
        let Some(other) = idx::partner(path) else {
            return Err(Error::format(
                path,
                "has no partner file next to it: IDX datasets are an images file and a labels file \
                 named alike (train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz)",
            ));
        };
        let (images, labels) = if name.contains("images") {
            (path.to_path_buf(), other)
        } else {
            (other, path.to_path_buf())
        };
        let train = idx::read_pair(&images, &labels, &hints.pair_options(), source)?;
        return Ok(loaded(Splits { train, test: None }, idx_format(&images)));
    }
    Err(Error::format(
        path,
        "unrecognised dataset file: nstudent reads IDX (*-idx3-ubyte[.gz]), CIFAR binary (*.bin, \
         *.tar.gz), CSV (*.csv[.gz], or a .zip holding one) and folders of images",
    ))
}

fn idx_format(images: &Path) -> String {
    if lower_name(images).ends_with(".gz") {
        "IDX (gzip)".into()
    } else {
        "IDX".into()
    }
}

fn csv_options(options: &OpenOptions, hints: &Hints) -> CsvOptions {
    let mut csv = options.csv.clone();
    if csv.class_names.is_none() {
        csv.class_names = hints.class_names.clone();
    }
    csv
}

/// A `.zip` holding a CSV (the Kaggle A-Z download): the CSV is streamed out of the archive.
fn open_zip(path: &Path, options: &OpenOptions, hints: &Hints, source: &str) -> Result<Loaded> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let bad = |e: zip::result::ZipError| {
        Error::format(
            path,
            format!(
                "unreadable zip archive ({e}): the file is truncated or corrupt; download it again"
            ),
        )
    };
    let mut archive = zip::ZipArchive::new(file).map_err(bad)?;
    let names: Vec<String> = archive.file_names().map(String::from).collect();
    let csvs: Vec<&String> = names
        .iter()
        .filter(|n| is_csv(&n.to_ascii_lowercase()))
        .collect();
    let [inner] = csvs[..] else {
        return Err(Error::format(
            path,
            format!(
                "holds {} CSV files; nstudent reads a .zip holding exactly one CSV: unzip it and \
                 pass the file you want",
                csvs.len()
            ),
        ));
    };
    let entry = archive.by_name(inner).map_err(bad)?;
    let shown = PathBuf::from(format!("{}/{inner}", path.display()));
    let train = csv::read_from(
        BufReader::with_capacity(1 << 20, entry),
        &shown,
        &csv_options(options, hints),
        source,
    )?;
    Ok(Loaded {
        notes: header_note(&shown, &train).into_iter().collect(),
        splits: Splits {
            train: train.data,
            test: None,
        },
        format: "CSV (zip)".into(),
        location: path.display().to_string(),
    })
}

fn open_dir(dir: &Path, options: &OpenOptions, hints: &Hints, source: &str) -> Result<Loaded> {
    let files = list_files(dir)?;
    let names: Vec<String> = files.iter().map(|f| lower_name(f)).collect();
    let location = dir.display().to_string();
    if names.iter().any(|n| idx::looks_like_idx(n)) {
        return open_idx_dir(dir, &files, hints, source);
    }
    if names.iter().any(|n| n.ends_with(".bin")) {
        let members = cifar::members_of_dir(dir)?;
        let (splits, kind) = cifar::from_members(members, dir, options.cifar100_labels, source)?;
        return Ok(Loaded {
            notes: Vec::new(),
            splits,
            format: cifar_format(kind, options.cifar100_labels, "directory"),
            location,
        });
    }
    let csvs: Vec<&PathBuf> = files.iter().filter(|f| is_csv(&lower_name(f))).collect();
    if !csvs.is_empty() {
        return open_csv_dir(dir, &csvs, options, hints, source);
    }
    let archives: Vec<&PathBuf> = files
        .iter()
        .filter(|f| is_archive(&lower_name(f)))
        .collect();
    if let [one] = archives[..] {
        let mut loaded = open_path(one, options, hints, source)?;
        loaded.location = one.display().to_string();
        return Ok(loaded);
    }
    if image_folder::looks_like_image_folder(dir) {
        return Ok(Loaded {
            notes: image_folder::skipped_note(dir).into_iter().collect(),
            splits: image_folder::read(dir, source, &options.image)?,
            format: IMAGE_FOLDER.into(),
            location,
        });
    }
    let subdirs = list_dirs(dir)?;
    if files.is_empty() && subdirs.len() == 1 {
        return open_dir(&subdirs[0], options, hints, source);
    }
    if files.is_empty() && subdirs.is_empty() {
        return Err(Error::format(dir, "is empty: no dataset files in it"));
    }
    if !subdirs.is_empty() && files.is_empty() {
        // Class folders without images: let the image-folder reader say which one.
        return Ok(Loaded {
            notes: Vec::new(),
            splits: image_folder::read(dir, source, &options.image)?,
            format: IMAGE_FOLDER.into(),
            location,
        });
    }
    Err(Error::format(
        dir,
        "holds no dataset nstudent recognises: expected IDX files, CIFAR .bin files, a CSV, a \
         .tar.gz/.zip archive, or one folder of images per class",
    ))
}

/// A folder of IDX files: the train pair, and the test pair when there is one (read on a
/// second thread).
fn open_idx_dir(dir: &Path, files: &[PathBuf], hints: &Hints, source: &str) -> Result<Loaded> {
    let (train, test) = idx::find_pairs(dir, files)?;
    let (first, second) = match (train, test) {
        (Some(tr), te) => (tr, te),
        (None, Some(te)) => (te, None),
        (None, None) => {
            return Err(Error::format(
                dir,
                "holds IDX files but no images/labels pair named like \
                 train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz",
            ))
        }
    };
    let format = idx_format(&first.images);
    let pair_options = hints.pair_options();
    let (train, test) = std::thread::scope(|s| {
        let t = second
            .as_ref()
            .map(|p| s.spawn(|| idx::read_pair(&p.images, &p.labels, &pair_options, source)));
        let train = idx::read_pair(&first.images, &first.labels, &pair_options, source);
        let test = t.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(Error::Internal("IDX reader thread panicked".into())))
        });
        (train, test)
    });
    Ok(Loaded {
        notes: Vec::new(),
        splits: Splits {
            train: train?,
            test: test.transpose()?,
        },
        format,
        location: dir.display().to_string(),
    })
}

/// A folder of CSV files: one, or a train and a test file (the test file's name contains
/// `test`).
fn open_csv_dir(
    dir: &Path,
    csvs: &[&PathBuf],
    options: &OpenOptions,
    hints: &Hints,
    source: &str,
) -> Result<Loaded> {
    let location = dir.display().to_string();
    let (test, train): (Vec<&PathBuf>, Vec<&PathBuf>) =
        csvs.iter().partition(|f| lower_name(f).contains("test"));
    match (&train[..], &test[..]) {
        ([tr], te) if te.len() <= 1 => {
            let o = csv_options(options, hints);
            let train = csv::read(tr, &o, source)?;
            let test = te.first().map(|t| csv::read(t, &o, source)).transpose()?;
            let mut notes: Vec<String> = header_note(tr, &train).into_iter().collect();
            if let (Some(t), Some(read)) = (te.first(), &test) {
                notes.extend(header_note(t, read));
            }
            Ok(Loaded {
                splits: Splits {
                    train: train.data,
                    test: test.map(|t| t.data),
                },
                format: "CSV".into(),
                location,
                notes,
            })
        }
        _ => Err(Error::format(
            dir,
            format!(
                "holds {} CSV files; a CSV dataset folder holds one file, or a train and a test \
                 file (the test file's name contains `test`): pass the file you want",
                csvs.len()
            ),
        )),
    }
}
