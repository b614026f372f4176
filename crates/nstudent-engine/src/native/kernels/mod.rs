//! The native engine's compute kernels, as values.
//!
//! - `types`: the shapes and operands every kernel takes (depends on nothing);
//! - `ops`: the [`Kernels`] trait, the loops every set provides;
//! - `portable`: plain Rust and `matrixmultiply` ([`Plain`]), all a non-x86 build has;
//! - `x86_64`: everything compiled for AVX-512, reachable only through the [`Avx512`] token
//!   (the AVX-512 set and its convolutions) or [`Wide`] (the portable loops compiled for it).
//!
//! The CPU is detected once, when a [`KernelSet`] is made (`KernelPath::kernels`); the plan
//! carries the set, and every call goes through it. Without the x86-64 kernels (any other
//! target, or `RUSTFLAGS="--cfg nstudent_portable"`), `Avx512` and `Wide` are types without
//! values and the same code runs only the portable set.

mod ops;
mod portable;
#[cfg(test)]
mod tests;
mod types;

#[cfg(not(all(target_arch = "x86_64", not(nstudent_portable))))]
mod none;
#[cfg(all(target_arch = "x86_64", not(nstudent_portable)))]
mod x86_64;

#[cfg(not(all(target_arch = "x86_64", not(nstudent_portable))))]
pub(crate) use none::{Avx512, Wide};
pub(crate) use ops::Kernels;
pub(crate) use portable::Plain;
pub(crate) use types::{
    AdamConfig, AdamStep, AvxConv, ChunkGradient, ConvShape, DeferredDense, DenseInputs, Gradients,
    MatRef,
};
#[cfg(all(target_arch = "x86_64", not(nstudent_portable)))]
pub(crate) use x86_64::{Avx512, Wide};

/// The kernels a model runs on, chosen once per engine: a value, not a process setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KernelSet {
    /// The portable kernels compiled for the baseline CPU.
    Plain(Plain),
    /// The portable kernels' loops compiled for AVX-512: the same bits as [`KernelSet::Plain`].
    Wide(Wide),
    /// The AVX-512 kernels and convolutions.
    Avx512(Avx512),
}

impl KernelSet {
    /// The portable set, its loops compiled for this CPU's widest registers when it has
    /// AVX-512 (the same bits either way).
    pub fn portable() -> Self {
        match Wide::detect() {
            Some(wide) => KernelSet::Wide(wide),
            None => KernelSet::Plain(Plain),
        }
    }

    /// The AVX-512 set, when this CPU has AVX-512F/BW/VL and this build its kernels.
    pub fn avx512() -> Option<Self> {
        Avx512::detect().map(KernelSet::Avx512)
    }

    /// The trait every operation of the executor goes through.
    pub fn ops(&self) -> &dyn Kernels {
        match self {
            KernelSet::Plain(p) => p,
            KernelSet::Wide(w) => w.kernels(),
            KernelSet::Avx512(a) => a.kernels(),
        }
    }

    /// The AVX-512 token when this is the AVX-512 set: what chooses and runs its
    /// convolutions.
    pub fn avx512_token(self) -> Option<Avx512> {
        match self {
            KernelSet::Avx512(a) => Some(a),
            _ => None,
        }
    }
}

/// The AVX-512 token for a test that needs it: `None`, saying so, when this build has no
/// AVX-512 kernels or this CPU lacks it; under `CI=true` a CPU without it fails the test
/// (a build with the kernels compiled out only skips).
#[cfg(test)]
pub(crate) fn avx512_for_test(what: &str) -> Option<Avx512> {
    let cpu = Avx512::detect();
    if cpu.is_none() {
        let compiled = cfg!(all(target_arch = "x86_64", not(nstudent_portable)));
        if compiled && std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true and this CPU has no AVX-512F/BW/VL: {what} cannot be checked");
        }
        let why = if compiled {
            "this CPU has no AVX-512F/BW/VL"
        } else {
            "this build has no AVX-512 kernels"
        };
        // Straight to the process's stderr, past the test harness's capture: a skip is seen.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED (needs AVX-512): {what}: {why}");
    }
    cpu
}
