//! The three algorithms of the study: Baseline, Noisy Student and Ensemble Noisy Student
//! (Xie et al., "Self-training with Noisy Student improves ImageNet classification", CVPR 2020),
//! on top of any [`nstudent_engine::Engine`].
//!
//! - [`split_labeled`] divides training data into a labeled part and an [`UnlabeledPool`] that
//!   holds images only, so no algorithm can read the pool's labels.
//! - [`Trainer`] trains the baseline teacher, then the Noisy Student chain: the teacher
//!   pseudo-labels unlabeled rows clean (eval mode), [`pseudo_label`] keeps the confident ones
//!   (hard or soft labels), [`balance_classes`] balances them per class, and a student trains
//!   from scratch on labeled + pseudo-labeled rows with noise (RandAugment, dropout, stochastic
//!   depth), then becomes the teacher. Every student is returned.
//! - [`Model`] wraps one classifier or an ensemble (probabilities averaged), with save/load.
//! - [`AlgoConfig`] holds every knob, serde-ready for TOML; [`Observer`] receives per-batch and
//!   per-iteration [`Event`]s.

mod config;
mod error;
mod metrics_log;
mod model;
mod overrides;
mod pseudo;
mod split;
mod train;

pub use config::{
    AlgoConfig, Algorithm, AugmentConfig, Balance, CheckedConfig, FitConfig, LabelKind,
    LabeledSplitMode, ModelConfig, PoolOrigin, UnlabeledSchedule,
};
pub use error::{Error, Result};
pub use metrics_log::{pseudo_label_quality, MetricsLog};
pub use model::{accuracy, Model, ENSEMBLE_MANIFEST};
pub use overrides::{Flip, Overrides};
pub use pseudo::{balance_classes, mean_per_class, pseudo_label, LabelMode, PseudoLabels};
pub use split::{split_labeled, split_labeled_at, LabeledSplit, UnlabeledPool};
pub use train::{
    mix, ChainOutcome, Event, IterationReport, Observer, Silent, Stage, TrainOutcome, Trainer,
};
