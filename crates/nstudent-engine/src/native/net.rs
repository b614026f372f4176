//! A model as a fixed list of operations over numbered activation buffers, and the per-thread
//! workspace that runs it forward and backward without allocating.

use super::direct;
#[cfg(target_arch = "x86_64")]
use super::implicit::{backward as implicit_backward, forward as implicit_forward};
use super::kernels::{
    affine_backward, affine_forward, col2im3, im2col3, maxpool_backward, maxpool_forward,
    relu_mask_and_bias_grad, softmax, softmax_xent, BatchTargets, ConvShape,
};
use super::linalg::MatRef;
use crate::{Arch, KernelPath, ModelSpec};

/// How a parameter tensor is laid out internally; its PyTorch layout follows from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ParamKind {
    /// Internal `(k, k, cin, cout)`; PyTorch `(cout, cin, k, k)`.
    Conv {
        k: usize,
        cin: usize,
        cout: usize,
    },
    /// Internal `(nin, nout)`; PyTorch `(nout, nin)`. When `flatten` is `(h, w, c)`, the input
    /// comes from flattening an `(h, w, c)` map, which PyTorch flattens in `(c, h, w)` order.
    Dense {
        nin: usize,
        nout: usize,
        flatten: Option<(usize, usize, usize)>,
    },
    Bias {
        len: usize,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct ParamInfo {
    /// PyTorch-style name, e.g. `conv1.weight`.
    pub name: String,
    pub offset: usize,
    pub len: usize,
    pub kind: ParamKind,
}

impl ParamInfo {
    /// Glorot-uniform limit for kernels (Keras' default initialiser); `None` for biases (zeros).
    pub fn glorot_limit(&self) -> Option<f32> {
        match self.kind {
            ParamKind::Conv { k, cin, cout } => {
                Some((6.0 / ((k * k * cin + k * k * cout) as f32)).sqrt())
            }
            ParamKind::Dense { nin, nout, .. } => Some((6.0 / ((nin + nout) as f32)).sqrt()),
            ParamKind::Bias { .. } => None,
        }
    }

    /// The tensor's shape in PyTorch's layout.
    pub fn torch_shape(&self) -> Vec<usize> {
        match self.kind {
            ParamKind::Conv { k, cin, cout } => vec![cout, cin, k, k],
            ParamKind::Dense { nin, nout, .. } => vec![nout, nin],
            ParamKind::Bias { len } => vec![len],
        }
    }

    /// Converts internal values to PyTorch's layout.
    pub fn export_torch(&self, v: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; v.len()];
        match self.kind {
            ParamKind::Conv { k, cin, cout } => {
                for kk in 0..k * k {
                    for i in 0..cin {
                        for o in 0..cout {
                            out[(o * cin + i) * k * k + kk] = v[(kk * cin + i) * cout + o];
                        }
                    }
                }
            }
            ParamKind::Dense { nin, nout, flatten } => {
                for i in 0..nin {
                    let ti = torch_flat_index(i, flatten);
                    for o in 0..nout {
                        out[o * nin + ti] = v[i * nout + o];
                    }
                }
            }
            ParamKind::Bias { .. } => out.copy_from_slice(v),
        }
        out
    }

    /// Converts values in PyTorch's layout to the internal one.
    pub fn import_torch(&self, t: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; t.len()];
        match self.kind {
            ParamKind::Conv { k, cin, cout } => {
                for kk in 0..k * k {
                    for i in 0..cin {
                        for o in 0..cout {
                            out[(kk * cin + i) * cout + o] = t[(o * cin + i) * k * k + kk];
                        }
                    }
                }
            }
            ParamKind::Dense { nin, nout, flatten } => {
                for i in 0..nin {
                    let ti = torch_flat_index(i, flatten);
                    for o in 0..nout {
                        out[i * nout + o] = t[o * nin + ti];
                    }
                }
            }
            ParamKind::Bias { .. } => out.copy_from_slice(t),
        }
        out
    }
}

/// Index in PyTorch's `(c, h, w)` flattening of element `i` of an `(h, w, c)` flattening.
fn torch_flat_index(i: usize, flatten: Option<(usize, usize, usize)>) -> usize {
    match flatten {
        None => i,
        Some((h, w, c)) => {
            let ch = i % c;
            let pix = i / c;
            ch * h * w + pix
        }
    }
}

/// Randomness a training step draws for one operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NoiseKind {
    /// One keep/drop factor per value: 0 or `1 / (1 - rate)`.
    Dropout { rate: f32, per_image: usize },
    /// One factor per image for a residual branch: 0 or `1 / survival`.
    Depth { survival: f32 },
}

impl NoiseKind {
    pub fn per_image(&self) -> usize {
        match self {
            NoiseKind::Dropout { per_image, .. } => *per_image,
            NoiseKind::Depth { .. } => 1,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Conv {
        k: usize,
        h: usize,
        w: usize,
        cin: usize,
        cout: usize,
        relu: bool,
        x: usize,
        y: usize,
        wt: usize,
        b: usize,
        /// Im2col buffer (3x3 only).
        col: Option<usize>,
    },
    Pool {
        h: usize,
        w: usize,
        c: usize,
        x: usize,
        y: usize,
        arg: usize,
    },
    Dense {
        nin: usize,
        nout: usize,
        relu: bool,
        x: usize,
        y: usize,
        wt: usize,
        b: usize,
    },
    Dropout {
        len: usize,
        x: usize,
        y: usize,
        noise: usize,
    },
    /// `y = relu(a + m * b)`, `m` the stochastic-depth factor of each image (1 in eval).
    AddRelu {
        len: usize,
        a: usize,
        b: usize,
        y: usize,
        noise: Option<usize>,
    },
}

/// The compiled model: operations, buffer sizes per image, parameter tensors.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub ops: Vec<Op>,
    /// Values per image of each activation buffer; buffer 0 is the input.
    pub values: Vec<usize>,
    pub params: Vec<ParamInfo>,
    pub n_params: usize,
    pub noises: Vec<NoiseKind>,
    /// Values per image of each im2col buffer.
    pub cols: Vec<usize>,
    /// Values per image of each max-pool argmax buffer.
    pub args: Vec<usize>,
    pub logits: usize,
    pub classes: usize,
    /// Forward multiply-adds per image, for benchmarks.
    pub macs_per_image: usize,
}

/// Channels of a layer of base width `base` under multiplier `width`.
pub(crate) fn scaled(base: usize, width: f32) -> usize {
    ((base as f32 * width).round() as usize).max(1)
}

#[derive(Default)]
struct Builder {
    values: Vec<usize>,
    params: Vec<ParamInfo>,
    n_params: usize,
    ops: Vec<Op>,
    noises: Vec<NoiseKind>,
    cols: Vec<usize>,
    args: Vec<usize>,
    macs: usize,
}

impl Builder {
    fn value(&mut self, size: usize) -> usize {
        self.values.push(size);
        self.values.len() - 1
    }

    fn param(&mut self, name: String, kind: ParamKind, len: usize) -> usize {
        self.params.push(ParamInfo {
            name,
            offset: self.n_params,
            len,
            kind,
        });
        self.n_params += len;
        self.params.len() - 1
    }

    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        name: &str,
        x: usize,
        h: usize,
        w: usize,
        cin: usize,
        cout: usize,
        k: usize,
        relu: bool,
    ) -> usize {
        let wt = self.param(
            format!("{name}.weight"),
            ParamKind::Conv { k, cin, cout },
            k * k * cin * cout,
        );
        let b = self.param(format!("{name}.bias"), ParamKind::Bias { len: cout }, cout);
        let y = self.value(h * w * cout);
        let col = (k == 3).then(|| {
            self.cols.push(h * w * 9 * cin);
            self.cols.len() - 1
        });
        self.macs += h * w * k * k * cin * cout;
        self.ops.push(Op::Conv {
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
            col,
        });
        y
    }

    fn pool(&mut self, x: usize, h: usize, w: usize, c: usize) -> usize {
        let y = self.value((h / 2) * (w / 2) * c);
        self.args.push((h / 2) * (w / 2) * c);
        let arg = self.args.len() - 1;
        self.ops.push(Op::Pool { h, w, c, x, y, arg });
        y
    }

    fn dense(
        &mut self,
        name: &str,
        x: usize,
        nin: usize,
        nout: usize,
        relu: bool,
        flatten: Option<(usize, usize, usize)>,
    ) -> usize {
        let wt = self.param(
            format!("{name}.weight"),
            ParamKind::Dense { nin, nout, flatten },
            nin * nout,
        );
        let b = self.param(format!("{name}.bias"), ParamKind::Bias { len: nout }, nout);
        let y = self.value(nout);
        self.macs += nin * nout;
        self.ops.push(Op::Dense {
            nin,
            nout,
            relu,
            x,
            y,
            wt,
            b,
        });
        y
    }

    fn dropout(&mut self, x: usize, len: usize, rate: f32) -> usize {
        if rate <= 0.0 {
            return x;
        }
        self.noises.push(NoiseKind::Dropout {
            rate,
            per_image: len,
        });
        let noise = self.noises.len() - 1;
        let y = self.value(len);
        self.ops.push(Op::Dropout { len, x, y, noise });
        y
    }

    fn add_relu(&mut self, a: usize, b: usize, len: usize, survival: f32) -> usize {
        let noise = (survival < 1.0).then(|| {
            self.noises.push(NoiseKind::Depth { survival });
            self.noises.len() - 1
        });
        let y = self.value(len);
        self.ops.push(Op::AddRelu {
            len,
            a,
            b,
            y,
            noise,
        });
        y
    }
}

impl Plan {
    /// Compiles a (validated) spec.
    pub fn new(spec: &ModelSpec) -> Plan {
        let (h, w, c) = (spec.input.height, spec.input.width, spec.input.channels);
        let c1 = scaled(32, spec.width);
        let c2 = scaled(64, spec.width);
        let d = scaled(128, spec.width);
        let k = spec.num_classes;
        let mut bld = Builder::default();
        let x0 = bld.value(h * w * c);
        let (h2, w2, h4, w4) = (h / 2, w / 2, h / 4, w / 4);
        let p2 = match spec.arch {
            Arch::Cnn => {
                let y1 = bld.conv("conv1", x0, h, w, c, c1, 3, true);
                let p1 = bld.pool(y1, h, w, c1);
                let y2 = bld.conv("conv2", p1, h2, w2, c1, c2, 3, true);
                bld.pool(y2, h2, w2, c2)
            }
            Arch::ResCnn => {
                // Survival decays linearly from 1 at the input to `survival` at the last block.
                let blocks = 2.0f32;
                let p = |l: f32| 1.0 - l / blocks * (1.0 - spec.survival);
                let s = bld.conv("stem", x0, h, w, c, c1, 3, true);
                let a = bld.conv("block1.conv1", s, h, w, c1, c1, 3, true);
                let b = bld.conv("block1.conv2", a, h, w, c1, c1, 3, false);
                let o1 = bld.add_relu(s, b, h * w * c1, p(1.0));
                let p1 = bld.pool(o1, h, w, c1);
                let a = bld.conv("block2.conv1", p1, h2, w2, c1, c2, 3, true);
                let b = bld.conv("block2.conv2", a, h2, w2, c2, c2, 3, false);
                let sc = bld.conv("block2.shortcut", p1, h2, w2, c1, c2, 1, false);
                let o2 = bld.add_relu(sc, b, h2 * w2 * c2, p(2.0));
                bld.pool(o2, h2, w2, c2)
            }
        };
        let flat = h4 * w4 * c2;
        let f1 = bld.dense("fc1", p2, flat, d, true, Some((h4, w4, c2)));
        let dr = bld.dropout(f1, d, spec.dropout);
        let logits = bld.dense("fc2", dr, d, k, false, None);
        Plan {
            ops: bld.ops,
            values: bld.values,
            params: bld.params,
            n_params: bld.n_params,
            noises: bld.noises,
            cols: bld.cols,
            args: bld.args,
            logits,
            classes: k,
            macs_per_image: bld.macs,
        }
    }
}

impl Op {
    /// The activation buffers this operation reads.
    fn inputs(&self) -> [Option<usize>; 2] {
        match *self {
            Op::Conv { x, .. } | Op::Pool { x, .. } | Op::Dense { x, .. } => [Some(x), None],
            Op::Dropout { x, .. } => [Some(x), None],
            Op::AddRelu { a, b, .. } => [Some(a), Some(b)],
        }
    }
}

impl Plan {
    /// How many operations read buffer `v`.
    fn readers(&self, v: usize) -> usize {
        self.ops
            .iter()
            .flat_map(|op| op.inputs())
            .filter(|&i| i == Some(v))
            .count()
    }
}

/// Buffers for running a plan on up to `cap` images at a time; reused across steps.
pub(crate) struct Worker {
    pub cap: usize,
    /// The kernels this worker runs.
    pub path: KernelPath,
    acts: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    grad_set: Vec<bool>,
    cols: Vec<Vec<f32>>,
    args: Vec<Vec<u8>>,
    dcol: Vec<f32>,
    /// Parameter gradients of the last backward pass (sum over this worker's images).
    pub pgrad: Vec<f32>,
    /// Probabilities of the last forward pass, `n x classes`.
    pub probs: Vec<f32>,
    /// When set, seconds spent in each op: `[forward, backward]`, accumulated.
    pub timings: Option<Vec<[f64; 2]>>,
    /// Per operation, [`Worker::find_pooled_conv`]'s answer, decided once for the plan.
    pooled: Vec<Option<(usize, usize)>>,
}

/// The noise of one training step for the whole batch, indexed like [`Plan::noises`].
pub(crate) struct StepNoise<'a> {
    pub buffers: &'a [Vec<f32>],
    /// Index of this worker's first image in the batch.
    pub start: usize,
}

impl Worker {
    pub fn new(plan: &Plan, cap: usize, train: bool, path: KernelPath) -> Worker {
        let acts = plan.values.iter().map(|&v| vec![0.0; v * cap]).collect();
        let grads = if train {
            plan.values.iter().map(|&v| vec![0.0; v * cap]).collect()
        } else {
            Vec::new()
        };
        // The AVX-512 path convolves without im2col: no column buffers.
        let im2col = path == KernelPath::Portable;
        let dcol_len = if train && im2col {
            plan.cols.iter().copied().max().unwrap_or(0) * cap
        } else {
            0
        };
        let col_len = |v: usize| if im2col { v * cap } else { 0 };
        let mut worker = Worker {
            cap,
            path,
            acts,
            grads,
            grad_set: vec![false; plan.values.len()],
            cols: plan.cols.iter().map(|&v| vec![0.0; col_len(v)]).collect(),
            args: plan.args.iter().map(|&v| vec![0u8; v * cap]).collect(),
            dcol: vec![0.0; dcol_len],
            pgrad: if train {
                vec![0.0; plan.n_params]
            } else {
                Vec::new()
            },
            probs: vec![0.0; plan.classes * cap],
            timings: None,
            pooled: Vec::new(),
        };
        worker.pooled = (0..plan.ops.len())
            .map(|oi| worker.find_pooled_conv(plan, oi))
            .collect();
        worker
    }

    /// The pool fused into convolution `oi` (see [`Worker::find_pooled_conv`]).
    fn pooled_conv(&self, oi: usize) -> Option<(usize, usize)> {
        self.pooled[oi]
    }

    /// Whether operation `oi` is a pool computed by the convolution before it.
    fn pool_in_conv(&self, oi: usize) -> bool {
        oi > 0 && self.pooled[oi - 1].is_some()
    }

    /// Whether the convolution of shape `s` reading buffer `x` runs directly (no im2col): on
    /// the AVX-512 path, for the model's input layer when [`direct::supports`] its shape.
    fn direct_conv(&self, s: ConvShape, x: usize) -> bool {
        self.path == KernelPath::Avx512 && x == 0 && direct::supports(s)
    }

    /// When operation `oi` is a direct convolution whose output only feeds a 2x2 max-pool (the
    /// next operation) that [`direct::backward_pooled`] takes: that pool's output buffer and
    /// argmax buffer. The convolution's backward pass then starts from the pool's output
    /// gradient, and the pool has no backward pass of its own.
    fn find_pooled_conv(&self, plan: &Plan, oi: usize) -> Option<(usize, usize)> {
        let Op::Conv {
            k,
            h,
            w,
            cin,
            cout,
            x,
            y,
            ..
        } = plan.ops[oi]
        else {
            return None;
        };
        let s = ConvShape {
            n: 0,
            h,
            w,
            cin,
            cout,
            k,
        };
        match plan.ops.get(oi + 1) {
            Some(&Op::Pool {
                x: px, y: py, arg, ..
            }) if px == y
                && plan.readers(y) == 1
                && self.direct_conv(s, x)
                && direct::supports_pooled(s) =>
            {
                Some((py, arg))
            }
            _ => None,
        }
    }

    /// Whether the 3x3 convolution of shape `s` runs by Winograd's F(2x2, 3x3) (2.25 times
    /// fewer multiplications): on the AVX-512 path, for the shapes `winograd::supports` takes.
    fn winograd_conv(&self, s: ConvShape) -> bool {
        self.path == KernelPath::Avx512 && winograd_supports(s)
    }

    /// Whether the 3x3 convolution of shape `s` runs as an implicit GEMM (no im2col): on the
    /// AVX-512 path, for the convolutions [`Worker::direct_conv`] and
    /// [`Worker::winograd_conv`] do not take.
    fn implicit_conv(&self, s: ConvShape) -> bool {
        self.path == KernelPath::Avx512 && s.k == 3
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
                    col,
                } => {
                    let s = ConvShape {
                        n,
                        h,
                        w,
                        cin,
                        cout,
                        k,
                    };
                    let mut out = std::mem::take(&mut self.acts[y]);
                    let (wp, bp) = (&plan.params[wt], &plan.params[b]);
                    let wv = &params[wp.offset..wp.offset + wp.len];
                    let bv = &params[bp.offset..bp.offset + bp.len];
                    let patch = s.patch();
                    if let Some((py, arg)) = self.pooled_conv(oi) {
                        let mut pooled = std::mem::take(&mut self.acts[py]);
                        let args = &mut self.args[arg];
                        direct::forward_pooled(&self.acts[x], s, wv, bv, relu, &mut pooled, args);
                        self.acts[py] = pooled;
                    } else if self.direct_conv(s, x) {
                        direct::forward(&self.acts[x], s, wv, bv, relu, &mut out);
                    } else if self.winograd_conv(s) {
                        winograd_forward(&self.acts[x], s, wv, bv, relu, &mut out);
                    } else if self.implicit_conv(s) {
                        implicit_forward(&self.acts[x], s, wv, bv, relu, &mut out);
                    } else {
                        let input = match col {
                            Some(ci) => {
                                im2col3(&self.acts[x], s, &mut self.cols[ci]);
                                MatRef::rows(&self.cols[ci], patch)
                            }
                            None => MatRef::rows(&self.acts[x], patch),
                        };
                        let path = self.path;
                        affine_forward(path, s.rows(), patch, cout, input, wv, bv, relu, &mut out);
                    }
                    self.acts[y] = out;
                }
                // Computed by the convolution before it.
                Op::Pool { .. } if self.pool_in_conv(oi) => {}
                Op::Pool { h, w, c, x, y, arg } => {
                    let mut out = std::mem::take(&mut self.acts[y]);
                    maxpool_forward(&self.acts[x], n, h, w, c, &mut out, &mut self.args[arg]);
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
                    affine_forward(self.path, n, nin, nout, input, wv, bv, relu, &mut out);
                    self.acts[y] = out;
                }
                Op::Dropout {
                    len,
                    x,
                    y,
                    noise: ni,
                } => {
                    let mut out = std::mem::take(&mut self.acts[y]);
                    let src = &self.acts[x][..n * len];
                    match noise {
                        Some(nz) => {
                            let m = &nz.buffers[ni][nz.start * len..(nz.start + n) * len];
                            for ((o, &v), &f) in out.iter_mut().zip(src).zip(m) {
                                *o = v * f;
                            }
                        }
                        None => out[..n * len].copy_from_slice(src),
                    }
                    self.acts[y] = out;
                }
                Op::AddRelu {
                    len,
                    a,
                    b,
                    y,
                    noise: ni,
                } => {
                    let mut out = std::mem::take(&mut self.acts[y]);
                    for i in 0..n {
                        let f = match (noise, ni) {
                            (Some(nz), Some(ni)) => nz.buffers[ni][nz.start + i],
                            _ => 1.0,
                        };
                        let r = i * len..(i + 1) * len;
                        let (av, bv) = (&self.acts[a][r.clone()], &self.acts[b][r.clone()]);
                        for ((o, &p), &q) in out[r].iter_mut().zip(av).zip(bv) {
                            *o = (p + f * q).max(0.0);
                        }
                    }
                    self.acts[y] = out;
                }
            }
            if let (Some(t0), Some(t)) = (t0, self.timings.as_mut()) {
                t[oi][0] += t0.elapsed().as_secs_f64();
            }
        }
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

    /// Back-propagates the gradient seeded by [`Worker::loss`] into `self.pgrad`.
    /// With `acc_params`, adds to `self.pgrad` instead of overwriting it (sub-batches).
    pub fn backward(
        &mut self,
        plan: &Plan,
        params: &[f32],
        n: usize,
        noise: Option<&StepNoise>,
        acc_params: bool,
    ) {
        let step = BackwardStep {
            plan,
            params,
            n,
            noise,
            acc_params,
        };
        for (oi, op) in plan.ops.iter().enumerate().rev() {
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
                    col,
                } => {
                    let s = ConvShape {
                        n,
                        h,
                        w,
                        cin,
                        cout,
                        k,
                    };
                    match self.pooled_conv(oi) {
                        Some(pool) => self.conv_pool_backward(&step, s, relu, x, pool, (wt, b)),
                        None => self.conv_backward(&step, s, relu, (x, y), (wt, b), col),
                    }
                }
                // Taken by the convolution before it.
                Op::Pool { .. } if self.pool_in_conv(oi) => {}
                Op::Pool { h, w, c, x, y, arg } => self.pool_backward(n, (h, w, c), x, y, arg),
                Op::Dense {
                    nin,
                    nout,
                    relu,
                    x,
                    y,
                    wt,
                    b,
                } => self.dense_backward(&step, (nin, nout), relu, (x, y), (wt, b)),
                Op::Dropout {
                    len,
                    x,
                    y,
                    noise: ni,
                } => self.dropout_backward(&step, len, x, y, ni),
                Op::AddRelu {
                    len,
                    a,
                    b,
                    y,
                    noise: ni,
                } => self.add_relu_backward(&step, len, (a, b), y, ni),
            }
            if let (Some(t0), Some(t)) = (t0, self.timings.as_mut()) {
                t[oi][1] += t0.elapsed().as_secs_f64();
            }
        }
    }

    /// A convolution's backward pass (input `x`, output `y`, weights `wt`, bias `b`): the
    /// parameter gradients, and the input's gradient unless `x` is the model's input. A 3x3
    /// convolution goes through its im2col buffer `col`.
    fn conv_backward(
        &mut self,
        step: &BackwardStep<'_>,
        s: ConvShape,
        relu: bool,
        (x, y): (usize, usize),
        (wt, b): (usize, usize),
        col: Option<usize>,
    ) {
        let BackwardStep {
            plan,
            params,
            acc_params,
            ..
        } = *step;
        let cout = s.cout;
        let direct_conv = self.direct_conv(s, x);
        let winograd_conv = self.winograd_conv(s);
        let implicit_conv = self.implicit_conv(s);
        let mut dy = std::mem::take(&mut self.grads[y]);
        let (wp, bp) = (&plan.params[wt], &plan.params[b]);
        let wv = &params[wp.offset..wp.offset + wp.len];
        debug_assert_eq!(wp.offset + wp.len, bp.offset);
        let (dw, db) = self.pgrad[wp.offset..bp.offset + bp.len].split_at_mut(wp.len);
        let patch = s.patch();
        let need_dx = x != 0;
        if direct_conv {
            let ys = &self.acts[y];
            direct::backward(&self.acts[x], s, ys, relu, &mut dy, dw, db, acc_params);
            self.grads[y] = dy;
            return;
        }
        if winograd_conv || implicit_conv {
            let rows = s.rows();
            relu_mask_and_bias_grad(rows, cout, &self.acts[y], relu, &mut dy, db, acc_params);
            let dx = need_dx.then_some((&mut self.grads[x][..], self.grad_set[x]));
            if winograd_conv {
                winograd_backward(&self.acts[x], s, wv, &dy, dw, acc_params, dx);
            } else {
                implicit_backward(&self.acts[x], s, wv, &dy, dw, acc_params, dx);
            }
            if need_dx {
                self.grad_set[x] = true;
            }
            self.grads[y] = dy;
            return;
        }
        let path = self.path;
        match col {
            Some(ci) => {
                let input = MatRef::rows(&self.cols[ci], patch);
                let dx = need_dx.then_some((&mut self.dcol[..], false));
                affine_backward(
                    path,
                    s.rows(),
                    patch,
                    cout,
                    input,
                    wv,
                    &self.acts[y],
                    relu,
                    &mut dy,
                    dw,
                    db,
                    acc_params,
                    dx,
                );
                if need_dx {
                    col2im3(&self.dcol, s, &mut self.grads[x], self.grad_set[x]);
                }
            }
            None => {
                let input = MatRef::rows(&self.acts[x], patch);
                let acc = self.grad_set[x];
                let dx = need_dx.then_some((&mut self.grads[x][..], acc));
                affine_backward(
                    path,
                    s.rows(),
                    patch,
                    cout,
                    input,
                    wv,
                    &self.acts[y],
                    relu,
                    &mut dy,
                    dw,
                    db,
                    acc_params,
                    dx,
                );
            }
        }
        if need_dx {
            self.grad_set[x] = true;
        }
        self.grads[y] = dy;
    }

    /// The backward pass of a direct convolution (input `x`) and the max-pool after it (output
    /// `py`, argmax `arg`), from the pool's output gradient: see [`direct::backward_pooled`].
    fn conv_pool_backward(
        &mut self,
        step: &BackwardStep<'_>,
        s: ConvShape,
        relu: bool,
        x: usize,
        (py, arg): (usize, usize),
        (wt, b): (usize, usize),
    ) {
        let BackwardStep {
            plan, acc_params, ..
        } = *step;
        let (wp, bp) = (&plan.params[wt], &plan.params[b]);
        debug_assert_eq!(wp.offset + wp.len, bp.offset);
        let (dw, db) = self.pgrad[wp.offset..bp.offset + bp.len].split_at_mut(wp.len);
        direct::backward_pooled(
            &self.acts[x],
            s,
            &self.acts[py],
            &self.args[arg],
            &self.grads[py],
            relu,
            dw,
            db,
            acc_params,
        );
    }

    /// A max-pool's backward pass over `n` `(h, w, c)` maps: each gradient goes to the input
    /// its window's maximum came from (`arg`).
    fn pool_backward(
        &mut self,
        n: usize,
        (h, w, c): (usize, usize, usize),
        x: usize,
        y: usize,
        arg: usize,
    ) {
        let acc = self.grad_set[x];
        let dy = std::mem::take(&mut self.grads[y]);
        maxpool_backward(&dy, &self.args[arg], n, h, w, c, &mut self.grads[x], acc);
        self.grads[y] = dy;
        self.grad_set[x] = true;
    }

    /// A dense layer's backward pass (`nin` inputs, `nout` outputs): the parameter gradients,
    /// and the input's gradient unless `x` is the model's input.
    fn dense_backward(
        &mut self,
        step: &BackwardStep<'_>,
        (nin, nout): (usize, usize),
        relu: bool,
        (x, y): (usize, usize),
        (wt, b): (usize, usize),
    ) {
        let BackwardStep {
            plan,
            params,
            n,
            acc_params,
            ..
        } = *step;
        let mut dy = std::mem::take(&mut self.grads[y]);
        let (wp, bp) = (&plan.params[wt], &plan.params[b]);
        let wv = &params[wp.offset..wp.offset + wp.len];
        let (dw, db) = self.pgrad[wp.offset..bp.offset + bp.len].split_at_mut(wp.len);
        let need_dx = x != 0;
        let acc = self.grad_set[x];
        let input = MatRef::rows(&self.acts[x], nin);
        let dx = need_dx.then_some((&mut self.grads[x][..], acc));
        affine_backward(
            self.path,
            n,
            nin,
            nout,
            input,
            wv,
            &self.acts[y],
            relu,
            &mut dy,
            dw,
            db,
            acc_params,
            dx,
        );
        if need_dx {
            self.grad_set[x] = true;
        }
        self.grads[y] = dy;
    }

    /// A dropout's backward pass: the gradient times the step's mask `ni`.
    fn dropout_backward(
        &mut self,
        step: &BackwardStep<'_>,
        len: usize,
        x: usize,
        y: usize,
        ni: usize,
    ) {
        let n = step.n;
        let dy = std::mem::take(&mut self.grads[y]);
        let acc = self.grad_set[x];
        let dx = &mut self.grads[x][..n * len];
        let nz = step.noise.expect("dropout backward needs the step's noise");
        let m = &nz.buffers[ni][nz.start * len..(nz.start + n) * len];
        for ((d, &g), &f) in dx.iter_mut().zip(&dy[..n * len]).zip(m) {
            if acc {
                *d += g * f;
            } else {
                *d = g * f;
            }
        }
        self.grads[y] = dy;
        self.grad_set[x] = true;
    }

    /// The backward pass of `y = relu(a + m * b)`: the gradient through the ReLU goes to `a`
    /// as it is and to `b` times each image's stochastic-depth factor `m` (noise `ni`).
    fn add_relu_backward(
        &mut self,
        step: &BackwardStep<'_>,
        len: usize,
        (a, b): (usize, usize),
        y: usize,
        ni: Option<usize>,
    ) {
        let (n, noise) = (step.n, step.noise);
        let mut dy = std::mem::take(&mut self.grads[y]);
        for (g, &v) in dy[..n * len].iter_mut().zip(&self.acts[y][..n * len]) {
            if v <= 0.0 {
                *g = 0.0;
            }
        }
        let acc_a = self.grad_set[a];
        {
            let da = &mut self.grads[a][..n * len];
            if acc_a {
                for (d, &g) in da.iter_mut().zip(&dy[..n * len]) {
                    *d += g;
                }
            } else {
                da.copy_from_slice(&dy[..n * len]);
            }
        }
        let acc_b = self.grad_set[b];
        for i in 0..n {
            let f = match (noise, ni) {
                (Some(nz), Some(ni)) => nz.buffers[ni][nz.start + i],
                _ => 1.0,
            };
            let r = i * len..(i + 1) * len;
            let db = &mut self.grads[b][r.clone()];
            for (d, &g) in db.iter_mut().zip(&dy[r]) {
                if acc_b {
                    *d += f * g;
                } else {
                    *d = f * g;
                }
            }
        }
        self.grads[y] = dy;
        self.grad_set[a] = true;
        self.grad_set[b] = true;
    }
}

/// What every operation's backward pass of one step reads: the plan, the parameters, the
/// images in this worker's share, the step's noise, and whether parameter gradients add to
/// `Worker::pgrad` (sub-batches) instead of overwriting it.
struct BackwardStep<'a> {
    plan: &'a Plan,
    params: &'a [f32],
    n: usize,
    noise: Option<&'a StepNoise<'a>>,
    acc_params: bool,
}

#[cfg(target_arch = "x86_64")]
use super::winograd::{
    backward as winograd_backward, forward as winograd_forward, supports as winograd_supports,
};

#[cfg(not(target_arch = "x86_64"))]
fn winograd_supports(_: ConvShape) -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
use self::{implicit_backward as winograd_backward, implicit_forward as winograd_forward};

#[cfg(not(target_arch = "x86_64"))]
fn implicit_forward(_: &[f32], _: ConvShape, _: &[f32], _: &[f32], _: bool, _: &mut [f32]) {
    unreachable!("the AVX-512 path exists only on x86-64")
}

#[cfg(not(target_arch = "x86_64"))]
fn implicit_backward(
    _: &[f32],
    _: ConvShape,
    _: &[f32],
    _: &[f32],
    _: &mut [f32],
    _: bool,
    _: Option<(&mut [f32], bool)>,
) {
    unreachable!("the AVX-512 path exists only on x86-64")
}
