//! Regressions for wrong answers and panics found by hostile use: each test
//! failed before its fix.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use novacron_percentile::{
    DDSketch, Error, MAX_SAMPLE, NanPolicy, Reservoir, sample_quantiles, weighted_quantiles,
};
use proptest::prelude::*;

/// numpy's `lower` order statistic of sorted data.
fn exact_lower(sorted: &[f64], q: f64) -> f64 {
    sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
}

fn assert_within_alpha(sketch: &DDSketch, values: &[f64]) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    for q in [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0] {
        let exact = exact_lower(&sorted, q);
        let got = sketch.quantile(q).unwrap();
        assert!(
            (got - exact).abs() <= sketch.alpha() * exact.abs(),
            "q {q}: {got:e} vs exact {exact:e}"
        );
    }
}

#[test]
fn ddsketch_keeps_its_relative_bound_at_the_ends_of_the_f64_range() {
    // Was: every quantile of {1e160, 2e160, 3e160} came back as 3e160.
    for values in [
        vec![1e160, 2e160, 3e160],
        vec![1e-300, 2e-300, 3e-300, 5e-300],
        vec![1e-170, 1e-165, 1e-161],
        vec![f64::MAX, f64::MAX / 1.5, f64::MAX / 3.0, 1e308],
        vec![f64::MIN_POSITIVE, 1e-307, 3e-300, 1e-100, 1.0, 1e100, 1e300],
    ] {
        let mut s = DDSketch::with_max_buckets(0.01, 1 << 20).unwrap();
        s.insert_many(&values);
        assert_within_alpha(&s, &values);
        let negated: Vec<f64> = values.iter().map(|v| -v).collect();
        let mut s = DDSketch::with_max_buckets(0.01, 1 << 20).unwrap();
        s.insert_many(&negated);
        assert_within_alpha(&s, &negated);
    }
}

proptest! {
    #[test]
    fn ddsketch_relative_bound_holds_for_any_normal_magnitude(
        exps in prop::collection::vec(-1021.0f64..1023.9, 1..60),
        alpha in prop::sample::select(vec![0.001, 0.01, 0.05]),
    ) {
        let values: Vec<f64> = exps.iter().map(|&e| 2f64.powf(e)).filter(|v| v.is_normal()).collect();
        prop_assume!(!values.is_empty());
        let mut s = DDSketch::with_max_buckets(alpha, 1 << 20).unwrap();
        s.insert_many(&values);
        assert_within_alpha(&s, &values);
    }

    #[test]
    fn ddsketch_extremes_are_exact(values in prop::collection::vec(-1e12f64..1e12, 1..500)) {
        let mut s = DDSketch::new(0.02).unwrap();
        s.insert_many(&values);
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert_eq!(s.quantile(0.0).unwrap().to_bits(), min.to_bits());
        prop_assert_eq!(s.quantile(1.0).unwrap().to_bits(), max.to_bits());
        prop_assert_eq!(s.quantiles(&[1.0, 0.0]).unwrap(), vec![max, min]);
    }
}

#[test]
fn weighted_quantiles_survive_a_total_weight_that_overflows() {
    // Was: one value for every q (every share became 0 or NaN).
    let values = [1.0, 2.0, 3.0, 4.0];
    let qs = [0.1, 0.3, 0.6, 0.9, 1.0];
    let expected = weighted_quantiles(&values, &[1.0; 4], &qs, NanPolicy::Error).unwrap();
    assert_eq!(expected, vec![1.0, 2.0, 3.0, 4.0, 4.0]);
    let got = weighted_quantiles(&values, &[f64::MAX; 4], &qs, NanPolicy::Error).unwrap();
    assert_eq!(got, expected);
    let uneven = weighted_quantiles(
        &values,
        &[f64::MAX, 1.0, f64::MAX, f64::MAX],
        &qs,
        NanPolicy::Error,
    );
    // Shares 1/3, 1/3 + 2⁻¹⁰²⁴, 2/3, 1.
    assert_eq!(uneven.unwrap(), vec![1.0, 1.0, 3.0, 4.0, 4.0]);
}

#[test]
fn a_reservoir_larger_than_memory_allocates_as_values_arrive() {
    // Was: Vec::with_capacity(usize::MAX) aborted the process.
    let mut r = Reservoir::new(usize::MAX, 1).unwrap();
    r.extend([3.0, 1.0, 2.0]);
    assert_eq!(r.sample(), &[3.0, 1.0, 2.0]);
    assert_eq!(r.estimate(&[0.5]).unwrap()[0].value, 2.0);
}

#[test]
fn sample_sizes_beyond_the_data_and_the_cap_are_refused() {
    let data = [1.0, 2.0, 3.0];
    assert_eq!(
        sample_quantiles(&data, usize::MAX, &[0.5], 1),
        Err(Error::TooLarge {
            what: "the sample size k",
            size: u64::MAX,
            limit: MAX_SAMPLE as u64,
        })
    );
    assert!(sample_quantiles(&data, MAX_SAMPLE, &[0.5], 1).is_ok());
}

#[cfg(feature = "serde")]
mod serde_round_trips {
    use super::*;
    use novacron_percentile::KllSketch;

    fn ddsketch_states() -> Vec<DDSketch> {
        let mut states = vec![DDSketch::new(0.01).unwrap()];
        for values in [
            vec![f64::INFINITY],
            vec![f64::NEG_INFINITY, 1.0],
            vec![f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 0.0],
            vec![f64::MAX, f64::MAX, -3.0],
            vec![1.5, -2.5, 1e-310, 0.0],
        ] {
            let mut s = DDSketch::new(0.01).unwrap();
            s.insert_many(&values);
            states.push(s);
        }
        states
    }

    #[test]
    fn every_ddsketch_state_reads_back_its_own_json() {
        // Was: empty and infinite states wrote `null` and failed to read back.
        for s in ddsketch_states() {
            let json = serde_json::to_string(&s).unwrap();
            let back: DDSketch = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
            assert_eq!(back.count(), s.count());
            assert_eq!(back.min().map(f64::to_bits), s.min().map(f64::to_bits));
            assert_eq!(back.max().map(f64::to_bits), s.max().map(f64::to_bits));
            let same_sum = back.sum().to_bits() == s.sum().to_bits()
                || (back.sum().is_nan() && s.sum().is_nan());
            assert!(same_sum, "sum {} vs {}", back.sum(), s.sum());
            if !s.is_empty() {
                assert_eq!(
                    back.quantiles(&[0.0, 0.5, 1.0]),
                    s.quantiles(&[0.0, 0.5, 1.0])
                );
            }
        }
    }

    #[test]
    fn every_kll_state_reads_back_its_own_json() {
        let mut states = vec![KllSketch::new(200).unwrap()];
        for values in [
            vec![f64::INFINITY],
            vec![f64::NEG_INFINITY, f64::INFINITY, f64::NAN, 2.0],
            (0..5000)
                .map(f64::from)
                .chain([f64::INFINITY])
                .collect::<Vec<_>>(),
        ] {
            let mut s = KllSketch::new(200).unwrap();
            s.insert_many(&values);
            states.push(s);
        }
        for s in states {
            let json = serde_json::to_string(&s).unwrap();
            let back: KllSketch = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
            assert_eq!(back.count(), s.count());
            if !s.is_empty() {
                assert_eq!(
                    back.quantiles(&[0.0, 0.5, 1.0]),
                    s.quantiles(&[0.0, 0.5, 1.0])
                );
            }
        }
    }

    #[test]
    fn merging_sketches_whose_counts_overflow_is_an_error_that_changes_nothing() {
        let mut full = DDSketch::new(0.01).unwrap();
        full.insert(0.0);
        let json = serde_json::to_string(&full)
            .unwrap()
            .replace("\"zero_count\":1", &format!("\"zero_count\":{}", u64::MAX))
            .replace("\"count\":1", &format!("\"count\":{}", u64::MAX));
        let full: DDSketch = serde_json::from_str(&json).unwrap();
        let mut one = DDSketch::new(0.01).unwrap();
        one.insert(5.0);
        let before = one.clone();
        assert_eq!(one.merge(&full), Err(Error::CountOverflow));
        assert_eq!(one, before);
        // Inserting into the full sketch saturates rather than overflowing.
        let mut full = full;
        full.insert(1.0);
        assert_eq!(full.count(), u64::MAX);

        // A KLL sketch holding one item at level 55 weighs 2^55 values.
        let mut kll = KllSketch::new(8).unwrap();
        kll.insert(1.0);
        let json = serde_json::to_string(&kll).unwrap();
        let heavy = json
            .replace("\"count\":1", &format!("\"count\":{}", 1u64 << 55))
            .replace(
                "\"levels\":[[1.0]]",
                &format!("\"levels\":[{}[1.0]]", "[],".repeat(55)),
            );
        let mut heavy: KllSketch = serde_json::from_str(&heavy).unwrap();
        for _ in 0..8 {
            let copy = heavy.clone();
            heavy.merge(&copy).unwrap();
        }
        assert_eq!(heavy.count(), 1u64 << 63);
        let copy = heavy.clone();
        assert_eq!(heavy.merge(&copy), Err(Error::CountOverflow));
        assert_eq!(heavy, copy);
    }

    #[test]
    fn a_kll_sketch_whose_count_does_not_match_its_items_is_refused() {
        let mut kll = KllSketch::new(8).unwrap();
        kll.insert_many(&[1.0, 2.0, 3.0]);
        let json = serde_json::to_string(&kll).unwrap();
        let lying = json.replace("\"count\":3", "\"count\":1000");
        assert!(matches!(
            serde_json::from_str::<KllSketch>(&lying),
            Err(e) if e.to_string().contains("do not add up to count")
        ));
        let outside = json.replace("\"max\":3.0", "\"max\":2.0");
        assert!(serde_json::from_str::<KllSketch>(&outside).is_err());
    }
}
