//! Builds without the x86-64 kernels (other targets, or `--cfg nstudent_portable`): the token
//! types exist so that the plan and the executor read the same, but they have no values, so
//! every path through them is statically unreachable and only the portable kernels run.

use super::ops::Kernels;
use super::types::{AvxConv, ConvShape};

/// No AVX-512 kernels in this build: an enum without variants, never constructed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Avx512 {}

/// No AVX-512 build of the portable loops either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wide {}

impl Wide {
    /// Never: this build has no AVX-512 kernels.
    pub fn detect() -> Option<Self> {
        None
    }

    pub fn kernels(&self) -> &dyn Kernels {
        match *self {}
    }
}

#[allow(clippy::too_many_arguments)]
impl Avx512 {
    /// Never: this build has no AVX-512 kernels.
    pub fn detect() -> Option<Self> {
        None
    }

    pub fn kernels(&self) -> &dyn Kernels {
        match *self {}
    }

    pub fn conv_method(self, _: ConvShape, _: bool) -> Option<AvxConv> {
        match self {}
    }

    pub fn fuses_pool(self, _: ConvShape) -> bool {
        match self {}
    }

    pub fn conv_forward(
        self,
        _: AvxConv,
        _: &[f32],
        _: ConvShape,
        _: &[f32],
        _: &[f32],
        _: bool,
        _: &mut [f32],
    ) {
        match self {}
    }

    pub fn conv_backward(
        self,
        _: AvxConv,
        _: &[f32],
        _: ConvShape,
        _: &[f32],
        _: &[f32],
        _: bool,
        _: &mut [f32],
        _: (&mut [f32], &mut [f32]),
        _: bool,
        _: Option<(&mut [f32], bool)>,
    ) {
        match self {}
    }

    pub fn conv_pool_forward(
        self,
        _: &[f32],
        _: ConvShape,
        _: &[f32],
        _: &[f32],
        _: bool,
        _: &mut [f32],
        _: &mut [u8],
    ) {
        match self {}
    }

    pub fn conv_pool_backward(
        self,
        _: &[f32],
        _: ConvShape,
        _: &[f32],
        _: &[u8],
        _: &[f32],
        _: bool,
        _: (&mut [f32], &mut [f32]),
        _: bool,
    ) {
        match self {}
    }
}
