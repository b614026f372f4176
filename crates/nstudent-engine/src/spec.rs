use nstudent_core::{augment::RandAugment, ImageShape};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Model families of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// The original study's CNN: Conv32-Pool-Conv64-Pool-Dense128-Dense k (widths times `width`).
    Cnn,
    /// The same stages built from residual blocks, so stochastic depth applies.
    ResCnn,
}

impl Arch {
    /// True when the architecture has residual blocks, the only place stochastic depth acts.
    pub fn has_residual_blocks(self) -> bool {
        matches!(self, Arch::ResCnn)
    }
}

/// Everything needed to build a model: architecture, input, classes and in-model noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub arch: Arch,
    pub input: ImageShape,
    pub num_classes: usize,
    /// Multiplier on every layer's channels and units; 1.0 is the original 32/64/128.
    pub width: f32,
    /// Dropout rate before the classifier, in [0, 1); 0 disables it.
    pub dropout: f32,
    /// Stochastic depth: survival probability of the last residual block, in (0, 1], decaying
    /// linearly from 1 at the input; 1 disables it. Ignored by architectures without blocks.
    pub survival: f32,
}

impl ModelSpec {
    /// The original study's model, without noise.
    pub fn cnn(input: ImageShape, num_classes: usize) -> Self {
        Self {
            arch: Arch::Cnn,
            input,
            num_classes,
            width: 1.0,
            dropout: 0.0,
            survival: 1.0,
        }
    }

    /// Checks that the spec describes a model the engines can build.
    pub fn validate(&self) -> Result<()> {
        let i = self.input;
        if i.height < 4 || i.width < 4 || i.channels == 0 {
            return Err(Error::Invalid(format!(
                "input {i} is too small: the model pools twice, so images need at least 4x4 pixels and 1 channel"
            )));
        }
        if i.len() > 1 << 24 {
            return Err(Error::Invalid(format!("input {i} is too large")));
        }
        if self.num_classes < 2 || self.num_classes > 1 << 16 {
            return Err(Error::Invalid(format!(
                "a classifier needs between 2 and 65536 classes, got {}",
                self.num_classes
            )));
        }
        if !(self.width.is_finite() && self.width > 0.0 && self.width <= 64.0) {
            return Err(Error::Invalid(format!(
                "width multiplier must be in (0, 64], got {}",
                self.width
            )));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(Error::Invalid(format!(
                "dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        if !(self.survival.is_finite() && self.survival > 0.0 && self.survival <= 1.0) {
            return Err(Error::Invalid(format!(
                "stochastic-depth survival must be in (0, 1], got {}",
                self.survival
            )));
        }
        Ok(())
    }

    /// Channels and units of the model's layers: (first conv, second conv, hidden dense).
    pub fn widths(&self) -> (usize, usize, usize) {
        let s = |b: f32| ((b * self.width).round() as usize).max(1);
        (s(32.0), s(64.0), s(128.0))
    }
}

/// Training targets, one per image.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// Class indices.
    Hard(&'a [u16]),
    /// Probability vectors, `classes` values per image, row-major.
    Soft { probs: &'a [f32], classes: usize },
}

impl Targets<'_> {
    /// Number of images these targets describe.
    pub fn len(&self) -> usize {
        match self {
            Targets::Hard(labels) => labels.len(),
            Targets::Soft { probs, classes } => probs.len() / (*classes).max(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How to train: the optimiser is Adam with Keras' defaults unless changed here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    pub epochs: usize,
    /// Images per gradient step.
    pub batch_size: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// Seeds shuffling, dropout, stochastic depth and augmentation.
    pub seed: u64,
    /// Input noise; `None` trains on the clean images.
    pub augment: Option<RandAugment>,
    /// Worker threads for this training.
    pub threads: Threads,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            epochs: 5,
            batch_size: 32,
            learning_rate: 1e-3,
            seed: 0,
            augment: None,
            threads: Threads::all_cores(),
        }
    }
}

/// Reported after every batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitProgress {
    /// 0-based epoch.
    pub epoch: usize,
    /// Batches done in this epoch.
    pub batch: usize,
    pub batches_per_epoch: usize,
    /// Mean cross-entropy of the last batch, in nats.
    pub loss: f32,
    /// Images of this epoch trained so far.
    pub images: usize,
    /// Images in one epoch.
    pub epoch_images: usize,
    /// On an epoch's last batch, the epoch's mean cross-entropy over its images (what
    /// [`FitReport::epoch_losses`] will hold); `None` on the other batches.
    pub epoch_loss: Option<f32>,
    /// Seconds since this training started.
    pub seconds: f64,
}

/// What a finished training measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Mean training loss of each epoch, in nats.
    pub epoch_losses: Vec<f32>,
    /// Wall time of the whole fit, in seconds.
    pub seconds: f64,
}

/// A thread budget: how many threads a piece of work may use, never zero.
///
/// What users type (`--threads`, `execution.threads`) allows 0 for "every core"; it becomes a
/// `Threads` once, where it is read ([`Threads::resolve`]), so that 0 means the same on every
/// command and nothing below asks the machine again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Threads(std::num::NonZeroUsize);

impl Threads {
    /// One thread.
    pub const ONE: Threads = Threads(std::num::NonZeroUsize::MIN);

    /// `n` threads, or `None` for 0.
    pub fn new(n: usize) -> Option<Self> {
        std::num::NonZeroUsize::new(n).map(Self)
    }

    /// `requested` threads, 0 meaning every core of this machine.
    pub fn resolve(requested: usize) -> Self {
        Self::new(requested).unwrap_or_else(Self::all_cores)
    }

    /// Every core of this machine (1 when it cannot be told).
    pub fn all_cores() -> Self {
        Self(std::thread::available_parallelism().unwrap_or(std::num::NonZeroUsize::MIN))
    }

    pub fn get(self) -> usize {
        self.0.get()
    }

    /// This budget shared by `parts` pieces of work that may run side by side: how many run at
    /// once (at most the budget, at least 1) and the threads each of them gets.
    pub fn share(self, parts: usize) -> (usize, Threads) {
        let side_by_side = parts.clamp(1, self.get());
        let each = Self::new(self.get() / side_by_side).unwrap_or(Self::ONE);
        (side_by_side, each)
    }
}

impl std::fmt::Display for Threads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod thread_tests {
    use super::Threads;

    #[test]
    fn zero_means_every_core_and_a_budget_is_shared_without_exceeding_it() {
        assert_eq!(Threads::resolve(0), Threads::all_cores());
        assert_eq!(Threads::resolve(3).get(), 3);
        assert!(Threads::new(0).is_none());
        let four = Threads::resolve(4);
        assert_eq!(four.share(2), (2, Threads::resolve(2)));
        assert_eq!(four.share(3), (3, Threads::ONE));
        assert_eq!(four.share(8), (4, Threads::ONE));
        assert_eq!(four.share(0), (1, four));
        assert_eq!(Threads::ONE.share(3), (1, Threads::ONE));
    }
}
