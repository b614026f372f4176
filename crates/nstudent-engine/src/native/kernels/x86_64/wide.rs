//! The portable kernel set's loops compiled once more for AVX-512 ([`Wide`]): the portable
//! path on an x86-64 CPU that has it. The same source as `kernels::portable`, so the same
//! float operations in the same order: each is one exact IEEE operation, none sums across
//! lanes, and Rust never fuses a multiply and an add, so the bits are those of the portable
//! build (the engine's tests check it on whole training steps). Products stay
//! `matrixmultiply`'s; only the loops around them widen.

use super::super::ops::Kernels;
use super::super::portable;
use super::super::types::{AdamStep, ConvShape, Gradients, MatRef};
use super::{pool, Avx512};

/// The portable kernel set on a CPU with AVX-512F/BW/VL: holds the token that proves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wide(Avx512);

impl Wide {
    /// The portable loops compiled for the CPU `cpu` proves.
    pub fn new(cpu: Avx512) -> Self {
        Wide(cpu)
    }

    /// The set, when this CPU has AVX-512F/BW/VL.
    pub fn detect() -> Option<Self> {
        Avx512::detect().map(Wide)
    }

    /// This set as the trait the executor calls.
    pub fn kernels(&self) -> &dyn Kernels {
        self
    }
}

/// Defines, for each portable loop `name`, `compiled::name`: the same function compiled with
/// AVX-512F/BW/VL enabled. Those of the first group also become `Wide`'s trait methods;
/// `extra` holds the trait's other methods.
macro_rules! wide_kernels {
    (
        $(fn $name:ident($($arg:ident : $ty:ty),* $(,)?);)*
        compiled_only { $(fn $cname:ident($($carg:ident : $cty:ty),* $(,)?);)* }
        extra { $($extra:item)* }
    ) => {
        mod compiled {
            use super::*;
            $(
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
                pub(super) fn $name($($arg: $ty),*) {
                    portable::$name($($arg),*)
                }
            )*
            $(
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
                pub(super) fn $cname($($carg: $cty),*) {
                    portable::$cname($($carg),*)
                }
            )*
        }

        impl Kernels for Wide {
            $(
                fn $name(&self, $($arg: $ty),*) {
                    // SAFETY: `self` holds an `Avx512` token, which exists only on a CPU with
                    // AVX-512F/BW/VL, the features `compiled::$name` is compiled for.
                    unsafe { compiled::$name($($arg),*) }
                }
            )*
            $($extra)*
        }
    };
}

wide_kernels! {
    fn matmul(
        m: usize,
        n: usize,
        k: usize,
        a: MatRef<'_>,
        b: MatRef<'_>,
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    );
    fn im2col3(x: &[f32], s: ConvShape, col: &mut [f32]);
    fn col2im3(col: &[f32], s: ConvShape, dx: &mut [f32], accumulate: bool);
    fn affine_forward(
        rows: usize,
        nin: usize,
        nout: usize,
        x: MatRef<'_>,
        w: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    );
    fn affine_backward(
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
    fn relu_mask_and_bias_grad(
        rows: usize,
        nout: usize,
        y: &[f32],
        relu: bool,
        dy: &mut [f32],
        db: &mut [f32],
        accumulate: bool,
    );
    fn adam_step_sum(
        adam: AdamStep,
        old: &[f32],
        params: &mut [f32],
        grads: Gradients<'_>,
        offset: usize,
        m: &mut [f32],
        v: &mut [f32],
    );
    compiled_only {
        fn maxpool_forward(
            x: &[f32],
            n: usize,
            h: usize,
            w: usize,
            c: usize,
            y: &mut [f32],
            arg: &mut [u8],
        );
        fn maxpool_backward(
            dy: &[f32],
            arg: &[u8],
            n: usize,
            h: usize,
            w: usize,
            c: usize,
            dx: &mut [f32],
            accumulate: bool,
        );
    }
    extra {
        fn maxpool_forward(
            &self,
            x: &[f32],
            n: usize,
            h: usize,
            w: usize,
            c: usize,
            y: &mut [f32],
            arg: &mut [u8],
        ) {
            if c.is_multiple_of(16) {
                // SAFETY: `self` holds the token: the CPU has AVX-512F/BW/VL.
                unsafe { pool::forward(x, n, h, w, c, y, arg) }
            } else {
                // SAFETY: as above.
                unsafe { compiled::maxpool_forward(x, n, h, w, c, y, arg) }
            }
        }

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
        ) {
            if c.is_multiple_of(16) && w.is_multiple_of(2) && h.is_multiple_of(2) {
                // SAFETY: `self` holds the token: the CPU has AVX-512F/BW/VL.
                unsafe { pool::backward(dy, arg, n, h, w, c, dx, accumulate) }
            } else {
                // SAFETY: as above.
                unsafe { compiled::maxpool_backward(dy, arg, n, h, w, c, dx, accumulate) }
            }
        }
    }
}
