//! Exact order statistics: multi-selection in place, and a read-only
//! sample-bracket pass that touches each input value once.

use rand::{Rng, RngExt};

use crate::sample::Sample;

/// Places the order statistic of every rank in `ranks` (sorted, unique,
/// `< data.len()`) at its index, like numpy's `partition(kth)`: one
/// introselect per rank over shrinking, disjoint ranges, so expected
/// `O(n log k)` for `k` ranks.
pub(crate) fn multiselect<T: Sample>(data: &mut [T], ranks: &[usize]) {
    if ranks.is_empty() || data.is_empty() {
        return;
    }
    // A rank at either end of the range is a minimum or maximum: one linear
    // scan instead of a partition. Interpolating methods ask for `r` and
    // `r + 1`, so after the pivot `r` its neighbour always lands here.
    if ranks[0] == 0 {
        move_extreme_to(data, 0);
        let rest: Vec<usize> = ranks[1..].iter().map(|&r| r - 1).collect();
        return multiselect(&mut data[1..], &rest);
    }
    if ranks[ranks.len() - 1] == data.len() - 1 {
        let last = data.len() - 1;
        move_extreme_to(data, last);
        return multiselect(&mut data[..last], &ranks[..ranks.len() - 1]);
    }
    // Pivot on the rank nearest the middle of the data, not of the rank
    // list: quantiles crowd at the top (p90, p95, p99), and splitting the
    // data in halves keeps the later selections small.
    let half = data.len() / 2;
    let mid = ranks.partition_point(|&r| r < half).min(ranks.len() - 1);
    let mid = if mid > 0 && half - ranks[mid - 1] < ranks[mid].abs_diff(half) {
        mid - 1
    } else {
        mid
    };
    let r = ranks[mid];
    let (left, _, right) = data.select_nth_unstable_by(r, T::total_cmp);
    multiselect(left, &ranks[..mid]);
    let offset = r + 1;
    let right_ranks: Vec<usize> = ranks[mid + 1..].iter().map(|&x| x - offset).collect();
    multiselect(right, &right_ranks);
}

/// Swaps the minimum (`at == 0`) or maximum (`at == len - 1`) into place.
fn move_extreme_to<T: Sample>(data: &mut [T], at: usize) {
    let mut best = 0;
    for i in 1..data.len() {
        let ord = data[i].total_cmp(&data[best]);
        if (at == 0 && ord.is_lt()) || (at != 0 && ord.is_ge()) {
            best = i;
        }
    }
    data.swap(best, at);
}

/// One value interval `[lo, hi]` of the sample-bracket pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bracket<T> {
    pub(crate) lo: T,
    pub(crate) hi: T,
}

/// What one pass over (a chunk of) the data found.
#[derive(Debug)]
pub(crate) struct PassResult<T> {
    /// `below[j]` = number of values `< brackets[j].lo`.
    pub(crate) below: Vec<usize>,
    /// Values inside each bracket, in input order.
    pub(crate) candidates: Vec<Vec<T>>,
    /// Number of NaN values seen.
    pub(crate) nan: usize,
}

impl<T: Sample> PassResult<T> {
    pub(crate) fn new(k: usize) -> Self {
        PassResult {
            below: vec![0; k],
            candidates: (0..k).map(|_| Vec::new()).collect(),
            nan: 0,
        }
    }

    /// Adds another chunk's result, keeping chunk order in the candidates.
    pub(crate) fn absorb(&mut self, other: PassResult<T>) {
        for (a, b) in self.below.iter_mut().zip(other.below) {
            *a += b;
        }
        for (a, mut b) in self.candidates.iter_mut().zip(other.candidates) {
            if a.is_empty() {
                *a = b;
            } else {
                a.append(&mut b);
            }
        }
        self.nan += other.nan;
    }
}

/// Values per block: small enough to stay in L1 while every bracket scans it.
const BLOCK: usize = 1024;

/// Counts values below each bracket and collects the values inside it.
/// Brackets are sorted and disjoint. Comparisons are IEEE (`<`), so NaN is
/// neither below nor inside any bracket; it is counted separately.
///
/// On x86_64 CPUs with AVX2 the same code is compiled a second time with
/// AVX2 enabled and chosen at run time (the pass is compare-bound, and AVX2
/// doubles the lanes of the baseline SSE2).
pub(crate) fn bracket_pass<T: Sample>(
    data: &[T],
    brackets: &[Bracket<T>],
    out: &mut PassResult<T>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `bracket_pass_avx2` only requires AVX2, which the CPU was
        // just checked to support; it has no other precondition.
        #[allow(unsafe_code)]
        unsafe {
            bracket_pass_avx2(data, brackets, out)
        };
        return;
    }
    bracket_pass_body(data, brackets, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bracket_pass_avx2<T: Sample>(data: &[T], brackets: &[Bracket<T>], out: &mut PassResult<T>) {
    bracket_pass_body(data, brackets, out);
}

/// Per block, every step is a tight loop the compiler vectorizes: one
/// compare-and-add pass per bracket for the counts and candidate marks
/// (64-bit lanes, so no narrowing), then a branch-free compaction of the
/// marked values (a few percent), which are finally dealt to their brackets.
#[inline(always)]
fn bracket_pass_body<T: Sample>(data: &[T], brackets: &[Bracket<T>], out: &mut PassResult<T>) {
    let mut marks = [0u64; BLOCK];
    let mut compact: Vec<T> = Vec::with_capacity(BLOCK + 1);
    for block in data.chunks(BLOCK) {
        let marks = &mut marks[..block.len()];
        marks.fill(0);
        for (j, b) in brackets.iter().enumerate() {
            let (lo, hi) = (b.lo, b.hi);
            let mut below = 0u64;
            for (m, &x) in marks.iter_mut().zip(block) {
                below += u64::from(x < lo);
                *m |= u64::from(x >= lo) & u64::from(x <= hi);
            }
            out.below[j] += below as usize;
        }
        #[allow(clippy::eq_op)]
        {
            out.nan += block.iter().map(|&x| u64::from(x != x)).sum::<u64>() as usize;
        }
        // Branch-free compaction: write every value, advance only past marked ones.
        compact.clear();
        compact.resize(block.len() + 1, block[0]);
        let mut len = 0usize;
        for (&x, &m) in block.iter().zip(marks.iter()) {
            compact[len] = x;
            len += m as usize;
        }
        for &x in &compact[..len] {
            // Brackets are sorted and disjoint: the first whose upper end
            // reaches x holds it.
            let j = brackets.iter().position(|b| x <= b.hi).unwrap_or(0);
            out.candidates[j].push(x);
        }
    }
}

/// Picks brackets for the requested fractional positions from a random
/// sample of `data`: for each position `f` the bracket spans the sample
/// order statistics `f s ± (3.5 σ + 2)`, `σ = sqrt(s f (1 - f))`, so a
/// bracket misses its rank with probability about 5e-4. Returns the sorted,
/// merged brackets; `None` when the sample holds no non-NaN value.
pub(crate) fn choose_brackets<T: Sample>(
    data: &[T],
    fractions: &[f64],
    sample_size: usize,
    rng: &mut impl Rng,
) -> Option<Vec<Bracket<T>>> {
    let n = data.len();
    let mut sample: Vec<T> = (0..sample_size)
        .map(|_| data[rng.random_range(0..n)])
        .filter(|x| !x.is_nan())
        .collect();
    if sample.is_empty() {
        return None;
    }
    sample.sort_unstable_by(T::total_cmp);
    let s = sample.len();
    let sf = s as f64;
    let mut raw: Vec<(usize, usize)> = fractions
        .iter()
        .map(|&f| {
            let f = f.clamp(0.0, 1.0);
            let centre = f * (sf - 1.0);
            let half = 3.5 * (sf * f * (1.0 - f)).sqrt() + 2.0;
            let lo = (centre - half).floor().max(0.0) as usize;
            let hi = ((centre + half).ceil() as usize).min(s - 1);
            (lo, hi)
        })
        .collect();
    // Merge overlapping sample ranges so that the value brackets are disjoint.
    raw.sort_unstable_by_key(|r| r.0);
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for &(lo, hi) in &raw {
        match merged.last_mut() {
            Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    // Equal sample values at the edge of two ranges would make the value
    // brackets overlap; fuse those too.
    let mut brackets: Vec<Bracket<T>> = Vec::with_capacity(merged.len());
    for &(lo, hi) in &merged {
        let (vlo, vhi) = (sample[lo], sample[hi]);
        match brackets.last_mut() {
            Some(last) if vlo <= last.hi => {
                if vhi > last.hi {
                    last.hi = vhi;
                }
            }
            _ => brackets.push(Bracket { lo: vlo, hi: vhi }),
        }
    }
    Some(brackets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn multiselect_places_every_rank_like_a_sort() {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(7);
        let data: Vec<f64> = (0..1000).map(|_| rng.random_range(-5.0..5.0)).collect();
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        let ranks = [0, 1, 499, 500, 990, 999];
        let mut work = data.clone();
        multiselect(&mut work, &ranks);
        for r in ranks {
            assert_eq!(work[r], sorted[r]);
        }
    }

    #[test]
    fn bracket_pass_counts_and_collects_exactly() {
        let data: Vec<f64> = (0..10_000)
            .map(|i| f64::from((i * 7919) % 10_000))
            .collect();
        let brackets = [
            Bracket {
                lo: 100.0,
                hi: 199.0,
            },
            Bracket {
                lo: 5000.0,
                hi: 5004.0,
            },
        ];
        let mut out = PassResult::new(2);
        bracket_pass(&data, &brackets, &mut out);
        assert_eq!(out.below, vec![100, 5000]);
        assert_eq!(out.candidates[0].len(), 100);
        assert_eq!(out.candidates[1].len(), 5);
        assert_eq!(out.nan, 0);
    }
}
