//! The accurate sums: f32 widened to f64 lanes, f64 with Neumaier
//! compensation, and the compensated sum of per-block results.

use crate::lanes::{LANES, neumaier_step, reduce};

/// f32 values summed in f64 lanes: every f32 is exact in f64, so the error
/// is that of an f64 sum (n · 2^-53 relative at worst), not of an f32 sum.
#[inline(always)]
pub(crate) fn sum_widened(x: &[f32]) -> f64 {
    let (chunks, rest) = x.as_chunks::<LANES>();
    let mut acc = [0.0f64; LANES];
    for c in chunks {
        for i in 0..LANES {
            acc[i] += f64::from(c[i]);
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a += f64::from(v);
    }
    reduce(acc)
}

/// Neumaier's compensated sum in 16 independent lanes: the rounding error of
/// every add is recovered exactly and summed separately.
#[inline(always)]
pub(crate) fn sum_neumaier(x: &[f64]) -> f64 {
    const L: usize = 16;
    let (chunks, rest) = x.as_chunks::<L>();
    let mut s = [0.0f64; L];
    let mut c = [0.0f64; L];
    let step = neumaier_step;
    for ch in chunks {
        for i in 0..L {
            step(&mut s[i], &mut c[i], ch[i]);
        }
    }
    for (i, &v) in rest.iter().enumerate() {
        step(&mut s[i], &mut c[i], v);
    }
    // Fold the lanes with the same compensation.
    let (mut total, mut comp) = (0.0f64, 0.0f64);
    for i in 0..L {
        step(&mut total, &mut comp, s[i]);
        comp += c[i];
    }
    total + comp
}

/// Compensated sum of partial results, in order.
pub(crate) fn neumaier(parts: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for v in parts {
        neumaier_step(&mut s, &mut c, v);
    }
    s + c
}
