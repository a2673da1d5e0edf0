//! Iterated tabu search: one-flip tabu with aspiration, restarted from a
//! perturbed elite state on stagnation.

use std::time::Instant;

use rand::{Rng, RngExt};
use rayon::prelude::*;

use crate::anneal::{Best, random_state};
use crate::coef::Coefficient;
use crate::compiled::{Local, Problem, Rows, with_rows};
use crate::control::{Monitor, RunControl, read_rng, run_control_setters};
use crate::error::invalid;
use crate::sampleset::{Info, ReadResult, finish};
use crate::{Bqm, Error, SampleSet};

/// Tabu search for QUBO in the family that reaches the OR-Library best-known
/// values (Glover's one-flip tabu, Palubeckis' MST2/ITS restarts):
///
/// - every iteration flips the variable with the lowest energy delta among
///   the non-tabu ones, uphill if need be; ties are broken uniformly at random;
/// - a flipped variable stays tabu for `tenure` iterations, unless flipping it
///   would beat the read's best energy (aspiration);
/// - after `stagnation` iterations without a new best, the search restarts
///   from the best state with a random fraction of its variables flipped
///   (a quarter to a tenth of `n`), and the tabu list is cleared.
///
/// Defaults: 4 reads, tenure `min(20, n/4)`, 100 · n + 100,000 iterations per read,
/// stagnation `max(1000, 10 · n)` (see each setter).
#[derive(Debug, Clone)]
pub struct TabuSearch {
    control: RunControl,
    tenure: Option<usize>,
    iterations: Option<u64>,
    stagnation: Option<u64>,
    initial_states: Vec<Vec<i8>>,
}

impl Default for TabuSearch {
    fn default() -> Self {
        Self::new()
    }
}

run_control_setters!(TabuSearch);

impl TabuSearch {
    /// The defaults above.
    pub fn new() -> Self {
        TabuSearch {
            control: RunControl::with_reads(4),
            tenure: None,
            iterations: None,
            stagnation: None,
            initial_states: Vec::new(),
        }
    }

    /// Iterations a flipped variable stays tabu; must be below `n`.
    /// Default `min(20, n/4)` (dwave-tabu's default).
    pub fn tenure(mut self, tenure: usize) -> Self {
        self.tenure = Some(tenure);
        self
    }

    /// Iterations per read. Default `100 · n + 100,000`.
    pub fn iterations(mut self, iterations: u64) -> Self {
        self.iterations = Some(iterations);
        self
    }

    /// Iterations without improvement before a perturbed restart. Default `max(1000, 10 · n)`.
    pub fn stagnation(mut self, stagnation: u64) -> Self {
        self.stagnation = Some(stagnation);
        self
    }

    /// Warm starts: read `k` starts from `states[k % states.len()]` (values
    /// in the model's vartype) instead of a random state, so the search can
    /// only improve on a known solution (for example first-fit decreasing).
    pub fn initial_states(mut self, states: Vec<Vec<i8>>) -> Self {
        self.initial_states = states;
        self
    }

    /// Samples `bqm`.
    pub fn sample<T: Coefficient>(&self, bqm: &Bqm<T>) -> Result<SampleSet<T>, Error> {
        let start = Instant::now();
        let seed = self.control.validate(bqm.num_variables())?;
        let n = bqm.num_variables();
        let tenure = match self.tenure {
            Some(t) if n > 0 && t >= n => {
                return invalid("tenure", t, "a tenure below the number of variables");
            }
            Some(t) => t,
            None => (n / 4).min(20),
        };
        let params = Params {
            tenure,
            iterations: self.iterations.unwrap_or(100 * n as u64 + 100_000),
            stagnation: self.stagnation.unwrap_or((10 * n as u64).max(1000)),
        };
        if params.iterations == 0 {
            return invalid("iterations", 0, "at least 1");
        }
        if params.stagnation == 0 {
            return invalid("stagnation", 0, "at least 1");
        }
        let mut starts = Vec::with_capacity(self.initial_states.len());
        for state in &self.initial_states {
            bqm.check_state(state)?;
            starts.push(state.iter().map(|&v| u8::from(v > 0)).collect::<Vec<u8>>());
        }
        let problem = Problem::new(bqm)?;
        let mut info = Info::new("tabu");
        info.set("initial_states", starts.len());
        info.seed = Some(seed);
        info.set("num_reads", self.control.num_reads);
        info.set("tenure", params.tenure);
        info.set("iterations", params.iterations);
        info.set("stagnation", params.stagnation);
        info.timing.preprocessing = start.elapsed();

        let monitor = Monitor::new(&self.control, start);
        let reads: Vec<ReadResult> = (0..self.control.num_reads)
            .into_par_iter()
            .map(|read| {
                let start = (!starts.is_empty()).then(|| starts[read % starts.len()].clone());
                with_rows!(problem, rows => tabu_read(&problem, rows, &params, start, read_rng(seed, read), &monitor))
            })
            .collect();
        info.stop_reason = monitor.reason();
        finish(bqm, &problem, reads, info, monitor.elapsed())
    }
}

struct Params {
    tenure: usize,
    iterations: u64,
    stagnation: u64,
}

fn tabu_read<R: Rows>(
    problem: &Problem,
    rows: &R,
    params: &Params,
    start: Option<Vec<u8>>,
    mut rng: impl Rng,
    monitor: &Monitor<'_>,
) -> ReadResult {
    let n = problem.n;
    let x = start.unwrap_or_else(|| random_state(n, &mut rng));
    let mut local = Local::new(problem, rows, x);
    let mut best = Best::new(&local, monitor);
    if n == 0 {
        return best.finish(problem, rows, false, monitor, 0);
    }
    let mut tabu_until = vec![0u64; n];
    let mut last_improvement = 0u64;
    let mut iteration = 0u64;
    let mut restarts = 0u64;
    while iteration < params.iterations {
        iteration += 1;
        if iteration.is_multiple_of(64) && monitor.should_stop() {
            break;
        }
        // Aspiration: a tabu move is allowed when it beats the best energy.
        let aspiration = best.energy - local.energy;
        let (mut choice, mut choice_delta, mut ties) = (usize::MAX, f64::INFINITY, 0u32);
        for (j, &until) in tabu_until.iter().enumerate() {
            let d = local.delta(j);
            if until > iteration && d >= aspiration {
                continue;
            }
            if d < choice_delta {
                (choice, choice_delta, ties) = (j, d, 1);
            } else if d == choice_delta {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    choice = j;
                }
            }
        }
        if choice == usize::MAX {
            tabu_until.fill(0);
            continue;
        }
        local.flip(rows, choice, choice_delta);
        tabu_until[choice] = iteration + params.tenure as u64 + 1;
        let before = best.energy;
        best.offer(&local, monitor);
        if best.energy < before {
            last_improvement = iteration;
        } else if iteration - last_improvement > params.stagnation {
            // Restart: usually from the elite state, perturbed; every third
            // restart from a fresh random state, which constrained models
            // (penalty walls around the elite's basin) need.
            restarts += 1;
            local = if restarts.is_multiple_of(3) {
                Local::new(problem, rows, random_state(n, &mut rng))
            } else {
                let mut l = Local::new(problem, rows, best.x.clone());
                let k = rng.random_range((n / 10).max(1)..=(n / 4).max(1));
                for _ in 0..k {
                    let j = rng.random_range(0..n);
                    let d = l.delta(j);
                    l.flip(rows, j, d);
                }
                l
            };
            tabu_until.fill(0);
            last_improvement = iteration;
        }
    }
    best.finish(problem, rows, true, monitor, iteration)
}
