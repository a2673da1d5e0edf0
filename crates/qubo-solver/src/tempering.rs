//! Parallel tempering (replica exchange Monte Carlo).

use std::time::Instant;

use rand::Rng;
use rayon::prelude::*;

use crate::anneal::{
    Best, check_beta_range, default_beta_range, ladder, metropolis_sweep, random_state, uniform,
};
use crate::coef::Coefficient;
use crate::compiled::{Local, Problem, Rows, with_rows};
use crate::control::{Monitor, RunControl, read_rng, run_control_setters};
use crate::error::{check_size, invalid};
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
    /// The most replicas a read may run.
    pub const MAX_REPLICAS: usize = 4096;

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

    /// Replicas per read (at least 2, at most [`MAX_REPLICAS`](Self::MAX_REPLICAS)).
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
        let seed = self.control.validate(bqm.num_variables())?;
        if self.num_sweeps == 0 {
            return invalid("num_sweeps", 0, "at least 1");
        }
        if self.num_replicas < 2 {
            return invalid("num_replicas", self.num_replicas, "at least 2");
        }
        check_size(
            "num_replicas",
            self.num_replicas as u128,
            Self::MAX_REPLICAS as u64,
        )?;
        // Each replica holds a state and its local fields (9 bytes a variable).
        check_size(
            "num_replicas × num_variables",
            self.num_replicas as u128 * bqm.num_variables() as u128,
            1 << 28,
        )?;
        let problem = Problem::new(bqm)?;
        let (lo, hi) = match self.beta_range {
            Some(range) => check_beta_range(range)?,
            None => default_beta_range(&problem),
        };
        let betas = ladder(lo, hi, self.num_replicas);
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
        exchange(&mut replicas, betas, sweep % 2, &mut rng);
    }
    best.finish(problem, rows, true, monitor, sweeps)
}

/// Proposes a swap of every neighbouring pair `(k, k + 1)` with `k ≡ parity
/// (mod 2)`. `betas` ascend, so `k + 1` is the colder replica.
fn exchange(replicas: &mut [Local], betas: &[f64], parity: usize, rng: &mut impl Rng) {
    for k in (parity..replicas.len().saturating_sub(1)).step_by(2) {
        let x = exchange_exponent(
            (betas[k], replicas[k].energy),
            (betas[k + 1], replicas[k + 1].energy),
        );
        // min(1, exp(x)): always when the colder replica holds the higher
        // energy (x >= 0), so good states flow towards the cold end.
        if x >= 0.0 || uniform(rng) < x.exp() {
            replicas.swap(k, k + 1);
        }
    }
}

/// `(βⱼ − βᵢ)(Eⱼ − Eᵢ)`: the log of the ratio of the joint Boltzmann weights
/// after and before exchanging the states of replicas `i` and `j`.
fn exchange_exponent((beta_i, e_i): (f64, f64), (beta_j, e_j): (f64, f64)) -> f64 {
    (beta_j - beta_i) * (e_j - e_i)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    use super::*;
    use crate::anneal::metropolis_sweep;

    #[test]
    fn exchange_always_moves_the_lower_energy_to_the_colder_replica() {
        // Hot replica (β = 0.5) holds E = -3, cold one (β = 2) holds E = 1:
        // the swap raises the joint weight, so it must always happen.
        assert!(exchange_exponent((0.5, -3.0), (2.0, 1.0)) > 0.0);
        // The reverse situation is accepted with exp(-(1.5 · 4)) only.
        let x = exchange_exponent((0.5, 1.0), (2.0, -3.0));
        assert!((x - (-6.0)).abs() < 1e-12);
    }

    /// The coldest replica of a correct replica-exchange chain samples the
    /// Boltzmann distribution at its β; exchanging with the wrong rule
    /// (`exp(-x)`) pushes high-energy states to the cold end and breaks it.
    #[test]
    fn coldest_replica_samples_the_exact_boltzmann_distribution() {
        // Three variables with a frustrated, non-degenerate spectrum.
        let mut bqm = Bqm::<f64>::with_variables(3, crate::Vartype::Binary).expect("small");
        for (i, a) in [(0, -1.0), (1, 0.5), (2, -0.3)] {
            bqm.add_linear(i, a).expect("in range");
        }
        for (i, j, b) in [(0, 1, 1.2), (1, 2, -0.8), (0, 2, 0.7)] {
            bqm.add_quadratic(i, j, b).expect("in range");
        }
        let problem = Problem::new(&bqm).expect("compiles");
        let betas = [0.2, 0.6, 1.8];
        let cold = betas[2];
        let exact: Vec<f64> = {
            let weights: Vec<f64> = (0u8..8)
                .map(|s| {
                    let x: Vec<i8> = (0..3).map(|i| ((s >> i) & 1) as i8).collect();
                    (-cold * bqm.energy(&x).expect("valid state")).exp()
                })
                .collect();
            let z: f64 = weights.iter().sum();
            weights.iter().map(|w| w / z).collect()
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let sweeps = 200_000;
        let mut seen = [0u64; 8];
        with_rows!(problem, rows => {
            let mut replicas: Vec<Local> = betas
                .iter()
                .map(|_| Local::new(&problem, rows, random_state(3, &mut rng)))
                .collect();
            for sweep in 0..sweeps {
                for (local, &beta) in replicas.iter_mut().zip(&betas) {
                    metropolis_sweep(local, rows, beta, &mut rng);
                }
                exchange(&mut replicas, &betas, sweep % 2, &mut rng);
                let x = &replicas[2].x;
                seen[usize::from(x[0]) | usize::from(x[1]) << 1 | usize::from(x[2]) << 2] += 1;
            }
        });
        let total_variation: f64 = seen
            .iter()
            .zip(&exact)
            .map(|(&c, &p)| (c as f64 / sweeps as f64 - p).abs())
            .sum::<f64>()
            / 2.0;
        assert!(
            total_variation < 0.01,
            "cold replica distribution {seen:?} is {total_variation} from Boltzmann {exact:?}"
        );
    }
}
