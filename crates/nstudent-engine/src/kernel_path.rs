//! Which compute kernels the native engine runs: named by a [`KernelPath`], chosen per engine
//! (`NativeEngine::new`), by default from the environment variable [`KERNELS_ENV`] or else
//! the best this CPU runs. There is no process-wide setting: each model carries its kernels,
//! detected once when they are made ([`KernelPath::kernels`]).
//!
//! The two paths compute the same model to the engine's PyTorch-parity tolerance (1e-4), but
//! not to the same bits: the AVX-512 path sums products in another order, and computes most
//! 3x3 convolutions by Winograd's transforms. Every path is
//! deterministic on its own, and gives the same bits on any thread count, so a result names
//! the path that made it (cell records do) and is recomputed bit for bit on that path.

use serde::{Deserialize, Serialize};

use crate::native::kernels::KernelSet;
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
    /// AVX-512F, BW and VL).
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

    /// Whether this build, on this CPU, can run the path.
    pub fn is_available(self) -> bool {
        self.kernels().is_ok()
    }

    /// The fastest path this build runs on this CPU.
    pub fn best_available() -> KernelPath {
        if KernelSet::avx512().is_some() {
            KernelPath::Avx512
        } else {
            KernelPath::Portable
        }
    }

    /// The path [`KERNELS_ENV`] asks for, else the best this CPU runs; an invalid value counts
    /// as `auto` (front ends check it with [`KernelPath::from_env`] first).
    pub fn from_env_or_best() -> KernelPath {
        KernelPath::from_env()
            .ok()
            .flatten()
            .unwrap_or_else(KernelPath::best_available)
    }

    /// The kernels of this path, the CPU detected now: an error naming the feature this CPU
    /// (or this build) lacks.
    pub(crate) fn kernels(self) -> Result<KernelSet> {
        match self {
            KernelPath::Portable => Ok(KernelSet::portable()),
            KernelPath::Avx512 => KernelSet::avx512().ok_or_else(|| self.unavailable()),
        }
    }

    /// The path a kernel set belongs to.
    pub(crate) fn of(set: KernelSet) -> KernelPath {
        match set {
            KernelSet::Plain(_) | KernelSet::Wide(_) => KernelPath::Portable,
            KernelSet::Avx512(_) => KernelPath::Avx512,
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
        self.kernels().map(|_| ())
    }

    /// Why this path cannot run here.
    fn unavailable(self) -> Error {
        let why = if cfg!(all(target_arch = "x86_64", not(nstudent_portable))) {
            "a CPU with AVX-512F, BW and VL, which this one lacks"
        } else {
            "the x86-64 AVX-512 kernels, which this build does not have (built for another CPU family, or with --cfg nstudent_portable)"
        };
        Error::Invalid(format!(
            "the {} kernels need {why}; use the portable kernels ({KERNELS_ENV}=portable)",
            self.name()
        ))
    }
}

impl std::fmt::Display for KernelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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
                assert!(!KernelPath::Avx512.is_available());
                assert!(e.to_string().contains("AVX-512"), "{e}");
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
