//! Simulated annealing: Metropolis one-flip sweeps under a β schedule.

use std::time::Instant;

use rand::{Rng, RngExt};
use rand_distr::Exp1;
use rayon::prelude::*;

use crate::coef::Coefficient;
use crate::compiled::{Local, Problem, Rows, with_rows};
use crate::control::{Monitor, RunControl, improves, read_rng, run_control_setters};
use crate::error::invalid;
use crate::sampleset::{Info, ReadResult, finish};
use crate::{Bqm, Error, SampleSet};

/// How β (inverse temperature) moves from the hot end to the cold end.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Schedule {
    /// `β_k = β_min · (β_max/β_min)^(k/(K-1))`: equal time per decade of
    /// temperature (the default, as in dwave-samplers).
    Geometric,
    /// `β_k = β_min + (β_max - β_min) · k/(K-1)`.
    Linear,
    /// One sweep per listed β, in order (`num_sweeps` and the β range are ignored).
    Custom(Vec<f64>),
}

/// Simulated annealing (dwave-samplers' `SimulatedAnnealingSampler`):
/// each read starts from a uniformly random state and performs Metropolis
/// one-flip sweeps in variable order while β rises; it returns the best
/// state seen at a sweep boundary (not only the last), polished by steepest
/// descent to a one-flip local minimum.
///
/// Defaults: 16 reads, 1,000 sweeps, geometric schedule, β range derived
/// from the coefficients (see [`SimulatedAnnealing::beta_range`]).
#[derive(Debug, Clone)]
pub struct SimulatedAnnealing {
    control: RunControl,
    num_sweeps: usize,
    beta_range: Option<(f64, f64)>,
    schedule: Schedule,
    descend: bool,
}

impl Default for SimulatedAnnealing {
    fn default() -> Self {
        Self::new()
    }
}

run_control_setters!(SimulatedAnnealing);

impl SimulatedAnnealing {
    /// The defaults above.
    pub fn new() -> Self {
        SimulatedAnnealing {
            control: RunControl::with_reads(16),
            num_sweeps: 1000,
            beta_range: None,
            schedule: Schedule::Geometric,
            descend: true,
        }
    }

    /// Sweeps per read (each sweep visits every variable once).
    pub fn num_sweeps(mut self, num_sweeps: usize) -> Self {
        self.num_sweeps = num_sweeps;
        self
    }

    /// Fixes `(β_min, β_max)`. By default the range is derived from the
    /// model: at β_min the largest possible one-flip increase is accepted
    /// with probability 1/2, at β_max the smallest non-zero increase with
    /// probability 1/100 (dwave-samplers' rule, here computed per variable
    /// on the binary form).
    pub fn beta_range(mut self, beta_min: f64, beta_max: f64) -> Self {
        self.beta_range = Some((beta_min, beta_max));
        self
    }

    /// The β schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Whether each read's best state is polished by steepest descent (default true).
    pub fn descend(mut self, descend: bool) -> Self {
        self.descend = descend;
        self
    }

    /// Samples `bqm`.
    pub fn sample<T: Coefficient>(&self, bqm: &Bqm<T>) -> Result<SampleSet<T>, Error> {
        let start = Instant::now();
        let seed = self.control.validate(bqm.num_variables())?;
        let problem = Problem::new(bqm)?;
        let betas = self.betas(&problem)?;
        let mut info = Info::new("simulated_annealing");
        info.seed = Some(seed);
        info.set("num_reads", self.control.num_reads);
        info.set("num_sweeps", betas.len());
        info.set("beta_min", betas.first());
        info.set("beta_max", betas.last());
        info.set(
            "schedule",
            format!("{:?}", self.schedule)
                .split('(')
                .next()
                .unwrap_or(""),
        );
        info.set("descend", self.descend);
        info.timing.preprocessing = start.elapsed();

        let monitor = Monitor::new(&self.control, start);
        let reads: Vec<ReadResult> = (0..self.control.num_reads)
            .into_par_iter()
            .map(|read| {
                with_rows!(problem, rows => anneal_read(&problem, rows, betas, self.descend, read_rng(seed, read), &monitor))
            })
            .collect();
        info.stop_reason = monitor.reason();
        finish(bqm, &problem, reads, info, monitor.elapsed())
    }

    fn betas(&self, problem: &Problem) -> Result<Betas<'_>, Error> {
        if let Schedule::Custom(betas) = &self.schedule {
            if betas.is_empty() {
                return invalid("schedule", "an empty list", "at least one beta");
            }
            if let Some(b) = betas.iter().find(|b| !(b.is_finite() && **b >= 0.0)) {
                return invalid("schedule", b, "finite betas >= 0");
            }
            return Ok(Betas::Custom(betas));
        }
        if self.num_sweeps == 0 {
            return invalid("num_sweeps", 0, "at least 1");
        }
        let (lo, hi) = match self.beta_range {
            Some(range) => check_beta_range(range)?,
            None => default_beta_range(problem),
        };
        Ok(Betas::Ladder {
            lo,
            hi,
            len: self.num_sweeps,
            linear: self.schedule == Schedule::Linear,
        })
    }
}

/// A read's β per sweep, computed when needed: a schedule of 2⁴⁰ sweeps costs
/// no memory (a time limit or the budget ends it).
#[derive(Debug, Clone, Copy)]
enum Betas<'a> {
    Ladder {
        lo: f64,
        hi: f64,
        len: usize,
        linear: bool,
    },
    Custom(&'a [f64]),
}

impl Betas<'_> {
    fn len(&self) -> usize {
        match self {
            Betas::Ladder { len, .. } => *len,
            Betas::Custom(b) => b.len(),
        }
    }

    fn get(&self, k: usize) -> f64 {
        match *self {
            Betas::Ladder {
                lo,
                hi,
                len,
                linear,
            } => ladder_step(lo, hi, k, len, linear),
            Betas::Custom(b) => b[k],
        }
    }

    fn first(&self) -> f64 {
        self.get(0)
    }

    fn last(&self) -> f64 {
        self.get(self.len() - 1)
    }
}

/// Step `k` of `len` from `lo` to `hi`, geometric or linear.
fn ladder_step(lo: f64, hi: f64, k: usize, len: usize, linear: bool) -> f64 {
    if len == 1 {
        return hi;
    }
    let t = k as f64 / (len - 1) as f64;
    if linear {
        lo + (hi - lo) * t
    } else {
        lo * (hi / lo).powf(t)
    }
}

pub(crate) fn check_beta_range((lo, hi): (f64, f64)) -> Result<(f64, f64), Error> {
    if !(lo.is_finite() && lo > 0.0) {
        return invalid("beta_min", lo, "a finite beta > 0");
    }
    if !(hi.is_finite() && hi >= lo) {
        return invalid("beta_max", hi, "a finite beta >= beta_min");
    }
    Ok((lo, hi))
}

/// dwave-samplers' rule on the binary form: the largest one-flip change
/// accepted with probability 1/2 when hot, the smallest with 1/100 when cold.
pub(crate) fn default_beta_range(problem: &Problem) -> (f64, f64) {
    let bounds = problem.delta_bounds();
    let max = bounds.iter().map(|b| b.0).fold(0.0, f64::max);
    let min = bounds.iter().map(|b| b.1).fold(f64::INFINITY, f64::min);
    if max <= 0.0 || !min.is_finite() {
        return (0.1, 1.0);
    }
    let lo = std::f64::consts::LN_2 / max;
    let hi = (100f64).ln() / min;
    (lo, hi.max(lo))
}

/// `k` geometric betas from `lo` to `hi` (the tempering ladder).
pub(crate) fn ladder(lo: f64, hi: f64, k: usize) -> Vec<f64> {
    (0..k).map(|i| ladder_step(lo, hi, i, k, false)).collect()
}

pub(crate) fn metropolis_sweep<R: Rows>(
    local: &mut Local,
    rows: &R,
    beta: f64,
    rng: &mut impl Rng,
) {
    for i in 0..local.x.len() {
        let d = local.delta(i);
        // Metropolis: accept with probability exp(-βΔ), i.e. when βΔ is below
        // an Exp(1) variate (ziggurat: no exp or log per attempt). exp(-40)
        // < 5e-18: such moves are never worth a random number.
        if d <= 0.0 || (beta * d < 40.0 && beta * d < rng.sample(Exp1)) {
            local.flip(rows, i, d);
        }
    }
}

/// A uniform f64 in [0, 1) from the top 53 bits.
#[inline(always)]
pub(crate) fn uniform(rng: &mut impl Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

pub(crate) fn random_state(n: usize, rng: &mut impl Rng) -> Vec<u8> {
    (0..n).map(|_| u8::from(rng.random_bool(0.5))).collect()
}

/// Tracks a read's best state at sweep boundaries.
pub(crate) struct Best {
    pub(crate) x: Vec<u8>,
    pub(crate) energy: f64,
    pub(crate) found_at: std::time::Duration,
}

impl Best {
    pub(crate) fn new(local: &Local, monitor: &Monitor<'_>) -> Self {
        monitor.report(local.energy);
        Best {
            x: local.x.clone(),
            energy: local.energy,
            found_at: monitor.elapsed(),
        }
    }

    #[inline]
    pub(crate) fn offer(&mut self, local: &Local, monitor: &Monitor<'_>) {
        if improves(local.energy, self.energy) {
            self.x.copy_from_slice(&local.x);
            self.energy = local.energy;
            self.found_at = monitor.elapsed();
            monitor.report(self.energy);
        }
    }

    /// Polishes the best state by steepest descent and returns the read's result.
    pub(crate) fn finish<R: Rows>(
        self,
        problem: &Problem,
        rows: &R,
        descend: bool,
        monitor: &Monitor<'_>,
        work: u64,
    ) -> ReadResult {
        let mut result = ReadResult {
            x: self.x,
            energy: self.energy,
            found_at: self.found_at,
            work,
        };
        if descend {
            let mut local = Local::new(problem, rows, std::mem::take(&mut result.x));
            let before = local.energy;
            local.descend(rows);
            if improves(local.energy, before) {
                result.found_at = monitor.elapsed();
                monitor.report(local.energy);
            }
            result.energy = local.energy;
            result.x = local.x;
        }
        result
    }
}

fn anneal_read<R: Rows>(
    problem: &Problem,
    rows: &R,
    betas: Betas<'_>,
    descend: bool,
    mut rng: impl Rng,
    monitor: &Monitor<'_>,
) -> ReadResult {
    let mut local = Local::new(problem, rows, random_state(problem.n, &mut rng));
    let mut best = Best::new(&local, monitor);
    let mut sweeps = 0u64;
    for beta in (0..betas.len()).map(|k| betas.get(k)) {
        if monitor.should_stop() {
            break;
        }
        metropolis_sweep(&mut local, rows, beta, &mut rng);
        sweeps += 1;
        best.offer(&local, monitor);
    }
    best.finish(problem, rows, descend, monitor, sweeps)
}
