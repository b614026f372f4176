//! The threads a training or a prediction runs on: exactly its caller's budget.
//!
//! One thread runs on the calling thread itself, with no pool at all. More run on a rayon pool
//! of exactly that many workers that belongs to the calling thread: built at its first use,
//! kept in a thread-local and reused by every later training and prediction from that thread
//! (a study's job is one thread, so each job has its own pool, built once). Rayon's global
//! pool is never used, so `--jobs 2 --threads 1` keeps two threads busy, not two plus every
//! core.

use std::cell::RefCell;
use std::sync::Arc;

use rayon::ThreadPool;

use crate::{Error, Result};

thread_local! {
    /// The calling thread's pool and its size.
    static POOL: RefCell<Option<(usize, Arc<ThreadPool>)>> = const { RefCell::new(None) };
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

/// The calling thread's pool of `threads` workers, at most [`usable`] (built, or rebuilt for a
/// new size, when needed); `None` for one thread: the work then runs on the calling thread.
pub(crate) fn pool(threads: usize) -> Result<Option<Arc<ThreadPool>>> {
    if usable(threads) <= 1 {
        return Ok(None);
    }
    pool_of(threads).map(Some)
}

/// The calling thread's pool of `threads` workers (at most [`usable`]), one included: for code
/// that uses
/// rayon's current pool for every thread count (the burn engine's CPU backend), so that it
/// never falls back to the global pool.
#[cfg_attr(not(feature = "burn"), allow(dead_code))]
pub(crate) fn pool_of(threads: usize) -> Result<Arc<ThreadPool>> {
    let threads = usable(threads);
    POOL.with(|cell| {
        let mut cached = cell.borrow_mut();
        if let Some((n, pool)) = cached.as_ref() {
            if *n == threads {
                return Ok(Arc::clone(pool));
            }
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("nstudent-compute-{i}"))
            .build()
            .map_err(|e| Error::Internal(format!("cannot start {threads} worker threads: {e}")))?;
        let pool = Arc::new(pool);
        *cached = Some((threads, Arc::clone(&pool)));
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
}
