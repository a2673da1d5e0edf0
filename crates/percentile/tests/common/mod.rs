//! Data generators shared by the test files (and mirrored by the numpy
//! fixture script, which must produce the same values bit for bit).

#![allow(dead_code)]

/// splitmix64, the generator the numpy fixture script mirrors.
pub(crate) fn splitmix(seed: u64, n: usize) -> Vec<u64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// The float datasets of the fixture script.
pub(crate) fn dataset_f64(kind: &str, n: usize, seed: u64) -> Vec<f64> {
    let raw = splitmix(seed, n);
    match kind {
        "uniform" => raw
            .iter()
            .map(|&r| (r >> 11) as f64 * 2f64.powi(-53) * 1000.0 - 300.0)
            .collect(),
        "duplicates" => raw.iter().map(|&r| (r % 7) as f64 - 3.0).collect(),
        "heavy" => raw
            .iter()
            .map(|&r| {
                let u = ((r >> 11) + 1) as f64 * 2f64.powi(-53);
                let x = 1.0 / u;
                if r & 1 == 1 { x } else { -x }
            })
            .collect(),
        other => panic!("unknown float dataset {other}"),
    }
}

/// The integer dataset of the fixture script.
pub(crate) fn dataset_i64(n: usize, seed: u64) -> Vec<i64> {
    splitmix(seed, n)
        .iter()
        .map(|&r| (r >> 40) as i64 - (1 << 23))
        .collect()
}

/// The plain reference: sort, then numpy's formulas via the public API on
/// sorted data is not independent, so this reimplements `linear` and `lower`
/// directly from their textbook definitions.
pub(crate) fn reference_linear(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let t = h - lo as f64;
    if lo == hi {
        sorted[lo]
    } else if t >= 0.5 {
        sorted[hi] - (sorted[hi] - sorted[lo]) * (1.0 - t)
    } else {
        sorted[lo] + (sorted[hi] - sorted[lo]) * t
    }
}

/// Relative difference, treating two zeros as equal.
pub(crate) fn rel_err(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else {
        ((got - want) / want).abs()
    }
}
