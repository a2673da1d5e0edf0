//! Coefficient types: `f64` for general models, `i64` for exact integer energies.

use std::fmt::{Debug, Display};

use crate::Error;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for i64 {}
}

/// A coefficient type of a [`Bqm`](crate::Bqm): `f64` or `i64`.
///
/// Integer models keep energies exact: every sum is checked and an overflow
/// is an [`Error::Overflow`], never a wrapped value. Samplers search in `f64`
/// (exact for integers below 2⁵³) and report energies recomputed in `T`.
pub trait Coefficient:
    Copy + Debug + Display + PartialOrd + Default + Send + Sync + 'static + sealed::Sealed
{
    /// Zero.
    const ZERO: Self;
    /// The value as `f64` (rounded for integers beyond 2⁵³).
    fn to_f64(self) -> f64;
    /// Checked addition (`None` on overflow, or a non-finite `f64` result).
    fn checked_add(self, other: Self) -> Option<Self>;
    /// Checked multiplication by a small integer.
    fn checked_scale(self, factor: i64) -> Option<Self>;
    /// Exact division by a small integer (`None` when `i64` leaves a remainder).
    fn divide_exact(self, divisor: i64) -> Option<Self>;
    /// Whether the value is finite (always true for integers).
    fn is_finite(self) -> bool;
    /// Negation (`None` on overflow).
    fn checked_neg(self) -> Option<Self>;
    /// Parses a decimal number (`None` when it is not one, or not finite).
    fn parse(text: &str) -> Option<Self>;
}

impl Coefficient for f64 {
    const ZERO: Self = 0.0;
    fn to_f64(self) -> f64 {
        self
    }
    fn checked_add(self, other: Self) -> Option<Self> {
        let r = self + other;
        r.is_finite().then_some(r)
    }
    fn checked_scale(self, factor: i64) -> Option<Self> {
        let r = self * factor as f64;
        r.is_finite().then_some(r)
    }
    fn divide_exact(self, divisor: i64) -> Option<Self> {
        Some(self / divisor as f64)
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    fn checked_neg(self) -> Option<Self> {
        Some(-self)
    }
    fn parse(text: &str) -> Option<Self> {
        text.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

impl Coefficient for i64 {
    const ZERO: Self = 0;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn checked_add(self, other: Self) -> Option<Self> {
        i64::checked_add(self, other)
    }
    fn checked_scale(self, factor: i64) -> Option<Self> {
        self.checked_mul(factor)
    }
    fn divide_exact(self, divisor: i64) -> Option<Self> {
        (divisor != 0 && self % divisor == 0).then(|| self / divisor)
    }
    fn is_finite(self) -> bool {
        true
    }
    fn checked_neg(self) -> Option<Self> {
        i64::checked_neg(self)
    }
    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// `a + b`, or the error for `what`.
pub(crate) fn add<T: Coefficient>(a: T, b: T, what: &'static str) -> Result<T, Error> {
    a.checked_add(b).ok_or(overflow::<T>(what))
}

/// The error for a failed checked operation: overflow for integers, a non-finite result for floats.
pub(crate) fn overflow<T: Coefficient>(what: &'static str) -> Error {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<i64>() {
        Error::Overflow { what }
    } else {
        Error::NonFiniteCoefficient {
            what: format!("the result of {what}"),
        }
    }
}
