//! Which compute kernels the native engine runs: chosen at run time from the CPU, overridable
//! by the environment variable [`KERNELS_ENV`] or by [`force_kernel_path`].
//!
//! The two paths compute the same model to the engine's PyTorch-parity tolerance (1e-4), but
//! not to the same bits: the AVX-512 path sums products in another order, and computes most
//! 3x3 convolutions by Winograd's transforms. Every path is
//! deterministic on its own, and gives the same bits on any thread count, so a result names
//! the path that made it (cell records do) and is recomputed bit for bit on that path.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The environment variable that chooses the kernels: `portable`, `avx512` or `auto` (the
/// default: AVX-512 when the CPU has it).
pub const KERNELS_ENV: &str = "NSTUDENT_KERNELS";

/// A set of compute kernels of the native engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum KernelPath {
    /// Im2col convolutions and the `matrixmultiply` crate's GEMM (its AVX2/FMA kernels where
    /// the CPU has them): runs on every CPU. Results written before the AVX-512 kernels
    /// existed were computed on this path.
    Portable,
    /// The input layer's 3x3 convolution computed directly in AVX-512 intrinsics (1 to 4 input
    /// channels, 32 or 8 output channels), with the max-pool after it in the same pass; 3x3
    /// convolutions of even size and channels in multiples of 16 by Winograd's F(2x2, 3x3),
    /// the others as products over the zero-padded images (no im2col matrix); every product on
    /// a register-tiled AVX-512 kernel that reads its operands in place (x86-64 CPUs with
    /// AVX-512F).
    Avx512,
}

impl KernelPath {
    /// The name used in the environment variable, in cell records and in messages.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Portable => "portable",
            KernelPath::Avx512 => "avx512",
        }
    }

    /// The revision of this path's kernels. A build whose kernels compute other bits than the
    /// previous revision's bumps it, so that a result names exactly what computed it (cell
    /// records carry it, and `nstudent verify` refuses a revision this build does not run).
    ///
    /// - portable 1: im2col and `matrixmultiply`, the engine's first kernels.
    /// - avx512 1: the first AVX-512 kernels (commits 2c14593 to 4c5f46e): implicit GEMM for
    ///   every 3x3 convolution but the input layer's.
    /// - avx512 2: Winograd F(2x2, 3x3) convolutions; the input layer's backward pass from its
    ///   max-pool's gradient.
    pub fn revision(self) -> u32 {
        match self {
            KernelPath::Portable => 1,
            KernelPath::Avx512 => 2,
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_available(self) -> bool {
        match self {
            KernelPath::Portable => true,
            KernelPath::Avx512 => cpu_has_avx512(),
        }
    }

    /// The fastest path this CPU runs.
    pub fn best_available() -> KernelPath {
        if cpu_has_avx512() {
            KernelPath::Avx512
        } else {
            KernelPath::Portable
        }
    }

    /// The path [`KERNELS_ENV`] asks for: `None` when it is unset, empty or `auto`.
    pub fn from_env() -> Result<Option<KernelPath>> {
        match std::env::var(KERNELS_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::Invalid(format!(
                "{KERNELS_ENV} is not valid UTF-8; set it to portable, avx512 or auto"
            ))),
            Ok(v) => Self::parse_choice(&v),
        }
    }

    /// Parses `portable`, `avx512` or `auto` (`auto` and the empty string give `None`), and
    /// refuses a path this CPU cannot run.
    pub fn parse_choice(v: &str) -> Result<Option<KernelPath>> {
        let path = match v.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => return Ok(None),
            "portable" => KernelPath::Portable,
            "avx512" => KernelPath::Avx512,
            other => {
                return Err(Error::Invalid(format!(
                    "{KERNELS_ENV}={other} is not a kernel path; use portable, avx512 or auto"
                )))
            }
        };
        path.check_available()?;
        Ok(Some(path))
    }

    /// An error naming the CPU feature the path needs when this CPU lacks it.
    pub fn check_available(self) -> Result<()> {
        if self.is_available() {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "the {} kernels need a CPU with AVX-512F, which this one lacks; use the \
                 portable kernels ({KERNELS_ENV}=portable)",
                self.name()
            )))
        }
    }
}

impl std::fmt::Display for KernelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(target_arch = "x86_64")]
fn cpu_has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx512() -> bool {
    false
}

/// 0: not forced; 1 + index: forced by [`force_kernel_path`].
static FORCED: AtomicU8 = AtomicU8::new(0);
/// The path from the environment and the CPU, decided once per process.
static DEFAULT: OnceLock<KernelPath> = OnceLock::new();

/// The kernels the native engine runs now: the forced path if any, else [`KERNELS_ENV`]'s
/// (an invalid value counts as `auto`; front ends check it with [`KernelPath::from_env`]
/// first), else the best this CPU runs.
pub fn active_kernel_path() -> KernelPath {
    match FORCED.load(Ordering::Relaxed) {
        1 => KernelPath::Portable,
        2 => KernelPath::Avx512,
        _ => *DEFAULT.get_or_init(|| {
            KernelPath::from_env()
                .ok()
                .flatten()
                .unwrap_or_else(KernelPath::best_available)
        }),
    }
}

/// Makes every later training and prediction in this process run on `path` (`None`: back to
/// the environment's or the CPU's choice), e.g. to recompute a result on the path that made it.
/// Fails, changing nothing, when this CPU cannot run `path`.
pub fn force_kernel_path(path: Option<KernelPath>) -> Result<()> {
    let code = match path {
        None => 0,
        Some(p) => {
            p.check_available()?;
            match p {
                KernelPath::Portable => 1,
                KernelPath::Avx512 => 2,
            }
        }
    };
    FORCED.store(code, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_unknown_ones_are_refused_with_the_fix() {
        assert_eq!(KernelPath::parse_choice("auto").unwrap(), None);
        assert_eq!(KernelPath::parse_choice("").unwrap(), None);
        assert_eq!(
            KernelPath::parse_choice(" Portable ").unwrap(),
            Some(KernelPath::Portable)
        );
        let e = KernelPath::parse_choice("avx2").unwrap_err().to_string();
        assert!(e.contains("portable, avx512 or auto"), "{e}");
        match KernelPath::parse_choice("avx512") {
            Ok(p) => assert_eq!(p, Some(KernelPath::Avx512)),
            Err(e) => {
                assert!(!cpu_has_avx512());
                assert!(e.to_string().contains("AVX-512F"), "{e}");
            }
        }
    }

    #[test]
    fn the_name_round_trips_through_serde() {
        for p in [KernelPath::Portable, KernelPath::Avx512] {
            let s = serde_json::to_string(&p).unwrap();
            assert_eq!(s, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<KernelPath>(&s).unwrap(), p);
        }
    }
}
