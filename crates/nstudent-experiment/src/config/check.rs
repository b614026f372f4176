//! The study config's checks: every value in range, by the algorithms' own rules where they
//! apply, with messages that name the study's key.

use super::*;

impl StudyConfig {
    /// Checks that every task has the images its folds need: at least `outer_folds` images,
    /// and at least `inner_folds` in an outer fold's training part. `rows` gives a task's
    /// number of training images (`None` when its data is not here: not checked). Run before
    /// the results directory is made, so that an impossible split leaves nothing behind.
    pub fn check_fold_sizes(&self, rows: impl Fn(&str) -> Option<usize>) -> Result<()> {
        for task in &self.tasks {
            let Some(n) = rows(task) else { continue };
            if n < self.outer_folds {
                return Err(Error::Config(format!(
                    "task {task} has {n} images, too few for outer_folds = {}: use at most {n} \
                     folds, or more data",
                    self.outer_folds
                )));
            }
            let inner = n - n.div_ceil(self.outer_folds);
            if inner < self.inner_folds {
                return Err(Error::Config(format!(
                    "task {task}: an outer fold's training part has {inner} images, too few for \
                     inner_folds = {}: use at most {inner} inner folds, or more data",
                    self.inner_folds
                )));
            }
        }
        Ok(())
    }

    /// Checks every value is usable; the message names the key and the allowed range.
    pub fn validate(&self) -> Result<()> {
        self.data.open_options()?;
        self.check_tasks()?;
        self.check_algorithm_list()?;
        self.check_folds()?;
        self.check_space()?;
        self.check_epochs_by_source()?;
        let bad = |msg: String| Err(Error::Config(msg));
        self.check_base_is_a_study_base()?;
        self.check_algorithms()?;
        if self.search == SearchStrategy::Halving {
            if self.halving.eta < 2 {
                return bad(format!(
                    "halving.eta = {} must be at least 2",
                    self.halving.eta
                ));
            }
            if self.halving.min_epochs == 0 {
                return bad("halving.min_epochs must be at least 1".into());
            }
        }
        if self.engine.trim().is_empty() {
            return bad("engine is empty; use \"native\"".into());
        }
        let e = &self.execution;
        if e.threads > 0 && e.jobs > e.threads {
            return bad(format!(
                "execution.jobs (--jobs) = {} is more than execution.threads (--threads) = {}: every cell side by side \
                 needs a thread of its own; set threads to at least {} (threads is the total)",
                e.jobs, e.threads, e.jobs
            ));
        }
        Ok(())
    }

    /// At least one task; names that are printable, listed once, and in folders of their own.
    fn check_tasks(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Config(msg));
        if self.tasks.is_empty() {
            return bad(
                "tasks is empty; list at least one task, e.g. tasks = [\"mnist:0-4\"]".into(),
            );
        }
        if let Some(t) = self.tasks.iter().find(|t| t.trim().is_empty()) {
            return bad(format!("tasks holds an empty name (\"{t}\")"));
        }
        // Task names are printed in progress lines, tables and reports.
        if let Some(t) = self.tasks.iter().find(|t| t.chars().any(char::is_control)) {
            return bad(format!(
                "task \"{}\" holds a control character; rename the file or folder",
                t.escape_default()
            ));
        }
        for (i, t) in self.tasks.iter().enumerate() {
            if self.tasks[..i].contains(t) {
                return bad(format!("task \"{t}\" is listed twice in tasks"));
            }
            // Each task's cells live in a folder named after it: two names, one folder.
            let folder = crate::cell::path_component(t);
            if let Some(other) = self.tasks[..i]
                .iter()
                .find(|o| crate::cell::path_component(o) == folder)
            {
                return bad(format!(
                    "tasks \"{other}\" and \"{t}\" would share the cell folder cells/{folder}; \
                     rename one of them (a task's folder name replaces `/`, `:` and the like \
                     with `_`)"
                ));
            }
        }
        Ok(())
    }

    /// At least one algorithm, each listed once.
    fn check_algorithm_list(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Config(msg));
        if self.algorithms.is_empty() {
            return bad(
                "algorithms is empty; use some of \"baseline\", \"noisy-student\", \"ensemble\""
                    .into(),
            );
        }
        for (i, a) in self.algorithms.iter().enumerate() {
            if self.algorithms[..i].contains(a) {
                return bad(format!("algorithm \"{a}\" is listed twice in algorithms"));
            }
        }
        Ok(())
    }

    /// Outer and inner folds between 2 and [`MAX_FOLDS`].
    fn check_folds(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Config(msg));
        if self.outer_folds < 2 {
            return bad(format!(
                "outer_folds = {} must be at least 2",
                self.outer_folds
            ));
        }
        if self.inner_folds < 2 {
            return bad(format!(
                "inner_folds = {} must be at least 2",
                self.inner_folds
            ));
        }
        for (key, folds) in [
            ("outer_folds", self.outer_folds),
            ("inner_folds", self.inner_folds),
        ] {
            if folds > MAX_FOLDS {
                return bad(format!(
                    "{key} = {folds} is more than the limit {MAX_FOLDS}"
                ));
            }
        }
        Ok(())
    }

    /// A search space with a value in every list a searched algorithm needs, none twice.
    fn check_space(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Config(msg));
        let s = &self.space;
        let searched = self.algorithms.iter().any(|a| a.self_trains());
        if searched {
            for (name, values) in [("unl_factor", &s.unl_factor), ("threshold", &s.threshold)] {
                if values.is_empty() {
                    return bad(format!("space.{name} is empty; give at least one value"));
                }
            }
            if s.num_students.is_empty() || s.num_students.contains(&0) {
                return bad("space.num_students must hold at least one value, each >= 1".into());
            }
            if self.algorithms.contains(&Algorithm::Ensemble)
                && (s.ensemble_size.is_empty() || s.ensemble_size.contains(&0))
            {
                return bad("space.ensemble_size must hold at least one value, each >= 1".into());
            }
        }
        for (name, values) in [("unl_factor", &s.unl_factor), ("threshold", &s.threshold)] {
            for (i, v) in values.iter().enumerate() {
                if values[..i].contains(v) {
                    return bad(format!("space.{name} lists {v} twice"));
                }
            }
        }
        Ok(())
    }

    /// Epochs per source: at least 1, for a source that exists or that a task uses.
    fn check_epochs_by_source(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Config(msg));
        if self.epochs_by_source.values().any(|&e| e == 0) {
            return bad("training.epochs_by_source: epochs must be at least 1".into());
        }
        // A misspelt source would silently train with the default epochs.
        for source in self.epochs_by_source.keys() {
            let a_task_source = self
                .tasks
                .iter()
                .any(|t| t.split(':').next().unwrap_or(t).trim() == source);
            if !a_task_source && nstudent_data::sources::find(source).is_none() {
                return bad(format!(
                    "training.epochs_by_source: \"{source}\" is neither a known source (`nstudent \
                     data list`) nor the source of a task; fix the name"
                ));
            }
        }
        Ok(())
    }
}

impl StudyConfig {
    /// A base the study's file can hold: teacher and student share the architecture and the
    /// width, the teacher is noise-free, flips follow the images' colour, and balancing keeps
    /// the mean count per class.
    fn check_base_is_a_study_base(&self) -> Result<()> {
        let (t, s) = (&self.base.teacher, &self.base.student);
        if t.arch != s.arch || t.width != s.width {
            return Err(Error::Config(format!(
                "a study trains teacher and student with one architecture and width \
                 (training.arch, training.width); the base has {:?} x {} and {:?} x {}",
                t.arch, t.width, s.arch, s.width
            )));
        }
        if t.dropout != 0.0 || t.survival != 1.0 {
            return Err(Error::Config(
                "a study's teachers are noise-free: base.teacher.dropout must be 0 and survival 1"
                    .into(),
            ));
        }
        if self.base.augment.horizontal_flip.is_some() || self.base.balance_target.is_some() {
            return Err(Error::Config(
                "a study's file has no key for base.augment.horizontal_flip or \
                 base.balance_target; leave them unset"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Checks every algorithm's config on every task, with every candidate of the search
    /// space, by the algorithms' own rules ([`nstudent_algo::AlgoConfig::check`]): one set of
    /// ranges for the study and `train`, whose messages name the study's key.
    fn check_algorithms(&self) -> Result<()> {
        let origin = match self.data.unlabeled {
            Some(_) => nstudent_algo::PoolOrigin::Separate,
            None => nstudent_algo::PoolOrigin::TrainingData,
        };
        let s = &self.space;
        let sizes = |a: Algorithm| match a {
            Algorithm::Ensemble => s.ensemble_size.clone(),
            _ => vec![1],
        };
        for task in &self.tasks {
            for &algorithm in &self.algorithms {
                let base = self
                    .algo_config(task, algorithm)
                    .check(origin)
                    .map_err(study_key)?;
                if !algorithm.self_trains() {
                    continue;
                }
                for &u in &s.unl_factor {
                    for &t in &s.threshold {
                        for &n in &s.num_students {
                            for e in sizes(algorithm) {
                                base.clone()
                                    .with_candidate(Some(u), t, n, e)
                                    .map_err(study_key)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// An algorithm setting out of range, named by its study key: `noise.dropout: student
/// dropout 1 must be in [0, 1)`.
fn study_key(e: nstudent_algo::Error) -> Error {
    let nstudent_algo::Error::OutOfRange { key, message } = &e else {
        return Error::Config(e.to_string());
    };
    let study = match *key {
        "teacher_factor" => "pseudo.teacher_factor",
        "temperature" => "pseudo.temperature",
        "unlabeled" => "pseudo.unlabeled",
        "fit.epochs" => "training.epochs",
        "fit.batch_size" => "training.batch_size",
        "fit.learning_rate" => "training.learning_rate",
        "teacher.width" | "student.width" => "training.width",
        "student.dropout" => "noise.dropout",
        "student.survival" => "noise.survival",
        "augment.magnitude" => "noise.augment_magnitude",
        "unl_factor" => "space.unl_factor",
        "threshold" => "space.threshold",
        "num_students" => "space.num_students",
        "ensemble_size" => "space.ensemble_size",
        other => other,
    };
    Error::Config(format!("{study}: {message}"))
}
