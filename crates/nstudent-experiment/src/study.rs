//! A study config resolved once into the value every part of a run works from.
//!
//! [`StudyConfig`] is what a user declares: a file, a preset, flags, with the engine and the
//! `[data]` options as text and `0` meaning "every core". [`Study`] is that config checked and
//! resolved, as ripgrep turns its `LowArgs` into `HiArgs`: the engine is a typed value, the
//! `[data]` options are parsed, the thread budget is fixed, and each task knows its source.
//! [`crate::StudyDir`], [`crate::NestedCv`] and [`crate::run_study`] take only this type, so
//! nothing downstream checks, parses or looks anything up again, and a library user cannot skip
//! the checks.

use std::path::{Path, PathBuf};

use nstudent_engine::{Engine, EngineName, Threads};

use crate::config::{Execution, StudyConfig};
use crate::{Error, Result};

/// A checked, resolved study: made only by [`StudyConfig::resolve`].
#[derive(Debug, Clone)]
pub struct Study {
    config: StudyConfig,
    hash: String,
    engine: EngineName,
    read: nstudent_data::OpenOptions,
    budget: Budget,
    data_dir: PathBuf,
    tasks: Vec<StudyTask>,
}

/// How many threads the study uses on this machine, and how many cells run side by side.
/// A speed setting only: no result depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Threads in total (`execution.threads`, 0 resolved to every core of this machine).
    pub threads: Threads,
    /// Cells computed side by side (`execution.jobs`, 0 resolved to 2), never more than
    /// `threads`; each cell's trainings get `threads / jobs` threads.
    pub jobs: usize,
}

impl Budget {
    /// The budget `execution` asks for on this machine.
    fn of(execution: &Execution) -> Self {
        let threads = Threads::resolve(execution.threads);
        let jobs = match execution.jobs {
            0 => 2,
            j => j,
        };
        Budget {
            threads,
            jobs: threads.share(jobs).0,
        }
    }
}

/// A task of the study, as configured and as its data is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyTask {
    /// The task as the config lists it: the key of its cells, its folder and its table rows.
    pub spec: String,
    /// Its data: a source name (`mnist`) or a path, the part before the class list.
    pub source: String,
    /// The class list after the source (`0-4`), when it has one.
    pub classes: Option<String>,
    /// Epochs of every training on it (`training.epochs_by_source` applied).
    pub epochs: usize,
}

impl StudyConfig {
    /// Checks the config ([`StudyConfig::validate`]) and resolves it: the one way to a
    /// [`Study`]. Resolving reads no data, so that a results directory opens where its data is
    /// absent; whether the data is here is the run's question
    /// ([`crate::missing_data`]).
    pub fn resolve(&self) -> Result<Study> {
        self.validate()?;
        let engine = engine_name(&self.engine)?;
        let read = self.data.open_options()?;
        let tasks = self
            .tasks
            .iter()
            .map(|spec| {
                let (source, classes) = crate::names::source_and_range(spec);
                StudyTask {
                    spec: spec.clone(),
                    source: source.to_string(),
                    classes: classes.map(str::to_string),
                    epochs: self.epochs_for(spec),
                }
            })
            .collect();
        Ok(Study {
            hash: self.hash(),
            engine,
            read,
            budget: Budget::of(&self.execution),
            data_dir: data_dir_of(&self.execution),
            tasks,
            config: self.clone(),
        })
    }
}

impl Study {
    /// The declared config this study was resolved from (what `study.toml` holds).
    pub fn config(&self) -> &StudyConfig {
        &self.config
    }

    /// [`StudyConfig::hash`]: what every finished cell of this study records.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The engine every training of the study uses.
    pub fn engine(&self) -> EngineName {
        self.engine
    }

    /// An instance of [`Study::engine`], or why this build does not have it.
    pub fn open_engine(&self) -> Result<Box<dyn Engine>> {
        Ok(self.engine.engine()?)
    }

    /// How the tasks and the unlabeled set are read (`[data]`, parsed).
    pub fn read_options(&self) -> &nstudent_data::OpenOptions {
        &self.read
    }

    /// The thread budget on this machine.
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Where named sources are read from: `execution.data_dir`, else `$NSTUDENT_DATA` or the
    /// platform's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The tasks, in the config's order.
    pub fn tasks(&self) -> &[StudyTask] {
        &self.tasks
    }

    /// The same study run another way: `execution` changes the budget and the data directory,
    /// never the hash or a result.
    pub fn with_execution(&self, execution: Execution) -> Result<Study> {
        let mut config = self.config.clone();
        config.execution = execution;
        config.resolve()
    }
}

/// The tasks of `study` whose data is not here (in its data directory, or at their path),
/// each with the step that gets it. Checks files only: no data is read.
pub fn missing_data(study: &Study) -> Vec<(String, String)> {
    study
        .tasks()
        .iter()
        .filter_map(|t| {
            nstudent_data::tasks::missing_data(&t.spec, study.data_dir())
                .map(|why| (t.spec.clone(), why))
        })
        .collect()
}

/// The study's policy on missing data: the tasks a run leaves out because their data is not
/// here (a later run with the data computes them). Refused, naming the first such task and
/// how to get it, when `strict` and any data is missing, or when no task's data is here.
pub fn tasks_to_skip(study: &Study, strict: bool) -> Result<Vec<(String, String)>> {
    let missing = missing_data(study);
    let Some((task, why)) = missing.first() else {
        return Ok(missing);
    };
    if strict {
        return Err(Error::Config(format!(
            "task {task}: its data is missing ({why}){}; fetch it, or drop --strict to run the \
             other tasks",
            match missing.len() {
                1 => String::new(),
                n => format!(", and {} more tasks' data too", n - 1),
            }
        )));
    }
    if missing.len() == study.tasks().len() {
        return Err(Error::Config(format!(
            "no task's data is here: task {task}: {why}{}",
            match missing.len() {
                1 => String::new(),
                n => format!(" (and {} more tasks)", n - 1),
            }
        )));
    }
    Ok(missing)
}

/// The typed engine a config names, or the error `--engine` gives for an unknown name.
fn engine_name(name: &str) -> Result<EngineName> {
    let name = name.trim();
    <EngineName as clap::ValueEnum>::value_variants()
        .iter()
        .copied()
        .find(|e| e.name() == name)
        .ok_or_else(|| {
            Error::Config(format!(
                "engine = \"{name}\" is not an engine; choose one of: {}",
                nstudent_engine::ENGINE_NAMES.join(", ")
            ))
        })
}

fn data_dir_of(execution: &Execution) -> PathBuf {
    let d = execution.data_dir.trim();
    if d.is_empty() {
        nstudent_data::default_data_dir()
    } else {
        PathBuf::from(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolving_checks_the_config_and_fixes_every_derived_value() {
        let mut c = StudyConfig::preset("quick").unwrap();
        c.tasks = vec!["mnist:0-4".into(), "./my data/x.csv".into()];
        c.epochs_by_source.insert("mnist".into(), 7);
        c.execution = Execution {
            threads: 4,
            jobs: 8,
            data_dir: " /data ".into(),
        };
        // More jobs than threads is refused by the check that resolving runs.
        let e = c.resolve().unwrap_err().to_string();
        assert!(e.contains("execution.jobs (--jobs) = 8"), "{e}");
        c.execution.jobs = 3;
        let s = c.resolve().unwrap();
        assert_eq!(s.hash(), c.hash());
        assert_eq!(s.engine(), EngineName::Native);
        assert_eq!(s.budget().threads.get(), 4);
        assert_eq!(s.budget().jobs, 3);
        assert_eq!(s.data_dir(), Path::new("/data"));
        let t = s.tasks();
        assert_eq!(
            (t[0].source.as_str(), t[0].classes.as_deref()),
            ("mnist", Some("0-4"))
        );
        assert_eq!(t[0].epochs, 7);
        assert_eq!(
            (t[1].source.as_str(), t[1].classes.as_deref()),
            ("./my data/x.csv", None)
        );
        assert_eq!(t[1].epochs, c.base.fit.epochs);
    }

    #[test]
    fn jobs_default_to_two_and_never_exceed_the_threads() {
        let mut c = StudyConfig::preset("quick").unwrap();
        c.execution.threads = 1;
        assert_eq!(c.resolve().unwrap().budget().jobs, 1);
        c.execution.threads = 6;
        assert_eq!(c.resolve().unwrap().budget().jobs, 2);
    }

    #[test]
    fn an_unknown_engine_is_refused_naming_the_engines() {
        let mut c = StudyConfig::preset("quick").unwrap();
        c.engine = "torch".into();
        let e = c.resolve().unwrap_err().to_string();
        assert!(e.contains("\"torch\"") && e.contains("native, burn"), "{e}");
        c.engine = " burn ".into();
        assert_eq!(c.resolve().unwrap().engine(), EngineName::Burn);
    }

    #[test]
    fn missing_data_is_skipped_unless_strict_or_all_of_it() {
        let here = tempfile::tempdir().unwrap();
        let csv = here.path().join("d.csv");
        std::fs::write(&csv, "1,0\n2,1\n").unwrap();
        let mut c = StudyConfig::preset("quick").unwrap();
        c.execution.data_dir = here.path().display().to_string();
        c.tasks = vec![csv.display().to_string(), "mnist:0-4".into()];
        let s = c.resolve().unwrap();
        let skipped = tasks_to_skip(&s, false).unwrap();
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].0, "mnist:0-4");
        assert!(
            skipped[0].1.contains("source `mnist` is not in"),
            "{}",
            skipped[0].1
        );
        let e = tasks_to_skip(&s, true).unwrap_err().to_string();
        assert!(
            e.starts_with("task mnist:0-4: its data is missing") && e.contains("--strict"),
            "{e}"
        );
        c.tasks = vec!["mnist:0-4".into(), "fashion-mnist".into()];
        let e = tasks_to_skip(&c.resolve().unwrap(), false)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("no task's data is here: task mnist:0-4")
                && e.ends_with("(and 1 more tasks)"),
            "{e}"
        );
        c.tasks = vec![csv.display().to_string()];
        assert!(tasks_to_skip(&c.resolve().unwrap(), true)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn another_execution_keeps_the_hash() {
        let c = StudyConfig::preset("quick").unwrap();
        let s = c.resolve().unwrap();
        let t = s
            .with_execution(Execution {
                threads: 1,
                jobs: 1,
                data_dir: String::new(),
            })
            .unwrap();
        assert_eq!(t.hash(), s.hash());
        assert_eq!(t.budget().threads, Threads::ONE);
    }
}

/// Studies for tests, on a fixed thread budget whatever the machine.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// `config` resolved with `threads` threads and `jobs` cells side by side.
    pub(crate) fn study(config: &StudyConfig, threads: usize, jobs: usize) -> Study {
        let mut c = config.clone();
        c.execution.threads = threads;
        c.execution.jobs = jobs;
        c.resolve().unwrap()
    }
}
