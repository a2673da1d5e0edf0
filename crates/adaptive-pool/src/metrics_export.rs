//! The `metrics` feature: `Stats` as gauges and counters through the
//! `metrics` facade, recorded on every control tick.

use crate::stats::Stats;

/// Records `stats` under `adaptive_pool_*` names with label `pool = name`
/// (gauges for sizes and wait percentiles in seconds, counters as absolute
/// totals).
pub fn export(stats: &Stats, name: &str) {
    let label = [("pool", name.to_owned())];
    let gauges = [
        ("adaptive_pool_max_open", stats.max_open as f64),
        ("adaptive_pool_open", stats.open as f64),
        ("adaptive_pool_in_use", stats.in_use as f64),
        ("adaptive_pool_idle", stats.idle as f64),
        ("adaptive_pool_waiters", stats.waiters as f64),
        (
            "adaptive_pool_wait_p50_seconds",
            stats.wait_p50.as_secs_f64(),
        ),
        (
            "adaptive_pool_wait_p95_seconds",
            stats.wait_p95.as_secs_f64(),
        ),
        (
            "adaptive_pool_wait_p99_seconds",
            stats.wait_p99.as_secs_f64(),
        ),
        (
            "adaptive_pool_wait_duration_seconds_total",
            stats.wait_duration.as_secs_f64(),
        ),
    ];
    for (key, value) in gauges {
        metrics::gauge!(key, &label).set(value);
    }
    let counters = [
        ("adaptive_pool_wait_count_total", stats.wait_count),
        ("adaptive_pool_closed_max_idle_total", stats.closed_max_idle),
        (
            "adaptive_pool_closed_max_idle_time_total",
            stats.closed_max_idle_time,
        ),
        (
            "adaptive_pool_closed_max_lifetime_total",
            stats.closed_max_lifetime,
        ),
        ("adaptive_pool_broken_total", stats.broken),
        ("adaptive_pool_created_total", stats.created),
        (
            "adaptive_pool_connect_attempts_total",
            stats.connect_attempts,
        ),
        ("adaptive_pool_create_errors_total", stats.create_errors),
        ("adaptive_pool_timeouts_total", stats.timeouts),
        ("adaptive_pool_resizes_total", stats.resizes),
        ("adaptive_pool_acquired_total", stats.acquired),
        (
            "adaptive_pool_statements_reprepared_total",
            stats.statements_reprepared,
        ),
    ];
    for (key, value) in counters {
        metrics::counter!(key, &label).absolute(value);
    }
}
