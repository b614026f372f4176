//! Training engines for nstudent.
//!
//! The algorithms and the study see only [`Engine`] and [`Classifier`]: build a model from a
//! [`ModelSpec`], fit it on `u8` images with hard or soft targets, predict class probabilities,
//! save and load it. No framework tensor crosses this boundary.
//!
//! # The native engine
//! [`NativeEngine`] (`--engine native`, the default) implements exactly the layers the study
//! needs on the CPU: 3x3 "same" convolutions (im2col + a matrix product on the portable path;
//! on the AVX-512 path the input layer directly and the others as products over the padded
//! images, see [`KernelPath`]), 2x2 max-pooling,
//! dense layers, ReLU, dropout, residual blocks with stochastic depth, softmax cross-entropy on
//! hard or soft targets (mean over the batch) and Adam. Activations are `(N, H, W, C)`.
//!
//! - **Initialisation** as Keras: Glorot-uniform kernels, zero biases.
//! - **Adam** with Keras' defaults (lr 1e-3, betas 0.9/0.999, eps 1e-7) in PyTorch's form:
//!   `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`, i.e. one step equals
//!   `torch.optim.Adam(eps=1e-7)`. Keras adds eps to the *uncorrected* `sqrt(v)` (an effective
//!   eps of `1e-7 / sqrt(1 - b2^t)`); the two differ only for gradients near 1e-7 / 1e-5.
//!   The optimiser state starts fresh at every [`Classifier::fit`].
//! - **Dropout** is inverted (kept units scaled by `1 / (1 - rate)` in training).
//! - **Stochastic depth** (Huang et al. 2016) per image, inverted like
//!   `torchvision.ops.stochastic_depth(mode="row")`: in training a residual branch survives
//!   with probability `p_l` and is scaled by `1 / p_l`; eval mode uses the branch unscaled
//!   (the same expectation as the paper's test-time scaling by `p_l`). Block `l` of `L`
//!   survives with `p_l = 1 - l / L * (1 - survival)`.
//! - **Architectures**: [`Arch::Cnn`] is Conv(32)-ReLU-MaxPool-Conv(64)-ReLU-MaxPool-
//!   Dense(128)-ReLU-\[Dropout\]-Dense(k). [`Arch::ResCnn`] is a 3x3 stem conv (32), a residual
//!   block (two 3x3 convs, identity shortcut), MaxPool, a residual block to 64 channels (1x1
//!   conv shortcut), MaxPool, Dense(128)-ReLU-\[Dropout\]-Dense(k); every block ends in ReLU.
//!   All widths are multiplied by [`ModelSpec::width`] and rounded (half away from zero).
//! - **Threads**: each batch is cut into fixed chunks of 16 images whatever the thread count;
//!   [`FitOptions::threads`] workers share the chunks, every chunk's gradient is computed on its
//!   own and the chunks' gradients are summed in chunk order, so a seed gives the same bits on
//!   any number of threads (more threads than chunks have nothing to do); dropout and stochastic-depth
//!   masks, shuffling and augmentation are drawn per batch / per image from the seed and do not
//!   depend on the thread count. [`Classifier::predict_proba`] runs in chunks of 16 images on
//!   the threads of the model's last fit (or [`Classifier::set_threads`]'s, or those passed to
//!   [`Classifier::predict_proba_on`]). `n` threads are the calling thread, which works, and
//!   `n - 1` helpers that belong to it, started once and reused; never rayon's global pool.
//!
//! # The burn engine
//! `BurnEngine` (`--engine burn`, cargo feature `burn`; `cuda` and `wgpu` add GPU backends)
//! runs the same model family through the burn framework so that the study runs on a GPU: the
//! same initial weights for a seed, the same batches, augmentations and dropout /
//! stochastic-depth masks, the same loss and Adam step, and the same model files. Its
//! probabilities agree with the native engine's to 1e-4 from the same weights. The backend
//! is the best compiled in (CUDA, wgpu, then the flex CPU backend) unless the environment
//! variable `NSTUDENT_BURN_DEVICE` names one (`flex`, `cuda`, `cuda:N`, `wgpu`). Without the
//! feature, [`engine_by_name`]`("burn")` explains how to rebuild.
//!
//! # Model files
//! safetensors, `F32` tensors in PyTorch's layout, named as the modules of
//! `bench/pytorch_reference.py` (`load_nstudent(path)` there loads them):
//! `conv1.weight (out, in, 3, 3)`, `conv1.bias`, `conv2.*`, `fc1.weight (out, in)` whose inputs
//! follow PyTorch's `(C, H, W)` flattening, `fc1.bias`, `fc2.*`; residual models have `stem.*`,
//! `block1.conv1.*`, `block1.conv2.*`, `block2.conv1.*`, `block2.conv2.*`,
//! `block2.shortcut.* (out, in, 1, 1)`. Inputs are `(N, C, H, W)` pixels / 255. The metadata
//! holds `format = nstudent`, `spec` (the [`ModelSpec`] as JSON), `input_shape`, `num_classes`
//! and `class_names` (a JSON array).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod bench;
#[cfg(feature = "burn")]
mod burn_engine;
mod checks;
mod error;
#[doc(hidden)]
pub mod kernel_bench;
mod kernel_path;
mod model_file;
mod native;
mod spec;

#[cfg(feature = "burn")]
pub use burn_engine::{BurnBackend, BurnClassifier, BurnEngine, DEVICE_ENV as BURN_DEVICE_ENV};
pub use error::{Error, Result};
pub use kernel_path::{KernelPath, KERNELS_ENV};
pub use model_file::TensorData;
pub use native::{LayerTime, NativeClassifier, NativeEngine};
pub use spec::{Arch, FitOptions, FitProgress, FitReport, ModelSpec, Targets, Threads};

use std::path::Path;

use nstudent_core::ImagesRef;

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

    /// [`Classifier::predict_proba`] on `threads` threads instead of those
    /// [`Classifier::set_threads`] set: for a caller that shares one model (`&self`) and
    /// brings its own budget, as the Python package does. The same values for any `threads`.
    /// Engines that do not run on CPU threads ignore it.
    fn predict_proba_on(&self, images: ImagesRef<'_>, threads: Threads) -> Result<Vec<f32>> {
        let _ = threads;
        self.predict_proba(images)
    }

    /// Writes the weights and the spec to a safetensors file.
    fn save(&self, path: &Path) -> Result<()>;

    /// Attaches human-readable class names, saved with the model.
    fn set_class_names(&mut self, names: Vec<String>) {
        let _ = names;
    }

    /// Class names attached with [`Classifier::set_class_names`] or loaded; may be empty.
    fn class_names(&self) -> &[String] {
        &[]
    }

    /// The threads [`Classifier::predict_proba`] runs on from now on (a fit sets them to its
    /// own). Engines that do not run on CPU threads ignore it.
    fn set_threads(&mut self, threads: Threads) {
        let _ = threads;
    }

    /// The native kernels this model runs on; `None` for an engine without kernel paths.
    fn kernel_path(&self) -> Option<KernelPath> {
        None
    }
}

/// Builds and loads [`Classifier`]s of one implementation.
pub trait Engine: Send + Sync {
    /// Short name, as given to `--engine`.
    fn name(&self) -> &'static str;

    /// A fresh model with weights initialised from `seed`.
    fn build(&self, spec: &ModelSpec, seed: u64) -> Result<Box<dyn Classifier>>;

    /// A model saved by [`Classifier::save`].
    fn load(&self, path: &Path) -> Result<Box<dyn Classifier>>;

    /// The native kernels this engine's models run on (what a result records, and what
    /// `nstudent verify` recomputes on); `None` for an engine without kernel paths.
    fn kernel_path(&self) -> Option<KernelPath> {
        None
    }

    /// What this engine computes on, for reports such as `nstudent bench`: `cpu` for an engine
    /// on the CPU; the burn engine names its backend and, on a GPU, the device as its driver
    /// names it (e.g. `wgpu: NVIDIA H100 80GB HBM3`).
    fn device(&self) -> String {
        "cpu".into()
    }
}

/// Names accepted by [`engine_by_name`].
pub const ENGINE_NAMES: &[&str] = &["native", "burn"];

/// An engine as `--engine` names it. `burn` is a value in every build, so that a build without
/// the `burn` feature answers `--engine burn` by saying how to rebuild (from [`EngineName::engine`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum EngineName {
    /// The CPU engine built into nstudent.
    #[default]
    Native,
    /// burn (needs a build with `--features burn`, `cuda` or `wgpu`).
    Burn,
}

impl EngineName {
    /// The name [`engine_by_name`] takes (one of [`ENGINE_NAMES`]).
    pub fn name(self) -> &'static str {
        match self {
            EngineName::Native => ENGINE_NAMES[0],
            EngineName::Burn => ENGINE_NAMES[1],
        }
    }

    /// The engine, or why this build does not have it.
    pub fn engine(self) -> Result<Box<dyn Engine>> {
        engine_by_name(self.name())
    }
}

impl std::fmt::Display for EngineName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The engine called `name` (as given to `--engine`).
pub fn engine_by_name(name: &str) -> Result<Box<dyn Engine>> {
    match name {
        "native" => Ok(Box::new(NativeEngine::default())),
        "burn" => burn_engine(),
        other => Err(Error::Invalid(format!(
            "unknown engine {other:?}; choose one of: {}",
            ENGINE_NAMES.join(", ")
        ))),
    }
}

/// The engine called `name` with the native engine on the kernels of `path` (another engine
/// has no kernel paths and ignores it): what recomputes a result on the kernels that made it.
pub fn engine_on_kernels(name: &str, path: KernelPath) -> Result<Box<dyn Engine>> {
    match name {
        "native" => Ok(Box::new(NativeEngine::new(path)?)),
        other => engine_by_name(other),
    }
}

/// The burn engine on the backend `NSTUDENT_BURN_DEVICE` names, or the best compiled in.
#[cfg(feature = "burn")]
fn burn_engine() -> Result<Box<dyn Engine>> {
    Ok(Box::new(BurnEngine::from_env()?))
}

/// The burn engine (GPU path) is not part of this build.
#[cfg(not(feature = "burn"))]
fn burn_engine() -> Result<Box<dyn Engine>> {
    Err(Error::Invalid(
        "the burn engine is not compiled into this nstudent; rebuild with `--features burn` \
         (or use --engine native)"
            .into(),
    ))
}

/// The spec stored in a model file written by [`Classifier::save`], without loading weights.
pub fn load_spec(path: &Path) -> Result<ModelSpec> {
    model_file::read_spec(path)
}
