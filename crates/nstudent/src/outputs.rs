//! The files a command writes: every output path is checked before the work starts (so a long
//! training never fails at its last step), and the outputs of one command become visible
//! together, or not at all, without temporary files left behind.

use std::path::Path;

use crate::failure::Context;

use crate::failure::{usage, UsageError};

/// Checks that `path`, given with `flag`, can be written as a file: it is a regular file or
/// not there yet (a symlink counts as its target; a device, FIFO, socket or directory is
/// refused), its folder exists, and a file can be created in that folder.
pub fn check_file(flag: &str, path: &Path) -> crate::failure::Result<()> {
    let target = match nstudent_core::fs::output_target(path) {
        Ok(t) => t,
        Err(_) if path.is_dir() => usage!(
            "{flag} {} is a directory; give a file name inside it",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            let e = e.to_string();
            // The message names the path it stopped at: the link's target, when there is one.
            let shown = path.display().to_string();
            if e.starts_with(&shown) {
                usage!("{flag} {e}")
            }
            usage!("{flag} {shown} links to {e}")
        }
        Err(e) => usage!("{flag} {}: {e}", path.display()),
    };
    let parent = folder_of(&target);
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
            UsageError(format!(
                "{flag} {}: cannot write in {} ({e})",
                path.display(),
                parent.display()
            ))
        })?;
    Ok(())
}

/// One file a command reads or writes, by the flag that named it.
pub type Named<'a> = (&'a str, &'a Path);

/// Refuses, before any work, an output that is also an input or another output (the same
/// file once links are followed: the same device and inode, or the same resolved path for a
/// file not made yet), as `cat` refuses "input file is output file". An output inside a saved
/// ensemble's folder is refused too. Inputs that do not exist (a named source such as
/// `mnist:0-4`) are skipped.
pub fn check_distinct(inputs: &[Named<'_>], outputs: &[Named<'_>]) -> crate::failure::Result<()> {
    for (i, &(out_flag, out)) in outputs.iter().enumerate() {
        for &(in_flag, input) in inputs {
            if !input.exists() {
                continue;
            }
            if input.is_dir() {
                // A saved ensemble is one model: every file in its folder is the input. A data
                // folder may take a new file (predictions beside the images they describe).
                let model = input.join(nstudent_algo::ENSEMBLE_MANIFEST).is_file();
                if model && inside(out, input) {
                    usage!(
                        "{out_flag} {} is inside {in_flag} {}, an input; give an output path \
                         outside it",
                        out.display(),
                        input.display()
                    );
                }
            } else if same_file(out, input) {
                usage!(
                    "{out_flag} {} is the same file as {in_flag} {} (input file is output file); \
                     give {out_flag} another path",
                    out.display(),
                    input.display()
                );
            }
        }
        for &(other_flag, other) in &outputs[..i] {
            if same_file(out, other) {
                usage!(
                    "{other_flag} {} and {out_flag} {} are the same file; give two different \
                     files",
                    other.display(),
                    out.display()
                );
            }
        }
    }
    Ok(())
}

/// A data argument as an input file: `spec` when it names an existing path (a source name
/// such as `mnist:0-4` is not a file of the user's).
pub fn spec_input<'a>(flag: &'a str, spec: Option<&'a str>) -> Option<Named<'a>> {
    let path = Path::new(spec?);
    path.exists().then_some((flag, path))
}

/// Whether two paths name one file: the same device and inode when both exist, else the same
/// path once links and `..` are resolved.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        use std::os::unix::fs::MetadataExt;
        return x.dev() == y.dev() && x.ino() == y.ino();
    }
    resolved(a) == resolved(b)
}

/// Whether `path` (once resolved) lies inside the directory `dir`.
fn inside(path: &Path, dir: &Path) -> bool {
    match std::fs::canonicalize(dir) {
        Ok(dir) => resolved(path).starts_with(dir),
        Err(_) => false,
    }
}

/// `path` with its links followed and its folder made absolute, for comparing paths of files
/// that may not exist yet.
fn resolved(path: &Path) -> std::path::PathBuf {
    let target = nstudent_core::fs::output_target(path).unwrap_or_else(|_| path.to_path_buf());
    match (
        std::fs::canonicalize(folder_of(&target)),
        target.file_name(),
    ) {
        (Ok(folder), Some(name)) => folder.join(name),
        _ => std::path::absolute(&target).unwrap_or(target),
    }
}

/// The folder a file path lives in (`.` for a bare file name).
pub fn folder_of(path: &Path) -> &Path {
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
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> crate::failure::Result<()> {
        self.0
            .write(path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Renames every temporary file into place; should one fail, the outputs renamed before
    /// it are removed again, so that none is left without the others.
    pub fn commit(self) -> crate::failure::Result<()> {
        self.0.commit().map_err(|(dest, e)| {
            crate::failure::Failure::from(e).context(format!("cannot write {}", dest.display()))
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

        // A destination that became a directory after its write: the other output is removed.
        let mut staged = Staged::default();
        staged.write(&other.path().join("f.csv"), b"5\n").unwrap();
        staged.write(&other.path().join("e.csv"), b"6\n").unwrap();
        fs::create_dir(other.path().join("e.csv")).unwrap();
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
