//! Instruction-set levels and dispatch: the only module with `unsafe`.
//!
//! Every body in `body.rs` is compiled once per level by wrapper functions
//! carrying `#[target_feature]`; calling such a wrapper is `unsafe` because
//! it would be undefined behaviour on a CPU without those features. A
//! [`Level`] other than `Portable` can only be obtained after run-time
//! detection has confirmed the features, which is what every `SAFETY`
//! comment below relies on.
#![allow(unsafe_code)]

use std::fmt;
use std::sync::OnceLock;

use crate::Error;
use crate::body;
use crate::element::Float;
use crate::stats::Stats;

/// An instruction-set level the kernels can run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Level {
    /// Plain Rust the compiler vectorizes for the build's baseline (SSE2 on x86_64).
    Portable,
    /// x86_64 AVX2 + FMA.
    Avx2,
    /// x86_64 AVX-512F/VL + FMA (cargo feature `avx512`).
    Avx512,
    /// aarch64 NEON.
    Neon,
}

impl std::str::FromStr for Level {
    type Err = Error;

    /// As [`Level::parse`].
    fn from_str(name: &str) -> Result<Level, Error> {
        Level::parse(name)
    }
}

impl Level {
    /// Lower-case name, as accepted by `NOVACRON_SIMD`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
            Level::Neon => "neon",
        }
    }

    /// Parses a level name.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownLevel`] for any other name.
    pub fn parse(name: &str) -> Result<Level, Error> {
        match name.trim().to_ascii_lowercase().as_str() {
            "portable" | "scalar" => Ok(Level::Portable),
            "avx2" => Ok(Level::Avx2),
            "avx512" => Ok(Level::Avx512),
            "neon" => Ok(Level::Neon),
            _ => Err(Error::UnknownLevel {
                name: name.to_owned(),
            }),
        }
    }

    /// Whether this CPU and build can run the level.
    pub fn is_supported(self) -> bool {
        match self {
            Level::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
            Level::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "aarch64")]
            Level::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            _ => false,
        }
    }

    /// Every level this CPU and build can run, best last.
    pub fn available() -> Vec<Level> {
        [Level::Portable, Level::Neon, Level::Avx2, Level::Avx512]
            .into_iter()
            .filter(|l| l.is_supported())
            .collect()
    }

    /// The best supported level, detected once and cached.
    pub fn best() -> Level {
        static BEST: OnceLock<Level> = OnceLock::new();
        *BEST.get_or_init(|| Level::available().pop().unwrap_or(Level::Portable))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Declares one wrapper per kernel, compiled with the given attributes.
macro_rules! wrappers {
    ($(#[$attr:meta])*; $fma:literal) => {
        wrappers!($(#[$attr])*; $fma; x => body::stats::<T, $fma>(x));
    };
    ($(#[$attr:meta])*; $fma:literal; $x:ident => $stats:expr) => {
        $(#[$attr])*
        pub(crate) fn sum<T: Float>(x: &[T]) -> T { body::sum(x) }
        $(#[$attr])*
        pub(crate) fn sum_accurate<T: Float>(x: &[T]) -> f64 { T::sum_accurate_block(x) }
        $(#[$attr])*
        pub(crate) fn dot<T: Float>(a: &[T], b: &[T]) -> T { body::dot::<T, $fma>(a, b) }
        $(#[$attr])*
        pub(crate) fn l1<T: Float>(a: &[T], b: &[T]) -> T { body::l1(a, b) }
        $(#[$attr])*
        pub(crate) fn l2_squared<T: Float>(a: &[T], b: &[T]) -> T { body::l2_squared::<T, $fma>(a, b) }
        $(#[$attr])*
        pub(crate) fn dot_norms<T: Float>(a: &[T], b: &[T]) -> (T, T, T) { body::dot_norms::<T, $fma>(a, b) }
        $(#[$attr])*
        pub(crate) fn min<T: Float>(x: &[T]) -> T { body::extreme::<T, false>(x) }
        $(#[$attr])*
        pub(crate) fn max<T: Float>(x: &[T]) -> T { body::extreme::<T, true>(x) }
        $(#[$attr])*
        pub(crate) fn count_above<T: Float>(x: &[T], t: T) -> usize { body::count::<T, true>(x, t) }
        $(#[$attr])*
        pub(crate) fn count_below<T: Float>(x: &[T], t: T) -> usize { body::count::<T, false>(x, t) }
        $(#[$attr])*
        pub(crate) fn axpy<T: Float>(a: T, x: &[T], y: &mut [T]) { body::axpy::<T, $fma>(a, x, y) }
        $(#[$attr])*
        pub(crate) fn scale<T: Float>(a: T, x: &mut [T]) { body::scale(a, x) }
        $(#[$attr])*
        pub(crate) fn add<T: Float>(x: &[T], y: &mut [T]) { body::add(x, y) }
        $(#[$attr])*
        pub(crate) fn clamp<T: Float>(x: &mut [T], lo: T, hi: T) { body::clamp(x, lo, hi) }
        $(#[$attr])*
        pub(crate) fn stats<T: Float>($x: &[T]) -> Stats { $stats }
        $(#[$attr])*
        pub(crate) fn histogram<T: Float>(x: &[T], lo: f64, hi: f64, bins: usize, counts: &mut [u64]) {
            body::histogram(x, lo, hi, bins, counts)
        }
    };
}

mod portable {
    use super::*;
    wrappers!(#[inline]; false);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;
    use crate::body::{Moments, SHIFTED_LANES};
    use std::arch::x86_64::{
        __m256d, _MM_HINT_T0, _mm_prefetch, _mm256_add_pd, _mm256_fmadd_pd, _mm256_max_pd,
        _mm256_min_pd, _mm256_set_pd, _mm256_set1_pd, _mm256_setzero_pd, _mm256_storeu_pd,
        _mm256_sub_pd,
    };

    wrappers!(#[target_feature(enable = "avx2,fma")]; true;
        x => body::stats_shifted::<T>(x, |c, k, f| moments::<T>(c, k, f)));

    /// How far ahead of its loads the statistics loop prefetches: enough
    /// cache lines in flight to cover DRAM latency at full bandwidth (the
    /// hardware prefetcher alone reached 76 % of `stream_read` at 256 MiB,
    /// 92–114 % with 512 B to 4 KiB of lead, noisy run to run).
    const PREFETCH_BYTES: usize = 1024;

    /// Four values as one register (a plain load for `f64`, a widening
    /// load for `f32`).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn load<T: Float>(c: &[T]) -> __m256d {
        _mm256_set_pd(c[3].to_f64(), c[2].to_f64(), c[1].to_f64(), c[0].to_f64())
    }

    /// The eight lanes of two registers, `a` holding lanes 0–3.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn lanes(a: __m256d, b: __m256d) -> [f64; SHIFTED_LANES] {
        let mut out = [0.0; SHIFTED_LANES];
        let (lo, hi) = out.split_at_mut(4);
        // SAFETY: both halves hold exactly the four f64 that storeu writes.
        unsafe {
            _mm256_storeu_pd(lo.as_mut_ptr(), a);
            _mm256_storeu_pd(hi.as_mut_ptr(), b);
        }
        out
    }

    /// The vector loop of [`body::stats_shifted`]: the per-lane operations
    /// of `Moments::push` with lanes 0–3 of every accumulator in one
    /// register and lanes 4–7 in another (LLVM's SLP vectorizer packs five
    /// lane arrays poorly), plus a software prefetch.
    #[target_feature(enable = "avx2,fma")]
    fn moments<T: Float>(chunks: &[[T; SHIFTED_LANES]], shift: f64, first: f64) -> Moments {
        let k = _mm256_set1_pd(shift);
        let (mut s_a, mut s_b) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        let (mut s1_a, mut s1_b) = (s_a, s_b);
        let (mut s2_a, mut s2_b) = (s_a, s_b);
        let (mut lo_a, mut lo_b) = (_mm256_set1_pd(first), _mm256_set1_pd(first));
        let (mut hi_a, mut hi_b) = (lo_a, lo_b);
        for c in chunks {
            // A prefetch reads nothing and never faults; `wrapping_add`
            // keeps the address computation defined past the slice's end.
            _mm_prefetch::<_MM_HINT_T0>(c.as_ptr().cast::<i8>().wrapping_add(PREFETCH_BYTES));
            let (va, vb) = (load(&c[..4]), load(&c[4..]));
            let (da, db) = (_mm256_sub_pd(va, k), _mm256_sub_pd(vb, k));
            s_a = _mm256_add_pd(s_a, va);
            s_b = _mm256_add_pd(s_b, vb);
            s1_a = _mm256_add_pd(s1_a, da);
            s1_b = _mm256_add_pd(s1_b, db);
            s2_a = _mm256_fmadd_pd(da, da, s2_a);
            s2_b = _mm256_fmadd_pd(db, db, s2_b);
            // min_pd(v, m) is `v < m ? v : m`: a NaN keeps m, like `push`.
            lo_a = _mm256_min_pd(va, lo_a);
            lo_b = _mm256_min_pd(vb, lo_b);
            hi_a = _mm256_max_pd(va, hi_a);
            hi_b = _mm256_max_pd(vb, hi_b);
        }
        Moments {
            s: lanes(s_a, s_b),
            s1: lanes(s1_a, s1_b),
            s2: lanes(s2_a, s2_b),
            lo: lanes(lo_a, lo_b),
            hi: lanes(hi_a, hi_b),
        }
    }
}

#[cfg(all(target_arch = "x86_64", feature = "avx512"))]
mod avx512 {
    use super::*;
    wrappers!(#[target_feature(enable = "avx512f,avx512vl,fma")]; true);
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use super::*;
    wrappers!(#[target_feature(enable = "neon")]; true);
}

/// Proof that this CPU runs a level: only [`Supported::new`] makes one, after
/// the run-time feature check, so no caller of [`Dispatch`] can reach a
/// `#[target_feature]` wrapper the CPU lacks without writing `unsafe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Supported(Level);

impl Supported {
    /// The portable level, which every CPU runs.
    pub(crate) const PORTABLE: Supported = Supported(Level::Portable);

    /// A token for `level` if the CPU and the build support it.
    pub(crate) fn new(level: Level) -> Option<Supported> {
        level.is_supported().then_some(Supported(level))
    }

    /// The level the token vouches for.
    pub(crate) fn level(self) -> Level {
        self.0
    }
}

/// Calls kernel `$name` at the level of the `Supported` token `$token`.
macro_rules! dispatch {
    ($token:expr, $name:ident($($arg:expr),*)) => {
        match $token.level() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the level comes from a `Supported` token, which only
            // `Supported::new` creates after `Level::is_supported` confirmed
            // AVX2 and FMA at run time.
            Level::Avx2 => unsafe { avx2::$name($($arg),*) },
            #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
            // SAFETY: as above, with AVX-512F, AVX-512VL and FMA detected.
            Level::Avx512 => unsafe { avx512::$name($($arg),*) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: as above, with NEON detected.
            Level::Neon => unsafe { neon::$name($($arg),*) },
            _ => portable::$name($($arg),*),
        }
    };
}

/// The dispatch entry points, one per kernel, each taking the token that
/// proves its level runs here.
pub(crate) struct Dispatch;

impl Dispatch {
    pub(crate) fn sum<T: Float>(level: Supported, x: &[T]) -> T {
        dispatch!(level, sum(x))
    }
    pub(crate) fn sum_accurate<T: Float>(level: Supported, x: &[T]) -> f64 {
        dispatch!(level, sum_accurate(x))
    }
    pub(crate) fn dot<T: Float>(level: Supported, a: &[T], b: &[T]) -> T {
        dispatch!(level, dot(a, b))
    }
    pub(crate) fn l1<T: Float>(level: Supported, a: &[T], b: &[T]) -> T {
        dispatch!(level, l1(a, b))
    }
    pub(crate) fn l2_squared<T: Float>(level: Supported, a: &[T], b: &[T]) -> T {
        dispatch!(level, l2_squared(a, b))
    }
    pub(crate) fn dot_norms<T: Float>(level: Supported, a: &[T], b: &[T]) -> (T, T, T) {
        dispatch!(level, dot_norms(a, b))
    }
    pub(crate) fn min<T: Float>(level: Supported, x: &[T]) -> T {
        dispatch!(level, min(x))
    }
    pub(crate) fn max<T: Float>(level: Supported, x: &[T]) -> T {
        dispatch!(level, max(x))
    }
    pub(crate) fn count_above<T: Float>(level: Supported, x: &[T], t: T) -> usize {
        dispatch!(level, count_above(x, t))
    }
    pub(crate) fn count_below<T: Float>(level: Supported, x: &[T], t: T) -> usize {
        dispatch!(level, count_below(x, t))
    }
    pub(crate) fn axpy<T: Float>(level: Supported, a: T, x: &[T], y: &mut [T]) {
        dispatch!(level, axpy(a, x, y))
    }
    pub(crate) fn scale<T: Float>(level: Supported, a: T, x: &mut [T]) {
        dispatch!(level, scale(a, x))
    }
    pub(crate) fn add<T: Float>(level: Supported, x: &[T], y: &mut [T]) {
        dispatch!(level, add(x, y))
    }
    pub(crate) fn clamp<T: Float>(level: Supported, x: &mut [T], lo: T, hi: T) {
        dispatch!(level, clamp(x, lo, hi))
    }
    pub(crate) fn stats<T: Float>(level: Supported, x: &[T]) -> Stats {
        dispatch!(level, stats(x))
    }
    pub(crate) fn histogram<T: Float>(
        level: Supported,
        x: &[T],
        lo: f64,
        hi: f64,
        bins: usize,
        counts: &mut [u64],
    ) {
        dispatch!(level, histogram(x, lo, hi, bins, counts))
    }
}
