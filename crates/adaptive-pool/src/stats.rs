//! Counters updated on the hot path (atomics only), the sliding acquire-wait
//! histogram, and the `Stats` snapshot built from them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Why a connection was closed (stored in the connection until it drops).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum CloseReason {
    /// Above the pool's size after a shrink (DBStats' MaxIdleClosed).
    Excess = 0,
    /// Idle longer than the idle timeout.
    IdleTime = 1,
    /// Older than its (jittered) lifetime.
    Lifetime = 2,
    /// Broken: closed by the server, failed a ping, or failed mid-query.
    Broken = 3,
    /// The pool was closed.
    PoolClosed = 4,
}

impl CloseReason {
    pub(crate) fn from_u8(v: u8) -> CloseReason {
        match v {
            1 => CloseReason::IdleTime,
            2 => CloseReason::Lifetime,
            3 => CloseReason::Broken,
            4 => CloseReason::PoolClosed,
            _ => CloseReason::Excess,
        }
    }
}

/// Buckets per power of two: relative bucket width 1/8 (12.5 %).
const SUB_BUCKETS: usize = 8;
/// Powers of two covered: 1 ns to 2^41 ns (about 36 minutes).
const OCTAVES: usize = 42;
const BUCKETS: usize = OCTAVES * SUB_BUCKETS;
/// Sub-windows of the sliding window; the oldest is cleared on rotation.
const SLICES: usize = 8;

/// A log-linear histogram of acquire waits over a sliding window of
/// `SLICES` slices; recording is two relaxed atomic adds.
pub(crate) struct WaitHistogram {
    slices: Box<[[AtomicU64; BUCKETS]]>,
    current: AtomicUsize,
}

impl WaitHistogram {
    pub(crate) fn new() -> WaitHistogram {
        WaitHistogram {
            slices: (0..SLICES)
                .map(|_| std::array::from_fn(|_| AtomicU64::new(0)))
                .collect(),
            current: AtomicUsize::new(0),
        }
    }

    fn bucket(nanos: u64) -> usize {
        let v = nanos.max(1);
        let octave = 63 - v.leading_zeros() as usize;
        let sub = if octave >= 3 {
            ((v >> (octave - 3)) & 7) as usize
        } else {
            // Below 8 ns the sub-bucket is the value itself (exact).
            (v as usize) & 7
        };
        (octave * SUB_BUCKETS + sub).min(BUCKETS - 1)
    }

    /// The largest value that falls into bucket `idx` (an upper bound).
    fn upper(idx: usize) -> u64 {
        let octave = idx / SUB_BUCKETS;
        let sub = (idx % SUB_BUCKETS) as u64;
        if octave < 3 {
            return sub.max(1);
        }
        let base = 1u64 << octave;
        let step = base >> 3;
        base + (sub + 1) * step - 1
    }

    pub(crate) fn record(&self, wait: Duration) {
        let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
        let slice = self.current.load(Ordering::Relaxed) % SLICES;
        self.slices[slice][Self::bucket(nanos)].fetch_add(1, Ordering::Relaxed);
    }

    /// Moves to the next slice, clearing what it held (the oldest data).
    pub(crate) fn rotate(&self) {
        let next = (self.current.load(Ordering::Relaxed) + 1) % SLICES;
        for b in &self.slices[next] {
            b.store(0, Ordering::Relaxed);
        }
        self.current.store(next, Ordering::Relaxed);
    }

    /// Quantiles over the window, each an upper bound within 12.5 % of the
    /// true value; zeros when nothing was recorded.
    pub(crate) fn quantiles(&self, qs: &[f64]) -> Vec<Duration> {
        let mut counts = [0u64; BUCKETS];
        for slice in self.slices.iter() {
            for (c, b) in counts.iter_mut().zip(slice.iter()) {
                *c += b.load(Ordering::Relaxed);
            }
        }
        let total: u64 = counts.iter().sum();
        qs.iter()
            .map(|&q| {
                if total == 0 {
                    return Duration::ZERO;
                }
                let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
                let mut seen = 0;
                for (idx, &c) in counts.iter().enumerate() {
                    seen += c;
                    if seen >= rank {
                        return Duration::from_nanos(Self::upper(idx));
                    }
                }
                Duration::from_nanos(Self::upper(BUCKETS - 1))
            })
            .collect()
    }

    pub(crate) fn slices() -> u32 {
        SLICES as u32
    }
}

/// The pool's counters: relaxed atomics, read as one snapshot by `stats()`.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) waiting: AtomicUsize,
    pub(crate) in_use: AtomicUsize,
    pub(crate) acquired: AtomicU64,
    pub(crate) completed: AtomicU64,
    pub(crate) wait_count: AtomicU64,
    pub(crate) wait_nanos: AtomicU64,
    pub(crate) hold_nanos: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) created: AtomicU64,
    pub(crate) connect_attempts: AtomicU64,
    pub(crate) create_errors: AtomicU64,
    pub(crate) closed: [AtomicU64; 5],
    pub(crate) resizes: AtomicU64,
    pub(crate) reprepared: AtomicU64,
}

impl Counters {
    pub(crate) fn add_nanos(counter: &AtomicU64, d: Duration) {
        counter.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn closed(&self, reason: CloseReason) -> u64 {
        self.closed[reason as usize].load(Ordering::Relaxed)
    }
}

/// A snapshot of the pool, with the fields of Go's `database/sql` `DBStats`
/// and more. Counters are totals since the pool was built.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// The size the pool may grow to now (the controller's target).
    pub max_open: usize,
    /// Connections open, in use and idle.
    pub open: usize,
    /// Connections handed out.
    pub in_use: usize,
    /// Connections open and not handed out.
    pub idle: usize,
    /// Callers waiting in `get()` now.
    pub waiters: usize,
    /// Connections handed out after a wait (queued, or longer than 50 µs).
    pub wait_count: u64,
    /// Total time callers waited in `get()`.
    pub wait_duration: Duration,
    /// Connections closed because the pool shrank below them.
    pub closed_max_idle: u64,
    /// Connections closed for being idle longer than the idle timeout.
    pub closed_max_idle_time: u64,
    /// Connections closed for reaching their lifetime.
    pub closed_max_lifetime: u64,
    /// Connections discarded as broken (closed by the server, failed ping,
    /// failed mid-query); never handed out again.
    pub broken: u64,
    /// Connections created.
    pub created: u64,
    /// Connection attempts, successful or not.
    pub connect_attempts: u64,
    /// Connection attempts that failed.
    pub create_errors: u64,
    /// `get()` calls that ended in [`Error::Timeout`](crate::Error::Timeout).
    pub timeouts: u64,
    /// Size changes made by the controller.
    pub resizes: u64,
    /// Connections handed out in all.
    pub acquired: u64,
    /// Connections returned in all.
    pub completed: u64,
    /// Cached statements dropped and prepared again after the server said
    /// they were invalid (schema change, or a pooler that lost them).
    pub statements_reprepared: u64,
    /// Acquire wait, median over the sliding window (upper bound, ≤ 12.5 % high).
    pub wait_p50: Duration,
    /// Acquire wait, 95th percentile over the window.
    pub wait_p95: Duration,
    /// Acquire wait, 99th percentile over the window.
    pub wait_p99: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_bound_the_exact_ones_within_an_eighth() {
        let h = WaitHistogram::new();
        let mut values: Vec<u64> = (1..=5000u64).map(|i| i * i * 37 + i).collect();
        for &v in &values {
            h.record(Duration::from_nanos(v));
        }
        values.sort_unstable();
        for q in [0.5, 0.95, 0.99, 1.0] {
            let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
            let exact = values[rank - 1] as f64;
            let got = h.quantiles(&[q])[0].as_nanos() as f64;
            assert!(
                got >= exact && got <= exact * 1.125 + 1.0,
                "q {q}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn histogram_forgets_after_a_full_rotation() {
        let h = WaitHistogram::new();
        h.record(Duration::from_secs(3));
        assert!(h.quantiles(&[0.5])[0] >= Duration::from_secs(3));
        for _ in 0..WaitHistogram::slices() {
            h.rotate();
        }
        assert_eq!(h.quantiles(&[0.5])[0], Duration::ZERO);
    }

    #[test]
    fn extreme_waits_land_in_the_last_bucket_without_overflow() {
        let h = WaitHistogram::new();
        h.record(Duration::MAX);
        h.record(Duration::ZERO);
        let q = h.quantiles(&[0.0, 1.0]);
        assert!(q[0] <= Duration::from_nanos(1));
        assert!(q[1] >= Duration::from_secs(60 * 30));
    }
}
