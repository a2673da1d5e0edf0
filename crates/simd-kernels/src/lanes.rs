//! Lane arrays: the accumulator width of the reductions, the pairwise fold
//! every one ends with, and the compensated-add step of the accurate sums.

use std::ops::Add;

/// Accumulators per reduction: 32 `f32` = four AVX2 registers.
pub(crate) const LANES: usize = 32;

/// Folds the lanes pairwise (`acc[i] + acc[i + N/2]`, halving): the same
/// association at every level.
#[inline(always)]
pub(crate) fn reduce<T: Copy + Add<Output = T>, const N: usize>(mut acc: [T; N]) -> T {
    let mut width = N / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] = acc[i] + acc[i + width];
        }
        width /= 2;
    }
    acc[0]
}

/// One step of Neumaier's compensated sum: adds `v` to `s` and the exact
/// rounding error of that add to `c`.
#[inline(always)]
pub(crate) fn neumaier_step(s: &mut f64, c: &mut f64, v: f64) {
    let t = *s + v;
    *c += if s.abs() >= v.abs() {
        (*s - t) + v
    } else {
        (v - t) + *s
    };
    *s = t;
}
