//! [`Kernels`]: every kernel at one instruction-set level, with the checks
//! and the combination of per-block results its methods share.

use crate::accurate::neumaier;
use crate::arch::{Dispatch, Level, Supported};
use crate::element::{Float, Int, pick};
use crate::error::Error;
use crate::stats::{Histogram, Stats};
use crate::{BLOCK, MAX_BINS};

/// The process-wide kernels of the free functions ([`Kernels::global`]).
static GLOBAL: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();

/// The kernels at one instruction-set level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernels {
    // A token, not a bare level: dispatch needs proof that the CPU runs it.
    token: Supported,
}

impl Kernels {
    /// Kernels at `level`.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedLevel`] when the CPU or build cannot run it.
    pub fn new(level: Level) -> Result<Kernels, Error> {
        match Supported::new(level) {
            Some(token) => Ok(Kernels { token }),
            None => Err(Error::UnsupportedLevel { level }),
        }
    }

    /// Kernels at [`Level::best`], the widest level this CPU and build run.
    /// The environment plays no part (see [`Kernels::from_env`]); the
    /// detection is cached, so this costs a load.
    pub fn best() -> Kernels {
        Kernels {
            token: Supported::new(Level::best()).unwrap_or(Supported::PORTABLE),
        }
    }

    /// Kernels at the level named by `NOVACRON_SIMD`, or [`Kernels::best`]
    /// when the variable is unset or empty. An invalid value is an error,
    /// never a silent fall-back: a deployment that asks for `portable` to
    /// work around a CPU erratum must know when it did not get it.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownLevel`] for a name that is no level,
    /// [`Error::UnsupportedLevel`] for a level this CPU or build cannot run.
    pub fn from_env() -> Result<Kernels, Error> {
        match std::env::var("NOVACRON_SIMD") {
            Ok(name) if !name.trim().is_empty() => Kernels::new(Level::parse(&name)?),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(Kernels::best()),
            Err(std::env::VarError::NotUnicode(raw)) => Err(Error::UnknownLevel {
                name: raw.to_string_lossy().into_owned(),
            }),
        }
    }

    /// The kernels the free functions ([`crate::sum`], …) run: the ones
    /// passed to [`Kernels::install`], else [`Kernels::best`]. Fixed at the
    /// first call of either (a `OnceLock`), so a free function costs one
    /// load more than a method.
    pub fn global() -> Kernels {
        *GLOBAL.get_or_init(Kernels::best)
    }

    /// Makes these kernels the ones the free functions run, for the rest of
    /// the process; typically `Kernels::from_env()?.install()?` at start-up.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyInstalled`] when the process-wide kernels were
    /// already fixed — by an earlier `install` or by the first free-function
    /// call — at a different level (installing the same level again is
    /// `Ok`).
    pub fn install(self) -> Result<(), Error> {
        let installed = *GLOBAL.get_or_init(|| self);
        if installed == self {
            Ok(())
        } else {
            Err(Error::AlreadyInstalled {
                installed: installed.level(),
                requested: self.level(),
            })
        }
    }

    /// The token of the level (for the parallel versions' dispatch).
    #[cfg(feature = "parallel")]
    pub(crate) fn token(&self) -> Supported {
        self.token
    }

    /// The level these kernels run at.
    pub fn level(&self) -> Level {
        self.token.level()
    }

    /// Sum, fast: `f32` accumulates in `f32` lanes.
    pub fn sum<T: Float>(&self, x: &[T]) -> T {
        x.chunks(BLOCK)
            .fold(T::ZERO, |acc, c| acc + Dispatch::sum(self.token, c))
    }

    /// Sum, accurate: `f32` accumulates in `f64` lanes, `f64` with Neumaier
    /// compensation; returned as `f64`.
    pub fn sum_accurate<T: Float>(&self, x: &[T]) -> f64 {
        neumaier(
            x.chunks(BLOCK)
                .map(|c| Dispatch::sum_accurate(self.token, c)),
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
            .fold(T::ZERO, |acc, (x, y)| acc + Dispatch::dot(self.token, x, y)))
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
            .fold(T::ZERO, |acc, (x, y)| acc + Dispatch::l1(self.token, x, y)))
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
                acc + Dispatch::l2_squared(self.token, x, y)
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
            let (p, q, r) = Dispatch::dot_norms(self.token, x, y);
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
                .map(|c| Dispatch::min(self.token, c))
                .fold(x[0], pick::<T, false>)
        })
    }

    /// Largest value; `None` when empty; NaN when any value is NaN.
    pub fn max<T: Float>(&self, x: &[T]) -> Option<T> {
        (!x.is_empty()).then(|| {
            x.chunks(BLOCK)
                .map(|c| Dispatch::max(self.token, c))
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
            total.merge(&Dispatch::stats(self.token, c));
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
            Dispatch::histogram(self.token, c, lo, hi, bins, &mut slots);
        }
        h.absorb_slots(&slots);
        Ok(h)
    }

    /// Number of values strictly above `threshold` (alerting); NaN never counts.
    pub fn count_above<T: Float>(&self, x: &[T], threshold: T) -> usize {
        x.chunks(BLOCK)
            .map(|c| Dispatch::count_above(self.token, c, threshold))
            .sum()
    }

    /// Number of values strictly below `threshold`; NaN never counts.
    pub fn count_below<T: Float>(&self, x: &[T], threshold: T) -> usize {
        x.chunks(BLOCK)
            .map(|c| Dispatch::count_below(self.token, c, threshold))
            .sum()
    }

    /// `y += a x`, elementwise, in place.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn axpy<T: Float>(&self, a: T, x: &[T], y: &mut [T]) -> Result<(), Error> {
        same_len(x.len(), y.len())?;
        Dispatch::axpy(self.token, a, x, y);
        Ok(())
    }

    /// `x *= a`, elementwise, in place.
    pub fn scale<T: Float>(&self, a: T, x: &mut [T]) {
        Dispatch::scale(self.token, a, x);
    }

    /// `y += x`, elementwise, in place.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    pub fn add<T: Float>(&self, x: &[T], y: &mut [T]) -> Result<(), Error> {
        same_len(x.len(), y.len())?;
        Dispatch::add(self.token, x, y);
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
        Dispatch::clamp(self.token, x, lo, hi);
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

pub(crate) fn same_len(left: usize, right: usize) -> Result<(), Error> {
    if left == right {
        Ok(())
    } else {
        Err(Error::LengthMismatch { left, right })
    }
}

pub(crate) fn position_of<T: Float>(x: &[T], m: T) -> Option<usize> {
    if m.is_nan() {
        x.iter().position(|v| v.is_nan())
    } else {
        x.iter().position(|&v| v == m)
    }
}

pub(crate) fn cosine_from_parts(ab: f64, aa: f64, bb: f64) -> f64 {
    if aa == 0.0 && bb == 0.0 {
        0.0
    } else if aa == 0.0 || bb == 0.0 {
        1.0
    } else {
        (1.0 - ab / (aa.sqrt() * bb.sqrt())).clamp(0.0, 2.0)
    }
}

pub(crate) fn empty_histogram(lo: f64, hi: f64, bins: usize) -> Result<Histogram, Error> {
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
