//! The inference pipeline: select a model, extract features (cached), admit
//! the request's bytes, run, summarize.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ndarray::{Array2, ArrayD, ArrayView2, ArrayView3, IxDyn};

use crate::budget::lock;
use crate::budget::{Backpressure, Budget, Reservation, Thresholds};
use crate::cache::{FeatureCache, History, RequestSummary};
use crate::error::{Error, Result};
use crate::features::{FeatureConfig, FeatureExtractor};
use crate::metrics::{LatencyHistogram, Metrics};
use crate::model::{Model, ModelOptions, ModelSource};
use crate::registry::{Registry, RegistryConfig};

/// Which model serves a request that names none.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ModelPolicy {
    /// Always this model.
    Fixed(String),
    /// The first rule whose `max_samples` is at least the window's length
    /// (e.g. a small model for short windows, a recurrent one for long).
    ByWindowLength(Vec<(usize, String)>),
}

impl ModelPolicy {
    fn select(&self, window_samples: Option<usize>) -> Option<&str> {
        match self {
            ModelPolicy::Fixed(m) => Some(m),
            ModelPolicy::ByWindowLength(rules) => {
                let n = window_samples.unwrap_or(0);
                rules
                    .iter()
                    .find(|(max, _)| n <= *max)
                    .map(|(_, m)| m.as_str())
            }
        }
    }
}

/// What an engine may use and how it behaves.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EngineConfig {
    budget_bytes: u64,
    thresholds: Thresholds,
    backpressure: Backpressure,
    registry: RegistryConfig,
    feature_cache_entries: usize,
    feature_cache_bytes: u64,
    history: usize,
    window_samples: usize,
    features: FeatureConfig,
    policy: Option<ModelPolicy>,
}

impl Default for EngineConfig {
    /// A 1 GiB budget (the report's peak target) with strict thresholds,
    /// fail-fast backpressure, 3 models, 1,000 cached feature vectors (the
    /// report's cache) within 16 MiB, a 1,024-request history, windows of
    /// 60 samples (one hour at one a minute), default features, no policy.
    fn default() -> Self {
        EngineConfig {
            budget_bytes: 1 << 30,
            thresholds: Thresholds::STRICT,
            backpressure: Backpressure::Fail,
            registry: RegistryConfig::default(),
            feature_cache_entries: 1000,
            feature_cache_bytes: 16 << 20,
            history: 1024,
            window_samples: 60,
            features: FeatureConfig::default(),
            policy: None,
        }
    }
}

impl EngineConfig {
    /// The report's settings: a 4 GB budget, clean up at 75 %, refuse at 90 %.
    pub fn report_preset() -> EngineConfig {
        EngineConfig::default()
            .budget_bytes(4_000_000_000)
            .thresholds(Thresholds::REPORT)
    }

    /// The byte budget for models, caches and in-flight buffers.
    pub fn budget_bytes(mut self, bytes: u64) -> Self {
        self.budget_bytes = bytes;
        self
    }

    /// Cleanup and refusal thresholds.
    pub fn thresholds(mut self, t: Thresholds) -> Self {
        self.thresholds = t;
        self
    }

    /// What a request does when the budget is full.
    pub fn backpressure(mut self, b: Backpressure) -> Self {
        self.backpressure = b;
        self
    }

    /// Registry bounds.
    pub fn registry(mut self, r: RegistryConfig) -> Self {
        self.registry = r;
        self
    }

    /// Feature cache bounds: entries and bytes.
    pub fn feature_cache(mut self, entries: usize, bytes: u64) -> Self {
        self.feature_cache_entries = entries;
        self.feature_cache_bytes = bytes;
        self
    }

    /// Request summaries kept.
    pub fn history(mut self, n: usize) -> Self {
        self.history = n;
        self
    }

    /// Samples per metric in a window request, and the features computed.
    pub fn windows(mut self, samples: usize, features: FeatureConfig) -> Self {
        self.window_samples = samples;
        self.features = features;
        self
    }

    /// The model-selection policy for requests that name no model.
    pub fn policy(mut self, p: ModelPolicy) -> Self {
        self.policy = Some(p);
        self
    }
}

/// The input of a request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Input {
    /// A metric window `[n_metrics, n_samples]`: features are extracted, then scored.
    Window(Array2<f64>),
    /// A ready feature vector (one row for the model's first input).
    Features(Vec<f32>),
    /// Raw tensors, one per model input, batch included.
    Tensors(Vec<ArrayD<f32>>),
}

/// One inference request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    input: Input,
    model: Option<String>,
    cache_key: Option<u64>,
}

impl Request {
    /// A request to score a metric window.
    pub fn window(window: Array2<f64>) -> Request {
        Request {
            input: Input::Window(window),
            model: None,
            cache_key: None,
        }
    }

    /// A request with a ready feature vector.
    pub fn features(values: Vec<f32>) -> Request {
        Request {
            input: Input::Features(values),
            model: None,
            cache_key: None,
        }
    }

    /// A request with raw tensors.
    pub fn tensors(tensors: Vec<ArrayD<f32>>) -> Request {
        Request {
            input: Input::Tensors(tensors),
            model: None,
            cache_key: None,
        }
    }

    /// Names the model (else the engine's policy picks).
    pub fn model(mut self, name: impl Into<String>) -> Self {
        self.model = Some(name.into());
        self
    }

    /// Caches the window's features under `key` (e.g. VM id and window start).
    pub fn cache_key(mut self, key: u64) -> Self {
        self.cache_key = Some(key);
        self
    }
}

/// Memory figures of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MemoryUse {
    /// Bytes reserved for the request's buffers (features, inputs, outputs).
    pub request_bytes: u64,
    /// Budget in use when the request finished (its own bytes included).
    pub budget_used: u64,
    /// The budget's peak so far.
    pub budget_peak: u64,
}

/// What a request returns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InferenceResult {
    /// The first output's first row.
    pub prediction: Vec<f32>,
    /// Every output, for tensor requests (empty otherwise).
    pub outputs: Vec<ArrayD<f32>>,
    /// The model that served it.
    pub model: String,
    /// Probability of the predicted class when the output is one (a single
    /// value in `[0, 1]`: `max(p, 1 − p)`; a row summing to 1: its maximum).
    pub confidence: Option<f32>,
    /// Wall time, admission and feature extraction included.
    pub latency: Duration,
    /// Memory figures.
    pub memory: MemoryUse,
}

/// Probability of the predicted class, if `row` is a probability.
pub fn confidence(row: &[f32]) -> Option<f32> {
    let in_unit = |v: &f32| (0.0..=1.0).contains(v);
    match row {
        [p] if in_unit(p) => Some(p.max(1.0 - p)),
        r if r.len() > 1 && r.iter().all(in_unit) && (r.iter().sum::<f32>() - 1.0).abs() < 1e-3 => {
            r.iter().copied().reduce(f32::max)
        }
        _ => None,
    }
}

/// The pipeline. `Send + Sync`; share it in an `Arc` across threads.
#[derive(Debug)]
pub struct Engine {
    budget: Budget,
    backpressure: Backpressure,
    registry: Registry,
    extractor: FeatureExtractor,
    cache: Arc<FeatureCache>,
    history: Mutex<History>,
    policy: Option<ModelPolicy>,
    latency: LatencyHistogram,
    requests: AtomicU64,
    errors: AtomicU64,
    over_budget: AtomicU64,
    _history_bytes: Reservation,
}

impl Engine {
    /// An engine with `config`; no model is loaded yet.
    pub fn new(config: EngineConfig) -> Result<Engine> {
        let budget = Budget::with_thresholds(config.budget_bytes, config.thresholds)?;
        let registry = Registry::new(&budget, config.registry.clone())?;
        let extractor = FeatureExtractor::new(config.features.clone(), config.window_samples)?;
        let cache = FeatureCache::new(
            &budget,
            config.feature_cache_entries,
            config.feature_cache_bytes,
        )?;
        if config.history > 1 << 20 {
            return Err(Error::InvalidConfig {
                field: "history",
                problem: format!("{} summaries; keep at most 1048576", config.history),
            });
        }
        // Reserve before the ring allocates.
        let history_bytes =
            budget.try_reserve(History::bytes_for(config.history), "request history")?;
        let history = History::new(config.history);
        Ok(Engine {
            budget,
            backpressure: config.backpressure,
            registry,
            extractor,
            cache,
            history: Mutex::new(history),
            policy: config.policy,
            latency: LatencyHistogram::default(),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            over_budget: AtomicU64::new(0),
            _history_bytes: history_bytes,
        })
    }

    /// Registers a model (loaded on first use).
    pub fn register(&self, name: &str, source: ModelSource) -> Result<()> {
        self.registry.register(name, source)
    }

    /// Registers a model with its own options.
    pub fn register_with(
        &self,
        name: &str,
        source: ModelSource,
        options: ModelOptions,
    ) -> Result<()> {
        self.registry.register_with(name, source, options)
    }

    /// The model registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The byte budget.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The feature extractor used for window requests.
    pub fn extractor(&self) -> &FeatureExtractor {
        &self.extractor
    }

    /// The feature cache.
    pub fn feature_cache(&self) -> &FeatureCache {
        &self.cache
    }

    /// The last request summaries, oldest first.
    pub fn history(&self) -> Vec<RequestSummary> {
        lock(&self.history).iter().cloned().collect()
    }

    /// Counters, bytes and latency quantiles.
    pub fn metrics(&self) -> Metrics {
        let r = self.registry.stats();
        let (hits, misses, evictions) = self.cache.counters();
        Metrics {
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            over_budget: self.over_budget.load(Ordering::Relaxed),
            loads: r.loads,
            model_evictions: r.evictions,
            cache_hits: hits,
            cache_misses: misses,
            cache_evictions: evictions,
            bytes_in_use: self.budget.used(),
            bytes_peak: self.budget.peak(),
            budget: self.budget.limit(),
            latency_p50: self.latency.quantile(0.5),
            latency_p99: self.latency.quantile(0.99),
        }
    }

    fn reserve(&self, bytes: u64, what: &'static str) -> Result<Reservation> {
        self.budget.reserve(bytes, what, self.backpressure)
    }

    /// Serves one request.
    pub fn infer(&self, request: Request) -> Result<InferenceResult> {
        let start = Instant::now();
        let out = self.infer_inner(request, start);
        match &out {
            Ok(r) => {
                self.requests.fetch_add(1, Ordering::Relaxed);
                self.latency.record(r.latency);
                lock(&self.history).push(RequestSummary {
                    model: Arc::from(r.model.as_str()),
                    score: r.prediction.first().copied().unwrap_or(f32::NAN),
                    confidence: r.confidence,
                    latency: r.latency,
                    bytes: r.memory.request_bytes,
                });
            }
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                if matches!(e, Error::OverBudget { .. } | Error::BudgetTimeout { .. }) {
                    self.over_budget.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        out
    }

    fn model_for(&self, request: &Request) -> Result<Arc<Model>> {
        let samples = match &request.input {
            Input::Window(w) => Some(w.ncols()),
            _ => None,
        };
        let name = match (&request.model, &self.policy) {
            (Some(m), _) => m.as_str(),
            (None, Some(p)) => p.select(samples).ok_or_else(|| Error::InvalidConfig {
                field: "policy",
                problem: format!(
                    "no rule covers a window of {} samples; add a catch-all rule",
                    samples.unwrap_or(0)
                ),
            })?,
            (None, None) => {
                return Err(Error::InvalidConfig {
                    field: "policy",
                    problem: "the request names no model and the engine has no policy; call Request::model".into(),
                });
            }
        };
        self.registry.get(name)
    }

    fn infer_inner(&self, request: Request, start: Instant) -> Result<InferenceResult> {
        let model = self.model_for(&request)?;
        let mut held = Reservation::empty();
        let (inputs, tensor_request) = match request.input {
            Input::Window(window) => {
                let key = request.cache_key;
                let features = match key.and_then(|k| self.cache.get(k)) {
                    Some(f) => f,
                    None => {
                        if window.nrows() == 0 || window.ncols() == 0 {
                            return Err(Error::Empty("the metric window"));
                        }
                        let n = self.extractor.n_features(window.nrows()) as u64;
                        held.merge(self.reserve(
                            n * 4 + self.extractor.scratch_bytes(),
                            "feature extraction",
                        )?);
                        let f: Arc<[f32]> = self.extractor.extract(window.view())?.into();
                        if let Some(k) = key {
                            self.cache.insert(k, Arc::clone(&f));
                        }
                        f
                    }
                };
                (vec![self.row_tensor(&model, &features)?], false)
            }
            Input::Features(values) => (vec![self.row_tensor(&model, &values)?], false),
            Input::Tensors(t) => (t, true),
        };
        let rows = inputs
            .first()
            .zip(model.inputs().first())
            .and_then(|(t, spec)| {
                spec.batch_axis()
                    .map(|ax| t.shape().get(ax).copied().unwrap_or(1))
            })
            .unwrap_or(1);
        let per_row: usize = inputs.iter().map(|t| t.len() / rows.max(1)).sum();
        held.merge(self.reserve(model.request_bytes(rows, per_row), "inference buffers")?);
        let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
        let outputs = model.run(&views)?;
        let prediction = first_row(
            outputs.first(),
            model.outputs().first().and_then(|s| s.batch_axis()),
        );
        let confidence = confidence(&prediction);
        Ok(InferenceResult {
            confidence,
            prediction,
            outputs: if tensor_request { outputs } else { Vec::new() },
            model: model.name().to_string(),
            latency: start.elapsed(),
            memory: MemoryUse {
                request_bytes: held.bytes(),
                budget_used: self.budget.used(),
                budget_peak: self.budget.peak(),
            },
        })
    }

    /// A `[1, features...]` tensor for the model's first input.
    fn row_tensor(&self, model: &Model, values: &[f32]) -> Result<ArrayD<f32>> {
        let spec = model.inputs().first().ok_or_else(|| Error::Load {
            model: model.name().to_string(),
            cause: "the model has no input".into(),
        })?;
        let shape: Vec<usize> = spec
            .dims
            .iter()
            .map(|d| match d {
                crate::model::Dim::Fixed(n) => *n,
                _ => 1,
            })
            .collect();
        let expected: usize = shape.iter().product();
        if model.inputs().len() != 1 || expected != values.len() {
            return Err(Error::InputShape {
                model: model.name().to_string(),
                input: spec.name.clone(),
                expected: format!("one input of {expected} values per row"),
                got: vec![values.len()],
            });
        }
        ArrayD::from_shape_vec(IxDyn(&shape), values.to_vec()).map_err(|e| Error::Load {
            model: model.name().to_string(),
            cause: e.to_string(),
        })
    }

    /// Scores many feature rows (`[n, features]`) with `model` in one call
    /// (split into the model's batch classes); returns the first output, one row each.
    pub fn infer_batch(&self, model: &str, rows: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let m = self.registry.get(model)?;
        if rows.nrows() == 0 {
            return Err(Error::Empty("the batch"));
        }
        let _held = self.reserve(
            m.request_bytes(rows.nrows(), rows.ncols()),
            "inference buffers",
        )?;
        let x = rows.to_owned().into_dyn();
        let out = m.run(&[x.view()])?;
        let first = out
            .into_iter()
            .next()
            .ok_or(Error::Empty("the model's outputs"))?;
        let n = first.shape().first().copied().unwrap_or(0);
        let per = first.len().checked_div(n).unwrap_or(0);
        first
            .into_shape_with_order((n, per))
            .map_err(|e| Error::Load {
                model: model.to_string(),
                cause: e.to_string(),
            })
    }

    /// Scores every window of `windows` (`[n_windows, n_metrics, n_samples]`)
    /// in chunks: features for one chunk, one batched run, next chunk —
    /// working memory is one chunk whatever `n_windows`.
    pub fn score_windows(&self, model: &str, windows: ArrayView3<'_, f64>) -> Result<Vec<f32>> {
        let (_, m, _) = windows.dim();
        let chunk_bytes = (self.extractor.config_chunk() * self.extractor.n_features(m)) as u64 * 4;
        let _held = self.reserve(
            chunk_bytes + self.extractor.scratch_bytes(),
            "feature chunk",
        )?;
        let mut scores = Vec::with_capacity(windows.dim().0);
        self.extractor
            .for_each_chunk(m, windows.outer_iter(), |chunk| {
                let out = self.infer_batch(model, chunk)?;
                scores.extend(out.column(0).iter().copied());
                Ok(())
            })?;
        Ok(scores)
    }
}

fn first_row(out: Option<&ArrayD<f32>>, batch_axis: Option<usize>) -> Vec<f32> {
    let Some(a) = out else {
        return Vec::new();
    };
    match batch_axis {
        Some(ax) if a.shape().get(ax).copied().unwrap_or(0) > 0 => {
            a.index_axis(ndarray::Axis(ax), 0).iter().copied().collect()
        }
        _ => a.iter().copied().collect(),
    }
}
