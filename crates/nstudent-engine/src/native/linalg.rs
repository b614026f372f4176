//! Single-precision matrix product on strided operands, the one primitive the native engine's
//! convolutions and dense layers are built on: `matrixmultiply` on the portable path, the
//! unpacked AVX-512 kernel of [`super::avx512`] on the AVX-512 path.

use crate::KernelPath;

/// What a product on the AVX-512 kernel starts from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start<'a> {
    /// `c = a * b`.
    Zero,
    /// `c += a * b`.
    Accumulate,
    /// `c = a * b + bias` (one value per column).
    Bias(&'a [f32]),
}

/// A read-only strided matrix: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major matrix with `cols` columns.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn rows_t(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            rs: 1,
            cs: cols,
        }
    }

    fn check(&self, r: usize, c: usize) {
        if r > 0 && c > 0 {
            let last = (r - 1) * self.rs + (c - 1) * self.cs;
            assert!(last < self.data.len(), "matrix operand out of bounds");
        }
    }
}

/// `c[m x n] (row-major, row stride ldc) = (accumulate ? c : 0) + a[m x k] * b[k x n]` on the
/// kernels of `path`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    path: KernelPath,
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
    assert!(
        (m - 1) * ldc + n <= c.len(),
        "matrix product output out of bounds"
    );
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
    if path == KernelPath::Avx512 {
        let start = if accumulate {
            Start::Accumulate
        } else {
            Start::Zero
        };
        return product_avx512(m, n, k, a, b, c, ldc, start, false);
    }
    // SAFETY: the asserts above keep every element the product reads or writes inside the
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

/// `c = start + a * b`, then ReLU when `relu`, on the AVX-512 kernel. The operands are
/// checked as in [`matmul`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn product_avx512(
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
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        (m - 1) * ldc + n <= c.len(),
        "matrix product output out of bounds"
    );
    if k > 0 {
        a.check(m, k);
        b.check(k, n);
    }
    #[cfg(target_arch = "x86_64")]
    {
        assert!(
            KernelPath::Avx512.is_available(),
            "AVX-512 kernels on a CPU without AVX-512F"
        );
        // SAFETY: the CPU has AVX-512F (asserted); the checks above keep every element the
        // product reads or writes inside the slices.
        unsafe { super::avx512::gemm(m, n, k, a, b, c, ldc, start, relu) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("the AVX-512 path exists only on x86-64 ({m}x{n}x{k}, {start:?}, {relu})");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_naive_with_transposes_and_accumulation() {
        for (m, n, k) in [
            (5, 7, 3),
            (13, 33, 300),
            (1, 10, 128),
            (200, 64, 9),
            (16, 130, 40),
        ] {
            for path in [KernelPath::Portable, KernelPath::Avx512] {
                if path.is_available() {
                    matches_naive(path, m, n, k);
                } else {
                    eprintln!("this CPU has no AVX-512F: its kernel is not checked here");
                }
            }
        }
    }

    fn matches_naive(path: KernelPath, m: usize, n: usize, k: usize) {
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
                    matmul(path, m, n, k, *af, *bf, &mut c, n, accumulate);
                    for i in 0..m {
                        for j in 0..n {
                            let dot: f64 = (0..k)
                                .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                                .sum();
                            let want = dot + if accumulate { 1.0 } else { 0.0 };
                            let got = f64::from(c[i * n + j]);
                            assert!(
                                (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                                "{path} {m}x{n}x{k} a{ai} b{bi} acc {accumulate}: \
                                 c[{i},{j}] = {got}, want {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}
