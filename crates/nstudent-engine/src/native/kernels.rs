//! The layers' forward and backward passes as plain functions over `(N, H, W, C)` slices.
//!
//! Convolution kernels are stored `(kh, kw, cin, cout)` (a `9 * cin x cout` matrix for 3x3),
//! dense kernels `(in, out)`, so both layers are one matrix product over the batch.

use super::linalg::{matmul, product_avx512, MatRef, Start};
use crate::KernelPath;

/// Shape of a convolution over an `(n, h, w, cin)` input with `k x k` kernels (k = 1 or 3),
/// stride 1, "same" zero padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvShape {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
}

impl ConvShape {
    pub fn rows(&self) -> usize {
        self.n * self.h * self.w
    }
    pub fn patch(&self) -> usize {
        self.k * self.k * self.cin
    }
}

/// Defines `$name` as `$body` compiled twice: for the baseline CPU and for AVX-512, picked at
/// run time. Only for loops whose float operations are each exact IEEE operations in a fixed
/// order (no sums across lanes): Rust never fuses a multiply and an add, so both builds give
/// the same bits, and the kernel paths and committed results are unaffected.
macro_rules! wide_when_possible {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? = $body:ident;) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
                unsafe fn wide($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if cpu_is_wide() {
                    // SAFETY: the CPU has the features `wide` is compiled for.
                    return unsafe { wide($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

/// Whether the CPU has AVX-512F, BW and VL (checked once, then cached by std).
#[cfg(target_arch = "x86_64")]
fn cpu_is_wide() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vl")
}

wide_when_possible! {
    /// Copies the 3x3 neighbourhood of every pixel into a row of `col` (`rows x 9 * cin`), zeros
    /// outside the image.
    fn im2col3(x: &[f32], s: ConvShape, col: &mut [f32]) = im2col3_body;
}

wide_when_possible! {
    /// Adds every row of `col` back onto the pixels it was copied from: the adjoint of
    /// [`im2col3`]. Without `accumulate`, each image of `dx` is zeroed first (while it is in
    /// cache), so `dx` is overwritten.
    fn col2im3(col: &[f32], s: ConvShape, dx: &mut [f32], accumulate: bool) = col2im3_body;
}

wide_when_possible! {
    /// `y = x @ w + bias` over `rows` rows, then ReLU when `relu`.
    fn affine_forward(
        path: KernelPath,
        rows: usize,
        nin: usize,
        nout: usize,
        x: MatRef<'_>,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    ) = affine_forward_body;
}

wide_when_possible! {
    /// Backward of [`affine_forward`]: masks `dy` by the ReLU in place (using the output `y`),
    /// writes (or, with `acc_params`, adds) the kernel and bias gradients, and, when `dx` is
    /// given, writes or adds `dy @ w^T`.
    fn affine_backward(
        path: KernelPath,
        rows: usize,
        nin: usize,
        nout: usize,
        x: MatRef<'_>,
        w: &[f32],
        y: &[f32],
        relu: bool,
        dy: &mut [f32],
        dw: &mut [f32],
        db: &mut [f32],
        acc_params: bool,
        dx: Option<(&mut [f32], bool)>,
    ) = affine_backward_body;
}

wide_when_possible! {
    /// Masks `dy` (`rows x nout`) by the ReLU of the output `y` when `relu`, and writes (or, with
    /// `accumulate`, adds) its column sums, the bias gradient, into `db`.
    fn relu_mask_and_bias_grad(
        rows: usize,
        nout: usize,
        y: &[f32],
        relu: bool,
        dy: &mut [f32],
        db: &mut [f32],
        accumulate: bool,
    ) = relu_mask_and_bias_grad_body;
}

#[inline(always)]
fn relu_mask_and_bias_grad_body(
    rows: usize,
    nout: usize,
    y: &[f32],
    relu: bool,
    dy: &mut [f32],
    db: &mut [f32],
    accumulate: bool,
) {
    let dy = &mut dy[..rows * nout];
    if !accumulate {
        db.fill(0.0);
    }
    // ReLU mask and bias gradient in one pass.
    if relu {
        for (r, yr) in dy.chunks_exact_mut(nout).zip(y.chunks_exact(nout)) {
            for ((g, &v), b) in r.iter_mut().zip(yr).zip(db.iter_mut()) {
                let masked = if v > 0.0 { *g } else { 0.0 };
                *g = masked;
                *b += masked;
            }
        }
    } else {
        for r in dy.chunks_exact(nout) {
            for (b, g) in db.iter_mut().zip(r) {
                *b += *g;
            }
        }
    }
}

/// 2x2 max-pooling with stride 2 (odd trailing rows/columns dropped, as Keras' "valid").
/// `arg` records which of the four inputs won (0..4, row-major in the window; the first of
/// equal values wins).
pub(crate) fn maxpool_forward(
    x: &[f32],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    y: &mut [f32],
    arg: &mut [u8],
) {
    #[cfg(target_arch = "x86_64")]
    if c.is_multiple_of(16) && cpu_is_wide() {
        // SAFETY: the CPU has AVX-512F/BW/VL.
        unsafe { pool_zmm::forward(x, n, h, w, c, y, arg) };
        return;
    }
    maxpool_forward_scalar(x, n, h, w, c, y, arg)
}

/// Backward of [`maxpool_forward`]: routes each output gradient to the input that won.
#[allow(clippy::too_many_arguments)]
pub(crate) fn maxpool_backward(
    dy: &[f32],
    arg: &[u8],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    dx: &mut [f32],
    accumulate: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if c.is_multiple_of(16) && w.is_multiple_of(2) && h.is_multiple_of(2) && cpu_is_wide() {
        // SAFETY: the CPU has AVX-512F/BW/VL.
        unsafe { pool_zmm::backward(dy, arg, n, h, w, c, dx, accumulate) };
        return;
    }
    maxpool_backward_scalar(dy, arg, n, h, w, c, dx, accumulate)
}

/// Max-pooling in AVX-512 for channel counts that are multiples of 16: the same comparisons in
/// the same order as the scalar loops, so the same bits.
#[cfg(target_arch = "x86_64")]
pub(crate) mod pool_zmm {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    pub(super) unsafe fn forward(
        x: &[f32],
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        y: &mut [f32],
        arg: &mut [u8],
    ) {
        let (oh, ow) = (h / 2, w / 2);
        assert!(
            x.len() >= n * h * w * c && y.len() >= n * oh * ow * c && arg.len() >= n * oh * ow * c
        );
        let (xp, yp, ap) = (x.as_ptr(), y.as_mut_ptr(), arg.as_mut_ptr());
        for img in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    let o = ((img * oh + oy) * ow + ox) * c;
                    let p00 = xp.add(img * h * w * c + ((2 * oy) * w + 2 * ox) * c);
                    let window = [p00, p00.add(c), p00.add(w * c), p00.add(w * c + c)];
                    for ch in (0..c).step_by(16) {
                        window_max16(window, ch, yp.add(o + ch), ap.add(o + ch));
                    }
                }
            }
        }
    }

    /// The maximum of 16 channels (from `ch`) over a 2x2 window (its 4 pixels in the order
    /// top-left, top-right, bottom-left, bottom-right) into `y`, and its position (0-3, the
    /// first of ties) into `arg`: the comparisons of the scalar loops, in their order.
    ///
    /// # Safety
    /// AVX-512F; 16 floats at each pixel plus `ch`, 16 at `y` and 16 bytes at `arg`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn window_max16(
        window: [*const f32; 4],
        ch: usize,
        y: *mut f32,
        arg: *mut u8,
    ) {
        let mut best = _mm512_loadu_ps(window[0].add(ch));
        let mut bi = _mm512_setzero_si512();
        for (pos, p) in window.iter().enumerate().skip(1) {
            let v = _mm512_loadu_ps(p.add(ch));
            let gt = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, best);
            best = _mm512_mask_mov_ps(best, gt, v);
            bi = _mm512_mask_mov_epi32(bi, gt, _mm512_set1_epi32(pos as i32));
        }
        _mm512_storeu_ps(y, best);
        _mm_storeu_si128(arg.cast(), _mm512_cvtepi32_epi8(bi));
    }

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    pub(super) unsafe fn backward(
        dy: &[f32],
        arg: &[u8],
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        dx: &mut [f32],
        accumulate: bool,
    ) {
        let (oh, ow) = (h / 2, w / 2);
        assert!(
            dx.len() >= n * h * w * c
                && dy.len() >= n * oh * ow * c
                && arg.len() >= n * oh * ow * c
        );
        let (gp, ap, dp) = (dy.as_ptr(), arg.as_ptr(), dx.as_mut_ptr());
        for img in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    let o = ((img * oh + oy) * ow + ox) * c;
                    let p00 = img * h * w * c + ((2 * oy) * w + 2 * ox) * c;
                    let offs = [p00, p00 + c, p00 + w * c, p00 + w * c + c];
                    for ch in (0..c).step_by(16) {
                        let g = _mm512_loadu_ps(gp.add(o + ch));
                        let a = _mm512_cvtepu8_epi32(_mm_loadu_si128(ap.add(o + ch).cast()));
                        for (pos, off) in offs.iter().enumerate() {
                            let won = _mm512_cmpeq_epi32_mask(a, _mm512_set1_epi32(pos as i32));
                            let d = dp.add(off + ch);
                            let v = if accumulate {
                                _mm512_mask_add_ps(_mm512_loadu_ps(d), won, _mm512_loadu_ps(d), g)
                            } else {
                                _mm512_maskz_mov_ps(won, g)
                            };
                            _mm512_storeu_ps(d, v);
                        }
                    }
                }
            }
        }
    }
}

wide_when_possible! {
    /// The scalar loops of [`maxpool_forward`].
    fn maxpool_forward_scalar(
        x: &[f32],
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        y: &mut [f32],
        arg: &mut [u8],
    ) = maxpool_forward_body;
}

wide_when_possible! {
    /// The scalar loops of [`maxpool_backward`].
    fn maxpool_backward_scalar(
        dy: &[f32],
        arg: &[u8],
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        dx: &mut [f32],
        accumulate: bool,
    ) = maxpool_backward_body;
}

wide_when_possible! {
    /// [`adam_step`] on the sum of several gradient vectors (added in order, so the result does
    /// not depend on how the parameters are split across threads); `params`, `m` and `v` start
    /// at element `offset` of each gradient vector.
    fn adam_step_sum(
        cfg: AdamConfig,
        t: u64,
        params: &mut [f32],
        grads: &[Vec<f32>],
        offset: usize,
        m: &mut [f32],
        v: &mut [f32],
    ) = adam_step_sum_body;
}

/// The loops of [`im2col3`].
#[inline(always)]
fn im2col3_body(x: &[f32], s: ConvShape, col: &mut [f32]) {
    let (h, w, c) = (s.h, s.w, s.cin);
    let patch = 9 * c;
    let col = &mut col[..s.rows() * patch];
    for (img, (xi, ci)) in x
        .chunks_exact(h * w * c)
        .zip(col.chunks_exact_mut(h * w * patch))
        .enumerate()
        .take(s.n)
    {
        let _ = img;
        for y in 0..h {
            for xx in 0..w {
                let row = &mut ci[(y * w + xx) * patch..(y * w + xx + 1) * patch];
                for ky in 0..3 {
                    let sy = y as isize + ky as isize - 1;
                    let dst = &mut row[ky * 3 * c..(ky + 1) * 3 * c];
                    if sy < 0 || sy >= h as isize {
                        dst.fill(0.0);
                        continue;
                    }
                    let src_row = &xi[sy as usize * w * c..(sy as usize + 1) * w * c];
                    if c < 8 {
                        for kx in 0..3 {
                            let sx = xx as isize + kx as isize - 1;
                            for ch in 0..c {
                                dst[kx * c + ch] = if sx < 0 || sx >= w as isize {
                                    0.0
                                } else {
                                    src_row[sx as usize * c + ch]
                                };
                            }
                        }
                    } else if xx >= 1 && xx + 1 < w {
                        dst.copy_from_slice(&src_row[(xx - 1) * c..(xx + 2) * c]);
                    } else {
                        for kx in 0..3 {
                            let sx = xx as isize + kx as isize - 1;
                            let d = &mut dst[kx * c..(kx + 1) * c];
                            if sx < 0 || sx >= w as isize {
                                d.fill(0.0);
                            } else {
                                d.copy_from_slice(&src_row[sx as usize * c..(sx as usize + 1) * c]);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The loops of [`col2im3`].
#[inline(always)]
fn col2im3_body(col: &[f32], s: ConvShape, dx: &mut [f32], accumulate: bool) {
    let (h, w, c) = (s.h, s.w, s.cin);
    let patch = 9 * c;
    for (dxi, ci) in dx
        .chunks_exact_mut(h * w * c)
        .zip(col.chunks_exact(h * w * patch))
        .take(s.n)
    {
        if !accumulate {
            dxi.fill(0.0);
        }
        for y in 0..h {
            for xx in 0..w {
                let row = &ci[(y * w + xx) * patch..(y * w + xx + 1) * patch];
                for ky in 0..3 {
                    let sy = y as isize + ky as isize - 1;
                    if sy < 0 || sy >= h as isize {
                        continue;
                    }
                    let dst_row = &mut dxi[sy as usize * w * c..(sy as usize + 1) * w * c];
                    for kx in 0..3 {
                        let sx = xx as isize + kx as isize - 1;
                        if sx < 0 || sx >= w as isize {
                            continue;
                        }
                        let src = &row[(ky * 3 + kx) * c..(ky * 3 + kx + 1) * c];
                        let d = &mut dst_row[sx as usize * c..(sx as usize + 1) * c];
                        for (a, b) in d.iter_mut().zip(src) {
                            *a += *b;
                        }
                    }
                }
            }
        }
    }
}

/// The loops of [`affine_forward`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn affine_forward_body(
    path: KernelPath,
    rows: usize,
    nin: usize,
    nout: usize,
    x: MatRef<'_>,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    let y = &mut y[..rows * nout];
    if path == KernelPath::Avx512 {
        // Bias and ReLU in the kernel's epilogue: one pass over `y`.
        let (w, bias) = (MatRef::rows(w, nout), Start::Bias(bias));
        product_avx512(rows, nout, nin, x, w, y, nout, bias, relu);
        return;
    }
    for r in y.chunks_exact_mut(nout) {
        r.copy_from_slice(bias);
    }
    matmul(
        path,
        rows,
        nout,
        nin,
        x,
        MatRef::rows(w, nout),
        y,
        nout,
        true,
    );
    if relu {
        for v in y.iter_mut() {
            *v = v.max(0.0);
        }
    }
}

/// The loops of [`affine_backward`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn affine_backward_body(
    path: KernelPath,
    rows: usize,
    nin: usize,
    nout: usize,
    x: MatRef<'_>,
    w: &[f32],
    y: &[f32],
    relu: bool,
    dy: &mut [f32],
    dw: &mut [f32],
    db: &mut [f32],
    acc_params: bool,
    dx: Option<(&mut [f32], bool)>,
) {
    let dy = &mut dy[..rows * nout];
    relu_mask_and_bias_grad_body(rows, nout, y, relu, dy, db, acc_params);
    // dw (nin x nout) = x^T (nin x rows) @ dy (rows x nout)
    let xt = MatRef {
        data: x.data,
        rs: x.cs,
        cs: x.rs,
    };
    matmul(
        path,
        nin,
        nout,
        rows,
        xt,
        MatRef::rows(dy, nout),
        dw,
        nout,
        acc_params,
    );
    if let Some((dx, accumulate)) = dx {
        // dx (rows x nin) = dy (rows x nout) @ w^T (nout x nin)
        matmul(
            path,
            rows,
            nin,
            nout,
            MatRef::rows(dy, nout),
            MatRef::rows_t(w, nout),
            dx,
            nin,
            accumulate,
        );
    }
}

/// The loops of [`maxpool_forward_scalar`].
#[inline(always)]
fn maxpool_forward_body(
    x: &[f32],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    y: &mut [f32],
    arg: &mut [u8],
) {
    let (oh, ow) = (h / 2, w / 2);
    for img in 0..n {
        let xi = &x[img * h * w * c..(img + 1) * h * w * c];
        for oy in 0..oh {
            for ox in 0..ow {
                let o = ((img * oh + oy) * ow + ox) * c;
                let p00 = ((2 * oy) * w + 2 * ox) * c;
                let p01 = p00 + c;
                let p10 = p00 + w * c;
                let p11 = p10 + c;
                let yo = &mut y[o..o + c];
                let ao = &mut arg[o..o + c];
                for ch in 0..c {
                    let (mut best, mut bi) = (xi[p00 + ch], 0u8);
                    let v = xi[p01 + ch];
                    if v > best {
                        best = v;
                        bi = 1;
                    }
                    let v = xi[p10 + ch];
                    if v > best {
                        best = v;
                        bi = 2;
                    }
                    let v = xi[p11 + ch];
                    if v > best {
                        best = v;
                        bi = 3;
                    }
                    yo[ch] = best;
                    ao[ch] = bi;
                }
            }
        }
    }
}

/// The loops of [`maxpool_backward_scalar`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn maxpool_backward_body(
    dy: &[f32],
    arg: &[u8],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    dx: &mut [f32],
    accumulate: bool,
) {
    let (oh, ow) = (h / 2, w / 2);
    if !accumulate {
        dx[..n * h * w * c].fill(0.0);
    }
    for img in 0..n {
        let dxi = &mut dx[img * h * w * c..(img + 1) * h * w * c];
        for oy in 0..oh {
            for ox in 0..ow {
                let o = ((img * oh + oy) * ow + ox) * c;
                let p00 = ((2 * oy) * w + 2 * ox) * c;
                let offs = [p00, p00 + c, p00 + w * c, p00 + w * c + c];
                for ch in 0..c {
                    dxi[offs[arg[o + ch] as usize] + ch] += dy[o + ch];
                }
            }
        }
    }
}

/// Targets of one batch, aligned with the batch's images.
#[derive(Clone, Copy)]
pub(crate) enum BatchTargets<'a> {
    Hard(&'a [u16]),
    Soft(&'a [f32]),
}

/// Softmax cross-entropy over `n` rows of `k` logits: writes probabilities into `probs`, the
/// gradient `(p - t) * scale` into `dlogits`, and returns the summed (not averaged) loss.
pub(crate) fn softmax_xent(
    logits: &[f32],
    n: usize,
    k: usize,
    targets: BatchTargets<'_>,
    scale: f32,
    probs: &mut [f32],
    dlogits: &mut [f32],
) -> f64 {
    softmax(logits, n, k, probs);
    let mut loss = 0.0f64;
    for i in 0..n {
        let p = &probs[i * k..(i + 1) * k];
        let lg = &logits[i * k..(i + 1) * k];
        let g = &mut dlogits[i * k..(i + 1) * k];
        let max = lg.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + lg.iter().map(|&v| (v - max).exp()).sum::<f32>().ln();
        match targets {
            BatchTargets::Hard(labels) => {
                let t = usize::from(labels[i]);
                loss += f64::from(lse - lg[t]);
                for (j, (gj, &pj)) in g.iter_mut().zip(p).enumerate() {
                    *gj = (pj - if j == t { 1.0 } else { 0.0 }) * scale;
                }
            }
            BatchTargets::Soft(t) => {
                let t = &t[i * k..(i + 1) * k];
                for j in 0..k {
                    if t[j] != 0.0 {
                        loss += f64::from(t[j] * (lse - lg[j]));
                    }
                    g[j] = (p[j] - t[j]) * scale;
                }
            }
        }
    }
    loss
}

/// Row-wise softmax of `n` rows of `k` logits.
pub(crate) fn softmax(logits: &[f32], n: usize, k: usize, probs: &mut [f32]) {
    for i in 0..n {
        let lg = &logits[i * k..(i + 1) * k];
        let p = &mut probs[i * k..(i + 1) * k];
        let max = lg.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for (pj, &l) in p.iter_mut().zip(lg) {
            *pj = (l - max).exp();
            sum += *pj;
        }
        let inv = 1.0 / sum;
        for pj in p.iter_mut() {
            *pj *= inv;
        }
    }
}

/// Adam hyper-parameters. `eps` is added to the bias-corrected `sqrt(v_hat)`, as in
/// `torch.optim.Adam` (Keras adds it to the uncorrected `sqrt(v)`; see the crate docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

/// One Adam step at 1-based step `t` on flat parameter, gradient and moment vectors.
#[cfg(test)]
pub(crate) fn adam_step(
    cfg: AdamConfig,
    t: u64,
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    adam_step_sum(cfg, t, params, &[grads.to_vec()], 0, m, v);
}

/// The loops of [`adam_step_sum`].
#[inline(always)]
fn adam_step_sum_body(
    cfg: AdamConfig,
    t: u64,
    params: &mut [f32],
    grads: &[Vec<f32>],
    offset: usize,
    m: &mut [f32],
    v: &mut [f32],
) {
    let t = t as i32;
    let bc1 = 1.0 - (cfg.beta1 as f64).powi(t);
    let bc2 = 1.0 - (cfg.beta2 as f64).powi(t);
    let step = (cfg.lr as f64 / bc1) as f32;
    let sqrt_bc2 = bc2.sqrt() as f32;
    let (b1, b2) = (cfg.beta1, cfg.beta2);
    let len = params.len();
    let (first, rest) = grads.split_first().expect("at least one gradient");
    // In blocks: the gradients are summed (in order, the same sums as element by element),
    // then the update runs over the block; both loops vectorize.
    const BLOCK: usize = 1024;
    let mut sum = [0.0f32; BLOCK];
    for b0 in (0..len).step_by(BLOCK) {
        let nb = BLOCK.min(len - b0);
        let at = offset + b0;
        // One gradient is used in place; several are added into `sum`, the first two in one
        // pass (no copy of the first).
        let g: &[f32] = match rest.split_first() {
            None => &first[at..at + nb],
            Some((second, others)) => {
                let sum = &mut sum[..nb];
                for ((s, &a), &b) in sum
                    .iter_mut()
                    .zip(&first[at..at + nb])
                    .zip(&second[at..at + nb])
                {
                    *s = a + b;
                }
                for r in others {
                    for (s, &ri) in sum.iter_mut().zip(&r[at..at + nb]) {
                        *s += ri;
                    }
                }
                sum
            }
        };
        let (p, m, v) = (
            &mut params[b0..b0 + nb],
            &mut m[b0..b0 + nb],
            &mut v[b0..b0 + nb],
        );
        for (((pi, mi), vi), &gi) in p
            .iter_mut()
            .zip(m.iter_mut())
            .zip(v.iter_mut())
            .zip(g.iter())
        {
            let mn = b1 * *mi + (1.0 - b1) * gi;
            let vn = b2 * *vi + (1.0 - b2) * gi * gi;
            *mi = mn;
            *vi = vn;
            *pi -= step * mn / (vn.sqrt() / sqrt_bc2 + cfg.eps);
        }
    }
}

#[cfg(test)]
mod pool_tests {
    use super::*;

    /// The AVX-512 pooling gives the scalar loops' bits, ties included (the first maximum of a
    /// window wins), forward and backward, written and accumulated.
    #[test]
    fn vector_pooling_gives_the_scalar_bits() {
        let (n, h, w, c) = (2, 6, 4, 32);
        // Few distinct values: many ties inside windows.
        let x: Vec<f32> = (0..n * h * w * c)
            .map(|i| ((i * 7919) % 5) as f32 - 2.0)
            .collect();
        let out = n * (h / 2) * (w / 2) * c;
        let (mut y1, mut a1) = (vec![0.0; out], vec![9u8; out]);
        let (mut y2, mut a2) = (vec![0.0; out], vec![9u8; out]);
        maxpool_forward(&x, n, h, w, c, &mut y1, &mut a1);
        maxpool_forward_scalar(&x, n, h, w, c, &mut y2, &mut a2);
        assert_eq!(a1, a2);
        assert!(y1.iter().zip(&y2).all(|(a, b)| a.to_bits() == b.to_bits()));
        let dy: Vec<f32> = (0..out).map(|i| (i as f32 * 0.37).sin()).collect();
        for accumulate in [false, true] {
            let start: Vec<f32> = (0..x.len()).map(|i| (i as f32 * 0.11).cos()).collect();
            let (mut d1, mut d2) = (start.clone(), start);
            maxpool_backward(&dy, &a1, n, h, w, c, &mut d1, accumulate);
            maxpool_backward_scalar(&dy, &a1, n, h, w, c, &mut d2, accumulate);
            assert!(
                d1.iter().zip(&d2).all(|(a, b)| a.to_bits() == b.to_bits()),
                "backward, accumulate {accumulate}"
            );
        }
        if !cpu_is_wide_for_tests() {
            eprintln!("this CPU has no AVX-512: both calls ran the scalar loops");
        }
    }

    fn cpu_is_wide_for_tests() -> bool {
        #[cfg(target_arch = "x86_64")]
        return cpu_is_wide();
        #[cfg(not(target_arch = "x86_64"))]
        false
    }
}
