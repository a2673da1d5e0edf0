//! Features of metric windows: statistical, temporal and frequency, in chunks.
//!
//! A window is `[n_metrics, n_samples]` (one row per metric, oldest sample
//! first). Every metric row yields the same features, in the order of
//! [`FeatureExtractor::feature_names`]. Working memory is one scratch set of
//! `O(n_samples)` plus one output chunk: a dataset of any length streams
//! through [`FeatureExtractor::for_each_chunk`] without being held.
//!
//! The definitions follow numpy and scipy so a fixture made there can check
//! them: population moments (`ddof = 0`), biased skew and Fisher kurtosis
//! (`scipy.stats.skew`/`kurtosis` defaults, 0 for a constant row where scipy
//! returns NaN), quantiles by linear interpolation (`np.quantile` default),
//! slope from `np.polyfit(t, x, 1)`, band energies from `np.fft.rfft` of the
//! mean-removed row: `|X_k|² / n` over bins `1..=n/2`, split into
//! contiguous bands as `np.array_split` does.

use std::fmt;
use std::sync::Arc;

use ndarray::{Array2, ArrayView2, ArrayView3, Axis};
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::error::{Error, Result};

/// What to do with NaN and ±inf samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NonFinitePolicy {
    /// Refuse the window with [`Error::NonFinite`] naming the first bad sample (default:
    /// a gap in telemetry should be seen, not scored).
    #[default]
    Reject,
    /// Replace each non-finite sample by the previous finite one in its row
    /// (the first finite one for a leading gap); a row with no finite sample
    /// is still refused.
    FillPrevious,
}

/// Largest window length accepted (samples per metric): a week at one sample a minute.
pub const MAX_SAMPLES: usize = 7 * 24 * 60;

/// Largest number of metric rows per window.
pub const MAX_METRICS: usize = 1024;

/// Which features to compute.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FeatureConfig {
    lags: Vec<usize>,
    rolling: usize,
    quantiles: Vec<f64>,
    bands: usize,
    non_finite: NonFinitePolicy,
    chunk_windows: usize,
}

impl Default for FeatureConfig {
    /// Lags 1, 5, 15 samples; a 10-sample rolling window; quantiles 5 %,
    /// 50 %, 95 %; 4 frequency bands; [`NonFinitePolicy::Reject`]; chunks of
    /// 256 windows.
    fn default() -> Self {
        FeatureConfig {
            lags: vec![1, 5, 15],
            rolling: 10,
            quantiles: vec![0.05, 0.5, 0.95],
            bands: 4,
            non_finite: NonFinitePolicy::Reject,
            chunk_windows: 256,
        }
    }
}

impl FeatureConfig {
    /// Lag features: the value `k` samples before the last, for each `k`.
    pub fn lags(mut self, lags: impl IntoIterator<Item = usize>) -> Self {
        self.lags = lags.into_iter().collect();
        self
    }

    /// Length of the rolling window (samples).
    pub fn rolling(mut self, samples: usize) -> Self {
        self.rolling = samples;
        self
    }

    /// Quantiles to report, each in `[0, 1]`.
    pub fn quantiles(mut self, q: impl IntoIterator<Item = f64>) -> Self {
        self.quantiles = q.into_iter().collect();
        self
    }

    /// Number of frequency bands.
    pub fn bands(mut self, bands: usize) -> Self {
        self.bands = bands;
        self
    }

    /// What to do with NaN and ±inf.
    pub fn non_finite(mut self, policy: NonFinitePolicy) -> Self {
        self.non_finite = policy;
        self
    }

    /// Windows per output chunk in [`FeatureExtractor::for_each_chunk`].
    pub fn chunk_windows(mut self, n: usize) -> Self {
        self.chunk_windows = n;
        self
    }

    /// The non-finite policy.
    pub fn non_finite_policy(&self) -> NonFinitePolicy {
        self.non_finite
    }
}

fn invalid(field: &'static str, problem: String) -> Error {
    Error::InvalidConfig { field, problem }
}

/// Computes features for windows of a fixed length. `Send + Sync`; the FFT plan is shared.
#[derive(Clone)]
pub struct FeatureExtractor {
    config: FeatureConfig,
    n_samples: usize,
    fft: Arc<dyn RealToComplex<f64>>,
    /// `(start, end)` bin ranges of the bands, in `1..=n/2`.
    band_bins: Vec<(usize, usize)>,
}

impl fmt::Debug for FeatureExtractor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeatureExtractor")
            .field("config", &self.config)
            .field("n_samples", &self.n_samples)
            .finish()
    }
}

/// Reusable buffers of one extraction thread.
#[derive(Debug, Default)]
pub struct Scratch {
    row: Vec<f64>,
    sorted: Vec<f64>,
    fft_in: Vec<f64>,
    fft_out: Vec<Complex<f64>>,
    fft_scratch: Vec<Complex<f64>>,
}

const STAT_NAMES: [&str; 4] = ["mean", "std", "min", "max"];
const TEMPORAL_NAMES: [&str; 5] = [
    "diff_last",
    "diff_mean_abs",
    "rolling_mean_last",
    "rolling_std_last",
    "rolling_mean_max",
];

impl FeatureExtractor {
    /// An extractor for windows of `n_samples` samples per metric.
    pub fn new(config: FeatureConfig, n_samples: usize) -> Result<FeatureExtractor> {
        if !(2..=MAX_SAMPLES).contains(&n_samples) {
            return Err(invalid(
                "n_samples",
                format!(
                    "{n_samples} is outside 2..={MAX_SAMPLES}; a window needs two samples for a slope"
                ),
            ));
        }
        if let Some(&k) = config.lags.iter().find(|&&k| k >= n_samples) {
            return Err(invalid(
                "lags",
                format!(
                    "lag {k} does not fit a window of {n_samples} samples; use lags below {n_samples}"
                ),
            ));
        }
        if config.lags.len() > 64 {
            return Err(invalid(
                "lags",
                format!("{} lags; use at most 64", config.lags.len()),
            ));
        }
        if config.rolling == 0 || config.rolling > n_samples {
            return Err(invalid(
                "rolling",
                format!(
                    "{} is outside 1..={n_samples} (the window length)",
                    config.rolling
                ),
            ));
        }
        if let Some(q) = config.quantiles.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(invalid(
                "quantiles",
                format!("{q} is outside [0, 1]; pass a fraction such as 0.95"),
            ));
        }
        if config.quantiles.len() > 64 {
            return Err(invalid(
                "quantiles",
                format!("{} quantiles; use at most 64", config.quantiles.len()),
            ));
        }
        let n_bins = n_samples / 2;
        if config.bands > n_bins {
            return Err(invalid(
                "bands",
                format!(
                    "{} bands but a window of {n_samples} samples has {n_bins} frequency bins",
                    config.bands
                ),
            ));
        }
        if config.chunk_windows == 0 || config.chunk_windows > 1 << 20 {
            return Err(invalid(
                "chunk_windows",
                format!("{} is outside 1..=1048576", config.chunk_windows),
            ));
        }
        // np.array_split of bins 1..=n/2 into `bands` parts.
        let base = n_bins.checked_div(config.bands).unwrap_or(0);
        let extra = n_bins.checked_rem(config.bands).unwrap_or(0);
        let mut band_bins = Vec::with_capacity(config.bands);
        let mut start = 1;
        for b in 0..config.bands {
            let len = base + usize::from(b < extra);
            band_bins.push((start, start + len));
            start += len;
        }
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_samples);
        Ok(FeatureExtractor {
            config,
            n_samples,
            fft,
            band_bins,
        })
    }

    /// Samples per metric row.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    pub(crate) fn config_chunk(&self) -> usize {
        self.config.chunk_windows
    }

    /// The configuration.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Features per metric row.
    pub fn features_per_metric(&self) -> usize {
        STAT_NAMES.len()
            + self.config.quantiles.len()
            + 2
            + self.config.lags.len()
            + TEMPORAL_NAMES.len()
            + 1
            + self.config.bands
    }

    /// Features of a window of `n_metrics` rows.
    pub fn n_features(&self, n_metrics: usize) -> usize {
        n_metrics.saturating_mul(self.features_per_metric())
    }

    /// The names of one metric row's features, in output order.
    pub fn feature_names(&self) -> Vec<String> {
        let mut v: Vec<String> = STAT_NAMES.iter().map(|s| (*s).to_string()).collect();
        v.extend(self.config.quantiles.iter().map(|q| format!("q{q}")));
        v.push("skew".into());
        v.push("kurtosis".into());
        v.extend(self.config.lags.iter().map(|k| format!("lag_{k}")));
        v.extend(TEMPORAL_NAMES.iter().map(|s| (*s).to_string()));
        v.push("slope".into());
        v.extend((0..self.config.bands).map(|b| format!("band_{b}")));
        v
    }

    /// Bytes one extraction thread holds besides the output (its [`Scratch`]).
    pub fn scratch_bytes(&self) -> u64 {
        let n = self.n_samples as u64;
        // row + sorted + fft_in (f64) and fft_out + fft_scratch (complex f64).
        3 * n * 8 + 2 * (n / 2 + 1 + self.fft.get_scratch_len() as u64) * 16
    }

    fn check_shape(&self, window: &ArrayView2<'_, f64>) -> Result<()> {
        let (m, n) = window.dim();
        if m == 0 || n == 0 {
            return Err(Error::Empty("the metric window"));
        }
        if n != self.n_samples || m > MAX_METRICS {
            return Err(Error::InputShape {
                model: "features".into(),
                input: "window".into(),
                expected: format!("[metrics <= {MAX_METRICS}, {}]", self.n_samples),
                got: vec![m, n],
            });
        }
        Ok(())
    }

    /// Features of one window into `out` (length [`FeatureExtractor::n_features`]).
    pub fn extract_into(
        &self,
        window: ArrayView2<'_, f64>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) -> Result<()> {
        self.check_shape(&window)?;
        let per = self.features_per_metric();
        if out.len() != window.nrows() * per {
            return Err(Error::InputShape {
                model: "features".into(),
                input: "out".into(),
                expected: format!("[{}]", window.nrows() * per),
                got: vec![out.len()],
            });
        }
        for (m, (row, out)) in window
            .outer_iter()
            .zip(out.chunks_exact_mut(per))
            .enumerate()
        {
            scratch.row.clear();
            scratch.row.extend(row.iter().copied());
            self.clean(m, &mut scratch.row)?;
            self.row_features(scratch, out);
        }
        Ok(())
    }

    /// Features of one window, allocated.
    pub fn extract(&self, window: ArrayView2<'_, f64>) -> Result<Vec<f32>> {
        self.check_shape(&window)?;
        let mut out = vec![0.0; self.n_features(window.nrows())];
        self.extract_into(window, &mut out, &mut Scratch::default())?;
        Ok(out)
    }

    /// Features of every window of `windows` (`[n_windows, n_metrics, n_samples]`),
    /// one row per window.
    pub fn extract_all(&self, windows: ArrayView3<'_, f64>) -> Result<Array2<f32>> {
        let (w, m, _) = windows.dim();
        let mut out = Array2::zeros((w, self.n_features(m)));
        let mut scratch = Scratch::default();
        for (win, mut row) in windows.outer_iter().zip(out.outer_iter_mut()) {
            let slice = row.as_slice_mut().ok_or(Error::Empty("the output row"))?;
            self.extract_into(win, slice, &mut scratch)?;
        }
        Ok(out)
    }

    /// Streams windows through one reused chunk of
    /// `chunk_windows × n_features` and calls `sink` per full (or final) chunk:
    /// memory stays at one chunk whatever the number of windows.
    pub fn for_each_chunk<'a, I, F>(&self, n_metrics: usize, windows: I, mut sink: F) -> Result<()>
    where
        I: IntoIterator<Item = ArrayView2<'a, f64>>,
        F: FnMut(ArrayView2<'_, f32>) -> Result<()>,
    {
        let per = self.n_features(n_metrics);
        let chunk = self.config.chunk_windows;
        let mut buf = Array2::<f32>::zeros((chunk, per));
        let mut scratch = Scratch::default();
        let mut filled = 0;
        for win in windows {
            if win.nrows() != n_metrics {
                return Err(Error::InputShape {
                    model: "features".into(),
                    input: "window".into(),
                    expected: format!("[{n_metrics}, {}]", self.n_samples),
                    got: win.shape().to_vec(),
                });
            }
            let mut row = buf.row_mut(filled);
            let slice = row.as_slice_mut().ok_or(Error::Empty("the output row"))?;
            self.extract_into(win, slice, &mut scratch)?;
            filled += 1;
            if filled == chunk {
                sink(buf.view())?;
                filled = 0;
            }
        }
        if filled > 0 {
            sink(buf.slice_axis(Axis(0), ndarray::Slice::from(0..filled)))?;
        }
        Ok(())
    }

    fn clean(&self, metric: usize, row: &mut [f64]) -> Result<()> {
        let Some(first_bad) = row.iter().position(|v| !v.is_finite()) else {
            return Ok(());
        };
        match self.config.non_finite {
            NonFinitePolicy::Reject => Err(Error::NonFinite {
                metric,
                sample_idx: first_bad,
                value: row[first_bad],
            }),
            NonFinitePolicy::FillPrevious => {
                let Some(first_good) = row.iter().copied().find(|v| v.is_finite()) else {
                    return Err(Error::NonFinite {
                        metric,
                        sample_idx: 0,
                        value: row[0],
                    });
                };
                let mut prev = first_good;
                for v in row.iter_mut() {
                    if v.is_finite() {
                        prev = *v;
                    } else {
                        *v = prev;
                    }
                }
                Ok(())
            }
        }
    }

    fn row_features(&self, s: &mut Scratch, out: &mut [f32]) {
        let x = &s.row;
        let n = x.len();
        let nf = n as f64;
        let mean = x.iter().sum::<f64>() / nf;
        let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
        for &v in x {
            let d = v - mean;
            let d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
        m2 /= nf;
        m3 /= nf;
        m4 /= nf;
        let std = m2.sqrt();
        // A row whose spread is lost in rounding is treated as constant (scipy gives NaN).
        let constant = m2 <= (mean.abs() * 1e-12).powi(2) || m2 == 0.0;
        let (skew, kurt) = if constant {
            (0.0, 0.0)
        } else {
            (m3 / m2.powf(1.5), m4 / (m2 * m2) - 3.0)
        };
        s.sorted.clear();
        s.sorted.extend_from_slice(x);
        s.sorted.sort_unstable_by(f64::total_cmp);
        let mut o = Vec::with_capacity(out.len());
        o.push(mean);
        o.push(std);
        o.push(s.sorted[0]);
        o.push(s.sorted[n - 1]);
        for &q in &self.config.quantiles {
            let h = (n - 1) as f64 * q;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            o.push(s.sorted[lo] + (h - lo as f64) * (s.sorted[hi] - s.sorted[lo]));
        }
        o.push(skew);
        o.push(kurt);
        for &k in &self.config.lags {
            o.push(x[n - 1 - k]);
        }
        o.push(x[n - 1] - x[n - 2]);
        o.push(x.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (n - 1) as f64);
        let w = self.config.rolling;
        let tail = &x[n - w..];
        let tail_mean = tail.iter().sum::<f64>() / w as f64;
        let tail_var = tail.iter().map(|v| (v - tail_mean).powi(2)).sum::<f64>() / w as f64;
        o.push(tail_mean);
        o.push(tail_var.sqrt());
        let mut sum: f64 = x[..w].iter().sum();
        let mut best = sum;
        for i in w..n {
            sum += x[i] - x[i - w];
            best = best.max(sum);
        }
        o.push(best / w as f64);
        // Least-squares slope against t = 0..n.
        let t_mean = (nf - 1.0) / 2.0;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let dt = i as f64 - t_mean;
            sxy += dt * (v - mean);
            sxx += dt * dt;
        }
        o.push(sxy / sxx);
        if !self.band_bins.is_empty() {
            s.fft_in.clear();
            s.fft_in.extend(x.iter().map(|v| v - mean));
            s.fft_out.resize(n / 2 + 1, Complex::new(0.0, 0.0));
            s.fft_scratch
                .resize(self.fft.get_scratch_len(), Complex::new(0.0, 0.0));
            // Lengths come from the plan itself, so the call cannot fail.
            let ok = self
                .fft
                .process_with_scratch(&mut s.fft_in, &mut s.fft_out, &mut s.fft_scratch)
                .is_ok();
            for &(a, b) in &self.band_bins {
                let e = if ok {
                    s.fft_out[a..b].iter().map(|c| c.norm_sqr()).sum::<f64>() / nf
                } else {
                    0.0
                };
                o.push(e);
            }
        }
        for (dst, v) in out.iter_mut().zip(o) {
            *dst = v as f32;
        }
    }
}
