//! Named models, loaded once, shared, bounded by count and bytes.
//!
//! `get` is single-flight: N concurrent requests for a cold model cause one
//! load and all get the same `Arc<Model>`. Loads run one at a time so their
//! peaks (about 3× the model size) never stack. Eviction drops only the
//! registry's `Arc`: a request still running keeps its model, and its bytes
//! stay charged to the budget until it finishes.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use lru::LruCache;

use crate::budget::lock;
use crate::budget::{Backpressure, Budget, Reclaim, Reservation};
use crate::error::{Error, Result};
use crate::model::{Model, ModelOptions, ModelSource};

/// How many models and bytes a registry may hold.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RegistryConfig {
    max_models: usize,
    max_bytes: Option<u64>,
    backpressure: Backpressure,
}

impl Default for RegistryConfig {
    /// 3 models (the report's model cache), bytes bounded by the budget
    /// alone, loads fail at once when the budget is full.
    fn default() -> Self {
        RegistryConfig {
            max_models: 3,
            max_bytes: None,
            backpressure: Backpressure::Fail,
        }
    }
}

impl RegistryConfig {
    /// Most models loaded at once (`>= 1`).
    pub fn max_models(mut self, n: usize) -> Self {
        self.max_models = n;
        self
    }

    /// Most resident bytes of the loaded models (their plans). The reserve a
    /// load holds while it runs is charged to the budget, not to this bound.
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// What a load does when the budget is full.
    pub fn backpressure(mut self, b: Backpressure) -> Self {
        self.backpressure = b;
        self
    }
}

/// Counters of a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RegistryStats {
    /// Models loaded (hot replacements included).
    pub loads: u64,
    /// Loads that failed.
    pub load_failures: u64,
    /// Models evicted to make room.
    pub evictions: u64,
    /// `get` calls served by a loaded model.
    pub hits: u64,
    /// `get` calls that waited for a load.
    pub misses: u64,
    /// Models loaded now.
    pub loaded: usize,
    /// Resident bytes of the loaded models.
    pub resident_bytes: u64,
}

struct Entry {
    source: ModelSource,
    options: ModelOptions,
    _source_bytes: Reservation,
}

type Slot = Arc<OnceLock<Result<Arc<Model>>>>;

struct Inner {
    budget: Budget,
    config: RegistryConfig,
    entries: Mutex<HashMap<String, Entry>>,
    loaded: Mutex<LruCache<String, Arc<Model>>>,
    loading: Mutex<HashMap<String, Slot>>,
    load_lock: Mutex<()>,
    loads: AtomicU64,
    load_failures: AtomicU64,
    evictions: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A model registry. Cheap to clone; clones share the models.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Registry {
    /// A registry charging `budget`; it registers itself as a reclaimer, so
    /// the budget can evict idle models under pressure.
    pub fn new(budget: &Budget, config: RegistryConfig) -> Result<Registry> {
        if config.max_models == 0 || config.max_models > 1 << 16 {
            return Err(Error::InvalidConfig {
                field: "max_models",
                problem: format!("{} is outside 1..=65536", config.max_models),
            });
        }
        if config.max_bytes == Some(0) {
            return Err(Error::InvalidConfig {
                field: "max_bytes",
                problem: "0 bytes holds no model; pass at least 3x the largest model".into(),
            });
        }
        let cap = NonZeroUsize::new(config.max_models).unwrap_or(NonZeroUsize::MIN);
        let inner = Arc::new(Inner {
            budget: budget.clone(),
            config,
            entries: Mutex::new(HashMap::new()),
            loaded: Mutex::new(LruCache::new(cap)),
            loading: Mutex::new(HashMap::new()),
            load_lock: Mutex::new(()),
            loads: AtomicU64::new(0),
            load_failures: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        let weak: std::sync::Weak<dyn Reclaim> =
            Arc::downgrade(&(inner.clone() as Arc<dyn Reclaim>));
        budget.register_reclaimer(weak);
        Ok(Registry { inner })
    }

    /// The budget models are charged to.
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    /// Registers (or re-registers) `name` with default [`ModelOptions`]; nothing is loaded yet.
    pub fn register(&self, name: &str, source: ModelSource) -> Result<()> {
        self.register_with(name, source, ModelOptions::default())
    }

    /// Registers `name` with its own options. In-memory bytes are charged to the budget.
    pub fn register_with(
        &self,
        name: &str,
        source: ModelSource,
        options: ModelOptions,
    ) -> Result<()> {
        options.validate()?;
        let held = source.resident_bytes();
        let reservation = if held > 0 {
            self.inner.budget.try_reserve(held, "model source bytes")?
        } else {
            Reservation::empty()
        };
        lock(&self.inner.entries).insert(
            name.to_string(),
            Entry {
                source,
                options,
                _source_bytes: reservation,
            },
        );
        Ok(())
    }

    /// The loaded model `name`, loading it first if needed (single-flight).
    pub fn get(&self, name: &str) -> Result<Arc<Model>> {
        if let Some(m) = lock(&self.inner.loaded).get(name) {
            self.inner.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Arc::clone(m));
        }
        self.inner.misses.fetch_add(1, Ordering::Relaxed);
        let slot: Slot = Arc::clone(
            lock(&self.inner.loading)
                .entry(name.to_string())
                .or_default(),
        );
        let result = slot.get_or_init(|| self.load_now(name)).clone();
        let mut loading = lock(&self.inner.loading);
        if loading.get(name).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
            loading.remove(name);
        }
        result
    }

    /// Loads every named model now (a warm start).
    pub fn warmup(&self, names: &[&str]) -> Result<()> {
        for n in names {
            self.get(n)?;
        }
        Ok(())
    }

    /// Loads `source` and, once it is ready, serves it under `name`. Requests
    /// already running keep the model they started with; a failed load
    /// leaves the current model in place.
    pub fn replace(&self, name: &str, source: ModelSource) -> Result<()> {
        let options = lock(&self.inner.entries)
            .get(name)
            .map(|e| e.options.clone())
            .ok_or_else(|| Error::UnknownModel(name.to_string()))?;
        let _one = lock(&self.inner.load_lock);
        let model = self.load_model(name, &source, &options)?;
        self.register_with(name, source, options)?;
        self.insert_loaded(name, model);
        Ok(())
    }

    /// Forgets `name` (its loaded model is dropped once no request holds it).
    pub fn unregister(&self, name: &str) -> bool {
        lock(&self.inner.loaded).pop(name);
        lock(&self.inner.entries).remove(name).is_some()
    }

    /// Names of the loaded models, most recently used first.
    pub fn loaded_names(&self) -> Vec<String> {
        lock(&self.inner.loaded)
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Counters and sizes.
    pub fn stats(&self) -> RegistryStats {
        let loaded = lock(&self.inner.loaded);
        RegistryStats {
            loads: self.inner.loads.load(Ordering::Relaxed),
            load_failures: self.inner.load_failures.load(Ordering::Relaxed),
            evictions: self.inner.evictions.load(Ordering::Relaxed),
            hits: self.inner.hits.load(Ordering::Relaxed),
            misses: self.inner.misses.load(Ordering::Relaxed),
            loaded: loaded.len(),
            resident_bytes: loaded.iter().map(|(_, m)| m.resident_bytes()).sum(),
        }
    }

    fn load_now(&self, name: &str) -> Result<Arc<Model>> {
        let _one = lock(&self.inner.load_lock);
        // A load that finished while this caller queued for the lock.
        if let Some(m) = lock(&self.inner.loaded).get(name) {
            return Ok(Arc::clone(m));
        }
        let (source, options) = lock(&self.inner.entries)
            .get(name)
            .map(|e| (e.source.clone(), e.options.clone()))
            .ok_or_else(|| Error::UnknownModel(name.to_string()))?;
        let model = self.load_model(name, &source, &options)?;
        self.insert_loaded(name, Arc::clone(&model));
        Ok(model)
    }

    fn load_model(
        &self,
        name: &str,
        source: &ModelSource,
        options: &ModelOptions,
    ) -> Result<Arc<Model>> {
        let size = source.len()?;
        let max = self.inner.config.max_bytes.unwrap_or(u64::MAX);
        if size > max {
            self.inner.load_failures.fetch_add(1, Ordering::Relaxed);
            return Err(Error::OverBudget {
                requested: size,
                available: max,
                budget: max,
                what: "model weights (registry max_bytes)",
            });
        }
        // Room for one more model, sized by its weights, before loading.
        self.evict_until(None, |resident, count| {
            resident.saturating_add(size) <= max && count < self.inner.config.max_models
        });
        match Model::load(
            name,
            source.clone(),
            options.clone(),
            &self.inner.budget,
            self.inner.config.backpressure,
        ) {
            Ok(m) => {
                self.inner.loads.fetch_add(1, Ordering::Relaxed);
                Ok(Arc::new(m))
            }
            Err(e) => {
                self.inner.load_failures.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    fn insert_loaded(&self, name: &str, model: Arc<Model>) {
        let max = self.inner.config.max_bytes.unwrap_or(u64::MAX);
        // The model's measured size may exceed its weights: trim the others.
        let resident = model.resident_bytes();
        self.evict_until(Some(name), |others, _| {
            others.saturating_add(resident) <= max
        });
        let mut loaded = lock(&self.inner.loaded);
        let replaced_self = loaded.contains(name);
        if let Some((old, _)) = loaded.push(name.to_string(), model)
            && old != name
            && !replaced_self
        {
            self.inner.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Evicts least recently used models (never `keep`) until `ok(resident_bytes, count)`.
    fn evict_until(&self, keep: Option<&str>, ok: impl Fn(u64, usize) -> bool) {
        let mut loaded = lock(&self.inner.loaded);
        loop {
            let resident: u64 = loaded
                .iter()
                .filter(|(k, _)| Some(k.as_str()) != keep)
                .map(|(_, m)| m.resident_bytes())
                .sum();
            let count = loaded
                .iter()
                .filter(|(k, _)| Some(k.as_str()) != keep)
                .count();
            if ok(resident, count) || count == 0 {
                return;
            }
            let victim = loaded
                .iter()
                .rev()
                .map(|(k, _)| k.clone())
                .find(|k| Some(k.as_str()) != keep);
            match victim {
                Some(k) => {
                    loaded.pop(&k);
                    self.inner.evictions.fetch_add(1, Ordering::Relaxed);
                }
                None => return,
            }
        }
    }
}

impl Reclaim for Inner {
    fn reclaim(&self, bytes: u64) -> u64 {
        let mut freed = 0u64;
        let mut loaded = lock(&self.loaded);
        // Oldest first; a model a request still holds would free nothing now, so it stays.
        let idle: Vec<String> = loaded
            .iter()
            .rev()
            .filter(|(_, m)| Arc::strong_count(m) == 1)
            .map(|(k, _)| k.clone())
            .collect();
        for k in idle {
            if freed >= bytes {
                break;
            }
            if let Some(m) = loaded.pop(&k) {
                freed = freed.saturating_add(m.resident_bytes());
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
        freed
    }
}
