//! The thread budget holds: a prediction with one thread runs on the calling thread and starts
//! none; `n` threads are the calling thread and `n - 1` helpers, started once and reused, and
//! training reuses the same helpers. The only test of this binary, so no other test starts threads meanwhile
//! (threads are counted in /proc/self/task, Linux only).

use nstudent_core::{ImageShape, ImagesRef};
use nstudent_engine::{Engine, FitOptions, ModelSpec, NativeEngine, Targets, Threads};

/// Threads of this process now.
#[cfg(target_os = "linux")]
fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn predictions_and_trainings_use_the_threads_they_are_given() {
    let shape = ImageShape::new(12, 12, 1);
    let spec = ModelSpec::cnn(shape, 3);
    let n = 96;
    let pixels: Vec<u8> = (0..n * shape.len()).map(|i| (i * 31 % 251) as u8).collect();
    let labels: Vec<u16> = (0..n).map(|i| (i % 3) as u16).collect();
    let images = ImagesRef::new(&pixels, shape).unwrap();
    let mut model = NativeEngine::default().build(&spec, 1).unwrap();

    let before = threads_now();
    // A model built for every core, asked for one thread by its caller (the Python package's
    // `predict_proba(X, threads=1)`).
    let one_on = model.predict_proba_on(images, Threads::ONE).unwrap();
    assert_eq!(
        threads_now(),
        before,
        "a prediction on one thread by the caller's budget started threads"
    );
    model.set_threads(Threads::ONE);
    let one = model.predict_proba(images).unwrap();
    assert_eq!(
        threads_now(),
        before,
        "a 1-thread prediction started threads"
    );
    assert_eq!(one, one_on, "the same probabilities either way");

    model.set_threads(Threads::new(2).unwrap());
    let two = model.predict_proba(images).unwrap();
    assert_eq!(
        threads_now(),
        before + 1,
        "a 2-thread prediction: the calling thread and one helper"
    );
    model.predict_proba(images).unwrap();
    assert_eq!(
        threads_now(),
        before + 1,
        "the helper is reused, not started again"
    );
    assert!(
        one.iter()
            .zip(&two)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "the same bits on 1 and 2 threads"
    );

    let options = FitOptions {
        epochs: 1,
        batch_size: 32,
        threads: Threads::new(2).unwrap(),
        ..FitOptions::default()
    };
    model
        .fit(images, Targets::Hard(&labels), &options, &mut |_| {})
        .unwrap();
    assert_eq!(
        threads_now(),
        before + 1,
        "training reuses this thread's helper"
    );

    // From another thread (a study's second job), one thread: still no new thread but its own.
    let spawned = std::thread::scope(|s| {
        s.spawn(|| {
            let mut m = NativeEngine::default().build(&spec, 2).unwrap();
            m.set_threads(Threads::ONE);
            let during = threads_now();
            m.predict_proba(images).unwrap();
            threads_now() - during
        })
        .join()
        .unwrap()
    });
    assert_eq!(
        spawned, 0,
        "a 1-thread prediction on a job's thread started threads"
    );
}
