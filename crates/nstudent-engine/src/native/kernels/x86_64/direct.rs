//! Direct 3x3 "same" convolution of the model's input layer (1 to 4 input channels), forward
//! and backward, for the AVX-512 path.
//!
//! Through im2col, a 3x3 convolution over one channel is a matrix product of depth 9, a shape on
//! which GEMM spends more time packing than multiplying. Here each output pixel keeps its
//! `COUT` sums in registers and adds the 9 * `cin` taps straight from the image. The weight
//! gradient keeps the 9 taps of one input channel (9 * `COUT` sums) in registers over all pixels.
//!
//! With 32 output channels (the study's models) the kernels are AVX-512 intrinsics over images
//! padded with a border of zeros (`direct_zmm`); 8 output channels use a plain body of the same
//! loops, compiled for AVX-512.

use std::cell::RefCell;

use super::super::ops::Kernels;
use super::super::types::ConvShape;
use super::direct_zmm as zmm;
use super::{pad, Avx512, Wide};

thread_local! {
    /// The images of the current call with a border of zeros, reused across calls.
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// Two output rows of [`forward_pooled`], pooled as soon as they are computed.
    static ROWS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether the direct convolution takes shape `s`: 3x3, 1 to 4 input channels, 8 or 32
/// output channels.
pub(super) fn supports(s: ConvShape) -> bool {
    s.k == 3 && (1..=4).contains(&s.cin) && matches!(s.cout, 8 | 32)
}

/// `y = relu?(conv3x3(x, w) + bias)` over `s.n` `(h, w, cin)` images; `w` is `(3, 3, cin, cout)`.
pub(super) fn forward(
    cpu: Avx512,
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    assert!(supports(s));
    let out = &mut y[..s.rows() * s.cout];
    let x = &x[..s.n * s.h * s.w * s.cin];
    let w = &w[..9 * s.cin * s.cout];
    match (s.cout, s.cin) {
        (8, 1) => forward_cin::<1, 8>(cpu, x, s, w, bias, relu, out),
        (8, 2) => forward_cin::<2, 8>(cpu, x, s, w, bias, relu, out),
        (8, 3) => forward_cin::<3, 8>(cpu, x, s, w, bias, relu, out),
        (8, _) => forward_cin::<4, 8>(cpu, x, s, w, bias, relu, out),
        (_, 1) => forward_cin::<1, 32>(cpu, x, s, w, bias, relu, out),
        (_, 2) => forward_cin::<2, 32>(cpu, x, s, w, bias, relu, out),
        (_, 3) => forward_cin::<3, 32>(cpu, x, s, w, bias, relu, out),
        (_, _) => forward_cin::<4, 32>(cpu, x, s, w, bias, relu, out),
    }
}

/// Masks `dy` by the ReLU (from the output `y`) when `relu`, and writes (or, with `accumulate`,
/// adds) the bias gradient `db` and the weight gradient `dw`. The input's gradient is not
/// computed: this layer reads the model's input.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    cpu: Avx512,
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
    if s.cout == 32 {
        // SAFETY: `cpu` proves AVX-512F, the feature `mask_and_bias32` is compiled for.
        unsafe { zmm::mask_and_bias32(y, relu, dy, &mut db[..32]) };
    } else {
        Wide::new(cpu).relu_mask_and_bias_grad(rows, s.cout, y, relu, dy, db, true);
    }
    let x = &x[..s.n * s.h * s.w * s.cin];
    match (s.cout, s.cin) {
        (8, 1) => weights_cin::<1, 8>(cpu, x, s, dy, dw),
        (8, 2) => weights_cin::<2, 8>(cpu, x, s, dy, dw),
        (8, 3) => weights_cin::<3, 8>(cpu, x, s, dy, dw),
        (8, _) => weights_cin::<4, 8>(cpu, x, s, dy, dw),
        (_, 1) => weights_cin::<1, 32>(cpu, x, s, dy, dw),
        (_, 2) => weights_cin::<2, 32>(cpu, x, s, dy, dw),
        (_, 3) => weights_cin::<3, 32>(cpu, x, s, dy, dw),
        (_, _) => weights_cin::<4, 32>(cpu, x, s, dy, dw),
    }
}

/// Whether [`backward_pooled`] and [`forward_pooled`] take shape `s`: 32 output channels (the
/// study's models), even height and width.
pub(super) fn supports_pooled(s: ConvShape) -> bool {
    supports(s) && s.cout == 32 && s.h.is_multiple_of(2) && s.w.is_multiple_of(2)
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
pub(super) fn backward_pooled(
    _cpu: Avx512,
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
    PADDED.with(|p| {
        let xp = &mut p.borrow_mut();
        pad(&x[..s.n * s.h * s.w * s.cin], s, xp);
        // SAFETY: `_cpu` proves AVX-512F, the feature the kernel is compiled for; it asserts
        // the sizes of what it reads and writes.
        unsafe {
            match s.cin {
                1 => zmm::pooled_weights32::<1>(xp, s, pooled, arg, dp, relu, dw, db),
                2 => zmm::pooled_weights32::<2>(xp, s, pooled, arg, dp, relu, dw, db),
                3 => zmm::pooled_weights32::<3>(xp, s, pooled, arg, dp, relu, dw, db),
                _ => zmm::pooled_weights32::<4>(xp, s, pooled, arg, dp, relu, dw, db),
            }
        }
    });
}

/// This convolution followed by a 2x2 max-pool, for the shapes [`supports_pooled`] takes:
/// writes the pool's outputs `pooled` and window positions `arg` (as `maxpool_forward` does),
/// the same bits as the two in turn, without the full-size output in between.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_pooled(
    _cpu: Avx512,
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
    PADDED.with(|p| {
        ROWS.with(|r| {
            let (xp, rows) = (&mut p.borrow_mut(), &mut r.borrow_mut());
            pad(&x[..s.n * s.h * s.w * s.cin], s, xp);
            // SAFETY: `_cpu` proves AVX-512F, the feature the kernel is compiled for; it
            // asserts the sizes of what it reads and writes.
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
}

/// [`forward`] for `CIN` input and `C` output channels.
fn forward_cin<const CIN: usize, const C: usize>(
    _cpu: Avx512,
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    if C == 32 {
        PADDED.with(|p| {
            let xp = &mut p.borrow_mut();
            pad(x, s, xp);
            // SAFETY: `_cpu` proves AVX-512F; the kernel asserts the sizes it reads and
            // writes (`xp` the padded images, `w` 9 * CIN * 32 weights, `bias` 32 values).
            unsafe { zmm::forward32::<CIN>(xp, s, &w[..9 * CIN * 32], &bias[..32], relu, y) };
        });
    } else {
        // SAFETY: `_cpu` proves AVX-512F, the feature `forward_avx512` is compiled for.
        unsafe { forward_avx512::<CIN, C>(x, s, w, bias, relu, y) };
    }
}

/// [`backward`]'s weight gradient for `CIN` input and `C` output channels (adds to `dw`).
fn weights_cin<const CIN: usize, const C: usize>(
    _cpu: Avx512,
    x: &[f32],
    s: ConvShape,
    dy: &[f32],
    dw: &mut [f32],
) {
    if C == 32 {
        PADDED.with(|p| {
            let xp = &mut p.borrow_mut();
            pad(x, s, xp);
            // SAFETY: `_cpu` proves AVX-512F; the kernel asserts the sizes it reads and
            // writes (`xp` the padded images, `dy` 32 values per pixel, `dw` 9 * CIN * 32).
            unsafe { zmm::weights32::<CIN>(xp, s, &dy[..s.rows() * 32], &mut dw[..9 * CIN * 32]) };
        });
    } else {
        // SAFETY: `_cpu` proves AVX-512F, the feature `weights_avx512` is compiled for.
        unsafe { weights_avx512::<CIN, C>(x, s, dy, dw) };
    }
}

/// [`forward_body`] compiled for AVX-512 (safe: every access is a checked slice index).
#[target_feature(enable = "avx512f")]
fn forward_avx512<const CIN: usize, const C: usize>(
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    forward_body::<CIN, C>(x, s, w, bias, relu, y);
}

/// [`weights_body`] compiled for AVX-512 (safe: every access is a checked slice index).
#[target_feature(enable = "avx512f")]
fn weights_avx512<const CIN: usize, const C: usize>(
    x: &[f32],
    s: ConvShape,
    dy: &[f32],
    dw: &mut [f32],
) {
    weights_body::<CIN, C>(x, s, dy, dw);
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
