//! The feature cache (LRU by count and bytes) and the fixed-size request history.
//!
//! The report's pipeline kept every feature vector and every request (with
//! its whole dataset) forever. Here the cache holds at most `max_entries`
//! vectors and `max_bytes` bytes, each entry's bytes reserved in the budget,
//! and the history is a ring of fixed-size summaries.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;

use crate::budget::lock;
use crate::budget::{Budget, Reclaim, Reservation};
use crate::error::{Error, Result};

/// Overhead charged per cache entry besides its values (key, `Arc`, LRU links).
const ENTRY_OVERHEAD: u64 = 96;

struct Cached {
    values: Arc<[f32]>,
    _bytes: Reservation,
}

/// Feature vectors by key, bounded by count and bytes, charged to a budget.
pub struct FeatureCache {
    budget: Budget,
    max_bytes: u64,
    max_entries: usize,
    map: Mutex<(LruCache<u64, Cached>, u64)>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

impl std::fmt::Debug for FeatureCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureCache")
            .field("len", &self.len())
            .field("bytes", &self.bytes())
            .finish()
    }
}

impl FeatureCache {
    /// A cache of at most `max_entries` vectors and `max_bytes` bytes.
    pub fn new(budget: &Budget, max_entries: usize, max_bytes: u64) -> Result<Arc<FeatureCache>> {
        if !(1..=1 << 24).contains(&max_entries) {
            return Err(Error::InvalidConfig {
                field: "feature_cache_entries",
                problem: format!("{max_entries} is outside 1..=16777216"),
            });
        }
        let cache = Arc::new(FeatureCache {
            budget: budget.clone(),
            max_bytes,
            max_entries,
            // Unbounded here, bounded in `insert`: `LruCache::new(cap)` would
            // allocate its table for `cap` entries before anything is cached.
            map: Mutex::new((LruCache::unbounded(), 0)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        });
        let weak: std::sync::Weak<dyn Reclaim> =
            Arc::downgrade(&(cache.clone() as Arc<dyn Reclaim>));
        budget.register_reclaimer(weak);
        Ok(cache)
    }

    /// The vector under `key`, if cached.
    pub fn get(&self, key: u64) -> Option<Arc<[f32]>> {
        let mut g = lock(&self.map);
        match g.0.get(&key) {
            Some(c) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(Arc::clone(&c.values))
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Caches `values` under `key` if its bytes fit; returns whether it was cached.
    /// A full budget is not an error here: the vector is simply not kept.
    pub fn insert(&self, key: u64, values: Arc<[f32]>) -> bool {
        let bytes = values.len() as u64 * 4 + ENTRY_OVERHEAD;
        if bytes > self.max_bytes {
            return false;
        }
        let mut g = lock(&self.map);
        if let Some(old) = g.0.pop(&key) {
            g.1 -= old._bytes.bytes();
        }
        while g.1 + bytes > self.max_bytes || g.0.len() >= self.max_entries {
            match g.0.pop_lru() {
                Some((_, old)) => {
                    g.1 -= old._bytes.bytes();
                    self.evictions.fetch_add(1, Ordering::Relaxed);
                }
                None => break,
            }
        }
        drop(g);
        // Reserve outside the cache lock: the budget may ask this cache to reclaim.
        let Ok(r) = self.budget.try_reserve(bytes, "feature cache entry") else {
            return false;
        };
        let mut g = lock(&self.map);
        g.1 += bytes;
        if let Some((_, old)) =
            g.0.push(key, Cached { values, _bytes: r })
                .filter(|(k, _)| *k != key)
        {
            g.1 -= old._bytes.bytes();
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// Entries cached now.
    pub fn len(&self) -> usize {
        lock(&self.map).0.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the cache holds (charged to the budget).
    pub fn bytes(&self) -> u64 {
        lock(&self.map).1
    }

    /// `(hits, misses, evictions)` so far.
    pub fn counters(&self) -> (u64, u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
            self.evictions.load(Ordering::Relaxed),
        )
    }
}

impl Reclaim for FeatureCache {
    fn reclaim(&self, bytes: u64) -> u64 {
        let mut freed = 0;
        let mut g = lock(&self.map);
        while freed < bytes {
            match g.0.pop_lru() {
                Some((_, old)) => {
                    let b = old._bytes.bytes();
                    g.1 -= b;
                    freed += b;
                    self.evictions.fetch_add(1, Ordering::Relaxed);
                }
                None => break,
            }
        }
        freed
    }
}

/// One served request, summarized in a fixed size (no features, no inputs).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSummary {
    /// Which model served it.
    pub model: Arc<str>,
    /// The first value of the first output row.
    pub score: f32,
    /// Confidence, if the output is a probability.
    pub confidence: Option<f32>,
    /// Wall time of the request.
    pub latency: Duration,
    /// Bytes reserved for the request.
    pub bytes: u64,
}

/// The last `capacity` request summaries; memory is fixed at construction.
#[derive(Debug)]
pub struct History {
    ring: VecDeque<RequestSummary>,
    capacity: usize,
    total: u64,
}

impl History {
    /// A ring of `capacity` summaries (`0` keeps none).
    pub fn new(capacity: usize) -> History {
        History {
            ring: VecDeque::with_capacity(capacity),
            capacity,
            total: 0,
        }
    }

    /// Appends, dropping the oldest summary when full.
    pub fn push(&mut self, s: RequestSummary) {
        self.total += 1;
        if self.capacity == 0 {
            return;
        }
        if self.ring.len() == self.capacity {
            self.ring.pop_front();
        }
        self.ring.push_back(s);
    }

    /// Summaries held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &RequestSummary> {
        self.ring.iter()
    }

    /// Summaries held now (at most the capacity).
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Requests recorded since creation.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes of the ring itself (fixed: capacity × summary size).
    pub fn bytes(&self) -> u64 {
        History::bytes_for(self.capacity)
    }

    /// Bytes a ring of `capacity` summaries takes.
    pub fn bytes_for(capacity: usize) -> u64 {
        (capacity as u64).saturating_mul(std::mem::size_of::<RequestSummary>() as u64)
    }
}
