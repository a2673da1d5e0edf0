//! An exact byte budget shared by models, caches and in-flight buffers.
//!
//! Python pipelines poll RSS and hope the collector catches up; here every
//! large buffer is admitted first. A [`Reservation`] is taken before the
//! bytes are allocated and gives them back when dropped, so the sum of live
//! reservations is exact and never passes the refusal threshold.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Where the budget starts cleaning up and where it refuses, as fractions of its limit.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Thresholds {
    /// Above this fraction of the limit, registered caches are asked to evict.
    pub cleanup: f64,
    /// A reservation that would take usage above this fraction is refused (or waits).
    pub refuse: f64,
}

impl Thresholds {
    /// No early cleanup; refuse only past the limit itself.
    pub const STRICT: Thresholds = Thresholds {
        cleanup: 1.0,
        refuse: 1.0,
    };
    /// The performance report's monitor: clean up at 75 % (it said 70–80 %), refuse at 90 %.
    pub const REPORT: Thresholds = Thresholds {
        cleanup: 0.75,
        refuse: 0.90,
    };

    /// Thresholds `cleanup ≤ refuse`, both in `(0, 1]`.
    pub fn new(cleanup: f64, refuse: f64) -> Result<Thresholds> {
        let ok = |v: f64| v > 0.0 && v <= 1.0;
        if !ok(cleanup) || !ok(refuse) || cleanup > refuse {
            return Err(Error::InvalidConfig {
                field: "thresholds",
                problem: format!(
                    "cleanup {cleanup} and refuse {refuse} must satisfy 0 < cleanup <= refuse <= 1"
                ),
            });
        }
        Ok(Thresholds { cleanup, refuse })
    }
}

impl Default for Thresholds {
    /// [`Thresholds::STRICT`]: the limit is the limit.
    fn default() -> Self {
        Thresholds::STRICT
    }
}

/// What a reservation does when the budget is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Backpressure {
    /// Fail at once with [`Error::OverBudget`] (the default: callers see load immediately).
    #[default]
    Fail,
    /// Wait up to this long for other reservations to be released, then
    /// fail with [`Error::BudgetTimeout`].
    Wait(Duration),
}

/// Something that holds memory it can give back when the budget is under pressure (a cache).
pub trait Reclaim: Send + Sync {
    /// Frees at least `bytes` bytes if it can (by dropping reservations) and
    /// returns how many it released.
    fn reclaim(&self, bytes: u64) -> u64;
}

/// A byte budget. Cheap to clone: clones share one account.
#[derive(Clone)]
pub struct Budget {
    inner: Arc<Inner>,
}

struct Inner {
    limit: u64,
    cleanup_at: u64,
    refuse_at: u64,
    used: Mutex<u64>,
    released: Condvar,
    peak: AtomicU64,
    refusals: AtomicU64,
    reclaimers: Mutex<Vec<Weak<dyn Reclaim>>>,
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("limit", &self.inner.limit)
            .field("used", &self.used())
            .field("peak", &self.peak())
            .finish()
    }
}

/// Locks `m`, shared by the crate's modules.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every guarded update in this crate is one assignment or one
    // collection operation, so a lock poisoned by a panic elsewhere still
    // guards consistent data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Budget {
    /// A budget of `limit` bytes with [`Thresholds::STRICT`].
    pub fn new(limit: u64) -> Result<Budget> {
        Budget::with_thresholds(limit, Thresholds::STRICT)
    }

    /// The report's preset: `limit` bytes, clean up at 75 %, refuse at 90 %.
    pub fn report_preset(limit: u64) -> Result<Budget> {
        Budget::with_thresholds(limit, Thresholds::REPORT)
    }

    /// A budget of `limit > 0` bytes with the given thresholds.
    pub fn with_thresholds(limit: u64, thresholds: Thresholds) -> Result<Budget> {
        let thresholds = Thresholds::new(thresholds.cleanup, thresholds.refuse)?;
        if limit == 0 {
            return Err(Error::InvalidConfig {
                field: "budget",
                problem: "a budget of 0 bytes admits nothing; pass the bytes the pipeline may use, e.g. 1 << 30".into(),
            });
        }
        let frac = |f: f64| ((limit as f64) * f).min(limit as f64) as u64;
        Ok(Budget {
            inner: Arc::new(Inner {
                limit,
                cleanup_at: frac(thresholds.cleanup),
                refuse_at: frac(thresholds.refuse),
                used: Mutex::new(0),
                released: Condvar::new(),
                peak: AtomicU64::new(0),
                refusals: AtomicU64::new(0),
                reclaimers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The limit, bytes.
    pub fn limit(&self) -> u64 {
        self.inner.limit
    }

    /// Usage above which a reservation is refused, bytes.
    pub fn refuse_at(&self) -> u64 {
        self.inner.refuse_at
    }

    /// Usage above which caches are asked to evict, bytes.
    pub fn cleanup_at(&self) -> u64 {
        self.inner.cleanup_at
    }

    /// Bytes reserved now.
    pub fn used(&self) -> u64 {
        *lock(&self.inner.used)
    }

    /// The most bytes ever reserved at once.
    pub fn peak(&self) -> u64 {
        self.inner.peak.load(Ordering::Relaxed)
    }

    /// Reservations refused so far (each [`Error::OverBudget`] or [`Error::BudgetTimeout`]).
    pub fn refusals(&self) -> u64 {
        self.inner.refusals.load(Ordering::Relaxed)
    }

    /// Registers a cache the budget may ask to evict. Held weakly: dropping
    /// the cache unregisters it.
    pub fn register_reclaimer(&self, reclaimer: Weak<dyn Reclaim>) {
        let mut list = lock(&self.inner.reclaimers);
        list.retain(|w| w.strong_count() > 0);
        list.push(reclaimer);
    }

    /// Takes `bytes` or fails at once with [`Error::OverBudget`]. Allocates nothing on failure.
    pub fn try_reserve(&self, bytes: u64, what: &'static str) -> Result<Reservation> {
        self.reserve(bytes, what, Backpressure::Fail)
    }

    /// Takes `bytes`, asking registered caches to evict when usage would pass
    /// the cleanup threshold, and waiting as `backpressure` says when it
    /// would pass the refusal threshold. A request larger than the refusal
    /// threshold itself fails at once: no amount of waiting admits it.
    pub fn reserve(
        &self,
        bytes: u64,
        what: &'static str,
        backpressure: Backpressure,
    ) -> Result<Reservation> {
        let inner = &*self.inner;
        if bytes > inner.refuse_at {
            inner.refusals.fetch_add(1, Ordering::Relaxed);
            return Err(Error::OverBudget {
                requested: bytes,
                available: inner.refuse_at.saturating_sub(self.used()),
                budget: inner.limit,
                what,
            });
        }
        let start = Instant::now();
        let mut reclaimed_once = false;
        loop {
            {
                let mut used = lock(&inner.used);
                let after = used.saturating_add(bytes);
                if after <= inner.refuse_at && (after <= inner.cleanup_at || reclaimed_once) {
                    *used = after;
                    inner.peak.fetch_max(after, Ordering::Relaxed);
                    return Ok(Reservation {
                        budget: Some(Arc::clone(&self.inner)),
                        bytes,
                    });
                }
                if !reclaimed_once {
                    // Fall through to reclaim outside the lock.
                } else {
                    let deadline = match backpressure {
                        Backpressure::Fail => None,
                        Backpressure::Wait(d) => start.checked_add(d),
                    };
                    let now = Instant::now();
                    match deadline {
                        Some(deadline) if now < deadline => {
                            let (guard, _) = inner
                                .released
                                .wait_timeout(used, deadline - now)
                                .unwrap_or_else(PoisonError::into_inner);
                            drop(guard);
                            // Caches may hold memory that became evictable while waiting.
                            reclaimed_once = false;
                            continue;
                        }
                        _ => {
                            let available = inner.refuse_at.saturating_sub(*used);
                            drop(used);
                            inner.refusals.fetch_add(1, Ordering::Relaxed);
                            return Err(match backpressure {
                                Backpressure::Fail => Error::OverBudget {
                                    requested: bytes,
                                    available,
                                    budget: inner.limit,
                                    what,
                                },
                                Backpressure::Wait(_) => Error::BudgetTimeout {
                                    requested: bytes,
                                    waited: start.elapsed(),
                                    what,
                                },
                            });
                        }
                    }
                }
                // Ask for enough to get back under the cleanup line with this request in.
                let want = after.saturating_sub(inner.cleanup_at.min(inner.refuse_at));
                drop(used);
                self.reclaim(want);
                reclaimed_once = true;
            }
        }
    }

    /// Asks registered caches to free `bytes`; returns what they released.
    pub fn reclaim(&self, bytes: u64) -> u64 {
        let live: Vec<Arc<dyn Reclaim>> = lock(&self.inner.reclaimers)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        let mut freed = 0u64;
        for r in live {
            if freed >= bytes {
                break;
            }
            freed = freed.saturating_add(r.reclaim(bytes - freed));
        }
        freed
    }
}

/// Bytes held against a [`Budget`]; given back on drop.
#[must_use = "the bytes are released when the reservation is dropped"]
pub struct Reservation {
    budget: Option<Arc<Inner>>,
    bytes: u64,
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Reservation {
    /// A reservation of nothing, against no budget.
    pub fn empty() -> Reservation {
        Reservation {
            budget: None,
            bytes: 0,
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Gives back everything above `bytes` (no-op if it holds less).
    pub fn shrink_to(&mut self, bytes: u64) {
        if bytes < self.bytes {
            let give = self.bytes - bytes;
            self.bytes = bytes;
            if let Some(inner) = &self.budget {
                release(inner, give);
            }
        }
    }

    /// Moves `other`'s bytes into this reservation (both must come from one budget).
    pub fn merge(&mut self, mut other: Reservation) {
        if self.budget.is_none() {
            self.budget = other.budget.take();
        }
        self.bytes = self.bytes.saturating_add(other.bytes);
        other.bytes = 0;
    }
}

fn release(inner: &Inner, bytes: u64) {
    let mut used = lock(&inner.used);
    *used = used.saturating_sub(bytes);
    drop(used);
    inner.released.notify_all();
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(inner) = self.budget.take()
            && self.bytes > 0
        {
            release(&inner, self.bytes);
        }
    }
}
