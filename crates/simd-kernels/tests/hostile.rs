//! Every public entry point at every level driven with arbitrary and extreme
//! values (any bits, mismatched lengths, inverted or non-finite ranges, bin
//! counts up to usize::MAX): each returns `Ok`, `None` or a typed `Err` and
//! never panics or allocates what the input does not justify.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use novacron_simd_kernels::{Kernels, Level, MAX_BINS};
use proptest::prelude::*;

fn bits64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -1e6f64..1e6,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::MAX),
        1 => Just(-f64::MAX),
        1 => Just(5e-324),
        1 => Just(-0.0),
        2 => any::<f64>(),
    ]
}

fn bins() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        1usize..100,
        Just(MAX_BINS + 1),
        Just(usize::MAX),
        any::<usize>(),
    ]
}

fn every_level() -> Vec<Kernels> {
    [Level::Portable, Level::Avx2, Level::Avx512, Level::Neon]
        .into_iter()
        .filter_map(|l| Kernels::new(l).ok())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_kernel_returns_a_value_or_a_typed_error(
        a in prop::collection::vec(bits64(), 0..300),
        b in prop::collection::vec(bits64(), 0..300),
        lo in bits64(),
        hi in bits64(),
        bins in bins(),
        scalar in bits64(),
    ) {
        let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        let b32: Vec<f32> = b.iter().map(|&x| x as f32).collect();
        for k in every_level() {
            let _ = (k.sum(&a), k.sum(&a32), k.sum_accurate(&a), k.sum_accurate(&a32));
            let same = a.len() == b.len();
            prop_assert_eq!(k.dot(&a, &b).is_ok(), same);
            prop_assert_eq!(k.l1(&a32, &b32).is_ok(), same);
            prop_assert_eq!(k.l2_squared(&a, &b).is_ok(), same);
            prop_assert_eq!(k.l2(&a32, &b32).is_ok(), same);
            prop_assert_eq!(k.cosine_distance(&a, &b).is_ok(), same);
            prop_assert_eq!(k.min(&a).is_some(), !a.is_empty());
            prop_assert_eq!(k.argmax(&a32).is_some(), !a.is_empty());
            let _ = (k.max(&a), k.argmin(&a), k.stats(&a), k.stats(&a32));
            let _ = (k.count_above(&a, scalar), k.count_below(&a32, scalar as f32));
            match k.histogram(&a, lo, hi, bins) {
                Ok(h) => {
                    prop_assert!((1..=MAX_BINS).contains(&bins) && lo < hi && lo.is_finite() && hi.is_finite());
                    prop_assert_eq!(h.total(), a.len() as u64);
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
            let mut y = b.clone();
            prop_assert_eq!(k.axpy(scalar, &a, &mut y).is_ok(), same);
            prop_assert_eq!(k.add(&a, &mut y).is_ok(), same);
            k.scale(scalar, &mut y);
            let ordered = lo <= hi;
            prop_assert_eq!(k.clamp(&mut y, lo, hi).is_ok(), ordered);
            let ints: Vec<i64> = a.iter().map(|&x| x as i64).chain([i64::MIN, i64::MAX]).collect();
            prop_assert_eq!(k.sum_int(&ints), ints.iter().map(|&v| i128::from(v)).sum::<i128>());
            let _ = (k.min_int(&ints), k.max_int(&ints));
            #[cfg(feature = "parallel")]
            {
                let _ = (k.par_sum(&a), k.par_sum_accurate(&a32), k.par_dot(&a, &b), k.par_stats(&a));
                let _ = (k.par_min(&a), k.par_max(&a32), k.par_count_above(&a, scalar));
                prop_assert_eq!(k.par_histogram(&a, lo, hi, bins).is_ok(), k.histogram(&a, lo, hi, bins).is_ok());
            }
        }
    }
}
