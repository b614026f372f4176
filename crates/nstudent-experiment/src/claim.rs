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

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
/// process has its id, or that process is a zombie (killed, not yet reaped by its parent). On
/// another host, only the heartbeat tells.
fn is_dead(info: &ClaimInfo) -> bool {
    if info.host != host() || info.pid == std::process::id() || !Path::new("/proc/self").exists() {
        return false;
    }
    match fs::read_to_string(Path::new("/proc").join(info.pid.to_string()).join("stat")) {
        Err(_) => true,
        Ok(stat) => is_zombie(&stat),
    }
}

/// Whether `/proc/<pid>/stat` says the process is a zombie (`Z`) or dead (`X`): the state is
/// the first field after the command name, which is in parentheses and may hold any byte.
fn is_zombie(stat: &str) -> bool {
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| matches!(state, "Z" | "X" | "x"))
}

/// How long this process has watched a claim file without a heartbeat: its modification time
/// as last seen, and when this process first saw that time. A claim's age is judged by this
/// process's own clock, so that a file clock in the future (another host's, or a touched
/// file) cannot make a claim look fresh forever.
struct Watched {
    modified: SystemTime,
    since: Instant,
}

fn watched() -> &'static Mutex<HashMap<PathBuf, Watched>> {
    static WATCHED: OnceLock<Mutex<HashMap<PathBuf, Watched>>> = OnceLock::new();
    WATCHED.get_or_init(Default::default)
}

/// The age of the heartbeat `modified` of the claim at `path`: the larger of what the file's
/// clock says (zero for a time in the future) and how long this process has seen that same
/// time unchanged.
fn heartbeat_age(path: &Path, modified: SystemTime) -> Duration {
    let by_file = SystemTime::now()
        .duration_since(modified)
        .unwrap_or(Duration::ZERO);
    let mut map = watched().lock().unwrap_or_else(|e| e.into_inner());
    let entry = map.entry(path.to_path_buf()).or_insert(Watched {
        modified,
        since: Instant::now(),
    });
    if entry.modified != modified {
        *entry = Watched {
            modified,
            since: Instant::now(),
        };
    }
    by_file.max(entry.since.elapsed())
}

/// The claim at `path` and the age of its heartbeat; `None` when there is no claim file. The
/// info is `None` for a file that does not parse (being written, or torn by a crash).
fn read_claim(path: &Path) -> Option<(Option<ClaimInfo>, Duration)> {
    let modified = fs::metadata(path).ok()?.modified().ok()?;
    let age = heartbeat_age(path, modified);
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
    // Waiting for a claim being written (or torn) does not count as a try; the deadline covers
    // the whole takeover window of a torn claim.
    let deadline = Instant::now() + TORN_AFTER * 4;
    let mut tries = 0;
    while tries < 8 && Instant::now() < deadline {
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
            None => tries += 1,
            // Being written (or torn by a crash, once old).
            Some((None, age)) => {
                if age < TORN_AFTER {
                    std::thread::sleep(Duration::from_millis(50));
                } else {
                    tries += 1;
                    take_over(&path, None)?;
                }
            }
            Some((Some(held), age)) => {
                if age < timeout && !is_dead(&held) {
                    return Ok(Attempt::Busy { by: held, age });
                }
                tries += 1;
                take_over(&path, Some(&held))?;
            }
        }
    }
    Err(Error::Internal(format!(
        "{}: could not claim the cell after {tries} tries in {:.1} s (processes keep taking it)",
        path.display(),
        (TORN_AFTER * 4).as_secs_f64()
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

    #[test]
    fn a_torn_claim_younger_than_the_takeover_window_is_waited_for_then_taken() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), &cell());
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, b"").unwrap();
        let started = Instant::now();
        let attempt = try_claim(dir.path(), &cell(), Duration::from_secs(60)).unwrap();
        assert!(matches!(attempt, Attempt::Claimed(_)), "{attempt:?}");
        assert!(started.elapsed() >= TORN_AFTER - Duration::from_millis(100));
    }

    #[test]
    fn a_claim_from_the_future_goes_stale_by_this_process_clock() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), &cell());
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        let elsewhere = ClaimInfo {
            host: "node-17".into(),
            pid: 1,
            started: 0,
            token: 9,
        };
        fs::write(&p, serde_json::to_vec(&elsewhere).unwrap()).unwrap();
        fs::File::options()
            .append(true)
            .open(&p)
            .unwrap()
            .set_modified(SystemTime::now() + Duration::from_secs(3600))
            .unwrap();
        let timeout = Duration::from_millis(300);
        let attempt = try_claim(dir.path(), &cell(), timeout).unwrap();
        assert!(matches!(attempt, Attempt::Busy { .. }), "{attempt:?}");
        std::thread::sleep(Duration::from_millis(400));
        let attempt = try_claim(dir.path(), &cell(), timeout).unwrap();
        assert!(matches!(attempt, Attempt::Claimed(_)), "{attempt:?}");
    }

    #[test]
    fn a_claim_of_a_zombie_process_is_stale_at_once() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let stat = Path::new("/proc").join(child.id().to_string()).join("stat");
        // Not reaped yet: the exited child stays a zombie until `wait`.
        let started = Instant::now();
        while !fs::read_to_string(&stat).is_ok_and(|s| is_zombie(&s)) {
            assert!(started.elapsed() < Duration::from_secs(10), "no zombie");
            std::thread::sleep(Duration::from_millis(10));
        }
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), &cell());
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        let zombie = ClaimInfo {
            host: host(),
            pid: child.id(),
            started: 0,
            token: 11,
        };
        fs::write(&p, serde_json::to_vec(&zombie).unwrap()).unwrap();
        let attempt = try_claim(dir.path(), &cell(), Duration::from_secs(3600)).unwrap();
        assert!(matches!(attempt, Attempt::Claimed(_)), "{attempt:?}");
        child.wait().unwrap();
    }

    #[test]
    fn the_process_state_is_read_after_the_command_name() {
        // A command name may hold ") Z": only the last parenthesis ends it.
        assert!(!is_zombie("42 (a) Z b) S 1 2 3"));
        assert!(is_zombie("42 (a) S b) Z 1 2 3"));
        assert!(!is_zombie("42 (sleep) S 1 42 42"));
        assert!(is_zombie("42 (x) Z 1 42 42"));
        assert!(!is_zombie("garbage"));
    }
}
