//! How the threads of one training step share its work, with the bits of a fixed order.
//!
//! A step is the gradients of its chunks (16 images each) and Adam's step on their sum. Both
//! are cut into pieces that any thread may run, claimed from a counter by whichever thread is
//! free: first the chunks, then Adam's tasks (ranges of parameters). A chunk publishes what
//! Adam needs as soon as it has it (a [`ChunkGradient`]): the deferred dense layers' inputs and
//! output gradients once its backward pass is past them, and its gradient vector at the end.
//! Adam's tasks on the deferred layers' weights, most of the parameters, wait only for the
//! former, so a thread that finishes its chunk early updates them while the other still runs
//! the convolutions' backward pass: neither waits for the slower one at the end of the
//! gradients, and the step forks once. The sums are the same whatever thread runs which piece:
//! each chunk's gradient is computed by one thread, and Adam adds the chunks in chunk order,
//! parameter by parameter.
//!
//! No thread waits for a piece that no thread runs: a thread claims Adam's tasks only after
//! every chunk is claimed, and a claimed chunk is being computed by a running thread, which
//! waits for nothing until it is done. So a pool that ran the pieces one after another would
//! still finish.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::kernels::{ChunkGradient, DenseInputs};
use super::plan::Plan;

/// Adam's tasks per deferred layer: small enough that the threads end their last tasks
/// within about 15 µs of each other on the study's CNN (one task is about 13,000 weights).
const EARLY_TASKS_PER_LAYER: usize = 32;
/// Rows of a deferred layer's weights per task are a multiple of this, so that each task is
/// whole blocks of Adam's kernel (1024 weights when a row is 128).
const TASK_ROWS: usize = 8;
/// Parameters per task outside the deferred layers' weights (the last of a range fewer).
const LATE_TASK: usize = 8192;
/// Checks of a chunk before a waiting thread starts yielding its core (a few microseconds):
/// on a loaded machine the thread it waits for may need that core.
const SPINS: u32 = 4096;

/// A chunk's buffers while its thread computes it: last step's published ones, swapped for
/// the worker's before publishing them, so that no step allocates; and the chunk's loss.
pub(super) struct Spare {
    pub grad: Vec<f32>,
    pub kept: Vec<DenseInputs>,
    /// The chunk's summed loss.
    pub loss: f64,
}

impl Spare {
    /// Buffers for chunks of up to `cap` images of `plan`.
    pub fn new(plan: &Plan, cap: usize) -> Self {
        Spare {
            grad: vec![0.0; plan.n_params],
            kept: plan
                .deferred
                .iter()
                .map(|d| DenseInputs::new(d, cap))
                .collect(),
            loss: 0.0,
        }
    }

    /// Takes back what the last step published in `chunk`, as the next step's buffers.
    pub fn reclaim(&mut self, chunk: &mut ChunkGradient) {
        let (grad, kept) = chunk.take();
        if let Some(grad) = grad {
            self.grad = grad;
        }
        if let Some(kept) = kept {
            self.kept = kept;
        }
    }
}

/// A range of parameters that Adam's step updates as one piece of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AdamTask {
    pub range: Range<usize>,
    /// Inside a deferred layer's weights: needs every chunk's `kept`, not its gradient.
    pub early: bool,
}

/// Adam's tasks for one plan: every parameter in exactly one, and the order threads claim them.
pub(super) struct AdamTasks {
    /// In ascending order of parameters.
    pub tasks: Vec<AdamTask>,
    /// Indices into `tasks`, the deferred layers' weights first.
    pub order: Vec<usize>,
}

/// Adam's tasks for `plan`.
pub(super) fn adam_tasks(plan: &Plan) -> AdamTasks {
    let mut tasks = Vec::new();
    let mut pos = 0;
    for d in &plan.deferred {
        cut(pos..d.offset, LATE_TASK, false, &mut tasks);
        let rows = d
            .nin
            .div_ceil(EARLY_TASKS_PER_LAYER)
            .next_multiple_of(TASK_ROWS);
        cut(d.range(), rows * d.nout, true, &mut tasks);
        pos = d.range().end;
    }
    cut(pos..plan.n_params, LATE_TASK, false, &mut tasks);
    let (early, late): (Vec<usize>, Vec<usize>) = (0..tasks.len()).partition(|&i| tasks[i].early);
    AdamTasks {
        tasks,
        order: early.into_iter().chain(late).collect(),
    }
}

/// `range` cut into tasks of `size` parameters (the last fewer), into `out`.
fn cut(range: Range<usize>, size: usize, early: bool, out: &mut Vec<AdamTask>) {
    let mut start = range.start;
    while start < range.end {
        let end = (start + size).min(range.end);
        out.push(AdamTask {
            range: start..end,
            early,
        });
        start = end;
    }
}

/// The next of `count` pieces from `counter`, or `None` when all are claimed.
pub(super) fn claim(counter: &AtomicUsize, count: usize) -> Option<usize> {
    let i = counter.fetch_add(1, Ordering::Relaxed);
    (i < count).then_some(i)
}

/// Waits until `ready` holds for every chunk; `false` when another thread of the step
/// panicked (`failed`), which the step then raises.
pub(super) fn wait_all(
    chunks: &[ChunkGradient],
    ready: impl Fn(&ChunkGradient) -> bool,
    failed: &AtomicBool,
) -> bool {
    for chunk in chunks {
        let mut spins = 0u32;
        while !ready(chunk) {
            if failed.load(Ordering::Acquire) {
                return false;
            }
            if spins < SPINS {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
    true
}

/// Raises `failed` when dropped by a panicking thread, so that the step's other threads stop
/// waiting for what it would have published.
pub(super) struct RaiseOnPanic<'a>(pub &'a AtomicBool);

impl Drop for RaiseOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::kernels::{KernelSet, Plain};
    use super::*;
    use crate::ModelSpec;
    use nstudent_core::ImageShape;

    fn small_plan() -> Plan {
        Plan::new(
            &ModelSpec::cnn(ImageShape::new(8, 8, 1), 3),
            KernelSet::Plain(Plain),
        )
    }

    #[test]
    fn tasks_cover_every_parameter_once_deferred_weights_first() {
        use super::super::kernels::DeferredDense;
        let mut plan = small_plan();
        plan.n_params = 100_000;
        plan.deferred = vec![DeferredDense {
            offset: 1000,
            nin: 300,
            nout: 128,
        }];
        let AdamTasks { tasks, order } = adam_tasks(&plan);
        let claimed: Vec<&AdamTask> = order.iter().map(|&i| &tasks[i]).collect();
        let early = claimed.iter().take_while(|t| t.early).count();
        assert!(claimed[early..].iter().all(|t| !t.early));
        assert_eq!(claimed[0].range.start, 1000);
        assert_eq!(claimed[early - 1].range.end, 1000 + 300 * 128);
        for t in &claimed[..early] {
            assert_eq!((t.range.start - 1000) % (TASK_ROWS * 128), 0, "{t:?}");
        }
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            (0..tasks.len()).collect::<Vec<_>>(),
            "each task once"
        );
        let mut pos = 0;
        for t in &tasks {
            assert_eq!(t.range.start, pos);
            assert!(!t.range.is_empty());
            pos = t.range.end;
        }
        assert_eq!(pos, plan.n_params);
    }

    #[test]
    fn a_wait_ends_when_another_thread_panicked() {
        let chunks = [ChunkGradient::default()];
        let failed = AtomicBool::new(false);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| wait_all(&chunks, |c| c.grad.get().is_some(), &failed));
            let crashed = s.spawn(|| {
                let _raise = RaiseOnPanic(&failed);
                panic!("a chunk failed");
            });
            assert!(crashed.join().is_err());
            assert!(!waiter.join().unwrap(), "the waiter saw the panic");
        });
    }

    #[test]
    fn a_wait_ends_when_every_chunk_is_published_in_any_order() {
        let chunks = [ChunkGradient::default(), ChunkGradient::default()];
        let failed = AtomicBool::new(false);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let all = wait_all(&chunks, |c| c.grad.get().is_some(), &failed);
                (all, chunks[0].grad()[0] + chunks[1].grad()[0])
            });
            s.spawn(|| {
                chunks[1].grad.set(vec![2.0]).unwrap();
                chunks[0].grad.set(vec![1.0]).unwrap();
            });
            assert_eq!(waiter.join().unwrap(), (true, 3.0));
        });
    }
}
