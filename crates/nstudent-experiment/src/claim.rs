//! Claims: which process computes a cell now, so that any number of processes (on one machine,
//! or on many sharing a file system) can work on one results directory without computing a
//! cell twice.
//!
//! A claim is the file `cells/<task>/<fold>/<algorithm>.claim`, created with `create_new`
//! (atomic on local and NFSv3+ file systems), holding the claimant's host, process id, start
//! time and a random token. Its modification time is the heartbeat: the claimant touches it
//! every few seconds. A claim whose heartbeat is older than the claim timeout, or whose process
//! is gone (same host, no such process), is stale: another process takes the cell over, and
//! resumes it from its checkpoint ([`crate::checkpoint`]).
//!
//! Taking over is itself atomic: the stale claim is renamed to a name of the taker's own, and
//! only the process whose rename moved the very claim it judged stale (same token) goes on.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::cell::Cell;
use crate::{Error, Result};

/// What a claim file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimInfo {
    pub host: String,
    pub pid: u32,
    /// Seconds since the Unix epoch when the claim was made.
    pub started: u64,
    /// Random: tells this claim from a later one of the same cell.
    pub token: u64,
}

impl std::fmt::Display for ClaimInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} on {}", self.pid, self.host)
    }
}

/// A cell this process holds; dropping it removes the claim (if it is still this one's).
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
    token: u64,
}

/// The outcome of [`try_claim`].
#[derive(Debug)]
pub enum Attempt {
    /// This process holds the cell now.
    Claimed(Claim),
    /// Another live process holds it; its heartbeat is `age` old.
    Busy { by: ClaimInfo, age: Duration },
}

/// The claim file of `cell` inside the results directory `dir`.
pub fn path(dir: &Path, cell: &Cell) -> PathBuf {
    dir.join(cell.relative_path().with_extension("claim"))
}

/// This machine's name, as claims record it.
pub fn host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A token no other claim has: time, process and a counter, mixed.
fn new_token() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    crate::seed::derive(
        nanos ^ u64::from(std::process::id()) << 32,
        &[&COUNTER.fetch_add(1, Ordering::Relaxed).to_string()],
    )
}

/// True when the process that made `info` is known to be gone: it ran on this host and no
/// process has its id. (On another host, only the heartbeat tells.)
fn is_dead(info: &ClaimInfo) -> bool {
    info.host == host()
        && info.pid != std::process::id()
        && Path::new("/proc/self").exists()
        && !Path::new("/proc").join(info.pid.to_string()).exists()
}

/// The claim at `path` and the age of its heartbeat; `None` when there is no claim file. The
/// info is `None` for a file that does not parse (being written, or torn by a crash).
fn read_claim(path: &Path) -> Option<(Option<ClaimInfo>, Duration)> {
    let modified = fs::metadata(path).ok()?.modified().ok()?;
    let age = SystemTime::now()
        .duration_since(modified)
        .unwrap_or(Duration::ZERO);
    let info = fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    Some((info, age))
}

fn read_info(path: &Path) -> Option<(ClaimInfo, Duration)> {
    match read_claim(path)? {
        (Some(info), age) => Some((info, age)),
        (None, _) => None,
    }
}

/// A claim file that does not parse after this long was torn by a crash, not being written.
const TORN_AFTER: Duration = Duration::from_secs(2);

/// Claims `cell` for this process, unless a live process holds it. A claim older than
/// `timeout` (or of a dead process on this host) is taken over.
pub fn try_claim(dir: &Path, cell: &Cell, timeout: Duration) -> Result<Attempt> {
    let path = path(dir, cell);
    let folder = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{} has no folder", path.display())))?;
    fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    for _ in 0..8 {
        let info = ClaimInfo {
            host: host(),
            pid: std::process::id(),
            started: now_secs(),
            token: new_token(),
        };
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let json = serde_json::to_vec(&info)
                    .map_err(|e| Error::Internal(format!("cannot encode a claim: {e}")))?;
                f.write_all(&json)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| Error::io(&path, e))?;
                return Ok(Attempt::Claimed(Claim {
                    path,
                    token: info.token,
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        // Held: by a live process, or stale.
        match read_claim(&path) {
            // Gone meanwhile: try again.
            None => continue,
            // Being written (or torn by a crash, once old).
            Some((None, age)) => {
                if age < TORN_AFTER {
                    std::thread::sleep(Duration::from_millis(20));
                } else {
                    take_over(&path, None)?;
                }
            }
            Some((Some(held), age)) => {
                if age < timeout && !is_dead(&held) {
                    return Ok(Attempt::Busy { by: held, age });
                }
                take_over(&path, Some(&held))?;
            }
        }
    }
    Err(Error::Internal(format!(
        "{}: could not claim the cell after 8 tries (processes keep taking it)",
        path.display()
    )))
}

/// Removes the stale claim `held` at `path` (`None`: a torn file), unless another process
/// replaced it meanwhile: the claim is renamed aside first, and put back if it turns out to
/// be a new one.
fn take_over(path: &Path, held: Option<&ClaimInfo>) -> Result<()> {
    let aside = path.with_extension(format!("claim.stale-{}", new_token()));
    match fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    }
    let moved = read_info(&aside).map(|(info, _)| info.token);
    if moved.is_some() && moved != held.map(|h| h.token) {
        // A fresh claim made after we looked: give it back, onto a free name only (a link
        // fails where a newer claim exists; that claimant then holds the cell).
        let _ = fs::hard_link(&aside, path);
    }
    let _ = fs::remove_file(&aside);
    Ok(())
}

impl Claim {
    /// Touches the claim so that other processes see it alive; false when it is no longer
    /// this process's (another process took it over after a missed heartbeat).
    pub fn heartbeat(&self) -> bool {
        match read_info(&self.path) {
            Some((info, _)) if info.token == self.token => fs::File::options()
                .append(true)
                .open(&self.path)
                .and_then(|f| f.set_modified(SystemTime::now()))
                .is_ok(),
            _ => false,
        }
    }

    /// The claim's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if matches!(read_info(&self.path), Some((info, _)) if info.token == self.token) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Algorithm;

    fn cell() -> Cell {
        Cell {
            index: 3,
            task: "mnist:0-4".into(),
            fold: 2,
            algorithm: Algorithm::Ensemble,
        }
    }

    fn age(path: &Path, secs: u64) {
        let f = fs::File::options().append(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(secs))
            .unwrap();
    }

    #[test]
    fn a_cell_is_claimed_once_until_its_claim_goes_stale() {
        let dir = tempfile::tempdir().unwrap();
        let timeout = Duration::from_secs(60);
        let Attempt::Claimed(first) = try_claim(dir.path(), &cell(), timeout).unwrap() else {
            panic!("a free cell is claimed")
        };
        assert_eq!(
            first.path(),
            dir.path().join("cells/mnist_0-4/2/ensemble.claim")
        );
        match try_claim(dir.path(), &cell(), timeout).unwrap() {
            Attempt::Busy { by, .. } => {
                assert_eq!(by.pid, std::process::id());
                assert_eq!(by.host, host());
            }
            Attempt::Claimed(_) => panic!("claimed twice"),
        }
        assert!(first.heartbeat());
        // A heartbeat older than the timeout: another claimant takes the cell over, and the
        // first one learns it at its next heartbeat.
        age(first.path(), 120);
        let Attempt::Claimed(second) = try_claim(dir.path(), &cell(), timeout).unwrap() else {
            panic!("a stale claim is taken over")
        };
        assert!(!first.heartbeat());
        drop(first);
        assert!(
            second.path().exists(),
            "the old holder leaves the new claim"
        );
        drop(second);
        assert!(!path(dir.path(), &cell()).exists());
    }

    #[test]
    fn a_claim_of_a_dead_process_on_this_host_is_stale_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), &cell());
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        // No process has this id (above the kernel's pid_max).
        let dead = ClaimInfo {
            host: host(),
            pid: u32::MAX - 1,
            started: 0,
            token: 7,
        };
        fs::write(&p, serde_json::to_vec(&dead).unwrap()).unwrap();
        let attempt = try_claim(dir.path(), &cell(), Duration::from_secs(3600)).unwrap();
        assert!(matches!(attempt, Attempt::Claimed(_)), "{attempt:?}");
        // On another host only the heartbeat tells: a fresh claim there is busy.
        drop(attempt);
        let elsewhere = ClaimInfo {
            host: "node-17".into(),
            ..dead
        };
        fs::write(&p, serde_json::to_vec(&elsewhere).unwrap()).unwrap();
        let attempt = try_claim(dir.path(), &cell(), Duration::from_secs(3600)).unwrap();
        assert!(matches!(attempt, Attempt::Busy { .. }), "{attempt:?}");
    }

    #[test]
    fn many_threads_racing_for_one_cell_claim_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let won: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        match try_claim(dir.path(), &cell(), Duration::from_secs(60)).unwrap() {
                            Attempt::Claimed(c) => {
                                std::mem::forget(c);
                                true
                            }
                            Attempt::Busy { .. } => false,
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    }
}
