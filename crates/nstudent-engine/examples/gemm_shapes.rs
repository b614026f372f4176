//! The engine's own kernels against `matrixmultiply` and `gemm` on the shapes the native
//! engine computes (best of 4 rounds, GFLOP/s, one thread):
//! `cargo run --release -p nstudent-engine --example gemm_shapes`.
//!
//! - Products: `matrixmultiply::sgemm`, `gemm::gemm`, and the engine's product on each kernel
//!   path it runs here (portable: `matrixmultiply` behind the engine's checks; avx512: the
//!   engine's unpacked AVX-512 kernel).
//! - 3x3 convolutions, forward: im2col then `matrixmultiply` or `gemm`, and the engine's
//!   method on each path (portable: im2col + `matrixmultiply`; avx512: direct, Winograd or
//!   implicit GEMM). FLOPs counted as `2 rows 9 cin cout` whatever the method (Winograd does
//!   fewer multiplications).
use std::time::Instant;

use nstudent_engine::kernel_bench::{ConvDims, KernelBench};
use nstudent_engine::KernelPath;

/// GFLOP/s of the fastest of 4 rounds (after a warm-up round) of `reps` calls of `f`.
fn best_rate(flops: f64, mut f: impl FnMut()) -> f64 {
    let reps = ((2e8 / flops) as usize).max(3);
    let mut best = 0.0f64;
    for round in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        if round > 0 {
            best = best.max(flops * reps as f64 / t.elapsed().as_secs_f64() / 1e9);
        }
    }
    best
}

/// `c = a b` by `matrixmultiply` (strides as `(row, column)`).
fn by_matrixmultiply(
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    (ars, acs): (usize, usize),
    b: &[f32],
    (brs, bcs): (usize, usize),
    c: &mut [f32],
) {
    assert!(a.len() > (m - 1) * ars + (k - 1) * acs && b.len() > (k - 1) * brs + (n - 1) * bcs);
    assert!(c.len() >= m * n);
    // SAFETY: the asserts above keep every element read or written inside the slices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            ars as isize,
            acs as isize,
            b.as_ptr(),
            brs as isize,
            bcs as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

/// `c = a b` by the `gemm` crate, one thread (strides as `(row, column)`).
fn by_gemm(
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    (ars, acs): (usize, usize),
    b: &[f32],
    (brs, bcs): (usize, usize),
    c: &mut [f32],
) {
    assert!(a.len() > (m - 1) * ars + (k - 1) * acs && b.len() > (k - 1) * brs + (n - 1) * bcs);
    assert!(c.len() >= m * n);
    // SAFETY: the asserts above keep every element read or written inside the slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            acs as isize,
            ars as isize,
            b.as_ptr(),
            bcs as isize,
            brs as isize,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// The kernel paths this CPU runs, with their kernels.
fn engines() -> Vec<(KernelPath, KernelBench)> {
    [KernelPath::Portable, KernelPath::Avx512]
        .into_iter()
        .filter_map(|p| KernelBench::new(p).ok().map(|k| (p, k)))
        .collect()
}

fn products() {
    println!("products (GFLOP/s)");
    // (label, m, n, k, a transposed, b transposed)
    let shapes: Vec<(&str, usize, usize, usize, bool, bool)> = vec![
        ("conv2 fwd  (16 img)", 3136, 64, 288, false, false),
        ("conv2 dW   (16 img)", 288, 64, 3136, true, false),
        ("conv2 dcol (16 img)", 3136, 288, 64, false, true),
        ("conv1 fwd  (16 img)", 12544, 32, 9, false, false),
        ("fc1 fwd    (16 img)", 16, 128, 3136, false, false),
        ("fc1 dW     (16 img)", 3136, 128, 16, true, false),
        ("fc1 dx     (16 img)", 16, 3136, 128, false, true),
        ("conv2 fwd  (64 img)", 12544, 64, 288, false, false),
    ];
    let engines = engines();
    for (label, m, n, k, ta, tb) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0.0f32; m * n];
        let sa = if ta { (1, m) } else { (k, 1) };
        let sb = if tb { (1, k) } else { (n, 1) };
        let flops = 2.0 * (m * n * k) as f64;
        let dims = (m, n, k);
        let mut line = format!("{label:22} m={m:6} n={n:5} k={k:6}");
        let mm = best_rate(flops, || by_matrixmultiply(dims, &a, sa, &b, sb, &mut c));
        let ge = best_rate(flops, || by_gemm(dims, &a, sa, &b, sb, &mut c));
        line.push_str(&format!("  matrixmultiply {mm:6.1}  gemm {ge:6.1}"));
        for (path, kb) in &engines {
            let e = best_rate(flops, || kb.matmul(dims, &a, sa, &b, sb, &mut c));
            line.push_str(&format!("  engine {path} {e:6.1}"));
        }
        println!("{line}");
    }
}

fn convolutions() {
    println!("3x3 convolutions, forward with bias and ReLU (GFLOP/s)");
    // (label, dims, the model's first layer)
    let shapes = [
        (
            "mnist conv1 (16 img)",
            ConvDims {
                n: 16,
                h: 28,
                w: 28,
                cin: 1,
                cout: 32,
            },
            true,
        ),
        (
            "mnist conv2 (16 img)",
            ConvDims {
                n: 16,
                h: 14,
                w: 14,
                cin: 32,
                cout: 64,
            },
            false,
        ),
        (
            "cifar conv1 (16 img)",
            ConvDims {
                n: 16,
                h: 32,
                w: 32,
                cin: 3,
                cout: 32,
            },
            true,
        ),
        (
            "cifar conv2 (16 img)",
            ConvDims {
                n: 16,
                h: 16,
                w: 16,
                cin: 32,
                cout: 64,
            },
            false,
        ),
        (
            "digits conv2 (16 img)",
            ConvDims {
                n: 16,
                h: 4,
                w: 4,
                cin: 32,
                cout: 64,
            },
            false,
        ),
    ];
    let mut engines = engines();
    let baseline = KernelBench::new(KernelPath::Portable).expect("portable kernels");
    for (label, d, first) in shapes {
        let rows = d.n * d.h * d.w;
        let patch = 9 * d.cin;
        let x: Vec<f32> = (0..rows * d.cin).map(|i| (i % 11) as f32 * 0.1).collect();
        let w: Vec<f32> = (0..patch * d.cout).map(|i| (i % 7) as f32 * 0.01).collect();
        let bias = vec![0.1f32; d.cout];
        let mut y = vec![0.0f32; rows * d.cout];
        let mut col = vec![0.0f32; rows * patch];
        let flops = 2.0 * (rows * patch * d.cout) as f64;
        let dims = (rows, d.cout, patch);
        let mut line = format!("{label:22}");
        let mut im2col_then = |product: &dyn Fn(&[f32], &mut [f32])| {
            best_rate(flops, || {
                baseline.im2col3(d, &x, &mut col);
                product(&col, &mut y);
            })
        };
        let mm =
            im2col_then(&|col, y| by_matrixmultiply(dims, col, (patch, 1), &w, (d.cout, 1), y));
        let ge = im2col_then(&|col, y| by_gemm(dims, col, (patch, 1), &w, (d.cout, 1), y));
        line.push_str(&format!(
            "  im2col+matrixmultiply {mm:6.1}  im2col+gemm {ge:6.1}"
        ));
        for (path, kb) in &mut engines {
            let mut method = "";
            let e = best_rate(flops, || {
                method = kb.conv3x3_forward(d, first, &x, &w, &bias, &mut y);
            });
            line.push_str(&format!("  engine {path} ({method}) {e:6.1}"));
        }
        println!("{line}");
    }
}

fn main() {
    products();
    convolutions();
}
