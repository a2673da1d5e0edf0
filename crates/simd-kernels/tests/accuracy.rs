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
