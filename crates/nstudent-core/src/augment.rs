//! Input noise for students: seeded augmentation of `u8` images, applied per batch by the engine.
//!
//! [`RandAugment`] follows Cubuk et al. 2020 as Noisy Student uses it: for every image, draw
//! `num_ops` operations uniformly from [`Op::RANDOM`] and apply each at one global strength
//! `magnitude` on the paper's 0-30 scale (signed operations get a random sign). The ranges are
//! those of the RandAugment paper, with translation scaled to the image size (30% of the side at
//! magnitude 30) so that the same magnitude means the same thing on 28x28 and 32x32 images.
//! Geometric operations sample bilinearly and fill uncovered pixels with [`FILL`] (black, the
//! background of the digit and clothing datasets).

use std::cell::RefCell;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::ImageShape;

/// Value written where a geometric operation or cutout uncovers the image.
pub const FILL: u8 = 0;

/// Strongest rotation, in degrees, reached at magnitude 30.
const MAX_ROTATE_DEGREES: f32 = 30.0;
/// Strongest shear (horizontal offset per row), reached at magnitude 30.
const MAX_SHEAR: f32 = 0.3;
/// Strongest translation, as a fraction of the image side, reached at magnitude 30.
const MAX_TRANSLATE: f32 = 0.3;
/// Strongest change of a blend factor (brightness, contrast, sharpness) at magnitude 30.
const MAX_ENHANCE: f32 = 0.9;
/// Side of the largest cutout square, as a fraction of the shorter image side, at magnitude 30.
const MAX_CUTOUT: f32 = 0.5;
/// Top of the magnitude scale.
const MAX_MAGNITUDE: f32 = 30.0;

/// RandAugment-style input noise (Cubuk et al. 2020, as used by Noisy Student): for every image,
/// `num_ops` operations drawn at random, each at strength `magnitude`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandAugment {
    /// Operations applied to each image.
    pub num_ops: usize,
    /// Strength of every operation on the 0-30 scale of the RandAugment paper.
    pub magnitude: f32,
    /// Allow horizontal flips (natural images only; never for digits or letters). When set,
    /// every image is mirrored with probability 1/2 before its operations.
    pub horizontal_flip: bool,
}

impl Default for RandAugment {
    /// Two operations at magnitude 5 (the strength nstudent's students train with), no flips.
    fn default() -> Self {
        Self::new(2, 5.0, false)
    }
}

/// One augmentation operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    Identity,
    /// Stretches each channel to the full 0-255 range (ignores the magnitude).
    AutoContrast,
    /// Histogram equalisation of each channel (ignores the magnitude).
    Equalize,
    Rotate,
    /// Inverts pixels at or above a threshold that falls as the magnitude rises.
    Solarize,
    /// Keeps fewer high bits per channel as the magnitude rises (8 bits at 0, 4 at 30).
    Posterize,
    Contrast,
    Brightness,
    Sharpness,
    ShearX,
    ShearY,
    TranslateX,
    TranslateY,
    /// Fills a square at a random place with [`FILL`].
    Cutout,
    /// Mirrors left-right (only used when [`RandAugment::horizontal_flip`] is set).
    FlipHorizontal,
}

impl Op {
    /// The operations [`RandAugment`] draws from.
    pub const RANDOM: [Op; 14] = [
        Op::Identity,
        Op::AutoContrast,
        Op::Equalize,
        Op::Rotate,
        Op::Solarize,
        Op::Posterize,
        Op::Contrast,
        Op::Brightness,
        Op::Sharpness,
        Op::ShearX,
        Op::ShearY,
        Op::TranslateX,
        Op::TranslateY,
        Op::Cutout,
    ];
}

thread_local! {
    /// Scratch copy of the image between two operations, reused across calls on a thread.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl RandAugment {
    pub fn new(num_ops: usize, magnitude: f32, horizontal_flip: bool) -> Self {
        Self {
            num_ops,
            magnitude,
            horizontal_flip,
        }
    }

    /// Writes the augmented `image` (of `shape`) into `out`, drawing every choice from `rng`.
    ///
    /// `image` and `out` must both hold `shape.len()` bytes; the magnitude is clamped to 0-30.
    pub fn apply(&self, image: &[u8], shape: ImageShape, rng: &mut dyn RngCore, out: &mut [u8]) {
        out.copy_from_slice(image);
        let magnitude = if self.magnitude.is_finite() {
            self.magnitude.clamp(0.0, MAX_MAGNITUDE)
        } else {
            0.0
        };
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.resize(shape.len(), 0);
            if self.horizontal_flip && rng.next_u32() & 1 == 1 {
                scratch.copy_from_slice(out);
                apply_op(Op::FlipHorizontal, magnitude, &scratch, shape, rng, out);
            }
            for _ in 0..self.num_ops {
                let op = Op::RANDOM[below(rng, Op::RANDOM.len())];
                if op == Op::Identity {
                    continue;
                }
                scratch.copy_from_slice(out);
                apply_op(op, magnitude, &scratch, shape, rng, out);
            }
        });
    }
}

/// Applies one operation at `magnitude` (0-30) to `image`, writing `out` (same length).
///
/// Signed operations (rotate, shear, translate, brightness, contrast, sharpness) draw their
/// sign from `rng`; cutout draws its position.
pub fn apply_op(
    op: Op,
    magnitude: f32,
    image: &[u8],
    shape: ImageShape,
    rng: &mut dyn RngCore,
    out: &mut [u8],
) {
    let level = magnitude.clamp(0.0, MAX_MAGNITUDE) / MAX_MAGNITUDE;
    match op {
        Op::Identity => out.copy_from_slice(image),
        Op::AutoContrast => auto_contrast(image, shape, out),
        Op::Equalize => equalize(image, shape, out),
        Op::Solarize => {
            let threshold = 256.0 - 256.0 * level;
            for (o, &p) in out.iter_mut().zip(image) {
                *o = if f32::from(p) >= threshold {
                    255 - p
                } else {
                    p
                };
            }
        }
        Op::Posterize => {
            let bits = 8 - (4.0 * level).round() as u32;
            let mask = (0xFFu32 << (8 - bits)) as u8;
            for (o, &p) in out.iter_mut().zip(image) {
                *o = p & mask;
            }
        }
        Op::Brightness => {
            let factor = 1.0 + signed(rng) * MAX_ENHANCE * level;
            for (o, &p) in out.iter_mut().zip(image) {
                *o = to_u8(f32::from(p) * factor);
            }
        }
        Op::Contrast => {
            let factor = 1.0 + signed(rng) * MAX_ENHANCE * level;
            let mean = mean_grey(image, shape);
            for (o, &p) in out.iter_mut().zip(image) {
                *o = to_u8(mean + factor * (f32::from(p) - mean));
            }
        }
        Op::Sharpness => {
            let factor = 1.0 + signed(rng) * MAX_ENHANCE * level;
            sharpness(image, shape, factor, out);
        }
        Op::Rotate => {
            let angle = (signed(rng) * MAX_ROTATE_DEGREES * level).to_radians();
            let (sin, cos) = angle.sin_cos();
            // Inverse of a rotation about the centre: rotate the output grid back.
            affine(image, shape, [cos, sin, -sin, cos], [0.0, 0.0], out);
        }
        Op::ShearX => {
            let s = signed(rng) * MAX_SHEAR * level;
            affine(image, shape, [1.0, s, 0.0, 1.0], [0.0, 0.0], out);
        }
        Op::ShearY => {
            let s = signed(rng) * MAX_SHEAR * level;
            affine(image, shape, [1.0, 0.0, s, 1.0], [0.0, 0.0], out);
        }
        Op::TranslateX => {
            let t = signed(rng) * MAX_TRANSLATE * level * shape.width as f32;
            affine(image, shape, [1.0, 0.0, 0.0, 1.0], [-t, 0.0], out);
        }
        Op::TranslateY => {
            let t = signed(rng) * MAX_TRANSLATE * level * shape.height as f32;
            affine(image, shape, [1.0, 0.0, 0.0, 1.0], [0.0, -t], out);
        }
        Op::Cutout => {
            out.copy_from_slice(image);
            let side = (MAX_CUTOUT * level * shape.height.min(shape.width) as f32).round() as usize;
            if side == 0 {
                return;
            }
            let cy = below(rng, shape.height);
            let cx = below(rng, shape.width);
            let (y0, x0) = (cy.saturating_sub(side / 2), cx.saturating_sub(side / 2));
            let (y1, x1) = ((y0 + side).min(shape.height), (x0 + side).min(shape.width));
            let c = shape.channels;
            for y in y0..y1 {
                let row = (y * shape.width) * c;
                out[row + x0 * c..row + x1 * c].fill(FILL);
            }
        }
        Op::FlipHorizontal => {
            let c = shape.channels;
            for y in 0..shape.height {
                let row = y * shape.width * c;
                for x in 0..shape.width {
                    let src = row + (shape.width - 1 - x) * c;
                    let dst = row + x * c;
                    out[dst..dst + c].copy_from_slice(&image[src..src + c]);
                }
            }
        }
    }
}

/// A uniform index in `0..n` (`n > 0`); the modulo bias is below 1e-9 for image-sized `n`.
fn below(rng: &mut dyn RngCore, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// +1 or -1 with equal probability.
fn signed(rng: &mut dyn RngCore) -> f32 {
    if rng.next_u32() & 1 == 0 {
        1.0
    } else {
        -1.0
    }
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Mean over all pixels of the per-pixel channel mean (the grey level contrast blends towards).
fn mean_grey(image: &[u8], shape: ImageShape) -> f32 {
    let sum: u64 = image.iter().map(|&p| u64::from(p)).sum();
    sum as f32 / shape.len().max(1) as f32
}

fn auto_contrast(image: &[u8], shape: ImageShape, out: &mut [u8]) {
    let c = shape.channels;
    for ch in 0..c {
        let (mut lo, mut hi) = (255u8, 0u8);
        for &p in image.iter().skip(ch).step_by(c) {
            lo = lo.min(p);
            hi = hi.max(p);
        }
        let range = f32::from(hi.saturating_sub(lo));
        for (o, &p) in out
            .iter_mut()
            .skip(ch)
            .step_by(c)
            .zip(image.iter().skip(ch).step_by(c))
        {
            *o = if range == 0.0 {
                p
            } else {
                to_u8(f32::from(p - lo) * 255.0 / range)
            };
        }
    }
}

/// Histogram equalisation per channel, as PIL's `ImageOps.equalize`.
fn equalize(image: &[u8], shape: ImageShape, out: &mut [u8]) {
    let c = shape.channels;
    for ch in 0..c {
        let mut hist = [0usize; 256];
        for &p in image.iter().skip(ch).step_by(c) {
            hist[usize::from(p)] += 1;
        }
        let total: usize = hist.iter().sum();
        let last = hist.iter().rposition(|&h| h > 0).map_or(0, |i| hist[i]);
        let step = (total - last) / 255;
        let mut lut = [0u8; 256];
        if step == 0 {
            for (i, v) in lut.iter_mut().enumerate() {
                *v = i as u8;
            }
        } else {
            let mut acc = step / 2;
            for (i, v) in lut.iter_mut().enumerate() {
                *v = (acc / step).min(255) as u8;
                acc += hist[i];
            }
        }
        for (o, &p) in out
            .iter_mut()
            .skip(ch)
            .step_by(c)
            .zip(image.iter().skip(ch).step_by(c))
        {
            *o = lut[usize::from(p)];
        }
    }
}

/// Blends the image with its 3x3 smoothed version (PIL's SMOOTH kernel, centre 5, total 13):
/// `factor` 1 is the identity, > 1 sharpens, < 1 blurs. Border pixels stay unchanged.
fn sharpness(image: &[u8], shape: ImageShape, factor: f32, out: &mut [u8]) {
    out.copy_from_slice(image);
    let (h, w, c) = (shape.height, shape.width, shape.channels);
    if h < 3 || w < 3 {
        return;
    }
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            for ch in 0..c {
                let at = |yy: usize, xx: usize| f32::from(image[(yy * w + xx) * c + ch]);
                let mut sum = 0.0;
                for yy in y - 1..=y + 1 {
                    for xx in x - 1..=x + 1 {
                        sum += at(yy, xx);
                    }
                }
                let centre = at(y, x);
                let blurred = (sum + 4.0 * centre) / 13.0;
                out[(y * w + x) * c + ch] = to_u8(blurred + factor * (centre - blurred));
            }
        }
    }
}

/// Resamples `image` bilinearly: output pixel `p` (relative to the image centre) reads the
/// source at `m * p + t` (relative to the centre), with `m` row-major 2x2. Source positions
/// outside the image read [`FILL`].
fn affine(image: &[u8], shape: ImageShape, m: [f32; 4], t: [f32; 2], out: &mut [u8]) {
    let (h, w, c) = (shape.height, shape.width, shape.channels);
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let fetch = |y: isize, x: isize, ch: usize| -> f32 {
        if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
            f32::from(FILL)
        } else {
            f32::from(image[(y as usize * w + x as usize) * c + ch])
        }
    };
    for y in 0..h {
        let dy = y as f32 - cy;
        for x in 0..w {
            let dx = x as f32 - cx;
            let sx = m[0] * dx + m[1] * dy + t[0] + cx;
            let sy = m[2] * dx + m[3] * dy + t[1] + cy;
            let (fx, fy) = (sx.floor(), sy.floor());
            let (ax, ay) = (sx - fx, sy - fy);
            let (x0, y0) = (fx as isize, fy as isize);
            for ch in 0..c {
                let top = fetch(y0, x0, ch) * (1.0 - ax) + fetch(y0, x0 + 1, ch) * ax;
                let bottom = fetch(y0 + 1, x0, ch) * (1.0 - ax) + fetch(y0 + 1, x0 + 1, ch) * ax;
                out[(y * w + x) * c + ch] = to_u8(top * (1.0 - ay) + bottom * ay);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A 28x28 grey image with structure in every direction and a spread of grey levels.
    fn grey() -> (Vec<u8>, ImageShape) {
        let shape = ImageShape::new(28, 28, 1);
        let mut img = vec![0u8; shape.len()];
        for y in 4..24 {
            for x in 8..20 {
                img[y * 28 + x] = (40 + 5 * y + 3 * x) as u8;
            }
        }
        (img, shape)
    }

    fn colour() -> (Vec<u8>, ImageShape) {
        let shape = ImageShape::new(32, 32, 3);
        let img = (0..shape.len())
            .map(|i| ((i * 37 + (i / 96) * 11) % 200 + 20) as u8)
            .collect();
        (img, shape)
    }

    fn run(op: Op, magnitude: f32, img: &[u8], shape: ImageShape, seed: u64) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = vec![0; img.len()];
        apply_op(op, magnitude, img, shape, &mut rng, &mut out);
        out
    }

    #[test]
    fn magnitude_zero_is_identity_for_graded_ops() {
        for (img, shape) in [grey(), colour()] {
            for op in Op::RANDOM {
                if matches!(op, Op::AutoContrast | Op::Equalize) {
                    continue;
                }
                for seed in 0..4 {
                    assert_eq!(
                        run(op, 0.0, &img, shape, seed),
                        img,
                        "{op:?} at 0 on {shape}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_op_changes_an_image() {
        for (img, shape) in [grey(), colour()] {
            for op in Op::RANDOM.into_iter().chain([Op::FlipHorizontal]) {
                if op == Op::Identity {
                    continue;
                }
                // Cutout may land on a blank area of one seed, so any of a few seeds must change.
                let changed = (0..8).any(|seed| run(op, 15.0, &img, shape, seed) != img);
                assert!(changed, "{op:?} left the {shape} image unchanged");
            }
        }
    }

    #[test]
    fn geometric_ops_move_content_the_right_way() {
        let shape = ImageShape::new(5, 5, 1);
        let mut img = vec![0u8; 25];
        img[2 * 5 + 2] = 200; // centre dot
        let flipped = run(
            Op::FlipHorizontal,
            0.0,
            &{
                let mut i = vec![0u8; 25];
                i[0] = 9;
                i
            },
            shape,
            0,
        );
        assert_eq!(flipped[4], 9);
        // Translation at magnitude 30 is 30% of 5 = 1.5 px: the dot spreads over two columns.
        let moved = run(Op::TranslateX, 30.0, &img, shape, 1);
        assert_eq!(moved[2 * 5 + 2], 0);
        assert_eq!(moved.iter().map(|&p| u32::from(p)).sum::<u32>(), 200);
    }

    #[test]
    fn apply_is_deterministic_for_a_seeded_rng_and_keeps_the_shape() {
        for (img, shape) in [grey(), colour()] {
            let aug = RandAugment::new(2, 12.0, shape.channels == 3);
            let mut a = vec![0; img.len()];
            let mut b = vec![0; img.len()];
            let mut rng_a = ChaCha8Rng::seed_from_u64(7);
            let mut rng_b = ChaCha8Rng::seed_from_u64(7);
            let mut differs_from_input = 0;
            for _ in 0..20 {
                aug.apply(&img, shape, &mut rng_a, &mut a);
                aug.apply(&img, shape, &mut rng_b, &mut b);
                assert_eq!(a, b);
                assert_eq!(a.len(), shape.len());
                differs_from_input += usize::from(a != img);
            }
            assert!(
                differs_from_input >= 10,
                "only {differs_from_input}/20 images changed"
            );
        }
    }

    #[test]
    fn no_ops_or_magnitude_zero_graded_only_returns_the_input() {
        let (img, shape) = grey();
        let aug = RandAugment::new(0, 30.0, false);
        let mut out = vec![0; img.len()];
        aug.apply(&img, shape, &mut ChaCha8Rng::seed_from_u64(1), &mut out);
        assert_eq!(out, img);
    }

    #[test]
    fn posterize_and_solarize_follow_the_scale() {
        let shape = ImageShape::new(1, 4, 1);
        let img = [0u8, 100, 200, 255];
        assert_eq!(
            run(Op::Posterize, 30.0, &img, shape, 0),
            vec![0, 96, 192, 240]
        );
        // Threshold 256 - 256 * 0.5 = 128: 200 and 255 invert.
        assert_eq!(run(Op::Solarize, 15.0, &img, shape, 0), vec![0, 100, 55, 0]);
        assert_eq!(
            run(Op::AutoContrast, 0.0, &[50, 100, 150, 150], shape, 0),
            vec![0, 128, 255, 255]
        );
    }
}
