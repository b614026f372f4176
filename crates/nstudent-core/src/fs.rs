//! Files written so that a reader never sees half of one: the bytes go to a temporary file in
//! the destination's folder, which is synced and renamed into place (the `atomic-write-file`
//! crate). A failure or a kill leaves either the old file or the whole new one, and a failure
//! no temporary file behind: the one exception is a rename that fails after the data was
//! synced and no directory was found in the way, which `atomic-write-file` reports without
//! removing its temporary file.
//!
//! The errors are plain [`std::io::Error`]s; callers name the path in their own error type.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use atomic_write_file::AtomicWriteFile;

/// Where a write to `path` lands, checked so that an output never destroys what is not a file:
/// a symlink is followed to its final target, so the link stays a link and the atomic rename
/// replaces the target, whose mode is kept (renaming over the link itself would leave a
/// regular file with the link's 0777 mode); an existing path that is not a regular file (a
/// device, FIFO, socket or directory) is refused, since a rename over `/dev/null` would
/// replace the device. A path that does not exist yet is returned as it is.
pub fn output_target(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // Linux gives up after 40 links (ELOOP); so does this.
    for _ in 0..40 {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = std::fs::read_link(&current)?;
            current = match current.parent() {
                Some(parent) if target.is_relative() => parent.join(target),
                _ => target,
            };
            continue;
        }
        if kind.is_file() {
            return Ok(current);
        }
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a regular file; outputs are only written to regular files: \
                 give a file path",
                current.display(),
                file_kind(&meta)
            ),
        ));
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{}: too many levels of symbolic links; give a file path",
            path.display()
        ),
    ))
}

/// What a path that is not a regular file is, in words ("a directory", "a character device").
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Opens `path` to append to it, creating it (mode 0644 under the usual umask), without
/// following a symlink: a log inside a results directory must never append to a file outside
/// it. A symlink, or anything but a regular file, is refused.
pub fn open_append_no_follow(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO with no reader fails at once instead of blocking.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is a symbolic link", path.display()),
        ));
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a regular file",
                path.display(),
                file_kind(&meta)
            ),
        ));
    }
    Ok(file)
}

/// Puts the directory `new` at `target`, replacing the directory there, if any, so that a crash
/// at any moment leaves `target` holding either the old directory or the new one, whole. On
/// Linux with glibc the two are swapped by one `renameat2(RENAME_EXCHANGE)` and the old one is
/// then removed; elsewhere (or where the file system refuses the exchange) the old directory
/// is first renamed aside, which leaves a moment without `target` but never a half-written one.
/// `new` and `target` must be on one file system (siblings are).
pub fn replace_dir(new: &Path, target: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(target).is_err() {
        return std::fs::rename(new, target);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if exchange(new, target).is_ok() {
        // `new` now names the old directory.
        return std::fs::remove_dir_all(new);
    }
    let aside = sibling_name(target, ".old");
    if std::fs::symlink_metadata(&aside).is_ok() {
        std::fs::remove_dir_all(&aside)?;
    }
    std::fs::rename(target, &aside)?;
    if let Err(e) = std::fs::rename(new, target) {
        let _ = std::fs::rename(&aside, target);
        return Err(e);
    }
    std::fs::remove_dir_all(&aside)
}

/// Swaps two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them like `rename`.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `path` with `suffix` added to its file name, in the same folder.
fn sibling_name(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically. The folder must exist. A symlink is written through to
/// its target, and a path that is not a regular file is refused ([`output_target`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `write` produces to `path` atomically (for outputs too large to build in
/// memory first). An error from `write` leaves the old file as it was. The folder must exist.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let path = output_target(path)?;
    let mut file = AtomicWriteFile::open(&path)?;
    write(&mut file)?;
    ready(&file, &path)?;
    file.commit()
}

/// Checks what can make a commit fail: a failed commit leaves its temporary file behind
/// (`atomic-write-file` removes it only when dropped uncommitted), so the data is synced (a
/// full disk may show only then) and a directory in the way is refused first; an error here
/// drops the file, which removes it. Only a rename failing for another reason, or a directory
/// made in between, leaves a hidden temporary file.
fn ready(file: &AtomicWriteFile, path: &Path) -> io::Result<()> {
    file.as_file().sync_all()?;
    if path.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "a directory is in the way",
        ));
    }
    Ok(())
}

/// Several files made visible together, or not at all: [`Staged::write`] writes each to its
/// temporary file, [`Staged::commit`] renames them all into place. Dropped without a commit
/// (an error on the way), every temporary file is removed.
#[derive(Default)]
pub struct Staged {
    /// (destination, its temporary file), in the order written.
    files: Vec<(PathBuf, AtomicWriteFile)>,
}

impl Staged {
    /// Writes `bytes` for `path` into its temporary file. The folder must exist. A symlink is
    /// written through to its target, and a path that is not a regular file is refused
    /// ([`output_target`]).
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let path = output_target(path)?;
        let mut file = AtomicWriteFile::open(&path)?;
        file.write_all(bytes)?;
        self.files.push((path, file));
        Ok(())
    }

    /// Renames every temporary file into place, in the order written. A rename within one
    /// folder does not fail for lack of space; should one fail anyway, the outputs renamed
    /// before it are removed again, so that none is left without the others. The error names
    /// the destination that failed; on an error, no temporary file is left (see the module
    /// docs for the one exception).
    pub fn commit(self) -> Result<(), (PathBuf, io::Error)> {
        // What can fail is checked for every file before any is renamed.
        for (dest, file) in &self.files {
            ready(file, dest).map_err(|e| (dest.clone(), e))?;
        }
        let mut done: Vec<PathBuf> = Vec::with_capacity(self.files.len());
        // The files not reached are dropped with the iterator: their temporary files go.
        for (dest, file) in self.files {
            if let Err(e) = file.commit() {
                for path in &done {
                    let _ = std::fs::remove_file(path);
                }
                return Err((dest, e));
            }
            done.push(dest);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_dir_swaps_in_the_new_directory_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("ensemble");
        let fill = |name: &str, files: &[(&str, &str)]| {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            for (f, text) in files {
                std::fs::write(d.join(f), text).unwrap();
            }
            d
        };
        // No old directory: a plain rename.
        let first = fill("first.tmp", &[("a", "1"), ("b", "1")]);
        replace_dir(&first, &target).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a")).unwrap(), "1");
        // An old one: replaced whole, its files gone, nothing left beside it.
        let second = fill("second.tmp", &[("a", "2")]);
        replace_dir(&second, &target).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a")).unwrap(), "2");
        assert!(
            !target.join("b").exists(),
            "the old directory's files are gone"
        );
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["ensemble"]);
    }
    use std::fs;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_write_replaces_whole_files_and_leaves_nothing_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second version").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second version");
        let e = write_atomic_with(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(fs::read(&p).unwrap(), b"second version");
        assert!(write_atomic(&dir.path().join("no/b.json"), b"x").is_err());
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn staged_files_appear_together_at_commit_and_not_at_all_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        let mut staged = Staged::default();
        staged.write(&a, b"1\n").unwrap();
        staged.write(&b, b"2\n").unwrap();
        assert!(!a.exists() && !b.exists(), "{:?}", names(dir.path()));
        staged.commit().unwrap();
        assert_eq!(names(dir.path()), ["a.csv", "b.csv"]);

        // A destination that became a directory after its write: the other output is removed.
        let mut staged = Staged::default();
        staged.write(&dir.path().join("f.csv"), b"5\n").unwrap();
        staged.write(&dir.path().join("e.csv"), b"6\n").unwrap();
        fs::create_dir(dir.path().join("e.csv")).unwrap();
        let (path, _) = staged.commit().unwrap_err();
        assert_eq!(path, dir.path().join("e.csv"));
        assert_eq!(names(dir.path()), ["a.csv", "b.csv", "e.csv"]);
        assert!(write_atomic(&dir.path().join("e.csv"), b"7\n").is_err());
        assert_eq!(names(dir.path()), ["a.csv", "b.csv", "e.csv"]);
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }

    #[cfg(unix)]
    #[test]
    fn outputs_never_replace_what_is_not_a_regular_file() {
        use std::os::unix::fs::{symlink, FileTypeExt};
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        // A link to a device: followed, and the device refused (the link is left as it was).
        let null = dir.path().join("null.csv");
        symlink("/dev/null", &null).unwrap();
        let folder = dir.path().join("folder");
        fs::create_dir(&folder).unwrap();
        for path in [&fifo, &null, &folder] {
            let e = write_atomic(path, b"x").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains("not a regular file"), "{e}");
            let e = Staged::default().write(path, b"x").unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert!(fs::symlink_metadata(&null)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
        assert_eq!(names(dir.path()), ["fifo", "folder", "null.csv"]);
        let e = output_target(&null).unwrap_err().to_string();
        assert!(e.contains("/dev/null is a character device"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_output_writes_its_target_and_keeps_the_targets_mode() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.csv");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.csv");
        let chain = dir.path().join("chain.csv");
        symlink("target.csv", &link).unwrap();
        symlink(&link, &chain).unwrap();
        write_atomic(&link, b"new").unwrap();
        let mut staged = Staged::default();
        staged.write(&chain, b"newer").unwrap();
        staged.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"newer");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&target), 0o640);
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::symlink_metadata(&chain)
            .unwrap()
            .file_type()
            .is_symlink());
        // A new file gets the mode of any file made under the same umask.
        let fresh = dir.path().join("fresh.csv");
        write_atomic(&fresh, b"1").unwrap();
        let plain = dir.path().join("plain.csv");
        fs::File::create(&plain).unwrap();
        assert_eq!(mode(&fresh), mode(&plain));
        // A dangling link: its target is created, the link stays.
        let dangling = dir.path().join("dangling.csv");
        symlink("made.csv", &dangling).unwrap();
        write_atomic(&dangling, b"2").unwrap();
        assert_eq!(fs::read(dir.path().join("made.csv")).unwrap(), b"2");
        assert!(fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink());
        // A loop is refused.
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        symlink(&b, &a).unwrap();
        symlink(&a, &b).unwrap();
        assert!(write_atomic(&a, b"3").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn appends_never_follow_a_symlink_or_open_a_fifo() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.log");
        fs::write(&outside, b"keep\n").unwrap();
        let link = dir.path().join("nstudent.log");
        symlink(&outside, &link).unwrap();
        assert!(open_append_no_follow(&link).is_err());
        assert_eq!(fs::read(&outside).unwrap(), b"keep\n");
        let fifo = dir.path().join("metrics.jsonl");
        mkfifo(&fifo);
        assert!(open_append_no_follow(&fifo).is_err());
        let log = dir.path().join("plain.log");
        open_append_no_follow(&log)
            .unwrap()
            .write_all(b"a\n")
            .unwrap();
        open_append_no_follow(&log)
            .unwrap()
            .write_all(b"b\n")
            .unwrap();
        assert_eq!(fs::read(&log).unwrap(), b"a\nb\n");
    }
}
