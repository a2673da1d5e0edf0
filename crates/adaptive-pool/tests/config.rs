//! Bad settings are refused by `Pool::new` with a typed error naming the
//! setting, before anything connects.

use std::time::Duration;

use novacron_adaptive_pool::{Config, Error, Pool, ScalingPolicy, ThroughputPolicy};
use proptest::prelude::*;

/// A port nothing listens on: a valid config would fail to connect, so an
/// `InvalidConfig` proves validation ran first.
const NOWHERE: &str = "postgres://nobody@127.0.0.1:1/none";

fn field_of(config: Config) -> Option<&'static str> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    match rt.block_on(Pool::connect(
        NOWHERE,
        config.connect_timeout(Duration::from_millis(200)),
    )) {
        Err(Error::InvalidConfig { field, problem }) => {
            assert!(!problem.is_empty());
            Some(field)
        }
        _ => None,
    }
}

#[test]
fn contradictory_or_empty_sizes_are_refused() {
    assert_eq!(field_of(Config::default().max_size(0)), Some("max_size"));
    assert_eq!(
        field_of(Config::default().min_size(10).max_size(5)),
        Some("min_size")
    );
    assert_eq!(
        field_of(Config::default().max_size(usize::MAX)),
        Some("max_size")
    );
    assert_eq!(
        field_of(Config::default().initial_size(Some(500))),
        Some("initial_size")
    );
    assert_eq!(
        field_of(Config::default().initial_size(Some(0))),
        Some("initial_size")
    );
    assert_eq!(field_of(Config::default().min_idle(101)), Some("min_idle"));
    assert_eq!(
        field_of(Config::default().max_concurrent_connects(0)),
        Some("max_concurrent_connects")
    );
    assert_eq!(
        field_of(Config::default().statement_cache_capacity(usize::MAX)),
        Some("statement_cache_capacity")
    );
}

#[test]
fn zero_and_absurd_timeouts_are_refused() {
    assert_eq!(
        field_of(Config::default().acquire_timeout(Duration::ZERO)),
        Some("acquire_timeout")
    );
    assert_eq!(
        field_of(Config::default().ping_timeout(Duration::ZERO)),
        Some("ping_timeout")
    );
    assert_eq!(
        field_of(Config::default().max_lifetime(Duration::MAX)),
        Some("max_lifetime")
    );
    assert_eq!(
        field_of(Config::default().idle_timeout(Duration::from_secs(86_401))),
        Some("idle_timeout")
    );
    assert_eq!(
        field_of(
            Config::default()
                .backoff_base(Duration::from_secs(2))
                .backoff_max(Duration::from_secs(1))
        ),
        Some("backoff_base")
    );
}

#[test]
fn jitter_outside_zero_one_is_refused() {
    for jitter in [1.0, -0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            field_of(Config::default().lifetime_jitter(jitter)),
            Some("lifetime_jitter"),
            "{jitter}"
        );
    }
    assert_eq!(
        Config::default().lifetime_jitter(0.0).validate().ok(),
        Some(())
    );
}

#[test]
fn policy_parameters_are_checked() {
    let mut bad = ThroughputPolicy::default();
    bad.max_growth = f64::NAN;
    assert_eq!(
        field_of(Config::default().policy(ScalingPolicy::Throughput(bad))),
        Some("policy.max_growth")
    );
    assert!(Config::seed_report().validate().is_ok());
}

#[test]
fn bad_connection_strings_are_typed_errors() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = rt.block_on(Pool::connect("postgres://[::1", Config::default()));
    assert!(
        matches!(result, Err(Error::BadConnectionString(_))),
        "{result:?}"
    );
}

#[test]
fn unreachable_server_fails_within_the_connect_timeout_naming_the_cause() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = std::time::Instant::now();
    let result = rt.block_on(Pool::connect(
        NOWHERE,
        Config::default().connect_timeout(Duration::from_millis(500)),
    ));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    match result {
        Err(Error::Connect { target, cause, .. }) => {
            assert!(target.contains("127.0.0.1:1"), "{target}");
            assert!(!cause.is_empty());
            let message = Error::Connect {
                target,
                cause,
                source: None,
            }
            .to_string();
            assert!(message.contains("cannot connect"), "{message}");
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any combination validates or is refused; nothing panics, and an
    /// accepted one keeps its bounds ordered.
    #[test]
    fn validation_never_panics(
        min in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..400],
        max in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..400],
        initial in proptest::option::of(prop_oneof![Just(0usize), Just(usize::MAX), 0usize..400]),
        timeout_ns in prop_oneof![Just(0u64), Just(u64::MAX), 0u64..10_000_000_000],
        jitter in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), -2.0f64..2.0],
        cache in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..5000],
    ) {
        let config = Config::default()
            .min_size(min)
            .max_size(max)
            .initial_size(initial)
            .acquire_timeout(Duration::from_nanos(timeout_ns))
            .ping_timeout(Duration::from_nanos(timeout_ns))
            .lifetime_jitter(jitter)
            .statement_cache_capacity(cache);
        if config.validate().is_ok() {
            prop_assert!(min <= max && max > 0);
            prop_assert!((0.0..1.0).contains(&jitter));
        }
    }
}
