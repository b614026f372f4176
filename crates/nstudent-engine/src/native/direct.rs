//! Direct 3x3 "same" convolution of the model's input layer (1 to 4 input channels), forward
//! and backward, for the AVX-512 path.
//!
//! Through im2col, a 3x3 convolution over one channel is a matrix product of depth 9, a shape on
//! which GEMM spends more time packing than multiplying. Here each output pixel keeps its
//! `COUT` sums in registers and adds the 9 * `cin` taps straight from the image. The weight
//! gradient keeps the 9 taps of one input channel (9 * `COUT` sums) in registers over all pixels.
//!
//! With 32 output channels (the study's models) the kernels are AVX-512 intrinsics over images
//! padded with a border of zeros; other widths use a portable body of the same loops.

use super::kernels::{relu_mask_and_bias_grad, ConvShape};

/// Output channels the direct convolution is compiled for; other widths use im2col + GEMM.
pub(crate) fn supports(s: ConvShape) -> bool {
    s.k == 3 && (1..=4).contains(&s.cin) && matches!(s.cout, 8 | 32)
}

/// `y = relu?(conv3x3(x, w) + bias)` over `s.n` `(h, w, cin)` images; `w` is `(3, 3, cin, cout)`.
pub(crate) fn forward(x: &[f32], s: ConvShape, w: &[f32], bias: &[f32], relu: bool, y: &mut [f32]) {
    assert!(supports(s));
    let out = &mut y[..s.rows() * s.cout];
    let x = &x[..s.n * s.h * s.w * s.cin];
    let w = &w[..9 * s.cin * s.cout];
    match s.cout {
        8 => dispatch_forward::<8>(x, s, w, bias, relu, out),
        _ => dispatch_forward::<32>(x, s, w, bias, relu, out),
    }
}

/// Masks `dy` by the ReLU (from the output `y`) when `relu`, and writes (or, with `accumulate`,
/// adds) the bias gradient `db` and the weight gradient `dw`. The input's gradient is not
/// computed: this layer reads the model's input.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    x: &[f32],
    s: ConvShape,
    y: &[f32],
    relu: bool,
    dy: &mut [f32],
    dw: &mut [f32],
    db: &mut [f32],
    accumulate: bool,
) {
    assert!(supports(s));
    let rows = s.rows();
    let dy = &mut dy[..rows * s.cout];
    let y = &y[..rows * s.cout];
    if !accumulate {
        db.fill(0.0);
        dw.fill(0.0);
    }
    #[cfg(target_arch = "x86_64")]
    if s.cout == 32 && std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F; `y` and `dy` hold 32 values per pixel, `db` 32.
        unsafe { zmm::mask_and_bias32(y, relu, dy, &mut db[..32]) };
    } else {
        relu_mask_and_bias_grad(rows, s.cout, y, relu, dy, db, true);
    }
    #[cfg(not(target_arch = "x86_64"))]
    relu_mask_and_bias_grad(rows, s.cout, y, relu, dy, db, true);
    let x = &x[..s.n * s.h * s.w * s.cin];
    match s.cout {
        8 => dispatch_weights::<8>(x, s, dy, dw),
        _ => dispatch_weights::<32>(x, s, dy, dw),
    }
}

/// Whether [`backward_pooled`] takes shape `s`: 32 output channels (the study's models), even
/// height and width, on a CPU with AVX-512F.
pub(crate) fn supports_pooled(s: ConvShape) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        supports(s)
            && s.cout == 32
            && s.h.is_multiple_of(2)
            && s.w.is_multiple_of(2)
            && std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = s;
        false
    }
}

/// The backward pass of this convolution followed by a 2x2 max-pool, from the pool's side:
/// `dp`, the gradient of the pool's outputs `pooled`, and `arg`, the window position each came
/// from (as `maxpool_forward` writes it). Each pooled gradient goes to the pixel its value came
/// from, masked by the ReLU when `relu` (that pixel's output is the pooled value), and the
/// weight and bias gradients are summed over those pixels only. The convolution's output
/// gradient, four times the pool's size and three quarters zeros, is never written: the
/// separate pool backward pass wrote it, and the ReLU mask and the weight gradient read it.
/// Writes (or, with `accumulate`, adds) `dw` and `db`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_pooled(
    x: &[f32],
    s: ConvShape,
    pooled: &[f32],
    arg: &[u8],
    dp: &[f32],
    relu: bool,
    dw: &mut [f32],
    db: &mut [f32],
    accumulate: bool,
) {
    assert!(
        supports_pooled(s),
        "pooled direct backward on an unsupported shape"
    );
    let cells = s.n * (s.h / 2) * (s.w / 2) * 32;
    let (pooled, arg, dp) = (&pooled[..cells], &arg[..cells], &dp[..cells]);
    let (dw, db) = (&mut dw[..9 * s.cin * 32], &mut db[..32]);
    if !accumulate {
        db.fill(0.0);
        dw.fill(0.0);
    }
    #[cfg(target_arch = "x86_64")]
    PADDED.with(|p| {
        let xp = &mut p.borrow_mut();
        pad(&x[..s.n * s.h * s.w * s.cin], s, xp);
        // SAFETY: the CPU has AVX-512F (`supports_pooled`); the slices above hold what the
        // kernel reads and writes (asserted again there).
        unsafe {
            match s.cin {
                1 => zmm::pooled_weights32::<1>(xp, s, pooled, arg, dp, relu, dw, db),
                2 => zmm::pooled_weights32::<2>(xp, s, pooled, arg, dp, relu, dw, db),
                3 => zmm::pooled_weights32::<3>(xp, s, pooled, arg, dp, relu, dw, db),
                _ => zmm::pooled_weights32::<4>(xp, s, pooled, arg, dp, relu, dw, db),
            }
        }
    });
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!(
        "no pooled direct backward without AVX-512 ({x:?}, {pooled:?}, {arg:?}, {dp:?}, {relu})"
    );
}

/// This convolution followed by a 2x2 max-pool, for the shapes [`supports_pooled`] takes:
/// writes the pool's outputs `pooled` and window positions `arg` (as `maxpool_forward` does),
/// the same bits as the two in turn, without the full-size output in between.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_pooled(
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    pooled: &mut [f32],
    arg: &mut [u8],
) {
    assert!(
        supports_pooled(s),
        "pooled direct forward on an unsupported shape"
    );
    let (w, bias) = (&w[..9 * s.cin * 32], &bias[..32]);
    #[cfg(target_arch = "x86_64")]
    PADDED.with(|p| {
        ROWS.with(|r| {
            let (xp, rows) = (&mut p.borrow_mut(), &mut r.borrow_mut());
            pad(&x[..s.n * s.h * s.w * s.cin], s, xp);
            // SAFETY: the CPU has AVX-512F (`supports_pooled`); the kernel asserts the sizes
            // of what it reads and writes.
            unsafe {
                match s.cin {
                    1 => zmm::forward_pooled32::<1>(xp, s, w, bias, relu, rows, pooled, arg),
                    2 => zmm::forward_pooled32::<2>(xp, s, w, bias, relu, rows, pooled, arg),
                    3 => zmm::forward_pooled32::<3>(xp, s, w, bias, relu, rows, pooled, arg),
                    _ => zmm::forward_pooled32::<4>(xp, s, w, bias, relu, rows, pooled, arg),
                }
            }
        })
    });
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("no pooled direct forward without AVX-512 ({x:?}, {w:?}, {bias:?}, {relu}, {pooled:?}, {arg:?})");
}

fn dispatch_forward<const C: usize>(
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    match s.cin {
        1 => forward_cin::<1, C>(x, s, w, bias, relu, y),
        2 => forward_cin::<2, C>(x, s, w, bias, relu, y),
        3 => forward_cin::<3, C>(x, s, w, bias, relu, y),
        _ => forward_cin::<4, C>(x, s, w, bias, relu, y),
    }
}

fn dispatch_weights<const C: usize>(x: &[f32], s: ConvShape, dy: &[f32], dw: &mut [f32]) {
    match s.cin {
        1 => weights_cin::<1, C>(x, s, dy, dw),
        2 => weights_cin::<2, C>(x, s, dy, dw),
        3 => weights_cin::<3, C>(x, s, dy, dw),
        _ => weights_cin::<4, C>(x, s, dy, dw),
    }
}

fn forward_cin<const CIN: usize, const C: usize>(
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        if C == 32 {
            PADDED.with(|p| {
                let xp = &mut p.borrow_mut();
                pad(x, s, xp);
                // SAFETY: the CPU has AVX-512F; `xp` holds the padded images, `w` 9 * CIN * 32
                // weights, `bias` 32 values and `y` 32 values per pixel (asserted by slicing).
                unsafe { zmm::forward32::<CIN>(xp, s, &w[..9 * CIN * 32], &bias[..32], relu, y) };
            });
        } else {
            // SAFETY: the CPU has AVX-512F.
            unsafe { forward_avx512::<CIN, C>(x, s, w, bias, relu, y) };
        }
        return;
    }
    forward_body::<CIN, C>(x, s, w, bias, relu, y);
}

fn weights_cin<const CIN: usize, const C: usize>(
    x: &[f32],
    s: ConvShape,
    dy: &[f32],
    dw: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        if C == 32 {
            PADDED.with(|p| {
                let xp = &mut p.borrow_mut();
                pad(x, s, xp);
                // SAFETY: the CPU has AVX-512F; `xp` holds the padded images, `dy` 32 values
                // per pixel and `dw` 9 * CIN * 32 (asserted by slicing).
                unsafe {
                    zmm::weights32::<CIN>(xp, s, &dy[..s.rows() * 32], &mut dw[..9 * CIN * 32])
                };
            });
        } else {
            // SAFETY: the CPU has AVX-512F.
            unsafe { weights_avx512::<CIN, C>(x, s, dy, dw) };
        }
        return;
    }
    weights_body::<CIN, C>(x, s, dy, dw);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn forward_avx512<const CIN: usize, const C: usize>(
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    forward_body::<CIN, C>(x, s, w, bias, relu, y);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn weights_avx512<const CIN: usize, const C: usize>(
    x: &[f32],
    s: ConvShape,
    dy: &[f32],
    dw: &mut [f32],
) {
    weights_body::<CIN, C>(x, s, dy, dw);
}

#[cfg(target_arch = "x86_64")]
thread_local! {
    /// The images of the current call with a border of zeros, reused across calls.
    static PADDED: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Two output rows of [`forward_pooled`], pooled as soon as they are computed.
    static ROWS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(target_arch = "x86_64")]
use super::implicit::pad;

/// The 32-output-channel kernels in AVX-512 intrinsics over padded images.
#[cfg(target_arch = "x86_64")]
mod zmm {
    use std::arch::x86_64::*;

    use crate::native::kernels::pool_zmm::window_max16;

    use super::ConvShape;

    /// Output pixels computed together along a row: 4 x 2 independent sums hide the latency
    /// of the multiply-adds.
    const PIXELS: usize = 4;

    /// Forward over padded images `xp` (see [`super::pad`]).
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn forward32<const CIN: usize>(
        xp: &[f32],
        s: ConvShape,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    ) {
        let (h, wd) = (s.h, s.w);
        let wp = wd + 2;
        assert!(xp.len() >= s.n * (h + 2) * wp * CIN && y.len() >= s.rows() * 32);
        assert!(w.len() >= 9 * CIN * 32 && bias.len() >= 32);
        for img in 0..s.n {
            let xi = xp.as_ptr().add(img * (h + 2) * wp * CIN);
            let yi = y.as_mut_ptr().add(img * h * wd * 32);
            for oy in 0..h {
                conv_row::<CIN>(xi, wd, oy, w, bias, relu, yi.add(oy * wd * 32));
            }
        }
    }

    /// Forward followed by a 2x2 max-pool, over padded images `xp`: each pair of output rows
    /// is computed into a small buffer that stays in L1 and pooled from there into `pooled`
    /// and `arg` (the window position of each maximum, as `maxpool_forward` writes it). The
    /// same sums and comparisons as the convolution then the pool: the same bits, without
    /// writing and reading the full-size output.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn forward_pooled32<const CIN: usize>(
        xp: &[f32],
        s: ConvShape,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        rows: &mut Vec<f32>,
        pooled: &mut [f32],
        arg: &mut [u8],
    ) {
        let (h, wd) = (s.h, s.w);
        let (wp, oh, ow) = (wd + 2, h / 2, wd / 2);
        let cells = s.n * oh * ow * 32;
        assert!(xp.len() >= s.n * (h + 2) * wp * CIN && pooled.len() >= cells);
        assert!(arg.len() >= cells && w.len() >= 9 * CIN * 32 && bias.len() >= 32);
        if rows.len() < 2 * wd * 32 {
            rows.resize(2 * wd * 32, 0.0);
        }
        let (top, bottom) = (rows.as_mut_ptr(), rows.as_mut_ptr().add(wd * 32));
        for img in 0..s.n {
            let xi = xp.as_ptr().add(img * (h + 2) * wp * CIN);
            for py in 0..oh {
                conv_row::<CIN>(xi, wd, 2 * py, w, bias, relu, top);
                conv_row::<CIN>(xi, wd, 2 * py + 1, w, bias, relu, bottom);
                for px in 0..ow {
                    let o = ((img * oh + py) * ow + px) * 32;
                    let (t, b) = (top.add(2 * px * 32), bottom.add(2 * px * 32));
                    let window = [t.cast_const(), t.add(32), b.cast_const(), b.add(32)];
                    for ch in (0..32).step_by(16) {
                        let (yp, ap) = (pooled.as_mut_ptr().add(o + ch), arg.as_mut_ptr());
                        window_max16(window, ch, yp, ap.add(o + ch));
                    }
                }
            }
        }
    }

    /// Output row `oy` of padded image `xi` (`wd` pixels, 32 channels each) into `out`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn conv_row<const CIN: usize>(
        xi: *const f32,
        wd: usize,
        oy: usize,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        out: *mut f32,
    ) {
        let wp = wd + 2;
        let (b0, b1) = (
            _mm512_loadu_ps(bias.as_ptr()),
            _mm512_loadu_ps(bias.as_ptr().add(16)),
        );
        let zero = _mm512_setzero_ps();
        let wptr = w.as_ptr();
        let mut ox = 0;
        while ox < wd {
            let cnt = PIXELS.min(wd - ox);
            let mut lo = [b0; PIXELS];
            let mut hi = [b1; PIXELS];
            for ky in 0..3 {
                for kx in 0..3 {
                    for ch in 0..CIN {
                        let t = (ky * 3 + kx) * CIN + ch;
                        let w0 = _mm512_loadu_ps(wptr.add(t * 32));
                        let w1 = _mm512_loadu_ps(wptr.add(t * 32 + 16));
                        let src = xi.add(((oy + ky) * wp + ox + kx) * CIN + ch);
                        for p in 0..PIXELS {
                            if p < cnt {
                                let v = _mm512_set1_ps(*src.add(p * CIN));
                                lo[p] = _mm512_fmadd_ps(v, w0, lo[p]);
                                hi[p] = _mm512_fmadd_ps(v, w1, hi[p]);
                            }
                        }
                    }
                }
            }
            for p in 0..cnt {
                let (mut v0, mut v1) = (lo[p], hi[p]);
                if relu {
                    v0 = _mm512_max_ps(v0, zero);
                    v1 = _mm512_max_ps(v1, zero);
                }
                let o = out.add((ox + p) * 32);
                _mm512_storeu_ps(o, v0);
                _mm512_storeu_ps(o.add(16), v1);
            }
            ox += cnt;
        }
    }

    /// [`relu_mask_and_bias_grad`](super::relu_mask_and_bias_grad) (adding to `db`) for 32
    /// channels.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn mask_and_bias32(y: &[f32], relu: bool, dy: &mut [f32], db: &mut [f32]) {
        assert!(y.len() == dy.len() && dy.len().is_multiple_of(32) && db.len() == 32);
        let zero = _mm512_setzero_ps();
        let (mut b0, mut b1) = (
            _mm512_loadu_ps(db.as_ptr()),
            _mm512_loadu_ps(db.as_ptr().add(16)),
        );
        for (g, v) in dy.chunks_exact_mut(32).zip(y.chunks_exact(32)) {
            let (gp, vp) = (g.as_mut_ptr(), v.as_ptr());
            let (mut g0, mut g1) = (_mm512_loadu_ps(gp), _mm512_loadu_ps(gp.add(16)));
            if relu {
                let m0 = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(_mm512_loadu_ps(vp), zero);
                let m1 = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(_mm512_loadu_ps(vp.add(16)), zero);
                g0 = _mm512_maskz_mov_ps(m0, g0);
                g1 = _mm512_maskz_mov_ps(m1, g1);
                _mm512_storeu_ps(gp, g0);
                _mm512_storeu_ps(gp.add(16), g1);
            }
            b0 = _mm512_add_ps(b0, g0);
            b1 = _mm512_add_ps(b1, g1);
        }
        _mm512_storeu_ps(db.as_mut_ptr(), b0);
        _mm512_storeu_ps(db.as_mut_ptr().add(16), b1);
    }

    /// Adds the weight gradient over padded images `xp` to `dw`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn weights32<const CIN: usize>(
        xp: &[f32],
        s: ConvShape,
        dy: &[f32],
        dw: &mut [f32],
    ) {
        let (h, wd) = (s.h, s.w);
        let wp = wd + 2;
        assert!(xp.len() >= s.n * (h + 2) * wp * CIN && dy.len() >= s.rows() * 32);
        assert!(dw.len() >= 9 * CIN * 32);
        for ch in 0..CIN {
            let mut lo = [_mm512_setzero_ps(); 9];
            let mut hi = [_mm512_setzero_ps(); 9];
            for img in 0..s.n {
                let xi = xp.as_ptr().add(img * (h + 2) * wp * CIN + ch);
                let gi = dy.as_ptr().add(img * h * wd * 32);
                for oy in 0..h {
                    for ox in 0..wd {
                        let g = gi.add((oy * wd + ox) * 32);
                        let (g0, g1) = (_mm512_loadu_ps(g), _mm512_loadu_ps(g.add(16)));
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let t = ky * 3 + kx;
                                let v = _mm512_set1_ps(*xi.add(((oy + ky) * wp + ox + kx) * CIN));
                                lo[t] = _mm512_fmadd_ps(v, g0, lo[t]);
                                hi[t] = _mm512_fmadd_ps(v, g1, hi[t]);
                            }
                        }
                    }
                }
            }
            for t in 0..9 {
                let d = dw.as_mut_ptr().add((t * CIN + ch) * 32);
                _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), lo[t]));
                _mm512_storeu_ps(d.add(16), _mm512_add_ps(_mm512_loadu_ps(d.add(16)), hi[t]));
            }
        }
    }

    /// [`super::backward_pooled`]'s sums over padded images `xp`, added to `dw` and `db`. For
    /// each pooled cell and window position `j`, the cell's gradient is kept in the lanes
    /// whose maximum came from `j` (zero elsewhere), and the 9 taps of that pixel are
    /// multiplied by it: as many products as the dense weight gradient, without its input.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn pooled_weights32<const CIN: usize>(
        xp: &[f32],
        s: ConvShape,
        pooled: &[f32],
        arg: &[u8],
        dp: &[f32],
        relu: bool,
        dw: &mut [f32],
        db: &mut [f32],
    ) {
        let (h, wd) = (s.h, s.w);
        let (oh, ow) = (h / 2, wd / 2);
        let wp = wd + 2;
        let cells = s.n * oh * ow;
        assert!(xp.len() >= s.n * (h + 2) * wp * CIN);
        assert!(pooled.len() >= cells * 32 && arg.len() >= cells * 32 && dp.len() >= cells * 32);
        assert!(dw.len() >= 9 * CIN * 32 && db.len() >= 32);
        let zero = _mm512_setzero_ps();
        let (mut b0, mut b1) = (zero, zero);
        for ch in 0..CIN {
            let mut lo = [zero; 9];
            let mut hi = [zero; 9];
            for img in 0..s.n {
                let xi = xp.as_ptr().add(img * (h + 2) * wp * CIN + ch);
                for py in 0..oh {
                    for px in 0..ow {
                        let cell = ((img * oh + py) * ow + px) * 32;
                        let mut g0 = _mm512_loadu_ps(dp.as_ptr().add(cell));
                        let mut g1 = _mm512_loadu_ps(dp.as_ptr().add(cell + 16));
                        if relu {
                            let p0 = _mm512_loadu_ps(pooled.as_ptr().add(cell));
                            let p1 = _mm512_loadu_ps(pooled.as_ptr().add(cell + 16));
                            g0 =
                                _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(p0, zero), g0);
                            g1 =
                                _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(p1, zero), g1);
                        }
                        if ch == 0 {
                            b0 = _mm512_add_ps(b0, g0);
                            b1 = _mm512_add_ps(b1, g1);
                        }
                        let a = arg.as_ptr().add(cell);
                        let a0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(a as *const __m128i));
                        let a1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(a.add(16) as *const __m128i));
                        for j in 0..4 {
                            let jv = _mm512_set1_epi32(j as i32);
                            let gj0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a0, jv), g0);
                            let gj1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a1, jv), g1);
                            let (oy, ox) = (2 * py + j / 2, 2 * px + j % 2);
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let t = ky * 3 + kx;
                                    let v =
                                        _mm512_set1_ps(*xi.add(((oy + ky) * wp + ox + kx) * CIN));
                                    lo[t] = _mm512_fmadd_ps(v, gj0, lo[t]);
                                    hi[t] = _mm512_fmadd_ps(v, gj1, hi[t]);
                                }
                            }
                        }
                    }
                }
            }
            for t in 0..9 {
                let d = dw.as_mut_ptr().add((t * CIN + ch) * 32);
                _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), lo[t]));
                _mm512_storeu_ps(d.add(16), _mm512_add_ps(_mm512_loadu_ps(d.add(16)), hi[t]));
            }
        }
        let d = db.as_mut_ptr();
        _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), b0));
        _mm512_storeu_ps(d.add(16), _mm512_add_ps(_mm512_loadu_ps(d.add(16)), b1));
    }
}

/// The taps of output row `oy` or column `ox` that fall inside an image of `len` pixels:
/// offsets `lo..hi` of `0..3`.
#[inline(always)]
fn valid_taps(o: usize, len: usize) -> (usize, usize) {
    let lo = usize::from(o == 0);
    let hi = if o + 1 >= len { 2 } else { 3 };
    (lo, hi)
}

/// Whether pixel `o` of `len` has all three taps inside the image.
#[inline(always)]
fn inside(o: usize, len: usize) -> bool {
    o >= 1 && o + 1 < len
}

/// One output pixel of the forward pass over the taps `ky0..ky1` x `kx0..kx1` (constants for
/// interior pixels, so that the loops unroll).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_pixel<const CIN: usize, const C: usize>(
    xi: &[f32],
    wd: usize,
    (oy, ox): (usize, usize),
    (ky0, ky1, kx0, kx1): (usize, usize, usize, usize),
    w: &[f32],
    bias: &[f32; C],
    relu: bool,
    out: &mut [f32],
) {
    let mut acc = *bias;
    for ky in ky0..ky1 {
        for kx in kx0..kx1 {
            let px: &[f32; CIN] = xi[((oy + ky - 1) * wd + ox + kx - 1) * CIN..][..CIN]
                .try_into()
                .expect("CIN values");
            for (ch, &v) in px.iter().enumerate() {
                let wr: &[f32; C] = w[((ky * 3 + kx) * CIN + ch) * C..][..C]
                    .try_into()
                    .expect("C weights");
                for o in 0..C {
                    acc[o] += v * wr[o];
                }
            }
        }
    }
    if relu {
        for a in &mut acc {
            *a = a.max(0.0);
        }
    }
    out[..C].copy_from_slice(&acc);
}

#[inline(always)]
fn forward_body<const CIN: usize, const C: usize>(
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    let (h, wd) = (s.h, s.w);
    let bias: &[f32; C] = bias.try_into().expect("bias of C values");
    for (xi, yi) in x
        .chunks_exact(h * wd * CIN)
        .zip(y.chunks_exact_mut(h * wd * C))
    {
        for oy in 0..h {
            let (ky0, ky1) = valid_taps(oy, h);
            for ox in 0..wd {
                let out = &mut yi[(oy * wd + ox) * C..];
                if inside(oy, h) && inside(ox, wd) {
                    let taps = (0, 3, 0, 3);
                    forward_pixel::<CIN, C>(xi, wd, (oy, ox), taps, w, bias, relu, out);
                } else {
                    let (kx0, kx1) = valid_taps(ox, wd);
                    let taps = (ky0, ky1, kx0, kx1);
                    forward_pixel::<CIN, C>(xi, wd, (oy, ox), taps, w, bias, relu, out);
                }
            }
        }
    }
}

/// One output pixel's share of the weight gradient of input channel `ch`: `acc[tap] += x * g`.
#[inline(always)]
fn weights_pixel<const CIN: usize, const C: usize>(
    xi: &[f32],
    wd: usize,
    (oy, ox, ch): (usize, usize, usize),
    (ky0, ky1, kx0, kx1): (usize, usize, usize, usize),
    g: &[f32; C],
    acc: &mut [[f32; C]; 9],
) {
    for ky in ky0..ky1 {
        for kx in kx0..kx1 {
            let v = xi[((oy + ky - 1) * wd + ox + kx - 1) * CIN + ch];
            let a = &mut acc[ky * 3 + kx];
            for o in 0..C {
                a[o] += v * g[o];
            }
        }
    }
}

#[inline(always)]
fn weights_body<const CIN: usize, const C: usize>(
    x: &[f32],
    s: ConvShape,
    dy: &[f32],
    dw: &mut [f32],
) {
    let (h, wd) = (s.h, s.w);
    for ch in 0..CIN {
        // The 9 taps of input channel `ch`: acc[tap][o].
        let mut acc = [[0.0f32; C]; 9];
        for (xi, dyi) in x
            .chunks_exact(h * wd * CIN)
            .zip(dy.chunks_exact(h * wd * C))
        {
            for oy in 0..h {
                let (ky0, ky1) = valid_taps(oy, h);
                for ox in 0..wd {
                    let g: &[f32; C] = dyi[(oy * wd + ox) * C..][..C].try_into().expect("C");
                    if inside(oy, h) && inside(ox, wd) {
                        let taps = (0, 3, 0, 3);
                        weights_pixel::<CIN, C>(xi, wd, (oy, ox, ch), taps, g, &mut acc);
                    } else {
                        let (kx0, kx1) = valid_taps(ox, wd);
                        let taps = (ky0, ky1, kx0, kx1);
                        weights_pixel::<CIN, C>(xi, wd, (oy, ox, ch), taps, g, &mut acc);
                    }
                }
            }
        }
        for (tap, a) in acc.iter().enumerate() {
            let d = &mut dw[(tap * CIN + ch) * C..][..C];
            for (d, &v) in d.iter_mut().zip(a) {
                *d += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::kernels::{affine_backward, affine_forward, im2col3};
    use crate::native::linalg::MatRef;
    use crate::KernelPath;

    /// The direct convolution against im2col + the portable GEMM, forward and backward, for
    /// every supported input width and both output widths, with and without ReLU.
    #[test]
    fn direct_convolution_matches_im2col() {
        for (cin, cout) in [(1, 32), (3, 32), (2, 8), (4, 8)] {
            for relu in [false, true] {
                let s = ConvShape {
                    n: 3,
                    h: 7,
                    w: 5,
                    cin,
                    cout,
                    k: 3,
                };
                let val = |i: usize, f: f32| ((i as f32 * f).sin() * 1.3).clamp(-1.0, 1.0);
                let x: Vec<f32> = (0..s.n * s.h * s.w * cin).map(|i| val(i, 0.37)).collect();
                let w: Vec<f32> = (0..9 * cin * cout).map(|i| val(i, 0.11) * 0.5).collect();
                let b: Vec<f32> = (0..cout).map(|i| val(i, 0.7) * 0.1).collect();
                let dy0: Vec<f32> = (0..s.rows() * cout).map(|i| val(i, 0.23)).collect();

                let mut col = vec![0.0; s.rows() * s.patch()];
                im2col3(&x, s, &mut col);
                let input = MatRef::rows(&col, s.patch());
                let mut y_ref = vec![0.0; s.rows() * cout];
                affine_forward(
                    KernelPath::Portable,
                    s.rows(),
                    s.patch(),
                    cout,
                    input,
                    &w,
                    &b,
                    relu,
                    &mut y_ref,
                );
                let (mut dy_ref, mut dw_ref, mut db_ref) =
                    (dy0.clone(), vec![0.0; w.len()], vec![0.0; cout]);
                affine_backward(
                    KernelPath::Portable,
                    s.rows(),
                    s.patch(),
                    cout,
                    input,
                    &w,
                    &y_ref,
                    relu,
                    &mut dy_ref,
                    &mut dw_ref,
                    &mut db_ref,
                    false,
                    None,
                );

                let mut y = vec![f32::NAN; s.rows() * cout];
                forward(&x, s, &w, &b, relu, &mut y);
                let (mut dy, mut dw, mut db) = (dy0.clone(), vec![9.0; w.len()], vec![9.0; cout]);
                backward(&x, s, &y, relu, &mut dy, &mut dw, &mut db, false);
                let close = |what: &str, got: &[f32], want: &[f32]| {
                    for (i, (g, w)) in got.iter().zip(want).enumerate() {
                        assert!(
                            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                            "cin {cin} cout {cout} relu {relu} {what}[{i}]: {g} vs {w}"
                        );
                    }
                };
                close("y", &y, &y_ref);
                close("dy", &dy, &dy_ref);
                close("dw", &dw, &dw_ref);
                close("db", &db, &db_ref);
                // Accumulating adds to what is there.
                let (mut dy2, mut dw2, mut db2) = (dy0.clone(), dw.clone(), db.clone());
                backward(&x, s, &y, relu, &mut dy2, &mut dw2, &mut db2, true);
                let twice: Vec<f32> = dw_ref.iter().map(|v| 2.0 * v).collect();
                close("dw accumulated", &dw2, &twice);
            }
        }
    }

    /// The pooled forward pass against the convolution then the pool (the same bits), and the
    /// pooled backward pass against the pool's backward pass followed by this layer's: the
    /// same weight and bias gradients, written and accumulated, with and without ReLU,
    /// for 1 and 3 input channels, with ties and negative maxima among the pooled values.
    #[test]
    fn pooled_passes_match_convolution_and_pool_in_turn() {
        use crate::native::kernels::{maxpool_backward, maxpool_forward};
        for cin in [1, 3] {
            let s = ConvShape {
                n: 2,
                h: 6,
                w: 8,
                cin,
                cout: 32,
                k: 3,
            };
            if !supports_pooled(s) {
                eprintln!("this CPU has no AVX-512F: the pooled backward pass is not checked");
                return;
            }
            for relu in [false, true] {
                // Coarse values, so that windows hold ties.
                let val = |i: usize, f: f32| ((i as f32 * f).sin() * 4.0).round() / 4.0;
                let x: Vec<f32> = (0..s.n * s.h * s.w * cin).map(|i| val(i, 0.37)).collect();
                let w: Vec<f32> = (0..9 * cin * 32).map(|i| val(i, 0.11) * 0.5).collect();
                let b: Vec<f32> = (0..32).map(|i| val(i, 0.7) * 0.1).collect();
                let mut y = vec![0.0; s.rows() * 32];
                forward(&x, s, &w, &b, relu, &mut y);
                let cells = s.n * (s.h / 2) * (s.w / 2) * 32;
                let (mut pooled, mut arg) = (vec![0.0; cells], vec![0u8; cells]);
                maxpool_forward(&y, s.n, s.h, s.w, 32, &mut pooled, &mut arg);
                // The fused forward pass: the same bits.
                let (mut fused, mut fused_arg) = (vec![f32::NAN; cells], vec![9u8; cells]);
                forward_pooled(&x, s, &w, &b, relu, &mut fused, &mut fused_arg);
                assert_eq!(fused, pooled, "cin {cin} relu {relu}: pooled values");
                assert_eq!(fused_arg, arg, "cin {cin} relu {relu}: window positions");
                let dp: Vec<f32> = (0..cells).map(|i| val(i, 0.23) + 0.1).collect();

                let mut dy = vec![0.0; s.rows() * 32];
                maxpool_backward(&dp, &arg, s.n, s.h, s.w, 32, &mut dy, false);
                let (mut dw_ref, mut db_ref) = (vec![0.0; w.len()], vec![0.0; 32]);
                backward(&x, s, &y, relu, &mut dy, &mut dw_ref, &mut db_ref, false);

                let (mut dw, mut db) = (vec![9.0; w.len()], vec![9.0; 32]);
                backward_pooled(&x, s, &pooled, &arg, &dp, relu, &mut dw, &mut db, false);
                let close = |what: &str, got: &[f32], want: &[f32]| {
                    for (i, (g, w)) in got.iter().zip(want).enumerate() {
                        assert!(
                            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                            "cin {cin} relu {relu} {what}[{i}]: {g} vs {w}"
                        );
                    }
                };
                close("dw", &dw, &dw_ref);
                close("db", &db, &db_ref);
                backward_pooled(&x, s, &pooled, &arg, &dp, relu, &mut dw, &mut db, true);
                let twice = |v: &[f32]| v.iter().map(|a| 2.0 * a).collect::<Vec<_>>();
                close("dw accumulated", &dw, &twice(&dw_ref));
                close("db accumulated", &db, &twice(&db_ref));
                if relu {
                    // Some pooled maxima are 0 (masked) and some gradients reach the weights.
                    assert!(pooled.contains(&0.0) && pooled.iter().any(|&v| v > 0.0));
                }
            }
        }
    }
}
