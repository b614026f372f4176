//! The backward pass of a [`Plan`]'s operations, in reverse order, on the worker's buffers.

use super::super::kernels::{AvxConv, ConvShape, MatRef};
use super::super::plan::{ConvMethod, Op, Plan};
use super::{StepNoise, Worker};

impl Worker {
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
        self.backward_ops(plan, params, n, noise, acc_params, 0..plan.ops.len());
    }

    /// The backward pass of operations `ops` only, last first: a pass in two calls,
    /// `k..len` then `0..k`, is the same as one (a fit publishes what the deferred layers
    /// kept between the two; see `Plan::head_start`).
    pub fn backward_ops(
        &mut self,
        plan: &Plan,
        params: &[f32],
        n: usize,
        noise: Option<&StepNoise>,
        acc_params: bool,
        ops: std::ops::Range<usize>,
    ) {
        let step = BackwardStep {
            plan,
            params,
            n,
            noise,
            acc_params,
        };
        let first = ops.start;
        for (i, op) in plan.ops[ops].iter().enumerate().rev() {
            let oi = first + i;
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
                    self.conv_backward(&step, s, method, relu, (x, y), (wt, b))
                }
                // Taken by the convolution before it.
                Op::Pool { fused: true, .. } => {}
                Op::Pool {
                    h, w, c, x, y, arg, ..
                } => self.pool_backward(plan, n, (h, w, c), x, y, arg),
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

    /// A convolution's backward pass (input `x`, output `y`, weights `wt`, bias `b`) by the
    /// method its plan chose: the parameter gradients, and the input's gradient unless `x` is
    /// the model's input. A convolution fused with its pool starts from the pool's output
    /// gradient.
    fn conv_backward(
        &mut self,
        step: &BackwardStep<'_>,
        s: ConvShape,
        method: ConvMethod,
        relu: bool,
        (x, y): (usize, usize),
        (wt, b): (usize, usize),
    ) {
        let BackwardStep {
            plan,
            params,
            acc_params,
            ..
        } = *step;
        let (wp, bp) = (&plan.params[wt], &plan.params[b]);
        let wv = &params[wp.offset..wp.offset + wp.len];
        debug_assert_eq!(wp.offset + wp.len, bp.offset);
        let (dw, db) = self.pgrad[wp.offset..bp.offset + bp.len].split_at_mut(wp.len);
        if let ConvMethod::DirectPooled { cpu, y: py, arg } = method {
            let (pooled, args, dp) = (&self.acts[py], &self.args[arg], &self.grads[py]);
            let xs = &self.acts[x];
            cpu.conv_pool_backward(xs, s, pooled, args, dp, relu, (dw, db), acc_params);
            return;
        }
        let mut dy = std::mem::take(&mut self.grads[y]);
        let need_dx = x != 0;
        let ys = &self.acts[y];
        let kernels = plan.kernels.ops();
        let (rows, patch, cout) = (s.rows(), s.patch(), s.cout);
        match method {
            ConvMethod::Avx512(cpu, AvxConv::Direct) => {
                // The model's input layer: no input gradient.
                let xs = &self.acts[x];
                cpu.conv_backward(
                    AvxConv::Direct,
                    xs,
                    s,
                    wv,
                    ys,
                    relu,
                    &mut dy,
                    (dw, db),
                    acc_params,
                    None,
                );
                self.grads[y] = dy;
                return;
            }
            ConvMethod::Avx512(cpu, m) => {
                let dx = need_dx.then_some((&mut self.grads[x][..], self.grad_set[x]));
                let xs = &self.acts[x];
                cpu.conv_backward(m, xs, s, wv, ys, relu, &mut dy, (dw, db), acc_params, dx);
            }
            ConvMethod::Im2col { col } => {
                let input = MatRef::rows(&self.cols[col], patch);
                let dx = need_dx.then_some((&mut self.dcol[..], false));
                kernels.affine_backward(
                    rows,
                    patch,
                    cout,
                    input,
                    wv,
                    ys,
                    relu,
                    &mut dy,
                    Some(dw),
                    db,
                    acc_params,
                    dx,
                );
                if need_dx {
                    kernels.col2im3(&self.dcol, s, &mut self.grads[x], self.grad_set[x]);
                }
            }
            ConvMethod::Pointwise => {
                let input = MatRef::rows(&self.acts[x], patch);
                let dx = need_dx.then_some((&mut self.grads[x][..], self.grad_set[x]));
                kernels.affine_backward(
                    rows,
                    patch,
                    cout,
                    input,
                    wv,
                    ys,
                    relu,
                    &mut dy,
                    Some(dw),
                    db,
                    acc_params,
                    dx,
                );
            }
            ConvMethod::DirectPooled { .. } => unreachable!("handled above"),
        }
        if need_dx {
            self.grad_set[x] = true;
        }
        self.grads[y] = dy;
    }

    /// A max-pool's backward pass over `n` `(h, w, c)` maps: each gradient goes to the input
    /// its window's maximum came from (`arg`).
    fn pool_backward(
        &mut self,
        plan: &Plan,
        n: usize,
        (h, w, c): (usize, usize, usize),
        x: usize,
        y: usize,
        arg: usize,
    ) {
        let acc = self.grad_set[x];
        let dy = std::mem::take(&mut self.grads[y]);
        let args = &self.args[arg];
        let kernels = plan.kernels.ops();
        kernels.maxpool_backward(&dy, args, n, h, w, c, &mut self.grads[x], acc);
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
        // A deferred layer's weight gradient is left to Adam's step, which computes it from
        // the inputs and masked output gradients kept here.
        let deferred = (self.defer && !acc_params)
            .then(|| plan.deferred_index(wp.offset))
            .flatten();
        plan.kernels.ops().affine_backward(
            n,
            nin,
            nout,
            input,
            wv,
            &self.acts[y],
            relu,
            &mut dy,
            deferred.is_none().then_some(dw),
            db,
            acc_params,
            dx,
        );
        if let Some(d) = deferred {
            let kept = &mut self.kept[d];
            kept.x[..n * nin].copy_from_slice(&self.acts[x][..n * nin]);
            kept.dy[..n * nout].copy_from_slice(&dy[..n * nout]);
            kept.rows = n;
        }
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
