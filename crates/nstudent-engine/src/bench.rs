//! Throughput of an engine on the study's original CNN (what `nstudent bench` prints).
//!
//! Training images/s = a whole [`Classifier::fit`](crate::Classifier::fit) epoch (shuffle, batch gathering, forward,
//! backward, Adam) over random images divided by its wall time; median of `repeats` timed runs
//! after a warm-up. Inference images/s = [`Classifier::predict_proba`](crate::Classifier::predict_proba) on one batch of 1024.

use std::time::Instant;

use nstudent_core::{ImageShape, ImagesRef};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Engine, Error, FitOptions, ModelSpec, Result, Targets, Threads};

/// How to run the benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Threads for one training.
    pub threads: Threads,
    /// Timed runs per figure; the median is reported.
    pub repeats: usize,
    /// Approximate seconds per timed training run.
    pub seconds: f64,
    /// Train this many models side by side, each with `threads` threads, and report their
    /// summed throughput (the study trains many models; 1 = one model at a time).
    pub models: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            threads: Threads::all_cores(),
            repeats: 3,
            seconds: 1.0,
            models: 1,
        }
    }
}

/// One measured figure.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchFigure {
    /// `train_28x28x1_b32`, `infer_32x32x3_b1024`, ...
    pub key: String,
    pub images_per_second: f64,
}

/// Shapes the benchmark covers: MNIST-like grey and CIFAR-like colour.
pub const BENCH_SHAPES: [ImageShape; 2] = [ImageShape::new(28, 28, 1), ImageShape::new(32, 32, 3)];

fn random_images(shape: ImageShape, n: usize, seed: u64) -> (Vec<u8>, Vec<u16>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let px = (0..n * shape.len()).map(|_| rng.gen()).collect();
    let labels = (0..n).map(|_| rng.gen_range(0..10)).collect();
    (px, labels)
}

/// Images per second of one epoch over `images` random images, summed over `models` models
/// trained side by side with `threads` threads each.
#[allow(clippy::too_many_arguments)]
fn timed_fit(
    engine: &dyn Engine,
    shape: ImageShape,
    batch: usize,
    threads: Threads,
    models: usize,
    images: usize,
    seed: u64,
) -> Result<f64> {
    let spec = ModelSpec::cnn(shape, 10);
    let (px, labels) = random_images(shape, images, seed);
    let opts = FitOptions {
        epochs: 1,
        batch_size: batch,
        seed,
        threads,
        ..FitOptions::default()
    };
    let models = models.max(1);
    let mut built = (0..models)
        .map(|m| engine.build(&spec, seed + m as u64))
        .collect::<Result<Vec<_>>>()?;
    let t = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = built
            .iter_mut()
            .map(|model| {
                let (px, labels, opts) = (&px, &labels, &opts);
                s.spawn(move || {
                    model.fit(
                        ImagesRef::new(px, shape)?,
                        Targets::Hard(labels),
                        opts,
                        &mut |_| {},
                    )
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| Error::Internal("benchmark thread panicked".into()))??;
        }
        Ok(())
    })?;
    Ok((models * images) as f64 / t.elapsed().as_secs_f64())
}

/// Images per timed run for about `o.seconds` per run at `rate` images/s in all (at least 4
/// batches).
fn run_size(o: &BenchOptions, rate: f64, batch: usize) -> usize {
    ((o.seconds * rate / o.models.max(1) as f64) as usize / batch).max(4) * batch
}

/// Training images per second of the study's CNN on `shape` with batches of `batch`, summed over
/// `o.models` models side by side.
pub fn train_rate(
    engine: &dyn Engine,
    shape: ImageShape,
    batch: usize,
    o: &BenchOptions,
) -> Result<f64> {
    let fit = |images: usize, seed: u64| {
        timed_fit(engine, shape, batch, o.threads, o.models, images, seed)
    };
    // Warm up, and size the timed runs from it.
    let images = run_size(o, fit(batch * 8, 1)?, batch);
    let mut rates = (0..o.repeats.max(1))
        .map(|r| fit(images, 2 + r as u64))
        .collect::<Result<Vec<_>>>()?;
    Ok(median(&mut rates))
}

/// How much faster one model trains on `o.threads` threads than on one, next to what the
/// machine gives work that needs no coordination at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    /// Median images/s on one thread.
    pub one: f64,
    /// Median images/s on `o.threads` threads.
    pub many: f64,
    /// Median over the rounds of (images/s on `o.threads`) / (images/s on one thread).
    pub ratio: f64,
    /// The control: median over the rounds of (images/s of `o.threads` independent models on
    /// one thread each, summed) / (images/s on one thread). No sharing of one model can beat
    /// it: it is what the machine's cores give the same work side by side (shared caches,
    /// memory and clock included).
    pub ceiling: f64,
    /// Every round's images/s, in the order run: for an interval, or to pool rounds of
    /// several runs.
    pub rounds: Vec<ScalingRound>,
}

/// One round of [`thread_scaling`]: images/s of its three runs, made within seconds of
/// each other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalingRound {
    /// One model on 1 thread.
    pub one: f64,
    /// One model on `o.threads` threads.
    pub many: f64,
    /// `o.threads` models on 1 thread each, summed.
    pub side_by_side: f64,
}

/// [`Scaling`] of one model training on `shape` at batch `batch`: `o.repeats` rounds of three
/// timed runs of the same images back to back (one model on 1 thread, one model on
/// `o.threads`, `o.threads` models on 1 thread each; the order rotates), and the medians of the
/// rounds' ratios. On a shared machine whose speed swings over tens of seconds, the runs of a
/// round see about the same machine, so a round's ratio moves far less than the ratio of two
/// separate benchmarks' medians.
pub fn thread_scaling(
    engine: &dyn Engine,
    shape: ImageShape,
    batch: usize,
    o: &BenchOptions,
) -> Result<Scaling> {
    let n = o.threads.get();
    let fit = |threads: Threads, models: usize, images: usize, seed: u64| {
        timed_fit(engine, shape, batch, threads, models, images, seed)
    };
    let one_o = BenchOptions {
        models: 1,
        ..o.clone()
    };
    let images = run_size(&one_o, fit(Threads::ONE, 1, batch * 8, 1)?, batch);
    fit(o.threads, 1, batch * 8, 1)?;
    let mut rounds = Vec::with_capacity(o.repeats.max(1));
    for r in 0..o.repeats.max(1) {
        let seed = 2 + r as u64;
        // [one model on 1 thread, one model on n threads, n models on 1 thread each]
        let mut rates = [0.0f64; 3];
        for k in 0..3 {
            let which = (r + k) % 3;
            rates[which] = match which {
                0 => fit(Threads::ONE, 1, images, seed)?,
                1 => fit(o.threads, 1, images, seed)?,
                _ => fit(Threads::ONE, n, images, seed)?,
            };
        }
        let [one, many, side_by_side] = rates;
        rounds.push(ScalingRound {
            one,
            many,
            side_by_side,
        });
    }
    let med = |f: fn(&ScalingRound) -> f64| median(&mut rounds.iter().map(f).collect::<Vec<_>>());
    Ok(Scaling {
        one: med(|r| r.one),
        many: med(|r| r.many),
        ratio: med(|r| r.many / r.one),
        ceiling: med(|r| r.side_by_side / r.one),
        rounds,
    })
}

/// Prediction images per second of the study's CNN on `shape` with `o.threads` threads, in
/// batches of `batch`.
pub fn infer_rate(
    engine: &dyn Engine,
    shape: ImageShape,
    batch: usize,
    o: &BenchOptions,
) -> Result<f64> {
    let mut model = engine.build(&ModelSpec::cnn(shape, 10), 1)?;
    model.set_threads(o.threads);
    let (px, _) = random_images(shape, batch, 3);
    let images = ImagesRef::new(&px, shape)?;
    model.predict_proba(images)?;
    let mut rates = Vec::new();
    for _ in 0..o.repeats.max(1) {
        let t = Instant::now();
        let mut done = 0;
        while t.elapsed().as_secs_f64() < o.seconds * 0.5 || done == 0 {
            model.predict_proba(images)?;
            done += batch;
        }
        rates.push(done as f64 / t.elapsed().as_secs_f64());
    }
    Ok(median(&mut rates))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Runs the whole benchmark; `on_figure` sees each figure as soon as it is measured.
pub fn run_benchmark(
    engine: &dyn Engine,
    options: &BenchOptions,
    on_figure: &mut dyn FnMut(&BenchFigure),
) -> Result<Vec<BenchFigure>> {
    let mut out = Vec::new();
    let mut push = |key: String, v: f64, out: &mut Vec<BenchFigure>| {
        let f = BenchFigure {
            key,
            images_per_second: v,
        };
        on_figure(&f);
        out.push(f);
    };
    for shape in BENCH_SHAPES {
        for batch in [32, 128] {
            let v = train_rate(engine, shape, batch, options)?;
            push(format!("train_{shape}_b{batch}"), v, &mut out);
        }
    }
    for shape in BENCH_SHAPES {
        let v = infer_rate(engine, shape, 1024, options)?;
        push(format!("infer_{shape}_b1024"), v, &mut out);
    }
    Ok(out)
}
