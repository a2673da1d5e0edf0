//! Sketch error bounds on many distributions at 1e6 points, merge
//! equivalence and serde round trips.

use novacron_percentile::{DDSketch, Error, KllSketch};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, Normal, Pareto};

const N: usize = 1_000_000;
const QS: [f64; 12] = [
    0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0,
];

fn rng(seed: u64) -> rand::rngs::Xoshiro256PlusPlus {
    rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed)
}

fn distributions() -> Vec<(&'static str, Vec<f64>)> {
    let mut r = rng(1);
    let normal = Normal::new(100.0, 15.0).expect("normal");
    let lognormal = LogNormal::new(3.0, 1.2).expect("lognormal");
    let pareto = Pareto::new(1.0, 1.2).expect("pareto");
    let uniform: Vec<f64> = (0..N).map(|_| r.random_range(0.0..1000.0)).collect();
    let mut sorted = uniform.clone();
    sorted.sort_by(f64::total_cmp);
    let reverse: Vec<f64> = sorted.iter().rev().copied().collect();
    vec![
        ("uniform", uniform),
        ("normal", (0..N).map(|_| normal.sample(&mut r)).collect()),
        (
            "lognormal",
            (0..N).map(|_| lognormal.sample(&mut r)).collect(),
        ),
        ("pareto", (0..N).map(|_| pareto.sample(&mut r)).collect()),
        (
            "bimodal",
            (0..N)
                .map(|i| {
                    if i % 3 == 0 {
                        5.0 + normal.sample(&mut r) / 50.0
                    } else {
                        5000.0 + normal.sample(&mut r)
                    }
                })
                .collect(),
        ),
        ("constant", vec![42.5; N]),
        ("sorted", sorted),
        ("reverse_sorted", reverse),
        (
            "duplicates",
            (0..N)
                .map(|_| f64::from(r.random_range(0..20u32)) * 1.5)
                .collect(),
        ),
        (
            "crossing_zero",
            (0..N).map(|_| normal.sample(&mut r) - 100.0).collect(),
        ),
    ]
}

fn exact_lower(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).floor() as usize]
}

#[test]
fn ddsketch_is_within_alpha_at_every_quantile_on_every_distribution() {
    for alpha in [0.01, 0.001] {
        for (name, data) in distributions() {
            // 2^15 buckets cover 65 octaves at alpha = 0.1 %, 650 at 1 %.
            let mut sketch = DDSketch::with_max_buckets(alpha, 1 << 15).expect("alpha");
            sketch.insert_many(&data);
            let mut sorted = data.clone();
            sorted.sort_by(f64::total_cmp);
            assert_eq!(sketch.count(), N as u64);
            assert_eq!(sketch.min(), Some(sorted[0]));
            assert_eq!(sketch.max(), Some(sorted[N - 1]));
            assert!(!sketch.is_collapsed(), "{name}");
            let got = sketch.quantiles(&QS).expect("quantiles");
            for (&q, &est) in QS.iter().zip(&got) {
                let exact = exact_lower(&sorted, q);
                let err = if exact == 0.0 {
                    est.abs()
                } else {
                    ((est - exact) / exact).abs()
                };
                assert!(
                    err <= alpha * (1.0 + 1e-9),
                    "{name} alpha={alpha} q={q}: {est} vs {exact} ({err:e})"
                );
                assert_eq!(
                    sketch.quantile(q).expect("q"),
                    est,
                    "single and batch queries agree"
                );
            }
            assert!(
                sketch.memory_bytes() < 320 * 1024,
                "{name}: {} bytes",
                sketch.memory_bytes()
            );
        }
    }
}

#[test]
fn kll_rank_error_stays_within_its_bound_on_every_distribution() {
    for (name, data) in distributions() {
        let mut sketch = KllSketch::new(200).expect("k");
        sketch.insert_many(&data);
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        for &q in &QS {
            let est = sketch.quantile(q).expect("q");
            // Ranks occupied by the estimate's value, as fractions.
            let lo = sorted.partition_point(|&x| x < est) as f64 / N as f64;
            let hi = sorted.partition_point(|&x| x <= est) as f64 / N as f64;
            let err = if q < lo {
                lo - q
            } else if q > hi {
                q - hi
            } else {
                0.0
            };
            assert!(
                err <= 0.02,
                "{name} q={q}: estimate {est} sits at ranks [{lo}, {hi}]"
            );
        }
        assert_eq!(sketch.min(), Some(sorted[0]));
        assert_eq!(sketch.max(), Some(sorted[N - 1]));
        assert!(
            sketch.memory_bytes() < 64 * 1024,
            "{name}: {} bytes",
            sketch.memory_bytes()
        );
    }
}

#[test]
fn merged_ddsketches_equal_the_sketch_of_the_concatenation() {
    let data: Vec<f64> = {
        let mut r = rng(9);
        let lognormal = LogNormal::new(0.0, 2.0).expect("lognormal");
        (0..200_000)
            .map(|i| {
                if i % 5 == 0 {
                    -lognormal.sample(&mut r)
                } else {
                    lognormal.sample(&mut r)
                }
            })
            .collect()
    };
    let mut whole = DDSketch::new(0.01).expect("alpha");
    whole.insert_many(&data);
    let parts: Vec<DDSketch> = data
        .chunks(data.len() / 16)
        .map(|c| {
            let mut s = DDSketch::new(0.01).expect("alpha");
            s.insert_many(c);
            s
        })
        .collect();
    let mut merged = DDSketch::new(0.01).expect("alpha");
    for p in &parts {
        merged.merge(p).expect("same parameters");
    }
    assert_eq!(merged.count(), whole.count());
    assert_eq!(
        merged.quantiles(&QS).expect("q"),
        whole.quantiles(&QS).expect("q")
    );
    assert!((merged.sum() - whole.sum()).abs() <= 1e-9 * whole.sum().abs().max(1.0));

    // Associative and commutative: (a + b) + c == c + (b + a).
    let (a, b, c) = (&parts[0], &parts[1], &parts[2]);
    let mut left = a.clone();
    left.merge(b).expect("merge");
    left.merge(c).expect("merge");
    let mut right = c.clone();
    let mut ba = b.clone();
    ba.merge(a).expect("merge");
    right.merge(&ba).expect("merge");
    assert_eq!(
        left.quantiles(&QS).expect("q"),
        right.quantiles(&QS).expect("q")
    );
    assert_eq!(left.count(), right.count());
}

#[test]
fn merged_kll_sketches_keep_the_rank_bound() {
    let data: Vec<f64> = (0..400_000i64)
        .map(|i| ((i * 7919) % 400_000) as f64)
        .collect();
    let mut merged = KllSketch::new(200).expect("k");
    for chunk in data.chunks(25_000) {
        let mut s = KllSketch::new(200).expect("k");
        s.insert_many(chunk);
        merged.merge(&s).expect("same k");
    }
    assert_eq!(merged.count(), 400_000);
    assert_eq!(merged.sum(), data.iter().sum::<f64>());
    for &q in &QS {
        let est = merged.quantile(q).expect("q");
        let rank = est / 400_000.0; // value i sits at rank i / n
        assert!((rank - q).abs() <= 0.02, "q={q}: {est}");
    }
}

#[test]
fn sketches_reject_bad_parameters_and_incompatible_merges() {
    for alpha in [0.0, 1.0, -0.1, 1.5, f64::INFINITY] {
        assert_eq!(DDSketch::new(alpha), Err(Error::InvalidAlpha { alpha }));
    }
    let err = DDSketch::new(f64::NAN).expect_err("NaN alpha");
    assert!(matches!(err, Error::InvalidAlpha { alpha } if alpha.is_nan()));
    assert!(err.to_string().contains("such as 0.01"), "{err}");
    assert!(matches!(
        DDSketch::with_max_buckets(0.01, 4),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        KllSketch::new(2),
        Err(Error::InvalidParameter { .. })
    ));

    let mut a = DDSketch::new(0.01).expect("alpha");
    let b = DDSketch::new(0.02).expect("alpha");
    let err = a.merge(&b).expect_err("different alpha");
    assert!(matches!(err, Error::IncompatibleSketches { .. }));
    assert!(err.to_string().contains("same configuration"), "{err}");
    let mut k1 = KllSketch::new(200).expect("k");
    assert!(matches!(
        k1.merge(&KllSketch::new(100).expect("k")),
        Err(Error::IncompatibleSketches { .. })
    ));

    assert_eq!(a.quantile(0.5), Err(Error::EmptyInput));
    assert_eq!(k1.quantile(0.5), Err(Error::EmptyInput));
    a.insert(1.0);
    assert_eq!(a.quantile(99.0), Err(Error::QuantileOutOfRange { q: 99.0 }));
    assert!(matches!(
        a.quantile(f64::NAN),
        Err(Error::NonFiniteQuantile { .. })
    ));
}

#[test]
fn sketches_count_nan_and_order_infinities() {
    let mut s = DDSketch::new(0.01).expect("alpha");
    s.insert_many(&[
        f64::NAN,
        1.0,
        f64::INFINITY,
        -2.0,
        0.0,
        f64::NEG_INFINITY,
        1e-320,
    ]);
    assert_eq!(s.nan_count(), 1);
    assert_eq!(s.count(), 6);
    assert_eq!(s.quantile(0.0), Ok(f64::NEG_INFINITY));
    assert_eq!(s.quantile(1.0), Ok(f64::INFINITY));
    assert_eq!(s.quantiles(&[0.2, 0.4]).expect("q")[1], 0.0); // ranks 1 and 2 of -inf,-2,0,1e-320(0),1,inf
    let mut k = KllSketch::new(64).expect("k");
    k.insert_many(&[f64::NAN, 3.0, 1.0, 2.0]);
    assert_eq!((k.count(), k.nan_count()), (3, 1));
    assert_eq!(k.quantile(0.5), Ok(2.0));
}

#[test]
fn ddsketch_clear_keeps_parameters_and_forgets_values() {
    let mut s = DDSketch::new(0.02).expect("alpha");
    s.insert_many(&[1.0, 2.0, 3.0]);
    s.clear();
    assert!(s.is_empty());
    assert_eq!(s.quantile(0.5), Err(Error::EmptyInput));
    assert_eq!(s.alpha(), 0.02);
    s.insert(10.0);
    assert!((s.quantile(0.5).expect("q") - 10.0).abs() <= 0.2);
}

#[test]
fn collapsing_bounds_memory_and_keeps_the_upper_quantiles() {
    let mut s = DDSketch::with_max_buckets(0.01, 64).expect("params");
    let data: Vec<f64> = (0..100_000).map(|i| 1.0001f64.powi(i)).collect(); // spans e^10
    s.insert_many(&data);
    assert!(s.is_collapsed());
    assert!(s.bucket_count() <= 64);
    let exact = data[((data.len() - 1) as f64 * 0.99).floor() as usize];
    let est = s.quantile(0.99).expect("q");
    assert!(((est - exact) / exact).abs() <= 0.01, "{est} vs {exact}");
}

#[cfg(feature = "serde")]
#[test]
fn sketches_survive_a_serde_round_trip_and_reject_tampering() {
    let mut r = rng(3);
    let data: Vec<f64> = (0..50_000).map(|_| r.random_range(-50.0..500.0)).collect();
    let mut dd = DDSketch::new(0.01).expect("alpha");
    dd.insert_many(&data);
    let json = serde_json::to_string(&dd).expect("serialize");
    let back: DDSketch = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, dd);
    assert_eq!(
        back.quantiles(&QS).expect("q"),
        dd.quantiles(&QS).expect("q")
    );

    let tampered = json.replacen("\"count\":50000", "\"count\":50001", 1);
    assert_ne!(tampered, json);
    let err = serde_json::from_str::<DDSketch>(&tampered).expect_err("tampered count");
    assert!(err.to_string().contains("inconsistent"), "{err}");
    let bad_alpha = json.replacen("\"alpha\":0.01", "\"alpha\":2.0", 1);
    assert!(serde_json::from_str::<DDSketch>(&bad_alpha).is_err());

    let mut kll = KllSketch::new(200).expect("k");
    kll.insert_many(&data);
    let json = serde_json::to_string(&kll).expect("serialize");
    let back: KllSketch = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, kll);
    assert_eq!(
        back.quantiles(&QS).expect("q"),
        kll.quantiles(&QS).expect("q")
    );
}
