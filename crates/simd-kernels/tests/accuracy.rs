//! The accurate sum of 1e8 f32 values stays within 1e-6 of the exact total;
//! the naive loop does not (which is the point of the crate).

use novacron_simd_kernels::{Kernels, Level};

#[test]
fn accurate_f32_sum_of_1e8_values_is_within_1e_6_of_the_exact_total() {
    const N: usize = 100_000_000;
    // Multiples of 1/8 in [1, 2): every value and the exact total are exact.
    let x: Vec<f32> = (0..N).map(|i| 1.0 + (i % 7) as f32 / 8.0).collect();
    let exact_eighths: u128 = (0..N as u128).map(|i| 8 + i % 7).sum();
    let exact = exact_eighths as f64 / 8.0;

    let mut naive = 0.0f32;
    for &v in &x[..N] {
        naive += v;
    }
    let naive_err = ((f64::from(naive) - exact) / exact).abs();
    assert!(
        naive_err > 1e-2,
        "the naive f32 loop should visibly fail here (err {naive_err:e})"
    );

    for level in Level::available() {
        let k = Kernels::new(level).expect("available");
        let got = k.sum_accurate(&x);
        let err = ((got - exact) / exact).abs();
        assert!(err <= 1e-6, "{level}: accurate sum error {err:e}");
        let fast = f64::from(k.sum(&x));
        let fast_err = ((fast - exact) / exact).abs();
        assert!(
            fast_err <= 1e-3,
            "{level}: fast sum error {fast_err:e} (lanes and blocks keep it bounded)"
        );
    }
}

/// Exact mean (to one rounding) and population variance of integer values,
/// from i128 sums.
fn exact_moments(v: &[i64]) -> (f64, f64) {
    let n = v.len() as i128;
    let s: i128 = v.iter().map(|&x| i128::from(x)).sum();
    let s2: i128 = v.iter().map(|&x| i128::from(x) * i128::from(x)).sum();
    // (n Σx² − (Σx)²) / n², exact until the final division.
    (
        s as f64 / n as f64,
        (n * s2 - s * s) as f64 / (n * n) as f64,
    )
}

/// Asserts a variance within a few units of rounding plus the conditioning
/// of the problem: the mean itself is only known to half an ulp, so
/// `|mean| / σ` amplifies ε (the textbook `E[x²] − E[x]²` formula instead
/// amplifies by `(|mean| / σ)²`: ~1e3 relative error at 2^40 here).
fn assert_variance(got: f64, (mean, var): (f64, f64), what: &str) {
    let err = if var == 0.0 {
        got.abs()
    } else {
        ((got - var) / var).abs()
    };
    let tolerance = 1e-12 + 4.0 * f64::EPSILON * mean.abs() / var.sqrt().max(f64::MIN_POSITIVE);
    assert!(
        err <= tolerance,
        "{what}: variance {got} vs {var} ({err:e})"
    );
}

/// Integer-valued series where a shifted one-pass formula would cancel (a
/// huge offset, a trend, an outlier as a block's first or last value) and
/// where it would not (stationary noise): every level must keep the
/// variance within [`assert_variance`]'s bound and return the exact mean,
/// min and max.
#[test]
fn variance_is_accurate_where_one_pass_formulas_cancel() {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let n = 100_003usize;
    let noise: Vec<i64> = (0..n).map(|_| (next() % 2001) as i64 - 1000).collect();
    let cases: Vec<(&str, Vec<i64>)> = vec![
        ("noise", noise.clone()),
        (
            "offset 2^40",
            noise.iter().map(|&e| (1 << 40) + e).collect(),
        ),
        ("ramp", (0..n as i64).map(|i| 1_000_000_000 + i).collect()),
        (
            "outliers at block ends",
            noise
                .iter()
                .enumerate()
                .map(|(i, &e)| {
                    if i % 1024 == 0 || i % 1024 == 1023 {
                        1 << 45
                    } else {
                        e
                    }
                })
                .collect(),
        ),
        ("constant", vec![123_456_789; n]),
        (
            "steps",
            (0..n as i64).map(|i| (i / 700) * 1_000_000).collect(),
        ),
    ];
    for (name, ints) in &cases {
        let x: Vec<f64> = ints.iter().map(|&v| v as f64).collect();
        for level in Level::available() {
            let k = Kernels::new(level).expect("available");
            for off in [0, 3] {
                let (tail, what) = (&ints[off..], format!("{level} {name} +{off}"));
                let exact = exact_moments(tail);
                let s = k.stats(&x[off..]);
                assert_variance(s.variance().expect("not empty"), exact, &what);
                let mean = s.mean().expect("not empty");
                assert!(
                    (mean - exact.0).abs() <= 1e-15 * exact.0.abs().max(1.0),
                    "{what}: mean"
                );
                let lo = tail.iter().min().map(|&v| v as f64);
                let hi = tail.iter().max().map(|&v| v as f64);
                assert_eq!((s.min(), s.max()), (lo, hi), "{what}");
            }
            // f32 input (every value below 2^24 is exact in f32).
            if ints.iter().all(|v| v.unsigned_abs() < 1 << 24) {
                let xf: Vec<f32> = ints.iter().map(|&v| v as f32).collect();
                let got = k.stats(&xf).variance().expect("not empty");
                assert_variance(got, exact_moments(ints), &format!("{level} {name} f32"));
            }
        }
    }
}
