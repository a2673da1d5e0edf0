//! The kernels, written once as generic `#[inline(always)]` bodies over
//! fixed lane arrays that the compiler turns into SIMD registers. `arch.rs`
//! compiles each body once per instruction-set level; nothing here is unsafe.
//!
//! Reductions keep `LANES` independent accumulators (latency hiding: a float
//! add takes 3–4 cycles, so one accumulator would idle the adders) and
//! combine them pairwise at the end, so every level computes the same
//! association — results differ between levels only where FMA fuses a
//! multiply-add.

use crate::element::Float;
use crate::lanes::{LANES, reduce};
use crate::stats::Stats;

/// Accumulators for kernels that keep three sums at once.
const LANES3: usize = 16;

#[inline(always)]
pub(crate) fn sum<T: Float>(x: &[T]) -> T {
    let (chunks, rest) = x.as_chunks::<LANES>();
    let mut acc = [T::ZERO; LANES];
    for c in chunks {
        for i in 0..LANES {
            acc[i] = acc[i] + c[i];
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a = *a + v;
    }
    reduce(acc)
}

/// `Σ step(a_i, b_i)` over two slices, in `LANES` independent accumulators:
/// the shape shared by dot, L1 and squared L2.
#[inline(always)]
fn binary_reduce<T: Float>(a: &[T], b: &[T], step: impl Fn(T, T, T) -> T) -> T {
    let n = a.len().min(b.len());
    let (ca, ra) = a[..n].as_chunks::<LANES>();
    let (cb, rb) = b[..n].as_chunks::<LANES>();
    let mut acc = [T::ZERO; LANES];
    for (x, y) in ca.iter().zip(cb) {
        for i in 0..LANES {
            acc[i] = step(acc[i], x[i], y[i]);
        }
    }
    for ((acc, &x), &y) in acc.iter_mut().zip(ra).zip(rb) {
        *acc = step(*acc, x, y);
    }
    reduce(acc)
}

#[inline(always)]
pub(crate) fn dot<T: Float, const FMA: bool>(a: &[T], b: &[T]) -> T {
    binary_reduce(a, b, |acc, x, y| x.mul_add_if::<FMA>(y, acc))
}

#[inline(always)]
pub(crate) fn l1<T: Float>(a: &[T], b: &[T]) -> T {
    binary_reduce(a, b, |acc, x, y| acc + (x - y).abs())
}

#[inline(always)]
pub(crate) fn l2_squared<T: Float, const FMA: bool>(a: &[T], b: &[T]) -> T {
    binary_reduce(a, b, |acc, x, y| {
        let d = x - y;
        d.mul_add_if::<FMA>(d, acc)
    })
}

/// `(a·b, a·a, b·b)` in one pass.
#[inline(always)]
pub(crate) fn dot_norms<T: Float, const FMA: bool>(a: &[T], b: &[T]) -> (T, T, T) {
    let n = a.len().min(b.len());
    let (ca, ra) = a[..n].as_chunks::<LANES3>();
    let (cb, rb) = b[..n].as_chunks::<LANES3>();
    let (mut ab, mut aa, mut bb) = ([T::ZERO; LANES3], [T::ZERO; LANES3], [T::ZERO; LANES3]);
    for (x, y) in ca.iter().zip(cb) {
        for i in 0..LANES3 {
            ab[i] = x[i].mul_add_if::<FMA>(y[i], ab[i]);
            aa[i] = x[i].mul_add_if::<FMA>(x[i], aa[i]);
            bb[i] = y[i].mul_add_if::<FMA>(y[i], bb[i]);
        }
    }
    for (i, (&x, &y)) in ra.iter().zip(rb).enumerate() {
        ab[i] = x.mul_add_if::<FMA>(y, ab[i]);
        aa[i] = x.mul_add_if::<FMA>(x, aa[i]);
        bb[i] = y.mul_add_if::<FMA>(y, bb[i]);
    }
    (reduce(ab), reduce(aa), reduce(bb))
}

/// Smallest (`MAX = false`) or largest value; NaN if any value is NaN.
/// `x` must not be empty.
#[inline(always)]
pub(crate) fn extreme<T: Float, const MAX: bool>(x: &[T]) -> T {
    let (chunks, rest) = x.as_chunks::<LANES>();
    let mut m = [x[0]; LANES];
    let mut nan = [0u32; LANES];
    let better = |v: T, m: T| if MAX { v > m } else { v < m };
    for c in chunks {
        for i in 0..LANES {
            m[i] = if better(c[i], m[i]) { c[i] } else { m[i] };
            nan[i] |= u32::from(c[i].is_nan());
        }
    }
    for (i, &v) in rest.iter().enumerate() {
        m[i] = if better(v, m[i]) { v } else { m[i] };
        nan[i] |= u32::from(v.is_nan());
    }
    if nan.iter().any(|&f| f != 0) || x[0].is_nan() {
        return x.iter().copied().find(|v| v.is_nan()).unwrap_or(x[0]);
    }
    let mut best = m[0];
    for &v in &m[1..] {
        if better(v, best) {
            best = v;
        }
    }
    best
}

/// Number of values above (`ABOVE`) or below the threshold; NaN never counts.
#[inline(always)]
pub(crate) fn count<T: Float, const ABOVE: bool>(x: &[T], t: T) -> usize {
    let (chunks, rest) = x.as_chunks::<LANES>();
    let mut acc = [0u32; LANES];
    for c in chunks {
        for i in 0..LANES {
            acc[i] += u32::from(if ABOVE { c[i] > t } else { c[i] < t });
        }
    }
    let mut total: usize = acc.iter().map(|&a| a as usize).sum();
    total += rest
        .iter()
        .filter(|&&v| if ABOVE { v > t } else { v < t })
        .count();
    total
}

#[inline(always)]
pub(crate) fn axpy<T: Float, const FMA: bool>(a: T, x: &[T], y: &mut [T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = a.mul_add_if::<FMA>(x, *y);
    }
}

#[inline(always)]
pub(crate) fn scale<T: Float>(a: T, x: &mut [T]) {
    for v in x {
        *v = *v * a;
    }
}

#[inline(always)]
pub(crate) fn add<T: Float>(x: &[T], y: &mut [T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = *y + x;
    }
}

#[inline(always)]
pub(crate) fn clamp<T: Float>(x: &mut [T], lo: T, hi: T) {
    for v in x {
        let c = if *v < lo { lo } else { *v };
        *v = if c > hi { hi } else { c };
    }
}

/// Values per statistics block: fits L1 with room to spare.
const STATS_BLOCK: usize = 1024;

/// Fused statistics: per L1-sized block, the sum and extremes in one
/// vectorized pass, then the squared deviations from the block mean in a
/// second pass over the cached block, then Chan's exact merge of the block
/// into the running result. (The AVX2 level uses [`stats_shifted`].)
#[inline(always)]
pub(crate) fn stats<T: Float, const FMA: bool>(x: &[T]) -> Stats {
    const L: usize = 16;
    let mut total = Stats::new();
    for block in x.chunks(STATS_BLOCK) {
        let (chunks, rest) = block.as_chunks::<L>();
        // Pass 1: sum and extremes together (16 lanes each: twelve AVX2
        // registers, enough chains to hide the add latency).
        let first = block[0].to_f64();
        let mut s = [0.0f64; L];
        let mut lo = [first; L];
        let mut hi = [first; L];
        for c in chunks {
            for i in 0..L {
                let v = c[i].to_f64();
                s[i] += v;
                lo[i] = if v < lo[i] { v } else { lo[i] };
                hi[i] = if v > hi[i] { v } else { hi[i] };
            }
        }
        for (i, &v) in rest.iter().enumerate() {
            let v = v.to_f64();
            s[i] += v;
            lo[i] = if v < lo[i] { v } else { lo[i] };
            hi[i] = if v > hi[i] { v } else { hi[i] };
        }
        let sum = reduce(s);
        let n = block.len() as f64;
        let mean = sum / n;
        // Pass 2: squared deviations from the block mean, over the cached block.
        let mut m2 = [0.0f64; L];
        for c in chunks {
            for i in 0..L {
                let d = c[i].to_f64() - mean;
                m2[i] = d.mul_add_if::<FMA>(d, m2[i]);
            }
        }
        for (a, &v) in m2.iter_mut().zip(rest) {
            let d = v.to_f64() - mean;
            *a = d.mul_add_if::<FMA>(d, *a);
        }
        // A NaN makes the sum NaN (so does inf + -inf): only then look for one.
        let has_nan = sum.is_nan() && block.iter().any(|v| v.is_nan());
        let (min, max) = if has_nan {
            (f64::NAN, f64::NAN)
        } else {
            let mut min = lo[0];
            let mut max = hi[0];
            for i in 1..L {
                min = if lo[i] < min { lo[i] } else { min };
                max = if hi[i] > max { hi[i] } else { max };
            }
            (min, max)
        };
        total.merge(&Stats::from_parts(
            block.len() as u64,
            sum,
            mean,
            reduce(m2),
            min,
            max,
        ));
    }
    total
}

/// Lanes of each accumulator of [`stats_shifted`]: two AVX2 registers of `f64`.
#[cfg(target_arch = "x86_64")]
pub(crate) const SHIFTED_LANES: usize = 8;

/// [`stats_shifted`] keeps `M2 = Σ(x−K)² − (Σ(x−K))²/n` when it retains at
/// least this fraction of `Σ(x−K)²`, i.e. when the subtraction cancels at
/// most 4 bits.
#[cfg(target_arch = "x86_64")]
const MAX_CANCELLATION: f64 = 1.0 / 16.0;

/// Per-lane accumulators of one block of [`stats_shifted`]: `Σx`, `Σ(x−K)`,
/// `Σ(x−K)²` and the extremes (NaN is ignored by the extremes and detected
/// through the sum).
#[cfg(target_arch = "x86_64")]
pub(crate) struct Moments {
    pub(crate) s: [f64; SHIFTED_LANES],
    pub(crate) s1: [f64; SHIFTED_LANES],
    pub(crate) s2: [f64; SHIFTED_LANES],
    pub(crate) lo: [f64; SHIFTED_LANES],
    pub(crate) hi: [f64; SHIFTED_LANES],
}

#[cfg(target_arch = "x86_64")]
impl Moments {
    /// Adds value `v` into lane `i`, exactly as the vector loop does.
    #[inline(always)]
    fn push(&mut self, i: usize, v: f64, shift: f64) {
        let d = v - shift;
        self.s[i] += v;
        self.s1[i] += d;
        self.s2[i] = d.mul_add(d, self.s2[i]);
        self.lo[i] = if v < self.lo[i] { v } else { self.lo[i] };
        self.hi[i] = if v > self.hi[i] { v } else { self.hi[i] };
    }
}

/// Fused statistics in one streaming pass (levels with FMA and a
/// hand-written `moments` loop): per L1-sized block, `moments` accumulates
/// the sum, the extremes and the first two moments about a shift `K` (the
/// midpoint of the block's first and last values). `M2 = Σ(x−K)² −
/// (Σ(x−K))²/n` is kept when it cancels at most 4 bits — any block whose
/// spread is not tiny against its distance from `K`; otherwise (an outlier
/// at an end, NaN, infinities) the block, still in L1, gets the exact second
/// pass over deviations from its mean. Blocks merge by Chan's formula.
///
/// One pass matters at DRAM sizes: while the two-pass form re-read a block
/// from L1 no new lines were requested, and it reached 78 % of the read
/// bandwidth; this form (with the prefetch in `moments`) reaches it.
#[inline(always)]
#[cfg(target_arch = "x86_64")]
pub(crate) fn stats_shifted<T: Float>(
    x: &[T],
    moments: impl Fn(&[[T; SHIFTED_LANES]], f64, f64) -> Moments,
) -> Stats {
    let mut total = Stats::new();
    for block in x.chunks(STATS_BLOCK) {
        let (chunks, rest) = block.as_chunks::<SHIFTED_LANES>();
        let first = block[0].to_f64();
        let shift = 0.5 * first + 0.5 * block[block.len() - 1].to_f64();
        let mut m = moments(chunks, shift, first);
        for (i, &v) in rest.iter().enumerate() {
            m.push(i, v.to_f64(), shift);
        }
        let sum = reduce(m.s);
        let n = block.len() as f64;
        let mean = sum / n;
        let (s1, s2) = (reduce(m.s1), reduce(m.s2));
        let shifted_m2 = s2 - s1 * (s1 / n);
        // False for NaN and infinities too: those take the second pass.
        let m2 = if shifted_m2 >= s2 * MAX_CANCELLATION {
            shifted_m2
        } else {
            let mut m2 = [0.0f64; SHIFTED_LANES];
            for c in chunks {
                for i in 0..SHIFTED_LANES {
                    let d = c[i].to_f64() - mean;
                    m2[i] = d.mul_add(d, m2[i]);
                }
            }
            for (a, &v) in m2.iter_mut().zip(rest) {
                let d = v.to_f64() - mean;
                *a = d.mul_add(d, *a);
            }
            reduce(m2)
        };
        // A NaN makes the sum NaN (so does inf + -inf): only then look for one.
        let has_nan = sum.is_nan() && block.iter().any(|v| v.is_nan());
        let (min, max) = if has_nan {
            (f64::NAN, f64::NAN)
        } else {
            let mut min = m.lo[0];
            let mut max = m.hi[0];
            for i in 1..SHIFTED_LANES {
                min = if m.lo[i] < min { m.lo[i] } else { min };
                max = if m.hi[i] > max { m.hi[i] } else { max };
            }
            (min, max)
        };
        total.merge(&Stats::from_parts(
            block.len() as u64,
            sum,
            mean,
            m2,
            min,
            max,
        ));
    }
    total
}

/// Histogram counts: slot 0 underflow, 1..=bins the bins, bins+1 overflow,
/// bins+2 NaN.
///
/// Bins are numpy's: bin `k` holds `e_k <= v < e_{k+1}` for the edges
/// `e_k = k · ((hi - lo) / bins) + lo` of `np.linspace(lo, hi, bins + 1)`,
/// the last bin also holds `hi`. A first estimate from one multiply is moved
/// by at most one bin to agree with those edges, as `np.histogram` does.
/// Ranges wider than `f64::MAX` (such as `[-f64::MAX, f64::MAX]`) are
/// computed on halved values and edges, exactly (halving is exact).
#[inline(always)]
pub(crate) fn histogram<T: Float>(x: &[T], lo: f64, hi: f64, bins: usize, counts: &mut [u64]) {
    const G: usize = 16;
    let slots = bins + 3;
    let (h, inv_h) = if (hi - lo).is_finite() {
        (1.0, 1.0)
    } else {
        (0.5, 2.0)
    };
    let (lo_h, hi_h) = (lo * h, hi * h);
    let step_h = (hi_h - lo_h) / bins as f64;
    let scale = bins as f64 / (hi_h - lo_h);
    let last = (bins - 1) as f64;
    // Slots fit i32 (bins <= MAX_BINS = 2^24): f64 <-> i32 conversions are
    // packed instructions on x86_64 (f64 <-> u64 are not before AVX-512).
    let (under, over, nan_slot) = (0i32, (bins + 1) as i32, (bins + 2) as i32);
    // Slot of each value by selects only (vectorizable).
    let slot_of = |v: f64| -> usize {
        let k = ((v * h - lo_h) * scale).min(last).max(0.0) as i32;
        let kf = f64::from(k);
        let below = v < (kf * step_h + lo_h) * inv_h;
        let above = kf < last && v >= ((kf + 1.0) * step_h + lo_h) * inv_h;
        let k = k - i32::from(below) + i32::from(above);
        let s = if v > hi { over } else { k + 1 };
        let s = if v < lo { under } else { s };
        (if v.is_nan() { nan_slot } else { s }) as usize
    };
    if slots > 4096 {
        // Many bins: count in place; four copies would not fit the cache.
        for &v in x {
            counts[slot_of(v.to_f64())] += 1;
        }
        return;
    }
    // Few bins: four interleaved count arrays, so that neighbouring values
    // in one bin do not wait on each other's increments.
    let mut sub = vec![0u64; 4 * slots];
    let (chunks, rest) = x.as_chunks::<G>();
    let mut idx = [0usize; G];
    for c in chunks {
        for i in 0..G {
            idx[i] = slot_of(c[i].to_f64());
        }
        for (i, &k) in idx.iter().enumerate() {
            sub[(i & 3) * slots + k] += 1;
        }
    }
    for &v in rest {
        sub[slot_of(v.to_f64())] += 1;
    }
    for (k, c) in counts.iter_mut().enumerate().take(slots) {
        *c += sub[k] + sub[slots + k] + sub[2 * slots + k] + sub[3 * slots + k];
    }
}
