//! The free functions: each kernel run by the process-wide kernels
//! ([`Kernels::global`]: the installed ones, else the best level of this
//! CPU).

use crate::element::Float;
use crate::error::Error;
use crate::kernels::Kernels;
use crate::stats::{Histogram, Stats};

macro_rules! free_fns {
    ($($(#[$doc:meta])* fn $name:ident<$t:ident: $bound:ident>($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<$t: $bound>($($arg: $ty),*) -> $ret {
                Kernels::global().$name($($arg),*)
            }
        )*
    };
}

free_fns! {
    /// [`Kernels::sum`] with the process-wide kernels.
    fn sum<T: Float>(x: &[T]) -> T;
    /// [`Kernels::sum_accurate`] with the process-wide kernels.
    fn sum_accurate<T: Float>(x: &[T]) -> f64;
    /// [`Kernels::dot`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn dot<T: Float>(a: &[T], b: &[T]) -> Result<T, Error>;
    /// [`Kernels::l1`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn l1<T: Float>(a: &[T], b: &[T]) -> Result<T, Error>;
    /// [`Kernels::l2_squared`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn l2_squared<T: Float>(a: &[T], b: &[T]) -> Result<T, Error>;
    /// [`Kernels::l2`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn l2<T: Float>(a: &[T], b: &[T]) -> Result<f64, Error>;
    /// [`Kernels::cosine_distance`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn cosine_distance<T: Float>(a: &[T], b: &[T]) -> Result<f64, Error>;
    /// [`Kernels::min`] with the process-wide kernels.
    fn min<T: Float>(x: &[T]) -> Option<T>;
    /// [`Kernels::max`] with the process-wide kernels.
    fn max<T: Float>(x: &[T]) -> Option<T>;
    /// [`Kernels::argmin`] with the process-wide kernels.
    fn argmin<T: Float>(x: &[T]) -> Option<usize>;
    /// [`Kernels::argmax`] with the process-wide kernels.
    fn argmax<T: Float>(x: &[T]) -> Option<usize>;
    /// [`Kernels::stats`] with the process-wide kernels.
    fn stats<T: Float>(x: &[T]) -> Stats;
    /// [`Kernels::histogram`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// As [`Kernels::histogram`].
    fn histogram<T: Float>(x: &[T], lo: f64, hi: f64, bins: usize) -> Result<Histogram, Error>;
    /// [`Kernels::count_above`] with the process-wide kernels.
    fn count_above<T: Float>(x: &[T], threshold: T) -> usize;
    /// [`Kernels::count_below`] with the process-wide kernels.
    fn count_below<T: Float>(x: &[T], threshold: T) -> usize;
    /// [`Kernels::axpy`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn axpy<T: Float>(a: T, x: &[T], y: &mut [T]) -> Result<(), Error>;
    /// [`Kernels::scale`] with the process-wide kernels.
    fn scale<T: Float>(a: T, x: &mut [T]) -> ();
    /// [`Kernels::add`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`].
    fn add<T: Float>(x: &[T], y: &mut [T]) -> Result<(), Error>;
    /// [`Kernels::clamp`] with the process-wide kernels.
    ///
    /// # Errors
    ///
    /// As [`Kernels::clamp`].
    fn clamp<T: Float>(x: &mut [T], lo: T, hi: T) -> Result<(), Error>;
}
