//! Rayon versions of the reductions: same blocks, same combination order
//! (feature `parallel`).

use rayon::prelude::*;

use crate::BLOCK;
use crate::accurate::neumaier;
use crate::arch::Dispatch;
use crate::element::{Float, pick};
use crate::error::Error;
use crate::kernels::{Kernels, empty_histogram, same_len};
use crate::stats::{Histogram, Stats};

impl Kernels {
    /// [`sum`](Kernels::sum) over rayon's pool; bit-identical.
    pub fn par_sum<T: Float>(&self, x: &[T]) -> T {
        let parts: Vec<T> = x
            .par_chunks(BLOCK)
            .map(|c| Dispatch::sum(self.token(), c))
            .collect();
        parts.into_iter().fold(T::ZERO, |acc, p| acc + p)
    }

    /// [`sum_accurate`](Kernels::sum_accurate) over rayon's pool; bit-identical.
    pub fn par_sum_accurate<T: Float>(&self, x: &[T]) -> f64 {
        let parts: Vec<f64> = x
            .par_chunks(BLOCK)
            .map(|c| Dispatch::sum_accurate(self.token(), c))
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
            .map(|(x, y)| Dispatch::dot(self.token(), x, y))
            .collect();
        Ok(parts.into_iter().fold(T::ZERO, |acc, p| acc + p))
    }

    /// [`stats`](Kernels::stats) over rayon's pool; bit-identical.
    pub fn par_stats<T: Float>(&self, x: &[T]) -> Stats {
        let parts: Vec<Stats> = x
            .par_chunks(BLOCK)
            .map(|c| Dispatch::stats(self.token(), c))
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
            .map(|c| Dispatch::min(self.token(), c))
            .collect();
        (!x.is_empty()).then(|| parts.into_iter().fold(x[0], pick::<T, false>))
    }

    /// [`max`](Kernels::max) over rayon's pool.
    pub fn par_max<T: Float>(&self, x: &[T]) -> Option<T> {
        let parts: Vec<T> = x
            .par_chunks(BLOCK)
            .map(|c| Dispatch::max(self.token(), c))
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
                    Dispatch::histogram(self.token(), c, lo, hi, bins, &mut slots);
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
            .map(|c| Dispatch::count_above(self.token(), c, threshold))
            .sum()
    }
}
