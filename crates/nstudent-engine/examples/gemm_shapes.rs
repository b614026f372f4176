//! Compares GEMM backends on the shapes the native engine multiplies (best of N, GFLOP/s):
//! `cargo run --release -p nstudent-engine --example gemm_shapes`.
use std::time::Instant;

fn main() {
    // (label, m, n, k, a_rs, a_cs, b_rs, b_cs)
    let shapes: Vec<(&str, usize, usize, usize, bool, bool)> = vec![
        ("conv2 fwd  (16 img)", 3136, 64, 288, false, false),
        ("conv2 dW   (16 img)", 288, 64, 3136, true, false),
        ("conv2 dcol (16 img)", 3136, 288, 64, false, true),
        ("conv1 fwd  (16 img)", 12544, 32, 9, false, false),
        ("conv1 dW   (16 img)", 9, 32, 12544, true, false),
        ("fc1 fwd    (16 img)", 16, 128, 3136, false, false),
        ("fc1 dW     (16 img)", 3136, 128, 16, true, false),
        ("fc1 dx     (16 img)", 16, 3136, 128, false, true),
        ("conv2 fwd  (1 img)", 196, 64, 288, false, false),
        ("conv2 fwd  (64 img)", 12544, 64, 288, false, false),
    ];
    for (label, m, n, k, ta, tb) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0.0f32; m * n];
        let (ars, acs) = if ta { (1, m) } else { (k, 1) };
        let (brs, bcs) = if tb { (1, k) } else { (n, 1) };
        let flops = 2.0 * (m * n * k) as f64;
        let reps = ((2e8 / flops) as usize).max(3);
        let mut bests = [0.0f64; 2];
        for round in 0..5 {
            for (backend, best) in bests.iter_mut().enumerate() {
                let t = Instant::now();
                for _ in 0..reps {
                    // SAFETY: the operands hold m*k, k*n and m*n values with these strides.
                    unsafe {
                        if backend == 0 {
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
                                1.0f32,
                                1.0f32,
                                false,
                                false,
                                false,
                                gemm::Parallelism::None,
                            );
                        } else {
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
                            );
                        }
                    }
                }
                let g = flops * reps as f64 / t.elapsed().as_secs_f64() / 1e9;
                if round > 0 {
                    *best = best.max(g);
                }
            }
        }
        println!(
            "{label:22} m={m:6} n={n:5} k={k:6}  gemm {:6.1}  matrixmultiply {:6.1} GFLOP/s",
            bests[0], bests[1]
        );
    }
}
