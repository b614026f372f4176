//! The native engine's own kernels, one call at a time, for benchmarks
//! (`examples/gemm_shapes.rs` measures them against `matrixmultiply` and `gemm`). Not part of
//! the model API: models choose and call their kernels themselves.

use crate::native::kernels::{AvxConv, ConvShape, KernelSet, MatRef};
use crate::{KernelPath, Result};

/// A 3x3 "same" convolution over `n` `(h, w, cin)` images to `cout` channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvDims {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub cout: usize,
}

impl ConvDims {
    fn shape(self) -> ConvShape {
        ConvShape {
            n: self.n,
            h: self.h,
            w: self.w,
            cin: self.cin,
            cout: self.cout,
            k: 3,
        }
    }
}

/// The kernels of one path, with the scratch a convolution by im2col needs.
pub struct KernelBench {
    set: KernelSet,
    col: Vec<f32>,
}

impl KernelBench {
    /// The kernels of `path`; an error when this CPU or build cannot run them.
    pub fn new(path: KernelPath) -> Result<Self> {
        Ok(Self {
            set: path.kernels()?,
            col: Vec::new(),
        })
    }

    /// `c (m x n, row-major) = a (m x k) b (k x n)`; element `(i, j)` of `a` is at
    /// `a[i * a_strides.0 + j * a_strides.1]`, of `b` likewise. Panics when an operand is too
    /// short for its shape.
    #[allow(clippy::too_many_arguments)]
    pub fn matmul(
        &self,
        (m, n, k): (usize, usize, usize),
        a: &[f32],
        a_strides: (usize, usize),
        b: &[f32],
        b_strides: (usize, usize),
        c: &mut [f32],
    ) {
        let a = MatRef {
            data: a,
            rs: a_strides.0,
            cs: a_strides.1,
        };
        let b = MatRef {
            data: b,
            rs: b_strides.0,
            cs: b_strides.1,
        };
        self.set.ops().matmul(m, n, k, a, b, c, n, false)
    }

    /// The forward pass `y = relu(conv3x3(x, w) + bias)` (`w` as `(3, 3, cin, cout)`) by the
    /// method a model on these kernels uses for this layer (`reads_input`: the model's first
    /// layer), without a fused pool. Returns the method's name.
    pub fn conv3x3_forward(
        &mut self,
        d: ConvDims,
        reads_input: bool,
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        y: &mut [f32],
    ) -> &'static str {
        let s = d.shape();
        match self.set.avx512_token() {
            Some(cpu) => {
                let method = cpu
                    .conv_method(s, reads_input)
                    .expect("a 3x3 convolution has an AVX-512 method");
                cpu.conv_forward(method, x, s, w, bias, true, y);
                match method {
                    AvxConv::Direct => "direct",
                    AvxConv::Winograd => "winograd",
                    AvxConv::Implicit => "implicit gemm",
                }
            }
            None => {
                self.col.resize(s.rows() * s.patch(), 0.0);
                let kernels = self.set.ops();
                kernels.im2col3(x, s, &mut self.col);
                let input = MatRef::rows(&self.col, s.patch());
                kernels.affine_forward(s.rows(), s.patch(), s.cout, input, w, bias, true, y);
                "im2col + matrixmultiply"
            }
        }
    }

    /// The engine's im2col of `x` (`rows x 9 cin`), to feed another GEMM the same matrix.
    pub fn im2col3(&self, d: ConvDims, x: &[f32], col: &mut [f32]) {
        self.set.ops().im2col3(x, d.shape(), col)
    }
}
