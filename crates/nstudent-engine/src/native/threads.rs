//! The threads a training or a prediction runs on: exactly its caller's budget.
//!
//! `n` threads are the calling thread and `n - 1` helpers: the work is cut into `n` pieces, the
//! calling thread runs the first and the helpers the others, and the call returns when all are
//! done. The helpers are a rayon pool that belongs to the calling thread: built at its first
//! use, kept in a thread-local and reused by every later training and prediction from that
//! thread (a study's job is one thread, so each job has its own helpers, built once). One
//! thread starts no helper. Rayon's global pool is never used, so `--jobs 2 --threads 1`
//! keeps two threads busy, not two plus every core.
//!
//! Why the calling thread works instead of waiting: on a 2-core machine a batch of 32 images
//! is two chunks of about 1.5 ms each, and a caller that hands both to a pool and sleeps adds
//! a third runnable thread and two wake-ups per step. Piece `i` also always runs on the same
//! thread (the caller, or helper `i - 1` when helpers are one), so its buffers stay in that
//! core's cache from one step to the next.

use std::cell::RefCell;
use std::sync::Arc;

use rayon::ThreadPool;

use crate::{Error, Result};

/// A thread's cached pool and its size.
type Cached = RefCell<Option<(usize, Arc<ThreadPool>)>>;

thread_local! {
    /// The calling thread's helpers.
    static HELPERS: Cached = const { RefCell::new(None) };
    /// The calling thread's pool for the burn engine.
    #[cfg(feature = "burn")]
    static POOL: Cached = const { RefCell::new(None) };
}

/// The pool of `n` threads named `name-i` in `cache` (built, or rebuilt for a new size, when
/// needed).
fn cached_pool(
    cache: &'static std::thread::LocalKey<Cached>,
    n: usize,
    name: &'static str,
) -> Result<Arc<ThreadPool>> {
    cache.with(|cell| {
        let mut cached = cell.borrow_mut();
        if let Some((size, pool)) = cached.as_ref() {
            if *size == n {
                return Ok(Arc::clone(pool));
            }
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(move |i| format!("{name}-{i}"))
            .build()
            .map_err(|e| Error::Internal(format!("cannot start {n} threads: {e}")))?;
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
        helpers: Some(cached_pool(&HELPERS, helpers, "nstudent-helper")?),
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
        self.helpers
            .as_ref()
            .map_or(1, |p| p.current_num_threads() + 1)
    }

    /// Runs `work(i, piece)` for each of `pieces` (at most [`Team::size`] of them, so each
    /// thread runs at most one): the first on the calling thread, the others on the helpers.
    /// Returns when all are done; a panic in any piece is raised here.
    pub(crate) fn run<T: Send>(
        &self,
        pieces: impl IntoIterator<Item = T>,
        work: impl Fn(usize, T) + Sync,
    ) {
        let mut pieces = pieces.into_iter().enumerate();
        let Some((_, first)) = pieces.next() else {
            return;
        };
        match &self.helpers {
            None => {
                work(0, first);
                for (i, piece) in pieces {
                    work(i, piece)
                }
            }
            Some(pool) => {
                let work = &work;
                pool.in_place_scope(|s| {
                    for (i, piece) in pieces {
                        s.spawn(move |_| work(i, piece));
                    }
                    work(0, first)
                })
            }
        }
    }
}

/// The calling thread's pool of `threads` workers (at most [`usable`]), one included: for the
/// burn engine's CPU backend, which runs on rayon's current pool for every thread count, so
/// that it never falls back to the global pool.
#[cfg(feature = "burn")]
pub(crate) fn pool_of(threads: usize) -> Result<Arc<ThreadPool>> {
    cached_pool(&POOL, usable(threads), "nstudent-compute")
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
        use std::panic::{catch_unwind, AssertUnwindSafe};
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
