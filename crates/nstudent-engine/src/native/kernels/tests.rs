//! Every kernel set's matrix product against a naive one.

use super::types::{ChunkGradient, Gradients, MatRef};
use super::{avx512_for_test, KernelSet, Plain};

#[test]
fn matmul_matches_naive_with_transposes_and_accumulation() {
    for (m, n, k) in [
        (5, 7, 3),
        (13, 33, 300),
        (1, 10, 128),
        (200, 64, 9),
        (16, 130, 40),
    ] {
        let mut sets = vec![KernelSet::Plain(Plain)];
        if let Some(cpu) = avx512_for_test("the AVX-512 matrix product") {
            sets.extend([KernelSet::portable(), KernelSet::Avx512(cpu)]);
        }
        for set in sets {
            matches_naive(set, m, n, k);
        }
    }
}

fn matches_naive(set: KernelSet, m: usize, n: usize, k: usize) {
    let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
    let mut c = vec![1.0f32; m * n];
    // a^T stored as k x m, multiplied through a transposed view.
    let mut at = vec![0.0; k * m];
    for i in 0..m {
        for j in 0..k {
            at[j * m + i] = a[i * k + j];
        }
    }
    // Every operand form the engine uses: a plain or transposed, b plain or transposed,
    // written or accumulated.
    let mut bt = vec![0.0; n * k];
    for p in 0..k {
        for j in 0..n {
            bt[j * k + p] = b[p * n + j];
        }
    }
    let a_forms = [MatRef::rows(&a, k), MatRef::rows_t(&at, m)];
    let b_forms = [MatRef::rows(&b, n), MatRef::rows_t(&bt, k)];
    for (ai, af) in a_forms.iter().enumerate() {
        for (bi, bf) in b_forms.iter().enumerate() {
            for accumulate in [false, true] {
                c.fill(1.0);
                set.ops().matmul(m, n, k, *af, *bf, &mut c, n, accumulate);
                for i in 0..m {
                    for j in 0..n {
                        let dot: f64 = (0..k)
                            .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                            .sum();
                        let want = dot + if accumulate { 1.0 } else { 0.0 };
                        let got = f64::from(c[i * n + j]);
                        assert!(
                            (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                            "{set:?} {m}x{n}x{k} a{ai} b{bi} acc {accumulate}: \
                             c[{i},{j}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
    }
}

/// Every loop of the portable set on small shapes, against plain definitions: what
/// `scripts/miri.sh` runs under Miri (small enough for the interpreter).
#[test]
fn portable_kernels_on_small_shapes() {
    use super::types::{AdamConfig, ConvShape};
    use super::Kernels;
    let k = Plain;
    // A product with every operand form, written and accumulated.
    let (m, n, d) = (3, 5, 4);
    matches_naive(KernelSet::Plain(k), m, n, d);
    // im2col and col2im are adjoint: <im2col(x), c> = <x, col2im(c)>.
    let s = ConvShape {
        n: 2,
        h: 3,
        w: 4,
        cin: 2,
        cout: 3,
        k: 3,
    };
    let x: Vec<f32> = (0..s.n * s.h * s.w * s.cin)
        .map(|i| i as f32 * 0.5 - 3.0)
        .collect();
    let c: Vec<f32> = (0..s.rows() * s.patch())
        .map(|i| (i % 7) as f32 - 3.0)
        .collect();
    let mut col = vec![f32::NAN; c.len()];
    k.im2col3(&x, s, &mut col);
    let mut dx = vec![f32::NAN; x.len()];
    k.col2im3(&c, s, &mut dx, false);
    let lhs: f32 = col.iter().zip(&c).map(|(a, b)| a * b).sum();
    let rhs: f32 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
    assert!(
        (lhs - rhs).abs() <= 1e-3 * lhs.abs().max(1.0),
        "{lhs} vs {rhs}"
    );
    // A dense layer forward and backward: y = relu(x w + b).
    let (rows, nin, nout) = (2, 3, 2);
    let xs = [1.0, -2.0, 0.5, 0.0, 1.0, 2.0];
    let w = [1.0, -1.0, 0.5, 2.0, -1.0, 1.0];
    let b = [0.25, -0.25];
    let mut y = [0.0; 4];
    k.affine_forward(
        rows,
        nin,
        nout,
        MatRef::rows(&xs, nin),
        &w,
        &b,
        true,
        &mut y,
    );
    assert_eq!(y, [0.0, 0.0, 0.0, 3.75]);
    let (mut dy, mut dw, mut db, mut dxs) = ([1.0; 4], [9.0; 6], [9.0; 2], [9.0; 6]);
    let x_in = MatRef::rows(&xs, nin);
    let dx_out = Some((&mut dxs[..], false));
    k.affine_backward(
        rows,
        nin,
        nout,
        x_in,
        &w,
        &y,
        true,
        &mut dy,
        Some(&mut dw),
        &mut db,
        false,
        dx_out,
    );
    assert_eq!(dy, [0.0, 0.0, 0.0, 1.0]);
    assert_eq!(db, [0.0, 1.0]);
    assert_eq!(dw, [0.0, 0.0, 0.0, 1.0, 0.0, 2.0]);
    assert_eq!(dxs, [0.0, 0.0, 0.0, -1.0, 2.0, 1.0]);
    // Max-pool: the first maximum of a window wins; its gradient goes there.
    let px = [1.0, 3.0, 3.0, 2.0, 0.0, 0.0, 0.0, 0.0];
    let (mut py, mut arg) = ([0.0; 2], [9u8; 2]);
    k.maxpool_forward(&px, 1, 2, 4, 1, &mut py, &mut arg);
    assert_eq!((py, arg), ([3.0, 3.0], [1, 0]));
    let mut pdx = [7.0; 8];
    k.maxpool_backward(&[1.0, 2.0], &arg, 1, 2, 4, 1, &mut pdx, false);
    assert_eq!(pdx, [0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    // Adam on a sum of two gradients equals Adam on their sum.
    let cfg = AdamConfig {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-7,
    };
    let grads = [
        ChunkGradient::ready(vec![0.5, -1.0, 0.0], vec![]),
        ChunkGradient::ready(vec![0.5, 0.5, 2.0], vec![]),
    ];
    let old = [1.0; 3];
    let (mut p1, mut m1, mut v1) = (vec![0.0; 3], vec![0.0; 3], vec![0.0; 3]);
    k.adam_step_sum(
        cfg.at_step(1),
        &old,
        &mut p1,
        Gradients::summed(&grads),
        0,
        &mut m1,
        &mut v1,
    );
    let summed = [ChunkGradient::ready(vec![1.0, -0.5, 2.0], vec![])];
    let (mut p2, mut m2, mut v2) = (vec![0.0; 3], vec![0.0; 3], vec![0.0; 3]);
    k.adam_step_sum(
        cfg.at_step(1),
        &old,
        &mut p2,
        Gradients::summed(&summed),
        0,
        &mut m2,
        &mut v2,
    );
    assert_eq!(p1, p2);
    assert!(p1[0] < 1.0 && p1[1] > 1.0 && p1[2] < 1.0);
}
