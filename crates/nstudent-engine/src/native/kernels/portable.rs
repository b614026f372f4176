//! The portable kernels: the layers' loops in plain Rust over `(N, H, W, C)` slices, and the
//! `matrixmultiply` crate's product. This is all an aarch64 build (or a build with the x86-64
//! kernels compiled out, `--cfg nstudent_portable`) runs; on an x86-64 CPU with AVX-512 the
//! same loops are compiled once more for it (`x86_64::Wide`), which changes no bit: every
//! float operation in them is one exact IEEE operation in a fixed order (no sums across
//! lanes, and Rust never fuses a multiply and an add).
//!
//! Convolution kernels are stored `(kh, kw, cin, cout)` (a `9 * cin x cout` matrix for 3x3),
//! dense kernels `(in, out)`, so both layers are one matrix product over the batch.

use super::ops::Kernels;
use super::types::{
    check_output, AdamStep, ChunkGradient, ConvShape, DeferredDense, DenseInputs, Gradients, MatRef,
};

/// The portable kernel set, compiled for the baseline CPU of the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Plain;

impl Kernels for Plain {
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
        matmul(m, n, k, a, b, c, ldc, accumulate)
    }

    fn im2col3(&self, x: &[f32], s: ConvShape, col: &mut [f32]) {
        im2col3(x, s, col)
    }

    fn col2im3(&self, col: &[f32], s: ConvShape, dx: &mut [f32], accumulate: bool) {
        col2im3(col, s, dx, accumulate)
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
        affine_forward(rows, nin, nout, x, w, bias, relu, y)
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
        affine_backward(rows, nin, nout, x, w, y, relu, dy, dw, db, acc_params, dx)
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
        relu_mask_and_bias_grad(rows, nout, y, relu, dy, db, accumulate)
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
        maxpool_forward(x, n, h, w, c, y, arg)
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
        maxpool_backward(dy, arg, n, h, w, c, dx, accumulate)
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
        adam_step_sum(adam, old, params, grads, offset, m, v)
    }
}

/// `c[m x n] (row-major, row stride ldc) = (accumulate ? c : 0) + a[m x k] * b[k x n]` on
/// `matrixmultiply` (its AVX2/FMA kernels where the CPU has them, detected by that crate).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    check_output(m, n, c, ldc);
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                c[r * ldc..r * ldc + n].fill(0.0);
            }
        }
        return;
    }
    a.check(m, k);
    b.check(k, n);
    // SAFETY: the checks above keep every element the product reads or writes inside the
    // slices, and `c` does not alias `a` or `b` (it is borrowed mutably). With beta = 0,
    // `sgemm` does not read `c`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            if accumulate { 1.0 } else { 0.0 },
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

#[inline(always)]
pub(crate) fn relu_mask_and_bias_grad(
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

/// See [`Kernels::im2col3`].
#[inline(always)]
pub(crate) fn im2col3(x: &[f32], s: ConvShape, col: &mut [f32]) {
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

/// See [`Kernels::col2im3`].
#[inline(always)]
pub(crate) fn col2im3(col: &[f32], s: ConvShape, dx: &mut [f32], accumulate: bool) {
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

/// See [`Kernels::affine_forward`]: the bias copied into `y`, the product added, then ReLU.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn affine_forward(
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
    for r in y.chunks_exact_mut(nout) {
        r.copy_from_slice(bias);
    }
    matmul(rows, nout, nin, x, MatRef::rows(w, nout), y, nout, true);
    if relu {
        for v in y.iter_mut() {
            *v = v.max(0.0);
        }
    }
}

/// See [`Kernels::affine_backward`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn affine_backward(
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
    relu_mask_and_bias_grad(rows, nout, y, relu, dy, db, acc_params);
    // dw (nin x nout) = x^T (nin x rows) @ dy (rows x nout)
    if let Some(dw) = dw {
        let xt = MatRef {
            data: x.data,
            rs: x.cs,
            cs: x.rs,
        };
        let dyr = MatRef::rows(dy, nout);
        matmul(nin, nout, rows, xt, dyr, dw, nout, acc_params);
    }
    if let Some((dx, accumulate)) = dx {
        // dx (rows x nin) = dy (rows x nout) @ w^T (nout x nin)
        matmul(
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

/// See [`Kernels::maxpool_forward`].
#[inline(always)]
pub(crate) fn maxpool_forward(
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

/// See [`Kernels::maxpool_backward`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
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

/// See [`Kernels::adam_step_sum`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn adam_step_sum(
    adam: AdamStep,
    old: &[f32],
    params: &mut [f32],
    grads: Gradients<'_>,
    offset: usize,
    m: &mut [f32],
    v: &mut [f32],
) {
    let (step, sqrt_bc2, eps) = (adam.step, adam.sqrt_bc2, adam.eps);
    let (b1, b2) = (adam.beta1, adam.beta2);
    let len = params.len();
    assert!(old.len() == len && m.len() == len && v.len() == len);
    // In blocks: the gradients are summed (in order, the same sums as element by element),
    // then the update runs over the block; both loops vectorize.
    const BLOCK: usize = 1024;
    let mut sum = [0.0f32; BLOCK];
    let mut b0 = 0;
    while b0 < len {
        let at = offset + b0;
        let nb = block_end(grads.deferred, at, offset + len, BLOCK) - at;
        let block = at..at + nb;
        let deferred = grads
            .deferred
            .iter()
            .any(|d| d.range().start < block.end && block.start < d.range().end);
        // One gradient is used in place; several are added into `sum`, the first two in one
        // pass (no copy of the first).
        let g: &[f32] = match grads.chunks {
            _ if deferred => {
                gradient_with_deferred(grads, at, &mut sum[..nb]);
                &sum[..nb]
            }
            [only] => &only.grad()[at..at + nb],
            _ => {
                sum_chunks(grads.chunks, at, &mut sum[..nb]);
                &sum[..nb]
            }
        };
        let (o, p, m, v) = (
            &old[b0..b0 + nb],
            &mut params[b0..b0 + nb],
            &mut m[b0..b0 + nb],
            &mut v[b0..b0 + nb],
        );
        for ((((pi, &oi), mi), vi), &gi) in p
            .iter_mut()
            .zip(o)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
            .zip(g.iter())
        {
            let mn = b1 * *mi + (1.0 - b1) * gi;
            let vn = b2 * *vi + (1.0 - b2) * gi * gi;
            *mi = mn;
            *vi = vn;
            *pi = oi - step * mn / (vn.sqrt() / sqrt_bc2 + eps);
        }
        b0 += nb;
    }
}

/// Where the block of Adam's step that starts at parameter `at` ends (at most `block`
/// parameters, never past `end`): at the start or end of a deferred layer's weights, and
/// inside them after whole rows, so that the weight gradient's rows are computed together
/// (each parameter's update is the same whatever the blocks).
#[inline(always)]
fn block_end(deferred: &[DeferredDense], at: usize, end: usize, block: usize) -> usize {
    let mut stop = (at + block).min(end);
    for d in deferred {
        let r = d.range();
        if at < r.start && r.start < stop {
            stop = r.start;
        } else if r.contains(&at) {
            let q = at - r.start;
            let rows_end = if q.is_multiple_of(d.nout) {
                at + (block / d.nout).max(1) * d.nout
            } else {
                at + (d.nout - q % d.nout)
            };
            stop = rows_end.min(r.end).min(at + block).min(end);
        }
    }
    stop
}

/// `out = chunks[0][at..] + chunks[1][at..] + ...`, added in chunk order (the first two in one
/// pass); a single chunk is copied.
#[inline(always)]
fn sum_chunks(chunks: &[ChunkGradient], at: usize, out: &mut [f32]) {
    let n = out.len();
    let (first, rest) = chunks.split_first().expect("at least one gradient");
    match rest.split_first() {
        None => out.copy_from_slice(&first.grad()[at..at + n]),
        Some((second, others)) => {
            for ((s, &a), &b) in out
                .iter_mut()
                .zip(&first.grad()[at..at + n])
                .zip(&second.grad()[at..at + n])
            {
                *s = a + b;
            }
            for r in others {
                for (s, &ri) in out.iter_mut().zip(&r.grad()[at..at + n]) {
                    *s += ri;
                }
            }
        }
    }
}

/// The gradient of parameters `at..at + out.len()` into `out`: the chunks' sums, and for the
/// weights of a deferred layer, each chunk's gradient computed from what it kept, then added
/// in chunk order: the same sums as [`sum_chunks`] over gradients the backward pass wrote.
#[inline(always)]
fn gradient_with_deferred(grads: Gradients<'_>, at: usize, out: &mut [f32]) {
    let end = at + out.len();
    let mut pos = at;
    for (d, layer) in grads.deferred.iter().enumerate() {
        let r = layer.range();
        if r.end <= pos || r.start >= end {
            continue;
        }
        if r.start > pos {
            sum_chunks(grads.chunks, pos, &mut out[pos - at..r.start - at]);
            pos = r.start;
        }
        let stop = r.end.min(end);
        let kept = grads.chunks.iter().map(|chunk| chunk.kept(d));
        dense_weight_grad(layer, kept, pos - r.start, &mut out[pos - at..stop - at]);
        pos = stop;
    }
    if pos < end {
        sum_chunks(grads.chunks, pos, &mut out[pos - at..]);
    }
}

/// Weights `q0..q0 + out.len()` (row-major `nin x nout` indices) of `layer`'s gradient, summed
/// over the chunks in order: chunk `c`'s gradient of weight `(r, j)` is
/// `sum_b x[b][r] * dy[b][j]`, one fused multiply-add per row `b` in ascending order from
/// +0, exactly as the AVX-512 set's product computes `x^T dy` (its tiles hold the sum over
/// a depth of up to 256 rows in registers, one `vfmadd` per row, from zero).
#[inline(always)]
fn dense_weight_grad<'a>(
    layer: &DeferredDense,
    kept: impl Iterator<Item = &'a DenseInputs> + Clone,
    q0: usize,
    out: &mut [f32],
) {
    let nout = layer.nout;
    let end = q0 + out.len();
    let mut q = q0;
    while q < end {
        let (r, j) = (q / nout, q % nout);
        let o = q - q0;
        if j == 0 && q + ROWS * nout <= end {
            weight_grad_rows(layer, kept.clone(), r, &mut out[o..o + ROWS * nout]);
            q += ROWS * nout;
        } else {
            let len = (nout - j).min(end - q);
            weight_grad_row(layer, kept.clone(), r, j, &mut out[o..o + len]);
            q += len;
        }
    }
}

/// Rows of the weight gradient computed together (they share each load of `dy`).
const ROWS: usize = 4;
/// Columns of one piece of a chain: 4 vectors of 16, so that `ROWS x PIECE` sums stay in
/// 16 registers.
const PIECE: usize = 64;

/// `out[i][l] = sum over chunks of (sum_b x[b][r0 + i] * dy[b][j0 + l])` for `R` rows and `L`
/// columns (see [`dense_weight_grad`]); `add` adds this chunk's sums to `out` (row stride
/// `ld`) instead of writing them.
#[inline(always)]
fn chains<const R: usize, const L: usize>(
    k: &DenseInputs,
    (nin, nout): (usize, usize),
    (r0, j0): (usize, usize),
    out: &mut [f32],
    ld: usize,
    add: bool,
) {
    let mut acc = [[0.0f32; L]; R];
    for b in 0..k.rows {
        let xs: &[f32; R] = k.x[b * nin + r0..b * nin + r0 + R].try_into().unwrap();
        let d: &[f32; L] = k.dy[b * nout + j0..b * nout + j0 + L].try_into().unwrap();
        for i in 0..R {
            for l in 0..L {
                acc[i][l] = xs[i].mul_add(d[l], acc[i][l]);
            }
        }
    }
    for (i, a) in acc.iter().enumerate() {
        let dst = &mut out[i * ld..i * ld + L];
        if add {
            for (o, &v) in dst.iter_mut().zip(a) {
                *o += v;
            }
        } else {
            dst.copy_from_slice(a);
        }
    }
}

/// [`dense_weight_grad`] on `ROWS` whole rows from row `r0` (`out` holds `ROWS * nout`).
#[inline(always)]
fn weight_grad_rows<'a>(
    layer: &DeferredDense,
    kept: impl Iterator<Item = &'a DenseInputs> + Clone,
    r0: usize,
    out: &mut [f32],
) {
    let (nin, nout) = (layer.nin, layer.nout);
    let mut j = 0;
    while j + PIECE <= nout {
        for (c, k) in kept.clone().enumerate() {
            chains::<ROWS, PIECE>(k, (nin, nout), (r0, j), &mut out[j..], nout, c > 0);
        }
        j += PIECE;
    }
    if j < nout {
        for i in 0..ROWS {
            let row = &mut out[i * nout + j..(i + 1) * nout];
            weight_grad_row(layer, kept.clone(), r0 + i, j, row);
        }
    }
}

/// [`dense_weight_grad`] on columns `j0..j0 + out.len()` of row `r`.
#[inline(always)]
fn weight_grad_row<'a>(
    layer: &DeferredDense,
    kept: impl Iterator<Item = &'a DenseInputs> + Clone,
    r: usize,
    j0: usize,
    out: &mut [f32],
) {
    let dims = (layer.nin, layer.nout);
    let mut o = 0;
    while o < out.len() {
        let (j, left) = (j0 + o, out.len() - o);
        let step = if left >= PIECE {
            PIECE
        } else if left >= 16 {
            16
        } else {
            1
        };
        for (c, k) in kept.clone().enumerate() {
            let dst = &mut out[o..];
            match step {
                PIECE => chains::<1, PIECE>(k, dims, (r, j), dst, 0, c > 0),
                16 => chains::<1, 16>(k, dims, (r, j), dst, 0, c > 0),
                _ => chains::<1, 1>(k, dims, (r, j), dst, 0, c > 0),
            }
        }
        o += step;
    }
}
