//! Every kernel on every level this CPU supports against a scalar f64
//! reference, on random lengths (0..=4100), random alignments (sub-slices)
//! and special values.

use novacron_simd_kernels::{BLOCK, Kernels, Level};
use proptest::prelude::*;

fn levels() -> Vec<Kernels> {
    let levels = Level::available();
    assert!(levels.contains(&Level::Portable));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        assert!(
            levels.contains(&Level::Avx2),
            "AVX2 machine must test the AVX2 level"
        );
    }
    levels
        .into_iter()
        .map(|l| Kernels::new(l).expect("available level"))
        .collect()
}

/// Values and a start offset, so that kernels see every alignment.
fn slice_f32() -> impl Strategy<Value = (Vec<f32>, usize)> {
    (
        prop::collection::vec(
            prop_oneof![8 => -1e3f32..1e3, 1 => Just(0.0f32), 1 => Just(-0.0f32)],
            0..=4108,
        ),
        0usize..8,
    )
}

fn slice_f64() -> impl Strategy<Value = (Vec<f64>, usize)> {
    (
        prop::collection::vec(
            prop_oneof![8 => -1e6f64..1e6, 1 => Just(0.0), 1 => Just(1e-300)],
            0..=4108,
        ),
        0usize..8,
    )
}

fn sub<T>(v: &[T], off: usize) -> &[T] {
    &v[off.min(v.len())..]
}

fn abs_sum(x: impl Iterator<Item = f64>) -> f64 {
    x.map(f64::abs).sum()
}

/// Worst-case bound of a 32-lane float reduction over `n` terms.
fn bound(n: usize, eps: f64, magnitude: f64) -> f64 {
    ((n / 32) as f64 + 8.0) * eps * magnitude + 1e-30
}

/// numpy's bins, computed another way: the edges of
/// `np.linspace(lo, hi, bins + 1)` (`k · step + lo`, the last one `hi`), then
/// a binary search for the last edge at or below each value.
fn reference_histogram(x: &[f64], lo: f64, hi: f64, bins: usize) -> (Vec<u64>, u64, u64) {
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..bins).map(|k| k as f64 * step + lo).collect();
    edges.push(hi);
    let mut counts = vec![0u64; bins];
    let (mut under, mut over) = (0u64, 0u64);
    for &a in x {
        if a < lo {
            under += 1;
        } else if a > hi {
            over += 1;
        } else {
            let k = edges[..bins].partition_point(|&e| e <= a) - 1;
            counts[k] += 1;
        }
    }
    (counts, under, over)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn f32_reductions_match_the_f64_reference((v, off) in slice_f32()) {
        let x = sub(&v, off);
        let wide: Vec<f64> = x.iter().map(|&a| f64::from(a)).collect();
        let reference: f64 = wide.iter().sum();
        let mag = abs_sum(wide.iter().copied());
        let eps = f64::from(f32::EPSILON);
        for k in levels() {
            let level = k.level();
            prop_assert!((f64::from(k.sum(x)) - reference).abs() <= bound(x.len(), eps, mag), "{level} sum");
            prop_assert!((k.sum_accurate(x) - reference).abs() <= 1e-12 * mag + 1e-30, "{level} sum_accurate");
            let rev: Vec<f32> = x.iter().rev().copied().collect();
            let dot_ref: f64 = wide.iter().zip(rev.iter()).map(|(a, &b)| a * f64::from(b)).sum();
            let dot_mag = abs_sum(wide.iter().zip(rev.iter()).map(|(a, &b)| a * f64::from(b)));
            prop_assert!((f64::from(k.dot(x, &rev).unwrap()) - dot_ref).abs() <= bound(x.len(), eps, dot_mag), "{level} dot");
            let l1_ref: f64 = wide.iter().zip(rev.iter()).map(|(a, &b)| (a - f64::from(b)).abs()).sum();
            prop_assert!((f64::from(k.l1(x, &rev).unwrap()) - l1_ref).abs() <= bound(x.len(), eps, l1_ref) * 2.0, "{level} l1");
            let l2_ref: f64 = wide.iter().zip(rev.iter()).map(|(a, &b)| (a - f64::from(b)).powi(2)).sum();
            prop_assert!((f64::from(k.l2_squared(x, &rev).unwrap()) - l2_ref).abs() <= bound(x.len(), eps, l2_ref) * 4.0, "{level} l2");
            let t = 12.5f32;
            prop_assert_eq!(k.count_above(x, t), x.iter().filter(|&&a| a > t).count());
            prop_assert_eq!(k.count_below(x, t), x.iter().filter(|&&a| a < t).count());
            let min_ref = x.iter().copied().fold(None, |m: Option<f32>, a| Some(m.map_or(a, |m| if a < m { a } else { m })));
            let max_ref = x.iter().copied().fold(None, |m: Option<f32>, a| Some(m.map_or(a, |m| if a > m { a } else { m })));
            prop_assert_eq!(k.min(x), min_ref, "{} min", level);
            prop_assert_eq!(k.max(x), max_ref, "{} max", level);
            prop_assert_eq!(k.argmin(x), min_ref.and_then(|m| x.iter().position(|&a| a == m)));
            prop_assert_eq!(k.argmax(x), max_ref.and_then(|m| x.iter().position(|&a| a == m)));
        }
    }

    #[test]
    fn f64_reductions_and_stats_match_the_reference((v, off) in slice_f64()) {
        let x = sub(&v, off);
        let reference: f64 = x.iter().sum();
        let mag = abs_sum(x.iter().copied());
        for k in levels() {
            let level = k.level();
            prop_assert!((k.sum(x) - reference).abs() <= bound(x.len(), f64::EPSILON, mag), "{level} sum");
            prop_assert!((k.sum_accurate(x) - reference).abs() <= bound(x.len(), f64::EPSILON, mag), "{level} sum_accurate");
            let s = k.stats(x);
            prop_assert_eq!(s.count(), x.len() as u64);
            if x.is_empty() {
                prop_assert_eq!(s.mean(), None);
                prop_assert_eq!(s.variance(), None);
                prop_assert_eq!(s.min(), None);
                prop_assert_eq!(s.sum(), 0.0);
            } else {
                let n = x.len() as f64;
                let mean = reference / n;
                let var = x.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n;
                let scale = x.iter().fold(0.0f64, |m, a| m.max(a.abs()));
                prop_assert!((s.mean().unwrap() - mean).abs() <= 1e-9 * scale + 1e-300, "{level} mean");
                prop_assert!((s.variance().unwrap() - var).abs() <= 1e-9 * scale * scale + 1e-300, "{level} variance");
                prop_assert_eq!(s.min(), x.iter().copied().reduce(f64::min));
                prop_assert_eq!(s.max(), x.iter().copied().reduce(f64::max));
            }
            let rev: Vec<f64> = x.iter().rev().copied().collect();
            let cos = k.cosine_distance(x, &rev).unwrap();
            let (ab, aa, bb) = x.iter().zip(&rev).fold((0.0, 0.0, 0.0), |(p, q, r), (a, b)| (p + a * b, q + a * a, r + b * b));
            let cos_ref = if aa == 0.0 && bb == 0.0 { 0.0 } else if aa == 0.0 || bb == 0.0 { 1.0 } else { (1.0 - ab / (aa.sqrt() * bb.sqrt())).clamp(0.0, 2.0) };
            prop_assert!((cos - cos_ref).abs() <= 1e-9, "{level} cosine {cos} vs {cos_ref}");
        }
    }

    #[test]
    fn histogram_counts_match_binning_by_numpy_edges((v, off) in slice_f64(), bins in 1usize..64, lo in -1e6f64..0.0, width in 1.0f64..2e6) {
        let x = sub(&v, off);
        let hi = lo + width;
        let (counts, under, over) = reference_histogram(x, lo, hi, bins);
        for k in levels() {
            let h = k.histogram(x, lo, hi, bins).unwrap();
            prop_assert_eq!(h.counts(), counts.as_slice());
            prop_assert_eq!((h.underflow(), h.overflow(), h.nan()), (under, over, 0));
            prop_assert_eq!(h.total(), x.len() as u64);
        }
    }

    #[test]
    fn elementwise_kernels_match_the_reference((v, off) in slice_f32(), a in -4.0f32..4.0) {
        let x = sub(&v, off);
        let y0: Vec<f32> = x.iter().map(|v| v * 0.5 + 1.0).collect();
        for k in levels() {
            let mut y = y0.clone();
            k.axpy(a, x, &mut y).unwrap();
            for ((got, &x), &y) in y.iter().zip(x).zip(&y0) {
                let want = f64::from(a) * f64::from(x) + f64::from(y);
                prop_assert!((f64::from(*got) - want).abs() <= 2.0 * f64::from(f32::EPSILON) * (want.abs() + (f64::from(a) * f64::from(x)).abs()) + 1e-30);
            }
            let mut s = x.to_vec();
            k.scale(a, &mut s);
            prop_assert!(s.iter().zip(x).all(|(g, &x)| *g == x * a));
            let mut sum = y0.clone();
            k.add(x, &mut sum).unwrap();
            prop_assert!(sum.iter().zip(x).zip(&y0).all(|((g, &x), &y)| *g == y + x));
            let mut c = x.to_vec();
            k.clamp(&mut c, -10.0, 10.0).unwrap();
            prop_assert!(c.iter().zip(x).all(|(g, &x)| *g == x.clamp(-10.0, 10.0)));
        }
    }
}

#[test]
fn levels_agree_exactly_where_no_multiply_is_fused() {
    let x: Vec<f32> = (0..10_007)
        .map(|i| ((i * 37) % 1001) as f32 * 0.37 - 100.0)
        .collect();
    let ks = levels();
    let first = ks[0];
    for k in &ks[1..] {
        assert_eq!(
            k.sum(&x).to_bits(),
            first.sum(&x).to_bits(),
            "{}",
            k.level()
        );
        assert_eq!(
            k.sum_accurate(&x).to_bits(),
            first.sum_accurate(&x).to_bits()
        );
        assert_eq!(k.min(&x), first.min(&x));
        assert_eq!(
            k.histogram(&x, -50.0, 50.0, 10),
            first.histogram(&x, -50.0, 50.0, 10)
        );
    }
}

#[test]
fn nan_propagates_through_min_max_argmin_and_stats() {
    for k in levels() {
        let mut x: Vec<f64> = (0..1000).map(f64::from).collect();
        x[700] = f64::NAN;
        x[900] = f64::NAN;
        assert!(k.min(&x).is_some_and(f64::is_nan));
        assert!(k.max(&x).is_some_and(f64::is_nan));
        assert_eq!(k.argmin(&x), Some(700));
        assert_eq!(k.argmax(&x), Some(700));
        let s = k.stats(&x);
        assert!(s.mean().is_some_and(f64::is_nan) && s.min().is_some_and(f64::is_nan));
        assert_eq!(k.count_above(&x, -1.0), 998, "NaN is never counted");
        let h = k.histogram(&x, 0.0, 1000.0, 10).expect("valid");
        assert_eq!(h.nan(), 2);
        assert_eq!(h.counts()[9], 99, "900..=999 minus the NaN at 900");
        let edge = k
            .histogram(&[0.0f64, 1000.0], 0.0, 1000.0, 10)
            .expect("valid");
        assert_eq!(edge.counts()[9], 1, "the last bin holds hi too");
        let mut c = x.clone();
        k.clamp(&mut c, 0.0, 5.0).expect("valid");
        assert!(c[700].is_nan());
    }
}

#[test]
fn empty_slices_have_defined_results() {
    for k in levels() {
        let e: [f32; 0] = [];
        assert_eq!(k.sum(&e), 0.0);
        assert_eq!(k.sum_accurate(&e), 0.0);
        assert_eq!(k.dot(&e, &e), Ok(0.0));
        assert_eq!(k.min(&e), None);
        assert_eq!(k.max(&e), None);
        assert_eq!(k.argmin(&e), None);
        assert_eq!(k.argmax(&e), None);
        assert_eq!(k.stats(&e).variance(), None);
        assert_eq!(k.count_above(&e, 0.0), 0);
        assert_eq!(k.histogram(&e, 0.0, 1.0, 4).expect("valid").total(), 0);
        assert_eq!(k.cosine_distance(&e, &e), Ok(0.0));
        assert_eq!(k.sum_int::<i64>(&[]), 0);
        assert_eq!(k.min_int::<u64>(&[]), None);
    }
}

#[test]
fn integer_reductions_are_exact() {
    let k = Kernels::best();
    let x = [i64::MAX, i64::MAX, -5, 7];
    assert_eq!(k.sum_int(&x), 2 * i128::from(i64::MAX) + 2);
    assert_eq!(k.min_int(&x), Some(-5));
    assert_eq!(k.max_int(&[3u64, u64::MAX, 0]), Some(u64::MAX));
}

#[cfg(feature = "parallel")]
#[test]
fn parallel_reductions_are_bit_identical_to_sequential() {
    let x: Vec<f32> = (0..1_000_003i64)
        .map(|i| ((i * 7919) % 10_007) as f32 * 0.013 - 40.0)
        .collect();
    for k in levels() {
        assert_eq!(k.par_sum(&x).to_bits(), k.sum(&x).to_bits());
        assert_eq!(
            k.par_sum_accurate(&x).to_bits(),
            k.sum_accurate(&x).to_bits()
        );
        assert_eq!(
            k.par_dot(&x, &x).map(f32::to_bits),
            k.dot(&x, &x).map(f32::to_bits)
        );
        assert_eq!(k.par_stats(&x), k.stats(&x));
        assert_eq!(k.par_min(&x), k.min(&x));
        assert_eq!(k.par_max(&x), k.max(&x));
        assert_eq!(
            k.par_histogram(&x, -40.0, 90.0, 64),
            k.histogram(&x, -40.0, 90.0, 64)
        );
        assert_eq!(k.par_count_above(&x, 3.0), k.count_above(&x, 3.0));
    }
}

/// Deterministic data of any length (a splitmix stream), with runs of
/// repeated values and a few large magnitudes.
fn long_data(len: usize, seed: u64) -> Vec<f64> {
    let mut z = seed;
    (0..len)
        .map(|i| {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut r = z;
            r = (r ^ (r >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            r = (r ^ (r >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let u = (r ^ (r >> 31)) as f64 / u64::MAX as f64;
            match i % 11 {
                0 => 7.0,
                1 => (u - 0.5) * 1e9,
                _ => (u - 0.5) * 200.0,
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    /// Lengths of one to four 65,536-value blocks and a tail: the block folds
    /// of every reduction are compared with plain references.
    #[test]
    fn block_folds_match_the_reference_across_several_blocks(
        len in (BLOCK - 40)..(4 * BLOCK + 100),
        seed in any::<u64>(),
        off in 0usize..8,
    ) {
        let v = long_data(len, seed);
        let x = sub(&v, off);
        let reference: f64 = x.iter().sum();
        let mag = abs_sum(x.iter().copied());
        let narrow: Vec<f32> = x.iter().map(|&a| a as f32).collect();
        let wide: Vec<f64> = narrow.iter().map(|&a| f64::from(a)).collect();
        let narrow_ref: f64 = wide.iter().sum();
        let narrow_mag = abs_sum(wide.iter().copied());
        let n = x.len() as f64;
        let mean = reference / n;
        let var = x.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n;
        let scale = x.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        let (counts, under, over) = reference_histogram(x, -100.0, 100.0, 37);
        for k in levels() {
            let level = k.level();
            prop_assert!((k.sum(x) - reference).abs() <= bound(x.len(), f64::EPSILON, mag), "{level} sum");
            prop_assert!((k.sum_accurate(x) - reference).abs() <= bound(x.len(), f64::EPSILON, mag), "{level} sum_accurate");
            prop_assert!((f64::from(k.sum(&narrow)) - narrow_ref).abs() <= bound(x.len(), f64::from(f32::EPSILON), narrow_mag), "{level} f32 sum");
            prop_assert!((k.sum_accurate(&narrow) - narrow_ref).abs() <= 1e-12 * narrow_mag, "{level} f32 sum_accurate");
            let dot_ref: f64 = x.iter().map(|a| a * a).sum();
            prop_assert!((k.dot(x, x).unwrap() - dot_ref).abs() <= bound(x.len(), f64::EPSILON, dot_ref), "{level} dot");
            let s = k.stats(x);
            prop_assert_eq!(s.count(), x.len() as u64);
            prop_assert!((s.mean().unwrap() - mean).abs() <= 1e-9 * scale, "{level} mean");
            prop_assert!((s.variance().unwrap() - var).abs() <= 1e-9 * scale * scale, "{level} variance");
            prop_assert_eq!(s.min(), x.iter().copied().reduce(f64::min));
            prop_assert_eq!(s.max(), x.iter().copied().reduce(f64::max));
            prop_assert_eq!(k.min(x), x.iter().copied().reduce(f64::min));
            prop_assert_eq!(k.argmax(x), x.iter().copied().reduce(f64::max).and_then(|m| x.iter().position(|&a| a == m)));
            prop_assert_eq!(k.count_above(x, 7.0), x.iter().filter(|&&a| a > 7.0).count());
            let h = k.histogram(x, -100.0, 100.0, 37).unwrap();
            prop_assert_eq!(h.counts(), counts.as_slice());
            prop_assert_eq!((h.underflow(), h.overflow()), (under, over));
        }
    }
}

#[test]
fn histogram_equals_numpy_on_committed_fixtures() {
    let text = include_str!("fixtures/numpy_histogram.json");
    let fixtures: serde_json::Value = serde_json::from_str(text).expect("fixture JSON");
    let f64_of = |v: &serde_json::Value| {
        f64::from_bits(u64::from_str_radix(v.as_str().expect("hex"), 16).expect("hex bits"))
    };
    let cases = fixtures["cases"].as_array().expect("cases");
    assert!(cases.len() >= 8);
    for case in cases {
        let lo = case["lo"].as_f64().expect("lo");
        let hi = case["hi"].as_f64().expect("hi");
        let bins = case["bins"].as_u64().expect("bins") as usize;
        let data: Vec<f64> = case["data_bits"]
            .as_array()
            .expect("data")
            .iter()
            .map(f64_of)
            .collect();
        let counts: Vec<u64> = case["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .map(|c| c.as_u64().expect("count"))
            .collect();
        for k in levels() {
            let h = k.histogram(&data, lo, hi, bins).unwrap();
            assert_eq!(
                h.counts(),
                counts.as_slice(),
                "{} [{lo}, {hi}] x {bins}",
                k.level()
            );
            assert_eq!(
                h.underflow(),
                case["underflow"].as_u64().expect("underflow")
            );
            assert_eq!(h.overflow(), case["overflow"].as_u64().expect("overflow"));
            assert_eq!(h.nan(), case["nan"].as_u64().expect("nan"));
        }
    }
}

#[test]
fn histogram_over_the_whole_f64_range_counts_every_value_in_its_bin() {
    // Was: the width overflowed to inf and every value landed in bin 0.
    let (lo, hi) = (-f64::MAX, f64::MAX);
    let x = [
        -f64::MAX,
        -1e308,
        -1.0,
        0.0,
        -0.0,
        1.0,
        1e308,
        f64::MAX,
        8e307,
        -8e307,
    ];
    // Edges: -MAX, -MAX/2 (≈ -8.99e307), 0, MAX/2, MAX.
    for k in levels() {
        let h = k.histogram(&x, lo, hi, 4).unwrap();
        assert_eq!(h.counts(), &[2, 2, 4, 2], "{}", k.level());
        assert_eq!(h.total(), x.len() as u64);
    }
}

#[test]
fn huge_bin_counts_are_refused_before_allocating() {
    use novacron_simd_kernels::{Error, MAX_BINS};
    for k in levels() {
        assert_eq!(
            k.histogram(&[1.0f64], 0.0, 2.0, usize::MAX),
            Err(Error::TooManyBins {
                bins: usize::MAX,
                limit: MAX_BINS
            })
        );
        let h = k
            .histogram(&[1.0f64, 0.0, 2.0], 0.0, 2.0, MAX_BINS)
            .unwrap();
        assert_eq!(h.total(), 3);
        assert_eq!(h.counts()[MAX_BINS / 2], 1);
    }
}
