//! The engine benchmark without the CLI:
//! `cargo run --release -p nstudent-engine --example engine_bench -- THREADS [MODELS] [SECONDS]`
//! prints the same keys as `nstudent bench --json`;
//! `... -- profile [BATCH] [H W C]` prints the per-layer time of a one-thread training step.

use nstudent_core::ImageShape;
use nstudent_engine::bench::{run_benchmark, BenchOptions};
use nstudent_engine::{ModelSpec, NativeClassifier, NativeEngine};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: f64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    if args.first().map(String::as_str) == Some("profile") {
        let batch = arg(1, 32.0) as usize;
        let shape = ImageShape::new(
            arg(2, 28.0) as usize,
            arg(3, 28.0) as usize,
            arg(4, 1.0) as usize,
        );
        let model = NativeClassifier::new(&ModelSpec::cnn(shape, 10), 1).expect("model");
        let prof = model.profile(batch, 20);
        let total: f64 = prof.iter().map(|l| l.forward_s + l.backward_s).sum();
        println!(
            "{shape} batch {batch}: {:.2} ms/step, {:.0} images/s on one thread",
            total * 1e3,
            batch as f64 / total
        );
        for l in &prof {
            println!(
                "{:24} fwd {:7.3} ms  bwd {:7.3} ms  {:5.1}%",
                l.layer,
                l.forward_s * 1e3,
                l.backward_s * 1e3,
                100.0 * (l.forward_s + l.backward_s) / total
            );
        }
        return;
    }
    if args.first().map(String::as_str) == Some("fit") {
        // fit BATCH IMAGES THREADS H W C: one training epoch, for `perf stat` CPU-time checks.
        let (batch, n, threads) = (
            arg(1, 32.0) as usize,
            arg(2, 4096.0) as usize,
            arg(3, 1.0) as usize,
        );
        let shape = ImageShape::new(
            arg(4, 28.0) as usize,
            arg(5, 28.0) as usize,
            arg(6, 1.0) as usize,
        );
        let px: Vec<u8> = (0..n * shape.len()).map(|i| (i * 7 % 251) as u8).collect();
        let labels: Vec<u16> = (0..n).map(|i| (i % 10) as u16).collect();
        let mut model = NativeClassifier::new(&ModelSpec::cnn(shape, 10), 1).expect("model");
        let opts = nstudent_engine::FitOptions {
            epochs: 1,
            batch_size: batch,
            threads: nstudent_engine::Threads::resolve(threads),
            ..Default::default()
        };
        let r = nstudent_engine::Classifier::fit(
            &mut model,
            nstudent_core::ImagesRef::new(&px, shape).unwrap(),
            nstudent_engine::Targets::Hard(&labels),
            &opts,
            &mut |_| {},
        )
        .unwrap();
        println!("{:.0} images/s wall", n as f64 / r.seconds);
        return;
    }
    if args.first().map(String::as_str) == Some("save") {
        // save PATH ARCH: a briefly trained model and, on stdout, its probabilities for 4
        // pixel-pattern images (to check `load_nstudent` in bench/pytorch_reference.py).
        let shape = ImageShape::new(28, 28, 1);
        let mut spec = ModelSpec::cnn(shape, 10);
        if args.get(2).map(String::as_str) == Some("res-cnn") {
            spec.arch = nstudent_engine::Arch::ResCnn;
            spec.survival = 0.8;
        }
        spec.width = 0.5;
        let px: Vec<u8> = (0..64 * shape.len()).map(|i| (i * 7 % 251) as u8).collect();
        let labels: Vec<u16> = (0..64).map(|i| (i % 10) as u16).collect();
        let mut model = NativeClassifier::new(&spec, 1).expect("model");
        let view = nstudent_core::ImagesRef::new(&px, shape).unwrap();
        let opts = nstudent_engine::FitOptions {
            epochs: 2,
            ..Default::default()
        };
        nstudent_engine::Classifier::fit(
            &mut model,
            view,
            nstudent_engine::Targets::Hard(&labels),
            &opts,
            &mut |_| {},
        )
        .unwrap();
        nstudent_engine::Classifier::save(&model, std::path::Path::new(&args[1])).unwrap();
        let first = nstudent_core::ImagesRef::new(&px[..4 * shape.len()], shape).unwrap();
        let probs = nstudent_engine::Classifier::predict_proba(&model, first).unwrap();
        println!(
            "{}",
            serde_json::json!({ "pixels": &px[..4 * shape.len()], "probs": probs })
        );
        return;
    }
    if args.first().map(String::as_str) == Some("predict") {
        // predict IMAGES REPEATS H W C: eval-mode throughput on the global thread pool.
        let (n, reps) = (arg(1, 1024.0) as usize, arg(2, 10.0) as usize);
        let shape = ImageShape::new(
            arg(3, 28.0) as usize,
            arg(4, 28.0) as usize,
            arg(5, 1.0) as usize,
        );
        let px: Vec<u8> = (0..n * shape.len()).map(|i| (i * 7 % 251) as u8).collect();
        let model = NativeClassifier::new(&ModelSpec::cnn(shape, 10), 1).expect("model");
        let view = nstudent_core::ImagesRef::new(&px, shape).unwrap();
        let t = std::time::Instant::now();
        for _ in 0..reps {
            nstudent_engine::Classifier::predict_proba(&model, view).unwrap();
        }
        println!(
            "{:.0} images/s wall",
            (n * reps) as f64 / t.elapsed().as_secs_f64()
        );
        return;
    }
    let options = BenchOptions {
        threads: nstudent_engine::Threads::resolve(arg(0, 2.0) as usize),
        models: arg(1, 1.0) as usize,
        seconds: arg(2, 1.0),
        repeats: 3,
    };
    let figures = run_benchmark(&NativeEngine::default(), &options, &mut |f| {
        eprintln!("{:24} {:10.1}", f.key, f.images_per_second)
    })
    .expect("benchmark");
    let obj: serde_json::Map<String, serde_json::Value> = figures
        .iter()
        .map(|f| {
            (
                f.key.clone(),
                serde_json::json!(f.images_per_second.round()),
            )
        })
        .collect();
    println!("{}", serde_json::Value::Object(obj));
}
