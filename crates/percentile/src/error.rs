//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong; every message says what was wrong, then what to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The input holds no values (or only NaN under [`NanPolicy::Omit`](crate::NanPolicy::Omit)).
    EmptyInput,
    /// No quantiles were requested.
    NoQuantiles,
    /// A fraction `q` outside `[0, 1]`.
    QuantileOutOfRange {
        /// The offending value.
        q: f64,
    },
    /// A percent `p` outside `[0, 100]`.
    PercentOutOfRange {
        /// The offending value.
        p: f64,
    },
    /// A quantile or percent that is NaN or infinite.
    NonFiniteQuantile {
        /// The offending value.
        q: f64,
    },
    /// The data holds NaN and the policy is [`NanPolicy::Error`](crate::NanPolicy::Error).
    NanInData {
        /// Index of the first NaN.
        index: usize,
    },
    /// `values` and `weights` differ in length.
    LengthMismatch {
        /// Number of values.
        values: usize,
        /// Number of weights.
        weights: usize,
    },
    /// A weight is negative, NaN or infinite.
    InvalidWeight {
        /// Index of the weight.
        index: usize,
        /// Its value.
        weight: f64,
    },
    /// Every weight is zero, so no value carries any mass.
    ZeroTotalWeight,
    /// The output slice does not match the number of quantiles.
    OutputLength {
        /// Number of quantiles asked.
        expected: usize,
        /// Length of the output slice.
        got: usize,
    },
    /// A sketch's relative accuracy outside `(0, 1)`.
    InvalidAlpha {
        /// The offending value.
        alpha: f64,
    },
    /// A sketch parameter (bucket limit, KLL `k`, reservoir size) out of range.
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// What is allowed.
        allowed: &'static str,
    },
    /// Two sketches with different parameters cannot be merged.
    IncompatibleSketches {
        /// What differs.
        detail: String,
    },
    /// A method name that is not one of numpy's 13.
    UnknownMethod {
        /// The name given.
        name: String,
    },
    /// A serialized sketch whose fields contradict each other.
    CorruptSketch {
        /// What is inconsistent.
        detail: String,
    },
    /// Merging would count more than `u64::MAX` values (only sketches read
    /// back from storage can get there).
    CountOverflow,
    /// Weights whose total is not a finite `f64` even after rescaling.
    NonFiniteTotalWeight,
    /// A size that would allocate far more than the input justifies;
    /// refused before anything is allocated.
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The size asked for.
        size: u64,
        /// The largest size accepted.
        limit: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyInput => write!(
                f,
                "the input holds no values; pass at least one non-NaN value"
            ),
            Error::NoQuantiles => write!(
                f,
                "no quantiles were requested; pass at least one, such as 0.5"
            ),
            Error::QuantileOutOfRange { q } if *q > 1.0 && *q <= 100.0 => write!(
                f,
                "quantile {q} is outside [0, 1]; pass a fraction such as {} or use the percent API",
                q / 100.0
            ),
            Error::QuantileOutOfRange { q } => {
                write!(
                    f,
                    "quantile {q} is outside [0, 1]; pass a fraction such as 0.99"
                )
            }
            Error::PercentOutOfRange { p } => {
                write!(
                    f,
                    "percentile {p} is outside [0, 100]; pass a percent such as 99"
                )
            }
            Error::NonFiniteQuantile { q } => {
                write!(
                    f,
                    "quantile {q} is not a finite number; pass a fraction in [0, 1]"
                )
            }
            Error::NanInData { index } => write!(
                f,
                "the data holds NaN (first at index {index}); drop it or choose NanPolicy::Omit or NanPolicy::Propagate"
            ),
            Error::LengthMismatch { values, weights } => write!(
                f,
                "{values} values but {weights} weights; pass exactly one weight per value"
            ),
            Error::InvalidWeight { index, weight } => write!(
                f,
                "weight {weight} at index {index} is invalid; weights must be finite and non-negative"
            ),
            Error::ZeroTotalWeight => {
                write!(
                    f,
                    "every weight is zero; give at least one value a positive weight"
                )
            }
            Error::OutputLength { expected, got } => write!(
                f,
                "the output slice holds {got} values but {expected} quantiles were asked; pass one slot per quantile"
            ),
            Error::InvalidAlpha { alpha } => write!(
                f,
                "relative accuracy {alpha} is outside (0, 1); pass a fraction such as 0.01 for 1 %"
            ),
            Error::InvalidParameter { name, allowed } => {
                write!(f, "{name} is out of range; it must be {allowed}")
            }
            Error::IncompatibleSketches { detail } => write!(
                f,
                "cannot merge sketches with different parameters ({detail}); build both with the same configuration"
            ),
            Error::UnknownMethod { name } => write!(
                f,
                "unknown method `{name}`; use one of numpy's names such as linear, lower, higher, nearest, midpoint, \
                 inverted_cdf, averaged_inverted_cdf, closest_observation, interpolated_inverted_cdf, hazen, weibull, \
                 median_unbiased or normal_unbiased"
            ),
            Error::CorruptSketch { detail } => write!(
                f,
                "the serialized sketch is inconsistent ({detail}); serialize it again from a live sketch"
            ),
            Error::CountOverflow => write!(
                f,
                "the merged sketch would count more than u64::MAX values; merge into separate sketches"
            ),
            Error::TooLarge { what, size, limit } => write!(
                f,
                "{what} is {size}, above the limit of {limit}; pass a smaller size"
            ),
            Error::NonFiniteTotalWeight => write!(
                f,
                "the weights do not sum to a finite number; pass finite weights with a representable total"
            ),
        }
    }
}

impl std::error::Error for Error {}
