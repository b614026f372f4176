//! The operations every kernel set provides, as one trait: the layers' loops the executor runs
//! whatever the convolution method. A set is chosen once ([`super::KernelSet`]) and carried by
//! the plan; nothing here detects the CPU.

use super::types::{AdamStep, ConvShape, Gradients, MatRef};

/// A set of compute kernels: the portable loops (`Plain`), the same loops compiled for an
/// AVX-512 CPU (`Wide`, the same bits), or the AVX-512 path's products (`Avx512`).
///
/// Every method is safe: a set that needs a CPU feature exists only as a value made after
/// detecting it.
#[allow(clippy::too_many_arguments)]
pub(crate) trait Kernels: std::fmt::Debug + Send + Sync {
    /// `c[m x n] (row-major, row stride ldc) = (accumulate ? c : 0) + a[m x k] * b[k x n]`.
    fn matmul(
        &self,
        m: usize,
        n: usize,
        k: usize,
        a: MatRef<'_>,
        b: MatRef<'_>,
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    );

    /// Copies the 3x3 neighbourhood of every pixel into a row of `col` (`rows x 9 * cin`),
    /// zeros outside the image.
    fn im2col3(&self, x: &[f32], s: ConvShape, col: &mut [f32]);

    /// Adds every row of `col` back onto the pixels it was copied from: the adjoint of
    /// [`Kernels::im2col3`]. Without `accumulate`, each image of `dx` is zeroed first.
    fn col2im3(&self, col: &[f32], s: ConvShape, dx: &mut [f32], accumulate: bool);

    /// `y = x @ w + bias` over `rows` rows, then ReLU when `relu`.
    fn affine_forward(
        &self,
        rows: usize,
        nin: usize,
        nout: usize,
        x: MatRef<'_>,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    );

    /// Backward of [`Kernels::affine_forward`]: masks `dy` by the ReLU in place (using the
    /// output `y`), writes (or, with `acc_params`, adds) the bias gradient and, when `dw` is
    /// given, the kernel gradient, and, when `dx` is given, writes or adds (its flag)
    /// `dy @ w^T`.
    fn affine_backward(
        &self,
        rows: usize,
        nin: usize,
        nout: usize,
        x: MatRef<'_>,
        w: &[f32],
        y: &[f32],
        relu: bool,
        dy: &mut [f32],
        dw: Option<&mut [f32]>,
        db: &mut [f32],
        acc_params: bool,
        dx: Option<(&mut [f32], bool)>,
    );

    /// Masks `dy` (`rows x nout`) by the ReLU of the output `y` when `relu`, and writes (or,
    /// with `accumulate`, adds) its column sums, the bias gradient, into `db`.
    #[cfg_attr(
        not(all(target_arch = "x86_64", not(nstudent_portable))),
        allow(dead_code)
    )]
    fn relu_mask_and_bias_grad(
        &self,
        rows: usize,
        nout: usize,
        y: &[f32],
        relu: bool,
        dy: &mut [f32],
        db: &mut [f32],
        accumulate: bool,
    );

    /// 2x2 max-pooling with stride 2 over `n` `(h, w, c)` maps (odd trailing rows/columns
    /// dropped, as Keras' "valid"). `arg` records which of the four inputs won (0..4,
    /// row-major in the window; the first of equal values wins).
    fn maxpool_forward(
        &self,
        x: &[f32],
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        y: &mut [f32],
        arg: &mut [u8],
    );

    /// Backward of [`Kernels::maxpool_forward`]: routes each output gradient to the input
    /// that won.
    fn maxpool_backward(
        &self,
        dy: &[f32],
        arg: &[u8],
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        dx: &mut [f32],
        accumulate: bool,
    );

    /// One Adam step (its constants `adam`) on the sum of several gradient vectors (added in
    /// order, so the result does not depend on how the parameters are split across
    /// threads), the deferred layers' weight gradients computed from what the chunks kept:
    /// `params = old - update`, `m` and `v` updated in place. `old`, `params`, `m` and `v`
    /// start at element `offset` of each gradient vector. The weights before and after are
    /// separate buffers so that a thread may update some parameters while another still
    /// reads the step's weights.
    fn adam_step_sum(
        &self,
        adam: AdamStep,
        old: &[f32],
        params: &mut [f32],
        grads: Gradients<'_>,
        offset: usize,
        m: &mut [f32],
        v: &mut [f32],
    );

    /// Whether [`Kernels::affine_backward`]'s weight gradient `x^T dy` is, element by element,
    /// one fused multiply-add per row of `x` in ascending order from +0 (up to 256 rows):
    /// then a fit may leave it out of the backward pass and let Adam's step compute it from
    /// the layer's inputs and output gradients, with the same bits
    /// (`types::DeferredDense`). The portable sets' products (`matrixmultiply`) sum
    /// otherwise.
    fn weight_grad_is_fma_chain(&self) -> bool {
        false
    }
}
