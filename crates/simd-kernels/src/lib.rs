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
//! - **Dispatch.** [`Level::best`] detects the CPU once (cached); the
//!   environment variable `NOVACRON_SIMD=portable|avx2|avx512|neon` forces a
//!   level for [`Kernels::best`] when the CPU supports it. Inputs need no
//!   alignment and may have any length.
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
//! Baselines are the naive scalar loop, ndarray, numpy and simsimd; measured
//! ratios and the commands that produced them are in `docs/benchmarks.md`
//! (criterion suite `benches/simd.rs`).
//!
//! # Crate features
//!
//! - `parallel`: rayon versions of the reductions (`par_*`).
//! - `avx512`: the AVX-512 level (x86_64). Off by default until CI has a
//!   machine to test it on.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod arch;
mod body;
mod element;
mod error;
mod stats;

pub use arch::Level;
pub use element::{Float, Int};
pub use error::Error;
pub use stats::{Histogram, Stats};

use arch::Dispatch;

/// Values per block of the blocked reductions: the unit the parallel
/// versions split at, so that both combine partial results identically.
pub const BLOCK: usize = 1 << 16;

/// The most bins a histogram may have: 2²⁴ (128 MiB of counts).
pub const MAX_BINS: usize = 1 << 24;

/// The kernels at one instruction-set level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernels {
    level: Level,
}

impl Kernels {
    /// Kernels at `level`.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedLevel`] when the CPU or build cannot run it.
    pub fn new(level: Level) -> Result<Kernels, Error> {
        if level.is_supported() {
            Ok(Kernels { level })
        } else {
            Err(Error::UnsupportedLevel { level })
        }
    }

    /// Kernels at the level named by `NOVACRON_SIMD` if it is set, valid and
    /// supported, else at [`Level::best`]. Decided once per process (the
    /// free functions call this on every call, so reading the environment
    /// each time would cost more than a small kernel).
    pub fn best() -> Kernels {
        static BEST: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| match Kernels::from_env() {
            Ok(Some(k)) => k,
            _ => Kernels {
                level: Level::best(),
            },
        })
    }

    /// Kernels at the level named by `NOVACRON_SIMD`, `None` when unset.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownLevel`] or [`Error::UnsupportedLevel`] for a bad value.
    pub fn from_env() -> Result<Option<Kernels>, Error> {
        match std::env::var("NOVACRON_SIMD") {
            Ok(name) if !name.trim().is_empty() => Kernels::new(Level::parse(&name)?).map(Some),
            _ => Ok(None),
        }
    }

    /// The level these kernels run at.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Sum, fast: `f32` accumulates in `f32` lanes.
    pub fn sum<T: Float>(&self, x: &[T]) -> T {
        x.chunks(BLOCK)
            .fold(T::ZERO, |acc, c| acc + Dispatch::sum(self.level, c))
    }

    /// Sum, accurate: `f32` accumulates in `f64` lanes, `f64` with Neumaier
    /// compensation; returned as `f64`.
    pub fn sum_accurate<T: Float>(&self, x: &[T]) -> f64 {
        neumaier(
            x.chunks(BLOCK)
                .map(|c| Dispatch::sum_accurate(self.level, c)),
        )
    }

    /// Dot product.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn dot<T: Float>(&self, a: &[T], b: &[T]) -> Result<T, Error> {
        same_len(a.len(), b.len())?;
        Ok(a.chunks(BLOCK)
            .zip(b.chunks(BLOCK))
            .fold(T::ZERO, |acc, (x, y)| acc + Dispatch::dot(self.level, x, y)))
    }

    /// Manhattan distance `Σ |a - b|`.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn l1<T: Float>(&self, a: &[T], b: &[T]) -> Result<T, Error> {
        same_len(a.len(), b.len())?;
        Ok(a.chunks(BLOCK)
            .zip(b.chunks(BLOCK))
            .fold(T::ZERO, |acc, (x, y)| acc + Dispatch::l1(self.level, x, y)))
    }

    /// Squared Euclidean distance `Σ (a - b)²`.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn l2_squared<T: Float>(&self, a: &[T], b: &[T]) -> Result<T, Error> {
        same_len(a.len(), b.len())?;
        Ok(a.chunks(BLOCK)
            .zip(b.chunks(BLOCK))
            .fold(T::ZERO, |acc, (x, y)| {
                acc + Dispatch::l2_squared(self.level, x, y)
            }))
    }

    /// Euclidean distance.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn l2<T: Float>(&self, a: &[T], b: &[T]) -> Result<f64, Error> {
        Ok(self.l2_squared(a, b)?.to_f64().sqrt())
    }

    /// Cosine distance `1 - a·b / (|a| |b|)`, in `[0, 2]`. By convention two
    /// zero vectors are at distance 0 and a zero vector is at distance 1 from
    /// any other (as in simsimd).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn cosine_distance<T: Float>(&self, a: &[T], b: &[T]) -> Result<f64, Error> {
        same_len(a.len(), b.len())?;
        let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
        for (x, y) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
            let (p, q, r) = Dispatch::dot_norms(self.level, x, y);
            ab += p.to_f64();
            aa += q.to_f64();
            bb += r.to_f64();
        }
        Ok(cosine_from_parts(ab, aa, bb))
    }

    /// Smallest value; `None` when empty; NaN when any value is NaN.
    pub fn min<T: Float>(&self, x: &[T]) -> Option<T> {
        (!x.is_empty()).then(|| {
            x.chunks(BLOCK)
                .map(|c| Dispatch::min(self.level, c))
                .fold(x[0], pick::<T, false>)
        })
    }

    /// Largest value; `None` when empty; NaN when any value is NaN.
    pub fn max<T: Float>(&self, x: &[T]) -> Option<T> {
        (!x.is_empty()).then(|| {
            x.chunks(BLOCK)
                .map(|c| Dispatch::max(self.level, c))
                .fold(x[0], pick::<T, true>)
        })
    }

    /// Index of the first smallest value (of the first NaN if any); `None` when empty.
    pub fn argmin<T: Float>(&self, x: &[T]) -> Option<usize> {
        let m = self.min(x)?;
        position_of(x, m)
    }

    /// Index of the first largest value (of the first NaN if any); `None` when empty.
    pub fn argmax<T: Float>(&self, x: &[T]) -> Option<usize> {
        let m = self.max(x)?;
        position_of(x, m)
    }

    /// Count, sum, mean, variance, min and max in one pass over the data.
    pub fn stats<T: Float>(&self, x: &[T]) -> Stats {
        let mut total = Stats::new();
        for c in x.chunks(BLOCK) {
            total.merge(&Dispatch::stats(self.level, c));
        }
        total
    }

    /// Histogram of `x` in `bins` equal-width bins over `[lo, hi]`, with
    /// numpy's bin edges (`np.histogram(x, bins, range=(lo, hi))` on `f64`
    /// data gives the same counts); any finite range works, even one wider
    /// than `f64::MAX`. Values are binned as `f64`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroBins`]; [`Error::TooManyBins`] above [`MAX_BINS`];
    /// [`Error::InvalidRange`] unless `lo < hi`, both finite.
    pub fn histogram<T: Float>(
        &self,
        x: &[T],
        lo: f64,
        hi: f64,
        bins: usize,
    ) -> Result<Histogram, Error> {
        let mut h = empty_histogram(lo, hi, bins)?;
        let mut slots = vec![0u64; bins + 3];
        for c in x.chunks(BLOCK) {
            Dispatch::histogram(self.level, c, lo, hi, bins, &mut slots);
        }
        h.absorb_slots(&slots);
        Ok(h)
    }

    /// Number of values strictly above `threshold` (alerting); NaN never counts.
    pub fn count_above<T: Float>(&self, x: &[T], threshold: T) -> usize {
        x.chunks(BLOCK)
            .map(|c| Dispatch::count_above(self.level, c, threshold))
            .sum()
    }

    /// Number of values strictly below `threshold`; NaN never counts.
    pub fn count_below<T: Float>(&self, x: &[T], threshold: T) -> usize {
        x.chunks(BLOCK)
            .map(|c| Dispatch::count_below(self.level, c, threshold))
            .sum()
    }

    /// `y += a x`, elementwise, in place.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn axpy<T: Float>(&self, a: T, x: &[T], y: &mut [T]) -> Result<(), Error> {
        same_len(x.len(), y.len())?;
        Dispatch::axpy(self.level, a, x, y);
        Ok(())
    }

    /// `x *= a`, elementwise, in place.
    pub fn scale<T: Float>(&self, a: T, x: &mut [T]) {
        Dispatch::scale(self.level, a, x);
    }

    /// `y += x`, elementwise, in place.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn add<T: Float>(&self, x: &[T], y: &mut [T]) -> Result<(), Error> {
        same_len(x.len(), y.len())?;
        Dispatch::add(self.level, x, y);
        Ok(())
    }

    /// Clamps every value into `[lo, hi]` in place; NaN stays NaN.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRange`] when a bound is NaN or `lo > hi`.
    pub fn clamp<T: Float>(&self, x: &mut [T], lo: T, hi: T) -> Result<(), Error> {
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return Err(Error::InvalidRange {
                lo: lo.to_f64(),
                hi: hi.to_f64(),
            });
        }
        Dispatch::clamp(self.level, x, lo, hi);
        Ok(())
    }

    /// Exact sum of integers, widened to `i128` (never overflows for
    /// inputs shorter than 2^64).
    pub fn sum_int<I: Int>(&self, x: &[I]) -> i128 {
        x.iter().map(|v| v.to_i128()).sum()
    }

    /// Smallest integer, `None` when empty.
    pub fn min_int<I: Int>(&self, x: &[I]) -> Option<I> {
        x.iter().copied().min()
    }

    /// Largest integer, `None` when empty.
    pub fn max_int<I: Int>(&self, x: &[I]) -> Option<I> {
        x.iter().copied().max()
    }
}

#[cfg(feature = "parallel")]
mod parallel {
    //! Rayon versions of the reductions: same blocks, same combination order.
    use rayon::prelude::*;

    use super::*;

    impl Kernels {
        /// [`sum`](Kernels::sum) over rayon's pool; bit-identical.
        pub fn par_sum<T: Float>(&self, x: &[T]) -> T {
            let parts: Vec<T> = x
                .par_chunks(BLOCK)
                .map(|c| Dispatch::sum(self.level, c))
                .collect();
            parts.into_iter().fold(T::ZERO, |acc, p| acc + p)
        }

        /// [`sum_accurate`](Kernels::sum_accurate) over rayon's pool; bit-identical.
        pub fn par_sum_accurate<T: Float>(&self, x: &[T]) -> f64 {
            let parts: Vec<f64> = x
                .par_chunks(BLOCK)
                .map(|c| Dispatch::sum_accurate(self.level, c))
                .collect();
            neumaier(parts)
        }

        /// [`dot`](Kernels::dot) over rayon's pool; bit-identical.
        ///
        /// # Errors
        ///
        /// [`Error::LengthMismatch`].
        pub fn par_dot<T: Float>(&self, a: &[T], b: &[T]) -> Result<T, Error> {
            same_len(a.len(), b.len())?;
            let parts: Vec<T> = a
                .par_chunks(BLOCK)
                .zip(b.par_chunks(BLOCK))
                .map(|(x, y)| Dispatch::dot(self.level, x, y))
                .collect();
            Ok(parts.into_iter().fold(T::ZERO, |acc, p| acc + p))
        }

        /// [`stats`](Kernels::stats) over rayon's pool; bit-identical.
        pub fn par_stats<T: Float>(&self, x: &[T]) -> Stats {
            let parts: Vec<Stats> = x
                .par_chunks(BLOCK)
                .map(|c| Dispatch::stats(self.level, c))
                .collect();
            let mut total = Stats::new();
            for p in &parts {
                total.merge(p);
            }
            total
        }

        /// [`min`](Kernels::min) over rayon's pool.
        pub fn par_min<T: Float>(&self, x: &[T]) -> Option<T> {
            let parts: Vec<T> = x
                .par_chunks(BLOCK)
                .map(|c| Dispatch::min(self.level, c))
                .collect();
            (!x.is_empty()).then(|| parts.into_iter().fold(x[0], pick::<T, false>))
        }

        /// [`max`](Kernels::max) over rayon's pool.
        pub fn par_max<T: Float>(&self, x: &[T]) -> Option<T> {
            let parts: Vec<T> = x
                .par_chunks(BLOCK)
                .map(|c| Dispatch::max(self.level, c))
                .collect();
            (!x.is_empty()).then(|| parts.into_iter().fold(x[0], pick::<T, true>))
        }

        /// [`histogram`](Kernels::histogram) over rayon's pool.
        ///
        /// # Errors
        ///
        /// As [`histogram`](Kernels::histogram).
        pub fn par_histogram<T: Float>(
            &self,
            x: &[T],
            lo: f64,
            hi: f64,
            bins: usize,
        ) -> Result<Histogram, Error> {
            let mut h = empty_histogram(lo, hi, bins)?;
            // One count array per rayon task (not per block): a histogram of
            // millions of bins costs a few arrays, not one per 65,536 values.
            let slots = x
                .par_chunks(BLOCK)
                .fold(
                    || vec![0u64; bins + 3],
                    |mut slots, c| {
                        Dispatch::histogram(self.level, c, lo, hi, bins, &mut slots);
                        slots
                    },
                )
                .reduce_with(|mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                    a
                });
            if let Some(slots) = slots {
                h.absorb_slots(&slots);
            }
            Ok(h)
        }

        /// [`count_above`](Kernels::count_above) over rayon's pool.
        pub fn par_count_above<T: Float>(&self, x: &[T], threshold: T) -> usize {
            x.par_chunks(BLOCK)
                .map(|c| Dispatch::count_above(self.level, c, threshold))
                .sum()
        }
    }
}

fn same_len(left: usize, right: usize) -> Result<(), Error> {
    if left == right {
        Ok(())
    } else {
        Err(Error::LengthMismatch { left, right })
    }
}

/// Compensated sum of partial results, in order.
fn neumaier(parts: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for v in parts {
        let t = s + v;
        c += if s.abs() >= v.abs() {
            (s - t) + v
        } else {
            (v - t) + s
        };
        s = t;
    }
    s + c
}

/// Combines two partial extremes; NaN wins.
fn pick<T: Float, const MAX: bool>(a: T, b: T) -> T {
    if a.is_nan() {
        a
    } else if b.is_nan() || (if MAX { b > a } else { b < a }) {
        b
    } else {
        a
    }
}

fn position_of<T: Float>(x: &[T], m: T) -> Option<usize> {
    if m.is_nan() {
        x.iter().position(|v| v.is_nan())
    } else {
        x.iter().position(|&v| v == m)
    }
}

fn cosine_from_parts(ab: f64, aa: f64, bb: f64) -> f64 {
    if aa == 0.0 && bb == 0.0 {
        0.0
    } else if aa == 0.0 || bb == 0.0 {
        1.0
    } else {
        (1.0 - ab / (aa.sqrt() * bb.sqrt())).clamp(0.0, 2.0)
    }
}

fn empty_histogram(lo: f64, hi: f64, bins: usize) -> Result<Histogram, Error> {
    if bins == 0 {
        return Err(Error::ZeroBins);
    }
    if bins > MAX_BINS {
        return Err(Error::TooManyBins {
            bins,
            limit: MAX_BINS,
        });
    }
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::InvalidRange { lo, hi });
    }
    Ok(Histogram {
        counts: vec![0; bins],
        underflow: 0,
        overflow: 0,
        nan: 0,
    })
}

macro_rules! free_fns {
    ($($(#[$doc:meta])* fn $name:ident<$t:ident: $bound:ident>($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<$t: $bound>($($arg: $ty),*) -> $ret {
                Kernels::best().$name($($arg),*)
            }
        )*
    };
}

free_fns! {
    /// [`Kernels::sum`] at the best level.
    fn sum<T: Float>(x: &[T]) -> T;
    /// [`Kernels::sum_accurate`] at the best level.
    fn sum_accurate<T: Float>(x: &[T]) -> f64;
    /// [`Kernels::dot`] at the best level.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn dot<T: Float>(a: &[T], b: &[T]) -> Result<T, Error>;
    /// [`Kernels::l1`] at the best level.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn l1<T: Float>(a: &[T], b: &[T]) -> Result<T, Error>;
    /// [`Kernels::l2_squared`] at the best level.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn l2_squared<T: Float>(a: &[T], b: &[T]) -> Result<T, Error>;
    /// [`Kernels::l2`] at the best level.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn l2<T: Float>(a: &[T], b: &[T]) -> Result<f64, Error>;
    /// [`Kernels::cosine_distance`] at the best level.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn cosine_distance<T: Float>(a: &[T], b: &[T]) -> Result<f64, Error>;
    /// [`Kernels::min`] at the best level.
    fn min<T: Float>(x: &[T]) -> Option<T>;
    /// [`Kernels::max`] at the best level.
    fn max<T: Float>(x: &[T]) -> Option<T>;
    /// [`Kernels::argmin`] at the best level.
    fn argmin<T: Float>(x: &[T]) -> Option<usize>;
    /// [`Kernels::argmax`] at the best level.
    fn argmax<T: Float>(x: &[T]) -> Option<usize>;
    /// [`Kernels::stats`] at the best level.
    fn stats<T: Float>(x: &[T]) -> Stats;
    /// [`Kernels::histogram`] at the best level.
    ///
    /// # Errors
    ///
    /// As [`Kernels::histogram`].
    fn histogram<T: Float>(x: &[T], lo: f64, hi: f64, bins: usize) -> Result<Histogram, Error>;
    /// [`Kernels::count_above`] at the best level.
    fn count_above<T: Float>(x: &[T], threshold: T) -> usize;
    /// [`Kernels::count_below`] at the best level.
    fn count_below<T: Float>(x: &[T], threshold: T) -> usize;
    /// [`Kernels::axpy`] at the best level.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn axpy<T: Float>(a: T, x: &[T], y: &mut [T]) -> Result<(), Error>;
    /// [`Kernels::scale`] at the best level.
    fn scale<T: Float>(a: T, x: &mut [T]) -> ();
    /// [`Kernels::add`] at the best level.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn add<T: Float>(x: &[T], y: &mut [T]) -> Result<(), Error>;
    /// [`Kernels::clamp`] at the best level.
    ///
    /// # Errors
    ///
    /// As [`Kernels::clamp`].
    fn clamp<T: Float>(x: &mut [T], lo: T, hi: T) -> Result<(), Error>;
}

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
