//! Runtime-dispatched SIMD numeric kernels at cache and memory-bandwidth
//! speed — the end of scalar metric loops.
//!
//! Plain Rust float loops do not vectorize: LLVM may not reassociate float
//! additions, so a naive `f32` sum runs at one add per adder latency and, at
//! 1e8 elements, loses most of its value to rounding. `novacron-simd-kernels`
//! keeps many independent accumulators per kernel, compiles every kernel for
//! each instruction-set level (AVX2+FMA, optionally AVX-512, NEON, and a
//! portable baseline), picks the best level for the CPU once at run time, and
//! offers accurate sums whose error does not grow with the length.
//!
//! Start at [`Kernels`] (an explicit level) or the free functions (the best level):
//!
//! ```
//! use novacron_simd_kernels::{self as simd, Kernels, Level};
//!
//! let cpu: Vec<f32> = (0..10_000).map(|i| (i % 100) as f32).collect();
//! assert_eq!(simd::sum(&cpu), 495_000.0);
//! let stats = simd::stats(&cpu);
//! assert_eq!(stats.mean(), Some(49.5));
//! assert_eq!(simd::count_above(&cpu, 90.0), 900);
//!
//! // Force a level (tests and benches run every level the CPU supports).
//! let portable = Kernels::new(Level::Portable)?;
//! assert_eq!(portable.dot(&cpu[..4], &[1.0, 1.0, 1.0, 1.0])?, 6.0);
//! # Ok::<(), simd::Error>(())
//! ```
//!
//! # Guarantees
//!
//! - **Dispatch.** [`Level::best`] detects the CPU once (cached);
//!   [`Kernels::best`] runs at that level. [`Kernels::from_env`] reads
//!   `NOVACRON_SIMD=portable|avx2|avx512|neon` and refuses an unknown or
//!   unsupported value with an error (never a silent fall-back); the free
//!   functions run [`Kernels::global`], which is [`Kernels::best`] unless the
//!   program called [`Kernels::install`] first (for example
//!   `Kernels::from_env()?.install()?`). Inputs need no alignment and may
//!   have any length.
//! - **Results.** Every level computes the same association of additions
//!   (32 lanes, combined pairwise, in blocks of 65 536 values); levels with
//!   FMA differ from the portable one only by the fused roundings of
//!   multiply-adds. One exception: [`Kernels::stats`] at the AVX2 level
//!   streams each 1 024-value block once, accumulating moments about a
//!   per-block shift (the midpoint of its first and last values) and falling
//!   back to a second pass over the cached block when the shifted form would
//!   cancel more than 4 bits; the other levels always take the two passes.
//!   Both merge blocks by Chan's formula, and their variances agree to a few
//!   units of rounding times `|mean| / σ` (tested against exact integer
//!   arithmetic), never the `(|mean| / σ)²` of the textbook one-pass formula. Fast sums and dots have the usual `O(n ε)` worst-case
//!   relative error bound divided by the lane count in practice;
//!   [`Kernels::sum_accurate`] sums `f32` in `f64` lanes and `f64` with
//!   Neumaier compensation (relative error below 1e-6 for 1e8 `f32`, tested).
//! - **Parallel.** With the `parallel` feature the `par_*` reductions split
//!   at the same block boundaries and combine in the same order as the
//!   sequential kernels: results are bit-identical.
//! - **Safety.** `unsafe` lives in one private module (`arch`), every block
//!   with a `SAFETY` comment; a non-portable [`Level`] is only used after
//!   run-time detection confirmed its features.
//!
//! # Errors
//!
//! Binary kernels reject slices of different lengths
//! ([`Error::LengthMismatch`]); histograms reject zero bins, more than
//! [`MAX_BINS`] ([`Error::TooManyBins`]) and NaN, infinite or inverted
//! ranges (any finite range works, even one wider than `f64::MAX`, with
//! numpy's bin edges); clamp rejects inverted or NaN bounds; forcing
//! an unsupported level is [`Error::UnsupportedLevel`]. Nothing panics on
//! input. Total behaviour: empty slices sum to 0 and have `None` as
//! min/max/argmin/argmax/mean/variance; min, max, argmin and argmax
//! propagate NaN (the first NaN wins, like IEEE 754-2019 `minimum`); counts
//! never count NaN; histograms count NaN and out-of-range values separately.
//!
//! # Performance
//!
//! At 4 KiB (in L1) the AVX2 sum of f32 runs **17.5×** the naive scalar loop
//! and 3.0× ndarray; the dot product 12.4× and 2.8×; fused `stats` of f64
//! 18× a Welford loop. At 256 MiB (DRAM) the kernels are bandwidth-bound:
//! 4.1× the naive sum, 1.4× ndarray. numpy and simsimd are compared by an
//! interleaved script. Figures and commands: `docs/benchmarks.md`
//! ("novacron-simd-kernels"; criterion suite `benches/simd.rs`, script
//! `benches/scripts/numpy_simd.py`).
//!
//! # Crate features
//!
//! - `parallel`: rayon versions of the reductions (`par_*`).
//! - `avx512`: the AVX-512 level (x86_64). Off by default until CI has a
//!   machine to test it on.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod accurate;
mod arch;
mod body;
mod element;
mod error;
mod free;
mod kernels;
mod lanes;
#[cfg(feature = "parallel")]
mod parallel;
mod stats;

pub use arch::Level;
pub use element::{Float, Int};
pub use error::Error;
pub use free::*;
pub use kernels::Kernels;
pub use stats::{Histogram, Stats};

/// Values per block of the blocked reductions: the unit the parallel
/// versions split at, so that both combine partial results identically.
pub const BLOCK: usize = 1 << 16;

/// The most bins a histogram may have: 2²⁴ (128 MiB of counts).
pub const MAX_BINS: usize = 1 << 24;

#[cfg(test)]
mod send_sync {
    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<crate::Kernels>();
        check::<crate::Stats>();
        check::<crate::Histogram>();
        check::<crate::Error>();
    }
}
