//! What every heuristic sampler shares: reads, seeds, time limit, energy
//! target and cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use crate::Error;
use crate::error::{check_size, invalid};

/// A handle that stops a running sampler from another thread; the sampler
/// returns the best states found so far with [`StopReason::Cancelled`].
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every sampler holding a clone of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](CancelToken::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Why a sampler stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// Every read used its whole sweep or iteration budget.
    Budget,
    /// The time limit was reached.
    TimeLimit,
    /// A read reached the energy target.
    EnergyTarget,
    /// The [`CancelToken`] was cancelled.
    Cancelled,
}

/// Run-level settings shared by the heuristic samplers; each sampler exposes
/// them as chained setters (`num_reads`, `seed`, `time_limit`,
/// `energy_target`, `cancel_token`); it has the same setters itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunControl {
    /// Independent reads, run in parallel with rayon.
    pub num_reads: usize,
    /// Seed of read 0; read `k` uses a stream derived from `(seed, k)`.
    /// `None` draws a seed from the OS (recorded in the sample set's info).
    pub seed: Option<u64>,
    /// Wall-clock limit for the whole call.
    pub time_limit: Option<Duration>,
    /// Stop every read once one reaches an energy at or below this value.
    pub energy_target: Option<f64>,
    /// Cooperative cancellation.
    pub cancel: Option<CancelToken>,
}

impl Default for RunControl {
    /// One read, a seed from the OS, no limit, no target, no cancellation.
    fn default() -> Self {
        Self::with_reads(1)
    }
}

impl RunControl {
    pub(crate) fn with_reads(num_reads: usize) -> Self {
        RunControl {
            num_reads,
            seed: None,
            time_limit: None,
            energy_target: None,
            cancel: None,
        }
    }

    /// Independent reads (at most [`RunControl::MAX_READS`], checked when
    /// a sampler runs).
    #[must_use]
    pub fn num_reads(mut self, n: usize) -> Self {
        self.num_reads = n;
        self
    }

    /// The seed of read 0.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// A wall-clock limit for the whole call.
    #[must_use]
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Stop once a read reaches this energy.
    #[must_use]
    pub fn energy_target(mut self, target: f64) -> Self {
        self.energy_target = Some(target);
        self
    }

    /// Cooperative cancellation.
    #[must_use]
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// The most reads one call runs (each keeps a state of its own).
    pub const MAX_READS: usize = 1 << 20;

    /// Checks the settings for a model of `num_variables` variables and
    /// returns the seed to use.
    pub(crate) fn validate(&self, num_variables: usize) -> Result<u64, Error> {
        if self.num_reads == 0 {
            return invalid("num_reads", 0, "at least 1");
        }
        check_size("num_reads", self.num_reads as u128, Self::MAX_READS as u64)?;
        // Every read returns a state: refuse more than 4 GiB of them up front.
        check_size(
            "num_reads × num_variables (bytes of returned states)",
            self.num_reads as u128 * num_variables as u128,
            1 << 32,
        )?;
        if let Some(t) = self.energy_target
            && !t.is_finite()
        {
            return invalid("energy_target", t, "a finite energy");
        }
        Ok(self.seed.unwrap_or_else(rand::random))
    }
}

/// Energy tolerance of every comparison that decides "better" or "reached":
/// a relative 1e-9 (absolute below magnitude 1), so float noise in an
/// energy sum never counts as an improvement, and best-state and target
/// detection agree.
pub(crate) fn tolerance(energy: f64) -> f64 {
    1e-9 * energy.abs().max(1.0)
}

/// `a` is lower than `b` by more than the tolerance.
pub(crate) fn improves(a: f64, b: f64) -> bool {
    a < b - tolerance(b)
}

/// `a` is at or below `b` within the tolerance.
pub(crate) fn reaches(a: f64, b: f64) -> bool {
    a <= b + tolerance(b)
}

/// The generator of read `read` under `seed`: distinct reads get distinct streams.
pub(crate) fn read_rng(seed: u64, read: usize) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(splitmix(seed ^ splitmix(read as u64 + 0x9E37_79B9)))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Shared between the reads of one call: decides when everyone stops.
pub(crate) struct Monitor<'a> {
    start: Instant,
    deadline: Option<Instant>,
    target: Option<f64>,
    cancel: Option<&'a CancelToken>,
    /// 0 = running, else a `StopReason` code.
    stopped: AtomicU8,
}

impl<'a> Monitor<'a> {
    pub(crate) fn new(control: &'a RunControl, start: Instant) -> Self {
        Monitor {
            start,
            // A limit beyond what `Instant` can represent means no limit.
            deadline: control.time_limit.and_then(|d| start.checked_add(d)),
            target: control.energy_target,
            cancel: control.cancel.as_ref(),
            stopped: AtomicU8::new(0),
        }
    }

    /// Time since the call started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Whether reads must stop now; checks the clock and the token.
    pub(crate) fn should_stop(&self) -> bool {
        if self.stopped.load(Ordering::Relaxed) != 0 {
            return true;
        }
        if self.cancel.is_some_and(CancelToken::is_cancelled) {
            self.stop(StopReason::Cancelled);
            return true;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stop(StopReason::TimeLimit);
            return true;
        }
        false
    }

    /// Reports a read's new best energy; stops everyone at the target.
    pub(crate) fn report(&self, energy: f64) {
        if self.target.is_some_and(|t| reaches(energy, t)) {
            self.stop(StopReason::EnergyTarget);
        }
    }

    fn stop(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Budget => 0,
            StopReason::TimeLimit => 1,
            StopReason::EnergyTarget => 2,
            StopReason::Cancelled => 3,
        };
        let _ = self
            .stopped
            .compare_exchange(0, code, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub(crate) fn reason(&self) -> StopReason {
        match self.stopped.load(Ordering::Relaxed) {
            1 => StopReason::TimeLimit,
            2 => StopReason::EnergyTarget,
            3 => StopReason::Cancelled,
            _ => StopReason::Budget,
        }
    }
}

/// Generates the shared setters of [`RunControl`] on a sampler type with a
/// `control: RunControl` field.
macro_rules! run_control_setters {
    ($ty:ty) => {
        impl $ty {
            /// Number of independent reads (run in parallel with rayon).
            pub fn num_reads(mut self, num_reads: usize) -> Self {
                self.control.num_reads = num_reads;
                self
            }

            /// Seed for reproducible results: equal seeds give equal sample
            /// sets unless a time limit, target or cancellation cuts reads short.
            pub fn seed(mut self, seed: u64) -> Self {
                self.control.seed = Some(seed);
                self
            }

            /// Wall-clock limit for the whole call; reads stop and return their best.
            pub fn time_limit(mut self, limit: std::time::Duration) -> Self {
                self.control.time_limit = Some(limit);
                self
            }

            /// Stops every read as soon as one reaches this energy or lower.
            pub fn energy_target(mut self, energy: f64) -> Self {
                self.control.energy_target = Some(energy);
                self
            }

            /// A token another thread can cancel to stop the call early.
            pub fn cancel_token(mut self, token: $crate::CancelToken) -> Self {
                self.control.cancel = Some(token);
                self
            }

            /// The run-level settings.
            pub fn control(&self) -> &$crate::RunControl {
                &self.control
            }
        }
    };
}
pub(crate) use run_control_setters;
