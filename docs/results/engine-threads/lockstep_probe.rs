//! Probe (2026-12-08, not part of the build): two one-thread models side by side, free or in
//! lock-step (a spin barrier after every step, in their progress callbacks), against one model
//! on 1 and on 2 threads, 28x28x1, batch 32, 4,096 images a run. To run it, copy this file to
//! crates/nstudent-engine/examples/ and `cargo run --release -p nstudent-engine --example
//! lockstep_probe`. Output (run between 03:58 and 04:04 UTC on 2026-12-08): lockstep-probe.txt.
use nstudent_core::ImageShape;
use nstudent_engine::{Classifier, ModelSpec, NativeClassifier};
use std::sync::atomic::{AtomicUsize, Ordering};

struct SpinBarrier { count: AtomicUsize, gen: AtomicUsize }
impl SpinBarrier {
    fn wait(&self) {
        let g = self.gen.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) == 1 {
            self.count.store(0, Ordering::Relaxed);
            self.gen.fetch_add(1, Ordering::Release);
        } else {
            while self.gen.load(Ordering::Acquire) == g { std::hint::spin_loop(); }
        }
    }
}

fn run(shape: ImageShape, n: usize, lock: bool) -> f64 {
    let px: Vec<u8> = (0..n * shape.len()).map(|i| (i * 7 % 251) as u8).collect();
    let labels: Vec<u16> = (0..n).map(|i| (i % 10) as u16).collect();
    let bar = SpinBarrier { count: AtomicUsize::new(0), gen: AtomicUsize::new(0) };
    let t = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (px, labels, bar) = (&px, &labels, &bar);
            s.spawn(move || {
                let mut model = NativeClassifier::new(&ModelSpec::cnn(shape, 10), 1).unwrap();
                let opts = nstudent_engine::FitOptions { epochs: 1, batch_size: 32, threads: nstudent_engine::Threads::resolve(1), ..Default::default() };
                model.fit(nstudent_core::ImagesRef::new(px, shape).unwrap(), nstudent_engine::Targets::Hard(labels), &opts, &mut |_| if lock { bar.wait() }).unwrap();
            });
        }
    });
    (2 * n) as f64 / t.elapsed().as_secs_f64()
}

fn one(shape: ImageShape, n: usize, threads: usize) -> f64 {
    let px: Vec<u8> = (0..n * shape.len()).map(|i| (i * 7 % 251) as u8).collect();
    let labels: Vec<u16> = (0..n).map(|i| (i % 10) as u16).collect();
    let mut model = NativeClassifier::new(&ModelSpec::cnn(shape, 10), 1).unwrap();
    let opts = nstudent_engine::FitOptions { epochs: 1, batch_size: 32, threads: nstudent_engine::Threads::resolve(threads), ..Default::default() };
    let t = std::time::Instant::now();
    model.fit(nstudent_core::ImagesRef::new(&px, shape).unwrap(), nstudent_engine::Targets::Hard(&labels), &opts, &mut |_| {}).unwrap();
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let shape = ImageShape::new(28, 28, 1);
    let n = 4096;
    for round in 0..6 {
        let a = one(shape, n, 1);
        let f = run(shape, n, false);
        let l = run(shape, n, true);
        let b = one(shape, n, 2);
        println!("round {round}: 1t {a:.0}  2x1 free {f:.0} ({:.2})  2x1 lockstep {l:.0} ({:.2})  1 model 2t {b:.0} ({:.2})", f / a, l / a, b / a);
    }
}
