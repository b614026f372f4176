//! `nstudent bench`: training and inference throughput of an engine on the study's CNN.

use std::io::Write;

use nstudent_engine::bench::{run_benchmark, BenchOptions};

use super::format::Format;
use crate::failure::usage;

#[derive(clap::Args)]
pub struct Args {
    /// `json`: one JSON object (keys train_28x28x1_b32, ..., infer_32x32x3_b1024, images/s)
    /// instead of a table.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// The same as `--format json` (kept for existing scripts).
    #[arg(long, hide = true)]
    json: bool,
    /// Threads per model; 0 uses every core. Compare with
    /// `python bench/pytorch_reference.py --threads N`.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Engine to measure.
    #[arg(long, value_enum, default_value_t)]
    engine: nstudent_engine::EngineName,
    /// Timed runs per figure (the median is reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Approximate seconds per timed run.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Train this many models side by side (each with --threads threads) and report their
    /// summed training throughput.
    #[arg(long, default_value_t = 1)]
    models: usize,
    /// JSON printed by `python bench/pytorch_reference.py --json` (run just before, same
    /// threads): adds the ratio native / reference for every figure.
    #[arg(long, value_name = "FILE")]
    reference: Option<std::path::PathBuf>,
    /// Instead of the whole benchmark: how much faster one model trains on --threads threads
    /// than on 1, at batch 32 on both shapes, from --repeats rounds of runs back to back (the
    /// median of the rounds' ratios, which a shared machine's slow swings move far less, and
    /// its 95% interval from 6 rounds on), with its ceiling: --threads one-thread models side
    /// by side against one.
    #[arg(long, conflicts_with_all = ["reference", "models"])]
    scaling: bool,
}

/// The numeric figures of a reference run's JSON object.
fn read_reference(
    path: &std::path::Path,
) -> crate::failure::Result<serde_json::Map<String, serde_json::Value>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        crate::failure::Failure::from(e).context(format!("reading {}", path.display()))
    })?;
    match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => usage!(
            "{}: not a JSON object like `python bench/pytorch_reference.py --json` prints",
            path.display()
        ),
    }
}

pub fn run(args: Args) -> crate::failure::Result<()> {
    if args.repeats == 0 {
        usage!("--repeats must be at least 1");
    }
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 600.0) {
        usage!("--seconds must be in (0, 600], got {}", args.seconds);
    }
    if args.models == 0 || args.models > 256 {
        usage!("--models must be in 1..=256, got {}", args.models);
    }
    let reference = match &args.reference {
        Some(p) => Some(read_reference(p)?),
        None => None,
    };
    let ratio = |key: &str, v: f64| -> Option<f64> {
        let r = reference.as_ref()?.get(key)?.as_f64()?;
        (r > 0.0).then(|| v / r)
    };
    let engine = args.engine.engine()?;
    let threads = nstudent_engine::Threads::resolve(args.threads);
    // A budget above the cores runs on the cores (the engine's rule), so compare what runs.
    let cores = nstudent_engine::Threads::all_cores().get();
    if args.scaling && threads.get().min(cores) < 2 {
        usage!(
            "--scaling compares --threads N with 1 thread on N cores: give N of 2 or more, on a machine with 2 cores or more ({cores} here)"
        );
    }
    let threads = if args.scaling {
        nstudent_engine::Threads::resolve(threads.get().min(cores))
    } else {
        threads
    };
    let options = BenchOptions {
        threads,
        repeats: args.repeats,
        seconds: args.seconds,
        models: args.models,
    };
    let json = args.json || args.format == Format::Json;
    let kernels = engine.kernel_path().map_or("none", |p| p.name());
    let device = engine.device();
    if args.scaling {
        return scaling(engine.as_ref(), &options, json);
    }
    let mut stdout = std::io::stdout().lock();
    if !json {
        writeln!(
            stdout,
            "engine {} ({} kernels) on {device}, {threads} thread(s) per model, {} model(s) side by side (images/s)",
            engine.name(),
            kernels,
            args.models
        )?;
    }
    let figures = run_benchmark(engine.as_ref(), &options, &mut |f| {
        if !json {
            let mut line = format!("{:24} {:10.1}", f.key, f.images_per_second);
            if let Some(r) = ratio(&f.key, f.images_per_second) {
                line.push_str(&format!("   {r:5.2}x reference"));
            }
            let _ = writeln!(std::io::stdout(), "{line}");
        }
    })?;
    if json {
        let mut obj = serde_json::Map::new();
        for f in &figures {
            obj.insert(
                f.key.clone(),
                serde_json::Value::from((f.images_per_second * 10.0).round() / 10.0),
            );
        }
        for f in &figures {
            if let Some(r) = ratio(&f.key, f.images_per_second) {
                obj.insert(
                    format!("ratio_{}", f.key),
                    serde_json::Value::from((r * 100.0).round() / 100.0),
                );
            }
        }
        obj.insert("engine".into(), engine.name().into());
        obj.insert("kernels".into(), kernels.into());
        obj.insert("device".into(), device.into());
        obj.insert("threads".into(), threads.get().into());
        obj.insert("models".into(), args.models.into());
        writeln!(stdout, "{}", serde_json::Value::Object(obj))?;
    }
    Ok(())
}

/// The 95% interval of the median of `values` (exact, from order statistics), or `None` with
/// too few rounds for one.
fn median_interval(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let values: Vec<f64> = values.collect();
    nstudent_stats::describe::median_interval(&values, 0.95).map(|i| (i.lower, i.upper))
}

/// `[lo, hi]`, or a note that there are too few rounds for an interval.
fn show_interval(ci: Option<(f64, f64)>) -> String {
    ci.map_or("[fewer than 6 rounds: no interval]".into(), |(lo, hi)| {
        format!("[{lo:.2}, {hi:.2}]")
    })
}

/// `bench --scaling`: one model on `options.threads` threads against 1 thread, batch 32, both
/// shapes.
fn scaling(
    engine: &dyn nstudent_engine::Engine,
    options: &BenchOptions,
    json: bool,
) -> crate::failure::Result<()> {
    let threads = options.threads.get();
    let mut stdout = std::io::stdout().lock();
    let mut obj = serde_json::Map::new();
    if !json {
        writeln!(
            stdout,
            "engine {} ({} kernels) on {}: one model on {threads} threads against 1 thread, batch 32, {} rounds of runs back to back (images/s; ratio: median of the rounds'; ceiling: {threads} one-thread models side by side against one; [95% interval of each median: the rounds' order statistics, exact binomial coverage])",
            engine.name(),
            engine.kernel_path().map_or("none", |p| p.name()),
            engine.device(),
            options.repeats
        )?;
    }
    let round = |v: f64, by: f64| serde_json::Value::from((v * by).round() / by);
    for shape in nstudent_engine::bench::BENCH_SHAPES {
        let s = nstudent_engine::bench::thread_scaling(engine, shape, 32, options)?;
        let key = format!("{shape}_b32");
        let ratio_ci = median_interval(s.rounds.iter().map(|r| r.many / r.one));
        let ceiling_ci = median_interval(s.rounds.iter().map(|r| r.side_by_side / r.one));
        if json {
            let pair = |ci: Option<(f64, f64)>| {
                ci.map_or(serde_json::Value::Null, |(lo, hi)| {
                    serde_json::json!([round(lo, 100.0), round(hi, 100.0)])
                })
            };
            obj.insert(format!("train_{key}_1t"), round(s.one, 10.0));
            obj.insert(format!("train_{key}_{threads}t"), round(s.many, 10.0));
            obj.insert(format!("scaling_{key}"), round(s.ratio, 100.0));
            obj.insert(format!("scaling_{key}_ci"), pair(ratio_ci));
            obj.insert(format!("ceiling_{key}"), round(s.ceiling, 100.0));
            obj.insert(format!("ceiling_{key}_ci"), pair(ceiling_ci));
            let rounds: Vec<_> = s
                .rounds
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "1t": round(r.one, 10.0),
                        format!("{threads}t"): round(r.many, 10.0),
                        format!("{threads}x1t"): round(r.side_by_side, 10.0),
                    })
                })
                .collect();
            obj.insert(format!("rounds_{key}"), serde_json::json!(rounds));
        } else {
            writeln!(
                stdout,
                "train_{key:16} 1 thread {:10.1}   {threads} threads {:10.1}   ratio {:.2}x {}   ceiling {:.2}x {}",
                s.one,
                s.many,
                s.ratio,
                show_interval(ratio_ci),
                s.ceiling,
                show_interval(ceiling_ci)
            )?;
        }
    }
    if json {
        obj.insert("engine".into(), engine.name().into());
        obj.insert(
            "kernels".into(),
            engine.kernel_path().map_or("none", |p| p.name()).into(),
        );
        obj.insert("device".into(), engine.device().into());
        obj.insert("threads".into(), threads.into());
        obj.insert("rounds".into(), options.repeats.into());
        writeln!(stdout, "{}", serde_json::Value::Object(obj))?;
    }
    Ok(())
}
