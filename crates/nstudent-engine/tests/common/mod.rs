//! Test data shared by the engine test binaries.

use nstudent_core::{ImageShape, ImagesRef};
use nstudent_engine::Classifier;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const SHAPE: ImageShape = ImageShape::new(12, 12, 1);

/// Noisy images whose class is the position of a bright 4x4 square (one of 4 quadrants).
pub fn synthetic(n: usize, seed: u64) -> (Vec<u8>, Vec<u16>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut px = vec![0u8; n * SHAPE.len()];
    let mut labels = vec![0u16; n];
    for i in 0..n {
        let c = rng.gen_range(0..4u16);
        labels[i] = c;
        let img = &mut px[i * SHAPE.len()..(i + 1) * SHAPE.len()];
        for v in img.iter_mut() {
            *v = rng.gen_range(0..120);
        }
        let (oy, ox) = (1 + 6 * usize::from(c / 2), 1 + 6 * usize::from(c % 2));
        let (jy, jx) = (rng.gen_range(0..2), rng.gen_range(0..2));
        for y in 0..4 {
            for x in 0..4 {
                img[(oy + jy + y) * 12 + ox + jx + x] = rng.gen_range(180..=255);
            }
        }
    }
    (px, labels)
}

/// Fraction of `labels` that `model` predicts as its most probable class, on images of SHAPE.
pub fn accuracy(model: &dyn Classifier, px: &[u8], labels: &[u16]) -> f64 {
    let k = model.spec().num_classes;
    let probs = model
        .predict_proba(ImagesRef::new(px, SHAPE).unwrap())
        .unwrap();
    let correct = probs
        .chunks_exact(k)
        .zip(labels)
        .filter(|(row, &l)| {
            let best = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            best == usize::from(l)
        })
        .count();
    correct as f64 / labels.len() as f64
}
