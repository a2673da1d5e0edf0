//! The element types the exact algorithms accept.

use std::cmp::Ordering;

mod sealed {
    pub trait Sealed {}
}

/// A value type whose quantiles can be computed exactly: `f64`, `f32`,
/// `i64`, `u64`, `i32` and `u32`.
///
/// Floats are ordered by IEEE `<` once NaN has been dealt with by the
/// [`NanPolicy`](crate::NanPolicy); results are returned as `f64` (integers
/// are converted like numpy does before interpolating).
pub trait Sample: Copy + Send + Sync + PartialOrd + sealed::Sealed + 'static {
    /// Whether the value is NaN (always `false` for integers).
    fn is_nan(self) -> bool;
    /// The value as `f64`.
    fn to_f64(self) -> f64;
    /// A total order consistent with `<` on non-NaN values.
    fn total_cmp(&self, other: &Self) -> Ordering;
}

macro_rules! float_sample {
    ($t:ty) => {
        impl sealed::Sealed for $t {}
        impl Sample for $t {
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            #[inline(always)]
            fn total_cmp(&self, other: &Self) -> Ordering {
                <$t>::total_cmp(self, other)
            }
        }
    };
}

macro_rules! int_sample {
    ($t:ty) => {
        impl sealed::Sealed for $t {}
        impl Sample for $t {
            #[inline(always)]
            fn is_nan(self) -> bool {
                false
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn total_cmp(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
        }
    };
}

float_sample!(f64);
float_sample!(f32);
int_sample!(i64);
int_sample!(u64);
int_sample!(i32);
int_sample!(u32);
