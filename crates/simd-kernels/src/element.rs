//! The element types the kernels accept.

use std::fmt::Debug;
use std::ops::{Add, Mul, Sub};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for i64 {}
    impl Sealed for u64 {}
}

/// `f32` or `f64`: the element types of the float kernels.
pub trait Float:
    Copy
    + Send
    + Sync
    + Debug
    + PartialOrd
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + sealed::Sealed
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Whether the value is NaN.
    fn is_nan(self) -> bool;
    /// `self * a + b`, fused when `FMA` is true (one rounding), else two roundings.
    #[doc(hidden)]
    fn mul_add_if<const FMA: bool>(self, a: Self, b: Self) -> Self;
    /// Sum of a block with an accurate accumulator (see [`Kernels::sum_accurate`](crate::Kernels::sum_accurate)).
    #[doc(hidden)]
    fn sum_accurate_block(x: &[Self]) -> f64;
}

macro_rules! float {
    ($t:ty, $accurate:ident) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn mul_add_if<const FMA: bool>(self, a: Self, b: Self) -> Self {
                if FMA {
                    <$t>::mul_add(self, a, b)
                } else {
                    self * a + b
                }
            }
            #[inline(always)]
            fn sum_accurate_block(x: &[Self]) -> f64 {
                crate::accurate::$accurate(x)
            }
        }
    };
}

// f32 sums exactly widened to f64 lanes; f64 sums with Neumaier compensation.
float!(f32, sum_widened);
float!(f64, sum_neumaier);

/// `i64` or `u64`: the element types of the integer reductions.
pub trait Int: Copy + Send + Sync + Debug + Ord + sealed::Sealed + 'static {
    /// Widens to `i128` (exact).
    fn to_i128(self) -> i128;
}

impl Int for i64 {
    #[inline(always)]
    fn to_i128(self) -> i128 {
        i128::from(self)
    }
}

impl Int for u64 {
    #[inline(always)]
    fn to_i128(self) -> i128 {
        i128::from(self)
    }
}

/// Combines two partial extremes; NaN wins.
pub(crate) fn pick<T: Float, const MAX: bool>(a: T, b: T) -> T {
    if a.is_nan() {
        a
    } else if b.is_nan() || (if MAX { b > a } else { b < a }) {
        b
    } else {
        a
    }
}
