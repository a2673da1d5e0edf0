//! Feature extraction against numpy/scipy fixtures, and its edge cases.

use std::path::PathBuf;

use ndarray::{Array2, Array3, ArrayView2};
use novacron_ml_inference::{Error, FeatureConfig, FeatureExtractor, NonFinitePolicy};
use proptest::prelude::*;
use serde_json::Value;

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/features.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

#[test]
fn features_match_numpy_and_scipy_on_even_and_odd_window_lengths() {
    let fx = fixture();
    let mut checked = 0;
    for case in fx["cases"].as_array().expect("cases") {
        let n = case["n_samples"].as_u64().expect("n") as usize;
        let window = Array2::from_shape_vec((5, n), floats(&case["window"])).expect("window");
        let ex = FeatureExtractor::new(FeatureConfig::default(), n).expect("extractor");
        let ours = ex.extract(window.view()).expect("features");
        let reference = floats(&case["features"]);
        assert_eq!(ours.len(), reference.len(), "feature count");
        let names = ex.feature_names();
        for (i, (&a, &b)) in ours.iter().zip(&reference).enumerate() {
            let tol = 2e-6 * b.abs().max(1e-3);
            assert!(
                (f64::from(a) - b).abs() <= tol,
                "n={n} metric {} feature {}: ours {a} numpy {b}",
                i / names.len(),
                names[i % names.len()]
            );
            checked += 1;
        }
    }
    assert!(checked > 2000, "only {checked} values checked");
}

#[test]
fn chunked_extraction_equals_one_window_at_a_time_across_chunk_boundaries() {
    let ex =
        FeatureExtractor::new(FeatureConfig::default().chunk_windows(7), 60).expect("extractor");
    let windows = Array3::from_shape_fn((23, 5, 60), |(w, m, s)| {
        ((w * 31 + m * 7 + s) % 97) as f64 + (s as f64 * 0.1).sin()
    });
    let mut rows = Vec::new();
    let mut chunks = Vec::new();
    ex.for_each_chunk(5, windows.outer_iter(), |chunk| {
        chunks.push(chunk.nrows());
        rows.extend(chunk.outer_iter().map(|r| r.to_vec()));
        Ok(())
    })
    .expect("chunks");
    assert_eq!(chunks, vec![7, 7, 7, 2]);
    let all = ex.extract_all(windows.view()).expect("all");
    for (w, row) in rows.iter().enumerate() {
        let single = ex
            .extract(windows.index_axis(ndarray::Axis(0), w))
            .expect("one");
        assert_eq!(row, &single, "window {w}");
        assert_eq!(all.row(w).to_vec(), single, "extract_all window {w}");
    }
}

#[test]
fn constant_rows_give_zero_spread_skew_and_kurtosis_not_nan() {
    let ex = FeatureExtractor::new(FeatureConfig::default(), 60).expect("extractor");
    let window = Array2::from_elem((2, 60), 42.0);
    let f = ex.extract(window.view()).expect("features");
    assert!(f.iter().all(|v| v.is_finite()));
    let names = ex.feature_names();
    for name in ["std", "skew", "kurtosis", "slope", "band_0"] {
        let i = names.iter().position(|n| n == name).expect("name");
        assert_eq!(f[i], 0.0, "{name}");
    }
}

#[test]
fn non_finite_samples_are_rejected_by_default_and_filled_on_request() {
    let mut window = Array2::from_shape_fn((3, 60), |(m, s)| (m * 60 + s) as f64);
    window[[1, 17]] = f64::NAN;
    window[[2, 0]] = f64::INFINITY;
    let strict = FeatureExtractor::new(FeatureConfig::default(), 60).expect("extractor");
    match strict.extract(window.view()) {
        Err(Error::NonFinite {
            metric: 1,
            sample_idx: 17,
            value,
        }) => assert!(value.is_nan()),
        other => panic!("expected NonFinite at metric 1 sample 17, got {other:?}"),
    }
    let fill = FeatureExtractor::new(
        FeatureConfig::default().non_finite(NonFinitePolicy::FillPrevious),
        60,
    )
    .expect("extractor");
    let filled = fill.extract(window.view()).expect("filled");
    let mut repaired = window.clone();
    repaired[[1, 17]] = repaired[[1, 16]];
    repaired[[2, 0]] = repaired[[2, 1]];
    assert_eq!(filled, strict.extract(repaired.view()).expect("clean"));
    let all_nan = Array2::from_elem((1, 60), f64::NAN);
    assert!(matches!(
        fill.extract(all_nan.view()),
        Err(Error::NonFinite { metric: 0, .. })
    ));
}

#[test]
fn bad_shapes_and_configs_are_typed_errors() {
    let ex = FeatureExtractor::new(FeatureConfig::default(), 60).expect("extractor");
    let empty = Array2::<f64>::zeros((0, 60));
    assert_eq!(
        ex.extract(empty.view()),
        Err(Error::Empty("the metric window"))
    );
    let short = Array2::<f64>::zeros((5, 59));
    assert!(matches!(
        ex.extract(short.view()),
        Err(Error::InputShape { .. })
    ));
    for (cfg, n) in [
        (FeatureConfig::default(), 1),
        (FeatureConfig::default(), usize::MAX),
        (FeatureConfig::default().lags([60]), 60),
        (FeatureConfig::default().rolling(0), 60),
        (FeatureConfig::default().rolling(61), 60),
        (FeatureConfig::default().quantiles([f64::NAN]), 60),
        (FeatureConfig::default().quantiles([1.5]), 60),
        (FeatureConfig::default().bands(31), 60),
        (FeatureConfig::default().chunk_windows(0), 60),
    ] {
        assert!(
            matches!(
                FeatureExtractor::new(cfg.clone(), n),
                Err(Error::InvalidConfig { .. })
            ),
            "{cfg:?} n={n}"
        );
    }
}

/// Plain reference for the moments, quantiles and slope, independent of the fast path.
fn reference_row(x: &[f64]) -> (f64, f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let h = (x.len() - 1) as f64 * 0.5;
    let median =
        s[h.floor() as usize] + (h - h.floor()) * (s[h.ceil() as usize] - s[h.floor() as usize]);
    let t: Vec<f64> = (0..x.len()).map(|i| i as f64).collect();
    let tm = t.iter().sum::<f64>() / n;
    let slope = t
        .iter()
        .zip(x)
        .map(|(a, b)| (a - tm) * (b - mean))
        .sum::<f64>()
        / t.iter().map(|a| (a - tm) * (a - tm)).sum::<f64>();
    (mean, var.sqrt(), median, slope)
}

proptest! {
    #[test]
    fn moments_median_and_slope_match_a_plain_reference(
        x in prop::collection::vec(-1e6f64..1e6, 2..300),
    ) {
        let ex = FeatureExtractor::new(FeatureConfig::default().lags([1]).rolling(1).bands(1).quantiles([0.5]), x.len())
            .expect("extractor");
        let w = ArrayView2::from_shape((1, x.len()), &x).expect("view");
        let f = ex.extract(w).expect("features");
        let (mean, std, median, slope) = reference_row(&x);
        let names = ex.feature_names();
        let get = |name: &str| f64::from(f[names.iter().position(|n| n == name).expect("name")]);
        let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-6 * scale.max(1.0);
        prop_assert!(close(get("mean"), mean, 1e6));
        prop_assert!(close(get("std"), std, 1e6));
        prop_assert!(close(get("q0.5"), median, 1e6));
        prop_assert!(close(get("slope"), slope, 1e6));
    }

    #[test]
    fn extreme_input_gives_every_feature_or_a_non_finite_error_never_a_panic(
        x in prop::collection::vec(prop_oneof![any::<f64>(), Just(f64::MAX), Just(f64::MIN), Just(0.0)], 2..80),
    ) {
        let ex = FeatureExtractor::new(FeatureConfig::default().lags([1]).rolling(1).bands(1), x.len())
            .expect("extractor");
        let w = ArrayView2::from_shape((1, x.len()), &x).expect("view");
        match ex.extract(w) {
            Ok(f) => prop_assert_eq!(f.len(), ex.n_features(1)),
            Err(Error::NonFinite { .. }) => prop_assert!(x.iter().any(|v| !v.is_finite())),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}
