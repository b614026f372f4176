//! CIFAR-10 and CIFAR-100 binary versions: fixed-size records of label byte(s) then 3,072
//! pixel bytes (1,024 red, 1,024 green, 1,024 blue, rows top to bottom).
//!
//! CIFAR-10 records have one label byte (`data_batch_1..5.bin`, `test_batch.bin`, class names
//! in `batches.meta.txt`); CIFAR-100 records have a coarse then a fine label byte (`train.bin`,
//! `test.bin`, `fine_label_names.txt`, `coarse_label_names.txt`). Files may sit in a directory
//! or in the official `.tar.gz` archive.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{file_name, read_file};
use crate::{Dataset, Error, ImageShape, Result, Splits};

/// Side of a CIFAR image in pixels.
pub const SIDE: usize = 32;
/// Pixel bytes of one CIFAR image (32 x 32 x 3).
pub const PIXELS: usize = SIDE * SIDE * 3;

/// Which of the two CIFAR binary formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CifarKind {
    Cifar10,
    Cifar100,
}

impl CifarKind {
    /// Label bytes per record.
    pub fn label_bytes(self) -> usize {
        match self {
            CifarKind::Cifar10 => 1,
            CifarKind::Cifar100 => 2,
        }
    }

    /// Bytes per record.
    pub fn record_len(self) -> usize {
        self.label_bytes() + PIXELS
    }
}

/// Which CIFAR-100 label to use: the 100 fine classes (the default, as in the study) or the 20
/// coarse superclasses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cifar100Labels {
    #[default]
    Fine,
    Coarse,
}

/// The CIFAR-10 class names, as in `batches.meta.txt`.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The CIFAR-100 fine class names, as in `fine_label_names.txt`.
pub const CIFAR100_FINE_CLASSES: [&str; 100] = [
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
];

/// The CIFAR-100 coarse class names, as in `coarse_label_names.txt`.
pub const CIFAR100_COARSE_CLASSES: [&str; 20] = [
    "aquatic_mammals",
    "fish",
    "flowers",
    "food_containers",
    "fruit_and_vegetables",
    "household_electrical_devices",
    "household_furniture",
    "insects",
    "large_carnivores",
    "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",
    "medium_mammals",
    "non-insect_invertebrates",
    "people",
    "reptiles",
    "small_mammals",
    "trees",
    "vehicles_1",
    "vehicles_2",
];

/// One file of a CIFAR distribution, read into memory (from disk or from an archive).
#[derive(Debug, Clone)]
pub struct Member {
    /// Where it came from, for messages: a path, or `archive.tar.gz/inner/name`.
    pub origin: String,
    /// The bare file name, which says its role.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// True for the file names that CIFAR binary distributions use.
pub fn is_cifar_member(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".bin")
        || n == "batches.meta.txt"
        || n == "fine_label_names.txt"
        || n == "coarse_label_names.txt"
}

/// Decodes records into a dataset with pixels in `(H, W, C)` order.
pub fn decode(
    kind: CifarKind,
    labels: Cifar100Labels,
    files: &[&Member],
    class_names: &[String],
    source: &str,
) -> Result<Dataset> {
    let record = kind.record_len();
    let total: usize = files.iter().map(|f| f.bytes.len() / record).sum();
    let mut pixels = vec![0u8; total * PIXELS];
    let mut label_values = Vec::with_capacity(total);
    let label_at = match (kind, labels) {
        (CifarKind::Cifar10, _) => 0,
        (CifarKind::Cifar100, Cifar100Labels::Coarse) => 0,
        (CifarKind::Cifar100, Cifar100Labels::Fine) => 1,
    };
    let mut out = pixels.chunks_exact_mut(PIXELS);
    for f in files {
        let origin = Path::new(&f.origin);
        if f.bytes.is_empty() {
            return Err(Error::format(
                origin,
                "holds zero images: the file is empty; download it again",
            ));
        }
        if f.bytes.len() % record != 0 {
            return Err(Error::format(
                origin,
                format!(
                    "truncated or not {kind:?} binary: {} bytes is not a whole number of {record}-byte \
                     records ({} whole records and {} bytes left over); download it again",
                    f.bytes.len(),
                    f.bytes.len() / record,
                    f.bytes.len() % record
                ),
            ));
        }
        for (i, rec) in f.bytes.chunks_exact(record).enumerate() {
            let label = rec[label_at];
            if usize::from(label) >= class_names.len() {
                return Err(Error::format(
                    origin,
                    format!(
                        "label {label} of record {i} is out of range: this dataset has {} classes \
                         (0-{}); the file is corrupt or not {kind:?} binary",
                        class_names.len(),
                        class_names.len().saturating_sub(1)
                    ),
                ));
            }
            label_values.push(u16::from(label));
            let planes = &rec[kind.label_bytes()..];
            let dst = out
                .next()
                .ok_or_else(|| Error::Internal("CIFAR buffer too small".into()))?;
            let (r, rest) = planes.split_at(SIDE * SIDE);
            let (g, b) = rest.split_at(SIDE * SIDE);
            for (p, px) in dst.chunks_exact_mut(3).enumerate() {
                px[0] = r[p];
                px[1] = g[p];
                px[2] = b[p];
            }
        }
    }
    Dataset::new(
        pixels,
        label_values,
        ImageShape::new(SIDE, SIDE, 3),
        class_names.to_vec(),
        source,
    )
}

/// Reads the CIFAR files of a directory into members.
pub fn members_of_dir(dir: &Path) -> Result<Vec<Member>> {
    let mut out = Vec::new();
    for path in super::list_files(dir)? {
        let name = file_name(&path);
        if is_cifar_member(&name) {
            out.push(Member {
                origin: path.display().to_string(),
                bytes: read_file(&path)?,
                name,
            });
        }
    }
    Ok(out)
}

/// Reads the CIFAR files inside a `.tar.gz` (or plain `.tar`) archive into members.
pub fn members_of_archive(path: &Path) -> Result<Vec<Member>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 2];
    let is_gz = {
        use std::io::Seek;
        let mut f = &file;
        let n = f.read(&mut head).map_err(|e| Error::io(path, e))?;
        f.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| Error::io(path, e))?;
        n == 2 && head == super::GZIP_MAGIC
    };
    let reader: Box<dyn Read> = if is_gz {
        Box::new(flate2::read::GzDecoder::new(
            std::io::BufReader::with_capacity(1 << 20, file),
        ))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let bad = |e: std::io::Error| {
        Error::format(
            path,
            format!(
                "unreadable archive ({e}): the file is truncated or corrupt; download it again"
            ),
        )
    };
    let mut archive = tar::Archive::new(reader);
    let mut out = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let inner = entry.path().map_err(bad)?.into_owned();
        let name = file_name(&inner);
        if !is_cifar_member(&name) {
            continue;
        }
        // The header's size is only a hint: a corrupt archive must not reserve gigabytes.
        let mut bytes = Vec::with_capacity(entry.size().min(1 << 28) as usize);
        entry.read_to_end(&mut bytes).map_err(bad)?;
        out.push(Member {
            origin: format!("{}/{}", path.display(), inner.display()),
            name,
            bytes,
        });
    }
    Ok(out)
}

/// Class names from a metadata text file: one per line, blank lines ignored.
fn names_from(member: &Member) -> Vec<String> {
    String::from_utf8_lossy(&member.bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Decides CIFAR-10 or CIFAR-100 from the file names, then from the record sizes.
pub fn detect_kind(members: &[Member], origin: &Path) -> Result<CifarKind> {
    let has = |f: &dyn Fn(&str) -> bool| members.iter().any(|m| f(&m.name.to_ascii_lowercase()));
    let ten = has(&|n| n.contains("batch"));
    let hundred = has(&|n| n == "train.bin" || n == "test.bin" || n.ends_with("label_names.txt"));
    match (ten, hundred) {
        (true, false) => return Ok(CifarKind::Cifar10),
        (false, true) => return Ok(CifarKind::Cifar100),
        _ => {}
    }
    let bins: Vec<&Member> = members
        .iter()
        .filter(|m| m.name.ends_with(".bin"))
        .collect();
    let fits = |k: CifarKind| bins.iter().all(|m| m.bytes.len() % k.record_len() == 0);
    match (fits(CifarKind::Cifar10), fits(CifarKind::Cifar100)) {
        (true, false) => Ok(CifarKind::Cifar10),
        (false, true) => Ok(CifarKind::Cifar100),
        _ => Err(Error::format(
            origin,
            "cannot tell CIFAR-10 from CIFAR-100: name the files as the official archives do \
             (data_batch_N.bin / test_batch.bin for CIFAR-10, train.bin / test.bin for CIFAR-100)",
        )),
    }
}

/// Builds the train and test splits from the members of a directory or archive. Files whose
/// name contains `test` form the test split; the other `.bin` files, in name order, the train
/// split.
pub fn from_members(
    members: Vec<Member>,
    origin: &Path,
    labels: Cifar100Labels,
    source: &str,
) -> Result<(Splits, CifarKind)> {
    let mut bins: Vec<&Member> = members
        .iter()
        .filter(|m| m.name.ends_with(".bin"))
        .collect();
    if bins.is_empty() {
        return Err(Error::format(
            origin,
            "holds no CIFAR .bin files (data_batch_1.bin ... test_batch.bin, or train.bin / test.bin)",
        ));
    }
    bins.sort_by(|a, b| a.name.cmp(&b.name));
    let kind = detect_kind(&members, origin)?;
    let meta = |file: &str| members.iter().find(|m| m.name.eq_ignore_ascii_case(file));
    let class_names: Vec<String> = match (kind, labels) {
        (CifarKind::Cifar10, _) => meta("batches.meta.txt")
            .map(names_from)
            .unwrap_or_else(|| CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect()),
        (CifarKind::Cifar100, Cifar100Labels::Fine) => meta("fine_label_names.txt")
            .map(names_from)
            .unwrap_or_else(|| {
                CIFAR100_FINE_CLASSES
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
        (CifarKind::Cifar100, Cifar100Labels::Coarse) => meta("coarse_label_names.txt")
            .map(names_from)
            .unwrap_or_else(|| {
                CIFAR100_COARSE_CLASSES
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
    };
    if class_names.is_empty() {
        return Err(Error::format(
            origin,
            "the class names file is empty: one name per line is expected",
        ));
    }
    let (test, train): (Vec<&Member>, Vec<&Member>) = bins
        .into_iter()
        .partition(|m| m.name.to_ascii_lowercase().contains("test"));
    let splits = if train.is_empty() {
        // Only a test file: it is the whole dataset.
        Splits {
            train: decode(kind, labels, &test, &class_names, source)?,
            test: None,
        }
    } else {
        Splits {
            train: decode(kind, labels, &train, &class_names, source)?,
            test: if test.is_empty() {
                None
            } else {
                Some(decode(kind, labels, &test, &class_names, source)?)
            },
        }
    };
    Ok((splits, kind))
}
