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

use crate::{Error, Result};

/// The first two bytes of every gzip stream.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[..2] == GZIP_MAGIC
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
    // Deflate expands at most ~1032:1, so a corrupt trailer cannot reserve more than that.
    let mut out = Vec::with_capacity(hint.min(bytes.len().saturating_mul(1032)).min(1 << 31));
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::format(
                path,
                format!("unreadable gzip data ({e}): the file is truncated or corrupt; download it again"),
            )
        })?;
    Ok(out)
}

/// Reads a file and decompresses it when it is gzip (by content, not by name).
pub(crate) fn read_maybe_gz(path: &Path) -> Result<(Vec<u8>, bool)> {
    let bytes = read_file(path)?;
    if is_gzip(&bytes) {
        Ok((gunzip(&bytes, path)?, true))
    } else {
        Ok((bytes, false))
    }
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
