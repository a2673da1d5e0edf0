//! A mergeable rank-error quantile sketch (KLL).

use std::sync::OnceLock;

use crate::Error;

/// The KLL sketch of Karnin, Lang and Liberty (2016): a streaming quantile
/// summary whose answers are within a small *rank* error of the truth
/// (normalized rank error about 1.7 / k^0.94 at 99 % confidence — 1.3 % for
/// the default k = 200), in `O(k log(n / k))` space, mergeable.
///
/// Use it where a relative value bound is meaningless (values crossing
/// zero, ordinal data); for latencies and other positive heavy-tailed data
/// prefer [`DDSketch`](crate::DDSketch), whose error is relative to the value.
///
/// Compaction coin flips come from an internal seeded generator, so the same
/// inserts in the same order always give the same sketch.
///
/// ```
/// use novacron_percentile::KllSketch;
/// let mut s = KllSketch::new(200)?;
/// for i in 0..100_000 {
///     s.insert(f64::from(i));
/// }
/// let median = s.quantile(0.5)?;
/// assert!((median - 50_000.0).abs() < 0.02 * 100_000.0);
/// # Ok::<(), novacron_percentile::Error>(())
/// ```
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "KllRepr", into = "KllRepr"))]
pub struct KllSketch {
    k: usize,
    levels: Vec<Vec<f64>>,
    count: u64,
    nan_count: u64,
    sum: f64,
    min: f64,
    max: f64,
    rng: u64,
    sorted: OnceLock<Vec<(f64, u64)>>,
    /// Items held in all levels (derived, kept current).
    retained: usize,
    /// Sum of the level capacities for the current number of levels (derived).
    capacity_total: usize,
}

impl PartialEq for KllSketch {
    fn eq(&self, other: &Self) -> bool {
        self.k == other.k
            && self.levels == other.levels
            && self.count == other.count
            && self.nan_count == other.nan_count
            && self.sum.to_bits() == other.sum.to_bits()
            && self.min.to_bits() == other.min.to_bits()
            && self.max.to_bits() == other.max.to_bits()
            && self.rng == other.rng
    }
}

/// Smallest capacity of any level.
const MIN_WIDTH: usize = 8;

/// Levels a sketch may have: level `h` items weigh `2^h`, and 2^56 values
/// are beyond any stream, so more levels can only come from a corrupt state.
const MAX_LEVELS: usize = 56;

impl KllSketch {
    /// A sketch with accuracy parameter `k` (200 is the usual default).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `8 <= k <= 65535`.
    pub fn new(k: usize) -> Result<KllSketch, Error> {
        if !(MIN_WIDTH..=65_535).contains(&k) {
            return Err(Error::InvalidParameter {
                name: "KLL k",
                allowed: "between 8 and 65535",
            });
        }
        Ok(KllSketch {
            k,
            levels: vec![Vec::new()],
            count: 0,
            nan_count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            rng: 0x9E37_79B9_7F4A_7C15 ^ k as u64,
            sorted: OnceLock::new(),
            retained: 0,
            capacity_total: k.max(MIN_WIDTH),
        })
    }

    /// The accuracy parameter.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Capacity of level `h` when there are `n_levels` levels: the top level
    /// holds `k`, each lower one two thirds of the one above.
    fn capacity(&self, h: usize, n_levels: usize) -> usize {
        let depth = (n_levels - 1 - h) as i32;
        ((self.k as f64 * (2.0f64 / 3.0).powi(depth)).ceil() as usize).max(MIN_WIDTH)
    }

    fn total_capacity(&self) -> usize {
        let n = self.levels.len();
        (0..n).map(|h| self.capacity(h, n)).sum()
    }

    /// Recomputes the derived counters after the levels changed shape.
    fn refresh(&mut self) {
        self.retained = self.levels.iter().map(Vec::len).sum();
        self.capacity_total = self.total_capacity();
    }

    /// Adds one value; NaN is skipped and counted.
    pub fn insert(&mut self, x: f64) {
        if x.is_nan() {
            self.nan_count = self.nan_count.saturating_add(1);
            return;
        }
        if self.count == u64::MAX {
            return; // a deserialized sketch at the end of the counter: full
        }
        self.sorted = OnceLock::new();
        self.count += 1;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.levels[0].push(x);
        self.retained += 1;
        if self.retained > self.capacity_total {
            self.compress();
        }
    }

    /// Adds every value of a slice.
    pub fn insert_many(&mut self, values: &[f64]) {
        for &x in values {
            self.insert(x);
        }
    }

    /// Compacts the lowest over-full level until the sketch fits.
    fn compress(&mut self) {
        self.refresh();
        while self.retained > self.capacity_total {
            let n = self.levels.len();
            let h = (0..n)
                .find(|&h| self.levels[h].len() >= self.capacity(h, n))
                .unwrap_or(0);
            if h + 1 == self.levels.len() {
                if self.levels.len() == MAX_LEVELS {
                    return; // unreachable for real streams; never overflow the weights
                }
                self.levels.push(Vec::new());
            }
            let mut level = std::mem::take(&mut self.levels[h]);
            level.sort_unstable_by(f64::total_cmp);
            // An odd item stays behind so the promoted pairs are whole.
            let keep = if level.len() % 2 == 1 {
                level.pop()
            } else {
                None
            };
            let offset = (self.next_random() & 1) as usize;
            let promoted = level.iter().skip(offset).step_by(2).copied();
            self.levels[h + 1].extend(promoted);
            level.clear();
            level.extend(keep);
            self.levels[h] = level;
            self.refresh();
        }
    }

    /// splitmix64: tiny, serializable state.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Adds another sketch's values to this one.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatibleSketches`] when `k` differs;
    /// [`Error::CountOverflow`] when the two counts together pass `u64::MAX`
    /// (possible only with deserialized sketches). On error `self` is unchanged.
    pub fn merge(&mut self, other: &KllSketch) -> Result<(), Error> {
        if self.k != other.k {
            return Err(Error::IncompatibleSketches {
                detail: format!("k {} vs {}", self.k, other.k),
            });
        }
        if self.count.checked_add(other.count).is_none()
            || self.nan_count.checked_add(other.nan_count).is_none()
        {
            return Err(Error::CountOverflow);
        }
        self.sorted = OnceLock::new();
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        for (mine, theirs) in self.levels.iter_mut().zip(&other.levels) {
            mine.extend_from_slice(theirs);
        }
        self.count += other.count;
        self.nan_count += other.nan_count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.compress();
        Ok(())
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
    /// `f64` as they arrive (one rounding per value; `±inf` once an infinity
    /// or an overflow is inserted).
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

    /// Whether no value was inserted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Removes every value, keeping `k`.
    pub fn clear(&mut self) {
        self.levels = vec![Vec::new()];
        self.retained = 0;
        self.capacity_total = self.total_capacity();
        self.count = 0;
        self.nan_count = 0;
        self.sum = 0.0;
        self.min = f64::INFINITY;
        self.max = f64::NEG_INFINITY;
        self.sorted = OnceLock::new();
    }

    /// Bytes held by the sketch (retained items and the query cache).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .levels
                .iter()
                .map(|l| l.capacity() * 8 + std::mem::size_of::<Vec<f64>>())
                .sum::<usize>()
            + self.sorted.get().map_or(0, |v| v.capacity() * 16)
    }

    /// The retained items with their weights, sorted, with cumulative weights:
    /// built once per state and cached, so repeated queries cost a binary search.
    fn sorted_view(&self) -> &[(f64, u64)] {
        self.sorted.get_or_init(|| {
            let mut items: Vec<(f64, u64)> = self
                .levels
                .iter()
                .enumerate()
                .flat_map(|(h, level)| level.iter().map(move |&x| (x, 1u64 << h)))
                .collect();
            items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            let mut acc = 0u64;
            for item in &mut items {
                acc += item.1;
                item.1 = acc;
            }
            items
        })
    }

    /// The value at fraction `q`: the retained item covering rank
    /// `floor(q (count - 1))`, clamped to the exact min and max.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyInput`] when empty; a bad `q`.
    pub fn quantile(&self, q: f64) -> Result<f64, Error> {
        crate::exact::validate_fraction(q)?;
        if self.count == 0 {
            return Err(Error::EmptyInput);
        }
        if q == 0.0 {
            return Ok(self.min);
        }
        if q == 1.0 {
            return Ok(self.max);
        }
        let view = self.sorted_view();
        let total = view.last().map_or(0, |l| l.1);
        let rank = ((q * (total.saturating_sub(1)) as f64).floor()) as u64;
        let i = view
            .partition_point(|&(_, cum)| cum <= rank)
            .min(view.len() - 1);
        Ok(view[i].0.clamp(self.min, self.max))
    }

    /// Several quantiles.
    ///
    /// # Errors
    ///
    /// As [`quantile`](Self::quantile).
    pub fn quantiles(&self, qs: &[f64]) -> Result<Vec<f64>, Error> {
        qs.iter().map(|&q| self.quantile(q)).collect()
    }

    /// Estimated fraction of values `<= x`.
    pub fn rank(&self, x: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let view = self.sorted_view();
        let total = view.last().map_or(1, |l| l.1) as f64;
        let i = view.partition_point(|&(v, _)| v <= x);
        if i == 0 {
            0.0
        } else {
            view[i - 1].1 as f64 / total
        }
    }
}

/// The serialized form.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct KllRepr {
    k: usize,
    levels: Vec<Vec<crate::float_serde::Float>>,
    count: u64,
    nan_count: u64,
    #[serde(with = "crate::float_serde")]
    sum: f64,
    #[serde(with = "crate::float_serde")]
    min: f64,
    #[serde(with = "crate::float_serde")]
    max: f64,
    rng: u64,
}

#[cfg(feature = "serde")]
impl From<KllSketch> for KllRepr {
    fn from(s: KllSketch) -> Self {
        KllRepr {
            k: s.k,
            levels: s
                .levels
                .into_iter()
                .map(|l| l.into_iter().map(crate::float_serde::Float).collect())
                .collect(),
            count: s.count,
            nan_count: s.nan_count,
            sum: s.sum,
            min: s.min,
            max: s.max,
            rng: s.rng,
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<KllRepr> for KllSketch {
    type Error = Error;

    fn try_from(r: KllRepr) -> Result<Self, Error> {
        let mut s = KllSketch::new(r.k)?;
        let corrupt = |detail: &str| Error::CorruptSketch {
            detail: detail.to_owned(),
        };
        let levels: Vec<Vec<f64>> = r
            .levels
            .into_iter()
            .map(|l| l.into_iter().map(|x| x.0).collect())
            .collect();
        if levels.is_empty() || levels.len() > MAX_LEVELS {
            return Err(corrupt("the number of levels must be between 1 and 56"));
        }
        let weight = levels.iter().enumerate().try_fold(0u64, |acc, (h, l)| {
            acc.checked_add((l.len() as u64).checked_mul(1u64 << h)?)
        });
        if levels.iter().flatten().any(|x| x.is_nan()) {
            return Err(corrupt("levels hold NaN"));
        }
        // Compaction keeps the total weight: the items weigh exactly `count`.
        if weight != Some(r.count) {
            return Err(corrupt(
                "the weights of the retained items do not add up to count",
            ));
        }
        if r.count > 0
            && levels
                .iter()
                .flatten()
                .any(|&x| !(r.min..=r.max).contains(&x))
        {
            return Err(corrupt("a retained item lies outside [min, max]"));
        }
        if r.count > 0
            && !matches!(
                r.min.partial_cmp(&r.max),
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            )
        {
            return Err(corrupt("min is above max"));
        }
        s.levels = levels;
        s.count = r.count;
        s.nan_count = r.nan_count;
        s.sum = r.sum;
        s.min = if r.count > 0 { r.min } else { f64::INFINITY };
        s.max = if r.count > 0 {
            r.max
        } else {
            f64::NEG_INFINITY
        };
        s.rng = r.rng;
        s.refresh();
        Ok(s)
    }
}
