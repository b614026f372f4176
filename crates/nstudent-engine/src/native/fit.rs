//! One training run of a native model, step by step: the buffers a fit allocates once, and
//! one step on the team: each chunk's gradient (so the bits do not depend on the thread count)
//! and Adam's step on their sum, shared by the threads as `schedule` says.

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Mutex, PoisonError};

use nstudent_core::ImagesRef;

use super::exec::{StepNoise, Worker};
use super::kernels::{AdamConfig, AdamStep, ChunkGradient, Gradients, KernelSet};
use super::plan::Plan;
use super::schedule::{adam_tasks, claim, wait_all, AdamTask, AdamTasks, RaiseOnPanic, Spare};
use super::softmax::BatchTargets;
use super::threads::Team;
use super::{augment_rng, derived_rng, sample_noise, CHUNK, PURPOSE_NOISE};
use crate::{FitOptions, Targets};

/// Everything a fit writes to between its steps, allocated once per fit.
pub(super) struct FitBuffers {
    workers: Vec<Worker>,
    /// Each worker's pixels of its chunk (augmented when the fit augments).
    staging: Vec<Vec<u8>>,
    /// One per chunk of a batch: what its thread publishes to the step's others.
    published: Vec<ChunkGradient>,
    /// One per chunk: the buffers its thread swaps in, and its loss. Only that thread locks it.
    spares: Vec<Mutex<Spare>>,
    /// Adam's tasks, and the order the threads claim them.
    tasks: AdamTasks,
    /// `Plan::head_start`, found once per fit.
    head: usize,
    /// Room for one cell per task: each step's cells reuse it (see `task_cells`).
    cells: Vec<TaskCell<'static>>,
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
        let tasks = adam_tasks(plan);
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
            published: (0..max_chunks).map(|_| ChunkGradient::default()).collect(),
            spares: (0..max_chunks)
                .map(|_| Mutex::new(Spare::new(plan, cap)))
                .collect(),
            cells: Vec::with_capacity(tasks.tasks.len()),
            tasks,
            head: plan.head_start(),
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
    /// One training step on `batch`: the gradient of each chunk at the weights `params`, and
    /// Adam's step `step` (1-based) on their sum, written to `next` (every parameter). Returns
    /// the batch's summed loss.
    pub(super) fn step(
        &self,
        (params, next): (&[f32], &mut [f32]),
        bufs: &mut FitBuffers,
        batch: &Batch<'_>,
        (kernels, adam): (KernelSet, AdamConfig),
        step: u64,
    ) -> f64 {
        let nb = batch.idx.len();
        self.load_targets(bufs, batch.idx);
        if !self.plan.noises.is_empty() {
            let opts = self.options;
            let mut nrng = derived_rng(
                opts.seed,
                PURPOSE_NOISE,
                batch.epoch as u64,
                batch.number as u64,
            );
            sample_noise(self.plan, nb, &mut nrng, &mut bufs.noise);
        }
        let chunks = nb.div_ceil(CHUNK);
        let FitBuffers {
            workers,
            staging,
            published,
            spares,
            tasks,
            head,
            cells,
            m,
            v,
            noise,
            batch_labels,
            batch_soft,
        } = bufs;
        for (chunk, spare) in published.iter_mut().zip(spares.iter_mut()) {
            let spare = spare.get_mut().unwrap_or_else(PoisonError::into_inner);
            spare.reclaim(chunk);
        }
        let (published, spares) = (&published[..chunks], &spares[..chunks]);
        let step_cells = task_cells(&tasks.tasks, std::mem::take(cells), (next, m, v));
        let work = StepWork {
            chunk: ChunkInputs {
                ctx: self,
                params,
                batch,
                noise,
                labels: batch_labels,
                soft: batch_soft,
                head: *head,
            },
            published,
            spares,
            tasks,
            cells: &step_cells,
            next_chunk: AtomicUsize::new(0),
            next_task: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            adam: (kernels, adam.at_step(step)),
        };
        let pieces = workers.iter_mut().zip(staging.iter_mut());
        self.team.run(pieces, |_, (w, px)| work.run(w, px));
        *cells = recycle(step_cells);
        spares
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).loss)
            .sum()
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
}

/// One step's work, shared by the team's threads (see `schedule`).
struct StepWork<'a, 'c> {
    chunk: ChunkInputs<'a>,
    /// What each chunk publishes, and its thread's buffers.
    published: &'a [ChunkGradient],
    spares: &'a [Mutex<Spare>],
    tasks: &'a AdamTasks,
    /// Where each task's parameters and moments are (`'c`: this step's slices of them).
    cells: &'a [TaskCell<'c>],
    next_chunk: AtomicUsize,
    next_task: AtomicUsize,
    /// Raised by a thread that panicked: the others stop waiting for it.
    failed: AtomicBool,
    /// The kernels, and the constants of this Adam step.
    adam: (KernelSet, AdamStep),
}

impl StepWork<'_, '_> {
    /// One thread's share, on worker `w` with pixel buffer `px`: chunks while there are any,
    /// then Adam's tasks, each once the chunks have published what it reads.
    fn run(&self, w: &mut Worker, px: &mut [u8]) {
        let _raise = RaiseOnPanic(&self.failed);
        let chunks = self.published.len();
        while let Some(c) = claim(&self.next_chunk, chunks) {
            self.chunk
                .run(c, w, px, (&self.published[c], &self.spares[c]));
        }
        let order = &self.tasks.order;
        while let Some(k) = claim(&self.next_task, order.len()) {
            if !self.adam_task(order[k]) {
                return;
            }
        }
    }

    /// Adam's task `k`, once the chunks have published what it reads; `false` when a thread
    /// panicked instead.
    fn adam_task(&self, k: usize) -> bool {
        let task = &self.tasks.tasks[k];
        let needs = |c: &ChunkGradient| match task.early {
            true => c.kept.get().is_some(),
            false => c.grad.get().is_some(),
        };
        if !wait_all(self.published, needs, &self.failed) {
            return false;
        }
        let (kernels, adam) = self.adam;
        let grads = Gradients {
            chunks: self.published,
            deferred: &self.chunk.ctx.plan.deferred,
        };
        let mut cell = self.cells[k].lock().unwrap_or_else(PoisonError::into_inner);
        let (p, m, v) = cell.take().expect("each task is claimed once");
        let (r, old) = (task.range.clone(), self.chunk.params);
        let ops = kernels.ops();
        ops.adam_step_sum(adam, &old[r.clone()], p, grads, r.start, m, v);
        true
    }
}

/// The parameters, first moments and second moments one of Adam's tasks writes, in a cell
/// from which the thread that claims the task takes them.
type TaskCell<'a> = Mutex<Option<(&'a mut [f32], &'a mut [f32], &'a mut [f32])>>;

/// `tasks`' slices (in ascending order of parameters) of the step's new parameters and of
/// Adam's moments (`next`, `m`, `v`), one cell per task, in `room`'s allocation.
fn task_cells<'a>(
    tasks: &[AdamTask],
    room: Vec<TaskCell<'static>>,
    (next, m, v): (&'a mut [f32], &'a mut [f32], &'a mut [f32]),
) -> Vec<TaskCell<'a>> {
    let mut cells = recycle(room);
    let mut rest = (next, m, v);
    for task in tasks {
        let len = task.range.len();
        let (p, p_rest) = std::mem::take(&mut rest.0).split_at_mut(len);
        let (m, m_rest) = std::mem::take(&mut rest.1).split_at_mut(len);
        let (v, v_rest) = std::mem::take(&mut rest.2).split_at_mut(len);
        rest = (p_rest, m_rest, v_rest);
        cells.push(Mutex::new(Some((p, m, v))));
    }
    assert!(rest.0.is_empty(), "Adam's tasks cover every parameter");
    cells
}

/// An empty vector of cells of any lifetime on `cells`' allocation: collecting a vector's
/// iterator into a vector of the same layout reuses its buffer (std collects in place), so a
/// fit's steps allocate no cells after the first.
fn recycle<'b>(mut cells: Vec<TaskCell<'_>>) -> Vec<TaskCell<'b>> {
    cells.clear();
    cells
        .into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

/// What computing one chunk's gradient reads: the step's weights, batch, noise and targets.
struct ChunkInputs<'a> {
    ctx: &'a FitContext<'a>,
    params: &'a [f32],
    batch: &'a Batch<'a>,
    noise: &'a [Vec<f32>],
    labels: &'a [u16],
    soft: &'a [f32],
    /// `Plan::head_start`: where the backward pass has kept all the deferred layers need.
    head: usize,
}

impl ChunkInputs<'_> {
    /// Chunk `c`'s gradient on worker `w` (its pixels gathered, and augmented, into `px`),
    /// published in `out`: what the deferred layers kept as soon as the backward pass is
    /// past them, then the gradient vector and the summed loss.
    fn run(&self, c: usize, w: &mut Worker, px: &mut [u8], out: (&ChunkGradient, &Mutex<Spare>)) {
        let (published, spare) = out;
        let ctx = self.ctx;
        let (plan, options, k, img_len) = (ctx.plan, ctx.options, ctx.k, ctx.img_len);
        let (idx, batch) = (self.batch.idx, self.batch);
        let nb = idx.len();
        let s0 = c * CHUNK;
        let s1 = (s0 + CHUNK).min(nb);
        let cnt = s1 - s0;
        for slot in s0..s1 {
            let i = idx[slot];
            let dst = &mut px[(slot - s0) * img_len..(slot - s0 + 1) * img_len];
            match options.augment.as_ref() {
                // One generator per image: the same images whatever the threads.
                Some(aug) => {
                    let mut r = augment_rng(options.seed, batch.epoch, batch.number, slot);
                    aug.apply(ctx.images.image(i), ctx.images.shape, &mut r, dst)
                }
                None => dst.copy_from_slice(ctx.images.image(i)),
            }
        }
        w.load_input(&px[..cnt * img_len]);
        let sn = StepNoise {
            buffers: self.noise,
            start: s0,
        };
        w.forward(plan, self.params, cnt, Some(&sn));
        let t = match ctx.targets {
            Targets::Hard(_) => BatchTargets::Hard(&self.labels[s0..s1]),
            Targets::Soft { .. } => BatchTargets::Soft(&self.soft[s0 * k..s1 * k]),
        };
        let loss = w.loss(plan, cnt, t, 1.0 / nb as f32);
        let mut spare = spare.lock().unwrap_or_else(PoisonError::into_inner);
        let (params, head, len) = (self.params, self.head, plan.ops.len());
        w.backward_ops(plan, params, cnt, Some(&sn), false, head..len);
        std::mem::swap(&mut w.kept, &mut spare.kept);
        let once = published.kept.set(std::mem::take(&mut spare.kept));
        assert!(once.is_ok(), "chunk {c} is computed once per step");
        w.backward_ops(plan, params, cnt, Some(&sn), false, 0..head);
        std::mem::swap(&mut w.pgrad, &mut spare.grad);
        spare.loss = loss;
        let once = published.grad.set(std::mem::take(&mut spare.grad));
        assert!(once.is_ok(), "chunk {c} is computed once per step");
    }
}
