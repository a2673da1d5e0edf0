//! Exact quantiles: the [`Percentiles`] engine, its [`Config`] and the
//! one-call helpers.

use rand::SeedableRng;

use crate::method::Pick;
use crate::sample::Sample;
use crate::select::{Bracket, PassResult, bracket_pass, choose_brackets, multiselect};
use crate::{Error, Method};

/// What to do with NaN in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum NanPolicy {
    /// Return [`Error::NanInData`] naming the first NaN (the default: a NaN in
    /// a metric batch is usually a bug upstream, better loud than hidden).
    #[default]
    Error,
    /// Ignore NaN, like numpy's `nanquantile`/`nanpercentile`.
    Omit,
    /// Any NaN makes every requested quantile NaN, like `numpy.quantile`.
    Propagate,
}

/// Tuning of the exact engine. Every setting has a safe default; no
/// combination is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    nan_policy: NanPolicy,
    bracket_threshold: usize,
    parallel_threshold: usize,
    sort_threshold: usize,
    seed: u64,
}

impl Default for Config {
    /// `NanPolicy::Error`; sample-bracket selection from 50 000 values (below
    /// that a copy plus multi-selection is as fast); rayon from 2 000 000
    /// values (below that splitting costs more than it saves on 2 cores);
    /// full sort from 48 distinct ranks; seed 0.
    fn default() -> Self {
        Config {
            nan_policy: NanPolicy::Error,
            bracket_threshold: 50_000,
            parallel_threshold: 2_000_000,
            sort_threshold: 48,
            seed: 0,
        }
    }
}

impl Config {
    /// Starts from the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the NaN policy.
    pub fn nan_policy(mut self, policy: NanPolicy) -> Self {
        self.nan_policy = policy;
        self
    }

    /// Inputs with at least this many values use the read-only sample-bracket
    /// pass (no copy of the input) instead of copy + multi-selection.
    pub fn bracket_threshold(mut self, n: usize) -> Self {
        self.bracket_threshold = n;
        self
    }

    /// Inputs with at least this many values split the bracket pass across
    /// rayon's pool (feature `parallel`). Results are bit-identical to the
    /// sequential path.
    pub fn parallel_threshold(mut self, n: usize) -> Self {
        self.parallel_threshold = n;
        self
    }

    /// Requests needing at least this many distinct order statistics (or one
    /// per eight values) sort instead of selecting, which is then cheaper.
    /// Every value is valid: 0 and 1 mean "always sort".
    pub fn sort_threshold(mut self, ranks: usize) -> Self {
        self.sort_threshold = ranks;
        self
    }

    /// Seed of the random sample that places the brackets. Results are exact
    /// whatever the seed; only the time taken varies.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// The exact-quantile engine: holds its configuration and the buffers it
/// reuses across calls, so repeated calls on inputs of similar size and
/// shape allocate nothing after the first (a buffer grows only when a call
/// needs more than any earlier one; see the crate's allocation bound).
///
/// ```
/// use novacron_percentile::{Method, Percentiles};
/// let latencies_ms = [12.0, 7.5, 30.1, 9.9, 15.0, 11.2];
/// let mut engine = Percentiles::new();
/// let p = engine.percentiles(&latencies_ms, &[50.0, 99.0], Method::Linear)?;
/// assert_eq!(p[0], 11.6);
/// # Ok::<(), novacron_percentile::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Percentiles<T: Sample = f64> {
    config: Config,
    scratch: Vec<T>,
    candidates: Vec<Vec<T>>,
    picks: Vec<Pick>,
    ranks: Vec<usize>,
    rng: rand::rngs::Xoshiro256PlusPlus,
}

impl<T: Sample> Default for Percentiles<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Sample> Percentiles<T> {
    /// An engine with the default [`Config`].
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    /// An engine with the given configuration.
    pub fn with_config(config: Config) -> Self {
        let rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(config.seed);
        Percentiles {
            config,
            scratch: Vec::new(),
            candidates: Vec::new(),
            picks: Vec::new(),
            ranks: Vec::new(),
            rng,
        }
    }

    /// The NaN policy in force.
    pub fn nan_policy(&self) -> NanPolicy {
        self.config.nan_policy
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Quantiles `qs` (fractions in `[0, 1]`) of `data`, which is left
    /// untouched: large inputs are scanned once without being copied, small
    /// ones are copied into a reused scratch buffer.
    ///
    /// # Errors
    ///
    /// Empty data, no or invalid quantiles, NaN under [`NanPolicy::Error`].
    pub fn quantiles(&mut self, data: &[T], qs: &[f64], method: Method) -> Result<Vec<f64>, Error> {
        let mut out = vec![0.0; qs.len()];
        self.quantiles_into(data, qs, method, &mut out)?;
        Ok(out)
    }

    /// Like [`quantiles`](Self::quantiles), writing into `out` (one slot per quantile).
    ///
    /// # Errors
    ///
    /// As [`quantiles`](Self::quantiles), plus [`Error::OutputLength`].
    pub fn quantiles_into(
        &mut self,
        data: &[T],
        qs: &[f64],
        method: Method,
        out: &mut [f64],
    ) -> Result<(), Error> {
        if self.validate_then_try_brackets(data, qs, method, out)? {
            return Ok(());
        }
        // Copy path: small inputs, many ranks, or a bracket that missed.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let result = match self.config.nan_policy {
            NanPolicy::Omit => {
                scratch.extend(data.iter().copied().filter(|x| !x.is_nan()));
                self.solve_in_place(&mut scratch, qs, method, out)
            }
            policy => match first_nan(data) {
                Some(index) => nan_outcome(policy, index, out),
                None => {
                    scratch.extend_from_slice(data);
                    self.solve_in_place(&mut scratch, qs, method, out)
                }
            },
        };
        self.scratch = scratch;
        result
    }

    /// Quantiles of `data`, which may be reordered (like numpy's
    /// `overwrite_input=True`); never copies the input.
    ///
    /// # Errors
    ///
    /// As [`quantiles`](Self::quantiles).
    pub fn quantiles_in_place(
        &mut self,
        data: &mut [T],
        qs: &[f64],
        method: Method,
    ) -> Result<Vec<f64>, Error> {
        let mut out = vec![0.0; qs.len()];
        self.quantiles_in_place_into(data, qs, method, &mut out)?;
        Ok(out)
    }

    /// Like [`quantiles_in_place`](Self::quantiles_in_place), writing into `out`.
    ///
    /// # Errors
    ///
    /// As [`quantiles_into`](Self::quantiles_into).
    pub fn quantiles_in_place_into(
        &mut self,
        data: &mut [T],
        qs: &[f64],
        method: Method,
        out: &mut [f64],
    ) -> Result<(), Error> {
        if self.validate_then_try_brackets(data, qs, method, out)? {
            return Ok(());
        }
        match self.config.nan_policy {
            NanPolicy::Omit => {
                // Move NaN to the end and work on the rest.
                let mut kept = 0;
                for i in 0..data.len() {
                    if !data[i].is_nan() {
                        data.swap(kept, i);
                        kept += 1;
                    }
                }
                self.solve_in_place(&mut data[..kept], qs, method, out)
            }
            policy => match first_nan(data) {
                Some(index) => nan_outcome(policy, index, out),
                None => self.solve_in_place(data, qs, method, out),
            },
        }
    }

    /// Percentiles `ps` (in `[0, 100]`) of `data`; see [`quantiles`](Self::quantiles).
    ///
    /// # Errors
    ///
    /// As [`quantiles`](Self::quantiles), with [`Error::PercentOutOfRange`] for `ps`.
    pub fn percentiles(
        &mut self,
        data: &[T],
        ps: &[f64],
        method: Method,
    ) -> Result<Vec<f64>, Error> {
        let qs = percents_to_fractions(ps)?;
        self.quantiles(data, &qs, method)
    }

    /// Percentiles of `data`, which may be reordered; see [`quantiles_in_place`](Self::quantiles_in_place).
    ///
    /// # Errors
    ///
    /// As [`percentiles`](Self::percentiles).
    pub fn percentiles_in_place(
        &mut self,
        data: &mut [T],
        ps: &[f64],
        method: Method,
    ) -> Result<Vec<f64>, Error> {
        let qs = percents_to_fractions(ps)?;
        self.quantiles_in_place(data, &qs, method)
    }

    /// One quantile.
    ///
    /// # Errors
    ///
    /// As [`quantiles`](Self::quantiles).
    pub fn quantile(&mut self, data: &[T], q: f64, method: Method) -> Result<f64, Error> {
        let mut out = [0.0];
        self.quantiles_into(data, &[q], method, &mut out)?;
        Ok(out[0])
    }

    /// Checks the request, then answers it by the read-only bracket pass
    /// when the input is large enough; `Ok(false)` leaves it to the caller's
    /// selection path (small input, many ranks, or a bracket that missed).
    fn validate_then_try_brackets(
        &mut self,
        data: &[T],
        qs: &[f64],
        method: Method,
        out: &mut [f64],
    ) -> Result<bool, Error> {
        validate_fractions(qs, out.len())?;
        if data.is_empty() {
            return Err(Error::EmptyInput);
        }
        if self.use_brackets(data.len(), qs.len()) {
            return self.bracket_solve(data, qs, method, out);
        }
        Ok(false)
    }

    fn use_brackets(&self, n: usize, n_qs: usize) -> bool {
        n >= self.config.bracket_threshold
            && 2 * n_qs < self.config.sort_threshold.min(MAX_BRACKET_RANKS)
    }

    /// Selection on a NaN-free working slice that may be reordered.
    fn solve_in_place(
        &mut self,
        work: &mut [T],
        qs: &[f64],
        method: Method,
        out: &mut [f64],
    ) -> Result<(), Error> {
        let n = work.len();
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        self.plan(n, qs, method);
        if self.ranks.len() >= self.config.sort_threshold || self.ranks.len().saturating_mul(8) >= n
        {
            work.sort_unstable_by(T::total_cmp);
        } else {
            multiselect(work, &self.ranks);
        }
        for (o, pick) in out.iter_mut().zip(&self.picks) {
            *o = pick.eval(|r| work[r].to_f64());
        }
        Ok(())
    }

    /// Computes the picks of `qs` over `n` values and their sorted, unique ranks.
    fn plan(&mut self, n: usize, qs: &[f64], method: Method) {
        self.picks.clear();
        self.ranks.clear();
        for &q in qs {
            let pick = method.pick(n, q);
            pick.ranks(|r| self.ranks.push(r));
            self.picks.push(pick);
        }
        self.ranks.sort_unstable();
        self.ranks.dedup();
    }

    /// The read-only sample-bracket path. `Ok(false)` when a bracket missed
    /// its rank (rare) and the caller must fall back to a full selection.
    fn bracket_solve(
        &mut self,
        data: &[T],
        qs: &[f64],
        method: Method,
        out: &mut [f64],
    ) -> Result<bool, Error> {
        let n = data.len();
        let sample_size = (n / 128).max(2048.min(n / 8)).min(16_384);
        // Plan on the estimated count of non-NaN values; the exact count is
        // known after the pass and the ranks are re-derived from it.
        self.plan(n, qs, method);
        let fractions: Vec<f64> = self
            .ranks
            .iter()
            .map(|&r| r as f64 / (n - 1).max(1) as f64)
            .collect();
        let Some(brackets) = choose_brackets(data, &fractions, sample_size, &mut self.rng) else {
            return Ok(false); // the sample was all NaN: let the copy path apply the policy
        };
        let pass = self.run_pass(data, &brackets);
        if pass.nan > 0 {
            match self.config.nan_policy {
                NanPolicy::Omit => {}
                policy => {
                    let index = first_nan(data).unwrap_or(0);
                    self.recycle(pass);
                    return nan_outcome(policy, index, out).map(|()| true);
                }
            }
        }
        let n_eff = n - pass.nan;
        if n_eff == 0 {
            self.recycle(pass);
            return Err(Error::EmptyInput);
        }
        self.plan(n_eff, qs, method);
        let mut pass = pass;
        // Map every rank into its bracket, or give up.
        let mut located: Vec<(usize, usize)> = Vec::with_capacity(self.ranks.len());
        for &r in &self.ranks {
            let found = (0..brackets.len())
                .find(|&j| r >= pass.below[j] && r - pass.below[j] < pass.candidates[j].len());
            match found {
                Some(j) => located.push((j, r - pass.below[j])),
                None => {
                    self.recycle(pass);
                    return Ok(false);
                }
            }
        }
        for j in 0..brackets.len() {
            let local: Vec<usize> = located
                .iter()
                .filter(|(b, _)| *b == j)
                .map(|&(_, l)| l)
                .collect();
            if !local.is_empty() {
                multiselect(&mut pass.candidates[j], &local);
            }
        }
        let ranks = &self.ranks;
        let value_at = |r: usize| {
            let i = ranks.binary_search(&r).unwrap_or(0);
            let (j, l) = located[i];
            pass.candidates[j][l].to_f64()
        };
        for (o, pick) in out.iter_mut().zip(&self.picks) {
            *o = pick.eval(value_at);
        }
        self.recycle(pass);
        Ok(true)
    }

    fn run_pass(&mut self, data: &[T], brackets: &[Bracket<T>]) -> PassResult<T> {
        #[cfg(feature = "parallel")]
        if data.len() >= self.config.parallel_threshold && rayon::current_num_threads() > 1 {
            use rayon::prelude::*;
            let chunk = (data.len() / (4 * rayon::current_num_threads())).max(1 << 16);
            let parts: Vec<PassResult<T>> = data
                .par_chunks(chunk)
                .map(|c| {
                    let mut part = PassResult::new(brackets.len());
                    bracket_pass(c, brackets, &mut part);
                    part
                })
                .collect();
            let mut total = PassResult::new(brackets.len());
            for part in parts {
                total.absorb(part);
            }
            return total;
        }
        let mut pass = PassResult::new(0);
        pass.below = vec![0; brackets.len()];
        pass.candidates = std::mem::take(&mut self.candidates);
        pass.candidates.resize_with(brackets.len(), Vec::new);
        pass.candidates.truncate(brackets.len());
        for c in &mut pass.candidates {
            c.clear();
        }
        bracket_pass(data, brackets, &mut pass);
        pass
    }

    /// Keeps the candidate buffers for the next call.
    fn recycle(&mut self, pass: PassResult<T>) {
        if pass.candidates.len() > self.candidates.len() {
            self.candidates = pass.candidates;
        }
    }
}

/// Above this many distinct ranks the per-value bracket tests cost more than a copy.
const MAX_BRACKET_RANKS: usize = 24;

fn first_nan<T: Sample>(data: &[T]) -> Option<usize> {
    data.iter().position(|x| x.is_nan())
}

fn nan_outcome(policy: NanPolicy, index: usize, out: &mut [f64]) -> Result<(), Error> {
    match policy {
        NanPolicy::Propagate => {
            out.fill(f64::NAN);
            Ok(())
        }
        _ => Err(Error::NanInData { index }),
    }
}

pub(crate) fn validate_fractions(qs: &[f64], out_len: usize) -> Result<(), Error> {
    if qs.is_empty() {
        return Err(Error::NoQuantiles);
    }
    if out_len != qs.len() {
        return Err(Error::OutputLength {
            expected: qs.len(),
            got: out_len,
        });
    }
    for &q in qs {
        validate_fraction(q)?;
    }
    Ok(())
}

pub(crate) fn validate_fraction(q: f64) -> Result<(), Error> {
    if !q.is_finite() {
        return Err(Error::NonFiniteQuantile { q });
    }
    if !(0.0..=1.0).contains(&q) {
        return Err(Error::QuantileOutOfRange { q });
    }
    Ok(())
}

pub(crate) fn percents_to_fractions(ps: &[f64]) -> Result<Vec<f64>, Error> {
    ps.iter()
        .map(|&p| {
            if !p.is_finite() {
                Err(Error::NonFiniteQuantile { q: p })
            } else if !(0.0..=100.0).contains(&p) {
                Err(Error::PercentOutOfRange { p })
            } else {
                Ok(p / 100.0)
            }
        })
        .collect()
}

/// Quantiles `qs` of `data` with the default [`Config`]; `data` is untouched.
///
/// ```
/// use novacron_percentile::{quantiles, Method};
/// let q = quantiles(&[1.0, 2.0, 3.0, 4.0], &[0.5], Method::Linear)?;
/// assert_eq!(q, vec![2.5]);
/// # Ok::<(), novacron_percentile::Error>(())
/// ```
///
/// # Errors
///
/// See [`Percentiles::quantiles`].
pub fn quantiles<T: Sample>(data: &[T], qs: &[f64], method: Method) -> Result<Vec<f64>, Error> {
    Percentiles::new().quantiles(data, qs, method)
}

/// Quantiles of `data`, which may be reordered; no copy of the input.
///
/// # Errors
///
/// See [`Percentiles::quantiles_in_place`].
pub fn quantiles_in_place<T: Sample>(
    data: &mut [T],
    qs: &[f64],
    method: Method,
) -> Result<Vec<f64>, Error> {
    Percentiles::new().quantiles_in_place(data, qs, method)
}

/// Percentiles `ps` (in `[0, 100]`) of `data` with the default [`Config`].
///
/// # Errors
///
/// See [`Percentiles::percentiles`].
pub fn percentiles<T: Sample>(data: &[T], ps: &[f64], method: Method) -> Result<Vec<f64>, Error> {
    Percentiles::new().percentiles(data, ps, method)
}
