//! Exhaustive Gray-code enumeration: the oracle for small models.

use std::collections::BinaryHeap;
use std::time::Instant;

use rayon::prelude::*;

use crate::coef::Coefficient;
use crate::compiled::{Local, Problem, Rows, with_rows};
use crate::error::invalid;
use crate::sampleset::Info;
use crate::{Bqm, Error, SampleSet, StopReason};

/// Enumerates all `2ⁿ` states in Gray-code order (one flip, O(degree), per
/// state), split across threads by the top bits, and returns the `keep`
/// lowest-energy states (default 16) with exact energies.
///
/// Limited to [`ExactSolver::MAX_VARIABLES`] variables; about `2ⁿ · degree`
/// operations: n = 24 takes well under a second on two cores.
#[derive(Debug, Clone)]
pub struct ExactSolver {
    keep: usize,
}

impl Default for ExactSolver {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(PartialEq)]
struct Entry(f64, u64);
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

impl ExactSolver {
    /// The most variables the solver enumerates.
    pub const MAX_VARIABLES: usize = 30;

    /// Keeps the 16 lowest states.
    pub fn new() -> Self {
        ExactSolver { keep: 16 }
    }

    /// Number of lowest-energy states returned (at least 1).
    pub fn keep(mut self, keep: usize) -> Self {
        self.keep = keep;
        self
    }

    /// Enumerates `bqm`.
    pub fn sample<T: Coefficient>(&self, bqm: &Bqm<T>) -> Result<SampleSet<T>, Error> {
        let start = Instant::now();
        let n = bqm.num_variables();
        if n > Self::MAX_VARIABLES {
            return Err(Error::TooManyVariables {
                num_variables: n,
                limit: Self::MAX_VARIABLES,
            });
        }
        if self.keep == 0 {
            return invalid("keep", 0, "at least 1");
        }
        let problem = Problem::new(bqm)?;
        let mut info = Info::new("exact");
        info.set("keep", self.keep);
        info.timing.preprocessing = start.elapsed();
        let top = n.min(6);
        let low = n - top;
        let mut found: Vec<Entry> = (0..1u64 << top)
            .into_par_iter()
            .map(|prefix| with_rows!(problem, rows => enumerate(&problem, rows, prefix << low, low, self.keep)))
            .flatten()
            .collect();
        found.sort();
        found.truncate(self.keep);
        info.work = 1u64 << n;
        info.stop_reason = StopReason::Budget;
        info.timing.sampling = start.elapsed().saturating_sub(info.timing.preprocessing);
        let post = Instant::now();
        let states = found
            .iter()
            .map(|e| problem.export(&(0..n).map(|i| (e.1 >> i & 1) as u8).collect::<Vec<_>>()))
            .collect();
        let mut set = SampleSet::from_states(bqm, states, info)?;
        set.info_mut().timing.postprocessing = post.elapsed();
        Ok(set)
    }
}

/// The `keep` lowest states whose top bits are `prefix`, varying the `low` lowest bits.
fn enumerate<R: Rows>(
    problem: &Problem,
    rows: &R,
    prefix: u64,
    low: usize,
    keep: usize,
) -> Vec<Entry> {
    let n = problem.n;
    let x = (0..n).map(|i| (prefix >> i & 1) as u8).collect();
    let mut local = Local::new(problem, rows, x);
    let mut mask = prefix;
    // `keep` may exceed the states there are (even usize::MAX).
    let mut heap = BinaryHeap::with_capacity(keep.min(1 << low) + 1);
    heap.push(Entry(local.energy, mask));
    for t in 1..1u64 << low {
        let i = t.trailing_zeros() as usize;
        let d = local.delta(i);
        local.flip(rows, i, d);
        mask ^= 1 << i;
        if heap.len() < keep {
            heap.push(Entry(local.energy, mask));
        } else if heap.peek().is_some_and(|worst| local.energy < worst.0) {
            heap.pop();
            heap.push(Entry(local.energy, mask));
        }
    }
    heap.into_vec()
}
