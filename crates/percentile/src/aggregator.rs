//! Per-metric, per-window percentiles for a metrics pipeline.

use std::collections::HashMap;
use std::hash::Hash;

use crate::exact::validate_fractions;
use crate::{Config, Error, Method, Percentiles};

/// The quantiles of one metric over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSummary<K> {
    /// The metric's key.
    pub key: K,
    /// Number of values aggregated (NaN excluded under `NanPolicy::Omit`).
    pub count: usize,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// One value per configured quantile, in the configured order.
    pub quantiles: Vec<f64>,
}

/// Everything one window produced, metrics sorted by key.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowReport<K> {
    /// Sequence number of the window, from 0.
    pub window: u64,
    /// The configured quantiles, as fractions.
    pub quantiles: Vec<f64>,
    /// One summary per metric that received values in the window.
    pub metrics: Vec<MetricSummary<K>>,
}

/// Replaces the bubble-sorted metric aggregation: ingests batches of
/// `(metric key, value)`, and at the end of each window reports exact
/// quantiles (default p50, p90, p95, p99) per metric. Buffers are kept across
/// windows, so a steady pipeline stops allocating after its first window.
///
/// ```
/// use novacron_percentile::MetricAggregator;
/// let mut agg = MetricAggregator::new();
/// agg.ingest([("cpu", 10.0), ("cpu", 30.0), ("mem", 50.0), ("cpu", 20.0)]);
/// let report = agg.flush()?;
/// assert_eq!(report.metrics[0].key, "cpu");
/// assert_eq!(report.metrics[0].quantiles[0], 20.0); // p50
/// # Ok::<(), novacron_percentile::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MetricAggregator<K> {
    quantiles: Vec<f64>,
    method: Method,
    buffers: HashMap<K, Vec<f64>>,
    engine: Percentiles<f64>,
    window: u64,
}

impl<K: Hash + Eq + Ord + Clone> Default for MetricAggregator<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq + Ord + Clone> MetricAggregator<K> {
    /// p50, p90, p95 and p99 by numpy's default (`linear`) method; NaN is an error.
    pub fn new() -> Self {
        MetricAggregator {
            quantiles: vec![0.5, 0.9, 0.95, 0.99],
            method: Method::Linear,
            buffers: HashMap::new(),
            engine: Percentiles::new(),
            window: 0,
        }
    }

    /// Custom quantiles (fractions), method and engine configuration (NaN policy...).
    ///
    /// # Errors
    ///
    /// [`Error::NoQuantiles`] or an invalid fraction.
    pub fn with_quantiles(
        quantiles: &[f64],
        method: Method,
        config: Config,
    ) -> Result<Self, Error> {
        validate_fractions(quantiles, quantiles.len())?;
        Ok(MetricAggregator {
            quantiles: quantiles.to_vec(),
            method,
            buffers: HashMap::new(),
            engine: Percentiles::with_config(config),
            window: 0,
        })
    }

    /// Adds a batch of `(key, value)` pairs to the current window.
    pub fn ingest<I: IntoIterator<Item = (K, f64)>>(&mut self, batch: I) {
        for (key, value) in batch {
            match self.buffers.get_mut(&key) {
                Some(buf) => buf.push(value),
                None => {
                    self.buffers.insert(key, vec![value]);
                }
            }
        }
    }

    /// Adds many values of one metric to the current window.
    pub fn ingest_slice(&mut self, key: &K, values: &[f64]) {
        match self.buffers.get_mut(key) {
            Some(buf) => buf.extend_from_slice(values),
            None => {
                self.buffers.insert(key.clone(), values.to_vec());
            }
        }
    }

    /// Closes the window: reports every metric that received values and
    /// empties the buffers (keeping their memory).
    ///
    /// # Errors
    ///
    /// NaN under `NanPolicy::Error` (the window is still closed and cleared).
    pub fn flush(&mut self) -> Result<WindowReport<K>, Error> {
        let mut keys: Vec<&K> = self
            .buffers
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        let mut metrics = Vec::with_capacity(keys.len());
        let mut failure = None;
        for key in keys {
            let buf = &self.buffers[key];
            let (min, max) = buf
                .iter()
                .filter(|x| !x.is_nan())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            match self.engine.quantiles(buf, &self.quantiles, self.method) {
                Ok(quantiles) => metrics.push(MetricSummary {
                    key: key.clone(),
                    count: buf.iter().filter(|x| !x.is_nan()).count(),
                    min,
                    max,
                    quantiles,
                }),
                Err(Error::EmptyInput) => {}
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        for buf in self.buffers.values_mut() {
            buf.clear();
        }
        let window = self.window;
        self.window += 1;
        match failure {
            Some(e) => Err(e),
            None => Ok(WindowReport {
                window,
                quantiles: self.quantiles.clone(),
                metrics,
            }),
        }
    }

    /// Number of metrics seen so far (their buffers are kept between windows).
    pub fn metric_count(&self) -> usize {
        self.buffers.len()
    }
}
