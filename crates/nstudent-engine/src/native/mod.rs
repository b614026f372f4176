//! The native CPU engine: explicit forward and backward passes over `(N, H, W, C)` buffers,
//! batch-parallel training with deterministic gradient sums. Convolutions run as im2col + GEMM
//! on the portable kernels; on the AVX-512 kernels, directly for the input layer (fused with
//! its max-pool), by Winograd's F(2x2, 3x3) where the shape allows, and as implicit GEMM
//! otherwise (see [`crate::KernelPath`]).

#[cfg(target_arch = "x86_64")]
mod avx512;
mod direct;
#[cfg(target_arch = "x86_64")]
mod implicit;
mod kernels;
mod linalg;
mod net;

#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod winograd;

use std::path::Path;
use std::time::Instant;

use nstudent_core::seed::splitmix64;
use nstudent_core::ImagesRef;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::checks;
use crate::model_file::{self, ModelFile, TensorData};
use crate::{
    active_kernel_path, Classifier, Engine, Error, FitOptions, FitProgress, FitReport, ModelSpec,
    Result, Targets, Threads,
};
use kernels::{adam_step_sum, AdamConfig, BatchTargets};
use net::{NoiseKind, Plan, StepNoise, Worker};

/// Images per forward pass in [`Classifier::predict_proba`]; bounds memory at any input size.
const PREDICT_CHUNK: usize = 16;

/// Images per gradient chunk of a training batch. A batch is cut into chunks of this size
/// whatever the thread count; each chunk's gradient is computed on its own and the chunks'
/// gradients are summed in chunk order. So the float operations, and hence the bits of every
/// weight, do not depend on how many threads share the chunks. 16 images also keep a chunk's
/// im2col buffers in the core's cache.
const CHUNK: usize = 16;

/// Parameters per task of the parallel Adam update.
const ADAM_CHUNK: usize = 1 << 15;

/// The default engine: the study's CNNs, implemented directly on the CPU.
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeEngine;

impl Engine for NativeEngine {
    fn name(&self) -> &'static str {
        "native"
    }

    fn build(&self, spec: &ModelSpec, seed: u64) -> Result<Box<dyn Classifier>> {
        Ok(Box::new(NativeClassifier::new(spec, seed)?))
    }

    fn load(&self, path: &Path) -> Result<Box<dyn Classifier>> {
        Ok(Box::new(NativeClassifier::load(path)?))
    }
}

/// A model of the native engine.
#[derive(Debug, Clone)]
pub struct NativeClassifier {
    spec: ModelSpec,
    plan: Plan,
    /// All parameters, tensor after tensor, in the internal layout (see [`Plan`]).
    params: Vec<f32>,
    class_names: Vec<String>,
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
    /// A fresh model: Glorot-uniform kernels and zero biases drawn from `seed`.
    pub fn new(spec: &ModelSpec, seed: u64) -> Result<Self> {
        spec.validate()?;
        let plan = Plan::new(spec);
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
        })
    }

    /// Loads a model written by [`Classifier::save`].
    ///
    /// Every tensor the spec needs is checked against the file before the parameters are
    /// allocated: a small file whose spec claims a huge model (a 4096x4096 input makes a
    /// dense layer of billions of weights) is refused, not allocated.
    pub fn load(path: &Path) -> Result<Self> {
        let file = model_file::read(path)?;
        let invalid = |e: Error| Error::Format {
            path: path.to_path_buf(),
            message: format!("invalid model spec: {e}"),
        };
        file.spec.validate().map_err(invalid)?;
        let plan = Plan::new(&file.spec);
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
    /// (more would have nothing to do).
    fn worker_count(threads: Threads, chunks: usize) -> usize {
        threads.get().clamp(1, chunks.max(1))
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
        let plan = Plan::new(spec);
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
        let k = self.spec.num_classes;
        let img_len = self.spec.input.len();
        let path = active_kernel_path();
        let batch = options.batch_size.min(n);
        let max_chunks = batch.div_ceil(CHUNK);
        let n_workers = Self::worker_count(options.threads, max_chunks);
        let mut workers: Vec<Worker> = (0..n_workers)
            .map(|_| Worker::new(&self.plan, CHUNK.min(batch), true, path))
            .collect();
        // One gradient buffer per chunk of a batch, summed in chunk order by Adam.
        let mut chunk_grads: Vec<Vec<f32>> = vec![vec![0.0; self.plan.n_params]; max_chunks];
        let mut chunk_losses = vec![0.0f64; max_chunks];
        let pool = if n_workers > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n_workers)
                    .build()
                    .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))?,
            )
        } else {
            None
        };
        let adam = AdamConfig {
            lr: options.learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        };
        let mut m = vec![0.0f32; self.plan.n_params];
        let mut v = vec![0.0f32; self.plan.n_params];
        let mut noise: Vec<Vec<f32>> = self
            .plan
            .noises
            .iter()
            .map(|k| vec![0.0; k.per_image() * batch])
            .collect();
        let mut staging: Vec<Vec<u8>> =
            workers.iter().map(|w| vec![0u8; w.cap * img_len]).collect();
        let mut batch_labels = vec![0u16; batch];
        let mut batch_soft = vec![0.0f32; batch * k];
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
                // Targets of the batch; the workers gather (and augment) the pixels.
                for (slot, &i) in idx.iter().enumerate() {
                    match targets {
                        Targets::Hard(l) => batch_labels[slot] = l[i],
                        Targets::Soft { probs, .. } => batch_soft[slot * k..(slot + 1) * k]
                            .copy_from_slice(&probs[i * k..(i + 1) * k]),
                    }
                }
                if !self.plan.noises.is_empty() {
                    let mut nrng =
                        derived_rng(options.seed, PURPOSE_NOISE, epoch as u64, bi as u64);
                    sample_noise(&self.plan, nb, &mut nrng, &mut noise);
                }
                let scale = 1.0 / nb as f32;
                let chunks = nb.div_ceil(CHUNK);
                // Worker wi computes chunks [wi * per_worker, (wi + 1) * per_worker).
                let per_worker = chunks.div_ceil(n_workers);
                let params = &self.params;
                let plan = &self.plan;
                let is_hard = matches!(targets, Targets::Hard(_));
                let augment = options.augment.as_ref();
                // The gradient of chunk `c` into `grad`; returns the chunk's summed loss.
                let run_chunk = |c: usize, w: &mut Worker, px: &mut [u8], grad: &mut Vec<f32>| {
                    let s0 = c * CHUNK;
                    let s1 = (s0 + CHUNK).min(nb);
                    let cnt = s1 - s0;
                    for slot in s0..s1 {
                        let i = idx[slot];
                        let dst = &mut px[(slot - s0) * img_len..(slot - s0 + 1) * img_len];
                        match augment {
                            // One generator per image: the same images whatever the threads.
                            Some(aug) => {
                                let mut r = augment_rng(options.seed, epoch, bi, slot);
                                aug.apply(images.image(i), images.shape, &mut r, dst)
                            }
                            None => dst.copy_from_slice(images.image(i)),
                        }
                    }
                    w.load_input(&px[..cnt * img_len]);
                    let sn = StepNoise {
                        buffers: &noise,
                        start: s0,
                    };
                    w.forward(plan, params, cnt, Some(&sn));
                    let t = if is_hard {
                        BatchTargets::Hard(&batch_labels[s0..s1])
                    } else {
                        BatchTargets::Soft(&batch_soft[s0 * k..s1 * k])
                    };
                    let loss = w.loss(plan, cnt, t, scale);
                    w.backward(plan, params, cnt, Some(&sn), false);
                    std::mem::swap(&mut w.pgrad, grad);
                    loss
                };
                let run = |wi: usize,
                           w: &mut Worker,
                           px: &mut Vec<u8>,
                           grads: &mut [Vec<f32>],
                           losses: &mut [f64]| {
                    for (j, (grad, loss)) in grads.iter_mut().zip(losses).enumerate() {
                        *loss = run_chunk(wi * per_worker + j, w, px, grad);
                    }
                };
                step += 1;
                match &pool {
                    Some(pool) => pool.install(|| {
                        workers
                            .par_iter_mut()
                            .zip(staging.par_iter_mut())
                            .zip(chunk_grads[..chunks].par_chunks_mut(per_worker))
                            .zip(chunk_losses[..chunks].par_chunks_mut(per_worker))
                            .enumerate()
                            .for_each(|(wi, (((w, px), g), l))| run(wi, w, px, g, l))
                    }),
                    None => run(
                        0,
                        &mut workers[0],
                        &mut staging[0],
                        &mut chunk_grads[..chunks],
                        &mut chunk_losses[..chunks],
                    ),
                }
                let loss_sum: f64 = chunk_losses[..chunks].iter().sum();
                // Adam on the sum of the chunks' gradients, added in chunk order.
                let grads = &chunk_grads[..chunks];
                match &pool {
                    Some(pool) => pool.install(|| {
                        self.params
                            .par_chunks_mut(ADAM_CHUNK)
                            .zip(m.par_chunks_mut(ADAM_CHUNK))
                            .zip(v.par_chunks_mut(ADAM_CHUNK))
                            .enumerate()
                            .for_each(|(ci, ((p, m), v))| {
                                adam_step_sum(adam, step, p, grads, ci * ADAM_CHUNK, m, v)
                            })
                    }),
                    None => adam_step_sum(adam, step, &mut self.params, grads, 0, &mut m, &mut v),
                }
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
        self.check_images(&images)?;
        let n = images.len();
        let k = self.spec.num_classes;
        let img_len = self.spec.input.len();
        let mut out = vec![0.0f32; n * k];
        let cap = PREDICT_CHUNK.min(n.max(1));
        let path = active_kernel_path();
        // One contiguous run of chunks per thread: each thread builds its worker (megabytes of
        // buffers) once per call, not once per piece rayon would otherwise split off.
        let per_thread = n
            .div_ceil(cap)
            .div_ceil(rayon::current_num_threads())
            .max(1);
        out.par_chunks_mut(cap * k)
            .zip(images.pixels.par_chunks(cap * img_len))
            .with_min_len(per_thread)
            .for_each_init(
                || Worker::new(&self.plan, cap, false, path),
                |w, (o, px)| {
                    let cnt = px.len() / img_len;
                    w.load_input(px);
                    w.forward(&self.plan, &self.params, cnt, None);
                    w.compute_probs(&self.plan, cnt);
                    o.copy_from_slice(&w.probs[..cnt * k]);
                },
            );
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

    fn class_names(&self) -> &[String] {
        &self.class_names
    }
}

/// Seconds one layer took per training step, measured by [`NativeClassifier::profile`].
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTime {
    pub layer: String,
    pub forward_s: f64,
    pub backward_s: f64,
}

impl NativeClassifier {
    /// Times every layer of a training step (one thread, random inputs, the fastest of `steps`
    /// steps after a warm-up), plus input conversion, loss and the Adam update; seconds.
    pub fn profile(&self, batch: usize, steps: usize) -> Vec<LayerTime> {
        let batch = batch.max(1);
        let steps = steps.max(1);
        let plan = &self.plan;
        let mut params = self.params.clone();
        let mut w = Worker::new(plan, batch, true, active_kernel_path());
        let mut rng = derived_rng(1, PURPOSE_NOISE, 0, 0);
        let pixels: Vec<u8> = (0..batch * self.spec.input.len())
            .map(|_| rng.gen())
            .collect();
        let labels: Vec<u16> = (0..batch)
            .map(|_| rng.gen_range(0..self.spec.num_classes as u16))
            .collect();
        let mut noise: Vec<Vec<f32>> = plan
            .noises
            .iter()
            .map(|k| vec![0.0; k.per_image() * batch])
            .collect();
        let (mut m, mut v) = (vec![0.0; plan.n_params], vec![0.0; plan.n_params]);
        let adam = AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        };
        // Minimum over steps of each part: robust to other processes sharing the cores.
        let mut extra = [f64::INFINITY; 3];
        let mut best = vec![[f64::INFINITY; 2]; plan.ops.len()];
        for s in 0..=steps {
            w.timings = Some(vec![[0.0; 2]; plan.ops.len()]);
            let mut this = [0.0f64; 3];
            let t = Instant::now();
            w.load_input(&pixels);
            sample_noise(plan, batch, &mut rng, &mut noise);
            this[0] = t.elapsed().as_secs_f64();
            let sn = StepNoise {
                buffers: &noise,
                start: 0,
            };
            w.forward(plan, &params, batch, Some(&sn));
            let t = Instant::now();
            w.loss(plan, batch, BatchTargets::Hard(&labels), 1.0 / batch as f32);
            this[1] = t.elapsed().as_secs_f64();
            w.backward(plan, &params, batch, Some(&sn), false);
            let t = Instant::now();
            let grads = std::slice::from_ref(&w.pgrad);
            adam_step_sum(adam, s as u64 + 1, &mut params, grads, 0, &mut m, &mut v);
            this[2] = t.elapsed().as_secs_f64();
            if s > 0 {
                for (e, t) in extra.iter_mut().zip(this) {
                    *e = e.min(t);
                }
                for (b, t) in best
                    .iter_mut()
                    .zip(w.timings.as_ref().into_iter().flatten())
                {
                    b[0] = b[0].min(t[0]);
                    b[1] = b[1].min(t[1]);
                }
            }
        }
        let per = 1.0;
        let mut out: Vec<LayerTime> = vec![LayerTime {
            layer: "input u8->f32, noise".into(),
            forward_s: extra[0] / per,
            backward_s: 0.0,
        }];
        let mut pools = 0;
        for (op, t) in plan.ops.iter().zip(best) {
            let layer = match op {
                net::Op::Conv { wt, .. } => plan.params[*wt]
                    .name
                    .trim_end_matches(".weight")
                    .to_string(),
                net::Op::Dense { wt, .. } => plan.params[*wt]
                    .name
                    .trim_end_matches(".weight")
                    .to_string(),
                net::Op::Pool { .. } => {
                    pools += 1;
                    format!("maxpool{pools}")
                }
                net::Op::Dropout { .. } => "dropout".into(),
                net::Op::AddRelu { .. } => "residual add+relu".into(),
            };
            out.push(LayerTime {
                layer,
                forward_s: t[0] / per,
                backward_s: t[1] / per,
            });
        }
        out.push(LayerTime {
            layer: "softmax cross-entropy".into(),
            forward_s: extra[1] / per,
            backward_s: 0.0,
        });
        out.push(LayerTime {
            layer: "adam".into(),
            forward_s: 0.0,
            backward_s: extra[2] / per,
        });
        out
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
