//! The backend trait and the hybrid flow: primary backend, validation, classical fallback.

use crate::coef::Coefficient;
use crate::{
    Bqm, Error, ExactSolver, ParallelTempering, Sample, SampleSet, SimulatedAnnealing, TabuSearch,
};

/// A sampler backend (dimod's `Sampler`): anything that turns a model into
/// a [`SampleSet`]. Implement it for a remote or quantum annealer client and
/// plug it into [`HybridSolver`].
pub trait Sampler<T: Coefficient>: Send + Sync {
    /// A short name for logs and [`Info::solver`](crate::Info::solver).
    fn name(&self) -> &str;

    /// Samples `bqm`.
    fn sample(&self, bqm: &Bqm<T>) -> Result<SampleSet<T>, Error>;
}

macro_rules! impl_sampler {
    ($ty:ty, $name:literal) => {
        impl<T: Coefficient> Sampler<T> for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn sample(&self, bqm: &Bqm<T>) -> Result<SampleSet<T>, Error> {
                <$ty>::sample(self, bqm)
            }
        }
    };
}
impl_sampler!(SimulatedAnnealing, "simulated_annealing");
impl_sampler!(ParallelTempering, "parallel_tempering");
impl_sampler!(TabuSearch, "tabu");
impl_sampler!(ExactSolver, "exact");

/// Checks a state against the constraints of the problem a model encodes.
pub trait Validator: Sync {
    /// Why `state` is unacceptable; empty when it is valid.
    fn violations(&self, state: &[i8]) -> Vec<String>;
}

/// Accepts every state (for unconstrained models).
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl Validator for AcceptAll {
    fn violations(&self, _state: &[i8]) -> Vec<String> {
        Vec::new()
    }
}

/// Which backend produced a [`HybridOutcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// The primary backend.
    Primary,
    /// The classical fallback.
    Fallback,
}

/// What [`HybridSolver::sample_validated`] returns.
#[derive(Debug, Clone)]
pub struct HybridOutcome<T: Coefficient> {
    /// The sample set of the backend that was used.
    pub sampleset: SampleSet<T>,
    /// Which backend that was.
    pub backend: Backend,
    /// The primary's error, when it failed.
    pub primary_error: Option<Error>,
    /// The violations of the primary's best sample, when it was rejected.
    pub primary_violations: Vec<String>,
    /// The lowest-energy sample that passed validation (`None`: none did).
    pub best_valid: Option<Sample<T>>,
}

/// The report's flow: submit to a primary backend (for example a quantum
/// annealer), validate the answer against the problem's constraints, and
/// fall back to a classical sampler when the primary fails or returns no
/// valid sample.
///
/// [`HybridSolver::classical`] uses simulated annealing as primary and tabu
/// search as fallback.
pub struct HybridSolver<T: Coefficient> {
    primary: Box<dyn Sampler<T>>,
    fallback: Box<dyn Sampler<T>>,
}

impl<T: Coefficient> std::fmt::Debug for HybridSolver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HybridSolver")
            .field("primary", &self.primary.name())
            .field("fallback", &self.fallback.name())
            .finish()
    }
}

impl<T: Coefficient> HybridSolver<T> {
    /// A primary backend and a fallback.
    pub fn new(primary: Box<dyn Sampler<T>>, fallback: Box<dyn Sampler<T>>) -> Self {
        HybridSolver { primary, fallback }
    }

    /// Simulated annealing, then tabu search, both with their defaults.
    pub fn classical() -> Self {
        Self::new(
            Box::new(SimulatedAnnealing::new()),
            Box::new(TabuSearch::new()),
        )
    }

    /// Samples with the primary; falls back when it errs or none of its
    /// samples passes `validator`. Errors only when the fallback errs too.
    pub fn sample_validated(
        &self,
        bqm: &Bqm<T>,
        validator: &dyn Validator,
    ) -> Result<HybridOutcome<T>, Error> {
        let (primary_error, primary_violations) = match self.primary.sample(bqm) {
            Ok(set) => {
                let best_valid = first_valid(&set, validator);
                if best_valid.is_some() {
                    return Ok(HybridOutcome {
                        sampleset: set,
                        backend: Backend::Primary,
                        primary_error: None,
                        primary_violations: Vec::new(),
                        best_valid,
                    });
                }
                let violations = set
                    .first()
                    .map(|s| validator.violations(&s.state))
                    .unwrap_or_default();
                (None, violations)
            }
            Err(e) => (Some(e), Vec::new()),
        };
        let set = self.fallback.sample(bqm)?;
        Ok(HybridOutcome {
            best_valid: first_valid(&set, validator),
            sampleset: set,
            backend: Backend::Fallback,
            primary_error,
            primary_violations,
        })
    }
}

impl<T: Coefficient> Sampler<T> for HybridSolver<T> {
    fn name(&self) -> &str {
        "hybrid"
    }

    /// The primary's samples, or the fallback's when the primary errs.
    fn sample(&self, bqm: &Bqm<T>) -> Result<SampleSet<T>, Error> {
        Ok(self.sample_validated(bqm, &AcceptAll)?.sampleset)
    }
}

fn first_valid<T: Coefficient>(set: &SampleSet<T>, validator: &dyn Validator) -> Option<Sample<T>> {
    set.iter()
        .find(|s| validator.violations(&s.state).is_empty())
        .cloned()
}
