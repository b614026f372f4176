//! Downloading named sources: resumable (HTTP `Range` onto a `.part` file), reporting its
//! progress ([`DownloadProgress`]), verified against the published checksum, and moved into place by an atomic rename so
//! that a data directory never holds a half-written file under its final name.

use std::fs::OpenOptions;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::read::file_name;
use crate::sources::{Download, Source};
use crate::{Error, Result};

/// Environment variable holding a mirror base URL: files are then fetched from
/// `MIRROR/<source>/<file>` instead of their official locations.
pub const MIRROR_ENV: &str = "NSTUDENT_MIRROR";

/// A published checksum, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    Md5(String),
    Sha256(String),
}

impl Checksum {
    fn hasher(&self) -> Hasher {
        match self {
            Checksum::Md5(_) => Hasher::Md5(Md5::new()),
            Checksum::Sha256(_) => Hasher::Sha256(Sha256::new()),
        }
    }

    fn expected(&self) -> &str {
        match self {
            Checksum::Md5(h) | Checksum::Sha256(h) => h,
        }
    }

    fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Md5(_) => "md5",
            Checksum::Sha256(_) => "sha256",
        }
    }
}

enum Hasher {
    Md5(Md5),
    Sha256(Sha256),
}

impl Hasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    fn hex(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Hex digest of a file.
pub fn file_digest(path: &Path, checksum: &Checksum) -> Result<String> {
    let mut hasher = checksum.hasher();
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    hash_reader(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hasher.hex())
}

fn hash_reader(r: &mut impl Read, hasher: &mut Hasher) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
}

/// How to fetch.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Base URL replacing the official locations (`MIRROR/<source>/<file>`).
    pub mirror: Option<String>,
    /// Who hears of each download's progress (the CLI draws a bar); nobody by default.
    pub progress: ProgressHandle,
    /// When a download counts as stalled.
    pub stall: Stall,
}

/// What a download reports as it goes. The library never draws: the CLI implements this with
/// a progress bar, and a library user may follow the bytes or ignore them ([`NoProgress`]).
pub trait DownloadProgress: Send + Sync {
    /// The file named `name` starts (or resumes) at byte `start` of `total` bytes.
    fn started(&self, _name: &str, _start: u64, _total: Option<u64>) {}
    /// `got` bytes of the file are here.
    fn advanced(&self, _got: u64) {}
    /// The transfer ended: `completed` false when it stopped early (its partial file is kept
    /// for a resume).
    fn ended(&self, _completed: bool) {}
}

/// Hears nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl DownloadProgress for NoProgress {}

/// A shared [`DownloadProgress`] in [`FetchOptions`].
#[derive(Clone)]
pub struct ProgressHandle(pub std::sync::Arc<dyn DownloadProgress>);

impl Default for ProgressHandle {
    fn default() -> Self {
        Self(std::sync::Arc::new(NoProgress))
    }
}

impl std::fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHandle(..)")
    }
}

/// A download that receives fewer than `min_bytes` in any `window` is stalled, and stops with
/// its partial file kept for a resume: a server that trickles a byte every few seconds never
/// trips the read timeout, and would otherwise hold the command for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    pub window: Duration,
    pub min_bytes: u64,
}

impl Default for Stall {
    /// 64 KiB a minute, about 1 kB/s: far below any working mirror.
    fn default() -> Self {
        Stall {
            window: Duration::from_secs(60),
            min_bytes: 64 << 10,
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Downloaded and verified; `resumed_from` bytes came from an earlier partial download.
    Downloaded { bytes: u64, resumed_from: u64 },
    /// Already in place and matching its checksum.
    AlreadyPresent,
}

/// One file of a fetched source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub file: String,
    pub path: PathBuf,
    pub outcome: Outcome,
}

/// The URL a download comes from, given an optional mirror.
pub fn url_for(source: &Source, download: &Download, mirror: Option<&str>) -> String {
    match mirror {
        Some(m) => format!(
            "{}/{}/{}",
            m.trim_end_matches('/'),
            source.name,
            download.file
        ),
        None => download.url.to_string(),
    }
}

/// Downloads a named source into `data_dir/<name>/`. Files already present are verified
/// (never overwritten); sources behind a manual step give an error that describes it.
pub fn fetch(source: &Source, data_dir: &Path, options: &FetchOptions) -> Result<Vec<Fetched>> {
    if source.embedded {
        return Ok(Vec::new());
    }
    if source.downloads.is_empty() {
        return Err(Error::Invalid(format!(
            "`{}` cannot be downloaded automatically: {}",
            source.name,
            source.how_to_get(data_dir)
        )));
    }
    let dir = source.dir(data_dir);
    let existed = dir.is_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let result = fetch_into(source, &dir, options);
    if result.is_err() && !existed {
        // A failed first fetch leaves no empty source folder (which would look like data).
        // remove_dir only removes an empty folder: a resumable partial download stays.
        let _ = std::fs::remove_dir(&dir);
    }
    result
}

fn fetch_into(source: &Source, dir: &Path, options: &FetchOptions) -> Result<Vec<Fetched>> {
    let mut out = Vec::new();
    for d in source.downloads {
        let checksum = Checksum::Md5(d.md5.to_string());
        if !d.extract.is_empty() && d.outputs().iter().all(|f| dir.join(f).is_file()) {
            for f in d.outputs() {
                out.push(Fetched {
                    file: f.to_string(),
                    path: dir.join(f),
                    outcome: Outcome::AlreadyPresent,
                });
            }
            continue;
        }
        let dest = dir.join(d.file);
        let url = url_for(source, d, options.mirror.as_deref());
        let outcome = download_with(
            &url,
            &dest,
            &checksum,
            options.progress.0.as_ref(),
            options.stall,
        )?;
        if d.extract.is_empty() {
            out.push(Fetched {
                file: d.file.to_string(),
                path: dest,
                outcome,
            });
        } else {
            extract_zip_members(&dest, d.extract, dir)?;
            std::fs::remove_file(&dest).map_err(|e| Error::io(&dest, e))?;
            for f in d.outputs() {
                out.push(Fetched {
                    file: f.to_string(),
                    path: dir.join(f),
                    outcome: outcome.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Extracts `members` of a zip archive into `dir`, each through a `.part` file and a rename.
fn extract_zip_members(archive: &Path, members: &[(&str, &str)], dir: &Path) -> Result<()> {
    let file = std::fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let bad = |e: zip::result::ZipError| {
        Error::format(
            archive,
            format!("unreadable zip archive ({e}): delete it and fetch again"),
        )
    };
    let mut zip = zip::ZipArchive::new(file).map_err(bad)?;
    for (member, out) in members {
        let dest = dir.join(out);
        let part = part_path(&dest);
        let mut entry = zip.by_name(member).map_err(bad)?;
        let mut f = std::fs::File::create(&part).map_err(|e| Error::io(&part, e))?;
        std::io::copy(&mut entry, &mut f).map_err(|e| {
            let _ = std::fs::remove_file(&part);
            Error::io(&part, e)
        })?;
        f.sync_all().map_err(|e| Error::io(&part, e))?;
        std::fs::rename(&part, &dest).map_err(|e| Error::io(&dest, e))?;
    }
    Ok(())
}

/// `dest` with `.part` appended to its file name: where a download in progress lives.
pub fn part_path(dest: &Path) -> PathBuf {
    dest.with_file_name(format!("{}.part", file_name(dest)))
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .user_agent(concat!("nstudent/", env!("CARGO_PKG_VERSION")))
        .build()
}

fn interrupted(url: &str, got: u64, total: Option<u64>, why: &str) -> Error {
    let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
    Error::Invalid(format!(
        "download of {url} was interrupted after {got}{of} bytes ({why}): run the same command \
         again to resume"
    ))
}

/// Downloads `url` to `dest`, resuming a `dest.part` left by an earlier attempt, and renames it
/// into place only when its checksum matches. A mismatch deletes the partial file. An existing
/// `dest` is verified and kept; if it does not match, the error says so and nothing is changed.
pub fn download(
    url: &str,
    dest: &Path,
    checksum: &Checksum,
    progress: &dyn DownloadProgress,
) -> Result<Outcome> {
    download_with(url, dest, checksum, progress, Stall::default())
}

/// [`download`], stopping a stalled transfer as `stall` says.
pub fn download_with(
    url: &str,
    dest: &Path,
    checksum: &Checksum,
    progress: &dyn DownloadProgress,
    stall: Stall,
) -> Result<Outcome> {
    if already_present(dest, checksum)? {
        return Ok(Outcome::AlreadyPresent);
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let part = part_path(dest);
    for attempt in 0..2 {
        let offset = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let mut request = agent().get(url);
        if offset > 0 {
            request = request.set("Range", &format!("bytes={offset}-"));
        }
        let response = match request.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(416, _)) if offset > 0 && attempt == 0 => {
                // The partial file is already whole (or longer than the file): check it.
                if finish(&part, dest, checksum, url).is_ok() {
                    return Ok(Outcome::Downloaded {
                        bytes: offset,
                        resumed_from: offset,
                    });
                }
                continue;
            }
            Err(ureq::Error::Status(code, r)) => {
                return Err(Error::Invalid(format!(
                    "{url}: the server answered HTTP {code} {}: check the URL (or the mirror in {MIRROR_ENV})",
                    r.status_text()
                )))
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(Error::Invalid(format!(
                    "{url}: cannot download ({t}): check the network connection or use a mirror \
                     ({MIRROR_ENV} or --mirror); a partial download is resumed next time"
                )))
            }
        };
        let resumed = offset > 0 && response.status() == 206;
        let start = if resumed { offset } else { 0 };
        let length: Option<u64> = response
            .header("Content-Length")
            .and_then(|v| v.trim().parse().ok());
        let total = length.map(|l| l + start);
        let (mut file, mut hasher) = open_part(&part, resumed, start, checksum)?;
        progress.started(&file_name(dest), start, total);
        let mut reader = response.into_reader();
        let got = copy_body(
            &mut reader,
            &mut file,
            &mut hasher,
            progress,
            stall,
            (url, &part),
            (start, total),
        )?;
        file.sync_all().map_err(|e| Error::io(&part, e))?;
        drop(file);
        progress.ended(true);
        if let Some(t) = total {
            if got < t {
                return Err(interrupted(url, got, total, "the connection closed early"));
            }
        }
        check_digest(hasher, checksum, url, &part, dest)?;
        std::fs::rename(&part, dest).map_err(|e| Error::io(dest, e))?;
        return Ok(Outcome::Downloaded {
            bytes: got,
            resumed_from: start,
        });
    }
    Err(Error::Invalid(format!(
        "{url}: the server refused to resume {} and it does not match the published checksum: \
         it was deleted; run the command again",
        part.display()
    )))
}

/// Whether `dest` is already there with the published checksum; an error when it is there
/// with another.
fn already_present(dest: &Path, checksum: &Checksum) -> Result<bool> {
    if !dest.is_file() {
        return Ok(false);
    }
    let got = file_digest(dest, checksum)?;
    if got == checksum.expected() {
        return Ok(true);
    }
    Err(Error::format(
        dest,
        format!(
            "already exists but its {} is {got}, not the published {}: delete it and fetch again",
            checksum.algorithm(),
            checksum.expected()
        ),
    ))
}

/// Opens the partial download, and hashes its first `start` bytes when it is resumed.
fn open_part(
    part: &Path,
    resumed: bool,
    start: u64,
    checksum: &Checksum,
) -> Result<(std::fs::File, Hasher)> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .truncate(!resumed)
        .open(part)
        .map_err(|e| Error::io(part, e))?;
    let mut hasher = checksum.hasher();
    if resumed {
        let hashed = hash_reader(&mut file, &mut hasher).map_err(|e| Error::io(part, e))?;
        if hashed != start {
            return Err(Error::Internal(format!(
                "{}: changed while reading",
                part.display()
            )));
        }
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| Error::io(part, e))?;
    }
    Ok((file, hasher))
}

/// Copies the response into the partial file and the hasher, until its end; an error when the
/// connection breaks or stalls (`stall`). Returns the bytes the file holds.
fn copy_body(
    reader: &mut impl Read,
    file: &mut std::fs::File,
    hasher: &mut Hasher,
    progress: &dyn DownloadProgress,
    stall: Stall,
    (url, part): (&str, &Path),
    (start, total): (u64, Option<u64>),
) -> Result<u64> {
    let mut buf = vec![0u8; 1 << 16];
    let mut got = start;
    let (mut window_start, mut window_bytes) = (std::time::Instant::now(), 0u64);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                progress.ended(false);
                let _ = file.sync_all();
                return Err(interrupted(url, got, total, &e.to_string()));
            }
        };
        file.write_all(&buf[..n]).map_err(|e| Error::io(part, e))?;
        hasher.update(&buf[..n]);
        got += n as u64;
        progress.advanced(got);
        window_bytes += n as u64;
        if window_start.elapsed() >= stall.window {
            if window_bytes < stall.min_bytes {
                progress.ended(false);
                let _ = file.sync_all();
                return Err(interrupted(
                    url,
                    got,
                    total,
                    &format!(
                        "stalled: {window_bytes} bytes in the last {} s",
                        stall.window.as_secs_f64()
                    ),
                ));
            }
            (window_start, window_bytes) = (std::time::Instant::now(), 0);
        }
    }
    Ok(got)
}

/// Deletes the partial file and fails when its digest is not the published one.
fn check_digest(
    hasher: Hasher,
    checksum: &Checksum,
    url: &str,
    part: &Path,
    dest: &Path,
) -> Result<()> {
    let digest = hasher.hex();
    if digest != checksum.expected() {
        let _ = std::fs::remove_file(part);
        return Err(Error::format(
            dest,
            format!(
                "checksum mismatch: the download from {url} has {} {digest}, not the published \
                 {}; nothing was kept: run the command again, or check the mirror",
                checksum.algorithm(),
                checksum.expected()
            ),
        ));
    }
    Ok(())
}

/// Verifies a complete `.part` file and renames it into place; a mismatch deletes it.
fn finish(part: &Path, dest: &Path, checksum: &Checksum, url: &str) -> Result<()> {
    let digest = file_digest(part, checksum)?;
    if digest != checksum.expected() {
        let _ = std::fs::remove_file(part);
        return Err(Error::format(
            dest,
            format!("checksum mismatch for the download from {url}"),
        ));
    }
    std::fs::rename(part, dest).map_err(|e| Error::io(dest, e))
}
