//! The files a command writes: every output path is checked before the work starts (so a long
//! training never fails at its last step), and the outputs of one command become visible
//! together, or not at all, without temporary files left behind.

use std::path::Path;

use anyhow::Context;

use crate::failure::{usage, UsageError};

/// Checks that `path`, given with `flag`, can be written as a file: it is not a directory, its
/// folder exists, and a file can be created in that folder.
pub fn check_file(flag: &str, path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        usage!(
            "{flag} {} is a directory; give a file name inside it",
            path.display()
        );
    }
    let parent = folder_of(path);
    if !parent.is_dir() {
        usage!(
            "{flag} {}: the folder {} does not exist; create it first",
            path.display(),
            parent.display()
        );
    }
    // A probe file, removed at once: the folder is writable now.
    tempfile::Builder::new()
        .prefix(".nstudent-probe")
        .tempfile_in(parent)
        .map_err(|e| {
            anyhow::Error::new(UsageError(format!(
                "{flag} {}: cannot write in {} ({e})",
                path.display(),
                parent.display()
            )))
        })?;
    Ok(())
}

/// The folder a file path lives in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Outputs written to hidden temporary files next to their destinations, renamed into place
/// together by [`Staged::commit`] ([`nstudent_core::fs::Staged`], with the CLI's messages).
/// Dropped without a commit (an error on the way), every temporary file is removed.
#[derive(Default)]
pub struct Staged(nstudent_core::fs::Staged);

impl Staged {
    /// Writes `bytes` for `path` into its temporary file.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        self.0
            .write(path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Renames every temporary file into place; should one fail, the outputs renamed before
    /// it are removed again, so that none is left without the others.
    pub fn commit(self) -> anyhow::Result<()> {
        self.0.commit().map_err(|(dest, e)| {
            anyhow::Error::new(e).context(format!("cannot write {}", dest.display()))
        })
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
    fn outputs_appear_together_at_commit_and_not_at_all_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        let mut staged = Staged::default();
        staged.write(&a, b"1\n").unwrap();
        staged.write(&b, b"2\n").unwrap();
        assert!(!a.exists() && !b.exists(), "{:?}", names(dir.path()));
        staged.commit().unwrap();
        assert_eq!(names(dir.path()), ["a.csv", "b.csv"]);
        assert_eq!(fs::read(&b).unwrap(), b"2\n");

        // A failure before the commit: nothing new, nothing left behind.
        let other = tempfile::tempdir().unwrap();
        {
            let mut staged = Staged::default();
            staged.write(&other.path().join("c.csv"), b"3\n").unwrap();
            assert!(staged
                .write(&other.path().join("no/d.csv"), b"4\n")
                .is_err());
        }
        assert!(names(other.path()).is_empty(), "{:?}", names(other.path()));

        // A destination that cannot be replaced (a directory): the other output is removed.
        fs::create_dir(other.path().join("e.csv")).unwrap();
        let mut staged = Staged::default();
        staged.write(&other.path().join("f.csv"), b"5\n").unwrap();
        staged.write(&other.path().join("e.csv"), b"6\n").unwrap();
        assert!(staged.commit().is_err());
        assert_eq!(names(other.path()), ["e.csv"]);
    }

    #[test]
    fn bad_output_paths_are_refused_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_file("--out", dir.path()).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let e = check_file("--out", &dir.path().join("missing/x.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        check_file("--out", &dir.path().join("x.csv")).unwrap();
        assert!(names(dir.path()).is_empty(), "the probe is removed");
    }
}
