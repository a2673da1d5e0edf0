//! Every kind of bad input gets a typed error, never a panic.

use novacron_percentile::{
    Config, Error, Method, MetricAggregator, NanPolicy, Percentiles, Reservoir, percentiles,
    quantiles, quantiles_in_place, sample_quantiles, weighted_quantiles,
};

fn big_with_nan_at(index: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..100_000).map(f64::from).collect();
    v[index] = f64::NAN;
    v
}

#[test]
fn empty_input_is_an_error() {
    assert_eq!(
        quantiles::<f64>(&[], &[0.5], Method::Linear),
        Err(Error::EmptyInput)
    );
    assert_eq!(
        quantiles_in_place::<u64>(&mut [], &[0.5], Method::Linear),
        Err(Error::EmptyInput)
    );
    // Only NaN, omitted, leaves nothing.
    let only_nan = Percentiles::with_config(Config::new().nan_policy(NanPolicy::Omit)).quantiles(
        &[f64::NAN, f64::NAN],
        &[0.5],
        Method::Linear,
    );
    assert_eq!(only_nan, Err(Error::EmptyInput));
    let big_nan = vec![f64::NAN; 100_000];
    let res = Percentiles::with_config(Config::new().nan_policy(NanPolicy::Omit)).quantiles(
        &big_nan,
        &[0.5],
        Method::Linear,
    );
    assert_eq!(res, Err(Error::EmptyInput));
}

#[test]
fn no_quantiles_is_an_error() {
    assert_eq!(
        quantiles(&[1.0], &[], Method::Linear),
        Err(Error::NoQuantiles)
    );
}

#[test]
fn quantile_out_of_range_suggests_the_fraction() {
    let err = quantiles(&[1.0, 2.0], &[99.0], Method::Linear).expect_err("99 is not a fraction");
    assert_eq!(err, Error::QuantileOutOfRange { q: 99.0 });
    let msg = err.to_string();
    assert!(msg.contains("0.99"), "{msg}");
    assert!(msg.contains("percent API"), "{msg}");
    assert_eq!(
        quantiles(&[1.0], &[-0.1], Method::Linear),
        Err(Error::QuantileOutOfRange { q: -0.1 })
    );
    assert_eq!(
        quantiles(&[1.0], &[1.0000001], Method::Linear),
        Err(Error::QuantileOutOfRange { q: 1.0000001 })
    );
    assert_eq!(
        percentiles(&[1.0], &[101.0], Method::Linear),
        Err(Error::PercentOutOfRange { p: 101.0 })
    );
    assert_eq!(
        percentiles(&[1.0], &[-1.0], Method::Linear),
        Err(Error::PercentOutOfRange { p: -1.0 })
    );
}

#[test]
fn nan_or_infinite_quantiles_are_errors() {
    for q in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = quantiles(&[1.0, 2.0], &[0.5, q], Method::Linear).expect_err("non-finite q");
        assert!(matches!(err, Error::NonFiniteQuantile { .. }), "{err:?}");
        let err = percentiles(&[1.0, 2.0], &[q], Method::Linear).expect_err("non-finite p");
        assert!(matches!(err, Error::NonFiniteQuantile { .. }), "{err:?}");
    }
}

#[test]
fn nan_in_data_follows_the_policy_on_every_path() {
    for (data, first) in [
        (vec![1.0, f64::NAN, 3.0, f64::NAN], 1),
        (big_with_nan_at(77_777), 77_777),
    ] {
        // Error (default) names the first NaN.
        let mut engine = Percentiles::new();
        assert_eq!(
            engine.quantiles(&data, &[0.5], Method::Linear),
            Err(Error::NanInData { index: first })
        );
        let mut copy = data.clone();
        assert_eq!(
            engine.quantiles_in_place(&mut copy, &[0.5], Method::Linear),
            Err(Error::NanInData { index: first })
        );
        // Propagate gives NaN everywhere, like numpy.quantile.
        let mut engine = Percentiles::with_config(Config::new().nan_policy(NanPolicy::Propagate));
        let got = engine
            .quantiles(&data, &[0.1, 0.9], Method::Linear)
            .expect("propagate");
        assert!(got.iter().all(|x| x.is_nan()));
        // Omit skips them, like numpy.nanquantile.
        let rest: Vec<f64> = data.iter().copied().filter(|x| !x.is_nan()).collect();
        let mut engine = Percentiles::with_config(Config::new().nan_policy(NanPolicy::Omit));
        assert_eq!(
            engine.quantiles(&data, &[0.5], Method::Linear),
            quantiles(&rest, &[0.5], Method::Linear)
        );
    }
    let msg = Error::NanInData { index: 3 }.to_string();
    assert!(msg.contains("NanPolicy::Omit"), "{msg}");
}

#[test]
fn infinities_are_ordinary_ordered_values() {
    let data = [f64::INFINITY, 1.0, f64::NEG_INFINITY, 2.0, 3.0];
    let got = quantiles(&data, &[0.0, 0.5, 1.0], Method::Linear).expect("infinities are fine");
    assert_eq!(got, vec![f64::NEG_INFINITY, 2.0, f64::INFINITY]);
    // Interpolating towards an infinity gives that infinity.
    let got = quantiles(&data, &[0.9], Method::Linear).expect("q");
    assert_eq!(got, vec![f64::INFINITY]);
}

#[test]
fn output_slice_of_the_wrong_length_is_an_error() {
    let mut out = [0.0; 3];
    let err = Percentiles::new().quantiles_into(&[1.0, 2.0], &[0.5], Method::Linear, &mut out);
    assert_eq!(
        err,
        Err(Error::OutputLength {
            expected: 1,
            got: 3
        })
    );
}

#[test]
fn weighted_input_errors() {
    let q = [0.5];
    assert_eq!(
        weighted_quantiles(&[1.0, 2.0], &[1.0], &q, NanPolicy::Error),
        Err(Error::LengthMismatch {
            values: 2,
            weights: 1
        })
    );
    assert_eq!(
        weighted_quantiles(&[1.0, 2.0], &[1.0, -1.0], &q, NanPolicy::Error),
        Err(Error::InvalidWeight {
            index: 1,
            weight: -1.0
        })
    );
    let nan_weight = weighted_quantiles(&[1.0, 2.0], &[f64::NAN, 1.0], &q, NanPolicy::Error);
    assert!(matches!(
        nan_weight,
        Err(Error::InvalidWeight { index: 0, .. })
    ));
    let inf_weight = weighted_quantiles(&[1.0, 2.0], &[1.0, f64::INFINITY], &q, NanPolicy::Error);
    assert!(matches!(
        inf_weight,
        Err(Error::InvalidWeight { index: 1, .. })
    ));
    assert_eq!(
        weighted_quantiles(&[1.0, 2.0], &[0.0, 0.0], &q, NanPolicy::Error),
        Err(Error::ZeroTotalWeight)
    );
    assert_eq!(
        weighted_quantiles(&[], &[], &q, NanPolicy::Error),
        Err(Error::EmptyInput)
    );
    assert_eq!(
        weighted_quantiles(&[1.0, f64::NAN], &[1.0, 1.0], &q, NanPolicy::Error),
        Err(Error::NanInData { index: 1 })
    );
    assert_eq!(
        weighted_quantiles(&[1.0, f64::NAN], &[1.0, 1.0], &q, NanPolicy::Omit),
        Ok(vec![1.0])
    );
    assert_eq!(
        weighted_quantiles(&[1.0], &[1.0], &[1.5], NanPolicy::Omit),
        Err(Error::QuantileOutOfRange { q: 1.5 })
    );
}

#[test]
fn sampling_errors() {
    assert!(matches!(
        Reservoir::new(0, 1),
        Err(Error::InvalidParameter { .. })
    ));
    let r = Reservoir::new(10, 1).expect("k");
    assert_eq!(r.estimate(&[0.5]), Err(Error::EmptyInput));
    assert_eq!(sample_quantiles(&[], 10, &[0.5], 1), Err(Error::EmptyInput));
    assert!(matches!(
        sample_quantiles(&[1.0], 0, &[0.5], 1),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn unknown_method_names_list_the_valid_ones() {
    let err = "median".parse::<Method>().expect_err("not a numpy name");
    assert!(err.to_string().contains("median_unbiased"), "{err}");
}

#[test]
fn aggregator_rejects_bad_configuration_and_reports_nan() {
    assert_eq!(
        MetricAggregator::<String>::with_quantiles(&[], Method::Linear, Config::new()).map(|_| ()),
        Err(Error::NoQuantiles)
    );
    assert_eq!(
        MetricAggregator::<String>::with_quantiles(&[95.0], Method::Linear, Config::new())
            .map(|_| ()),
        Err(Error::QuantileOutOfRange { q: 95.0 })
    );
    let mut agg = MetricAggregator::new();
    agg.ingest([("cpu", 1.0), ("cpu", f64::NAN)]);
    assert_eq!(agg.flush(), Err(Error::NanInData { index: 1 }));
    // The failed window was closed: the next one starts clean.
    agg.ingest([("cpu", 5.0)]);
    let report = agg.flush().expect("clean window");
    assert_eq!(report.window, 1);
    assert_eq!(report.metrics[0].quantiles, vec![5.0; 4]);
}
