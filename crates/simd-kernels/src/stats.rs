//! Mergeable one-pass statistics and the histogram result.

use crate::element::pick;

/// Count, sum, mean, variance, min and max of a slice, mergeable exactly in
/// the sense of Chan et al.: statistics of chunks (or threads) combine into
/// the statistics of the whole without revisiting the data.
///
/// NaN propagates: one NaN makes `sum`, `mean`, `variance`, `min` and `max`
/// NaN. Empty input gives `count == 0`, `sum == 0` and `None` for the rest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    count: u64,
    sum: f64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl Stats {
    /// The statistics of nothing.
    pub fn new() -> Stats {
        Stats {
            count: 0,
            sum: 0.0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    pub(crate) fn from_parts(
        count: u64,
        sum: f64,
        mean: f64,
        m2: f64,
        min: f64,
        max: f64,
    ) -> Stats {
        Stats {
            count,
            sum,
            mean,
            m2,
            min,
            max,
        }
    }

    /// Combines another chunk's statistics into these (Chan's parallel
    /// formula for the second moment).
    pub fn merge(&mut self, other: &Stats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * (nb / n);
        self.m2 += other.m2 + delta * delta * (na * nb / n);
        self.sum += other.sum;
        self.count += other.count;
        // NaN must win in both directions.
        self.min = pick::<f64, false>(self.min, other.min);
        self.max = pick::<f64, true>(self.max, other.max);
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the values (0 when empty).
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Arithmetic mean, `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then_some(self.mean)
    }

    /// Population variance (divides by `n`), `None` when empty.
    pub fn variance(&self) -> Option<f64> {
        (self.count > 0).then(|| self.m2 / self.count as f64)
    }

    /// Sample variance (divides by `n - 1`), `None` below two values.
    pub fn sample_variance(&self) -> Option<f64> {
        (self.count > 1).then(|| self.m2 / (self.count - 1) as f64)
    }

    /// Population standard deviation, `None` when empty.
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// Smallest value, `None` when empty. Values compare by value: when
    /// both `0.0` and `-0.0` occur, either may be returned.
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    /// Largest value, `None` when empty (either zero, as for [`Stats::min`]).
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }
}

/// Counts of values in equal-width bins over `[lo, hi]`, with the values
/// outside the range and the NaN counted separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    pub(crate) counts: Vec<u64>,
    pub(crate) underflow: u64,
    pub(crate) overflow: u64,
    pub(crate) nan: u64,
}

impl Histogram {
    /// Counts per bin; bin `i` holds `[lo + i w, lo + (i + 1) w)`, the last
    /// bin also holds `hi` (like numpy).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Values below `lo`.
    pub fn underflow(&self) -> u64 {
        self.underflow
    }

    /// Values above `hi`.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// NaN values.
    pub fn nan(&self) -> u64 {
        self.nan
    }

    /// Every value counted, in range or not.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.underflow + self.overflow + self.nan
    }

    /// Adds another histogram's counts (same range and bins assumed by the caller).
    pub(crate) fn absorb_slots(&mut self, slots: &[u64]) {
        let bins = self.counts.len();
        self.underflow += slots[0];
        for (c, s) in self.counts.iter_mut().zip(&slots[1..=bins]) {
            *c += s;
        }
        self.overflow += slots[bins + 1];
        self.nan += slots[bins + 2];
    }
}
