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

/// Writes `bytes` to `path` atomically. The folder must exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `write` produces to `path` atomically (for outputs too large to build in
/// memory first). An error from `write` leaves the old file as it was. The folder must exist.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut file = AtomicWriteFile::open(path)?;
    write(&mut file)?;
    ready(&file, path)?;
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
    /// Writes `bytes` for `path` into its temporary file. The folder must exist.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut file = AtomicWriteFile::open(path)?;
        file.write_all(bytes)?;
        self.files.push((path.to_path_buf(), file));
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

        // A destination that cannot be replaced (a directory): the other output is removed.
        fs::create_dir(dir.path().join("e.csv")).unwrap();
        let mut staged = Staged::default();
        staged.write(&dir.path().join("f.csv"), b"5\n").unwrap();
        staged.write(&dir.path().join("e.csv"), b"6\n").unwrap();
        let (path, _) = staged.commit().unwrap_err();
        assert_eq!(path, dir.path().join("e.csv"));
        assert_eq!(names(dir.path()), ["a.csv", "b.csv", "e.csv"]);
        assert!(write_atomic(&dir.path().join("e.csv"), b"7\n").is_err());
        assert_eq!(names(dir.path()), ["a.csv", "b.csv", "e.csv"]);
    }
}
