//! Latency histogram and counters of an engine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Buckets per doubling: each bucket spans a factor of 2^(1/8), ≤ 9.1 % wide.
const SUB: u32 = 8;
/// Buckets from 1 µs to 2^40 µs (12.7 days).
const BUCKETS: usize = (40 * SUB) as usize + 1;

/// A lock-free latency histogram with log-spaced buckets (≤ 9.1 % relative error).
#[derive(Debug)]
pub struct LatencyHistogram {
    counts: Box<[AtomicU64]>,
    total: AtomicU64,
    sum_ns: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            total: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
        }
    }
}

fn bucket_of(us: f64) -> usize {
    if us <= 1.0 {
        return 0;
    }
    ((us.log2() * f64::from(SUB)).ceil() as usize).min(BUCKETS - 1)
}

fn upper_of(bucket: usize) -> Duration {
    Duration::from_secs_f64(2f64.powf(bucket as f64 / f64::from(SUB)) * 1e-6)
}

impl LatencyHistogram {
    /// Records one latency.
    pub fn record(&self, d: Duration) {
        let us = d.as_secs_f64() * 1e6;
        self.counts[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Latencies recorded.
    pub fn count(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Mean latency, or zero when empty.
    pub fn mean(&self) -> Duration {
        let n = self.count();
        if n == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.sum_ns.load(Ordering::Relaxed) / n)
    }

    /// The upper edge of the bucket holding quantile `q` (clamped to `[0, 1]`;
    /// NaN reads as 0), or zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        let n = self.count();
        if n == 0 {
            return Duration::ZERO;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let rank = ((q * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c.load(Ordering::Relaxed);
            if seen >= rank {
                return upper_of(i);
            }
        }
        upper_of(BUCKETS - 1)
    }
}

/// A snapshot of an engine's counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Metrics {
    /// Requests served.
    pub requests: u64,
    /// Requests that failed (any error).
    pub errors: u64,
    /// Requests refused by the budget.
    pub over_budget: u64,
    /// Model loads.
    pub loads: u64,
    /// Models evicted.
    pub model_evictions: u64,
    /// Feature cache hits, misses and evictions.
    pub cache_hits: u64,
    /// Feature cache misses.
    pub cache_misses: u64,
    /// Feature cache evictions.
    pub cache_evictions: u64,
    /// Bytes reserved in the budget now.
    pub bytes_in_use: u64,
    /// Most bytes ever reserved at once.
    pub bytes_peak: u64,
    /// The budget's limit.
    pub budget: u64,
    /// Median request latency (bucket upper edge).
    pub latency_p50: Duration,
    /// 99th percentile request latency (bucket upper edge).
    pub latency_p99: Duration,
}
