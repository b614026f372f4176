//! The AVX-512 path's matrix product, without packing.
//!
//! `matrixmultiply` copies ("packs") both operands of every product into panels first. For the
//! engine's shapes that copy costs as much as a quarter of a training step: the im2col matrix of
//! the second convolution (3136 x 288 floats for 16 images) is written by im2col, then read and
//! written again by packing, twice per step. Here the micro-kernel reads `a` in place, with any
//! strides (it broadcasts one element at a time), and `b` in place when its rows are
//! contiguous; only a small `b` with other strides is transposed into a scratch buffer. The
//! tile of the product, 12 x 32 (or 8 x 32, 12 x 16, 8 x 16), stays in zmm registers over a
//! block of the depth.
//!
//! The sum over the depth runs in a fixed order for a given shape (ascending inside a block of
//! [`KC`], blocks in order), so the bits depend on the operands and the shape only.

use std::arch::x86_64::*;
use std::cell::RefCell;

use super::super::types::{MatRef, Start};

/// Floats in a zmm register.
const LANES: usize = 16;
/// Depth of a block: the rows of `b` a block reads stay in L2 while every row-block of `a`
/// passes over them.
const KC: usize = 256;

thread_local! {
    /// Scratch of this thread, grown once and then reused (a training loop does not allocate):
    /// a transposed `b`, a transposed `a` and a transposed product.
    static TRANSPOSED: RefCell<[Vec<f32>; 3]> = const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// `c (row-major, row stride ldc) = start + a[m x k] * b[k x n]`, then ReLU when `relu`.
///
/// # Safety
/// The CPU must support AVX-512F, and the operands must hold every element the shapes and
/// strides address (the caller, `Avx512::product`, checks this for `a`, `b` and `c`).
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn gemm(
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
    // SAFETY: the caller guarantees AVX-512F and that the operands hold every element the
    // shapes and strides address; the scratch buffers are grown to the sizes written before
    // use.
    unsafe {
        if b.cs == 1 {
            return gemm_direct_b(m, n, k, a, b.data, b.rs, c, ldc, start, relu);
        }
        // `b` is stored transposed. Transpose it (k * n copies) or compute the transposed product
        // c^T = b^T a^T, which reads b^T in place (k * m + m * n copies); whichever copies less.
        let plain = matches!(start, Start::Bias(_)) || relu || k * n <= k * m + m * n;
        TRANSPOSED.with(|s| {
            let s = &mut *s.borrow_mut();
            if plain {
                let bt = &mut s[0];
                copy_row_major(b, k, n, bt);
                gemm_direct_b(m, n, k, a, bt, n, c, ldc, start, relu);
            } else {
                let [_, at, ct] = s;
                // a^T (k x m) row-major, the product c^T (n x m) row-major.
                let a_t = MatRef {
                    data: a.data,
                    rs: a.cs,
                    cs: a.rs,
                };
                copy_row_major(a_t, k, m, at);
                let bt = MatRef {
                    data: b.data,
                    rs: b.cs,
                    cs: b.rs,
                };
                // Every element is written (the product starts from zero): grow, never clear.
                if ct.len() < n * m {
                    ct.resize(n * m, 0.0);
                }
                gemm_direct_b(n, m, k, bt, at, m, ct, m, Start::Zero, false);
                let accumulate = matches!(start, Start::Accumulate);
                for i in 0..m {
                    let row = &mut c[i * ldc..i * ldc + n];
                    for (j, v) in row.iter_mut().enumerate() {
                        let t = ct[j * m + i];
                        *v = if accumulate { *v + t } else { t };
                    }
                }
            }
        });
    }
}

/// Writes the `rows x cols` matrix `x` row-major into `out` (grown when short).
fn copy_row_major(x: MatRef<'_>, rows: usize, cols: usize, out: &mut Vec<f32>) {
    if out.len() < rows * cols {
        out.resize(rows * cols, 0.0);
    }
    for (i, row) in out[..rows * cols].chunks_exact_mut(cols).enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = x.data[i * x.rs + j * x.cs];
        }
    }
}

/// [`gemm`] with `b` row-major (row stride `ldb`), on the tile shape that wastes least: 12 rows
/// by 32 columns, or 8 rows when `m` is a multiple of 8 but not of 12 (16 images of a dense
/// layer), or 16 columns when `n <= 16`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn gemm_direct_b(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_>,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    start: Start<'_>,
    relu: bool,
) {
    // SAFETY: as `gemm`'s contract: AVX-512F, operands holding what the shapes address.
    unsafe {
        let eights = !m.is_multiple_of(12) && m.is_multiple_of(8) && m <= 64;
        match (eights, n <= LANES) {
            (false, false) => blocked::<12, 2>(m, n, k, a, b, ldb, c, ldc, start, relu),
            (true, false) => blocked::<8, 2>(m, n, k, a, b, ldb, c, ldc, start, relu),
            (false, true) => blocked::<12, 1>(m, n, k, a, b, ldb, c, ldc, start, relu),
            (true, true) => blocked::<8, 1>(m, n, k, a, b, ldb, c, ldc, start, relu),
        }
    }
}

/// [`gemm_direct_b`] on `MR x (16 * W)` tiles.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn blocked<const MR: usize, const W: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_>,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    start: Start<'_>,
    relu: bool,
) {
    // SAFETY: AVX-512F by this function's contract; `a` is checked by the caller, `b`, `c` and
    // `bias` are asserted above, so every row pointer and depth offset formed below stays
    // inside its slice.
    unsafe {
        if m == 0 || n == 0 {
            return;
        }
        assert!(k == 0 || (k - 1) * ldb + n <= b.len(), "b out of bounds");
        assert!((m - 1) * ldc + n <= c.len(), "c out of bounds");
        if let Start::Bias(bias) = start {
            assert!(bias.len() >= n, "bias out of bounds");
        }
        let cptr = c.as_mut_ptr();
        let blocks = k.div_ceil(KC).max(1);
        {
            for block in 0..blocks {
                let p0 = block * KC;
                let kc = KC.min(k - p0.min(k));
                let koff = Strided {
                    len: kc,
                    stride: a.cs,
                };
                let tile_start = block_start(block, start);
                for i0 in (0..m).step_by(MR) {
                    let rows = MR.min(m - i0);
                    let a_rows =
                        block_rows(i0, rows, |r| a.data.as_ptr().add(r * a.rs + p0 * a.cs));
                    let c_rows = block_rows(i0, rows, |r| cptr.add(r * ldc));
                    let tile = Tiles {
                        a_rows: &a_rows,
                        koff,
                        b: b.as_ptr().add(p0 * ldb),
                        ldb,
                        n,
                        c_rows: &c_rows,
                        rows,
                        start: tile_start,
                        relu: relu && block + 1 == blocks,
                    };
                    tiles::<MR, W, Strided>(&tile);
                }
            }
        }
    }
}

/// `MR` values, one per row of the block of `rows` rows starting at row `first`: `at(row)`.
/// Rows past `rows` repeat the block's first row, so that the kernel reads memory that exists;
/// they are never stored.
pub(super) fn block_rows<T, const MR: usize>(
    first: usize,
    rows: usize,
    at: impl Fn(usize) -> T,
) -> [T; MR] {
    std::array::from_fn(|i| at(if i < rows { first + i } else { first }))
}

/// How the tiles of depth block `block` start, for a product that starts from `start`.
fn block_start(block: usize, start: Start<'_>) -> TileStart<'_> {
    match (block, start) {
        (0, Start::Zero) => TileStart::Zero,
        (0, Start::Bias(bias)) => TileStart::Bias(bias),
        _ => TileStart::Accumulate,
    }
}

/// One row-block of a product over one block of the depth, every column panel: element
/// `(i, p)` of `a` is at `a_rows[i] + koff[p]`, row `p` of `b` at `b + p * ldb` (`n` values),
/// row `i` of `c` at `c_rows[i]`. Rows past `rows` are computed but not stored.
pub(super) struct Tiles<'a, const MR: usize, K: Depth> {
    pub a_rows: &'a [*const f32; MR],
    pub koff: K,
    pub b: *const f32,
    pub ldb: usize,
    pub n: usize,
    pub c_rows: &'a [*mut f32; MR],
    pub rows: usize,
    pub start: TileStart<'a>,
    pub relu: bool,
}

/// Runs the kernel on every column panel of `t`.
///
/// # Safety
/// AVX-512F; every element `t` addresses exists (rows past `t.rows` included, for `a`).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn tiles<const MR: usize, const W: usize, K: Depth>(t: &Tiles<'_, MR, K>) {
    // SAFETY: the caller guarantees AVX-512F and every address of `t`, which bounds each
    // column panel passed to `kernel`.
    unsafe {
        for j0 in (0..t.n).step_by(LANES * W) {
            let c_rows: [*mut f32; MR] = std::array::from_fn(|i| t.c_rows[i].wrapping_add(j0));
            let bias = match t.start {
                TileStart::Bias(bias) => bias.as_ptr().wrapping_add(j0),
                _ => std::ptr::null(),
            };
            kernel::<MR, W, K>(
                t.a_rows,
                t.koff,
                t.b.wrapping_add(j0),
                t.ldb,
                &c_rows,
                t.rows,
                (LANES * W).min(t.n - j0),
                t.start,
                bias,
                t.relu,
            );
        }
    }
}

/// Where the depth steps of `a` are, in floats from each row's start.
pub(super) trait Depth: Copy {
    fn len(&self) -> usize;
    fn offset(&self, p: usize) -> usize;
}

/// Depth step `p` at `p * stride`, `len` steps.
#[derive(Clone, Copy)]
pub(super) struct Strided {
    pub len: usize,
    pub stride: usize,
}

impl Depth for Strided {
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn offset(&self, p: usize) -> usize {
        p * self.stride
    }
}

/// Depth step `p` at `self[p]`: an implicit im2col, where a convolution's taps are the depth.
impl Depth for &[usize] {
    #[inline(always)]
    fn len(&self) -> usize {
        <[usize]>::len(self)
    }
    #[inline(always)]
    fn offset(&self, p: usize) -> usize {
        self[p]
    }
}

/// What a tile starts from.
#[derive(Clone, Copy)]
pub(super) enum TileStart<'a> {
    Zero,
    Accumulate,
    /// One value per column of the product.
    Bias(&'a [f32]),
}

/// The lanes of a 16-float register that hold one of the first `n` columns.
fn lanes(n: usize) -> __mmask16 {
    if n >= LANES {
        0xffff
    } else {
        ((1u32 << n) - 1) as __mmask16
    }
}

/// `c[rows x cols] = start + a_block * b_block` over `koff.len()` depth steps; ReLU when
/// `relu`. All `MR` rows of `a` are read; rows past `rows` are not stored. Lanes past `cols`
/// are neither read nor written.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn kernel<const MR: usize, const W: usize, K: Depth>(
    a_rows: &[*const f32; MR],
    koff: K,
    b: *const f32,
    ldb: usize,
    c_rows: &[*mut f32; MR],
    rows: usize,
    cols: usize,
    start: TileStart<'_>,
    bias: *const f32,
    relu: bool,
) {
    // SAFETY: the caller guarantees AVX-512F and that `a_rows[i] + koff.offset(p)`, `b + p ldb
    // + cols` and `c_rows[i] + cols` (for `i < rows`) address existing values.
    unsafe {
        let masks: [__mmask16; W] = std::array::from_fn(|w| lanes(cols.saturating_sub(w * LANES)));
        let mut acc = [[_mm512_setzero_ps(); W]; MR];
        let a_rows: [*const f32; MR] = *a_rows;
        let mut b = b;
        for p in 0..koff.len() {
            let off = koff.offset(p);
            let bv: [__m512; W] =
                std::array::from_fn(|w| _mm512_maskz_loadu_ps(masks[w], b.wrapping_add(w * LANES)));
            for i in 0..MR {
                let ai = _mm512_set1_ps(*a_rows[i].add(off));
                for w in 0..W {
                    acc[i][w] = _mm512_fmadd_ps(ai, bv[w], acc[i][w]);
                }
            }
            b = b.wrapping_add(ldb);
        }
        let zero = _mm512_setzero_ps();
        let biasv: [__m512; W] = std::array::from_fn(|w| match start {
            TileStart::Bias(_) => _mm512_maskz_loadu_ps(masks[w], bias.wrapping_add(w * LANES)),
            _ => zero,
        });
        let (add_bias, accumulate) = (
            matches!(start, TileStart::Bias(_)),
            matches!(start, TileStart::Accumulate),
        );
        // Row by row with constant indices (a loop over the rows stays rolled, which puts `acc` on
        // the stack, zeroed by a memset at every call).
        let store = |i: usize, row: &[__m512; W]| {
            if i >= rows {
                return;
            }
            for w in 0..W {
                let cw = c_rows[i].wrapping_add(w * LANES);
                let mut v = row[w];
                if add_bias {
                    v = _mm512_add_ps(biasv[w], v);
                }
                if accumulate {
                    v = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[w], cw), v);
                }
                if relu {
                    v = _mm512_max_ps(v, zero);
                }
                _mm512_mask_storeu_ps(cw, masks[w], v);
            }
        };
        const {
            assert!(
                MR <= 12,
                "the tile's rows are stored by an unrolled list of 12"
            )
        };
        macro_rules! store_rows {
            ($($i:literal)*) => { $( if $i < MR { store($i, &acc[$i]); } )* };
        }
        store_rows!(0 1 2 3 4 5 6 7 8 9 10 11);
    }
}
