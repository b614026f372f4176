//! The built-in presets (`quick`, `standard`, `original`, `seed`) and their task lists.

use super::*;

/// The 20 tasks of the original study, as task specs (`mnist:0-4`, ...), in its table order.
pub fn original_tasks() -> Vec<String> {
    nstudent_data::tasks::original_study()
        .into_iter()
        .map(|t| t.spec)
        .collect()
}

/// The pseudo-label threshold of the `standard` preset, chosen by `scripts/tune-defaults.sh`
/// on the official test splits of Fashion-MNIST and CIFAR-10, which no preset scores.
pub const STANDARD_THRESHOLD: f64 = 0.4;

/// Names of the built-in presets, the default first.
pub const PRESETS: [&str; 4] = ["quick", "standard", "original", "seed"];

/// The tasks of the `standard` preset (version 2): every task whose data is in the
/// repository's shared datasets (named sources, read from the data directory) except
/// scikit-learn's Digits. Version 1 also ran `sklearn-digits:0-4` and `:5-9`, where 81 labeled
/// images and 5 epochs (about 15 optimizer steps) left the teacher's probabilities near
/// uniform: 33 of 40 self-training cells kept no pseudo-label, so those tasks did not test
/// self-training. All 1,797 Digits images are in the two tasks, so no rule for more epochs
/// could be chosen on Digits data the study does not report (`docs/standard.md`).
pub fn standard_tasks() -> Vec<String> {
    [
        "mnist:0-4",
        "mnist:5-9",
        "fashion-mnist",
        "cifar-10-jpeg:0-4",
        "cifar-10-jpeg:5-9",
        "cifar-10-subset",
    ]
    .map(String::from)
    .to_vec()
}

impl StudyConfig {
    /// A built-in preset by name.
    ///
    /// - `quick`: the embedded Fashion-MNIST-10k, all three algorithms, 5 outer folds, 2 inner
    ///   folds over a small space, 3 epochs: minutes on a laptop.
    /// - `original`: the original study's protocol (20 tasks, 10 unshuffled outer folds, 3-fold
    ///   inner grid search over its full space, 5 epochs, 2 for CIFAR-100, batch 32), without
    ///   its leakage: inner teachers train on inner-train only and the chosen configuration is
    ///   refit on the outer training part.
    /// - `standard`: the five algorithms on the 6 tasks of [`standard_tasks`], 10 outer folds,
    ///   with hyperparameters fixed before the run (pre-registered, see `docs/standard.md`), so
    ///   that it finishes in hours on 2 cores.
    pub fn preset(name: &str) -> Result<Self> {
        StudyFile::preset(name).map(Self::from)
    }
}

impl StudyFile {
    /// The file of a built-in preset (see [`StudyConfig::preset`]).
    pub fn preset(name: &str) -> Result<Self> {
        match name {
            "original" => Ok(Self::default()),
            "standard" => Ok(Self::standard()),
            "seed" => Ok(Self::seed()),
            "quick" => Ok(Self {
                tasks: vec!["fashion-mnist-10k".into()],
                outer_folds: 5,
                inner_folds: 2,
                space: SearchSpace {
                    unl_factor: vec![0.2],
                    threshold: vec![0.5, 0.8],
                    num_students: vec![1, 2],
                    ensemble_size: vec![2],
                    ensemble_search: EnsembleSearch::Grid,
                },
                training: Training {
                    epochs: 3,
                    ..Training::default()
                },
                noise: Noise::default(),
                ..Self::default()
            }),
            other => Err(Error::Config(format!(
                "unknown preset \"{other}\"; the presets are {}",
                PRESETS.join(", ")
            ))),
        }
    }

    /// The `standard` preset. Every value was fixed before any of its results existed, and is
    /// explained in `docs/standard.md`; none was chosen on its tasks' data.
    fn standard() -> Self {
        Self {
            tasks: standard_tasks(),
            outer_folds: 10,
            inner_folds: 3,
            // One candidate per algorithm: no inner search (the budget is a few hours on 2
            // cores), each cell trains its configuration once.
            space: SearchSpace {
                unl_factor: vec![0.2],
                threshold: vec![STANDARD_THRESHOLD],
                num_students: vec![1],
                ensemble_size: vec![2],
                ensemble_search: EnsembleSearch::Grid,
            },
            noise: Noise {
                survival: 1.0,
                ..Noise::default()
            },
            pseudo: PseudoLabels {
                labeled_split: LabeledSplitMode::Stratified,
                unlabeled: UnlabeledSchedule::All,
                ..PseudoLabels::default()
            },
            ..Self::default()
        }
    }

    /// The `seed` preset: the original notebook's algorithm as its code ran it, inside
    /// nstudent's leak-free nested cross-validation. `docs/presets.md` lists every remaining
    /// difference from the notebook.
    fn seed() -> Self {
        Self {
            // Its student has no noise, so the augmented Baseline would be the Baseline, bit
            // for bit: the Baseline is its own control here.
            algorithms: vec![
                Algorithm::Baseline,
                Algorithm::NoisyStudent,
                Algorithm::BaselineEnsemble,
                Algorithm::Ensemble,
            ],
            // The space that produced the original table, which the notebook's typed grid did
            // not (docs/presets.md): its 200 Noisy Student rows chose thresholds 0.5-0.8 (0.8 in
            // 79 rows, so the typed "0, 8" did not run), 2 or 3 students (never 1), and
            // unl_factor 0.2, 0.1 and 0.05, searched in the notebook's order.
            space: SearchSpace {
                unl_factor: vec![0.2, 0.1, 0.05],
                threshold: vec![0.4, 0.5, 0.6, 0.7, 0.8],
                num_students: vec![2, 3],
                ensemble_search: EnsembleSearch::AfterNoisyStudent,
                ..SearchSpace::default()
            },
            noise: Noise {
                augment: false,
                dropout: 0.0,
                survival: 1.0,
                ..Noise::default()
            },
            pseudo: PseudoLabels {
                labeled_split: LabeledSplitMode::First,
                unlabeled: UnlabeledSchedule::Slice,
                balance: Balance::None,
                relabel: false,
                ..PseudoLabels::default()
            },
            ..Self::default()
        }
    }
}
