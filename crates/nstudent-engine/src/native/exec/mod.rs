//! The per-thread workspace that runs a [`Plan`] forward (here) and backward (`backward`)
//! without allocating: every buffer is sized once for `cap` images. It decides nothing: each
//! operation runs the method its plan chose, on the plan's kernels.

mod backward;

use super::kernels::{ConvShape, DenseInputs, MatRef};
use super::plan::{ConvMethod, Op, Plan};
use super::softmax::{softmax, softmax_xent, BatchTargets};

/// Buffers for running a plan on up to `cap` images at a time; reused across steps.
pub(crate) struct Worker {
    pub cap: usize,
    acts: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    grad_set: Vec<bool>,
    cols: Vec<Vec<f32>>,
    args: Vec<Vec<u8>>,
    dcol: Vec<f32>,
    /// Parameter gradients of the last backward pass (sum over this worker's images), except
    /// the deferred layers' weights when `defer` is set.
    pub pgrad: Vec<f32>,
    /// Whether the backward pass leaves the plan's deferred layers' weight gradients out of
    /// `pgrad` and keeps their inputs and output gradients in `kept` instead (a fit's
    /// workers; see `Plan::deferred`).
    pub defer: bool,
    /// One per deferred layer of the plan: what the last backward pass kept when `defer`.
    pub kept: Vec<DenseInputs>,
    /// Probabilities of the last forward pass, `n x classes`.
    pub probs: Vec<f32>,
    /// When set, seconds spent in each op: `[forward, backward]`, accumulated.
    pub timings: Option<Vec<[f64; 2]>>,
}

/// The noise of one training step for the whole batch, indexed like [`Plan::noises`].
pub(crate) struct StepNoise<'a> {
    pub buffers: &'a [Vec<f32>],
    /// Index of this worker's first image in the batch.
    pub start: usize,
}

impl Worker {
    /// Buffers for `plan` on up to `cap` images; with `train`, for the backward pass too.
    /// Column buffers exist only for the convolutions the plan runs by im2col.
    pub fn new(plan: &Plan, cap: usize, train: bool) -> Worker {
        let per_image = |v: &Vec<usize>| v.iter().map(|&v| vec![0.0; v * cap]).collect();
        let dcol_len = if train {
            plan.cols.iter().copied().max().unwrap_or(0) * cap
        } else {
            0
        };
        Worker {
            cap,
            acts: per_image(&plan.values),
            grads: if train {
                per_image(&plan.values)
            } else {
                Vec::new()
            },
            grad_set: vec![false; plan.values.len()],
            cols: per_image(&plan.cols),
            args: plan.args.iter().map(|&v| vec![0u8; v * cap]).collect(),
            dcol: vec![0.0; dcol_len],
            pgrad: if train {
                vec![0.0; plan.n_params]
            } else {
                Vec::new()
            },
            probs: vec![0.0; plan.classes * cap],
            timings: None,
            defer: false,
            kept: if train {
                plan.deferred
                    .iter()
                    .map(|d| DenseInputs::new(d, cap))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Convolution `s` from buffer `x` into `y` (weights and bias `wb`) by `method`; a
    /// fused pool writes its own output and argmax buffers instead of `y`.
    fn conv_forward(
        &mut self,
        plan: &Plan,
        s: ConvShape,
        method: ConvMethod,
        relu: bool,
        (x, y): (usize, usize),
        (wv, bv): (&[f32], &[f32]),
    ) {
        let mut out = std::mem::take(&mut self.acts[y]);
        match method {
            ConvMethod::DirectPooled { cpu, y: py, arg } => {
                let mut pooled = std::mem::take(&mut self.acts[py]);
                let args = &mut self.args[arg];
                cpu.conv_pool_forward(&self.acts[x], s, wv, bv, relu, &mut pooled, args);
                self.acts[py] = pooled;
            }
            ConvMethod::Avx512(cpu, m) => {
                cpu.conv_forward(m, &self.acts[x], s, wv, bv, relu, &mut out)
            }
            ConvMethod::Im2col { col } => {
                let kernels = plan.kernels.ops();
                kernels.im2col3(&self.acts[x], s, &mut self.cols[col]);
                let input = MatRef::rows(&self.cols[col], s.patch());
                kernels.affine_forward(s.rows(), s.patch(), s.cout, input, wv, bv, relu, &mut out);
            }
            ConvMethod::Pointwise => {
                let input = MatRef::rows(&self.acts[x], s.patch());
                let kernels = plan.kernels.ops();
                kernels.affine_forward(s.rows(), s.patch(), s.cout, input, wv, bv, relu, &mut out);
            }
        }
        self.acts[y] = out;
    }

    /// Converts `n` images of `u8` pixels to the input buffer, scaled to [0, 1].
    pub fn load_input(&mut self, pixels: &[u8]) {
        for (d, &p) in self.acts[0].iter_mut().zip(pixels) {
            *d = f32::from(p) / 255.0;
        }
    }

    #[cfg(test)]
    pub fn logits(&self, plan: &Plan, n: usize) -> &[f32] {
        &self.acts[plan.logits][..n * plan.classes]
    }

    /// Runs the plan on the `n` loaded images; `noise` is `None` in eval mode.
    pub fn forward(&mut self, plan: &Plan, params: &[f32], n: usize, noise: Option<&StepNoise>) {
        assert!(n <= self.cap);
        for (oi, op) in plan.ops.iter().enumerate() {
            let t0 = self.timings.is_some().then(std::time::Instant::now);
            match *op {
                Op::Conv {
                    k,
                    h,
                    w,
                    cin,
                    cout,
                    relu,
                    x,
                    y,
                    wt,
                    b,
                    method,
                } => {
                    let s = ConvShape {
                        n,
                        h,
                        w,
                        cin,
                        cout,
                        k,
                    };
                    let (wp, bp) = (&plan.params[wt], &plan.params[b]);
                    let wv = &params[wp.offset..wp.offset + wp.len];
                    let bv = &params[bp.offset..bp.offset + bp.len];
                    self.conv_forward(plan, s, method, relu, (x, y), (wv, bv));
                }
                // Computed by the convolution before it.
                Op::Pool { fused: true, .. } => {}
                Op::Pool {
                    h, w, c, x, y, arg, ..
                } => {
                    let mut out = std::mem::take(&mut self.acts[y]);
                    let args = &mut self.args[arg];
                    let kernels = plan.kernels.ops();
                    kernels.maxpool_forward(&self.acts[x], n, h, w, c, &mut out, args);
                    self.acts[y] = out;
                }
                Op::Dense {
                    nin,
                    nout,
                    relu,
                    x,
                    y,
                    wt,
                    b,
                } => {
                    let mut out = std::mem::take(&mut self.acts[y]);
                    let (wp, bp) = (&plan.params[wt], &plan.params[b]);
                    let wv = &params[wp.offset..wp.offset + wp.len];
                    let bv = &params[bp.offset..bp.offset + bp.len];
                    let input = MatRef::rows(&self.acts[x], nin);
                    let kernels = plan.kernels.ops();
                    kernels.affine_forward(n, nin, nout, input, wv, bv, relu, &mut out);
                    self.acts[y] = out;
                }
                Op::Dropout {
                    len,
                    x,
                    y,
                    noise: ni,
                } => self.dropout_forward(n, len, (x, y), noise.map(|nz| (nz, ni))),
                Op::AddRelu {
                    len,
                    a,
                    b,
                    y,
                    noise: ni,
                } => self.add_relu_forward(n, len, (a, b, y), noise.zip(ni)),
            }
            if let (Some(t0), Some(t)) = (t0, self.timings.as_mut()) {
                t[oi][0] += t0.elapsed().as_secs_f64();
            }
        }
    }

    /// Dropout of activation `x` into `y` (`len` values per image): times the step's mask
    /// (buffer `ni` of `noise`), or a copy at inference.
    fn dropout_forward(
        &mut self,
        n: usize,
        len: usize,
        (x, y): (usize, usize),
        noise: Option<(&StepNoise, usize)>,
    ) {
        let mut out = std::mem::take(&mut self.acts[y]);
        let src = &self.acts[x][..n * len];
        match noise {
            Some((nz, ni)) => {
                let m = &nz.buffers[ni][nz.start * len..(nz.start + n) * len];
                for ((o, &v), &f) in out.iter_mut().zip(src).zip(m) {
                    *o = v * f;
                }
            }
            None => out[..n * len].copy_from_slice(src),
        }
        self.acts[y] = out;
    }

    /// A residual block's end: `relu(a + f * b)` into `y`, `f` the image's stochastic-depth
    /// factor (buffer `ni` of `noise`), 1 at inference or without stochastic depth.
    fn add_relu_forward(
        &mut self,
        n: usize,
        len: usize,
        (a, b, y): (usize, usize, usize),
        noise: Option<(&StepNoise, usize)>,
    ) {
        let mut out = std::mem::take(&mut self.acts[y]);
        for i in 0..n {
            let f = match noise {
                Some((nz, ni)) => nz.buffers[ni][nz.start + i],
                None => 1.0,
            };
            let r = i * len..(i + 1) * len;
            let (av, bv) = (&self.acts[a][r.clone()], &self.acts[b][r.clone()]);
            for ((o, &p), &q) in out[r].iter_mut().zip(av).zip(bv) {
                *o = (p + f * q).max(0.0);
            }
        }
        self.acts[y] = out;
    }

    /// Softmax probabilities of the last forward pass into `self.probs`.
    pub fn compute_probs(&mut self, plan: &Plan, n: usize) {
        let k = plan.classes;
        softmax(
            &self.acts[plan.logits][..n * k],
            n,
            k,
            &mut self.probs[..n * k],
        );
    }

    /// Cross-entropy of the last forward pass; seeds the backward pass with its gradient times
    /// `scale` (1 / batch size for a batch mean). Returns the summed loss.
    pub fn loss(&mut self, plan: &Plan, n: usize, targets: BatchTargets<'_>, scale: f32) -> f64 {
        let k = plan.classes;
        self.grad_set.fill(false);
        let loss = softmax_xent(
            &self.acts[plan.logits][..n * k],
            n,
            k,
            targets,
            scale,
            &mut self.probs[..n * k],
            &mut self.grads[plan.logits][..n * k],
        );
        self.grad_set[plan.logits] = true;
        loss
    }
}
