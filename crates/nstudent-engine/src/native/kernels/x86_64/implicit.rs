//! 3x3 "same" convolutions on the AVX-512 path without an im2col matrix ("implicit GEMM").
//!
//! im2col writes every pixel's 3x3 neighbourhood into a matrix nine times the size of the
//! input (3136 x 288 floats for 16 images of the second convolution), and its adjoint, col2im,
//! adds a matrix of that size back. Here the images are copied once with a border of zeros, and
//! the matrix kernel of [`super::gemm`] reads the neighbourhoods in place: element
//! `(pixel, (tap, channel))` of the im2col matrix is at
//! `padded + pixel_offset[pixel] + tap_offset[tap] + channel`. The forward pass, the weight
//! gradient and the input gradient are all products of that kind.

use std::cell::RefCell;

use super::super::types::ConvShape;
use super::gemm::{block_rows, tiles, Depth, Strided, TileStart, Tiles};
use super::{at_least, pad, Avx512};

/// Rows of a tile.
const MR: usize = 12;
/// Pixels per block of the weight gradient's depth.
const KC: usize = 256;

thread_local! {
    /// This thread's padded images, padded input gradient, offset tables and transposed
    /// weights; grown once, then reused (a training loop does not allocate).
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

struct Scratch {
    padded: Vec<f32>,
    dpadded: Vec<f32>,
    pixels: Vec<usize>,
    taps: Vec<usize>,
    wt: Vec<f32>,
}

impl Scratch {
    const fn new() -> Self {
        Scratch {
            padded: Vec::new(),
            dpadded: Vec::new(),
            pixels: Vec::new(),
            taps: Vec::new(),
            wt: Vec::new(),
        }
    }

    /// Fills the offset tables of shape `s`: `pixels[q]`, the padded offset of output pixel
    /// `q`'s window (its top-left tap), and `taps[(tap, ch)]`, the offset of a tap's channel
    /// from there.
    fn offsets(&mut self, s: ConvShape) {
        let (h, w, c) = (s.h, s.w, s.cin);
        let (hp, wp) = (h + 2, w + 2);
        self.pixels.clear();
        for img in 0..s.n {
            for y in 0..h {
                for x in 0..w {
                    self.pixels.push(((img * hp + y) * wp + x) * c);
                }
            }
        }
        self.taps.clear();
        for ky in 0..3 {
            for kx in 0..3 {
                for ch in 0..c {
                    self.taps.push((ky * wp + kx) * c + ch);
                }
            }
        }
    }
}

/// `y = relu?(conv3x3(x, w) + bias)`; `w` is `(3, 3, cin, cout)` (a `9 cin x cout` matrix).
pub(super) fn forward(
    cpu: Avx512,
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    let (rows, depth, cout) = (s.rows(), 9 * s.cin, s.cout);
    assert!(s.k == 3 && x.len() >= rows * s.cin && y.len() >= rows * cout);
    assert!(w.len() >= depth * cout && bias.len() >= cout);
    SCRATCH.with(|sc| {
        let sc = &mut *sc.borrow_mut();
        pad(x, s, &mut sc.padded);
        sc.offsets(s);
        let (xp, taps) = (sc.padded.as_ptr(), &sc.taps[..]);
        for q0 in (0..rows).step_by(MR) {
            let n_rows = MR.min(rows - q0);
            // Every pixel's window and every tap lies inside the padded images; the tiles only
            // dereference these pointers (`run`'s contract).
            let a_rows = block_rows(q0, n_rows, |r| xp.wrapping_add(sc.pixels[r]));
            let yp = y.as_mut_ptr();
            let c_rows = block_rows(q0, n_rows, |r| yp.wrapping_add(r * cout));
            let t = Tiles {
                a_rows: &a_rows,
                koff: taps,
                b: w.as_ptr(),
                ldb: cout,
                n: cout,
                c_rows: &c_rows,
                rows: n_rows,
                start: TileStart::Bias(bias),
                relu,
            };
            // SAFETY: `cpu` proves AVX-512F; the tiles read `depth` rows of `w` and write `cout`
            // values of `n_rows` rows of `y`, all checked above.
            unsafe { run(cpu, &t) };
        }
    });
}

/// The weight gradient, `dw (+)= im2col(x)^T dy` (added when `accumulate`), and, when `dx` is
/// given, the input gradient `dx (+)= col2im(dy w^T)` (added when its flag is set). `dy` is
/// already masked by the ReLU.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    cpu: Avx512,
    x: &[f32],
    s: ConvShape,
    w: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    accumulate: bool,
    dx: Option<(&mut [f32], bool)>,
) {
    let (rows, depth, cout) = (s.rows(), 9 * s.cin, s.cout);
    assert!(s.k == 3 && x.len() >= rows * s.cin && dy.len() >= rows * cout);
    assert!(w.len() >= depth * cout && dw.len() >= depth * cout);
    SCRATCH.with(|sc| {
        let sc = &mut *sc.borrow_mut();
        pad(x, s, &mut sc.padded);
        sc.offsets(s);
        weight_gradient(cpu, sc, s, dy, dw, accumulate);
        if let Some((dx, add)) = dx {
            input_gradient(cpu, sc, s, w, dy, dx, add);
        }
    });
}

/// `dw[(tap, ch), o] (+)= sum over pixels q of padded[pixels[q] + taps[(tap, ch)]] dy[q, o]`.
fn weight_gradient(
    cpu: Avx512,
    sc: &Scratch,
    s: ConvShape,
    dy: &[f32],
    dw: &mut [f32],
    accumulate: bool,
) {
    let (rows, depth, cout) = (s.rows(), 9 * s.cin, s.cout);
    let xp = sc.padded.as_ptr();
    for (block, q0) in (0..rows).step_by(KC).enumerate() {
        let kc = KC.min(rows - q0);
        let start = if block == 0 && !accumulate {
            TileStart::Zero
        } else {
            TileStart::Accumulate
        };
        let pixels = &sc.pixels[q0..q0 + kc];
        for p0 in (0..depth).step_by(MR) {
            let n_rows = MR.min(depth - p0);
            // A tap offset plus any pixel's offset lies inside the padded images.
            let a_rows = block_rows(p0, n_rows, |r| xp.wrapping_add(sc.taps[r]));
            let dwp = dw.as_mut_ptr();
            let c_rows = block_rows(p0, n_rows, |r| dwp.wrapping_add(r * cout));
            let t = Tiles {
                a_rows: &a_rows,
                koff: pixels,
                // Rows q0..q0 + kc of `dy` exist (asserted by `backward`).
                b: dy.as_ptr().wrapping_add(q0 * cout),
                ldb: cout,
                n: cout,
                c_rows: &c_rows,
                rows: n_rows,
                start,
                relu: false,
            };
            // SAFETY: `cpu` proves AVX-512F; every address is inside the padded images, `dy`
            // and `dw`.
            unsafe { run(cpu, &t) };
        }
    }
}

/// `dx (+)= col2im(dy w^T)`: for each tap, the products `dy w_tap^T` are added to the padded
/// input gradient at the tap's offset; the centre tap goes first and writes, so that every
/// pixel is written before the other taps add to it.
fn input_gradient(
    cpu: Avx512,
    sc: &mut Scratch,
    s: ConvShape,
    w: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    add: bool,
) {
    let (rows, depth, cin, cout) = (s.rows(), 9 * s.cin, s.cin, s.cout);
    let (h, wd) = (s.h, s.w);
    let (hp, wp) = (h + 2, wd + 2);
    assert!(dx.len() >= rows * cin);
    // w^T: (cout, 9 cin), so that a tap's columns are rows of `b`.
    at_least(&mut sc.wt, cout * depth);
    for p in 0..depth {
        for o in 0..cout {
            sc.wt[o * depth + p] = w[p * cout + o];
        }
    }
    at_least(&mut sc.dpadded, s.n * hp * wp * cin);
    // The border of the padded gradient only ever receives additions: zero it.
    for img in sc.dpadded.chunks_exact_mut(hp * wp * cin).take(s.n) {
        img[..wp * cin].fill(0.0);
        img[(hp - 1) * wp * cin..].fill(0.0);
        for y in 1..hp - 1 {
            img[y * wp * cin..(y * wp + 1) * cin].fill(0.0);
            img[((y + 1) * wp - 1) * cin..(y + 1) * wp * cin].fill(0.0);
        }
    }
    let dxp = sc.dpadded.as_mut_ptr();
    let centre = 4;
    for tap in std::iter::once(centre).chain((0..9).filter(|&t| t != centre)) {
        let tap_offset = ((tap / 3) * wp + tap % 3) * cin;
        let start = if tap == centre {
            TileStart::Zero
        } else {
            TileStart::Accumulate
        };
        for q0 in (0..rows).step_by(MR) {
            let n_rows = MR.min(rows - q0);
            // Rows of `dy` below `rows` and windows of the padded gradient exist.
            let a_rows = block_rows(q0, n_rows, |r| dy.as_ptr().wrapping_add(r * cout));
            let c_rows = block_rows(q0, n_rows, |r| dxp.wrapping_add(sc.pixels[r] + tap_offset));
            let t = Tiles {
                a_rows: &a_rows,
                koff: Strided {
                    len: cout,
                    stride: 1,
                },
                // Columns tap * cin.. of w^T exist.
                b: sc.wt.as_ptr().wrapping_add(tap * cin),
                ldb: depth,
                n: cin,
                c_rows: &c_rows,
                rows: n_rows,
                start,
                relu: false,
            };
            // SAFETY: `cpu` proves AVX-512F; every address is inside `dy`, w^T and the padded
            // gradient.
            unsafe { run(cpu, &t) };
        }
    }
    // The centre of each window is the pixel itself.
    let centre_offset = (wp + 1) * cin;
    for (q, d) in dx.chunks_exact_mut(cin).take(rows).enumerate() {
        let src = &sc.dpadded[sc.pixels[q] + centre_offset..][..cin];
        if add {
            for (d, v) in d.iter_mut().zip(src) {
                *d += v;
            }
        } else {
            d.copy_from_slice(src);
        }
    }
}

/// [`tiles`] on 32-column panels, or 16-column ones when the product has at most 16 columns.
///
/// # Safety
/// Every address `t` reaches exists (`_cpu` proves AVX-512F).
unsafe fn run<K: Depth>(_cpu: Avx512, t: &Tiles<'_, MR, K>) {
    // SAFETY: the caller guarantees every address `t` reaches; `_cpu` proves AVX-512F, the
    // feature `tiles` is compiled for.
    unsafe {
        if t.n <= 16 {
            tiles::<MR, 1, K>(t)
        } else {
            tiles::<MR, 2, K>(t)
        }
    }
}
