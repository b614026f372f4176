//! Training engines for nstudent.
//!
//! The algorithms and the study see only [`Engine`] and [`Classifier`]: build a model from a
//! [`ModelSpec`], fit it on `u8` images with hard or soft targets, predict class probabilities,
//! save and load it. No framework tensor crosses this boundary.

mod error;
mod spec;

pub use error::{Error, Result};
pub use spec::{Arch, FitOptions, FitProgress, FitReport, ModelSpec, Targets};

use std::path::Path;

use nstudent_data::ImagesRef;

/// A trainable image classifier.
pub trait Classifier: Send + Sync {
    /// The architecture this model was built from.
    fn spec(&self) -> &ModelSpec;

    /// Trains the model in place on `images` with `targets` (one per image).
    ///
    /// `progress` is called after every batch.
    fn fit(
        &mut self,
        images: ImagesRef<'_>,
        targets: Targets<'_>,
        options: &FitOptions,
        progress: &mut dyn FnMut(FitProgress),
    ) -> Result<FitReport>;

    /// Class probabilities in eval mode (no dropout, no stochastic depth, no augmentation):
    /// `images.len() * spec().num_classes` values, row-major, each row summing to 1.
    fn predict_proba(&self, images: ImagesRef<'_>) -> Result<Vec<f32>>;

    /// Writes the weights and the spec to a safetensors file.
    fn save(&self, path: &Path) -> Result<()>;
}

/// Builds and loads [`Classifier`]s of one implementation.
pub trait Engine: Send + Sync {
    /// Short name, as given to `--engine`.
    fn name(&self) -> &'static str;

    /// A fresh model with weights initialised from `seed`.
    fn build(&self, spec: &ModelSpec, seed: u64) -> Result<Box<dyn Classifier>>;

    /// A model saved by [`Classifier::save`].
    fn load(&self, path: &Path) -> Result<Box<dyn Classifier>>;
}
