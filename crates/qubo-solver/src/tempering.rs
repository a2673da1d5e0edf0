//! Parallel tempering (replica exchange Monte Carlo).

use std::time::Instant;

use rand::Rng;
use rayon::prelude::*;

use crate::anneal::{
    Best, Schedule, check_beta_range, default_beta_range, ladder, metropolis_sweep, random_state,
    uniform,
};
use crate::coef::Coefficient;
use crate::compiled::{Local, Problem, Rows, with_rows};
use crate::control::{Monitor, RunControl, read_rng, run_control_setters};
use crate::error::invalid;
use crate::sampleset::{Info, ReadResult, finish};
use crate::{Bqm, Error, SampleSet};

/// Parallel tempering: each read runs `num_replicas` Metropolis chains on a
/// geometric β ladder and, after every sweep, proposes exchanges between
/// neighbouring temperatures (even pairs, then odd pairs, alternately),
/// accepted with probability `min(1, exp((βᵢ - βⱼ)(Eᵢ - Eⱼ)))`. Hot
/// replicas cross barriers and hand good states down to the cold ones. A
/// read returns the best state any replica held at a sweep boundary,
/// polished by steepest descent.
///
/// Defaults: 4 reads, 16 replicas, 1,000 sweeps, β range as for
/// [`SimulatedAnnealing`](crate::SimulatedAnnealing).
#[derive(Debug, Clone)]
pub struct ParallelTempering {
    control: RunControl,
    num_sweeps: usize,
    num_replicas: usize,
    beta_range: Option<(f64, f64)>,
}

impl Default for ParallelTempering {
    fn default() -> Self {
        Self::new()
    }
}

run_control_setters!(ParallelTempering);

impl ParallelTempering {
    /// The defaults above.
    pub fn new() -> Self {
        ParallelTempering {
            control: RunControl::with_reads(4),
            num_sweeps: 1000,
            num_replicas: 16,
            beta_range: None,
        }
    }

    /// Sweeps per replica.
    pub fn num_sweeps(mut self, num_sweeps: usize) -> Self {
        self.num_sweeps = num_sweeps;
        self
    }

    /// Replicas per read (at least 2).
    pub fn num_replicas(mut self, num_replicas: usize) -> Self {
        self.num_replicas = num_replicas;
        self
    }

    /// Fixes `(β_min, β_max)` of the ladder.
    pub fn beta_range(mut self, beta_min: f64, beta_max: f64) -> Self {
        self.beta_range = Some((beta_min, beta_max));
        self
    }

    /// Samples `bqm`.
    pub fn sample<T: Coefficient>(&self, bqm: &Bqm<T>) -> Result<SampleSet<T>, Error> {
        let start = Instant::now();
        let seed = self.control.validate()?;
        if self.num_sweeps == 0 {
            return invalid("num_sweeps", 0, "at least 1");
        }
        if self.num_replicas < 2 {
            return invalid("num_replicas", self.num_replicas, "at least 2");
        }
        let problem = Problem::new(bqm)?;
        let (lo, hi) = match self.beta_range {
            Some(range) => check_beta_range(range)?,
            None => default_beta_range(&problem),
        };
        let betas = ladder(lo, hi, self.num_replicas, &Schedule::Geometric);
        let mut info = Info::new("parallel_tempering");
        info.seed = Some(seed);
        info.set("num_reads", self.control.num_reads);
        info.set("num_sweeps", self.num_sweeps);
        info.set("num_replicas", self.num_replicas);
        info.set("beta_min", lo);
        info.set("beta_max", hi);
        info.timing.preprocessing = start.elapsed();

        let monitor = Monitor::new(&self.control, start);
        let reads: Vec<ReadResult> = (0..self.control.num_reads)
            .into_par_iter()
            .map(|read| {
                with_rows!(problem, rows => temper_read(&problem, rows, &betas, self.num_sweeps, read_rng(seed, read), &monitor))
            })
            .collect();
        info.stop_reason = monitor.reason();
        finish(bqm, &problem, reads, info, monitor.elapsed())
    }
}

fn temper_read<R: Rows>(
    problem: &Problem,
    rows: &R,
    betas: &[f64],
    num_sweeps: usize,
    mut rng: impl Rng,
    monitor: &Monitor<'_>,
) -> ReadResult {
    // replicas[k] runs at betas[k]; exchanges swap the states, not the betas.
    let mut replicas: Vec<Local> = betas
        .iter()
        .map(|_| Local::new(problem, rows, random_state(problem.n, &mut rng)))
        .collect();
    let coldest = replicas.len() - 1;
    let mut best = Best::new(&replicas[coldest], monitor);
    let mut sweeps = 0u64;
    for sweep in 0..num_sweeps {
        if monitor.should_stop() {
            break;
        }
        for (local, &beta) in replicas.iter_mut().zip(betas) {
            metropolis_sweep(local, rows, beta, &mut rng);
            best.offer(local, monitor);
        }
        sweeps += replicas.len() as u64;
        for k in (sweep % 2..coldest).step_by(2) {
            let x = (betas[k + 1] - betas[k]) * (replicas[k + 1].energy - replicas[k].energy);
            if x <= 0.0 || uniform(&mut rng) < (-x).exp() {
                replicas.swap(k, k + 1);
            }
        }
    }
    best.finish(problem, rows, true, monitor, sweeps)
}
