//! The values every kernel set takes: a convolution's shape, a strided matrix operand, what a
//! product starts from, and Adam's hyper-parameters. No code runs here; both kernel sets
//! (`portable` and `x86_64`) and the executor depend on this file, and it on nothing.

use std::sync::OnceLock;

/// Shape of a convolution over an `(n, h, w, cin)` input with `k x k` kernels (k = 1 or 3),
/// stride 1, "same" zero padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvShape {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
}

impl ConvShape {
    /// Output pixels of the whole batch: the rows of the convolution as a matrix product.
    pub fn rows(&self) -> usize {
        self.n * self.h * self.w
    }

    /// Inputs of one output pixel (`k * k * cin`): the depth of the product.
    pub fn patch(&self) -> usize {
        self.k * self.k * self.cin
    }
}

/// What a product on the AVX-512 kernel starts from.
#[cfg_attr(
    not(all(target_arch = "x86_64", not(nstudent_portable))),
    allow(dead_code)
)]
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

    /// The transpose of this matrix (the same values, strides swapped).
    #[cfg_attr(
        not(all(target_arch = "x86_64", not(nstudent_portable))),
        allow(dead_code)
    )]
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Panics unless every element of an `r x c` matrix with these strides is in `data`: what
    /// makes the unchecked reads of both products sound.
    pub fn check(&self, r: usize, c: usize) {
        if r > 0 && c > 0 {
            let last = (r - 1) * self.rs + (c - 1) * self.cs;
            assert!(last < self.data.len(), "matrix operand out of bounds");
        }
    }
}

/// Panics unless an `m x n` product with row stride `ldc` fits in `c` (`m, n > 0`).
pub(crate) fn check_output(m: usize, n: usize, c: &[f32], ldc: usize) {
    assert!(
        (m - 1) * ldc + n <= c.len(),
        "matrix product output out of bounds"
    );
}

/// Adam hyper-parameters. `eps` is added to the bias-corrected `sqrt(v_hat)`, as in
/// `torch.optim.Adam` (Keras adds it to the uncorrected `sqrt(v)`; see the crate docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

impl AdamConfig {
    /// The constants of Adam's step `t` (1-based): computed once per step, so that every
    /// range of parameters a thread updates uses the very same values.
    pub fn at_step(&self, t: u64) -> AdamStep {
        let t = t as i32;
        let bc1 = 1.0 - (self.beta1 as f64).powi(t);
        let bc2 = 1.0 - (self.beta2 as f64).powi(t);
        AdamStep {
            step: (self.lr as f64 / bc1) as f32,
            sqrt_bc2: bc2.sqrt() as f32,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
        }
    }
}

/// One Adam step's constants ([`AdamConfig::at_step`]): the learning rate over the first
/// moment's bias correction, and the square root of the second moment's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamStep {
    pub step: f32,
    pub sqrt_bc2: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

/// How the AVX-512 kernels compute a convolution, chosen once per operation when the plan is
/// built (see `Avx512::conv_method`).
#[cfg_attr(
    not(all(target_arch = "x86_64", not(nstudent_portable))),
    allow(dead_code)
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AvxConv {
    /// The input layer's 3x3 convolution straight from the image (1 to 4 input channels).
    Direct,
    /// Winograd's F(2x2, 3x3): even sizes, channels in multiples of 16.
    Winograd,
    /// A product over the zero-padded images, without an im2col matrix (any other 3x3).
    Implicit,
}

/// A dense layer whose weight gradient a fit leaves out of the backward pass: Adam's step
/// computes it from what each chunk kept ([`DenseInputs`]), so the `nin x nout` gradient of
/// every chunk is never written to memory and read back. Its weights are `nin x nout`
/// row-major at `offset` in the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeferredDense {
    pub offset: usize,
    pub nin: usize,
    pub nout: usize,
}

impl DeferredDense {
    /// The parameter indices of the weights.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.nin * self.nout
    }
}

/// What one chunk's backward pass keeps of a [`DeferredDense`] layer: its `rows` inputs
/// (`rows x nin`, row-major) and output gradients (`rows x nout`, after the ReLU mask).
#[derive(Debug, Clone, Default)]
pub(crate) struct DenseInputs {
    pub x: Vec<f32>,
    pub dy: Vec<f32>,
    pub rows: usize,
}

impl DenseInputs {
    /// Room for `cap` rows of `layer`.
    pub fn new(layer: &DeferredDense, cap: usize) -> Self {
        DenseInputs {
            x: vec![0.0; cap * layer.nin],
            dy: vec![0.0; cap * layer.nout],
            rows: 0,
        }
    }
}

/// One chunk's part of a step's gradient, each half published once by the thread that
/// computed it: after that every thread of the step may read it.
#[derive(Debug, Default)]
pub(crate) struct ChunkGradient {
    /// What the chunk kept of each deferred layer (in the order of `Gradients::deferred`).
    pub kept: OnceLock<Vec<DenseInputs>>,
    /// The chunk's gradient vector (without the deferred layers' weights).
    pub grad: OnceLock<Vec<f32>>,
}

impl ChunkGradient {
    /// A chunk whose gradient and kept layers are already known.
    pub fn ready(grad: Vec<f32>, kept: Vec<DenseInputs>) -> Self {
        ChunkGradient {
            kept: OnceLock::from(kept),
            grad: OnceLock::from(grad),
        }
    }

    /// The gradient vector; Adam reads it only once it is published.
    pub fn grad(&self) -> &[f32] {
        self.grad
            .get()
            .expect("a chunk's gradient is read after it is published")
    }

    /// What deferred layer `d` kept; Adam reads it only once it is published.
    pub fn kept(&self, d: usize) -> &DenseInputs {
        let kept = self.kept.get();
        &kept.expect("a chunk's deferred layers are read after they are published")[d]
    }

    /// Takes both halves back, to reuse their buffers (`None` for a half not published).
    pub fn take(&mut self) -> (Option<Vec<f32>>, Option<Vec<DenseInputs>>) {
        (self.grad.take(), self.kept.take())
    }
}

/// The gradient an Adam step applies: the sum, in chunk order, of every chunk's gradient
/// vector, except for the weights of the `deferred` layers, whose gradient of chunk `c` is
/// computed from what the chunk kept of them. A step on the deferred weights alone reads no
/// gradient vector, which may then still be unpublished.
#[derive(Clone, Copy)]
pub(crate) struct Gradients<'a> {
    pub chunks: &'a [ChunkGradient],
    /// In ascending order of offset.
    pub deferred: &'a [DeferredDense],
}

impl<'a> Gradients<'a> {
    /// The sum of the chunks' gradient vectors, nothing deferred.
    #[cfg(test)]
    pub fn summed(chunks: &'a [ChunkGradient]) -> Self {
        Gradients {
            chunks,
            deferred: &[],
        }
    }
}
