//! Readers for the datasets' original distribution formats.
//!
//! Each reader turns bytes on disk into a [`Dataset`](crate::Dataset) and reports every problem
//! as a typed [`Error`](crate::Error) that names the file, what is wrong and how to fix it.

pub mod cifar;
pub mod csv;
pub mod idx;
pub mod image_folder;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// The first two bytes of every gzip stream.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[..2] == GZIP_MAGIC
}

/// The most bytes one data file may decompress to (and one CSV may hold as pixels) unless
/// raised: a small compressed file cannot claim gigabytes (a gzip bomb, or a header that
/// declares more images than a real file holds). 2 GiB, far above every supported dataset
/// (EMNIST's largest split holds 0.7 GB of pixels).
pub const DEFAULT_DATA_BUDGET: u64 = 2 << 30;

/// The budget set for this process ([`set_data_budget`]); 0 when not set.
static BUDGET: AtomicU64 = AtomicU64::new(0);

/// Sets the data budget of this process, in bytes (the CLI's `--max-data-gb`).
pub fn set_data_budget(bytes: u64) {
    BUDGET.store(bytes.max(1), Ordering::Relaxed);
}

/// The data budget in bytes: as set, else `NSTUDENT_MAX_DATA_GB` (gigabytes, 2^30 bytes),
/// else [`DEFAULT_DATA_BUDGET`].
pub fn data_budget() -> u64 {
    match BUDGET.load(Ordering::Relaxed) {
        0 => std::env::var("NSTUDENT_MAX_DATA_GB")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|gb| gb.is_finite() && *gb > 0.0)
            .map_or(DEFAULT_DATA_BUDGET, |gb| (gb * (1u64 << 30) as f64) as u64),
        b => b,
    }
}

/// The error of data larger than the budget: `what` says how it was measured.
pub(crate) fn over_budget(path: &Path, what: &str) -> Error {
    Error::format(
        path,
        format!(
            "{what}, more than the data budget of {:.1} GB: the file is damaged or not what it \
             says; if it is genuine, raise the budget with --max-data-gb or NSTUDENT_MAX_DATA_GB",
            data_budget() as f64 / (1u64 << 30) as f64
        ),
    )
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Decompresses a gzip stream held in memory (`path` is only used in messages).
pub(crate) fn gunzip(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    // The gzip trailer stores the uncompressed size modulo 2^32: a good capacity hint.
    let hint = if bytes.len() >= 4 {
        let t = &bytes[bytes.len() - 4..];
        u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize
    } else {
        0
    };
    gunzip_at_most(bytes, path, hint, data_budget())
}

/// [`gunzip`], refusing a stream that decompresses to more than `limit` bytes; `hint` sizes
/// the buffer.
pub(crate) fn gunzip_at_most(
    bytes: &[u8],
    path: &Path,
    hint: usize,
    limit: u64,
) -> Result<Vec<u8>> {
    // Deflate expands at most ~1032:1, so a corrupt trailer cannot reserve more than that.
    let cap = (hint as u64)
        .min((bytes.len() as u64).saturating_mul(1032))
        .min(limit);
    let mut out = Vec::with_capacity(cap as usize);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::format(
                path,
                format!("unreadable gzip data ({e}): the file is truncated or corrupt; download it again"),
            )
        })?;
    if out.len() as u64 > limit {
        return Err(over_budget(
            path,
            &format!("decompresses to more than {limit} bytes"),
        ));
    }
    Ok(out)
}

/// File name of `path` as text, for matching names.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Files of a directory in name order: hidden files and partial downloads left out.
pub(crate) fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    list(dir, false)
}

/// Subdirectories of a directory in name order, hidden ones left out.
pub(crate) fn list_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    list(dir, true)
}

fn list(dir: &Path, dirs: bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = file_name(&path);
        if name.starts_with('.') || name.ends_with(".part") {
            continue;
        }
        if path.is_dir() == dirs && (dirs || path.is_file()) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// True when `dir` exists and holds anything a reader might use.
pub(crate) fn has_data_files(dir: &Path) -> bool {
    dir.is_dir()
        && (list_files(dir).map(|f| !f.is_empty()).unwrap_or(false)
            || list_dirs(dir).map(|d| !d.is_empty()).unwrap_or(false))
}

/// Class names "0", "1", ... for sources whose labels are plain numbers.
pub fn numbered_classes(count: usize) -> Vec<String> {
    (0..count).map(|i| i.to_string()).collect()
}
