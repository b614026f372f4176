//! 3x3 "same" convolutions by Winograd's minimal filtering F(2x2, 3x3) on the AVX-512 path
//! (Lavin and Gray, "Fast algorithms for convolutional neural networks", CVPR 2016).
//!
//! The output is cut into 2x2 tiles. Tile `(ty, tx)` reads the 4x4 patch `d` of the input
//! whose top-left pixel is `(2 ty - 1, 2 tx - 1)` (zeros outside the image), and
//!
//! ```text
//! y = A^T [ U ⊙ V ] A,   U = G g G^T (4x4 per input and output channel),   V = B^T d B
//! ```
//!
//! so the 36 multiply-adds per output pixel and channel pair of a direct convolution become
//! 16 per tile of 4 pixels, 2.25 times fewer. For each of the 16 positions `ξ` of the 4x4
//! transformed tile, the sum over input channels is a matrix product, `M_ξ = V_ξ U_ξ`
//! (tiles x cin times cin x cout), run on the register-tiled kernel of [`super::gemm`].
//!
//! The backward pass is the adjoint of the same linear maps. With `Z = A dY A^T` (the output
//! gradient of each tile, transformed):
//! - weight gradient: `dg = G^T [ Σ_tiles V ⊙ Z ] G`, whose inner sum is the product
//!   `V_ξ^T Z_ξ` (cin x tiles times tiles x cout);
//! - input gradient: `dd = B [ U ⊙ Z ] B^T` per tile, added into the input's 4x4 patch; the
//!   inner sum over output channels is the product `Z_ξ U_ξ^T`.
//!
//! The 2.25x fewer products hold for the forward pass and for both gradients, and the
//! transforms cost a few additions per value. The transforms' matrices hold 0, ±1 and ±1/2
//! only; in single precision the results agree with a direct convolution to about 1e-6
//! relative (tested against im2col). Tiles run in blocks of [`TB`] in a fixed order, so the bits
//! depend on the operands and the shape only.

use std::arch::x86_64::*;
use std::cell::RefCell;

use super::super::types::ConvShape;
use super::gemm::{block_rows, tiles, Strided, TileStart, Tiles};
use super::{at_least, Avx512};

/// Floats in a zmm register; channel counts must be multiples of it.
const LANES: usize = 16;
/// Positions of a transformed tile (4x4).
const XI: usize = 16;
/// Output tiles per block. A block's transformed input, transformed output gradient and
/// input-gradient product (48 x 16 x (32 + 64 + 32) floats, 393 KB at 32 -> 64 channels) stay
/// in L2 while the 16 products of the block run. A multiple of 12 and of 8, the kernel's rows.
const TB: usize = 48;
/// Floats from one position's plane of a block, `(tile, channel)` for `c` channels, to the
/// next: the planes are `TB c` floats, plus one cache line so that the 16 planes a transform
/// reads or writes at once fall in different L1 sets (`TB c` floats are a multiple of 4 KB).
const fn plane(c: usize) -> usize {
    TB * c + LANES
}

/// Rows of a forward or input-gradient tile of the product.
const MR: usize = 12;
/// Rows of a weight-gradient tile: input channels, a multiple of 8.
const MR_DW: usize = 8;

/// Whether this module convolves shape `s`: 3x3, even height and width (whole 2x2 tiles), and
/// channel counts that are multiples of 16 (whole registers).
pub(super) fn supports(s: ConvShape) -> bool {
    s.k == 3
        && s.h >= 2
        && s.w >= 2
        && s.h.is_multiple_of(2)
        && s.w.is_multiple_of(2)
        && s.cin.is_multiple_of(LANES)
        && s.cout.is_multiple_of(LANES)
}

thread_local! {
    /// This thread's transformed weights, tiles and gradients; grown once, then reused (a
    /// training loop does not allocate).
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

struct Scratch {
    /// `U`: `(ξ, cin, cout)`.
    u: Vec<f32>,
    /// `U` transposed per position: `(ξ, cout, cin)`.
    ut: Vec<f32>,
    /// Transformed input of a block: `(ξ, tile, cin)`, planes [`plane`] apart.
    v: Vec<f32>,
    /// Forward product of a block `(ξ, tile, cout)`, or transformed output gradient `Z`.
    m: Vec<f32>,
    /// Input-gradient product of a block: `(ξ, tile, cin)`.
    mx: Vec<f32>,
    /// Weight gradient before its transform: `(ξ, cin, cout)`.
    dwh: Vec<f32>,
}

impl Scratch {
    const fn new() -> Self {
        Scratch {
            u: Vec::new(),
            ut: Vec::new(),
            v: Vec::new(),
            m: Vec::new(),
            mx: Vec::new(),
            dwh: Vec::new(),
        }
    }
}

/// The tiles of shape `s` and where tile `t` is: `(image, ty, tx)`.
#[derive(Clone, Copy)]
struct TileGrid {
    th: usize,
    tw: usize,
    count: usize,
}

impl TileGrid {
    fn new(s: ConvShape) -> Self {
        let (th, tw) = (s.h / 2, s.w / 2);
        TileGrid {
            th,
            tw,
            count: s.n * th * tw,
        }
    }

    fn at(&self, t: usize) -> (usize, usize, usize) {
        (
            t / (self.th * self.tw),
            (t / self.tw) % self.th,
            t % self.tw,
        )
    }

    /// The blocks of [`TB`] tiles: `(first tile, tiles)`.
    fn blocks(&self) -> impl Iterator<Item = (usize, usize)> {
        let count = self.count;
        (0..count)
            .step_by(TB)
            .map(move |t0| (t0, TB.min(count - t0)))
    }
}

/// `y = relu?(conv3x3(x, w) + bias)`; `w` is `(3, 3, cin, cout)`.
pub(super) fn forward(
    _cpu: Avx512,
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    assert!(supports(s), "Winograd convolution on an unsupported shape");
    let (cin, cout) = (s.cin, s.cout);
    assert!(x.len() >= s.rows() * cin && y.len() >= s.rows() * cout);
    assert!(w.len() >= 9 * cin * cout && bias.len() >= cout);
    let grid = TileGrid::new(s);
    SCRATCH.with(|sc| {
        let sc = &mut *sc.borrow_mut();
        at_least(&mut sc.u, XI * cin * cout);
        at_least(&mut sc.v, XI * plane(cin));
        at_least(&mut sc.m, XI * plane(cout));
        // SAFETY: `_cpu` proves AVX-512F; `w` holds 9 cin cout values (asserted) and `u` 16.
        unsafe { transform_weights(w, cin, cout, &mut sc.u) };
        for (t0, nt) in grid.blocks() {
            // SAFETY: AVX-512F (`_cpu`); `x` holds the images (asserted), `v` 16 planes.
            unsafe { transform_input(x, s, grid, t0, nt, &mut sc.v) };
            for xi in 0..XI {
                // M_ξ (tiles x cout) = V_ξ (tiles x cin) U_ξ (cin x cout).
                // SAFETY: AVX-512F (`_cpu`); plane `xi` of `v` holds `nt` rows of `cin`, of
                // `u` `cin` rows of `cout`, of `m` `nt` rows of `cout` (scratch sizes above).
                unsafe {
                    product(
                        (sc.v.as_ptr().add(xi * plane(cin)), cin),
                        Strided {
                            len: cin,
                            stride: 1,
                        },
                        nt,
                        (sc.u.as_ptr().add(xi * cin * cout), cout),
                        cout,
                        (sc.m.as_mut_ptr().add(xi * plane(cout)), cout),
                        TileStart::Zero,
                    )
                };
            }
            // SAFETY: AVX-512F (`_cpu`); `m` holds 16 planes, `y` the outputs (asserted).
            unsafe { transform_output(&sc.m, s, grid, t0, nt, bias, relu, y) };
        }
    });
}

/// The weight gradient, `dw (+)= ∂/∂w` (added when `accumulate`), and, when `dx` is given, the
/// input gradient (added when its flag is set). `dy` is already masked by the ReLU.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    _cpu: Avx512,
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    accumulate: bool,
    dx: Option<(&mut [f32], bool)>,
) {
    assert!(supports(s), "Winograd convolution on an unsupported shape");
    let (cin, cout) = (s.cin, s.cout);
    assert!(x.len() >= s.rows() * cin && dy.len() >= s.rows() * cout);
    assert!(w.len() >= 9 * cin * cout && dw.len() >= 9 * cin * cout);
    let grid = TileGrid::new(s);
    if grid.count == 0 {
        // No images: zero gradients (the block loop below would leave `dwh` as it was).
        if !accumulate {
            dw[..9 * cin * cout].fill(0.0);
        }
        return;
    }
    SCRATCH.with(|sc| {
        let sc = &mut *sc.borrow_mut();
        at_least(&mut sc.v, XI * plane(cin));
        at_least(&mut sc.m, XI * plane(cout));
        at_least(&mut sc.dwh, XI * cin * cout);
        let mut dx = dx;
        if let Some((dx, add)) = dx.as_mut() {
            assert!(dx.len() >= s.rows() * cin);
            if !*add {
                dx[..s.rows() * cin].fill(0.0);
            }
            at_least(&mut sc.u, XI * cin * cout);
            at_least(&mut sc.ut, XI * cin * cout);
            at_least(&mut sc.mx, XI * plane(cin));
            // SAFETY: `_cpu` proves AVX-512F; `w` holds 9 cin cout values (asserted), `u` 16.
            unsafe { transform_weights(w, cin, cout, &mut sc.u) };
            transpose_positions(&sc.u, cin, cout, &mut sc.ut);
        }
        for (block, (t0, nt)) in grid.blocks().enumerate() {
            // SAFETY: AVX-512F (`_cpu`); `x` and `dy` hold the images' values (asserted), `v`
            // and `m` 16 planes each.
            unsafe {
                transform_input(x, s, grid, t0, nt, &mut sc.v);
                transform_output_gradient(dy, s, grid, t0, nt, &mut sc.m);
            }
            let start = if block == 0 {
                TileStart::Zero
            } else {
                TileStart::Accumulate
            };
            for xi in 0..XI {
                // dŴ_ξ (cin x cout) (+)= V_ξ^T (cin x tiles) Z_ξ (tiles x cout).
                // SAFETY: AVX-512F (`_cpu`); the planes hold `nt` tiles of `cin` and `cout`
                // channels, `dwh` 16 cin cout values.
                unsafe {
                    product_rows::<MR_DW>(
                        (sc.v.as_ptr().add(xi * plane(cin)), 1),
                        Strided {
                            len: nt,
                            stride: cin,
                        },
                        cin,
                        (sc.m.as_ptr().add(xi * plane(cout)), cout),
                        cout,
                        (sc.dwh.as_mut_ptr().add(xi * cin * cout), cout),
                        start,
                    )
                };
            }
            if let Some((dx, _)) = dx.as_mut() {
                for xi in 0..XI {
                    // (U ⊙ Z)_ξ summed over output channels: Z_ξ (tiles x cout) U_ξ^T.
                    // SAFETY: AVX-512F (`_cpu`); `m`, `ut` and `mx` hold these planes.
                    unsafe {
                        product(
                            (sc.m.as_ptr().add(xi * plane(cout)), cout),
                            Strided {
                                len: cout,
                                stride: 1,
                            },
                            nt,
                            (sc.ut.as_ptr().add(xi * cout * cin), cin),
                            cin,
                            (sc.mx.as_mut_ptr().add(xi * plane(cin)), cin),
                            TileStart::Zero,
                        )
                    };
                }
                // SAFETY: AVX-512F (`_cpu`); `mx` holds 16 planes, `dx` the gradients (asserted).
                unsafe { add_input_gradient(&sc.mx, s, grid, t0, nt, dx) };
            }
        }
        // SAFETY: AVX-512F (`_cpu`); `dwh` holds 16 cin cout values, `dw` 9 (asserted).
        unsafe { transform_weight_gradient(&sc.dwh, cin, cout, dw, accumulate) };
    });
}

/// `c = start + a b` over `m` rows, with `MR`-row tiles: row `i` of `a` at
/// `a.0 + i * a.1`, its depth steps at `koff`; row `p` of `b` at `b.0 + p * b.1`, `n` columns;
/// row `i` of `c` at `c.0 + i * c.1`.
///
/// # Safety
/// AVX-512F; every element addressed exists.
#[allow(clippy::too_many_arguments)]
unsafe fn product_rows<const MR: usize>(
    a: (*const f32, usize),
    koff: Strided,
    m: usize,
    b: (*const f32, usize),
    n: usize,
    c: (*mut f32, usize),
    start: TileStart<'_>,
) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        for i0 in (0..m).step_by(MR) {
            let rows = MR.min(m - i0);
            let a_rows = block_rows(i0, rows, |r| a.0.wrapping_add(r * a.1));
            let c_rows = block_rows(i0, rows, |r| c.0.wrapping_add(r * c.1));
            let t = Tiles {
                a_rows: &a_rows,
                koff,
                b: b.0,
                ldb: b.1,
                n,
                c_rows: &c_rows,
                rows,
                start,
                relu: false,
            };
            if n <= LANES {
                tiles::<MR, 1, Strided>(&t)
            } else {
                tiles::<MR, 2, Strided>(&t)
            }
        }
    }
}

/// [`product_rows`] on 12-row tiles.
///
/// # Safety
/// As [`product_rows`].
#[allow(clippy::too_many_arguments)]
unsafe fn product(
    a: (*const f32, usize),
    koff: Strided,
    m: usize,
    b: (*const f32, usize),
    n: usize,
    c: (*mut f32, usize),
    start: TileStart<'_>,
) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe { product_rows::<MR>(a, koff, m, b, n, c, start) }
}

type V4 = [__m512; 4];

#[inline]
#[target_feature(enable = "avx512f")]
fn add(a: __m512, b: __m512) -> __m512 {
    _mm512_add_ps(a, b)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn sub(a: __m512, b: __m512) -> __m512 {
    _mm512_sub_ps(a, b)
}

/// `B^T d`: `[d0 - d2, d1 + d2, d2 - d1, d1 - d3]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn bt(d: V4) -> V4 {
    [
        sub(d[0], d[2]),
        add(d[1], d[2]),
        sub(d[2], d[1]),
        sub(d[1], d[3]),
    ]
}

/// `B v`, the adjoint of [`bt`]: `[v0, v1 - v2 + v3, v1 + v2 - v0, -v3]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn b(v: V4) -> V4 {
    [
        v[0],
        add(sub(v[1], v[2]), v[3]),
        sub(add(v[1], v[2]), v[0]),
        sub(_mm512_setzero_ps(), v[3]),
    ]
}

/// `A^T m`: `[m0 + m1 + m2, m1 - m2 - m3]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn at(m: V4) -> [__m512; 2] {
    [add(add(m[0], m[1]), m[2]), sub(sub(m[1], m[2]), m[3])]
}

/// `A y`, the adjoint of [`at`]: `[y0, y0 + y1, y0 - y1, -y1]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn a(y: [__m512; 2]) -> V4 {
    [
        y[0],
        add(y[0], y[1]),
        sub(y[0], y[1]),
        sub(_mm512_setzero_ps(), y[1]),
    ]
}

/// `G g`: `[g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn g(w: [__m512; 3]) -> V4 {
    let half = _mm512_set1_ps(0.5);
    let outer = add(w[0], w[2]);
    [
        w[0],
        _mm512_mul_ps(add(outer, w[1]), half),
        _mm512_mul_ps(sub(outer, w[1]), half),
        w[2],
    ]
}

/// `G^T u`, the adjoint of [`g`]: `[u0 + (u1 + u2) / 2, (u1 - u2) / 2, (u1 + u2) / 2 + u3]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn gt(u: V4) -> [__m512; 3] {
    let half = _mm512_set1_ps(0.5);
    let sum = _mm512_mul_ps(add(u[1], u[2]), half);
    [
        add(u[0], sum),
        _mm512_mul_ps(sub(u[1], u[2]), half),
        add(sum, u[3]),
    ]
}

/// Defines `$name(x) = T x T^T` for the 1-D transform `$f` (`$i` values to `$o`): `$f` down each
/// column, then along each row. Plain loops over arrays, no closures: a closure passed to
/// `std::array::from_fn` is not inlined into AVX-512 code, and its arrays go through memory.
macro_rules! both_ways {
    ($name:ident, $f:ident, $i:literal, $o:literal) => {
        #[inline]
        #[target_feature(enable = "avx512f")]
        fn $name(x: &[[__m512; $i]; $i]) -> [[__m512; $o]; $o] {
            let zero = _mm512_setzero_ps();
            // rows[r][q]: row r of the transform of column q.
            let mut rows = [[zero; $i]; $o];
            for q in 0..$i {
                let mut col = [zero; $i];
                for r in 0..$i {
                    col[r] = x[r][q];
                }
                let t = $f(col);
                for r in 0..$o {
                    rows[r][q] = t[r];
                }
            }
            let mut out = [[zero; $o]; $o];
            for r in 0..$o {
                out[r] = $f(rows[r]);
            }
            out
        }
    };
}

both_ways!(g2, g, 3, 4);
both_ways!(gt2, gt, 4, 3);
both_ways!(bt2, bt, 4, 4);
both_ways!(b2, b, 4, 4);
both_ways!(at2, at, 4, 2);
both_ways!(a2, a, 2, 4);

/// The 16 values of a transformed tile, position `ξ = 4 r + q` at `at + ξ stride`.
///
/// # Safety
/// AVX-512F; 16 floats exist at each of the 16 addresses.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn load_planes(at: *const f32, stride: usize) -> [V4; 4] {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        let mut m = [[_mm512_setzero_ps(); 4]; 4];
        for (r, row) in m.iter_mut().enumerate() {
            for (q, v) in row.iter_mut().enumerate() {
                *v = _mm512_loadu_ps(at.add((r * 4 + q) * stride));
            }
        }
        m
    }
}

/// Stores the 16 values of a transformed tile, position `ξ = 4 r + q` at `at + ξ stride`.
///
/// # Safety
/// AVX-512F; 16 floats exist at each of the 16 addresses.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn store_planes(at: *mut f32, stride: usize, m: &[V4; 4]) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        for (r, row) in m.iter().enumerate() {
            for (q, &v) in row.iter().enumerate() {
                _mm512_storeu_ps(at.add((r * 4 + q) * stride), v);
            }
        }
    }
}

/// `U = G g G^T` for every input and output channel, into `u` as `(ξ, cin, cout)`.
///
/// # Safety
/// AVX-512F; `w` holds `9 cin cout` values and `u` `16 cin cout`; `cout % 16 == 0`.
#[target_feature(enable = "avx512f")]
unsafe fn transform_weights(w: &[f32], cin: usize, cout: usize, u: &mut [f32]) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        for i in 0..cin {
            for o in (0..cout).step_by(LANES) {
                let mut gv = [[_mm512_setzero_ps(); 3]; 3];
                for (r, row) in gv.iter_mut().enumerate() {
                    for (q, v) in row.iter_mut().enumerate() {
                        *v = _mm512_loadu_ps(w.as_ptr().add(((r * 3 + q) * cin + i) * cout + o));
                    }
                }
                let uv = g2(&gv);
                store_planes(u.as_mut_ptr().add(i * cout + o), cin * cout, &uv);
            }
        }
    }
}

/// `ut (ξ, cout, cin)` = `u (ξ, cin, cout)` transposed per position.
fn transpose_positions(u: &[f32], cin: usize, cout: usize, ut: &mut [f32]) {
    for (src, dst) in u
        .chunks_exact(cin * cout)
        .zip(ut.chunks_exact_mut(cin * cout))
        .take(XI)
    {
        for (i, row) in src.chunks_exact(cout).enumerate() {
            for (o, &v) in row.iter().enumerate() {
                dst[o * cin + i] = v;
            }
        }
    }
}

/// `V = B^T d B` for tiles `t0..t0 + nt`, into `v` as `(ξ, tile, cin)`.
///
/// # Safety
/// AVX-512F; `x` holds the `n (h, w, cin)` images of `s`; `v` holds 16 planes of `cin` channels.
#[target_feature(enable = "avx512f")]
unsafe fn transform_input(
    x: &[f32],
    s: ConvShape,
    grid: TileGrid,
    t0: usize,
    nt: usize,
    v: &mut [f32],
) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        let (h, w, c) = (s.h, s.w, s.cin);
        let zero = _mm512_setzero_ps();
        for t in 0..nt {
            let (img, ty, tx) = grid.at(t0 + t);
            let image = x.as_ptr().add(img * h * w * c);
            let out = v.as_mut_ptr().add(t * c);
            for ch in (0..c).step_by(LANES) {
                let mut d = [[zero; 4]; 4];
                for (r, row) in d.iter_mut().enumerate() {
                    let py = (2 * ty + r).wrapping_sub(1);
                    if py >= h {
                        continue;
                    }
                    for (q, v) in row.iter_mut().enumerate() {
                        let px = (2 * tx + q).wrapping_sub(1);
                        if px < w {
                            *v = _mm512_loadu_ps(image.add((py * w + px) * c + ch));
                        }
                    }
                }
                let vv = bt2(&d);
                store_planes(out.add(ch), plane(c), &vv);
            }
        }
    }
}

/// `y = relu?(A^T M A + bias)` for tiles `t0..t0 + nt`, from `m` as `(ξ, tile, cout)`.
///
/// # Safety
/// AVX-512F; `m` holds 16 planes of `cout` channels, `y` the `n (h, w, cout)` outputs of `s`.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn transform_output(
    m: &[f32],
    s: ConvShape,
    grid: TileGrid,
    t0: usize,
    nt: usize,
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        let (h, w, c) = (s.h, s.w, s.cout);
        let zero = _mm512_setzero_ps();
        for t in 0..nt {
            let (img, ty, tx) = grid.at(t0 + t);
            let image = y.as_mut_ptr().add(img * h * w * c);
            let tile = m.as_ptr().add(t * c);
            for ch in (0..c).step_by(LANES) {
                let mv = load_planes(tile.add(ch), plane(c));
                let out = at2(&mv);
                let b = _mm512_loadu_ps(bias.as_ptr().add(ch));
                for (r, row) in out.iter().enumerate() {
                    for (q, &val) in row.iter().enumerate() {
                        let mut val = add(val, b);
                        if relu {
                            val = _mm512_max_ps(val, zero);
                        }
                        let (py, px) = (2 * ty + r, 2 * tx + q);
                        _mm512_storeu_ps(image.add((py * w + px) * c + ch), val);
                    }
                }
            }
        }
    }
}

/// `Z = A dY A^T` for tiles `t0..t0 + nt`, into `z` as `(ξ, tile, cout)`.
///
/// # Safety
/// AVX-512F; `dy` holds the `n (h, w, cout)` gradients of `s`; `z` holds 16 planes of `cout` channels.
#[target_feature(enable = "avx512f")]
unsafe fn transform_output_gradient(
    dy: &[f32],
    s: ConvShape,
    grid: TileGrid,
    t0: usize,
    nt: usize,
    z: &mut [f32],
) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        let (h, w, c) = (s.h, s.w, s.cout);
        for t in 0..nt {
            let (img, ty, tx) = grid.at(t0 + t);
            let image = dy.as_ptr().add(img * h * w * c);
            let out = z.as_mut_ptr().add(t * c);
            for ch in (0..c).step_by(LANES) {
                let mut g = [[_mm512_setzero_ps(); 2]; 2];
                for (r, row) in g.iter_mut().enumerate() {
                    for (q, v) in row.iter_mut().enumerate() {
                        *v = _mm512_loadu_ps(image.add(((2 * ty + r) * w + 2 * tx + q) * c + ch));
                    }
                }
                let zv = a2(&g);
                store_planes(out.add(ch), plane(c), &zv);
            }
        }
    }
}

/// `dx += B Mx B^T` for tiles `t0..t0 + nt` (each tile's 4x4 patch, parts outside the image
/// dropped), from `mx` as `(ξ, tile, cin)`.
///
/// # Safety
/// AVX-512F; `mx` holds 16 planes of `cin` channels, `dx` the `n (h, w, cin)` gradients of `s`.
#[target_feature(enable = "avx512f")]
unsafe fn add_input_gradient(
    mx: &[f32],
    s: ConvShape,
    grid: TileGrid,
    t0: usize,
    nt: usize,
    dx: &mut [f32],
) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        let (h, w, c) = (s.h, s.w, s.cin);
        for t in 0..nt {
            let (img, ty, tx) = grid.at(t0 + t);
            let image = dx.as_mut_ptr().add(img * h * w * c);
            let tile = mx.as_ptr().add(t * c);
            for ch in (0..c).step_by(LANES) {
                let mv = load_planes(tile.add(ch), plane(c));
                let dd = b2(&mv);
                for (r, row) in dd.iter().enumerate() {
                    let py = (2 * ty + r).wrapping_sub(1);
                    if py >= h {
                        continue;
                    }
                    for (q, &val) in row.iter().enumerate() {
                        let px = (2 * tx + q).wrapping_sub(1);
                        if px < w {
                            let p = image.add((py * w + px) * c + ch);
                            _mm512_storeu_ps(p, add(_mm512_loadu_ps(p), val));
                        }
                    }
                }
            }
        }
    }
}

/// `dw (+)= G^T dŴ G` for every input and output channel, from `dwh` as `(ξ, cin, cout)`, into
/// `dw` as `(3, 3, cin, cout)`.
///
/// # Safety
/// AVX-512F; `dwh` holds `16 cin cout` values and `dw` `9 cin cout`; `cout % 16 == 0`.
#[target_feature(enable = "avx512f")]
unsafe fn transform_weight_gradient(
    dwh: &[f32],
    cin: usize,
    cout: usize,
    dw: &mut [f32],
    accumulate: bool,
) {
    // SAFETY: the caller upholds the `# Safety` contract above (AVX-512F, and every address
    // this function forms lies inside the operands it names).
    unsafe {
        for i in 0..cin {
            for o in (0..cout).step_by(LANES) {
                let uv = load_planes(dwh.as_ptr().add(i * cout + o), cin * cout);
                let gv = gt2(&uv);
                for tap in 0..9 {
                    let val = gv[tap / 3][tap % 3];
                    let p = dw.as_mut_ptr().add((tap * cin + i) * cout + o);
                    let val = if accumulate {
                        add(_mm512_loadu_ps(p), val)
                    } else {
                        val
                    };
                    _mm512_storeu_ps(p, val);
                }
            }
        }
    }
}
