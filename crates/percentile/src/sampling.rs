//! Quantile estimates from a uniform random sample, with rank confidence
//! intervals: for inputs too large to hold or to scan twice.

use rand::{Rng, RngExt, SeedableRng};

use crate::exact::validate_fractions;
use crate::{Error, Method};

/// A quantile estimated from a sample of `k` values, with the 95 % confidence
/// interval of the true rank of the estimate (normal approximation of the
/// binomial: `q ± 1.96 sqrt(q (1 - q) / k)`), both as fractions and as the
/// sample values bounding it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The requested fraction.
    pub q: f64,
    /// The estimate (`linear` quantile of the sample).
    pub value: f64,
    /// Lower end of the 95 % rank interval, as a fraction of the population.
    pub rank_lo: f64,
    /// Upper end of the 95 % rank interval.
    pub rank_hi: f64,
    /// Sample value at `rank_lo`: the true quantile lies above it with about 97.5 % confidence.
    pub value_lo: f64,
    /// Sample value at `rank_hi`.
    pub value_hi: f64,
}

/// A fixed-size uniform sample of a stream (Vitter's Algorithm L: after the
/// reservoir fills, it draws how many items to skip rather than one random
/// number per item, so most items cost one comparison).
///
/// ```
/// use novacron_percentile::Reservoir;
/// let mut r = Reservoir::new(1000, 7)?;
/// r.extend((0..1_000_000).map(|i| i as f64));
/// let est = r.estimate(&[0.5])?;
/// assert!(est[0].rank_lo < 0.5 && 0.5 < est[0].rank_hi);
/// assert!((est[0].value - 500_000.0).abs() < 60_000.0);
/// # Ok::<(), novacron_percentile::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Reservoir {
    k: usize,
    items: Vec<f64>,
    seen: u64,
    next_take: u64,
    w: f64,
    rng: rand::rngs::Xoshiro256PlusPlus,
}

impl Reservoir {
    /// A reservoir of `k` items whose random choices come from `seed`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when `k` is 0.
    pub fn new(k: usize, seed: u64) -> Result<Reservoir, Error> {
        if k == 0 {
            return Err(Error::InvalidParameter {
                name: "reservoir size k",
                allowed: "at least 1",
            });
        }
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
        let w = (unit_open(&mut rng).ln() / k as f64).exp();
        Ok(Reservoir {
            k,
            // Grown as values arrive: `k` may be far more than the stream holds.
            items: Vec::with_capacity(k.min(4096)),
            seen: 0,
            next_take: 0,
            w,
            rng,
        })
    }

    /// Offers one value to the sample. NaN is skipped.
    pub fn push(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        if self.items.len() < self.k {
            self.items.push(x);
            self.seen += 1;
            if self.items.len() == self.k {
                self.schedule_next();
            }
            return;
        }
        if self.seen == self.next_take {
            let slot = self.rng.random_range(0..self.k);
            self.items[slot] = x;
            self.w *= (unit_open(&mut self.rng).ln() / self.k as f64).exp();
            self.seen += 1;
            self.schedule_next();
        } else {
            self.seen += 1;
        }
    }

    fn schedule_next(&mut self) {
        let skip = (unit_open(&mut self.rng).ln() / (1.0 - self.w).ln()).floor();
        let skip = if skip.is_finite() && skip >= 0.0 {
            skip.min(u64::MAX as f64 / 2.0) as u64
        } else {
            0
        };
        self.next_take = self.seen.saturating_add(skip);
    }

    /// Number of values offered so far (NaN excluded).
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The current sample.
    pub fn sample(&self) -> &[f64] {
        &self.items
    }

    /// Estimates of the quantiles `qs` with their 95 % rank intervals.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyInput`] before any value was pushed; invalid quantiles.
    pub fn estimate(&self, qs: &[f64]) -> Result<Vec<Estimate>, Error> {
        estimate_from_sample(self.items.clone(), qs)
    }
}

impl Extend<f64> for Reservoir {
    fn extend<I: IntoIterator<Item = f64>>(&mut self, iter: I) {
        for x in iter {
            self.push(x);
        }
    }
}

/// The largest sample [`sample_quantiles`] draws from a slice shorter than it.
pub const MAX_SAMPLE: usize = 1 << 20;

/// Estimates quantiles of a slice from `k` values drawn at random indices
/// (with replacement): `O(k log k)` whatever the slice's length, no pass over
/// the data. NaN draws are skipped.
///
/// # Errors
///
/// [`Error::EmptyInput`], [`Error::InvalidParameter`] for `k = 0`,
/// [`Error::TooLarge`] when `k` exceeds both the slice's length and
/// [`MAX_SAMPLE`], invalid quantiles.
pub fn sample_quantiles(
    data: &[f64],
    k: usize,
    qs: &[f64],
    seed: u64,
) -> Result<Vec<Estimate>, Error> {
    if k == 0 {
        return Err(Error::InvalidParameter {
            name: "sample size k",
            allowed: "at least 1",
        });
    }
    if data.is_empty() {
        return Err(Error::EmptyInput);
    }
    // A sample larger than the data (with replacement) is allowed up to a
    // point; beyond it the caller wants the exact quantiles instead.
    let limit = data.len().max(MAX_SAMPLE);
    if k > limit {
        return Err(Error::TooLarge {
            what: "the sample size k",
            size: k as u64,
            limit: limit as u64,
        });
    }
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
    let sample: Vec<f64> = (0..k)
        .map(|_| data[rng.random_range(0..data.len())])
        .filter(|x| !x.is_nan())
        .collect();
    estimate_from_sample(sample, qs)
}

fn estimate_from_sample(mut sample: Vec<f64>, qs: &[f64]) -> Result<Vec<Estimate>, Error> {
    validate_fractions(qs, qs.len())?;
    if sample.is_empty() {
        return Err(Error::EmptyInput);
    }
    sample.sort_unstable_by(f64::total_cmp);
    let k = sample.len() as f64;
    let at = |f: f64| {
        Method::Linear
            .pick(sample.len(), f.clamp(0.0, 1.0))
            .eval(|r| sample[r])
    };
    Ok(qs
        .iter()
        .map(|&q| {
            let half = 1.96 * (q * (1.0 - q) / k).sqrt();
            let (rank_lo, rank_hi) = ((q - half).max(0.0), (q + half).min(1.0));
            Estimate {
                q,
                value: at(q),
                rank_lo,
                rank_hi,
                value_lo: at(rank_lo),
                value_hi: at(rank_hi),
            }
        })
        .collect())
}

/// A uniform draw in (0, 1], never 0 so that its logarithm is finite.
fn unit_open(rng: &mut impl Rng) -> f64 {
    1.0 - rng.random::<f64>()
}
