//! IDX files (MNIST, Fashion-MNIST, EMNIST): a big-endian header, then unsigned bytes.
//!
//! The header is two zero bytes, a type byte (0x08 = unsigned byte, the only type image and
//! label files use), the number of dimensions, then one big-endian `u32` per dimension. A
//! dataset is a pair of files: images `(N, H, W)` and labels `(N)`, gzip-compressed or raw.

use std::path::{Path, PathBuf};

use super::{
    data_budget, file_name, gunzip_at_most, is_gzip, numbered_classes, over_budget, read_file,
};
use crate::{Dataset, Error, ImageShape, Result};

/// One decoded IDX file: its dimensions and its data bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parses the bytes of an (already decompressed) IDX file.
pub fn parse(mut bytes: Vec<u8>, path: &Path) -> Result<IdxArray> {
    if bytes.len() < 4 {
        return Err(Error::format(
            path,
            format!(
                "{} bytes is too short for an IDX header: the file is truncated or not an IDX file",
                bytes.len()
            ),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(Error::format(
            path,
            format!(
                "wrong magic number 0x{:02x}{:02x}{:02x}{:02x}: not an IDX file (images start with \
                 0x00000803, labels with 0x00000801); check that this is the right file",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(Error::format(
            path,
            format!(
                "IDX data type 0x{:02x} is not supported: nstudent reads unsigned-byte (0x08) IDX \
                 files, as MNIST, Fashion-MNIST and EMNIST ship them",
                bytes[2]
            ),
        ));
    }
    let ndims = usize::from(bytes[3]);
    if ndims == 0 || ndims > 4 {
        return Err(Error::format(
            path,
            format!("IDX header declares {ndims} dimensions; image files have 3, label files 1"),
        ));
    }
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(Error::format(
            path,
            format!(
                "truncated: the IDX header needs {header} bytes but the file has {}; download it again",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::format(
                path,
                format!("IDX dimensions {dims:?} are impossibly large"),
            )
        })?;
    let actual = bytes.len() - header;
    if actual < expected {
        return Err(Error::format(
            path,
            format!(
                "truncated: the header declares dimensions {dims:?} ({expected} data bytes) but only \
                 {actual} follow; download it again"
            ),
        ));
    }
    if actual > expected {
        return Err(Error::format(
            path,
            format!(
                "header/length mismatch: the header declares dimensions {dims:?} ({expected} data \
                 bytes) but {actual} follow; the file is corrupt or not an IDX file"
            ),
        ));
    }
    bytes.drain(..header);
    Ok(IdxArray { dims, data: bytes })
}

/// Reads an IDX file, gzip-compressed or raw. A compressed file's header is read first, and
/// the size it declares is checked against the data budget before the rest is decompressed
/// (at most that size, plus one byte to see a longer stream).
pub fn read(path: &Path) -> Result<IdxArray> {
    let bytes = read_file(path)?;
    if !is_gzip(&bytes) {
        return parse(bytes, path);
    }
    let mut head = [0u8; 4 + 4 * 4];
    let n = read_head(&bytes, &mut head);
    let limit = match declared_len(&head[..n]) {
        Some(len) if len > data_budget() => {
            return Err(over_budget(
                path,
                &format!("its IDX header declares {len} bytes"),
            ))
        }
        Some(len) => len,
        // A header that does not parse is reported by `parse`, on at most a budget's bytes.
        None => data_budget(),
    };
    parse(gunzip_at_most(&bytes, path, limit as usize, limit)?, path)
}

/// Decompresses the first bytes of a gzip stream into `head`; how many there were.
fn read_head(gz: &[u8], head: &mut [u8]) -> usize {
    use std::io::Read;
    let mut decoder = flate2::read::MultiGzDecoder::new(gz);
    let mut n = 0;
    while n < head.len() {
        match decoder.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// The whole length (header and data, in bytes) an unsigned-byte IDX header declares; `None`
/// when `head` is not such a header.
fn declared_len(head: &[u8]) -> Option<u64> {
    if head.len() < 4 || head[..3] != [0, 0, 0x08] {
        return None;
    }
    let ndims = usize::from(head[3]);
    let header = 4 + 4 * ndims;
    if ndims == 0 || ndims > 4 || head.len() < header {
        return None;
    }
    let data = head[4..header]
        .chunks_exact(4)
        .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .try_fold(1u64, |acc, d| acc.checked_mul(d))?;
    data.checked_add(header as u64)
}

/// How to turn an images/labels pair into a dataset.
#[derive(Debug, Clone, Default)]
pub struct PairOptions {
    /// Class names; when `None`, classes are numbered `0..=max label`.
    pub class_names: Option<Vec<String>>,
    /// Subtracted from every label (EMNIST Letters numbers its classes from 1).
    pub label_offset: u16,
    /// Transpose every image (EMNIST stores images column-major).
    pub transpose: bool,
}

/// Reads an images file and its labels file into one dataset. The two files are decompressed
/// in parallel.
pub fn read_pair(
    images: &Path,
    labels: &Path,
    options: &PairOptions,
    source: &str,
) -> Result<Dataset> {
    let (imgs, labs) = std::thread::scope(|s| {
        let i = s.spawn(|| read(images));
        let l = read(labels);
        (
            i.join()
                .unwrap_or_else(|_| Err(Error::Internal("IDX reader thread panicked".into()))),
            l,
        )
    });
    from_arrays(imgs?, images, labs?, labels, options, source)
}

/// Builds a dataset from decoded images `(N, H, W[, C])` and labels `(N)`.
pub fn from_arrays(
    images: IdxArray,
    images_path: &Path,
    labels: IdxArray,
    labels_path: &Path,
    options: &PairOptions,
    source: &str,
) -> Result<Dataset> {
    if labels.dims.len() != 1 {
        return Err(Error::format(
            labels_path,
            format!(
                "expected a label file (1 dimension) but it has dimensions {:?}: are the images and \
                 labels files swapped?",
                labels.dims
            ),
        ));
    }
    let shape = match images.dims[..] {
        [_, h, w] => ImageShape::new(h, w, 1),
        [_, h, w, c] => ImageShape::new(h, w, c),
        _ => {
            return Err(Error::format(
                images_path,
                format!(
                    "expected an image file (3 dimensions: count, height, width) but it has \
                     dimensions {:?}: are the images and labels files swapped?",
                    images.dims
                ),
            ))
        }
    };
    let n = images.dims[0];
    if n == 0 || shape.is_empty() {
        return Err(Error::format(
            images_path,
            "holds zero images: the file is empty or was cut short; download it again",
        ));
    }
    if labels.dims[0] != n {
        return Err(Error::format(
            labels_path,
            format!(
                "holds {} labels but {} holds {n} images: the two files belong to different \
                 datasets or splits",
                labels.dims[0],
                images_path.display()
            ),
        ));
    }
    let mut label_values = Vec::with_capacity(n);
    for (i, &raw) in labels.data.iter().enumerate() {
        let Some(l) = u16::from(raw).checked_sub(options.label_offset) else {
            return Err(Error::format(
                labels_path,
                format!(
                    "label {raw} of image {i} is out of range: labels start at {}",
                    options.label_offset
                ),
            ));
        };
        label_values.push(l);
    }
    let class_names = match &options.class_names {
        Some(names) => {
            if let Some((i, &bad)) = label_values
                .iter()
                .enumerate()
                .find(|(_, &l)| usize::from(l) >= names.len())
            {
                return Err(Error::format(
                    labels_path,
                    format!(
                        "label {} of image {i} is out of range: this dataset has {} classes ({}-{})",
                        bad + options.label_offset,
                        names.len(),
                        options.label_offset,
                        names.len().saturating_sub(1) + usize::from(options.label_offset)
                    ),
                ));
            }
            names.clone()
        }
        None => numbered_classes(usize::from(label_values.iter().copied().max().unwrap_or(0)) + 1),
    };
    let mut pixels = images.data;
    if options.transpose {
        transpose_all(&mut pixels, shape);
    }
    Dataset::new(pixels, label_values, shape, class_names, source)
}

fn transpose_all(pixels: &mut [u8], shape: ImageShape) {
    let (h, w, c) = (shape.height, shape.width, shape.channels);
    let mut tmp = vec![0u8; shape.len()];
    for img in pixels.chunks_exact_mut(shape.len()) {
        // Stored as (W, H, C): element (x, y) sits at x * h + y.
        for x in 0..w {
            for y in 0..h {
                let src = (x * h + y) * c;
                let dst = (y * w + x) * c;
                tmp[dst..dst + c].copy_from_slice(&img[src..src + c]);
            }
        }
        img.copy_from_slice(&tmp);
    }
}

/// The images and labels files of one split in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxPair {
    pub images: PathBuf,
    pub labels: PathBuf,
}

/// True when a file name looks like an IDX file (`*-idx3-ubyte`, `*-idx1-ubyte.gz`, ...).
pub fn looks_like_idx(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("-idx") && n.contains("-ubyte")
}

/// The labels file that belongs to an images file (or the reverse), by the standard naming.
pub fn partner(path: &Path) -> Option<PathBuf> {
    let name = file_name(path);
    let swapped = if name.contains("images-idx3") {
        name.replace("images-idx3", "labels-idx1")
    } else if name.contains("labels-idx1") {
        name.replace("labels-idx1", "images-idx3")
    } else {
        return None;
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    // The partner may be compressed when this one is not, or the other way around.
    let base = swapped.strip_suffix(".gz").unwrap_or(&swapped).to_string();
    [base.clone() + ".gz", base]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Finds the train and test pairs among the IDX files of a directory: names containing
/// `train` are the training split, `t10k` or `test` the test split.
pub fn find_pairs(dir: &Path, files: &[PathBuf]) -> Result<(Option<IdxPair>, Option<IdxPair>)> {
    let pick = |split: &[&str], kind: &str| -> Result<Option<PathBuf>> {
        let found: Vec<&PathBuf> = files
            .iter()
            .filter(|p| {
                let n = file_name(p).to_ascii_lowercase();
                looks_like_idx(&n) && n.contains(kind) && split.iter().any(|s| n.contains(s))
            })
            .collect();
        // Prefer the compressed copy when both a raw and a .gz file exist.
        let mut stems: Vec<&PathBuf> = Vec::new();
        for p in &found {
            let n = file_name(p);
            let stem = n.strip_suffix(".gz").unwrap_or(&n).to_string();
            if !stems.iter().any(|q| {
                let m = file_name(q);
                m.strip_suffix(".gz").unwrap_or(&m) == stem
            }) {
                stems.push(p);
            } else if n.ends_with(".gz") {
                stems.retain(|q| {
                    let m = file_name(q);
                    m.strip_suffix(".gz").unwrap_or(&m) != stem
                });
                stems.push(p);
            }
        }
        match stems.len() {
            0 => Ok(None),
            1 => Ok(Some(stems[0].clone())),
            _ => Err(Error::format(
                dir,
                format!(
                    "holds several IDX {kind} files for one split ({}): pass the images file of the \
                     dataset you want",
                    stems.iter().map(|p| file_name(p)).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    };
    let pair = |split: &[&str], name: &str| -> Result<Option<IdxPair>> {
        match (pick(split, "images")?, pick(split, "labels")?) {
            (Some(images), Some(labels)) => Ok(Some(IdxPair { images, labels })),
            (None, None) => Ok(None),
            (Some(images), None) => Err(Error::format(
                dir,
                format!(
                    "has the {name} images file {} but no {name} labels file: add it (named like \
                     {name}-labels-idx1-ubyte.gz)",
                    file_name(&images)
                ),
            )),
            (None, Some(labels)) => Err(Error::format(
                dir,
                format!(
                    "has the {name} labels file {} but no {name} images file: add it (named like \
                     {name}-images-idx3-ubyte.gz)",
                    file_name(&labels)
                ),
            )),
        }
    };
    Ok((pair(&["train"], "train")?, pair(&["t10k", "test"], "test")?))
}
