//! Max-pooling in AVX-512 for channel counts that are multiples of 16: the same comparisons in
//! the same order as the portable loops, so the same bits.

use std::arch::x86_64::*;

/// [`Kernels::maxpool_forward`](crate::native::kernels::Kernels::maxpool_forward) for `c` a
/// multiple of 16. Safe to call where AVX-512F/BW/VL are enabled (the token's methods).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(super) fn forward(
    x: &[f32],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    y: &mut [f32],
    arg: &mut [u8],
) {
    let (oh, ow) = (h / 2, w / 2);
    assert!(c.is_multiple_of(16));
    assert!(x.len() >= n * h * w * c && y.len() >= n * oh * ow * c && arg.len() >= n * oh * ow * c);
    let (xp, yp, ap) = (x.as_ptr(), y.as_mut_ptr(), arg.as_mut_ptr());
    for img in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let o = ((img * oh + oy) * ow + ox) * c;
                let at = img * h * w * c + ((2 * oy) * w + 2 * ox) * c;
                // SAFETY: the window's 4 pixels, `c` values each from `at`, lie in `x`, and
                // `o + c` values lie in `y` and `arg` (asserted above: `2 oy + 1 < h`,
                // `2 ox + 1 < w`); AVX-512F is enabled here.
                unsafe {
                    let p00 = xp.add(at);
                    let window = [p00, p00.add(c), p00.add(w * c), p00.add(w * c + c)];
                    for ch in (0..c).step_by(16) {
                        window_max16(window, ch, yp.add(o + ch), ap.add(o + ch));
                    }
                }
            }
        }
    }
}

/// The maximum of 16 channels (from `ch`) over a 2x2 window (its 4 pixels in the order
/// top-left, top-right, bottom-left, bottom-right) into `y`, and its position (0-3, the
/// first of ties) into `arg`: the comparisons of the portable loops, in their order.
///
/// # Safety
/// AVX-512F; 16 floats at each pixel plus `ch`, 16 at `y` and 16 bytes at `arg`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn window_max16(window: [*const f32; 4], ch: usize, y: *mut f32, arg: *mut u8) {
    // SAFETY: the caller guarantees the 16 values read at each pixel and written at `y` and
    // `arg` exist.
    unsafe {
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
}

/// [`Kernels::maxpool_backward`](crate::native::kernels::Kernels::maxpool_backward) for `c` a
/// multiple of 16 and even `h` and `w`. Safe to call where AVX-512F/BW/VL are enabled.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(super) fn backward(
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
    assert!(c.is_multiple_of(16));
    assert!(
        dx.len() >= n * h * w * c && dy.len() >= n * oh * ow * c && arg.len() >= n * oh * ow * c
    );
    let (gp, ap, dp) = (dy.as_ptr(), arg.as_ptr(), dx.as_mut_ptr());
    for img in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let o = ((img * oh + oy) * ow + ox) * c;
                let p00 = img * h * w * c + ((2 * oy) * w + 2 * ox) * c;
                let offs = [p00, p00 + c, p00 + w * c, p00 + w * c + c];
                for ch in (0..c).step_by(16) {
                    // SAFETY: `o + ch + 16 <= n oh ow c` values of `dy` and `arg`, and each
                    // window pixel's 16 values of `dx`, exist (asserted above).
                    unsafe {
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
