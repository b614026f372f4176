//! The burn engine's CPU backend keeps the thread budget too: its kernels run on rayon's
//! current pool, so a fit and a prediction run on the calling thread's pool of exactly the
//! threads they are given, built once and reused, and never on rayon's global pool (which
//! would take every core). The only test of this binary, so no other test starts threads
//! meanwhile (threads are counted in /proc/self/task, Linux only).
#![cfg(all(feature = "burn", target_os = "linux"))]

use nstudent_core::{ImageShape, ImagesRef};
use nstudent_engine::{BurnBackend, BurnEngine, Engine, FitOptions, ModelSpec, Targets, Threads};

/// Threads of this process now.
fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .count()
}

#[test]
fn burn_on_the_cpu_uses_the_threads_it_is_given_and_reuses_its_pool() {
    let shape = ImageShape::new(12, 12, 1);
    let spec = ModelSpec::cnn(shape, 3);
    let n = 64;
    let pixels: Vec<u8> = (0..n * shape.len()).map(|i| (i * 31 % 251) as u8).collect();
    let labels: Vec<u16> = (0..n).map(|i| (i % 3) as u16).collect();
    let images = ImagesRef::new(&pixels, shape).unwrap();
    let engine = BurnEngine::new(BurnBackend::Flex).unwrap();
    let mut model = engine.build(&spec, 1).unwrap();

    let before = threads_now();
    model.set_threads(Threads::ONE);
    model.predict_proba(images).unwrap();
    assert_eq!(
        threads_now(),
        before + 1,
        "a 1-thread prediction: a pool of 1, not rayon's global pool"
    );

    let options = FitOptions {
        epochs: 1,
        batch_size: 32,
        threads: Threads::new(2).unwrap(),
        ..FitOptions::default()
    };
    for round in 0..2 {
        let mut during = 0;
        model
            .fit(images, Targets::Hard(&labels), &options, &mut |_| {
                during = during.max(threads_now())
            })
            .unwrap();
        if round == 1 {
            // The pool of 2, and the thread that trains on it while this one reports progress.
            assert_eq!(
                during,
                before + 3,
                "the second fit reuses the first one's pool"
            );
        }
        model.predict_proba(images).unwrap();
        // The pool of 1 is replaced by one of 2; a dropped pool's threads end on their own
        // time, so wait for them (at most 5 s).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while threads_now() > before + 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            threads_now(),
            before + 2,
            "round {round}: a 2-thread fit and its model's predictions share one pool of 2"
        );
    }
}
