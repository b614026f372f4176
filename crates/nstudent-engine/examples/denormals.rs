//! Does a training whose loss goes to zero slow down on subnormal floats?
//! `cargo run --release -p nstudent-engine --example denormals -- [EPOCHS] [IMAGES]`
//!
//! Trains the study's CNN on 32x32x3 images, one thread, twice: with ten classes, and with every
//! label the same class (what a labeled part holding one class gives: the loss falls to zero and
//! the gradients shrink towards the subnormal range). Each is timed per epoch with the CPU's
//! default float mode and with flush-to-zero / denormals-are-zero set (x86_64 MXCSR), and the
//! share of subnormal weights is printed.

use std::time::Instant;

use nstudent_core::{ImageShape, ImagesRef};
use nstudent_engine::{Classifier, FitOptions, ModelSpec, NativeClassifier, Targets};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let epochs = args.first().copied().unwrap_or(6);
    let n = args.get(1).copied().unwrap_or(1000);
    let shape = ImageShape::new(32, 32, 3);
    // Deterministic, image-like pixels: smooth gradients with a per-image phase.
    let pixels: Vec<u8> = (0..n * shape.len())
        .map(|i| {
            let (img, p) = (i / shape.len(), i % shape.len());
            ((p * 7 + img * 13 + (p / 96) * 5) % 256) as u8
        })
        .collect();
    let images = ImagesRef::new(&pixels, shape).expect("images");
    for (name, labels) in [
        (
            "ten classes",
            (0..n).map(|i| (i % 10) as u16).collect::<Vec<_>>(),
        ),
        ("one class", vec![0u16; n]),
    ] {
        for ftz in [false, true] {
            set_flush_to_zero(ftz);
            let mut model = NativeClassifier::new(&ModelSpec::cnn(shape, 10), 1).expect("model");
            let mut times = Vec::new();
            let mut last_loss = 0.0;
            for epoch in 0..epochs {
                let options = FitOptions {
                    epochs: 1,
                    seed: epoch as u64,
                    threads: nstudent_engine::Threads::ONE,
                    ..FitOptions::default()
                };
                let t = Instant::now();
                model
                    .fit(images, Targets::Hard(&labels), &options, &mut |p| {
                        last_loss = p.loss
                    })
                    .expect("fit");
                times.push(t.elapsed().as_secs_f64());
            }
            let weights: Vec<f32> = model
                .torch_tensors()
                .into_iter()
                .flat_map(|(_, t)| t.values)
                .collect();
            let subnormal = weights.iter().filter(|w| w.is_subnormal()).count();
            println!(
                "{name:11} ftz={ftz:5}  s/epoch: {}  last loss {last_loss:.2e}  subnormal weights {subnormal}/{}",
                times
                    .iter()
                    .map(|t| format!("{t:5.2}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                weights.len()
            );
        }
    }
    set_flush_to_zero(false);
}

/// Sets or clears the FTZ (bit 15) and DAZ (bit 6) flags of this thread's MXCSR.
#[allow(deprecated)]
fn set_flush_to_zero(on: bool) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: MXCSR's FTZ and DAZ bits change only how subnormal floats are rounded.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        let bits = (1 << 15) | (1 << 6);
        let csr = _mm_getcsr();
        _mm_setcsr(if on { csr | bits } else { csr & !bits });
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = on;
}
