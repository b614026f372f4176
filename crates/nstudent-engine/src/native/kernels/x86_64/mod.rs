//! The x86-64 kernels: everything in the engine that is compiled for AVX-512.
//!
//! As in `matrixmultiply` (`src/kernel.rs`), the CPU is detected once, into a value: an
//! [`Avx512`] token, zero-sized, whose only constructor is [`Avx512::detect`]. Every function
//! compiled with `#[target_feature]` is private to this module tree; the safe world reaches one
//! only through a method of a token (or of [`Wide`], which holds one), so holding the token is
//! the proof that the CPU runs the code, and no `unsafe` outside this module depends on it.

mod direct;
mod direct_zmm;
mod gemm;
mod implicit;
mod pool;
#[cfg(test)]
mod tests;
mod wide;
mod winograd;

pub(crate) use wide::Wide;

use super::ops::Kernels;
use super::types::{check_output, AdamStep, AvxConv, ConvShape, Gradients, MatRef, Start};

/// Proof that this CPU runs AVX-512F, BW and VL: made only by [`Avx512::detect`], so a value
/// exists only on such a CPU. The AVX-512 kernel set, and the conduit to every AVX-512
/// function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Avx512 {
    _proof: (),
}

impl Avx512 {
    /// The token, when this CPU has AVX-512F, BW and VL (std caches the detection).
    pub fn detect() -> Option<Self> {
        let has = std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl");
        has.then_some(Avx512 { _proof: () })
    }

    /// This set as the trait the executor calls.
    pub fn kernels(&self) -> &dyn Kernels {
        self
    }

    /// The loops of the portable kernels, compiled for this CPU.
    fn wide(self) -> Wide {
        Wide::new(self)
    }

    /// How this set computes a convolution of shape `s` (`reads_input`: its input is the
    /// model's): directly for the input layer where [`direct::supports`] its shape, by
    /// Winograd where [`winograd::supports`] it, as an implicit product for any other 3x3;
    /// `None` for a 1x1 convolution (a plain product over the activations).
    pub fn conv_method(self, s: ConvShape, reads_input: bool) -> Option<AvxConv> {
        if reads_input && direct::supports(s) {
            Some(AvxConv::Direct)
        } else if winograd::supports(s) {
            Some(AvxConv::Winograd)
        } else if s.k == 3 {
            Some(AvxConv::Implicit)
        } else {
            None
        }
    }

    /// Whether a direct convolution of shape `s` can take the 2x2 max-pool after it into its
    /// own passes ([`Avx512::conv_pool_forward`]).
    pub fn fuses_pool(self, s: ConvShape) -> bool {
        direct::supports_pooled(s)
    }

    /// `y = relu?(conv3x3(x, w) + bias)` by `method`; `w` is `(3, 3, cin, cout)`.
    #[allow(clippy::too_many_arguments)]
    pub fn conv_forward(
        self,
        method: AvxConv,
        x: &[f32],
        s: ConvShape,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    ) {
        match method {
            AvxConv::Direct => direct::forward(self, x, s, w, bias, relu, y),
            AvxConv::Winograd => winograd::forward(self, x, s, w, bias, relu, y),
            AvxConv::Implicit => implicit::forward(self, x, s, w, bias, relu, y),
        }
    }

    /// The backward pass of [`Avx512::conv_forward`]: masks `dy` by the ReLU of the output
    /// `y`, writes (or, with `acc_params`, adds) `dw` and `db`, and the input's gradient into
    /// `dx` when given (added when its flag is set). A direct convolution reads the model's
    /// input and computes no `dx`.
    #[allow(clippy::too_many_arguments)]
    pub fn conv_backward(
        self,
        method: AvxConv,
        x: &[f32],
        s: ConvShape,
        w: &[f32],
        y: &[f32],
        relu: bool,
        dy: &mut [f32],
        (dw, db): (&mut [f32], &mut [f32]),
        acc_params: bool,
        dx: Option<(&mut [f32], bool)>,
    ) {
        if method == AvxConv::Direct {
            return direct::backward(self, x, s, y, relu, dy, dw, db, acc_params);
        }
        let wide = self.wide();
        wide.relu_mask_and_bias_grad(s.rows(), s.cout, y, relu, dy, db, acc_params);
        match method {
            AvxConv::Winograd => winograd::backward(self, x, s, w, dy, dw, acc_params, dx),
            _ => implicit::backward(self, x, s, w, dy, dw, acc_params, dx),
        }
    }

    /// A direct convolution followed by a 2x2 max-pool, for the shapes
    /// [`Avx512::fuses_pool`] takes: the pool's outputs and window positions, the same bits
    /// as the two in turn.
    #[allow(clippy::too_many_arguments)]
    pub fn conv_pool_forward(
        self,
        x: &[f32],
        s: ConvShape,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        pooled: &mut [f32],
        arg: &mut [u8],
    ) {
        direct::forward_pooled(self, x, s, w, bias, relu, pooled, arg)
    }

    /// The backward pass of [`Avx512::conv_pool_forward`] from the pool's output gradient
    /// `dp`: writes (or, with `accumulate`, adds) `dw` and `db`.
    #[allow(clippy::too_many_arguments)]
    pub fn conv_pool_backward(
        self,
        x: &[f32],
        s: ConvShape,
        pooled: &[f32],
        arg: &[u8],
        dp: &[f32],
        relu: bool,
        (dw, db): (&mut [f32], &mut [f32]),
        accumulate: bool,
    ) {
        direct::backward_pooled(self, x, s, pooled, arg, dp, relu, dw, db, accumulate)
    }

    /// `c = start + a * b`, then ReLU when `relu`, on the unpacked AVX-512 product, after
    /// checking that every element it reads or writes is inside the slices.
    #[allow(clippy::too_many_arguments)]
    fn product(
        self,
        m: usize,
        n: usize,
        k: usize,
        a: MatRef<'_>,
        b: MatRef<'_>,
        c: &mut [f32],
        ldc: usize,
        start: Start<'_>,
        relu: bool,
    ) {
        if m == 0 || n == 0 {
            return;
        }
        check_output(m, n, c, ldc);
        if k > 0 {
            a.check(m, k);
            b.check(k, n);
        }
        if let Start::Bias(bias) = start {
            assert!(bias.len() >= n, "bias out of bounds");
        }
        // SAFETY: `self` proves AVX-512F; the checks above keep every element the product
        // reads or writes inside the slices.
        unsafe { gemm::gemm(m, n, k, a, b, c, ldc, start, relu) }
    }
}

impl Kernels for Avx512 {
    /// `gemm`'s tiles start from zero and add one `vfmadd` per depth step, in order, over a
    /// block of 256 steps; a chunk has at most 16 rows.
    fn weight_grad_is_fma_chain(&self) -> bool {
        true
    }

    fn matmul(
        &self,
        m: usize,
        n: usize,
        k: usize,
        a: MatRef<'_>,
        b: MatRef<'_>,
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        if k == 0 && m > 0 && n > 0 {
            check_output(m, n, c, ldc);
            if !accumulate {
                for r in 0..m {
                    c[r * ldc..r * ldc + n].fill(0.0);
                }
            }
            return;
        }
        let start = if accumulate {
            Start::Accumulate
        } else {
            Start::Zero
        };
        self.product(m, n, k, a, b, c, ldc, start, false)
    }

    fn im2col3(&self, x: &[f32], s: ConvShape, col: &mut [f32]) {
        self.wide().im2col3(x, s, col)
    }

    fn col2im3(&self, col: &[f32], s: ConvShape, dx: &mut [f32], accumulate: bool) {
        self.wide().col2im3(col, s, dx, accumulate)
    }

    fn affine_forward(
        &self,
        rows: usize,
        nin: usize,
        nout: usize,
        x: MatRef<'_>,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    ) {
        // Bias and ReLU in the kernel's epilogue: one pass over `y`.
        let y = &mut y[..rows * nout];
        let (w, bias) = (MatRef::rows(w, nout), Start::Bias(bias));
        self.product(rows, nout, nin, x, w, y, nout, bias, relu)
    }

    fn affine_backward(
        &self,
        rows: usize,
        nin: usize,
        nout: usize,
        x: MatRef<'_>,
        w: &[f32],
        y: &[f32],
        relu: bool,
        dy: &mut [f32],
        dw: Option<&mut [f32]>,
        db: &mut [f32],
        acc_params: bool,
        dx: Option<(&mut [f32], bool)>,
    ) {
        let dy = &mut dy[..rows * nout];
        self.relu_mask_and_bias_grad(rows, nout, y, relu, dy, db, acc_params);
        // dw (nin x nout) = x^T (nin x rows) @ dy (rows x nout)
        let dyr = MatRef::rows(dy, nout);
        if let Some(dw) = dw {
            self.matmul(nin, nout, rows, x.t(), dyr, dw, nout, acc_params);
        }
        if let Some((dx, accumulate)) = dx {
            // dx (rows x nin) = dy (rows x nout) @ w^T (nout x nin)
            let wt = MatRef::rows_t(w, nout);
            self.matmul(rows, nin, nout, dyr, wt, dx, nin, accumulate);
        }
    }

    fn relu_mask_and_bias_grad(
        &self,
        rows: usize,
        nout: usize,
        y: &[f32],
        relu: bool,
        dy: &mut [f32],
        db: &mut [f32],
        accumulate: bool,
    ) {
        self.wide()
            .relu_mask_and_bias_grad(rows, nout, y, relu, dy, db, accumulate)
    }

    fn maxpool_forward(
        &self,
        x: &[f32],
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        y: &mut [f32],
        arg: &mut [u8],
    ) {
        self.wide().maxpool_forward(x, n, h, w, c, y, arg)
    }

    fn maxpool_backward(
        &self,
        dy: &[f32],
        arg: &[u8],
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        dx: &mut [f32],
        accumulate: bool,
    ) {
        self.wide()
            .maxpool_backward(dy, arg, n, h, w, c, dx, accumulate)
    }

    fn adam_step_sum(
        &self,
        adam: AdamStep,
        old: &[f32],
        params: &mut [f32],
        grads: Gradients<'_>,
        offset: usize,
        m: &mut [f32],
        v: &mut [f32],
    ) {
        self.wide()
            .adam_step_sum(adam, old, params, grads, offset, m, v)
    }
}

/// Grows `v` to `len` (zeros) without touching what is there.
fn at_least(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

/// Copies the `(h, w, c)` images into `(h + 2, w + 2, c)` images with a border of zeros, so
/// that every output pixel of a 3x3 convolution reads all 9 taps (grows `out`, writes every
/// value it uses).
fn pad(x: &[f32], s: ConvShape, out: &mut Vec<f32>) {
    let (h, w, c) = (s.h, s.w, s.cin);
    let (hp, wp) = (h + 2, w + 2);
    at_least(out, s.n * hp * wp * c);
    for (src, dst) in x
        .chunks_exact(h * w * c)
        .zip(out.chunks_exact_mut(hp * wp * c))
        .take(s.n)
    {
        dst[..wp * c].fill(0.0);
        for y in 0..h {
            let row = &mut dst[(y + 1) * wp * c..(y + 2) * wp * c];
            row[..c].fill(0.0);
            row[c..(w + 1) * c].copy_from_slice(&src[y * w * c..(y + 1) * w * c]);
            row[(w + 1) * c..].fill(0.0);
        }
        dst[(hp - 1) * wp * c..].fill(0.0);
    }
}
