//! A tiny deterministic engine for testing the algorithms' orchestration: a nearest-centroid
//! classifier whose "training" averages (augmented) images per class, weighted by the targets.
#![allow(dead_code)]

use std::path::Path;

use nstudent_data::{Dataset, ImageShape, ImagesRef};
use nstudent_engine::{
    Classifier, Engine, Error, FitOptions, FitProgress, FitReport, ModelSpec, Result, Targets,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
pub struct Centroid {
    spec: ModelSpec,
    centroids: Vec<f32>,
    /// Rows of the last fit, so tests can check what a model trained on.
    pub trained_rows: usize,
    /// Sharpness of the softmax over negative squared distances.
    scale: f32,
}

impl Classifier for Centroid {
    fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn fit(
        &mut self,
        images: ImagesRef<'_>,
        targets: Targets<'_>,
        options: &FitOptions,
        progress: &mut dyn FnMut(FitProgress),
    ) -> Result<FitReport> {
        let k = self.spec.num_classes;
        let n = images.shape.len();
        if targets.len() != images.len() {
            return Err(Error::Invalid("targets and images differ in count".into()));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let mut sums = vec![0f64; k * n];
        let mut weights = vec![0f64; k];
        let mut buf = vec![0u8; n];
        for i in 0..images.len() {
            let img = match &options.augment {
                Some(a) => {
                    a.apply(images.image(i), images.shape, &mut rng, &mut buf);
                    &buf[..]
                }
                None => images.image(i),
            };
            // A seeded jitter stands in for the randomness of real training.
            let jitter = 1.0 + 0.01 * rng.gen::<f64>();
            for c in 0..k {
                let w = match targets {
                    Targets::Hard(l) => f64::from(u8::from(usize::from(l[i]) == c)),
                    Targets::Soft { probs, classes } => f64::from(probs[i * classes + c]),
                } * jitter;
                if w == 0.0 {
                    continue;
                }
                weights[c] += w;
                for (s, &p) in sums[c * n..(c + 1) * n].iter_mut().zip(img) {
                    *s += w * f64::from(p);
                }
            }
        }
        for c in 0..k {
            for j in 0..n {
                self.centroids[c * n + j] = (sums[c * n + j] / weights[c].max(1e-9)) as f32;
            }
        }
        self.trained_rows = images.len();
        progress(FitProgress {
            epoch: 0,
            batch: 1,
            batches_per_epoch: 1,
            loss: 0.0,
            images: images.len(),
            epoch_images: images.len(),
            epoch_loss: Some(0.0),
            seconds: 0.0,
        });
        Ok(FitReport {
            epoch_losses: vec![0.0],
            seconds: 0.0,
        })
    }

    fn predict_proba(&self, images: ImagesRef<'_>) -> Result<Vec<f32>> {
        let k = self.spec.num_classes;
        let n = images.shape.len();
        let mut out = Vec::with_capacity(images.len() * k);
        for i in 0..images.len() {
            let img = images.image(i);
            let logits: Vec<f32> = (0..k)
                .map(|c| {
                    let d: f32 = self.centroids[c * n..(c + 1) * n]
                        .iter()
                        .zip(img)
                        .map(|(m, &p)| (m - f32::from(p)).powi(2))
                        .sum();
                    -d / (n as f32 * self.scale)
                })
                .collect();
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
            let sum: f32 = exps.iter().sum();
            out.extend(exps.iter().map(|e| e / sum));
        }
        Ok(out)
    }

    fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(|e| Error::Internal(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })
    }
}

pub struct CentroidEngine {
    pub scale: f32,
}

impl Engine for CentroidEngine {
    fn name(&self) -> &'static str {
        "centroid"
    }

    fn build(&self, spec: &ModelSpec, _seed: u64) -> Result<Box<dyn Classifier>> {
        Ok(Box::new(Centroid {
            spec: spec.clone(),
            centroids: vec![0.0; spec.num_classes * spec.input.len()],
            trained_rows: 0,
            scale: self.scale,
        }))
    }

    fn load(&self, path: &Path) -> Result<Box<dyn Classifier>> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let m: Centroid = serde_json::from_str(&text).map_err(|e| Error::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(Box::new(m))
    }
}

/// `n` noisy 6x6 grey images of `classes` classes: class c is a bright bar in row c (mod 6),
/// plus seeded noise, in shuffled class order.
pub fn bars(n: usize, classes: u16, noise: f32, seed: u64) -> Dataset {
    let shape = ImageShape::new(6, 6, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut images = Vec::with_capacity(n * shape.len());
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let c = rng.gen_range(0..classes);
        labels.push(c);
        for y in 0..6 {
            for _x in 0..6 {
                let base = if y == usize::from(c) % 6 { 200.0 } else { 30.0 };
                let v = base + noise * (rng.gen::<f32>() - 0.5) * 2.0;
                images.push(v.clamp(0.0, 255.0) as u8);
            }
        }
    }
    let names = (0..classes).map(|c| format!("class{c}")).collect();
    Dataset::new(images, labels, shape, names, "bars").unwrap()
}
