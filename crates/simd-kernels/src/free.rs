//! The free functions: each kernel at the best level of this CPU
//! ([`Kernels::best`], decided once per process).

use crate::element::Float;
use crate::error::Error;
use crate::kernels::Kernels;
use crate::stats::{Histogram, Stats};

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
