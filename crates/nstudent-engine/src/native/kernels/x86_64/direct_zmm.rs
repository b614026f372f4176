//! The direct convolution's 32-output-channel kernels in AVX-512 intrinsics, over images
//! padded with a border of zeros (see `super::pad`).

use std::arch::x86_64::*;

use super::pool::window_max16;

use super::super::types::ConvShape;

/// Output pixels computed together along a row: 4 x 2 independent sums hide the latency
/// of the multiply-adds.
const PIXELS: usize = 4;

/// Forward over padded images `xp`.
#[target_feature(enable = "avx512f")]
pub(super) fn forward32<const CIN: usize>(
    xp: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    // SAFETY: AVX-512F is enabled in this function; the asserts above its loops bound every
    // offset from the slices' pointers below by the slices' lengths.
    unsafe {
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
}

/// Forward followed by a 2x2 max-pool, over padded images `xp`: each pair of output rows
/// is computed into a small buffer that stays in L1 and pooled from there into `pooled`
/// and `arg` (the window position of each maximum, as `maxpool_forward` writes it). The
/// same sums and comparisons as the convolution then the pool: the same bits, without
/// writing and reading the full-size output.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) fn forward_pooled32<const CIN: usize>(
    xp: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    rows: &mut Vec<f32>,
    pooled: &mut [f32],
    arg: &mut [u8],
) {
    // SAFETY: AVX-512F is enabled in this function; the asserts above its loops bound every
    // offset from the slices' pointers below by the slices' lengths.
    unsafe {
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
}

/// Output row `oy` of padded image `xi` (`wd` pixels, 32 channels each) into `out`.
///
/// # Safety
/// AVX-512F; `xi` holds padded rows `oy..oy + 3` of `wd + 2` pixels, `w` and `bias` the
/// layer's 32-channel weights and biases, and `out` room for `wd * 32` values.
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
    // SAFETY: the caller guarantees the padded rows `oy..oy + 3` of `xi` (`wd + 2` pixels of
    // `CIN` values), `9 * CIN * 32` weights, 32 biases and `wd * 32` values at `out`.
    unsafe {
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
}

/// `Kernels::relu_mask_and_bias_grad` (adding to `db`) for 32 channels.
#[target_feature(enable = "avx512f")]
pub(super) fn mask_and_bias32(y: &[f32], relu: bool, dy: &mut [f32], db: &mut [f32]) {
    // SAFETY: AVX-512F is enabled in this function; the asserts above its loops bound every
    // offset from the slices' pointers below by the slices' lengths.
    unsafe {
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
}

/// Adds the weight gradient over padded images `xp` to `dw`.
#[target_feature(enable = "avx512f")]
pub(super) fn weights32<const CIN: usize>(xp: &[f32], s: ConvShape, dy: &[f32], dw: &mut [f32]) {
    // SAFETY: AVX-512F is enabled in this function; the asserts above its loops bound every
    // offset from the slices' pointers below by the slices' lengths.
    unsafe {
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
}

/// `direct::backward_pooled`'s sums over padded images `xp`, added to `dw` and `db`. For
/// each pooled cell and window position `j`, the cell's gradient is kept in the lanes
/// whose maximum came from `j` (zero elsewhere), and the 9 taps of that pixel are
/// multiplied by it: as many products as the dense weight gradient, without its input.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) fn pooled_weights32<const CIN: usize>(
    xp: &[f32],
    s: ConvShape,
    pooled: &[f32],
    arg: &[u8],
    dp: &[f32],
    relu: bool,
    dw: &mut [f32],
    db: &mut [f32],
) {
    // SAFETY: AVX-512F is enabled in this function; the asserts above its loops bound every
    // offset from the slices' pointers below by the slices' lengths.
    unsafe {
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
