//! A model as a fixed list of operations over numbered activation buffers, compiled once from
//! a spec and a kernel set: each convolution's method (im2col, a plain product, or one of the
//! AVX-512 set's) is chosen here, once, for the forward and the backward pass alike. The
//! executor (`super::exec`) runs the plan without deciding anything.

use super::kernels::{Avx512, AvxConv, ConvShape, DeferredDense, KernelSet};
use crate::{Arch, ModelSpec};

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
        /// How the convolution runs, chosen when the plan is built.
        method: ConvMethod,
    },
    Pool {
        h: usize,
        w: usize,
        c: usize,
        x: usize,
        y: usize,
        arg: usize,
        /// Computed by the convolution before it ([`ConvMethod::DirectPooled`]).
        fused: bool,
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

/// How a convolution runs: chosen once per operation by [`Plan::new`], from the plan's kernel
/// set and the operation's shape and place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ConvMethod {
    /// A 3x3 convolution as im2col (into column buffer `col`) and a product.
    Im2col { col: usize },
    /// A 1x1 convolution: a product over the activations themselves.
    Pointwise,
    /// One of the AVX-512 set's convolutions.
    Avx512(Avx512, AvxConv),
    /// The AVX-512 set's direct convolution with the 2x2 max-pool after it in the same
    /// passes: the pool's output buffer `y` and argmax buffer `arg`.
    DirectPooled { cpu: Avx512, y: usize, arg: usize },
}

/// The compiled model: operations, buffer sizes per image, parameter tensors.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The kernels every operation runs on.
    pub kernels: KernelSet,
    pub ops: Vec<Op>,
    /// Values per image of each activation buffer; buffer 0 is the input.
    pub values: Vec<usize>,
    pub params: Vec<ParamInfo>,
    pub n_params: usize,
    pub noises: Vec<NoiseKind>,
    /// Values per image of each im2col buffer (one per [`ConvMethod::Im2col`]).
    pub cols: Vec<usize>,
    /// Values per image of each max-pool argmax buffer.
    pub args: Vec<usize>,
    pub logits: usize,
    pub classes: usize,
    /// Forward multiply-adds per image, for benchmarks.
    pub macs_per_image: usize,
    /// The dense layers whose weight gradient a fit computes in Adam's step instead of the
    /// backward pass, in ascending order of offset (see [`Plan::deferred_layers`]).
    pub deferred: Vec<DeferredDense>,
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
            // Chosen with the whole plan in view: `Plan::choose_methods`.
            method: ConvMethod::Pointwise,
        });
        y
    }

    fn pool(&mut self, x: usize, h: usize, w: usize, c: usize) -> usize {
        let y = self.value((h / 2) * (w / 2) * c);
        self.args.push((h / 2) * (w / 2) * c);
        let arg = self.args.len() - 1;
        self.ops.push(Op::Pool {
            h,
            w,
            c,
            x,
            y,
            arg,
            fused: false,
        });
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
    /// Compiles a (validated) spec for `kernels`.
    pub fn new(spec: &ModelSpec, kernels: KernelSet) -> Plan {
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
        let mut plan = Plan {
            kernels,
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
            deferred: Vec::new(),
        };
        plan.choose_methods();
        plan.deferred = plan.deferred_layers();
        plan
    }

    /// The dense layers a fit defers: on a kernel set whose weight gradient is a fused
    /// multiply-add chain (the same bits either way), those with at least one vector (16) of
    /// outputs. Deferring saves writing each chunk's `nin x nout` gradient and reading it back
    /// in Adam's step: for the study's CNN on 28x28x1 about 0.8 MB per chunk.
    fn deferred_layers(&self) -> Vec<DeferredDense> {
        if !self.kernels.ops().weight_grad_is_fma_chain() {
            return Vec::new();
        }
        self.dense_layers(16)
    }

    /// The dense layers with at least `min_out` outputs, as layers a fit could defer, in
    /// ascending order of offset.
    pub fn dense_layers(&self, min_out: usize) -> Vec<DeferredDense> {
        let mut layers: Vec<DeferredDense> = self
            .ops
            .iter()
            .filter_map(|op| match *op {
                Op::Dense { nin, nout, wt, .. } if nout >= min_out => Some(DeferredDense {
                    offset: self.params[wt].offset,
                    nin,
                    nout,
                }),
                _ => None,
            })
            .collect();
        layers.sort_by_key(|d| d.offset);
        layers
    }

    /// The first operation of the backward pass's head: once the pass has run operations
    /// `head_start()..` (last first), every deferred layer has kept its inputs and output
    /// gradients, and Adam's step on their weights may begin while the rest of the pass runs.
    /// The number of operations when nothing is deferred.
    pub fn head_start(&self) -> usize {
        self.ops
            .iter()
            .position(|op| match *op {
                Op::Dense { wt, .. } => self.deferred_index(self.params[wt].offset).is_some(),
                _ => false,
            })
            .unwrap_or(self.ops.len())
    }

    /// The index in [`Plan::deferred`] of the dense layer whose weights start at `offset`.
    pub fn deferred_index(&self, offset: usize) -> Option<usize> {
        self.deferred.iter().position(|d| d.offset == offset)
    }

    /// Sets every convolution's method and marks the pools a convolution takes.
    fn choose_methods(&mut self) {
        for oi in 0..self.ops.len() {
            let method = match self.ops[oi] {
                Op::Conv { .. } => self.conv_method(oi),
                _ => continue,
            };
            if let ConvMethod::DirectPooled { .. } = method {
                if let Some(Op::Pool { fused, .. }) = self.ops.get_mut(oi + 1) {
                    *fused = true;
                }
            }
            if let Op::Conv { method: m, .. } = &mut self.ops[oi] {
                *m = method;
            }
        }
    }

    /// The method of convolution `oi`. On the AVX-512 set: the one `Avx512::conv_method`
    /// gives its shape (the direct one for the model's input layer), fused with the max-pool
    /// after it when that pool alone reads its output and the shape allows. On the portable
    /// set: im2col for 3x3, a plain product for 1x1.
    fn conv_method(&mut self, oi: usize) -> ConvMethod {
        let Op::Conv {
            k,
            h,
            w,
            cin,
            cout,
            x,
            y,
            ..
        } = self.ops[oi]
        else {
            unreachable!("operation {oi} is not a convolution")
        };
        let s = ConvShape {
            n: 0,
            h,
            w,
            cin,
            cout,
            k,
        };
        let Some(cpu) = self.kernels.avx512_token() else {
            if k != 3 {
                return ConvMethod::Pointwise;
            }
            self.cols.push(h * w * 9 * cin);
            return ConvMethod::Im2col {
                col: self.cols.len() - 1,
            };
        };
        match cpu.conv_method(s, x == 0) {
            None => ConvMethod::Pointwise,
            Some(AvxConv::Direct) => match self.ops.get(oi + 1) {
                Some(&Op::Pool {
                    x: px, y: py, arg, ..
                }) if px == y && self.readers(y) == 1 && cpu.fuses_pool(s) => {
                    ConvMethod::DirectPooled { cpu, y: py, arg }
                }
                _ => ConvMethod::Avx512(cpu, AvxConv::Direct),
            },
            Some(m) => ConvMethod::Avx512(cpu, m),
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
