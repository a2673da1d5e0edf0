//! The crate's one error type.

use std::fmt;

use crate::Level;

/// What went wrong; every message says what was wrong, then what to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A binary kernel got slices of different lengths.
    LengthMismatch {
        /// Length of the first slice.
        left: usize,
        /// Length of the second slice.
        right: usize,
    },
    /// A histogram with zero bins.
    ZeroBins,
    /// A histogram with more bins than [`MAX_BINS`](crate::MAX_BINS);
    /// refused before its counts are allocated.
    TooManyBins {
        /// The bins asked for.
        bins: usize,
        /// The most bins accepted.
        limit: usize,
    },
    /// A histogram or clamp range that is NaN, infinite or inverted.
    InvalidRange {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
    /// The requested dispatch level is not supported by this CPU or build.
    UnsupportedLevel {
        /// The level asked for.
        level: Level,
    },
    /// `NOVACRON_SIMD` names no known level.
    UnknownLevel {
        /// The value given.
        name: String,
    },
    /// [`Kernels::install`](crate::Kernels::install) came after the
    /// process-wide kernels were fixed at another level.
    AlreadyInstalled {
        /// The level the free functions run at.
        installed: Level,
        /// The level asked for.
        requested: Level,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LengthMismatch { left, right } => write!(
                f,
                "slices differ in length ({left} vs {right}); pass two slices of the same length"
            ),
            Error::ZeroBins => write!(f, "a histogram needs at least one bin; pass bins >= 1"),
            Error::TooManyBins { bins, limit } => write!(
                f,
                "{bins} bins exceed the limit of {limit}; pass fewer bins or aggregate coarser"
            ),
            Error::InvalidRange { lo, hi } => write!(
                f,
                "range [{lo}, {hi}] is invalid; pass finite bounds with lo < hi (lo <= hi for clamp)"
            ),
            Error::UnsupportedLevel { level } => write!(
                f,
                "dispatch level {level} is not supported on this CPU or build; pick one from Level::available()"
            ),
            Error::UnknownLevel { name } => write!(
                f,
                "unknown SIMD level `{name}`; use one of portable, avx2, avx512, neon"
            ),
            Error::AlreadyInstalled {
                installed,
                requested,
            } => write!(
                f,
                "the free functions already run at {installed}, so {requested} cannot be \
                 installed; call Kernels::install once, before the first free-function call"
            ),
        }
    }
}

impl std::error::Error for Error {}
