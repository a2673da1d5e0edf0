//! The placement problem: VMs, hosts, pair constraints, validation,
//! violations and the objective.

use std::fmt;

use super::EncoderConfig;
use super::ffd::fits;
use crate::Error;

/// A VM's demand, one amount per resource (for example `[cpu cores, memory MiB]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmDemand {
    /// Amount of each resource.
    pub demand: Vec<u64>,
}

/// A host's capacities (same resources, same order) and its cost when in use.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSpec {
    /// Capacity of each resource.
    pub capacity: Vec<u64>,
    /// Cost of using the host at all (for example per hour), `>= 0`.
    pub cost: f64,
}

/// VMs to place on hosts, with pair constraints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlacementProblem {
    /// The VMs.
    pub vms: Vec<VmDemand>,
    /// The hosts.
    pub hosts: Vec<HostSpec>,
    /// Pairs of VMs that must share a host.
    pub affinity: Vec<(usize, usize)>,
    /// Pairs of VMs that must not share a host.
    pub anti_affinity: Vec<(usize, usize)>,
}

/// A constraint a decoded assignment breaks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Violation {
    /// The VM is on no host.
    Unplaced {
        /// The VM.
        vm: usize,
    },
    /// The VM is on several hosts (the first is kept by the decoder).
    MultiplyPlaced {
        /// The VM.
        vm: usize,
        /// Every host it is on.
        hosts: Vec<usize>,
    },
    /// A host's load exceeds its capacity.
    OverCapacity {
        /// The host.
        host: usize,
        /// The resource index.
        resource: usize,
        /// The load placed on it (`u64::MAX` when the sum exceeds it).
        load: u64,
        /// Its capacity.
        capacity: u64,
    },
    /// VMs sit on a host whose open variable is 0 (a state the encoding forbids).
    HostClosed {
        /// The host.
        host: usize,
    },
    /// An affinity pair on different hosts.
    Affinity {
        /// First VM.
        a: usize,
        /// Second VM.
        b: usize,
    },
    /// An anti-affinity pair on one host.
    AntiAffinity {
        /// First VM.
        a: usize,
        /// Second VM.
        b: usize,
        /// The shared host.
        host: usize,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Unplaced { vm } => write!(f, "vm {vm} is on no host"),
            Violation::MultiplyPlaced { vm, hosts } => write!(f, "vm {vm} is on hosts {hosts:?}"),
            Violation::OverCapacity {
                host,
                resource,
                load,
                capacity,
            } => {
                write!(
                    f,
                    "host {host} resource {resource}: load {load} exceeds capacity {capacity}"
                )
            }
            Violation::HostClosed { host } => write!(f, "host {host} holds VMs but is not open"),
            Violation::Affinity { a, b } => write!(f, "vms {a} and {b} must share a host"),
            Violation::AntiAffinity { a, b, host } => {
                write!(f, "vms {a} and {b} share host {host}")
            }
        }
    }
}

/// A complete assignment: `host_of[vm]` is the VM's host.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Host of each VM.
    pub host_of: Vec<usize>,
    /// Sum of the costs of the hosts in use.
    pub cost: f64,
    /// Number of hosts in use.
    pub hosts_used: usize,
}

/// An assignment decoded from a sample, possibly invalid.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Host of each VM (`None`: unplaced; several hosts: the first).
    pub host_of: Vec<Option<usize>>,
    /// Every constraint the sample breaks (empty: feasible).
    pub violations: Vec<Violation>,
}

impl Decoded {
    /// Whether the sample encodes a feasible placement.
    pub fn is_feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

impl PlacementProblem {
    /// Number of resources (the length of every demand and capacity vector).
    pub fn num_resources(&self) -> usize {
        self.vms
            .first()
            .map(|v| v.demand.len())
            .or(self.hosts.first().map(|h| h.capacity.len()))
            .unwrap_or(0)
    }

    /// Checks the shape of the problem and the obvious infeasibilities:
    /// total demand above total capacity, a VM that fits no host, an
    /// anti-affinity pair forced together by affinity.
    pub fn validate(&self) -> Result<(), Error> {
        self.check_shape()?;
        self.check_feasible()
    }

    /// The shape checks of [`validate`](Self::validate): resource counts,
    /// costs and pair indices, which every method needs before it indexes.
    pub(super) fn check_shape(&self) -> Result<(), Error> {
        let r = self.num_resources();
        let bad = |reason: String| Err(Error::InvalidProblem { reason });
        if let Some(v) = self.vms.iter().position(|v| v.demand.len() != r) {
            return bad(format!(
                "vm {v} has {} resources, expected {r}",
                self.vms[v].demand.len()
            ));
        }
        if let Some(h) = self.hosts.iter().position(|h| h.capacity.len() != r) {
            return bad(format!(
                "host {h} has {} resources, expected {r}",
                self.hosts[h].capacity.len()
            ));
        }
        if let Some(h) = self
            .hosts
            .iter()
            .position(|h| !(h.cost.is_finite() && h.cost >= 0.0))
        {
            return bad(format!(
                "host {h} has cost {}; use a finite cost >= 0",
                self.hosts[h].cost
            ));
        }
        for &(a, b) in self.affinity.iter().chain(&self.anti_affinity) {
            if a >= self.vms.len() || b >= self.vms.len() || a == b {
                return bad(format!(
                    "pair ({a}, {b}) needs two distinct vms below {}",
                    self.vms.len()
                ));
            }
        }
        Ok(())
    }

    /// The obvious infeasibilities of [`validate`](Self::validate), on a
    /// problem whose shape is checked.
    pub(super) fn check_feasible(&self) -> Result<(), Error> {
        let r = self.num_resources();
        for res in 0..r {
            let demand: u128 = self.vms.iter().map(|v| u128::from(v.demand[res])).sum();
            let capacity: u128 = self.hosts.iter().map(|h| u128::from(h.capacity[res])).sum();
            if demand > capacity {
                return Err(Error::Infeasible {
                    reason: format!(
                        "resource {res}: total demand {demand} exceeds total capacity {capacity}"
                    ),
                });
            }
        }
        let groups = self.groups();
        for (g, members) in groups.members.iter().enumerate() {
            let fits_somewhere = groups.demand(self, g).is_some_and(|demand| {
                self.hosts
                    .iter()
                    .any(|h| fits(&demand, &vec![0; r], &h.capacity))
            });
            if !fits_somewhere {
                return Err(Error::Infeasible {
                    reason: format!("vms {members:?} (kept together by affinity) fit on no host"),
                });
            }
        }
        for &(a, b) in &self.anti_affinity {
            if groups.of[a] == groups.of[b] {
                return Err(Error::Infeasible {
                    reason: format!(
                        "vms {a} and {b} are anti-affine but tied together by affinity"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The constraints `host_of` breaks (`None`: unplaced; a host that does
    /// not exist counts as unplaced).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidProblem`] for a malformed problem (the shape checks of
    /// [`validate`](Self::validate)); [`Error::InvalidState`] unless
    /// `host_of` has one entry per VM.
    pub fn violations(&self, host_of: &[Option<usize>]) -> Result<Vec<Violation>, Error> {
        self.check_shape()?;
        self.check_len("host_of", host_of.len())?;
        Ok(self.violations_unchecked(host_of))
    }

    pub(super) fn check_len(&self, what: &str, len: usize) -> Result<(), Error> {
        if len != self.vms.len() {
            return Err(Error::InvalidState {
                reason: format!(
                    "{what} has {len} entries for {} vms; pass one per vm",
                    self.vms.len()
                ),
            });
        }
        Ok(())
    }

    /// [`violations`](Self::violations) on a shape-checked problem and a
    /// `host_of` of the right length.
    pub(super) fn violations_unchecked(&self, host_of: &[Option<usize>]) -> Vec<Violation> {
        let mut out = Vec::new();
        // u128: demands stacked past u64::MAX still count as over capacity.
        let mut load = vec![vec![0u128; self.num_resources()]; self.hosts.len()];
        for (vm, host) in host_of.iter().enumerate() {
            match host {
                Some(h) if *h < self.hosts.len() => {
                    for (l, &d) in load[*h].iter_mut().zip(&self.vms[vm].demand) {
                        *l += u128::from(d);
                    }
                }
                _ => out.push(Violation::Unplaced { vm }),
            }
        }
        for (host, (l, h)) in load.iter().zip(&self.hosts).enumerate() {
            for (resource, (&load, &capacity)) in l.iter().zip(&h.capacity).enumerate() {
                if load > u128::from(capacity) {
                    out.push(Violation::OverCapacity {
                        host,
                        resource,
                        load: u64::try_from(load).unwrap_or(u64::MAX),
                        capacity,
                    });
                }
            }
        }
        for &(a, b) in &self.affinity {
            if let (Some(ha), Some(hb)) = (host_of[a], host_of[b])
                && ha != hb
            {
                out.push(Violation::Affinity { a, b });
            }
        }
        for &(a, b) in &self.anti_affinity {
            if let (Some(ha), Some(hb)) = (host_of[a], host_of[b])
                && ha == hb
            {
                out.push(Violation::AntiAffinity { a, b, host: ha });
            }
        }
        out
    }

    /// A [`Placement`] of `host_of` with its cost (validity is not checked).
    pub fn placement(&self, host_of: Vec<usize>) -> Placement {
        let mut used = vec![false; self.hosts.len()];
        for &h in &host_of {
            if let Some(u) = used.get_mut(h) {
                *u = true;
            }
        }
        let cost = used
            .iter()
            .zip(&self.hosts)
            .filter(|(u, _)| **u)
            .map(|(_, h)| h.cost)
            .sum();
        Placement {
            host_of,
            cost,
            hosts_used: used.iter().filter(|u| **u).count(),
        }
    }

    /// The encoder's objective for a placement: the cost of the hosts in
    /// use (when `config.host_costs`) plus the weighted balance term.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidProblem`] for a malformed problem;
    /// [`Error::InvalidState`] unless the placement has one existing host per VM.
    pub fn objective(&self, placement: &Placement, config: &EncoderConfig) -> Result<f64, Error> {
        self.check_shape()?;
        self.check_len("the placement", placement.host_of.len())?;
        if let Some(&h) = placement.host_of.iter().find(|&&h| h >= self.hosts.len()) {
            return Err(Error::InvalidState {
                reason: format!(
                    "the placement names host {h} of {}; pass hosts that exist",
                    self.hosts.len()
                ),
            });
        }
        let mut value = if config.host_costs {
            placement.cost
        } else {
            0.0
        };
        if config.balance_weight > 0.0 {
            for (h, host) in self.hosts.iter().enumerate() {
                for (res, &cap) in host.capacity.iter().enumerate() {
                    // u128: loads of an infeasible placement may pass u64::MAX.
                    let load: u128 = placement
                        .host_of
                        .iter()
                        .enumerate()
                        .filter(|(_, hh)| **hh == h)
                        .map(|(v, _)| u128::from(self.vms[v].demand[res]))
                        .sum();
                    if cap > 0 {
                        value += config.balance_weight * (load as f64 / cap as f64).powi(2);
                    }
                }
            }
        }
        Ok(value)
    }

    pub(super) fn max_capacity(&self, r: usize) -> f64 {
        self.hosts
            .iter()
            .map(|h| h.capacity[r])
            .max()
            .unwrap_or(1)
            .max(1) as f64
    }
}
