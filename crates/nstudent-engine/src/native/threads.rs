//! The threads a training or a prediction runs on: exactly its caller's budget.
//!
//! `n` threads are the calling thread and `n - 1` helpers: the work is cut into `n` pieces, the
//! calling thread runs one and the helpers the others, and the call returns when all are done.
//! The helpers are a `micropool` pool that belongs to the calling thread: built at its first
//! use, kept in a thread-local and reused by every later training and prediction from that
//! thread (a study's job is one thread, so each job has its own helpers, built once). One
//! thread starts no helper. Rayon's global pool is never used, so `--jobs 2 --threads 1`
//! keeps two threads busy, not two plus every core.
//!
//! Why the calling thread works instead of waiting: on a 2-core machine a batch of 32 images
//! is two chunks of about 1.5 ms each, and a caller that hands both to a pool and sleeps adds
//! a third runnable thread and two wake-ups per step.
//!
//! Why helpers that spin before they sleep: every training step hands work over twice (the
//! chunks' gradients, then Adam's parameter ranges) and each side then waits for the other,
//! usually for tens of microseconds. A thread that sleeps at once must be woken by the kernel
//! each time, which on this project's 2-core virtual machine took 15 to 50 µs per hand-off
//! with the rayon pool used before (docs/results/engine-threads/, "Third measurement"). Here
//! a waiting thread spins for [`SPIN_CYCLES`] first. Which thread runs which piece can change
//! (a late helper's piece is taken by the caller); the bits cannot, as every piece computes
//! the same numbers wherever it runs.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

use micropool::ThreadPool;
use smallvec::SmallVec;

use crate::{Error, Result};

/// Spin-loop rounds a waiting thread makes before it sleeps: about 0.7 ms on this project's
/// machine, longer than the waits inside a training step (at most a few hundred µs when the
/// two halves of a batch end apart) and short enough that an idle helper sleeps soon after a
/// training ends. Chosen on `bench --scaling` against 3,000 rounds and against rayon's pool
/// (docs/results/engine-threads/, "Third measurement").
const SPIN_CYCLES: usize = 30_000;

/// A thread's cached helpers and their number.
type Helpers = RefCell<Option<(usize, Arc<ThreadPool>)>>;

thread_local! {
    /// The calling thread's helpers.
    static HELPERS: Helpers = const { RefCell::new(None) };
    /// The calling thread's pool for the burn engine.
    #[cfg(feature = "burn")]
    static POOL: RefCell<Option<(usize, Arc<rayon::ThreadPool>)>> = const { RefCell::new(None) };
}

/// `n` helpers named `nstudent-helper-i`, cached in this thread (built, or rebuilt for a new
/// number, when needed).
fn helpers(n: usize) -> Result<Arc<ThreadPool>> {
    HELPERS.with(|cell| {
        let mut cached = cell.borrow_mut();
        if let Some((size, pool)) = cached.as_ref() {
            if *size == n {
                return Ok(Arc::clone(pool));
            }
        }
        // micropool starts its threads with a spawner that cannot return an error: one that
        // fails panics, and the panic becomes this error.
        let pool = catch_unwind(|| {
            micropool::ThreadPoolBuilder::default()
                .num_threads(n)
                .idle_spin_cycles(SPIN_CYCLES)
                .spawn_handler(|i, body| {
                    std::thread::Builder::new()
                        .name(format!("nstudent-helper-{i}"))
                        .spawn(body)
                        .expect("a helper thread starts")
                })
                .build()
        })
        .map_err(|_| Error::Internal(format!("cannot start {n} helper threads")))?;
        let pool = Arc::new(pool);
        *cached = Some((n, Arc::clone(&pool)));
        Ok(pool)
    })
}

/// The compute threads worth starting for a budget of `threads`: never more than this
/// machine's cores (`available_parallelism`, which respects a container's CPU quota). More
/// would only share the same cores, each with megabytes of buffers, and a budget is a
/// maximum: `--threads 100000` must not start 100,000 threads. The bits of every result do not
/// depend on it.
pub(crate) fn usable(threads: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    threads.clamp(1, cores)
}

/// The calling thread's team for a budget of `threads` (at most [`usable`]): itself and its
/// helpers, built or rebuilt for a new size when needed.
pub(crate) fn team(threads: usize) -> Result<Team> {
    let helpers = usable(threads) - 1;
    if helpers == 0 {
        return Ok(Team { helpers: None });
    }
    Ok(Team {
        helpers: Some(self::helpers(helpers)?),
    })
}

/// The calling thread and its helpers (none for one thread).
#[derive(Clone)]
pub(crate) struct Team {
    helpers: Option<Arc<ThreadPool>>,
}

impl Team {
    /// Threads in the team, the calling one included.
    pub(crate) fn size(&self) -> usize {
        self.helpers.as_ref().map_or(1, |p| p.num_threads() + 1)
    }

    /// Runs `work(i, piece)` for each of `pieces` (at most [`Team::size`] of them, so each
    /// thread runs at most one when none is late), on the calling thread and the helpers.
    /// Returns when all are done; a panic in any piece is raised here, after all are done.
    pub(crate) fn run<T: Send>(
        &self,
        pieces: impl IntoIterator<Item = T>,
        work: impl Fn(usize, T) + Sync,
    ) {
        let Some(pool) = &self.helpers else {
            for (i, piece) in pieces.into_iter().enumerate() {
                work(i, piece)
            }
            return;
        };
        // Inline: a training step hands over work without allocating.
        let mut slots: SmallVec<[Option<T>; 8]> = pieces.into_iter().map(Some).collect();
        let panicked: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
        // A panic must not unwind through the pool while helpers may still run pieces that
        // borrow this frame: each piece catches its own, and the first is raised below.
        let leaf = |i: usize, piece: T| {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| work(i, piece))) {
                panicked
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert(payload);
            }
        };
        split_over(pool, &mut slots, 0, &leaf);
        if let Some(payload) = panicked
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
        {
            resume_unwind(payload)
        }
    }
}

/// Runs `leaf(first + i, piece)` for every piece of `slots`, halving the slots over the pool.
fn split_over<T: Send>(
    pool: &ThreadPool,
    slots: &mut [Option<T>],
    first: usize,
    leaf: &(impl Fn(usize, T) + Sync),
) {
    match slots {
        [] => {}
        [one] => {
            if let Some(piece) = one.take() {
                leaf(first, piece)
            }
        }
        _ => {
            let mid = slots.len() / 2;
            let (a, b) = slots.split_at_mut(mid);
            pool.join(
                || split_over(pool, a, first, leaf),
                || split_over(pool, b, first + mid, leaf),
            );
        }
    }
}

/// The calling thread's pool of `threads` workers (at most [`usable`]), one included: for the
/// burn engine's CPU backend, which runs on rayon's current pool for every thread count, so
/// that it never falls back to the global pool.
#[cfg(feature = "burn")]
pub(crate) fn pool_of(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    let n = usable(threads);
    POOL.with(|cell| {
        let mut cached = cell.borrow_mut();
        if let Some((size, pool)) = cached.as_ref() {
            if *size == n {
                return Ok(Arc::clone(pool));
            }
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("nstudent-compute-{i}"))
            .build()
            .map_err(|e| Error::Internal(format!("cannot start {n} threads: {e}")))?;
        let pool = Arc::new(pool);
        *cached = Some((n, Arc::clone(&pool)));
        Ok(pool)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_starts_at_most_one_thread_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(usable(100_000), cores);
        assert_eq!(usable(cores + 1), cores);
        assert_eq!(usable(1), 1);
        assert_eq!(usable(0), 1);
    }

    #[test]
    fn every_piece_runs_once_with_its_index() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let team = team(2).unwrap();
        for n in 0..=5 {
            let runs: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            team.run(0..n, |i, piece| {
                assert_eq!(i, piece, "piece {piece} ran as {i}");
                runs[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(
                runs.iter().all(|r| r.load(Ordering::Relaxed) == 1),
                "{n} pieces"
            );
        }
    }

    #[test]
    fn a_panic_in_a_piece_is_raised_after_every_piece_is_done() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let team = team(2).unwrap();
        for bad in 0..2 {
            let done = AtomicUsize::new(0);
            let result = catch_unwind(AssertUnwindSafe(|| {
                team.run(0..2usize, |i, _| {
                    if i == bad {
                        panic!("piece {i} fails");
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    done.fetch_add(1, Ordering::Relaxed);
                })
            }));
            let payload = result.expect_err("the panic is raised");
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some(format!("piece {bad} fails").as_str())
            );
            assert_eq!(
                done.load(Ordering::Relaxed),
                1,
                "the other piece finished first"
            );
        }
        // The team still works after a panic.
        let sum = AtomicUsize::new(0);
        team.run(1..3usize, |_, x| {
            sum.fetch_add(x, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 3);
    }
}
