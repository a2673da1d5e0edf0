//! The sizing policies on synthetic traces: a simulated server whose
//! throughput peaks at a known size, driven by a closed loop of callers.

use std::time::Duration;

use novacron_adaptive_pool::{Controller, Reason, Sample, ScalingPolicy, ThroughputPolicy};

const TICK: Duration = Duration::from_millis(500);

/// A server model shaped like the measured loopback sweep (deadpool, 2
/// cores: 7.1k ops/s at 2, 8.1k at 5, 9.6k at 25, 8.3k at 100): about 9 %
/// more per doubling below the peak, 7 % less per doubling above it.
fn throughput(size: usize, peak: usize, peak_ops: f64) -> f64 {
    let octaves = (size.max(1) as f64 / peak as f64).log2();
    let loss = if octaves < 0.0 {
        -0.09 * octaves
    } else {
        0.07 * octaves
    };
    peak_ops * (1.0 - loss).max(0.2)
}

/// One tick of `callers` closed-loop callers on `size` connections.
fn tick(size: usize, callers: usize, peak: usize, peak_ops: f64) -> Sample {
    let secs = TICK.as_secs_f64();
    let busy = size.min(callers) as f64;
    let ops = if callers >= size {
        throughput(size, peak, peak_ops)
    } else {
        throughput(callers, peak, peak_ops) * callers as f64 / size.max(1) as f64
    };
    let waiting = callers.saturating_sub(size) as f64;
    Sample {
        interval: TICK,
        size,
        acquired: (ops * secs) as u64,
        completed: (ops * secs) as u64,
        wait_total: Duration::from_secs_f64(waiting * secs),
        hold_total: Duration::from_secs_f64(busy * secs),
        waiters: callers.saturating_sub(size),
        timeouts: 0,
    }
}

fn run(controller: &mut Controller, ticks: usize, callers: usize, peak: usize) -> Vec<usize> {
    (0..ticks)
        .map(|_| {
            let sample = tick(controller.size(), callers, peak, 10_000.0);
            controller.step(&sample);
            controller.size()
        })
        .collect()
}

#[test]
fn throughput_policy_reaches_near_the_peak_within_ten_seconds_for_two_different_peaks() {
    for peak in [25usize, 100] {
        let mut controller = Controller::new(ScalingPolicy::default(), 2, 200, 2);
        let sizes = run(&mut controller, 20, 1000, peak); // 20 ticks = 10 s
        let best = throughput(peak, peak, 10_000.0);
        let reached = throughput(*sizes.last().expect("ticks"), peak, 10_000.0);
        assert!(
            reached >= 0.95 * best,
            "peak {peak}: sizes {sizes:?} end at {reached:.0} ops/s of {best:.0}"
        );
    }
}

#[test]
fn a_step_that_does_not_raise_throughput_is_reverted() {
    // Flat throughput: more connections never help.
    let mut controller = Controller::new(ScalingPolicy::default(), 2, 200, 8);
    let flat = |size: usize| Sample {
        interval: TICK,
        size,
        acquired: 5000,
        completed: 5000,
        wait_total: Duration::from_secs(100),
        hold_total: Duration::from_secs_f64(size as f64 * 0.5),
        waiters: 200,
        timeouts: 0,
    };
    let grow = controller.step(&flat(8)).expect("waiters grow the pool");
    assert!(grow.to > 8);
    assert!(
        controller.step(&flat(grow.to)).is_none(),
        "one interval to settle"
    );
    let revert = controller.step(&flat(grow.to)).expect("reverted");
    assert_eq!(revert.to, 8);
    assert!(matches!(revert.reason, Reason::Reverted { .. }));
    // Cooling down: waiters alone do not grow it again at once.
    assert!(controller.step(&flat(8)).is_none());
}

#[test]
fn throughput_policy_shrinks_only_after_sustained_idle() {
    let policy = ThroughputPolicy::default();
    let shrink_after = policy.shrink_after;
    let mut controller = Controller::new(ScalingPolicy::Throughput(policy), 2, 200, 50);
    let idle = |size: usize| Sample {
        interval: TICK,
        size,
        acquired: 100,
        completed: 100,
        wait_total: Duration::ZERO,
        hold_total: Duration::from_millis(1000), // 2 busy of 50
        waiters: 0,
        timeouts: 0,
    };
    let ticks_needed = (shrink_after.as_secs_f64() / TICK.as_secs_f64()).ceil() as usize;
    for _ in 0..ticks_needed - 1 {
        assert!(
            controller.step(&idle(50)).is_none(),
            "no shrink before the delay"
        );
    }
    let shrink = controller.step(&idle(50)).expect("shrinks after the delay");
    assert_eq!(shrink.from, 50);
    assert_eq!(shrink.to, 40);
    // A busy interval resets the idle clock (hysteresis).
    let mut busy = idle(40);
    busy.hold_total = Duration::from_secs(18);
    for _ in 0..ticks_needed - 1 {
        controller.step(&idle(40));
    }
    assert!(controller.step(&busy).is_none());
    assert!(controller.step(&idle(40)).is_none());
}

#[test]
fn report_policy_grows_by_half_above_eighty_percent_and_shrinks_after_five_minutes() {
    let mut controller = Controller::new(ScalingPolicy::seed_report(), 5, 100, 20);
    let at = |size: usize, busy: f64| Sample {
        interval: Duration::from_secs(10),
        size,
        acquired: 1,
        completed: 1,
        wait_total: Duration::ZERO,
        hold_total: Duration::from_secs_f64(busy * 10.0),
        waiters: 0,
        timeouts: 0,
    };
    let grow = controller.step(&at(20, 17.0)).expect("85 % grows");
    assert_eq!(grow.to, 30);
    assert!(controller.step(&at(30, 20.0)).is_none(), "67 % holds");
    for _ in 0..29 {
        assert!(
            controller.step(&at(30, 3.0)).is_none(),
            "10 % for under 5 min holds"
        );
    }
    let shrink = controller
        .step(&at(30, 3.0))
        .expect("5 minutes under 30 % shrinks");
    assert_eq!(shrink.to, 24);
}

#[test]
fn sizes_stay_within_bounds_on_extreme_samples() {
    for policy in [
        ScalingPolicy::default(),
        ScalingPolicy::seed_report(),
        ScalingPolicy::Static,
    ] {
        let mut controller = Controller::new(policy, 3, 7, 5);
        for sample in [
            Sample::default(),
            Sample {
                interval: Duration::ZERO,
                size: usize::MAX,
                acquired: u64::MAX,
                completed: u64::MAX,
                wait_total: Duration::MAX,
                hold_total: Duration::MAX,
                waiters: usize::MAX,
                timeouts: u64::MAX,
            },
        ] {
            for _ in 0..50 {
                controller.step(&sample);
                assert!(
                    (3..=7).contains(&controller.size()),
                    "{}",
                    controller.size()
                );
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Arbitrary samples, extreme durations and counts included, never
    /// panic (no overflow in the idle clock) and never leave the bounds.
    #[test]
    fn any_sample_stream_keeps_the_size_within_bounds(
        min in 0usize..50,
        span in 0usize..200,
        start in 0usize..400,
        samples in proptest::collection::vec(
            (
                proptest::prop_oneof![proptest::strategy::Just(u64::MAX), 0u64..5_000_000_000],
                proptest::prop_oneof![proptest::strategy::Just(u64::MAX), 0u64..100_000],
                proptest::prop_oneof![proptest::strategy::Just(0u64), proptest::strategy::Just(u64::MAX), 0u64..100_000_000_000],
                proptest::prop_oneof![
                    proptest::strategy::Just(0usize),
                    proptest::strategy::Just(usize::MAX),
                    0usize..2000
                ],
                0u64..3,
            ),
            1..40,
        ),
        policy_idx in 0usize..3,
    ) {
        let policy = [ScalingPolicy::default(), ScalingPolicy::seed_report(), ScalingPolicy::Static][policy_idx].clone();
        let max = min + span;
        let mut controller = Controller::new(policy, min, max, start);
        let (lo, hi) = controller.bounds();
        for (interval_ns, ops, nanos, waiters, timeouts) in samples {
            let sample = Sample {
                // u64::MAX stands for the longest Duration there is.
                interval: if interval_ns == u64::MAX { Duration::MAX } else { Duration::from_nanos(interval_ns) },
                size: controller.size(),
                acquired: ops,
                completed: ops,
                wait_total: Duration::from_nanos(nanos),
                hold_total: Duration::from_nanos(nanos / 2),
                waiters,
                timeouts,
            };
            if let Some(d) = controller.step(&sample) {
                proptest::prop_assert!(d.to != d.from);
            }
            proptest::prop_assert!((lo..=hi).contains(&controller.size()));
        }
    }
}
