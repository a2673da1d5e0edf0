//! A mergeable relative-error quantile sketch (DDSketch family).

use crate::Error;
use crate::exact::validate_fraction;

/// Mantissa bits of an `f64`.
const MANTISSA_MASK: u64 = (1 << 52) - 1;
/// Bits of `1.0`: exponent 0, mantissa 0.
const ONE_BITS: u64 = 0x3FF0_0000_0000_0000;

/// A streaming quantile sketch whose every answer is within relative error
/// `alpha` of the exact order statistic (the `lower` definition), whatever
/// the distribution — heavy tails included — in bounded memory, mergeable
/// exactly (bucket counts add, so merging is associative and commutative).
///
/// Values map to logarithmic buckets. The bucket index comes from the
/// float's bits — exponent plus mantissa fraction, a piecewise-linear log2 —
/// rather than a call to `ln`, which makes inserts several times cheaper; the
/// buckets are then at most `ln γ` wide in log space (`γ = (1+α)/(1−α)`),
/// which is what the guarantee needs, at the price of about 1.44× more
/// buckets than an exact log mapping.
///
/// - Negative values live in a mirrored store; zero and subnormal magnitudes
///   (below `f64::MIN_POSITIVE`) in a counter whose value is `0.0` (so the
///   relative bound does not cover subnormals); ±∞ in counters of their own; NaN is
///   skipped and counted ([`nan_count`](Self::nan_count)).
/// - Each store keeps at most `max_buckets` buckets (default 4096: about
///   `4096 ln γ` octaves, so values spanning a ratio of 1e24 at α = 1 %, or
///   2 octaves per 1000 buckets at α = 0.1 %). Beyond that the buckets of the
///   smallest magnitudes are collapsed together and
///   [`is_collapsed`](Self::is_collapsed) turns true: the guarantee then holds
///   for every quantile whose value lies above the collapsed range.
/// - `count`, `min` and `max` are exact, and so are the quantiles at `q = 0`
///   and `q = 1`; `sum` is a running `f64` sum (see [`sum`](Self::sum)).
///
/// ```
/// use novacron_percentile::DDSketch;
/// let mut s = DDSketch::new(0.01)?;
/// s.insert_many(&[1.0, 2.0, 3.0, 4.0, 1000.0]);
/// let p50 = s.quantile(0.5)?;
/// assert!((p50 - 3.0).abs() <= 0.01 * 3.0);
/// assert_eq!(s.max(), Some(1000.0));
/// # Ok::<(), novacron_percentile::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "DDSketchRepr", into = "DDSketchRepr")
)]
pub struct DDSketch {
    alpha: f64,
    multiplier: f64,
    max_buckets: usize,
    positive: Store,
    negative: Store,
    zero_count: u64,
    pos_inf: u64,
    neg_inf: u64,
    nan_count: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

/// Dense bucket counts for indexes `offset .. offset + counts.len()`.
#[derive(Debug, Clone, PartialEq, Default)]
struct Store {
    offset: i32,
    counts: Vec<u64>,
    collapsed: bool,
}

impl Store {
    #[inline(always)]
    fn add(&mut self, idx: i32, n: u64, max_buckets: usize) {
        let pos = idx.wrapping_sub(self.offset);
        if pos >= 0 && (pos as usize) < self.counts.len() {
            let c = &mut self.counts[pos as usize];
            *c = c.saturating_add(n);
        } else {
            self.add_slow(idx, n, max_buckets);
        }
    }

    #[cold]
    fn add_slow(&mut self, idx: i32, n: u64, max_buckets: usize) {
        if self.counts.is_empty() {
            // Leave room on both sides: neighbouring values follow.
            let len = 65.min(max_buckets);
            self.offset = idx - (len / 2) as i32;
            self.counts = vec![0; len];
            self.counts[(idx - self.offset) as usize] = n;
            return;
        }
        if idx < self.offset {
            if self.collapsed && self.counts.len() >= max_buckets {
                self.counts[0] = self.counts[0].saturating_add(n); // below the collapsed floor
                return;
            }
            let grow = ((self.offset - idx) as usize)
                .max(self.counts.len() / 2)
                .max(16);
            let mut counts = vec![0; grow];
            counts.extend_from_slice(&self.counts);
            self.counts = counts;
            self.offset -= grow as i32;
        } else {
            let need = (idx - self.offset) as usize + 1;
            let new_len = need.max(self.counts.len() + self.counts.len() / 2).max(16);
            self.counts.resize(new_len, 0);
        }
        let c = &mut self.counts[(idx - self.offset) as usize];
        *c = c.saturating_add(n);
        self.trim(max_buckets);
    }

    /// Drops empty buckets at the ends, then collapses the lowest buckets
    /// until at most `max_buckets` remain.
    fn trim(&mut self, max_buckets: usize) {
        let first = self.counts.iter().position(|&c| c != 0);
        let Some(first) = first else {
            self.counts.clear();
            return;
        };
        let last = self.counts.iter().rposition(|&c| c != 0).unwrap_or(first);
        let span = last - first + 1;
        if span <= max_buckets {
            if self.counts.len() > max_buckets {
                // Keep only what is used, plus room for growth within the cap.
                let keep_end = (first + max_buckets).min(self.counts.len());
                self.counts.truncate(keep_end);
                self.counts.drain(..first);
                self.offset += first as i32;
            }
            return;
        }
        // Collapse: everything below the lowest kept bucket joins it.
        let new_first = last + 1 - max_buckets;
        let folded = self.counts[first..new_first]
            .iter()
            .fold(0u64, |a, &c| a.saturating_add(c));
        self.counts.truncate(last + 1);
        self.counts.drain(..new_first);
        self.counts[0] = self.counts[0].saturating_add(folded);
        self.offset += new_first as i32;
        self.collapsed = true;
    }

    fn merge(&mut self, other: &Store, max_buckets: usize) {
        self.collapsed |= other.collapsed;
        let Some(first) = other.counts.iter().position(|&c| c != 0) else {
            return;
        };
        let last = other.counts.iter().rposition(|&c| c != 0).unwrap_or(first);
        let (lo, hi) = (other.offset + first as i32, other.offset + last as i32);
        // Grow once to cover both ranges, then add the counts slice to slice.
        if self.counts.is_empty() {
            self.offset = lo;
            self.counts = vec![0; (hi - lo) as usize + 1];
        } else {
            if lo < self.offset {
                let grow = (self.offset - lo) as usize;
                self.counts.splice(0..0, std::iter::repeat_n(0, grow));
                self.offset = lo;
            }
            let end = (hi - self.offset) as usize + 1;
            if end > self.counts.len() {
                self.counts.resize(end, 0);
            }
        }
        let start = (lo - self.offset) as usize;
        let dst = &mut self.counts[start..start + (last - first + 1)];
        for (d, &c) in dst.iter_mut().zip(&other.counts[first..=last]) {
            // Cannot saturate: the merge checked the total count first.
            *d = d.saturating_add(c);
        }
        if self.counts.len() > max_buckets {
            self.trim(max_buckets);
        }
    }
}

impl DDSketch {
    /// A sketch with relative accuracy `alpha` (such as 0.01 for 1 %) and the
    /// default bucket limit of 4096 per sign.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAlpha`] unless `0 < alpha < 1`.
    pub fn new(alpha: f64) -> Result<DDSketch, Error> {
        DDSketch::with_max_buckets(alpha, 4096)
    }

    /// A sketch with relative accuracy `alpha` keeping at most `max_buckets`
    /// buckets for each sign.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAlpha`] unless `0 < alpha < 1`;
    /// [`Error::InvalidParameter`] unless `16 <= max_buckets <= 1 << 20`.
    pub fn with_max_buckets(alpha: f64, max_buckets: usize) -> Result<DDSketch, Error> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(Error::InvalidAlpha { alpha });
        }
        if !(16..=1 << 20).contains(&max_buckets) {
            return Err(Error::InvalidParameter {
                name: "max_buckets",
                allowed: "between 16 and 1048576",
            });
        }
        let gamma = (1.0 + alpha) / (1.0 - alpha);
        // Slightly narrower buckets than ln γ, so that rounding in the index
        // computation can never push an error past alpha.
        let multiplier = (1.0 + 1e-9) / gamma.ln();
        if !multiplier.is_finite() || multiplier * 1100.0 > i32::MAX as f64 / 2.0 {
            return Err(Error::InvalidAlpha { alpha });
        }
        Ok(DDSketch {
            alpha,
            multiplier,
            max_buckets,
            positive: Store::default(),
            negative: Store::default(),
            zero_count: 0,
            pos_inf: 0,
            neg_inf: 0,
            nan_count: 0,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        })
    }

    /// The relative accuracy.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The bucket limit per sign.
    pub fn max_buckets(&self) -> usize {
        self.max_buckets
    }

    /// Bucket index of a positive normal magnitude.
    #[inline(always)]
    fn index(&self, magnitude: f64) -> i32 {
        let bits = magnitude.to_bits();
        let exponent = ((bits >> 52) as i32) - 1023;
        let fraction = f64::from_bits((bits & MANTISSA_MASK) | ONE_BITS) - 1.0;
        floor_i32((f64::from(exponent) + fraction) * self.multiplier)
    }

    /// Representative value of a bucket: the harmonic mean of its bounds,
    /// within `alpha` of everything in it.
    fn value(&self, idx: i32) -> f64 {
        let y_lo = f64::from(idx) / self.multiplier;
        let y_hi = f64::from(idx + 1) / self.multiplier;
        // 2·lo·hi / (lo + hi) without forming lo·hi or lo + hi, which
        // overflow above ~1e154 and underflow below ~1e-160. The ratio of the
        // bounds comes from bounds scaled by 1/4 at the top of the range, where
        // `hi` itself may pass f64::MAX (a result past it is clamped to the
        // exact max by the caller).
        let shift = if y_hi > 512.0 { 2.0 } else { 0.0 };
        let ratio = log2_inverse(y_lo - shift) / log2_inverse(y_hi - shift);
        log2_inverse(y_lo) * (2.0 / (1.0 + ratio))
    }

    /// Adds one value.
    #[inline]
    pub fn insert(&mut self, x: f64) {
        if x.is_nan() {
            self.nan_count = self.nan_count.saturating_add(1);
            return;
        }
        // Saturating: a deserialized sketch may already hold u64::MAX values.
        self.count = self.count.saturating_add(1);
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.bucket(x);
    }

    #[inline(always)]
    fn bucket(&mut self, x: f64) {
        let m = x.abs();
        if m >= f64::MIN_POSITIVE && m.is_finite() {
            let idx = self.index(m);
            if x > 0.0 {
                self.positive.add(idx, 1, self.max_buckets);
            } else {
                self.negative.add(idx, 1, self.max_buckets);
            }
        } else if m.is_infinite() {
            if x > 0.0 {
                self.pos_inf = self.pos_inf.saturating_add(1);
            } else {
                self.neg_inf = self.neg_inf.saturating_add(1);
            }
        } else {
            self.zero_count = self.zero_count.saturating_add(1);
        }
    }

    /// Adds every value of a slice.
    pub fn insert_many(&mut self, values: &[f64]) {
        for &x in values {
            self.insert(x);
        }
    }

    /// Adds every value of an iterator.
    pub fn extend<I: IntoIterator<Item = f64>>(&mut self, values: I) {
        for x in values {
            self.insert(x);
        }
    }

    /// Number of values inserted (NaN excluded).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of NaN values skipped.
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }

    /// Sum of the inserted values (`0.0` when empty), accumulated in plain
    /// `f64` as they arrive: it carries the rounding of one addition per
    /// value, is `±inf` once an infinity (or an overflow) is inserted and NaN
    /// once both infinities are.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Exact smallest value, `None` when empty.
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    /// Exact largest value, `None` when empty.
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// Whether buckets had to be collapsed to respect the bucket limit.
    pub fn is_collapsed(&self) -> bool {
        self.positive.collapsed || self.negative.collapsed
    }

    /// Whether no value was inserted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Removes every value, keeping the parameters and the allocated buckets.
    pub fn clear(&mut self) {
        for store in [&mut self.positive, &mut self.negative] {
            store.counts.fill(0);
            store.collapsed = false;
        }
        self.zero_count = 0;
        self.pos_inf = 0;
        self.neg_inf = 0;
        self.nan_count = 0;
        self.count = 0;
        self.sum = 0.0;
        self.min = f64::INFINITY;
        self.max = f64::NEG_INFINITY;
    }

    /// Bytes held by the sketch, buckets included.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + (self.positive.counts.capacity() + self.negative.counts.capacity())
                * std::mem::size_of::<u64>()
    }

    /// Number of buckets in use (non-empty), both signs.
    pub fn bucket_count(&self) -> usize {
        self.positive
            .counts
            .iter()
            .chain(&self.negative.counts)
            .filter(|&&c| c != 0)
            .count()
    }

    /// Adds another sketch's values to this one.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatibleSketches`] when `alpha` or `max_buckets` differ;
    /// [`Error::CountOverflow`] when the two counts together pass `u64::MAX`
    /// (possible only with deserialized sketches). On error `self` is unchanged.
    pub fn merge(&mut self, other: &DDSketch) -> Result<(), Error> {
        if self.alpha != other.alpha || self.max_buckets != other.max_buckets {
            return Err(Error::IncompatibleSketches {
                detail: format!(
                    "alpha {} vs {}, max_buckets {} vs {}",
                    self.alpha, other.alpha, self.max_buckets, other.max_buckets
                ),
            });
        }
        // Every other counter is part of `count` or of `nan_count`.
        if self.count.checked_add(other.count).is_none()
            || self.nan_count.checked_add(other.nan_count).is_none()
        {
            return Err(Error::CountOverflow);
        }
        self.positive.merge(&other.positive, self.max_buckets);
        self.negative.merge(&other.negative, self.max_buckets);
        self.zero_count += other.zero_count;
        self.pos_inf += other.pos_inf;
        self.neg_inf += other.neg_inf;
        self.nan_count += other.nan_count;
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        Ok(())
    }

    /// The value at fraction `q`: within `alpha` (relative) of the exact
    /// order statistic at rank `floor(q (count - 1))`, numpy's `lower`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyInput`] when empty; [`Error::QuantileOutOfRange`] or
    /// [`Error::NonFiniteQuantile`] for a bad `q`.
    pub fn quantile(&self, q: f64) -> Result<f64, Error> {
        let mut out = [0.0];
        self.quantiles_into(&[q], &mut out)?;
        Ok(out[0])
    }

    /// Several quantiles in one walk over the buckets.
    ///
    /// # Errors
    ///
    /// As [`quantile`](Self::quantile).
    pub fn quantiles(&self, qs: &[f64]) -> Result<Vec<f64>, Error> {
        let mut out = vec![0.0; qs.len()];
        self.quantiles_into(qs, &mut out)?;
        Ok(out)
    }

    fn quantiles_into(&self, qs: &[f64], out: &mut [f64]) -> Result<(), Error> {
        crate::exact::validate_fractions(qs, out.len())?;
        if self.count == 0 {
            return Err(Error::EmptyInput);
        }
        let mut order: Vec<usize> = (0..qs.len()).collect();
        order.sort_by(|&a, &b| qs[a].total_cmp(&qs[b]));
        let last_rank = self.count - 1;
        let mut walker = Walker {
            sketch: self,
            seen: 0,
            stage: 0,
            pos: 0,
        };
        for i in order {
            validate_fraction(qs[i])?;
            let rank = ((qs[i] * last_rank as f64).floor() as u64).min(last_rank);
            // The extremes are stored exactly: the first and last ranks are them.
            out[i] = if rank == 0 {
                self.min
            } else if rank == last_rank {
                self.max
            } else {
                walker.value_at_rank(rank).clamp(self.min, self.max)
            };
        }
        Ok(())
    }
}

/// Walks the buckets in value order, remembering where it stopped so that
/// ascending ranks cost one pass in all.
struct Walker<'a> {
    sketch: &'a DDSketch,
    /// Cumulative count before the current bucket.
    seen: u64,
    /// 0: -inf, 1: negative store (descending index), 2: zero, 3: positive store, 4: +inf.
    stage: u8,
    /// Position within the current store.
    pos: usize,
}

impl Walker<'_> {
    fn value_at_rank(&mut self, rank: u64) -> f64 {
        let s = self.sketch;
        loop {
            match self.stage {
                0 => {
                    if rank < self.seen + s.neg_inf {
                        return f64::NEG_INFINITY;
                    }
                    self.seen += s.neg_inf;
                    self.stage = 1;
                    self.pos = s.negative.counts.len();
                }
                1 => {
                    while self.pos > 0 {
                        let c = s.negative.counts[self.pos - 1];
                        if rank < self.seen + c {
                            return -s.value(s.negative.offset + (self.pos - 1) as i32);
                        }
                        self.seen += c;
                        self.pos -= 1;
                    }
                    self.stage = 2;
                }
                2 => {
                    if rank < self.seen + s.zero_count {
                        return 0.0;
                    }
                    self.seen += s.zero_count;
                    self.stage = 3;
                    self.pos = 0;
                }
                3 => {
                    while self.pos < s.positive.counts.len() {
                        let c = s.positive.counts[self.pos];
                        if rank < self.seen + c {
                            return s.value(s.positive.offset + self.pos as i32);
                        }
                        self.seen += c;
                        self.pos += 1;
                    }
                    self.stage = 4;
                }
                _ => return f64::INFINITY,
            }
        }
    }
}

/// `floor` for values well inside the `i32` range, without the libm call that
/// `f64::floor` compiles to on baseline x86_64 (no SSE4.1 `roundsd`).
#[inline(always)]
fn floor_i32(v: f64) -> i32 {
    let t = v as i32;
    t - i32::from(f64::from(t) > v)
}

/// Inverse of the piecewise-linear log2: `2^floor(y) (1 + frac(y))`.
fn log2_inverse(y: f64) -> f64 {
    let e = y.floor();
    let frac = y - e;
    (1.0 + frac) * 2f64.powi(e as i32)
}

/// The serialized form: parameters, the two stores and the exact counters.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct DDSketchRepr {
    alpha: f64,
    max_buckets: usize,
    positive_offset: i32,
    positive_counts: Vec<u64>,
    positive_collapsed: bool,
    negative_offset: i32,
    negative_counts: Vec<u64>,
    negative_collapsed: bool,
    zero_count: u64,
    pos_inf: u64,
    neg_inf: u64,
    nan_count: u64,
    count: u64,
    #[serde(with = "crate::float_serde")]
    sum: f64,
    #[serde(with = "crate::float_serde")]
    min: f64,
    #[serde(with = "crate::float_serde")]
    max: f64,
}

#[cfg(feature = "serde")]
impl From<DDSketch> for DDSketchRepr {
    fn from(s: DDSketch) -> Self {
        DDSketchRepr {
            alpha: s.alpha,
            max_buckets: s.max_buckets,
            positive_offset: s.positive.offset,
            positive_counts: s.positive.counts,
            positive_collapsed: s.positive.collapsed,
            negative_offset: s.negative.offset,
            negative_counts: s.negative.counts,
            negative_collapsed: s.negative.collapsed,
            zero_count: s.zero_count,
            pos_inf: s.pos_inf,
            neg_inf: s.neg_inf,
            nan_count: s.nan_count,
            count: s.count,
            sum: s.sum,
            min: s.min,
            max: s.max,
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<DDSketchRepr> for DDSketch {
    type Error = Error;

    fn try_from(r: DDSketchRepr) -> Result<Self, Error> {
        let mut s = DDSketch::with_max_buckets(r.alpha, r.max_buckets)?;
        let corrupt = |detail: &str| Error::CorruptSketch {
            detail: detail.to_owned(),
        };
        for (counts, offset) in [
            (&r.positive_counts, r.positive_offset),
            (&r.negative_counts, r.negative_offset),
        ] {
            if counts.len() > r.max_buckets {
                return Err(corrupt("more buckets than max_buckets"));
            }
            let limit = (1100.0 * s.multiplier) as i64;
            if i64::from(offset) < -limit || i64::from(offset) + counts.len() as i64 > limit {
                return Err(corrupt("bucket index outside the range of f64"));
            }
        }
        let stored = r
            .positive_counts
            .iter()
            .chain(&r.negative_counts)
            .chain([&r.zero_count, &r.pos_inf, &r.neg_inf])
            .try_fold(0u64, |acc, &c| acc.checked_add(c));
        if stored != Some(r.count) {
            return Err(corrupt("bucket counts do not add up to count"));
        }
        if r.count > 0
            && !matches!(
                r.min.partial_cmp(&r.max),
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            )
        {
            return Err(corrupt("min is above max"));
        }
        s.positive = Store {
            offset: r.positive_offset,
            counts: r.positive_counts,
            collapsed: r.positive_collapsed,
        };
        s.negative = Store {
            offset: r.negative_offset,
            counts: r.negative_counts,
            collapsed: r.negative_collapsed,
        };
        s.zero_count = r.zero_count;
        s.pos_inf = r.pos_inf;
        s.neg_inf = r.neg_inf;
        s.nan_count = r.nan_count;
        s.count = r.count;
        s.sum = r.sum;
        s.min = if r.count > 0 { r.min } else { f64::INFINITY };
        s.max = if r.count > 0 {
            r.max
        } else {
            f64::NEG_INFINITY
        };
        Ok(s)
    }
}
