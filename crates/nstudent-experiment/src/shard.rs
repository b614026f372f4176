//! Shards: one process of many runs the cells whose index is congruent to its shard index.
//! The shard comes from `--shard I/N` or from the array-job variables of Slurm, Kubernetes
//! Indexed Jobs and AWS Batch.

use crate::{Error, Result};

/// Shard `index` of `count` (0-based), e.g. `1/4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole study in one process.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: usize, count: usize) -> Result<Self> {
        if count == 0 {
            return Err(Error::Config("the shard count must be at least 1".into()));
        }
        if index >= count {
            return Err(Error::Config(format!(
                "shard index {index} is not below the shard count {count}; shards are numbered 0..{}",
                count - 1
            )));
        }
        Ok(Self { index, count })
    }

    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!(
                "--shard \"{text}\" is not of the form I/N (e.g. 0/4, the first of four shards)"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse::<usize>().map_err(|_| bad())?;
        let n = n.trim().parse::<usize>().map_err(|_| bad())?;
        Self::new(i, n)
    }

    /// True when this shard runs the cell at `index`.
    pub fn owns(&self, index: usize) -> bool {
        index % self.count == self.index
    }

    /// The shard of an array job, from its environment (`var` looks a variable up):
    /// `SLURM_ARRAY_TASK_ID` / `SLURM_ARRAY_TASK_COUNT` (with `SLURM_ARRAY_TASK_MIN` subtracted
    /// when set, so arrays may start at 1), `JOB_COMPLETION_INDEX` with `shard_count` (Kubernetes
    /// Indexed Jobs do not export their completions), `AWS_BATCH_JOB_ARRAY_INDEX` /
    /// `AWS_BATCH_JOB_ARRAY_SIZE`. `None` when no array job is detected.
    pub fn from_env(
        var: &dyn Fn(&str) -> Option<String>,
        shard_count: Option<usize>,
    ) -> Result<Option<Self>> {
        let number = |name: &str| -> Result<Option<usize>> {
            match var(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
                    Error::Config(format!(
                        "environment variable {name}=\"{v}\" is not a number"
                    ))
                }),
            }
        };
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let count = match (shard_count, number("SLURM_ARRAY_TASK_COUNT")?) {
                (Some(n), _) | (None, Some(n)) => n,
                (None, None) => {
                    return Err(Error::Config(
                        "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard-count N".into(),
                    ))
                }
            };
            let index = id.checked_sub(min).ok_or_else(|| {
                Error::Config(format!(
                    "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                ))
            })?;
            return Self::new(index, count).map(Some);
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = shard_count.ok_or_else(|| {
                Error::Config(
                    "JOB_COMPLETION_INDEX is set (Kubernetes Indexed Job); pass --shard-count N with the job's completions".into(),
                )
            })?;
            return Self::new(index, count).map(Some);
        }
        if let Some(index) = number("AWS_BATCH_JOB_ARRAY_INDEX")? {
            let count = match (shard_count, number("AWS_BATCH_JOB_ARRAY_SIZE")?) {
                (Some(n), _) | (None, Some(n)) => n,
                (None, None) => {
                    return Err(Error::Config(
                        "AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not; pass --shard-count N".into(),
                    ))
                }
            };
            return Self::new(index, count).map(Some);
        }
        Ok(None)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn parses_and_partitions() {
        let s = Shard::parse("1/3").unwrap();
        assert_eq!(s, Shard { index: 1, count: 3 });
        let owned: Vec<usize> = (0..10).filter(|&i| s.owns(i)).collect();
        assert_eq!(owned, [1, 4, 7]);
        for bad in ["3/3", "1", "a/2", "1/0", "-1/2"] {
            assert!(Shard::parse(bad).unwrap_err().kind().is_users(), "{bad}");
        }
        // Every index belongs to exactly one shard.
        for i in 0..20 {
            assert_eq!(
                (0..4)
                    .filter(|&k| Shard::new(k, 4).unwrap().owns(i))
                    .count(),
                1
            );
        }
    }

    #[test]
    fn detects_array_jobs_from_the_environment() {
        let f = |pairs: &[(&str, &str)], n| Shard::from_env(&env(pairs), n);
        assert_eq!(f(&[], None).unwrap(), None);
        assert_eq!(
            f(
                &[
                    ("SLURM_ARRAY_TASK_ID", "2"),
                    ("SLURM_ARRAY_TASK_COUNT", "4")
                ],
                None
            )
            .unwrap(),
            Some(Shard { index: 2, count: 4 })
        );
        assert_eq!(
            f(
                &[
                    ("SLURM_ARRAY_TASK_ID", "4"),
                    ("SLURM_ARRAY_TASK_MIN", "1"),
                    ("SLURM_ARRAY_TASK_COUNT", "4")
                ],
                None
            )
            .unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        assert_eq!(
            f(&[("JOB_COMPLETION_INDEX", "0")], Some(5)).unwrap(),
            Some(Shard { index: 0, count: 5 })
        );
        assert!(f(&[("JOB_COMPLETION_INDEX", "0")], None)
            .unwrap_err()
            .to_string()
            .contains("--shard-count"));
        assert_eq!(
            f(
                &[
                    ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
                    ("AWS_BATCH_JOB_ARRAY_SIZE", "2")
                ],
                None
            )
            .unwrap(),
            Some(Shard { index: 1, count: 2 })
        );
        assert!(f(
            &[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "2")
            ],
            None
        )
        .is_err());
        assert!(f(
            &[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_COUNT", "2")
            ],
            None
        )
        .is_err());
    }
}
