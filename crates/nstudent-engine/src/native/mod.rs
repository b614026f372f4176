//! The native CPU engine: explicit forward and backward passes over `(N, H, W, C)` buffers,
//! batch-parallel training with deterministic gradient sums. Convolutions run as im2col + GEMM
//! on the portable kernels; on the AVX-512 kernels, directly for the input layer (fused with
//! its max-pool), by Winograd's F(2x2, 3x3) where the shape allows, and as implicit GEMM
//! otherwise (see [`crate::KernelPath`]).
//!
//! - `kernels`: the kernel sets, as values (`portable`, `x86_64`);
//! - `plan`: a spec compiled for a kernel set, every convolution's method chosen;
//! - `exec`: the per-thread workspace that runs a plan forward and backward;
//! - `threads`: the threads trainings and predictions run on (the caller and its helpers).

mod exec;
mod fit;
pub(crate) mod kernels;
mod plan;
mod profile;
mod schedule;
mod softmax;
pub(crate) mod threads;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Instant;

use nstudent_core::seed::splitmix64;
use nstudent_core::ImagesRef;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::checks;
use crate::model_file::{self, ModelFile, TensorData};
use crate::{
    Classifier, Engine, Error, FitOptions, FitProgress, FitReport, KernelPath, ModelSpec, Result,
    Targets, Threads,
};
use exec::Worker;
use kernels::{AdamConfig, KernelSet, Plain};
use plan::{NoiseKind, Plan};
pub use profile::LayerTime;

/// Images per forward pass in [`Classifier::predict_proba`]; bounds memory at any input size.
const PREDICT_CHUNK: usize = 16;

/// Images per gradient chunk of a training batch. A batch is cut into chunks of this size
/// whatever the thread count; each chunk's gradient is computed on its own and the chunks'
/// gradients are summed in chunk order. So the float operations, and hence the bits of every
/// weight, do not depend on how many threads share the chunks. 16 images also keep a chunk's
/// im2col buffers in the core's cache.
const CHUNK: usize = 16;

/// The default engine: the study's CNNs, implemented directly on the CPU, on one set of
/// kernels chosen when the engine is made (the CPU detected then, once).
#[derive(Debug, Clone, Copy)]
pub struct NativeEngine {
    kernels: KernelSet,
}

impl NativeEngine {
    /// The engine on the kernels of `path`; an error when this CPU (or build) cannot run them.
    pub fn new(path: KernelPath) -> Result<Self> {
        Ok(Self {
            kernels: path.kernels()?,
        })
    }

    /// The kernels its models run on.
    pub fn kernel_path(&self) -> KernelPath {
        KernelPath::of(self.kernels)
    }
}

/// The engine on the kernels [`crate::KERNELS_ENV`] names, else the best this CPU runs.
impl Default for NativeEngine {
    fn default() -> Self {
        Self::new(KernelPath::from_env_or_best())
            .expect("the path from the environment or the CPU is available")
    }
}

impl Engine for NativeEngine {
    fn name(&self) -> &'static str {
        "native"
    }

    fn build(&self, spec: &ModelSpec, seed: u64) -> Result<Box<dyn Classifier>> {
        Ok(Box::new(NativeClassifier::on(self.kernels, spec, seed)?))
    }

    fn load(&self, path: &Path) -> Result<Box<dyn Classifier>> {
        Ok(Box::new(NativeClassifier::load_on(self.kernels, path)?))
    }

    fn kernel_path(&self) -> Option<KernelPath> {
        Some(NativeEngine::kernel_path(self))
    }
}

/// A model of the native engine.
#[derive(Debug, Clone)]
pub struct NativeClassifier {
    spec: ModelSpec,
    /// The compiled model; it carries the kernels every operation runs on.
    plan: Plan,
    /// All parameters, tensor after tensor, in the internal layout (see [`Plan`]).
    params: Vec<f32>,
    class_names: Vec<String>,
    /// The threads [`Classifier::predict_proba`] runs on: those of the last
    /// [`Classifier::fit`], or of [`Classifier::set_threads`], else every core.
    predict_threads: Threads,
}

/// A generator for one purpose of one step, derived from the training seed.
pub(crate) fn derived_rng(seed: u64, purpose: u64, epoch: u64, batch: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derived_seed(seed, purpose, epoch, batch))
}

/// The seed of [`derived_rng`].
fn derived_seed(seed: u64, purpose: u64, epoch: u64, batch: u64) -> u64 {
    let mut h = seed ^ 0x6a09_e667_f3bc_c908;
    for v in [purpose, epoch, batch] {
        h = splitmix64(h ^ splitmix64(v.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    }
    h
}

#[cfg(test)]
#[test]
fn derived_seeds_are_pinned() {
    // Every trained model's weights, shuffles and noise come from these: a change here would
    // change every result.
    assert_eq!(derived_seed(7, 2, 3, 4), 5_559_700_882_271_037_341);
    assert_eq!(derived_seed(0, 0, 0, 0), 1_046_016_856_197_970_760);
}

const PURPOSE_INIT: u64 = 1;
const PURPOSE_SHUFFLE: u64 = 2;
const PURPOSE_AUGMENT: u64 = 3;
const PURPOSE_NOISE: u64 = 4;

impl NativeClassifier {
    /// A fresh model on the default kernels ([`NativeEngine::default`]): Glorot-uniform kernels
    /// and zero biases drawn from `seed`.
    pub fn new(spec: &ModelSpec, seed: u64) -> Result<Self> {
        Self::on(NativeEngine::default().kernels, spec, seed)
    }

    /// A fresh model on the kernels of `path` (the same weights on every path).
    pub fn with_kernels(path: KernelPath, spec: &ModelSpec, seed: u64) -> Result<Self> {
        Self::on(path.kernels()?, spec, seed)
    }

    /// A fresh model on `kernels`.
    fn on(kernels: KernelSet, spec: &ModelSpec, seed: u64) -> Result<Self> {
        spec.validate()?;
        let plan = Plan::new(spec, kernels);
        let mut params = vec![0.0f32; plan.n_params];
        let mut rng = derived_rng(seed, PURPOSE_INIT, 0, 0);
        for p in &plan.params {
            if let Some(limit) = p.glorot_limit() {
                for v in &mut params[p.offset..p.offset + p.len] {
                    *v = rng.gen_range(-limit..limit);
                }
            }
        }
        Ok(Self {
            spec: spec.clone(),
            plan,
            params,
            class_names: Vec::new(),
            predict_threads: Threads::all_cores(),
        })
    }

    /// Loads a model written by [`Classifier::save`], on the default kernels.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_on(NativeEngine::default().kernels, path)
    }

    /// The kernels this model runs on.
    pub fn kernel_path(&self) -> KernelPath {
        KernelPath::of(self.plan.kernels)
    }

    /// Loads a model written by [`Classifier::save`], on `kernels`.
    ///
    /// Every tensor the spec needs is checked against the file before the parameters are
    /// allocated: a small file whose spec claims a huge model (a 4096x4096 input makes a
    /// dense layer of billions of weights) is refused, not allocated.
    fn load_on(kernels: KernelSet, path: &Path) -> Result<Self> {
        let file = model_file::read(path)?;
        let invalid = |e: Error| Error::Format {
            path: path.to_path_buf(),
            message: format!("invalid model spec: {e}"),
        };
        file.spec.validate().map_err(invalid)?;
        let plan = Plan::new(&file.spec, kernels);
        for p in &plan.params {
            let t = file.tensors.get(&p.name).ok_or_else(|| Error::Format {
                path: path.to_path_buf(),
                message: format!("missing tensor {}", p.name),
            })?;
            if t.shape != p.torch_shape() {
                return Err(Error::Format {
                    path: path.to_path_buf(),
                    message: format!(
                        "tensor {} has shape {:?}, the spec needs {:?}",
                        p.name,
                        t.shape,
                        p.torch_shape()
                    ),
                });
            }
        }
        let mut params = vec![0.0f32; plan.n_params];
        for p in &plan.params {
            let v = p.import_torch(&file.tensors[&p.name].values);
            params[p.offset..p.offset + p.len].copy_from_slice(&v);
        }
        Ok(Self {
            spec: file.spec,
            plan,
            params,
            class_names: file.class_names,
            predict_threads: Threads::all_cores(),
        })
    }

    /// Parameter tensors by PyTorch name, in PyTorch's layout (what [`Classifier::save`] writes).
    pub fn torch_tensors(&self) -> Vec<(String, TensorData)> {
        self.plan
            .params
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    TensorData {
                        shape: p.torch_shape(),
                        values: p.export_torch(&self.params[p.offset..p.offset + p.len]),
                    },
                )
            })
            .collect()
    }

    /// Replaces one parameter tensor given in PyTorch's layout.
    pub fn set_torch_tensor(&mut self, name: &str, values: &[f32]) -> Result<()> {
        let p = self
            .plan
            .params
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::Invalid(format!("the model has no tensor {name}")))?;
        if values.len() != p.len {
            return Err(Error::Invalid(format!(
                "tensor {name} needs {} values, got {}",
                p.len,
                values.len()
            )));
        }
        let v = p.import_torch(values);
        self.params[p.offset..p.offset + p.len].copy_from_slice(&v);
        Ok(())
    }

    /// Names of the parameter tensors, in order.
    pub fn tensor_names(&self) -> Vec<String> {
        self.plan.params.iter().map(|p| p.name.clone()).collect()
    }

    /// Forward multiply-adds per image (a training step costs about three times this, twice
    /// for the FLOP count).
    pub fn macs_per_image(&self) -> usize {
        self.plan.macs_per_image
    }

    fn check_images(&self, images: &ImagesRef<'_>) -> Result<()> {
        checks::images(&self.spec, images)
    }

    fn check_targets(&self, targets: &Targets<'_>, n: usize) -> Result<()> {
        checks::targets(&self.spec, targets, n)
    }

    /// Worker threads for a training run: `threads`, never more than the chunks of a batch
    /// (more would have nothing to do) nor than the cores ([`threads::usable`]).
    fn worker_count(threads: Threads, chunks: usize) -> usize {
        threads::usable(threads.get()).min(chunks.max(1))
    }
}

/// Shuffles the training order of one epoch (continuing from the previous epoch's order).
pub(crate) fn shuffle(order: &mut [usize], seed: u64, epoch: usize) {
    let mut rng = derived_rng(seed, PURPOSE_SHUFFLE, epoch as u64, 0);
    for i in (1..order.len()).rev() {
        let j = rng.gen_range(0..=i);
        order.swap(i, j);
    }
}

/// The generator that augments the image in position `slot` of batch `batch`.
pub(crate) fn augment_rng(seed: u64, epoch: usize, batch: usize, slot: usize) -> ChaCha8Rng {
    let item = (batch as u64) << 32 | slot as u64;
    derived_rng(seed, PURPOSE_AUGMENT, epoch as u64, item)
}

/// Dropout and stochastic-depth masks of one training batch, drawn exactly as the native
/// engine draws them, so other engines can train on the very same noise.
#[cfg_attr(not(feature = "burn"), allow(dead_code))]
pub(crate) struct BatchNoise {
    plan: Plan,
    buffers: Vec<Vec<f32>>,
    n: usize,
}

#[cfg_attr(not(feature = "burn"), allow(dead_code))]
impl BatchNoise {
    /// Room for batches of up to `max_batch` images of a (validated) spec.
    pub fn new(spec: &ModelSpec, max_batch: usize) -> Self {
        // Only the noise layout is used: the kernels do not matter.
        let plan = Plan::new(spec, KernelSet::Plain(Plain));
        let buffers = plan
            .noises
            .iter()
            .map(|k| vec![0.0; k.per_image() * max_batch])
            .collect();
        Self {
            plan,
            buffers,
            n: 0,
        }
    }

    /// Draws the masks of batch `batch` (0-based) of `epoch`, which has `n` images.
    pub fn draw(&mut self, seed: u64, epoch: usize, batch: usize, n: usize) {
        if !self.plan.noises.is_empty() {
            let mut rng = derived_rng(seed, PURPOSE_NOISE, epoch as u64, batch as u64);
            sample_noise(&self.plan, n, &mut rng, &mut self.buffers);
        }
        self.n = n;
    }

    /// Per-image factors (0 or `1 / survival`) of residual block `block` (0-based); `None`
    /// when the block has no stochastic depth.
    pub fn depth(&self, block: usize) -> Option<&[f32]> {
        self.plan
            .noises
            .iter()
            .zip(&self.buffers)
            .filter(|(k, _)| matches!(k, NoiseKind::Depth { .. }))
            .nth(block)
            .map(|(_, b)| &b[..self.n])
    }

    /// Dropout factors (0 or `1 / (1 - rate)`), `n x hidden units`; `None` without dropout.
    pub fn dropout(&self) -> Option<&[f32]> {
        self.plan
            .noises
            .iter()
            .zip(&self.buffers)
            .find(|(k, _)| matches!(k, NoiseKind::Dropout { .. }))
            .map(|(k, b)| &b[..self.n * k.per_image()])
    }
}

/// Samples the noise of one training step for a whole batch of `n` images.
fn sample_noise(plan: &Plan, n: usize, rng: &mut impl Rng, out: &mut [Vec<f32>]) {
    for (kind, buf) in plan.noises.iter().zip(out.iter_mut()) {
        let len = n * kind.per_image();
        match *kind {
            NoiseKind::Dropout { rate, .. } => {
                let keep = 1.0 / (1.0 - rate);
                for v in &mut buf[..len] {
                    *v = if rng.gen::<f32>() < rate { 0.0 } else { keep };
                }
            }
            NoiseKind::Depth { survival } => {
                let keep = 1.0 / survival;
                for v in &mut buf[..len] {
                    *v = if rng.gen::<f32>() < survival {
                        keep
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

impl Classifier for NativeClassifier {
    fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn fit(
        &mut self,
        images: ImagesRef<'_>,
        targets: Targets<'_>,
        options: &FitOptions,
        progress: &mut dyn FnMut(FitProgress),
    ) -> Result<FitReport> {
        let started = Instant::now();
        self.check_images(&images)?;
        let n = images.len();
        self.check_targets(&targets, n)?;
        checks::fit_options(options)?;
        if n == 0 || options.epochs == 0 {
            return Ok(FitReport {
                epoch_losses: Vec::new(),
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        let batch = options.batch_size.min(n);
        let n_workers = Self::worker_count(options.threads, batch.div_ceil(CHUNK));
        self.predict_threads = options.threads;
        let ctx = fit::FitContext {
            plan: &self.plan,
            images,
            targets,
            options,
            // The calling thread and its helpers (reused across fits).
            team: threads::team(n_workers)?,
            n_workers,
            k: self.spec.num_classes,
            img_len: self.spec.input.len(),
        };
        let mut bufs = fit::FitBuffers::new(&ctx, batch);
        let adam = AdamConfig {
            lr: options.learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        };
        let kernels = self.plan.kernels;
        // Adam writes each step's weights here while the step still reads `self.params`; the
        // two swap after every step.
        let mut next = self.params.clone();
        let mut order: Vec<usize> = (0..n).collect();
        let batches = n.div_ceil(batch);
        let mut epoch_losses = Vec::with_capacity(options.epochs);
        let mut step = 0u64;
        for epoch in 0..options.epochs {
            shuffle(&mut order, options.seed, epoch);
            let mut epoch_loss = 0.0f64;
            for bi in 0..batches {
                let idx = &order[bi * batch..((bi + 1) * batch).min(n)];
                let nb = idx.len();
                let this = fit::Batch {
                    idx,
                    epoch,
                    number: bi,
                };
                step += 1;
                let weights = (&self.params[..], &mut next[..]);
                let loss_sum = ctx.step(weights, &mut bufs, &this, (kernels, adam), step);
                std::mem::swap(&mut self.params, &mut next);
                let loss = (loss_sum / nb as f64) as f32;
                epoch_loss += loss_sum;
                progress(FitProgress {
                    epoch,
                    batch: bi + 1,
                    batches_per_epoch: batches,
                    loss,
                    images: ((bi + 1) * batch).min(n),
                    epoch_images: n,
                    epoch_loss: (bi + 1 == batches).then(|| (epoch_loss / n as f64) as f32),
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
            epoch_losses.push((epoch_loss / n as f64) as f32);
        }
        if self.params.iter().any(|p| !p.is_finite()) {
            return Err(Error::Invalid(
                "training diverged (non-finite weights); lower the learning rate".into(),
            ));
        }
        Ok(FitReport {
            epoch_losses,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    fn predict_proba(&self, images: ImagesRef<'_>) -> Result<Vec<f32>> {
        self.predict_proba_on(images, self.predict_threads)
    }

    fn predict_proba_on(&self, images: ImagesRef<'_>, threads: Threads) -> Result<Vec<f32>> {
        self.check_images(&images)?;
        let n = images.len();
        let k = self.spec.num_classes;
        let img_len = self.spec.input.len();
        let mut out = vec![0.0f32; n * k];
        let cap = PREDICT_CHUNK.min(n.max(1));
        let run = |w: &mut Worker, o: &mut [f32], px: &[u8]| {
            let cnt = px.len() / img_len;
            w.load_input(px);
            w.forward(&self.plan, &self.params, cnt, None);
            w.compute_probs(&self.plan, cnt);
            o.copy_from_slice(&w.probs[..cnt * k]);
        };
        // One contiguous run of chunks per thread: each thread builds its worker (megabytes of
        // buffers) once per call.
        let team = threads::team(threads.get())?;
        let per_thread = n.div_ceil(cap).div_ceil(team.size()).max(1) * cap;
        let pieces = out
            .chunks_mut(per_thread * k)
            .zip(images.pixels.chunks(per_thread * img_len));
        team.run(pieces, |_, (out, pixels)| {
            let mut w = Worker::new(&self.plan, cap, false);
            for (o, px) in out.chunks_mut(cap * k).zip(pixels.chunks(cap * img_len)) {
                run(&mut w, o, px)
            }
        });
        Ok(out)
    }

    fn save(&self, path: &Path) -> Result<()> {
        model_file::write(
            path,
            &ModelFile {
                spec: self.spec.clone(),
                class_names: self.class_names.clone(),
                tensors: self.torch_tensors().into_iter().collect(),
            },
        )
    }

    fn set_class_names(&mut self, names: Vec<String>) {
        self.class_names = names;
    }

    fn set_threads(&mut self, threads: Threads) {
        self.predict_threads = threads;
    }

    fn kernel_path(&self) -> Option<KernelPath> {
        Some(NativeClassifier::kernel_path(self))
    }

    fn class_names(&self) -> &[String] {
        &self.class_names
    }
}

/// Internal access for tests and benchmarks in this crate.
impl NativeClassifier {
    #[cfg(test)]
    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }

    #[cfg(test)]
    pub(crate) fn params(&self) -> &[f32] {
        &self.params
    }
}
