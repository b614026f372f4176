//! Per-layer timings of a training step, for `nstudent bench --profile`.

use std::mem::take;
use std::time::Instant;

use rand::Rng;

use super::exec::{StepNoise, Worker};
use super::kernels::{AdamConfig, ChunkGradient, Gradients};
use super::plan::Op;
use super::softmax::BatchTargets;
use super::{derived_rng, sample_noise, NativeClassifier, PURPOSE_NOISE};

/// Seconds one layer took per training step, measured by [`NativeClassifier::profile`].
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTime {
    pub layer: String,
    pub forward_s: f64,
    pub backward_s: f64,
}

impl NativeClassifier {
    /// Times every layer of a training step (one thread, random inputs, the fastest of `steps`
    /// steps after a warm-up), plus input conversion, loss and the Adam update; seconds.
    pub fn profile(&self, batch: usize, steps: usize) -> Vec<LayerTime> {
        let batch = batch.max(1);
        let steps = steps.max(1);
        let plan = &self.plan;
        let mut params = self.params.clone();
        let mut next = params.clone();
        let mut w = Worker::new(plan, batch, true);
        // As a fit's workers: the deferred layers' weight gradients in Adam's step.
        w.defer = true;
        let mut rng = derived_rng(1, PURPOSE_NOISE, 0, 0);
        let pixels: Vec<u8> = (0..batch * self.spec.input.len())
            .map(|_| rng.gen())
            .collect();
        let labels: Vec<u16> = (0..batch)
            .map(|_| rng.gen_range(0..self.spec.num_classes as u16))
            .collect();
        let mut noise: Vec<Vec<f32>> = plan
            .noises
            .iter()
            .map(|k| vec![0.0; k.per_image() * batch])
            .collect();
        let (mut m, mut v) = (vec![0.0; plan.n_params], vec![0.0; plan.n_params]);
        let adam = AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        };
        // Minimum over steps of each part: robust to other processes sharing the cores.
        let mut extra = [f64::INFINITY; 3];
        let mut best = vec![[f64::INFINITY; 2]; plan.ops.len()];
        for s in 0..=steps {
            w.timings = Some(vec![[0.0; 2]; plan.ops.len()]);
            let mut this = [0.0f64; 3];
            let t = Instant::now();
            w.load_input(&pixels);
            sample_noise(plan, batch, &mut rng, &mut noise);
            this[0] = t.elapsed().as_secs_f64();
            let sn = StepNoise {
                buffers: &noise,
                start: 0,
            };
            w.forward(plan, &params, batch, Some(&sn));
            let t = Instant::now();
            w.loss(plan, batch, BatchTargets::Hard(&labels), 1.0 / batch as f32);
            this[1] = t.elapsed().as_secs_f64();
            w.backward(plan, &params, batch, Some(&sn), false);
            let t = Instant::now();
            let chunk = [ChunkGradient::ready(take(&mut w.pgrad), take(&mut w.kept))];
            let grads = Gradients {
                chunks: &chunk,
                deferred: &plan.deferred,
            };
            let kernels = plan.kernels.ops();
            let at = adam.at_step(s as u64 + 1);
            kernels.adam_step_sum(at, &params, &mut next, grads, 0, &mut m, &mut v);
            // Both buffers back to the worker (`ready` set both).
            let (grad, kept) = { chunk }[0].take();
            (w.pgrad, w.kept) = (grad.unwrap_or_default(), kept.unwrap_or_default());
            std::mem::swap(&mut params, &mut next);
            this[2] = t.elapsed().as_secs_f64();
            if s > 0 {
                for (e, t) in extra.iter_mut().zip(this) {
                    *e = e.min(t);
                }
                for (b, t) in best
                    .iter_mut()
                    .zip(w.timings.as_ref().into_iter().flatten())
                {
                    b[0] = b[0].min(t[0]);
                    b[1] = b[1].min(t[1]);
                }
            }
        }
        layer_times(plan, extra, best)
    }
}

/// The table of [`NativeClassifier::profile`]: input and noise, every layer of `plan` (the
/// fastest forward and backward seconds in `best`), the loss and Adam (`extra`).
fn layer_times(plan: &super::plan::Plan, extra: [f64; 3], best: Vec<[f64; 2]>) -> Vec<LayerTime> {
    let mut out: Vec<LayerTime> = vec![LayerTime {
        layer: "input u8->f32, noise".into(),
        forward_s: extra[0],
        backward_s: 0.0,
    }];
    let mut pools = 0;
    for (op, t) in plan.ops.iter().zip(best) {
        let layer = match op {
            Op::Conv { wt, .. } | Op::Dense { wt, .. } => plan.params[*wt]
                .name
                .trim_end_matches(".weight")
                .to_string(),
            Op::Pool { .. } => {
                pools += 1;
                format!("maxpool{pools}")
            }
            Op::Dropout { .. } => "dropout".into(),
            Op::AddRelu { .. } => "residual add+relu".into(),
        };
        out.push(LayerTime {
            layer,
            forward_s: t[0],
            backward_s: t[1],
        });
    }
    out.push(LayerTime {
        layer: "softmax cross-entropy".into(),
        forward_s: extra[1],
        backward_s: 0.0,
    });
    out.push(LayerTime {
        layer: "adam".into(),
        forward_s: 0.0,
        backward_s: extra[2],
    });
    out
}
