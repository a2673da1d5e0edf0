//! Property tests: every fast path against a plain sort-based reference.

mod common;

use novacron_percentile::{Config, Method, NanPolicy, Percentiles, weighted_quantiles};
use proptest::prelude::*;

fn sorted(data: &[f64]) -> Vec<f64> {
    let mut s = data.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

fn finite_vec(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            4 => -1e6f64..1e6,
            1 => (-5i32..5).prop_map(f64::from), // duplicates
            1 => Just(0.0),
            1 => Just(-0.0),
            1 => prop::num::f64::NORMAL,
        ],
        1..max_len,
    )
}

fn fractions() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![0.0f64..=1.0, Just(0.0), Just(1.0), Just(0.5), Just(0.99)],
        1..12,
    )
}

fn configs() -> impl Strategy<Value = Config> {
    prop_oneof![
        Just(Config::new()),
        Just(
            Config::new()
                .bracket_threshold(0)
                .parallel_threshold(usize::MAX)
        ),
        Just(Config::new().bracket_threshold(0).parallel_threshold(0)),
        Just(Config::new().sort_threshold(1)),
        any::<u64>().prop_map(|seed| Config::new().bracket_threshold(16).seed(seed)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn linear_matches_sort_reference_on_every_path(data in finite_vec(3000), qs in fractions(), config in configs()) {
        let s = sorted(&data);
        let want: Vec<f64> = qs.iter().map(|&q| common::reference_linear(&s, q)).collect();
        let mut engine = Percentiles::with_config(config);
        let got = engine.quantiles(&data, &qs, Method::Linear).unwrap();
        prop_assert_eq!(&got, &want);
        let mut copy = data.clone();
        let got = engine.quantiles_in_place(&mut copy, &qs, Method::Linear).unwrap();
        prop_assert_eq!(&got, &want);
        // In place only reorders: the multiset is unchanged.
        prop_assert_eq!(sorted(&copy), s);
    }

    #[test]
    fn discrete_methods_return_the_order_statistic(data in finite_vec(3000), qs in fractions(), config in configs()) {
        let s = sorted(&data);
        let n = s.len();
        let mut engine = Percentiles::with_config(config);
        let lower = engine.quantiles(&data, &qs, Method::Lower).unwrap();
        let higher = engine.quantiles(&data, &qs, Method::Higher).unwrap();
        for (i, &q) in qs.iter().enumerate() {
            let h = (n - 1) as f64 * q;
            prop_assert_eq!(lower[i], s[h.floor() as usize]);
            prop_assert_eq!(higher[i], s[(h.ceil() as usize).min(n - 1)]);
        }
    }

    #[test]
    fn integer_paths_match_sorting(data in prop::collection::vec(any::<i64>(), 1..3000), qs in fractions(), config in configs()) {
        let mut s = data.clone();
        s.sort();
        let n = s.len();
        let mut engine = Percentiles::<i64>::with_config(config.clone());
        let got = engine.quantiles(&data, &qs, Method::Nearest).unwrap();
        for (i, &q) in qs.iter().enumerate() {
            let r = ((n - 1) as f64 * q).round_ties_even() as usize;
            prop_assert_eq!(got[i], s[r] as f64);
        }
        let u: Vec<u64> = data.iter().map(|&x| x as u64).collect();
        let mut us = u.clone();
        us.sort();
        let got = Percentiles::<u64>::with_config(config).quantiles(&u, &qs, Method::Lower).unwrap();
        for (i, &q) in qs.iter().enumerate() {
            prop_assert_eq!(got[i], us[((n - 1) as f64 * q).floor() as usize] as f64);
        }
    }

    #[test]
    fn f32_matches_sorting(data in prop::collection::vec(-1e3f32..1e3, 1..3000), qs in fractions(), config in configs()) {
        let mut s = data.clone();
        s.sort_by(f32::total_cmp);
        let wide: Vec<f64> = s.iter().map(|&x| f64::from(x)).collect();
        let got = Percentiles::<f32>::with_config(config).quantiles(&data, &qs, Method::Linear).unwrap();
        for (i, &q) in qs.iter().enumerate() {
            prop_assert_eq!(got[i], common::reference_linear(&wide, q));
        }
    }

    #[test]
    fn nan_omit_equals_quantiles_of_the_rest(data in finite_vec(2000), nan_every in 2usize..10, qs in fractions(), config in configs()) {
        let mut with_nan = data.clone();
        for i in (0..with_nan.len()).step_by(nan_every) {
            with_nan[i] = f64::NAN;
        }
        let rest: Vec<f64> = with_nan.iter().copied().filter(|x| !x.is_nan()).collect();
        prop_assume!(!rest.is_empty());
        let s = sorted(&rest);
        let want: Vec<f64> = qs.iter().map(|&q| common::reference_linear(&s, q)).collect();
        let mut engine = Percentiles::with_config(config.nan_policy(NanPolicy::Omit));
        prop_assert_eq!(engine.quantiles(&with_nan, &qs, Method::Linear).unwrap(), want.clone());
        let mut copy = with_nan.clone();
        prop_assert_eq!(engine.quantiles_in_place(&mut copy, &qs, Method::Linear).unwrap(), want);
    }

    #[test]
    fn weighted_with_integer_weights_equals_repeated_values(
        pairs in prop::collection::vec((-1e3f64..1e3, 0u32..5), 1..200),
        qs in fractions(),
    ) {
        prop_assume!(pairs.iter().any(|p| p.1 > 0));
        let values: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let weights: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
        let mut repeated: Vec<f64> = pairs.iter().flat_map(|&(v, w)| std::iter::repeat_n(v, w as usize)).collect();
        repeated.sort_by(f64::total_cmp);
        let got = weighted_quantiles(&values, &weights, &qs, NanPolicy::Error).unwrap();
        // Reference: inverted CDF = smallest x with (#values <= x) / n >= q.
        let n = repeated.len() as f64;
        for (i, &q) in qs.iter().enumerate() {
            let idx = repeated.iter().enumerate()
                .position(|(j, _)| (j + 1) as f64 / n >= q)
                .unwrap_or(repeated.len() - 1);
            let want = if q == 0.0 { repeated[0] } else { repeated[idx] };
            prop_assert_eq!(got[i], want, "q={}", q);
        }
    }
}

/// Data long enough for the parallel bracket pass to split into several
/// chunks (it never cuts below 2^16 values), with runs of ties.
fn multi_chunk_data(len: usize, seed: u64) -> Vec<f64> {
    let mut z = seed;
    (0..len)
        .map(|i| {
            z = z
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (z >> 11) as f64 / (1u64 << 53) as f64;
            if i % 7 == 0 {
                (u * 8.0).floor()
            } else {
                (u - 0.5) * 1e6
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn parallel_is_bit_identical_to_sequential(
        len in (1usize << 17)..(1 << 19),
        data_seed in any::<u64>(),
        qs in fractions(),
        seed in any::<u64>(),
    ) {
        let data = multi_chunk_data(len, data_seed);
        let sorted_data = sorted(&data);
        for method in Method::ALL {
            let seq = Percentiles::with_config(Config::new().bracket_threshold(0).parallel_threshold(usize::MAX).seed(seed))
                .quantiles(&data, &qs, method).unwrap();
            let par = Percentiles::with_config(Config::new().bracket_threshold(0).parallel_threshold(0).seed(seed))
                .quantiles(&data, &qs, method).unwrap();
            let seq_bits: Vec<u64> = seq.iter().map(|x| x.to_bits()).collect();
            let par_bits: Vec<u64> = par.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(seq_bits, par_bits, "{}", method);
        }
        // And both equal the sort reference, so a shared bug cannot hide.
        let want: Vec<f64> = qs.iter().map(|&q| common::reference_linear(&sorted_data, q)).collect();
        let par = Percentiles::with_config(Config::new().bracket_threshold(0).parallel_threshold(0).seed(seed))
            .quantiles(&data, &qs, Method::Linear).unwrap();
        prop_assert_eq!(par, want);
    }
}
