//! Every kernel set's matrix product against a naive one.

use super::types::MatRef;
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
