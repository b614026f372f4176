//! One training run of a native model, step by step: the buffers a fit allocates once, the
//! gradient of one batch over the workers (chunk by chunk, so the bits do not depend on the
//! thread count), and Adam's step on the chunks' summed gradients.

use nstudent_core::ImagesRef;

use super::exec::{StepNoise, Worker};
use super::kernels::{AdamConfig, DenseInputs, Gradients, KernelSet};
use super::plan::Plan;
use super::softmax::BatchTargets;
use super::threads::Team;
use super::{augment_rng, derived_rng, sample_noise, CHUNK, PURPOSE_NOISE};
use crate::{FitOptions, Targets};

/// Everything a fit writes to between its steps, allocated once per fit.
pub(super) struct FitBuffers {
    workers: Vec<Worker>,
    /// Each worker's pixels of its chunk (augmented when the fit augments).
    staging: Vec<Vec<u8>>,
    /// One gradient buffer per chunk of a batch, summed in chunk order by Adam.
    chunk_grads: Vec<Vec<f32>>,
    /// Per chunk, what its backward pass kept of each deferred layer (`Plan::deferred`).
    chunk_kept: Vec<Vec<DenseInputs>>,
    /// Each chunk's summed loss.
    chunk_losses: Vec<f64>,
    /// Adam's first and second moments, one per parameter.
    m: Vec<f32>,
    v: Vec<f32>,
    /// The dropout and stochastic-depth masks of the batch.
    noise: Vec<Vec<f32>>,
    batch_labels: Vec<u16>,
    batch_soft: Vec<f32>,
}

/// One batch of a fit: its rows of the training data, in order, and where it stands.
pub(super) struct Batch<'a> {
    pub idx: &'a [usize],
    pub epoch: usize,
    /// The batch's number within its epoch (0-based).
    pub number: usize,
}

/// What every step of one fit shares.
pub(super) struct FitContext<'a> {
    pub plan: &'a Plan,
    pub images: ImagesRef<'a>,
    pub targets: Targets<'a>,
    pub options: &'a FitOptions,
    /// The calling thread and its helpers, `n_workers` threads in all.
    pub team: Team,
    pub n_workers: usize,
    /// Classes, and bytes of one image.
    pub k: usize,
    pub img_len: usize,
}

impl FitBuffers {
    /// Buffers for batches of up to `batch` images and `n_workers` workers.
    pub(super) fn new(ctx: &FitContext<'_>, batch: usize) -> Self {
        let (plan, k, img_len) = (ctx.plan, ctx.k, ctx.img_len);
        let max_chunks = batch.div_ceil(CHUNK);
        let cap = CHUNK.min(batch);
        let workers: Vec<Worker> = (0..ctx.n_workers)
            .map(|_| {
                let mut w = Worker::new(plan, cap, true);
                w.defer = true;
                w
            })
            .collect();
        let staging = workers.iter().map(|w| vec![0u8; w.cap * img_len]).collect();
        FitBuffers {
            workers,
            staging,
            chunk_grads: vec![vec![0.0; plan.n_params]; max_chunks],
            chunk_kept: (0..max_chunks)
                .map(|_| {
                    plan.deferred
                        .iter()
                        .map(|d| DenseInputs::new(d, cap))
                        .collect()
                })
                .collect(),
            chunk_losses: vec![0.0f64; max_chunks],
            m: vec![0.0f32; plan.n_params],
            v: vec![0.0f32; plan.n_params],
            noise: plan
                .noises
                .iter()
                .map(|k| vec![0.0; k.per_image() * batch])
                .collect(),
            batch_labels: vec![0u16; batch],
            batch_soft: vec![0.0f32; batch * k],
        }
    }
}

impl FitContext<'_> {
    /// The summed loss of `batch` and, in the buffers, the gradient of each of its chunks
    /// (the weights are not changed). The workers gather (and augment) the pixels.
    pub(super) fn batch_gradients(
        &self,
        params: &[f32],
        bufs: &mut FitBuffers,
        batch: &Batch<'_>,
    ) -> f64 {
        let (plan, options, k, img_len) = (self.plan, self.options, self.k, self.img_len);
        let idx = batch.idx;
        let nb = idx.len();
        self.load_targets(bufs, idx);
        if !plan.noises.is_empty() {
            let mut nrng = derived_rng(
                options.seed,
                PURPOSE_NOISE,
                batch.epoch as u64,
                batch.number as u64,
            );
            sample_noise(plan, nb, &mut nrng, &mut bufs.noise);
        }
        let scale = 1.0 / nb as f32;
        let chunks = nb.div_ceil(CHUNK);
        // Worker wi computes chunks [wi * per_worker, (wi + 1) * per_worker).
        let per_worker = chunks.div_ceil(self.n_workers);
        let is_hard = matches!(self.targets, Targets::Hard(_));
        let augment = options.augment.as_ref();
        let images = self.images;
        let (noise, batch_labels, batch_soft) = (&bufs.noise, &bufs.batch_labels, &bufs.batch_soft);
        // The gradient of chunk `c` into `grad`; returns the chunk's summed loss.
        let run_chunk =
            |c: usize,
             w: &mut Worker,
             px: &mut [u8],
             (grad, kept): (&mut Vec<f32>, &mut Vec<DenseInputs>)| {
                let s0 = c * CHUNK;
                let s1 = (s0 + CHUNK).min(nb);
                let cnt = s1 - s0;
                for slot in s0..s1 {
                    let i = idx[slot];
                    let dst = &mut px[(slot - s0) * img_len..(slot - s0 + 1) * img_len];
                    match augment {
                        // One generator per image: the same images whatever the threads.
                        Some(aug) => {
                            let mut r = augment_rng(options.seed, batch.epoch, batch.number, slot);
                            aug.apply(images.image(i), images.shape, &mut r, dst)
                        }
                        None => dst.copy_from_slice(images.image(i)),
                    }
                }
                w.load_input(&px[..cnt * img_len]);
                let sn = StepNoise {
                    buffers: noise,
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
                std::mem::swap(&mut w.kept, kept);
                loss
            };
        let run = |wi: usize,
                   w: &mut Worker,
                   px: &mut Vec<u8>,
                   (grads, kept): (&mut [Vec<f32>], &mut [Vec<DenseInputs>]),
                   losses: &mut [f64]| {
            let outs = grads.iter_mut().zip(kept.iter_mut()).zip(losses);
            for (j, ((grad, kept), loss)) in outs.enumerate() {
                *loss = run_chunk(wi * per_worker + j, w, px, (grad, kept));
            }
        };
        let FitBuffers {
            workers,
            staging,
            chunk_grads,
            chunk_kept,
            chunk_losses,
            ..
        } = bufs;
        // Worker `wi` runs on thread `wi` of the team (the calling thread for worker 0).
        let pieces = workers
            .iter_mut()
            .zip(staging.iter_mut())
            .zip(chunk_grads[..chunks].chunks_mut(per_worker))
            .zip(chunk_kept[..chunks].chunks_mut(per_worker))
            .zip(chunk_losses[..chunks].chunks_mut(per_worker));
        self.team.run(pieces, |wi, ((((w, px), g), k), l)| {
            run(wi, w, px, (g, k), l)
        });
        chunk_losses[..chunks].iter().sum()
    }

    /// The targets of the batch's rows, into the buffers.
    fn load_targets(&self, bufs: &mut FitBuffers, idx: &[usize]) {
        let k = self.k;
        for (slot, &i) in idx.iter().enumerate() {
            match self.targets {
                Targets::Hard(l) => bufs.batch_labels[slot] = l[i],
                Targets::Soft { probs, .. } => bufs.batch_soft[slot * k..(slot + 1) * k]
                    .copy_from_slice(&probs[i * k..(i + 1) * k]),
            }
        }
    }

    /// Adam's step `step` (1-based) on the sum of the first `chunks` chunks' gradients, added
    /// in chunk order, split over the pool by parameter ranges (each parameter's update is
    /// the same whatever the split).
    pub(super) fn adam_step(
        &self,
        params: &mut [f32],
        bufs: &mut FitBuffers,
        (kernels, adam): (KernelSet, AdamConfig),
        step: u64,
        chunks: usize,
    ) {
        let grads = Gradients {
            chunks: &bufs.chunk_grads[..chunks],
            deferred: &self.plan.deferred,
            kept: &bufs.chunk_kept[..chunks],
        };
        let (m, v) = (&mut bufs.m, &mut bufs.v);
        // Thread `i` updates the `i`-th range of parameters, the same range every step, so its
        // moments stay in its core's cache.
        let per = params.len().div_ceil(self.team.size()).div_ceil(ADAM_ALIGN) * ADAM_ALIGN;
        let ops = kernels.ops();
        let pieces = params
            .chunks_mut(per)
            .zip(m.chunks_mut(per))
            .zip(v.chunks_mut(per));
        self.team.run(pieces, |i, ((p, m), v)| {
            ops.adam_step_sum(adam, step, p, grads, i * per, m, v)
        });
    }
}

/// Parameters per Adam range are a multiple of this, so every range starts on a vector
/// boundary of the kernels (for speed: each parameter's update is element-wise,
/// the same whatever the split).
const ADAM_ALIGN: usize = 1024;
