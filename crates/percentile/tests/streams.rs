//! Sampling estimates carry honest confidence intervals; the aggregator
//! reports exact per-metric, per-window quantiles.

use novacron_percentile::{Method, MetricAggregator, Reservoir, quantiles, sample_quantiles};

#[test]
fn reservoir_is_uniform_and_its_intervals_cover_the_truth() {
    // Values 0..n: the true q-quantile is q * n.
    let n = 1_000_000u32;
    let qs = [0.01, 0.1, 0.5, 0.9, 0.99];
    let mut covered = 0;
    let mut total = 0;
    for seed in 0..20 {
        let mut r = Reservoir::new(2_000, seed).expect("k");
        r.extend((0..n).map(f64::from));
        assert_eq!(r.seen(), u64::from(n));
        assert_eq!(r.sample().len(), 2_000);
        for est in r.estimate(&qs).expect("estimate") {
            total += 1;
            let truth = est.q * f64::from(n);
            if est.value_lo <= truth && truth <= est.value_hi {
                covered += 1;
            }
            assert!(est.rank_lo <= est.q && est.q <= est.rank_hi);
        }
    }
    // 95 % intervals: allow sampling noise over 100 intervals.
    assert!(
        covered >= 85,
        "only {covered}/{total} intervals covered the truth"
    );
}

#[test]
fn reservoir_keeps_everything_until_full_and_is_reproducible() {
    let mut a = Reservoir::new(100, 5).expect("k");
    a.extend((0..50).map(f64::from));
    assert_eq!(
        a.sample(),
        (0..50).map(f64::from).collect::<Vec<_>>().as_slice()
    );
    let mut b = Reservoir::new(100, 5).expect("k");
    let mut c = Reservoir::new(100, 5).expect("k");
    b.extend((0..100_000).map(f64::from));
    c.extend((0..100_000).map(f64::from));
    assert_eq!(b.sample(), c.sample());
    // Late items get in too: the sample is not the first k.
    assert!(b.sample().iter().any(|&x| x > 50_000.0));
}

#[test]
fn slice_sampling_estimates_are_close_and_cheap() {
    let data: Vec<f64> = (0..5_000_000).map(|i| f64::from(i % 1_000_000)).collect();
    let est = sample_quantiles(&data, 20_000, &[0.5, 0.99], 11).expect("estimate");
    assert!((est[0].value - 500_000.0).abs() < 20_000.0, "{:?}", est[0]);
    assert!((est[1].value - 990_000.0).abs() < 10_000.0, "{:?}", est[1]);
}

#[test]
fn aggregator_reports_exact_quantiles_per_metric_and_window() {
    let mut agg = MetricAggregator::new();
    let cpu: Vec<f64> = (0..10_001).map(|i| f64::from(i) / 100.0).collect();
    let mem: Vec<f64> = (0..500).map(|i| f64::from(i * 2)).collect();
    // Interleaved batches, as a collector would send them.
    for chunk in cpu.chunks(1000) {
        agg.ingest(chunk.iter().map(|&v| ("vm-1/cpu".to_owned(), v)));
        agg.ingest_slice(&"vm-1/mem".to_owned(), &mem[..50]);
    }
    let report = agg.flush().expect("window 0");
    assert_eq!(report.window, 0);
    assert_eq!(report.metrics.len(), 2);
    let c = &report.metrics[0];
    assert_eq!(c.key, "vm-1/cpu");
    assert_eq!(c.count, cpu.len());
    assert_eq!((c.min, c.max), (0.0, 100.0));
    assert_eq!(
        c.quantiles,
        quantiles(&cpu, &[0.5, 0.9, 0.95, 0.99], Method::Linear).expect("q")
    );
    let m = &report.metrics[1];
    assert_eq!(m.count, 50 * 11);

    // Next window: only what arrived since; silent metrics are left out.
    agg.ingest([("vm-1/cpu".to_owned(), 7.0)]);
    let report = agg.flush().expect("window 1");
    assert_eq!(report.window, 1);
    assert_eq!(report.metrics.len(), 1);
    assert_eq!(report.metrics[0].quantiles, vec![7.0; 4]);
    assert_eq!(agg.metric_count(), 2);
}
