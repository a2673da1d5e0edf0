//! Every public entry point driven with arbitrary and extreme values (0, 1,
//! MAX, NaN, ±inf, subnormal, -0.0, mismatched lengths): each returns `Ok`
//! or a typed `Err`, never panics, and never allocates what the input does
//! not justify (a huge size would abort the test process).

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use novacron_percentile::{
    Config, DDSketch, KllSketch, Method, MetricAggregator, NanPolicy, Percentiles, Reservoir,
    percentiles, quantiles, quantiles_in_place, sample_quantiles, weighted_quantiles,
};
use proptest::prelude::*;

fn extreme_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6f64..1e6,
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(1.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::MAX),
        1 => Just(-f64::MAX),
        1 => Just(f64::MIN_POSITIVE),
        1 => Just(5e-324),
        1 => Just(1e160),
        1 => any::<f64>(),
    ]
}

fn extreme_usize() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        Just(7),
        Just(16),
        Just(65_535),
        Just(1 << 20),
        Just((1 << 20) + 1),
        Just(usize::MAX),
        Just(usize::MAX / 2),
        any::<usize>(),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(Method::ALL.to_vec())
}

fn policy() -> impl Strategy<Value = NanPolicy> {
    prop::sample::select(vec![
        NanPolicy::Error,
        NanPolicy::Omit,
        NanPolicy::Propagate,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn exact_engines_return_ok_or_typed_errors(
        data in prop::collection::vec(extreme_f64(), 0..300),
        qs in prop::collection::vec(extreme_f64(), 0..6),
        method in method(),
        policy in policy(),
        thresholds in (extreme_usize(), extreme_usize(), extreme_usize()),
        seed in any::<u64>(),
        out_len in 0usize..8,
    ) {
        let config = Config::new()
            .nan_policy(policy)
            .bracket_threshold(thresholds.0)
            .parallel_threshold(thresholds.1)
            .sort_threshold(thresholds.2)
            .seed(seed);
        let mut engine = Percentiles::with_config(config);
        if let Ok(v) = engine.quantiles(&data, &qs, method) {
            prop_assert_eq!(v.len(), qs.len());
        }
        let mut out = vec![0.0; out_len];
        let _ = engine.quantiles_into(&data, &qs, method, &mut out);
        let mut copy = data.clone();
        let _ = engine.quantiles_in_place(&mut copy, &qs, method);
        let _ = engine.percentiles(&data, &qs, method);
        let _ = engine.quantile(&data, qs.first().copied().unwrap_or(0.5), method);
        let _ = quantiles(&data, &qs, method);
        let _ = percentiles(&data, &qs, method);
        let mut copy = data.clone();
        let _ = quantiles_in_place(&mut copy, &qs, method);
        let ints: Vec<i64> = data.iter().map(|&x| x as i64).chain([i64::MIN, i64::MAX]).collect();
        let _ = Percentiles::<i64>::new().quantiles(&ints, &qs, method);
        let floats: Vec<f32> = data.iter().map(|&x| x as f32).collect();
        let _ = Percentiles::<f32>::new().quantiles(&floats, &qs, method);
    }

    #[test]
    fn weighted_and_sampled_quantiles_return_ok_or_typed_errors(
        values in prop::collection::vec(extreme_f64(), 0..100),
        weights in prop::collection::vec(extreme_f64(), 0..100),
        qs in prop::collection::vec(extreme_f64(), 0..5),
        policy in policy(),
        k in extreme_usize(),
        seed in any::<u64>(),
    ) {
        let _ = weighted_quantiles(&values, &weights, &qs, policy);
        let positive: Vec<f64> = weights.iter().map(|w| w.abs()).collect();
        let n = values.len().min(positive.len());
        if let Ok(v) = weighted_quantiles(&values[..n], &positive[..n], &qs, policy) {
            prop_assert_eq!(v.len(), qs.len());
        }
        let _ = sample_quantiles(&values, k, &qs, seed);
        if let Ok(mut r) = Reservoir::new(k, seed) {
            r.extend(values.iter().copied());
            let _ = r.estimate(&qs);
            prop_assert!(r.sample().len() <= k);
        }
    }

    #[test]
    fn sketches_return_ok_or_typed_errors(
        alpha in extreme_f64(),
        max_buckets in extreme_usize(),
        k in extreme_usize(),
        values in prop::collection::vec(extreme_f64(), 0..200),
        qs in prop::collection::vec(extreme_f64(), 0..5),
    ) {
        for built in [DDSketch::new(alpha), DDSketch::with_max_buckets(alpha, max_buckets), DDSketch::with_max_buckets(0.01, max_buckets)] {
            let Ok(mut s) = built else { continue };
            s.insert_many(&values);
            s.extend(values.iter().copied());
            let _ = s.quantiles(&qs);
            let _ = s.quantile(qs.first().copied().unwrap_or(0.5));
            let other = s.clone();
            prop_assert!(s.merge(&other).is_ok());
            let mut foreign = DDSketch::new(0.2).unwrap();
            let _ = foreign.merge(&s);
            let _ = (s.sum(), s.min(), s.max(), s.memory_bytes(), s.bucket_count());
            s.clear();
            prop_assert!(s.is_empty());
        }
        if let Ok(mut s) = KllSketch::new(k) {
            s.insert_many(&values);
            let _ = s.quantiles(&qs);
            for &q in &qs {
                let _ = s.rank(q);
            }
            let other = s.clone();
            prop_assert!(s.merge(&other).is_ok());
            let _ = KllSketch::new(200).unwrap().merge(&s);
        }
    }

    #[test]
    fn the_aggregator_and_method_names_return_ok_or_typed_errors(
        qs in prop::collection::vec(extreme_f64(), 0..5),
        values in prop::collection::vec(extreme_f64(), 0..50),
        method in method(),
        policy in policy(),
        name in ".{0,40}",
    ) {
        let _ = name.parse::<Method>();
        let _ = method.name().parse::<Method>().map(|m| assert_eq!(m, method));
        if let Ok(mut agg) = MetricAggregator::<u8>::with_quantiles(&qs, method, Config::new().nan_policy(policy)) {
            agg.ingest(values.iter().map(|&v| (0u8, v)));
            agg.ingest_slice(&1, &values);
            let _ = agg.flush();
            let _ = agg.flush();
        }
    }
}
