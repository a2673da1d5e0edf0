//! Sizing policies: pure functions from a stream of samples to a target
//! size, so that each is unit-tested on synthetic traces.

use std::time::Duration;

use crate::error::Error;

/// What the pool measured over one control interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    /// The length of the interval.
    pub interval: Duration,
    /// The target size during the interval.
    pub size: usize,
    /// Connections handed out (`get()` calls that succeeded).
    pub acquired: u64,
    /// Connections returned: completed units of work.
    pub completed: u64,
    /// Time callers spent waiting in `get()`, summed (ended waits).
    pub wait_total: Duration,
    /// Time connections were held, summed (returned connections).
    pub hold_total: Duration,
    /// Callers waiting at the end of the interval.
    pub waiters: usize,
    /// `get()` calls that timed out.
    pub timeouts: u64,
}

impl Sample {
    fn secs(&self) -> f64 {
        self.interval.as_secs_f64().max(1e-9)
    }

    /// Completed operations per second.
    pub fn throughput(&self) -> f64 {
        self.completed as f64 / self.secs()
    }

    /// Average connections in use (hold time over the interval, by Little's law).
    pub fn busy(&self) -> f64 {
        self.hold_total.as_secs_f64() / self.secs()
    }

    /// Average callers waiting (wait time over the interval), at least the
    /// waiters seen at its end.
    pub fn queue(&self) -> f64 {
        (self.wait_total.as_secs_f64() / self.secs()).max(self.waiters as f64)
    }

    /// Average share of the pool in use.
    pub fn utilization(&self) -> f64 {
        if self.size == 0 {
            0.0
        } else {
            self.busy() / self.size as f64
        }
    }
}

/// Why the controller changed the size.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Reason {
    /// Callers waited: grow towards the demand (callers wanting a connection).
    Waiters {
        /// Average callers wanting a connection (in use + waiting).
        demand: f64,
    },
    /// Utilization crossed the grow threshold (threshold policy).
    HighUtilization {
        /// The utilization seen.
        utilization: f64,
    },
    /// The last step did not raise throughput enough: back to the size before it.
    Reverted {
        /// Throughput before the step (ops/s).
        before: f64,
        /// Throughput after it (ops/s).
        after: f64,
    },
    /// Utilization stayed low for the shrink delay.
    Idle {
        /// The utilization seen.
        utilization: f64,
    },
}

/// A resize the controller asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The size before.
    pub from: usize,
    /// The size to set.
    pub to: usize,
    /// Why.
    pub reason: Reason,
}

/// The platform report's rule: grow by a factor above a utilization, shrink
/// by a factor after a long spell below another.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ThresholdPolicy {
    /// Grow when utilization is above this (report: 0.8).
    pub grow_above: f64,
    /// Multiply the size by this when growing (report: 1.5).
    pub grow_factor: f64,
    /// Shrink when utilization stays below this (report: 0.3).
    pub shrink_below: f64,
    /// Multiply the size by this when shrinking (report: 0.8).
    pub shrink_factor: f64,
    /// How long utilization must stay low before a shrink (report: 5 min).
    pub shrink_after: Duration,
}

/// The default policy: grow from waiter pressure, keep a step only if
/// throughput rose, shrink after sustained idle.
///
/// - **Grow** when callers wait (average queue above `queue_threshold`)
///   towards the demand by Little's law — average callers wanting a
///   connection, `(wait + hold time) × arrival rate` — at most ×`max_growth`
///   per step.
/// - **Keep a step only if it paid**: after one interval to settle, the
///   next interval's throughput must beat the one before the step by
///   `min_gain`; otherwise the step is reverted and growth cools down for
///   `cooldown` (the gradient idea of Netflix's concurrency-limits: more
///   connections than the server can use only queue inside it).
/// - **Shrink** by ×`shrink_factor` after utilization stayed below
///   `shrink_below` with no waiters for `shrink_after` (hysteresis: grow needs
///   waiters, shrink needs a long idle spell).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ThroughputPolicy {
    /// Average waiters that count as pressure (default 0.5).
    pub queue_threshold: f64,
    /// The largest growth factor of one step (default 2).
    pub max_growth: f64,
    /// The throughput gain a grow step must show to be kept (default 0.03).
    pub min_gain: f64,
    /// How long growth pauses after a reverted step (default 5 s).
    pub cooldown: Duration,
    /// Shrink when utilization stays below this (default 0.5).
    pub shrink_below: f64,
    /// How long before a shrink (default 30 s).
    pub shrink_after: Duration,
    /// Multiply the size by this when shrinking (default 0.8).
    pub shrink_factor: f64,
}

impl Default for ThroughputPolicy {
    fn default() -> ThroughputPolicy {
        ThroughputPolicy {
            queue_threshold: 0.5,
            max_growth: 2.0,
            min_gain: 0.03,
            cooldown: Duration::from_secs(5),
            shrink_below: 0.5,
            shrink_after: Duration::from_secs(30),
            shrink_factor: 0.8,
        }
    }
}

/// How the pool chooses its size.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ScalingPolicy {
    /// Never resize (the static pools of the baselines).
    Static,
    /// The report's utilization thresholds.
    Threshold(ThresholdPolicy),
    /// Waiter pressure, kept only when throughput rises (the default).
    Throughput(ThroughputPolicy),
}

impl Default for ScalingPolicy {
    fn default() -> ScalingPolicy {
        ScalingPolicy::Throughput(ThroughputPolicy::default())
    }
}

impl ScalingPolicy {
    /// The report's rule: ×1.5 above 80 % utilization, ×0.8 after 5 minutes
    /// under 30 %.
    pub fn seed_report() -> ScalingPolicy {
        ScalingPolicy::Threshold(ThresholdPolicy {
            grow_above: 0.8,
            grow_factor: 1.5,
            shrink_below: 0.3,
            shrink_factor: 0.8,
            shrink_after: Duration::from_secs(5 * 60),
        })
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let fraction = |field: &'static str, v: f64| {
            if v > 0.0 && v < 1.0 {
                Ok(())
            } else {
                Err(Error::config(field, format!("{v} is outside (0, 1)")))
            }
        };
        let above_one = |field: &'static str, v: f64| {
            if v > 1.0 && v <= 16.0 {
                Ok(())
            } else {
                Err(Error::config(field, format!("{v} is outside (1, 16]")))
            }
        };
        match self {
            ScalingPolicy::Static => Ok(()),
            ScalingPolicy::Threshold(p) => {
                fraction("policy.grow_above", p.grow_above)?;
                fraction("policy.shrink_below", p.shrink_below)?;
                fraction("policy.shrink_factor", p.shrink_factor)?;
                above_one("policy.grow_factor", p.grow_factor)?;
                if p.shrink_below >= p.grow_above {
                    return Err(Error::config(
                        "policy.shrink_below",
                        "must be below grow_above, or the pool would flap",
                    ));
                }
                Ok(())
            }
            ScalingPolicy::Throughput(p) => {
                fraction("policy.shrink_below", p.shrink_below)?;
                fraction("policy.shrink_factor", p.shrink_factor)?;
                fraction("policy.min_gain", p.min_gain)?;
                above_one("policy.max_growth", p.max_growth)?;
                if !(p.queue_threshold.is_finite() && p.queue_threshold >= 0.0) {
                    return Err(Error::config(
                        "policy.queue_threshold",
                        format!("{} must be a finite count >= 0", p.queue_threshold),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// A step under evaluation by the throughput policy.
#[derive(Debug, Clone, Copy)]
struct Probe {
    from: usize,
    baseline: f64,
    settle_left: u32,
}

/// The controller: a policy with its state. Feed it one [`Sample`] per
/// interval; it answers with the resize to make, if any.
///
/// ```
/// use std::time::Duration;
/// use novacron_adaptive_pool::{Controller, Sample, ScalingPolicy};
///
/// let mut controller = Controller::new(ScalingPolicy::default(), 2, 200, 2);
/// // 100 callers waiting on 2 busy connections: grow.
/// let busy = Sample {
///     interval: Duration::from_secs(1),
///     size: 2,
///     acquired: 1000,
///     completed: 1000,
///     wait_total: Duration::from_secs(100),
///     hold_total: Duration::from_secs(2),
///     waiters: 100,
///     timeouts: 0,
/// };
/// let decision = controller.step(&busy).expect("grows");
/// assert_eq!((decision.from, decision.to), (2, 4));
/// ```
#[derive(Debug, Clone)]
pub struct Controller {
    policy: ScalingPolicy,
    min: usize,
    max: usize,
    size: usize,
    probe: Option<Probe>,
    cooldown: Duration,
    low_for: Duration,
    /// Throughput of the last interval at the current size.
    last_throughput: Option<f64>,
}

impl Controller {
    /// A controller between `min` and `max` (both clamped so that `1 <= min
    /// <= max`), starting at `size`.
    pub fn new(policy: ScalingPolicy, min: usize, max: usize, size: usize) -> Controller {
        let max = max.max(1);
        let min = min.clamp(1, max);
        Controller {
            policy,
            min,
            max,
            size: size.clamp(min, max),
            probe: None,
            cooldown: Duration::ZERO,
            low_for: Duration::ZERO,
            last_throughput: None,
        }
    }

    /// The size the controller wants now.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The bounds `(min, max)`.
    pub fn bounds(&self) -> (usize, usize) {
        (self.min, self.max)
    }

    /// Lowers the upper bound (for example to what the server allows).
    pub fn set_max(&mut self, max: usize) {
        self.max = max.max(1);
        self.min = self.min.min(self.max);
        self.size = self.size.clamp(self.min, self.max);
    }

    /// One interval's sample in, the resize to make (if any) out.
    pub fn step(&mut self, sample: &Sample) -> Option<Decision> {
        let decision = match self.policy.clone() {
            ScalingPolicy::Static => None,
            ScalingPolicy::Threshold(p) => self.step_threshold(&p, sample),
            ScalingPolicy::Throughput(p) => self.step_throughput(&p, sample),
        };
        if let Some(d) = decision {
            self.size = d.to;
        }
        decision
    }

    fn resize(&self, to: usize, reason: Reason) -> Option<Decision> {
        let to = to.clamp(self.min, self.max);
        (to != self.size).then_some(Decision {
            from: self.size,
            to,
            reason,
        })
    }

    fn step_threshold(&mut self, p: &ThresholdPolicy, s: &Sample) -> Option<Decision> {
        let utilization = s.utilization().max(if s.waiters > 0 { 1.0 } else { 0.0 });
        if utilization > p.grow_above {
            self.low_for = Duration::ZERO;
            let to = ((self.size as f64 * p.grow_factor).ceil() as usize).max(self.size + 1);
            return self.resize(to, Reason::HighUtilization { utilization });
        }
        if utilization < p.shrink_below {
            self.low_for = self.low_for.saturating_add(s.interval);
            if self.low_for >= p.shrink_after {
                self.low_for = Duration::ZERO;
                let to = ((self.size as f64 * p.shrink_factor).floor() as usize)
                    .min(self.size.saturating_sub(1));
                return self.resize(to, Reason::Idle { utilization });
            }
        } else {
            self.low_for = Duration::ZERO;
        }
        None
    }

    fn step_throughput(&mut self, p: &ThroughputPolicy, s: &Sample) -> Option<Decision> {
        let throughput = s.throughput();
        self.cooldown = self.cooldown.saturating_sub(s.interval);
        if let Some(mut probe) = self.probe.take() {
            if probe.settle_left > 0 {
                // The interval in which the resize happened mixes both sizes.
                probe.settle_left -= 1;
                self.probe = Some(probe);
                return None;
            }
            self.last_throughput = Some(throughput);
            // Only grow steps are probed: a shrink that hurts shows up as
            // waiters, which grow the pool again.
            if throughput < probe.baseline * (1.0 + p.min_gain) {
                self.cooldown = p.cooldown;
                return self.resize(
                    probe.from,
                    Reason::Reverted {
                        before: probe.baseline,
                        after: throughput,
                    },
                );
            }
            // Kept: fall through, so pressure can continue the climb at once.
        }
        let queue = s.queue();
        if (queue > p.queue_threshold || s.timeouts > 0)
            && self.size < self.max
            && self.cooldown.is_zero()
        {
            self.low_for = Duration::ZERO;
            let demand = s.busy() + queue;
            let most = ((self.size as f64 * p.max_growth).floor() as usize).max(self.size + 1);
            let to = (demand.ceil() as usize).clamp(self.size + 1, most);
            let decision = self.resize(to, Reason::Waiters { demand });
            if decision.is_some() {
                self.probe = Some(Probe {
                    from: self.size,
                    baseline: self
                        .last_throughput
                        .map_or(throughput, |t| t.max(throughput)),
                    settle_left: 1,
                });
            }
            self.last_throughput = Some(throughput);
            return decision;
        }
        self.last_throughput = Some(throughput);
        if queue < p.queue_threshold.clamp(1e-9, 0.05)
            && s.utilization() < p.shrink_below
            && s.timeouts == 0
        {
            self.low_for = self.low_for.saturating_add(s.interval);
            if self.low_for >= p.shrink_after {
                self.low_for = Duration::ZERO;
                let utilization = s.utilization();
                let need = (s.busy() / p.shrink_below).ceil() as usize;
                let to = ((self.size as f64 * p.shrink_factor).floor() as usize)
                    .min(self.size.saturating_sub(1))
                    .max(need);
                return self.resize(to, Reason::Idle { utilization });
            }
        } else {
            self.low_for = Duration::ZERO;
        }
        None
    }
}
