//! Sampler results: states with energies, sorted, with an info record.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::coef::Coefficient;
use crate::compiled::Problem;
use crate::{Bqm, Error, StopReason, Vartype};

/// One state with its energy and how many reads returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<T: Coefficient> {
    /// One value per variable, in the model's vartype (0/1 or -1/+1).
    pub state: Vec<i8>,
    /// Its energy, computed exactly in the model's coefficients.
    pub energy: T,
    /// Number of reads that returned this state.
    pub num_occurrences: usize,
}

/// Wall-clock split of a sampler call.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// Compiling the model and deriving parameters.
    pub preprocessing: Duration,
    /// The search itself (all reads, in parallel).
    pub sampling: Duration,
    /// Exact energies, sorting.
    pub postprocessing: Duration,
}

/// What a sampler did: the parameters it actually used, its work and time.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// The sampler's name (`"simulated_annealing"`, `"tabu"`, …).
    pub solver: String,
    /// Every parameter as used, derived ones included (for example the β
    /// range), as text keyed by name.
    pub parameters: BTreeMap<String, String>,
    /// The seed of the call (reproduce the run by passing it back).
    pub seed: Option<u64>,
    /// Total sweeps (annealing, tempering: per replica) or iterations (tabu) over all reads.
    pub work: u64,
    /// Time split.
    pub timing: Timing,
    /// From the start of the call until the best returned energy was first found.
    pub time_to_best: Option<Duration>,
    /// Why the call stopped.
    pub stop_reason: StopReason,
}

impl Info {
    pub(crate) fn new(solver: &str) -> Self {
        Info {
            solver: solver.to_string(),
            parameters: BTreeMap::new(),
            seed: None,
            work: 0,
            timing: Timing::default(),
            time_to_best: None,
            stop_reason: StopReason::Budget,
        }
    }

    /// Records a parameter.
    pub fn set(&mut self, name: &str, value: impl ToString) {
        self.parameters.insert(name.to_string(), value.to_string());
    }
}

/// Samples sorted by ascending energy (dimod's `SampleSet`); the first is the best.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSet<T: Coefficient> {
    vartype: Vartype,
    samples: Vec<Sample<T>>,
    info: Info,
}

impl<T: Coefficient> SampleSet<T> {
    /// Builds a sample set from states of `bqm`, computing exact energies and
    /// sorting (stable, so equal energies keep their read order).
    pub fn from_states(bqm: &Bqm<T>, states: Vec<Vec<i8>>, info: Info) -> Result<Self, Error> {
        let mut samples = states
            .into_iter()
            .map(|state| {
                Ok(Sample {
                    energy: bqm.energy(&state)?,
                    state,
                    num_occurrences: 1,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        sort(&mut samples);
        Ok(SampleSet {
            vartype: bqm.vartype(),
            samples,
            info,
        })
    }

    /// The lowest-energy sample (`None` only for an empty set).
    pub fn first(&self) -> Option<&Sample<T>> {
        self.samples.first()
    }

    /// The lowest energy.
    pub fn lowest_energy(&self) -> Option<T> {
        self.first().map(|s| s.energy)
    }

    /// All samples, lowest energy first.
    pub fn samples(&self) -> &[Sample<T>] {
        &self.samples
    }

    /// Iterates over the samples, lowest energy first.
    pub fn iter(&self) -> std::slice::Iter<'_, Sample<T>> {
        self.samples.iter()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The vartype of the states.
    pub fn vartype(&self) -> Vartype {
        self.vartype
    }

    /// What the sampler did.
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// Mutable info (backends add their own parameters).
    pub fn info_mut(&mut self) -> &mut Info {
        &mut self.info
    }

    /// Merges identical states, summing their occurrences (order kept).
    pub fn aggregate(self) -> Self {
        let mut index: HashMap<Vec<i8>, usize> = HashMap::new();
        let mut out: Vec<Sample<T>> = Vec::new();
        for s in self.samples {
            match index.get(&s.state) {
                Some(&k) => out[k].num_occurrences += s.num_occurrences,
                None => {
                    index.insert(s.state.clone(), out.len());
                    out.push(s);
                }
            }
        }
        SampleSet {
            vartype: self.vartype,
            samples: out,
            info: self.info,
        }
    }

    /// Keeps the `k` lowest-energy samples.
    pub fn truncate(mut self, k: usize) -> Self {
        self.samples.truncate(k);
        self
    }
}

impl<'a, T: Coefficient> IntoIterator for &'a SampleSet<T> {
    type Item = &'a Sample<T>;
    type IntoIter = std::slice::Iter<'a, Sample<T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.samples.iter()
    }
}

fn sort<T: Coefficient>(samples: &mut [Sample<T>]) {
    samples.sort_by(|a, b| {
        a.energy
            .partial_cmp(&b.energy)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// What one read of a heuristic returns.
pub(crate) struct ReadResult {
    pub(crate) x: Vec<u8>,
    pub(crate) energy: f64,
    /// Since the call started.
    pub(crate) found_at: Duration,
    pub(crate) work: u64,
}

/// Turns the reads of a call into a sample set: exact energies, sorted, timed.
pub(crate) fn finish<T: Coefficient>(
    bqm: &Bqm<T>,
    problem: &Problem,
    reads: Vec<ReadResult>,
    mut info: Info,
    sampling_end: Duration,
) -> Result<SampleSet<T>, Error> {
    let post = std::time::Instant::now();
    info.work = reads.iter().map(|r| r.work).sum();
    let best = reads.iter().map(|r| r.energy).fold(f64::INFINITY, f64::min);
    info.time_to_best = reads
        .iter()
        .filter(|r| crate::control::reaches(r.energy, best))
        .map(|r| r.found_at)
        .min();
    let states = reads.iter().map(|r| problem.export(&r.x)).collect();
    let mut set = SampleSet::from_states(bqm, states, info)?;
    set.info.timing.sampling = sampling_end.saturating_sub(set.info.timing.preprocessing);
    set.info.timing.postprocessing = post.elapsed();
    Ok(set)
}
