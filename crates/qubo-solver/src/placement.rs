//! VM placement as a QUBO: the encoder, the decoder with its violation
//! list, a greedy repair, and the first-fit-decreasing baseline.

use std::fmt;

use crate::error::check_size;
use crate::sampler::Validator;
use crate::{Bqm, Error, Vartype};

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

/// What the encoder optimizes, and how hard it penalizes violations.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderConfig {
    /// Add one host-open variable per host and minimize the cost of open
    /// hosts (default true). Without it, every host counts as open.
    pub host_costs: bool,
    /// Weight of the balance term `Σ_hosts Σ_resources (load / capacity)²`,
    /// which spreads load (default 0: off).
    pub balance_weight: f64,
    /// Penalty weight of every constraint; `None` (the default) derives it:
    /// one more than the largest possible objective value, rounded up to an
    /// integer (so every penalty coefficient is an integer, exact in f64),
    /// so every infeasible state has a higher energy than every feasible one.
    pub penalty: Option<f64>,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            host_costs: true,
            balance_weight: 0.0,
            penalty: None,
        }
    }
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
    fn check_shape(&self) -> Result<(), Error> {
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
    fn check_feasible(&self) -> Result<(), Error> {
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

    fn check_len(&self, what: &str, len: usize) -> Result<(), Error> {
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
    fn violations_unchecked(&self, host_of: &[Option<usize>]) -> Vec<Violation> {
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

    /// First-fit decreasing, the classic bin-packing baseline: affinity
    /// groups in decreasing order of their largest demand share, each on the
    /// first host (hosts ordered by cost per unit of capacity, cheapest
    /// first) where it fits without breaking anti-affinity.
    pub fn first_fit_decreasing(&self) -> Result<Placement, Error> {
        self.validate()?;
        let groups = self.groups();
        let order = self.host_order();
        let mut load = vec![vec![0u64; self.num_resources()]; self.hosts.len()];
        let mut host_of = vec![None; self.vms.len()];
        for g in groups.by_size(self) {
            let h = self
                .first_fit(&groups, g, &order, &load, &host_of, |_| true)
                .ok_or_else(|| self.no_room(&groups.members[g]))?;
            groups.assign(self, g, h, &mut load, &mut host_of);
        }
        Ok(self.placement(host_of.into_iter().map(|h| h.unwrap_or(0)).collect()))
    }

    /// Lowers the cost of a feasible placement by host-level local search,
    /// the post-processing any backend's answer (or first-fit decreasing's)
    /// can take: until no move pays, it (1) empties an open host into the
    /// other open ones (its affinity groups re-placed first-fit decreasing,
    /// most expensive host tried first), (2) moves a host's VMs to one
    /// cheaper closed host, or (3) merges two open hosts into one closed host
    /// cheaper than both. Every accepted move strictly lowers the cost of the
    /// hosts in use and keeps every constraint, so the result is feasible and
    /// never costs more than the input. The balance term is not considered.
    /// A round is at most O(H³) capacity checks for H hosts (297 ms for
    /// 5,000 VMs on 600 hosts on a 2-core CI machine).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] when `placement` has the wrong length, names
    /// a host that does not exist or breaks a constraint (repair it first);
    /// the problem's own validation errors.
    pub fn improve(&self, placement: &Placement) -> Result<Placement, Error> {
        self.validate()?;
        if placement.host_of.len() != self.vms.len() {
            return Err(Error::InvalidState {
                reason: format!(
                    "the placement has {} entries for {} vms",
                    placement.host_of.len(),
                    self.vms.len()
                ),
            });
        }
        let host_of: Vec<Option<usize>> = placement.host_of.iter().map(|&h| Some(h)).collect();
        if let Some(v) = self.violations_unchecked(&host_of).first() {
            return Err(Error::InvalidState {
                reason: format!("the placement to improve is infeasible ({v}); repair it first"),
            });
        }
        let mut search = HostSearch::new(self, host_of);
        while search.empty_a_host() || search.move_to_cheaper_host() || search.merge_two_hosts() {}
        Ok(self.placement(search.host_of.into_iter().map(|h| h.unwrap_or(0)).collect()))
    }

    /// Encodes the problem as a binary QUBO. Variables: `x[v·H + h]` (VM `v`
    /// on host `h`, one-hot per VM), then `y[h]` (host open, with
    /// `host_costs`; `xᵥₕ ≤ yₕ` is the penalty `P xᵥₕ (1 - yₕ)`), then slack
    /// bits per (host, resource) so that `Σᵥ dᵥ xᵥₕ + slack = C` holds
    /// exactly (bounded binary expansion of `0..=C`). Demands and capacities are divided by their per-resource
    /// GCD first, which keeps the penalties small and exact.
    pub fn encode(&self, config: &EncoderConfig) -> Result<Encoding, Error> {
        self.validate()?;
        if !(config.balance_weight.is_finite() && config.balance_weight >= 0.0) {
            return crate::error::invalid(
                "balance_weight",
                config.balance_weight,
                "a finite weight >= 0",
            );
        }
        let (nv, nh, nr) = (self.vms.len(), self.hosts.len(), self.num_resources());
        let gcd: Vec<u64> = (0..nr)
            .map(|r| {
                let g = self
                    .vms
                    .iter()
                    .map(|v| v.demand[r])
                    .chain(self.hosts.iter().map(|h| h.capacity[r]))
                    .fold(0, gcd);
                g.max(1)
            })
            .collect();
        // Objective bound: all costs, plus the balance term with every VM on every host.
        let mut bound: f64 = if config.host_costs {
            self.hosts.iter().map(|h| h.cost).sum()
        } else {
            0.0
        };
        for host in &self.hosts {
            for (r, &cap) in host.capacity.iter().enumerate() {
                let total: f64 = self.vms.iter().map(|v| v.demand[r] as f64).sum();
                if cap > 0 {
                    bound += config.balance_weight * (total / cap as f64).powi(2);
                }
            }
        }
        let penalty = match config.penalty {
            Some(p) if p.is_finite() && p > 0.0 => p,
            Some(p) => return crate::error::invalid("penalty", p, "a finite penalty > 0"),
            // An integer: with integer demands every penalty coefficient is
            // an integer, which f64 holds exactly.
            None => (bound + 1.0).ceil(),
        };
        check_size(
            "the quadratic terms of the encoding",
            self.encoded_interactions(config, &gcd),
            Self::MAX_ENCODED_INTERACTIONS,
        )?;

        let x = |v: usize, h: usize| v * nh + h;
        let y0 = nv * nh;
        let mut next = y0 + if config.host_costs { nh } else { 0 };
        let mut bqm = Bqm::with_variables(next, Vartype::Binary)?;
        let mut slack = Vec::with_capacity(nh * nr);
        // One-hot: Pᵥ (Σₕ xᵥₕ - 1)² with Pᵥ = P (1 + Σᵣ dᵥᵣ²) in GCD units, so
        // that dropping a duplicate copy or placing a missing VM is downhill
        // even while the slack bits still reflect the old load.
        for v in 0..nv {
            let size: f64 = (0..nr)
                .map(|r| ((self.vms[v].demand[r] / gcd[r]) as f64).powi(2))
                .sum();
            let terms: Vec<(usize, f64)> = (0..nh).map(|h| (x(v, h), 1.0)).collect();
            add_square(&mut bqm, &terms, -1.0, penalty * (1.0 + size))?;
        }
        // Capacity: P (Σᵥ dᵥ xᵥₕ + slack - C yₕ)², or - C without host variables.
        for (h, host) in self.hosts.iter().enumerate() {
            for (r, (&capacity, &g)) in host.capacity.iter().zip(&gcd).enumerate() {
                let cap = capacity / g;
                let mut terms: Vec<(usize, f64)> = (0..nv)
                    .filter(|&v| self.vms[v].demand[r] > 0)
                    .map(|v| (x(v, h), (self.vms[v].demand[r] / g) as f64))
                    .collect();
                let first_bit = next;
                for weight in slack_weights(cap) {
                    bqm.add_variable()?;
                    terms.push((next, weight as f64));
                    next += 1;
                }
                slack.push(first_bit..next);
                add_square(&mut bqm, &terms, -(cap as f64), penalty)?;
            }
            if config.host_costs {
                // An open host costs its price; a VM on a closed host costs
                // the penalty: P xᵥₕ (1 - yₕ). One flip opens or closes a
                // host, so the search moves between consolidations easily.
                let y = y0 + h;
                bqm.add_linear(y, self.hosts[h].cost)?;
                for v in 0..nv {
                    bqm.add_linear(x(v, h), penalty)?;
                    bqm.add_quadratic(x(v, h), y, -penalty)?;
                }
            }
        }
        // Anti-affinity: P Σₕ x_ah x_bh. Affinity: P Σ_{h≠h'} x_ah x_bh'.
        for &(a, b) in &self.anti_affinity {
            for h in 0..nh {
                bqm.add_quadratic(x(a, h), x(b, h), penalty)?;
            }
        }
        for &(a, b) in &self.affinity {
            for h in 0..nh {
                for k in (0..nh).filter(|&k| k != h) {
                    bqm.add_quadratic(x(a, h), x(b, k), penalty)?;
                }
            }
        }
        // Balance: w Σₕ Σᵣ (Σᵥ dᵥ xᵥₕ / C)².
        if config.balance_weight > 0.0 {
            for h in 0..nh {
                for r in 0..nr {
                    let cap = self.hosts[h].capacity[r] as f64;
                    if cap > 0.0 {
                        let terms: Vec<(usize, f64)> = (0..nv)
                            .map(|v| (x(v, h), self.vms[v].demand[r] as f64 / cap))
                            .collect();
                        add_square(&mut bqm, &terms, 0.0, config.balance_weight)?;
                    }
                }
            }
        }
        // Every feasible state's penalties cancel to zero; in f64 they do so
        // only while the coefficients stay far below 2⁵³ (bytes as units
        // would cancel the objective away entirely).
        let scale = bqm.offset().abs()
            + bqm.linear_biases().iter().map(|a| a.abs()).sum::<f64>()
            + bqm.interactions().map(|(_, _, b)| b.abs()).sum::<f64>();
        if scale > Self::MAX_COEFFICIENT_SCALE {
            return Err(Error::InvalidProblem {
                reason: format!(
                    "the encoding's coefficients sum to {scale:.3e} in magnitude, above the \
                     limit of {:.3e} where f64 still keeps the objective of a feasible \
                     placement exact (penalty {penalty} times squared capacities {:?} in units \
                     of their common divisor); express resources in coarser units (MiB or \
                     GiB instead of bytes) or set a smaller penalty",
                    Self::MAX_COEFFICIENT_SCALE,
                    self.hosts
                        .iter()
                        .map(|h| h
                            .capacity
                            .iter()
                            .zip(&gcd)
                            .map(|(c, g)| c / g)
                            .collect::<Vec<_>>())
                        .max()
                        .unwrap_or_default()
                ),
            });
        }
        Ok(Encoding {
            problem: self.clone(),
            config: config.clone(),
            bqm,
            penalty,
            slack,
            gcd,
        })
    }

    /// The most quadratic terms [`encode`](Self::encode) builds (2²⁵, about
    /// 1 GiB of model); larger fleets are refused before anything is built.
    /// Split them into slices, or place with
    /// [`first_fit_decreasing`](Self::first_fit_decreasing) and
    /// [`improve`](Self::improve).
    pub const MAX_ENCODED_INTERACTIONS: u64 = 1 << 25;

    /// The largest sum of coefficient magnitudes an encoding may reach
    /// (2³²): below it every partial sum of a feasible state's energy keeps
    /// the objective to about 1e-6, so the energy of a feasible placement is
    /// its objective.
    pub const MAX_COEFFICIENT_SCALE: f64 = 4_294_967_296.0;

    /// An upper bound on the quadratic terms of the encoding, in `u128`.
    fn encoded_interactions(&self, config: &EncoderConfig, gcd: &[u64]) -> u128 {
        let pairs = |k: u128| k * k.saturating_sub(1) / 2;
        let (nv, nh) = (self.vms.len() as u128, self.hosts.len() as u128);
        let mut total = nv * pairs(nh);
        for host in &self.hosts {
            for (r, (&cap, &g)) in host.capacity.iter().zip(gcd).enumerate() {
                let users = self.vms.iter().filter(|v| v.demand[r] > 0).count() as u128;
                let bits = slack_bits(cap / g) as u128;
                // The balance square spans the same pairs as the capacity one.
                let vms = if config.balance_weight > 0.0 {
                    nv
                } else {
                    users
                };
                total += pairs(vms + bits);
            }
        }
        if config.host_costs {
            total += nv * nh;
        }
        total += self.anti_affinity.len() as u128 * nh;
        total += self.affinity.len() as u128 * nh * nh.saturating_sub(1);
        total
    }

    fn groups(&self) -> Groups {
        Groups::new(self.vms.len(), &self.affinity)
    }

    fn host_order(&self) -> Vec<usize> {
        let size = |h: &HostSpec| {
            h.capacity
                .iter()
                .enumerate()
                .map(|(r, &c)| c as f64 / self.max_capacity(r))
                .sum::<f64>()
                .max(1e-12)
        };
        let mut order: Vec<usize> = (0..self.hosts.len()).collect();
        order.sort_by(|&a, &b| {
            let ka = self.hosts[a].cost / size(&self.hosts[a]);
            let kb = self.hosts[b].cost / size(&self.hosts[b]);
            ka.total_cmp(&kb).then(a.cmp(&b))
        });
        order
    }

    fn max_capacity(&self, r: usize) -> f64 {
        self.hosts
            .iter()
            .map(|h| h.capacity[r])
            .max()
            .unwrap_or(1)
            .max(1) as f64
    }

    fn first_fit(
        &self,
        groups: &Groups,
        g: usize,
        order: &[usize],
        load: &[Vec<u64>],
        host_of: &[Option<usize>],
        allowed: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let demand = groups.demand(self, g)?;
        order.iter().copied().find(|&h| {
            allowed(h)
                && fits(&demand, &load[h], &self.hosts[h].capacity)
                && !self.anti_affinity.iter().any(|&(a, b)| {
                    let other = match (groups.of[a] == g, groups.of[b] == g) {
                        (true, false) => b,
                        (false, true) => a,
                        _ => return false,
                    };
                    host_of[other] == Some(h)
                })
        })
    }

    fn no_room(&self, members: &[usize]) -> Error {
        Error::Infeasible {
            reason: format!("no host has room for vms {members:?}"),
        }
    }
}

/// State of [`PlacementProblem::improve`]: the assignment, host loads and
/// VM counts, with the group order computed once.
struct HostSearch<'a> {
    p: &'a PlacementProblem,
    groups: Groups,
    order: Vec<usize>,
    /// Rank of each group in `Groups::by_size` (largest first).
    rank: Vec<usize>,
    host_of: Vec<Option<usize>>,
    load: Vec<Vec<u64>>,
    count: Vec<usize>,
}

impl<'a> HostSearch<'a> {
    fn new(p: &'a PlacementProblem, host_of: Vec<Option<usize>>) -> HostSearch<'a> {
        let groups = p.groups();
        let mut rank = vec![0; groups.members.len()];
        for (r, g) in groups.by_size(p).into_iter().enumerate() {
            rank[g] = r;
        }
        let mut search = HostSearch {
            p,
            groups,
            order: p.host_order(),
            rank,
            host_of: vec![None; host_of.len()],
            load: vec![vec![0u64; p.num_resources()]; p.hosts.len()],
            count: vec![0; p.hosts.len()],
        };
        for (v, h) in host_of.into_iter().enumerate() {
            if let Some(h) = h {
                search.relocate(&[v], h);
            }
        }
        search
    }

    /// Open hosts, most expensive first.
    fn open_by_cost(&self) -> Vec<usize> {
        let mut open: Vec<usize> = (0..self.p.hosts.len())
            .filter(|&h| self.count[h] > 0)
            .collect();
        open.sort_by(|&a, &b| {
            let (ca, cb) = (self.p.hosts[a].cost, self.p.hosts[b].cost);
            cb.total_cmp(&ca).then(a.cmp(&b))
        });
        open
    }

    fn vms_on(&self, h: usize) -> Vec<usize> {
        (0..self.host_of.len())
            .filter(|&v| self.host_of[v] == Some(h))
            .collect()
    }

    /// Moves `vms` to `to` (`None`: unplaced); loads and counts follow.
    fn relocate_to(&mut self, vms: &[usize], to: Option<usize>) {
        for &v in vms {
            if let Some(from) = self.host_of[v] {
                for (l, d) in self.load[from].iter_mut().zip(&self.p.vms[v].demand) {
                    *l -= d;
                }
                self.count[from] -= 1;
            }
            self.host_of[v] = to;
            if let Some(to) = to {
                for (l, d) in self.load[to].iter_mut().zip(&self.p.vms[v].demand) {
                    *l += d;
                }
                self.count[to] += 1;
            }
        }
    }

    fn relocate(&mut self, vms: &[usize], to: usize) {
        self.relocate_to(vms, Some(to));
    }

    /// Whether no anti-affinity pair joins `a` and `b`.
    fn compatible(&self, a: &[usize], b: &[usize]) -> bool {
        !self
            .p
            .anti_affinity
            .iter()
            .any(|&(x, y)| (a.contains(&x) && b.contains(&y)) || (a.contains(&y) && b.contains(&x)))
    }

    /// Move (1): re-place an open host's groups on the other open hosts,
    /// largest group first; undone when one does not fit.
    fn empty_a_host(&mut self) -> bool {
        let open = self.open_by_cost();
        let mut allowed = vec![false; self.p.hosts.len()];
        for &h in &open {
            allowed[h] = true;
        }
        for &h in &open {
            if self.p.hosts[h].cost <= 0.0 {
                continue;
            }
            let on_h = self.vms_on(h);
            let mut lifted: Vec<usize> = on_h.iter().map(|&v| self.groups.of[v]).collect();
            lifted.sort_unstable_by_key(|&g| self.rank[g]);
            lifted.dedup();
            self.relocate_to(&on_h, None);
            allowed[h] = false;
            let mut placed = 0;
            for &g in &lifted {
                let target = self.p.first_fit(
                    &self.groups,
                    g,
                    &self.order,
                    &self.load,
                    &self.host_of,
                    |k| allowed[k],
                );
                let Some(k) = target else { break };
                let members = self.groups.members[g].clone();
                self.relocate(&members, k);
                placed += 1;
            }
            if placed == lifted.len() {
                return true;
            }
            // Undo: every lifted VM back on `h`.
            self.relocate(&on_h, h);
            allowed[h] = true;
        }
        false
    }

    /// Move (2): all of an open host's VMs to one cheaper closed host.
    fn move_to_cheaper_host(&mut self) -> bool {
        let closed = self.closed_by_cost();
        for h in self.open_by_cost() {
            let cost = self.p.hosts[h].cost;
            let target = closed
                .iter()
                .copied()
                .take_while(|&k| self.p.hosts[k].cost < cost)
                .find(|&k| fits(&self.load[h], &self.load[k], &self.p.hosts[k].capacity));
            if let Some(k) = target {
                let vms = self.vms_on(h);
                self.relocate(&vms, k);
                return true;
            }
        }
        false
    }

    /// Closed hosts, cheapest first.
    fn closed_by_cost(&self) -> Vec<usize> {
        let mut closed: Vec<usize> = (0..self.p.hosts.len())
            .filter(|&k| self.count[k] == 0)
            .collect();
        closed.sort_by(|&a, &b| {
            let (ca, cb) = (self.p.hosts[a].cost, self.p.hosts[b].cost);
            ca.total_cmp(&cb).then(a.cmp(&b))
        });
        closed
    }

    /// Move (3): two open hosts into the cheapest closed host that holds
    /// both and costs less than the two.
    fn merge_two_hosts(&mut self) -> bool {
        let open = self.open_by_cost();
        let closed = self.closed_by_cost();
        let mut demand = vec![0u64; self.p.num_resources()];
        for (i, &a) in open.iter().enumerate() {
            for &b in &open[i + 1..] {
                let both = self.p.hosts[a].cost + self.p.hosts[b].cost;
                // Two loads summing past u64::MAX fit nowhere.
                let mut overflow = false;
                for (d, (x, y)) in demand
                    .iter_mut()
                    .zip(self.load[a].iter().zip(&self.load[b]))
                {
                    *d = x.checked_add(*y).unwrap_or(u64::MAX);
                    overflow |= x.checked_add(*y).is_none();
                }
                if overflow {
                    continue;
                }
                let target = closed
                    .iter()
                    .copied()
                    .take_while(|&k| self.p.hosts[k].cost < both)
                    .find(|&k| fits(&demand, &self.load[k], &self.p.hosts[k].capacity));
                let Some(k) = target else { continue };
                let (on_a, on_b) = (self.vms_on(a), self.vms_on(b));
                if !self.compatible(&on_a, &on_b) {
                    continue;
                }
                self.relocate(&on_a, k);
                self.relocate(&on_b, k);
                return true;
            }
        }
        false
    }
}

/// Affinity groups: connected components of the affinity pairs.
struct Groups {
    of: Vec<usize>,
    members: Vec<Vec<usize>>,
}

impl Groups {
    fn new(n: usize, pairs: &[(usize, usize)]) -> Groups {
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for &(a, b) in pairs {
            if a < n && b < n {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                parent[ra] = rb;
            }
        }
        let mut of = vec![usize::MAX; n];
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut root_group = vec![usize::MAX; n];
        for (v, group) in of.iter_mut().enumerate() {
            let r = find(&mut parent, v);
            if root_group[r] == usize::MAX {
                root_group[r] = members.len();
                members.push(Vec::new());
            }
            *group = root_group[r];
            members[root_group[r]].push(v);
        }
        Groups { of, members }
    }

    /// The group's summed demand; `None` when a sum passes `u64::MAX` (such
    /// a group fits on no host).
    fn demand(&self, p: &PlacementProblem, g: usize) -> Option<Vec<u64>> {
        let mut d = vec![0u64; p.num_resources()];
        for &v in &self.members[g] {
            for (a, b) in d.iter_mut().zip(&p.vms[v].demand) {
                *a = a.checked_add(*b)?;
            }
        }
        Some(d)
    }

    /// Groups by decreasing largest share of the largest host capacity.
    fn by_size(&self, p: &PlacementProblem) -> Vec<usize> {
        let share = |g: usize| {
            self.demand(p, g)
                .unwrap_or_else(|| vec![u64::MAX; p.num_resources()])
                .iter()
                .enumerate()
                .map(|(r, &d)| d as f64 / p.max_capacity(r))
                .fold(0.0, f64::max)
        };
        let mut order: Vec<usize> = (0..self.members.len()).collect();
        order.sort_by(|&a, &b| share(b).total_cmp(&share(a)).then(a.cmp(&b)));
        order
    }

    fn assign(
        &self,
        p: &PlacementProblem,
        g: usize,
        h: usize,
        load: &mut [Vec<u64>],
        host_of: &mut [Option<usize>],
    ) {
        for &v in &self.members[g] {
            host_of[v] = Some(h);
            for (l, d) in load[h].iter_mut().zip(&p.vms[v].demand) {
                *l += d;
            }
        }
    }
}

/// Whether `demand` fits on top of `load` (a sum past `u64::MAX` never fits,
/// even under a capacity of `u64::MAX`).
fn fits(demand: &[u64], load: &[u64], capacity: &[u64]) -> bool {
    demand
        .iter()
        .zip(load)
        .zip(capacity)
        .all(|((&d, &l), &c)| l.checked_add(d).is_some_and(|sum| sum <= c))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Number of bits [`slack_weights`] returns for `cap`, without allocating.
fn slack_bits(cap: u64) -> u32 {
    // 2^k - 1 <= cap for the k powers of two, plus one bit for any remainder.
    let k = (cap.saturating_add(1)).ilog2();
    let full = if k >= 64 { u64::MAX } else { (1u64 << k) - 1 };
    k + u32::from(full < cap)
}

/// Weights 1, 2, 4, … and a last weight so that the bits sum to exactly
/// `cap` and every value in `0..=cap` is representable.
fn slack_weights(cap: u64) -> Vec<u64> {
    let mut weights = Vec::new();
    let mut total = 0u64;
    let mut next = 1u64;
    // Checked: a capacity near u64::MAX takes all 64 powers of two.
    while let Some(sum) = total.checked_add(next).filter(|&s| s <= cap) {
        weights.push(next);
        total = sum;
        match next.checked_mul(2) {
            Some(n) => next = n,
            None => break,
        }
    }
    if total < cap {
        weights.push(cap - total);
    }
    weights
}

/// Adds `weight · (Σ cᵢ zᵢ + k)²` over binary `z` (so `zᵢ² = zᵢ`).
fn add_square(
    bqm: &mut Bqm<f64>,
    terms: &[(usize, f64)],
    k: f64,
    weight: f64,
) -> Result<(), Error> {
    for (a, &(i, ci)) in terms.iter().enumerate() {
        bqm.add_linear(i, weight * (ci * ci + 2.0 * k * ci))?;
        for &(j, cj) in &terms[a + 1..] {
            bqm.add_quadratic(i, j, 2.0 * weight * ci * cj)?;
        }
    }
    bqm.add_offset(weight * k * k)
}

/// A placement problem encoded as a QUBO, with its decoder and repair.
#[derive(Debug, Clone)]
pub struct Encoding {
    problem: PlacementProblem,
    config: EncoderConfig,
    bqm: Bqm<f64>,
    penalty: f64,
    slack: Vec<std::ops::Range<usize>>,
    gcd: Vec<u64>,
}

impl Encoding {
    /// The model to sample.
    pub fn bqm(&self) -> &Bqm<f64> {
        &self.bqm
    }

    /// The penalty weight used for every constraint.
    pub fn penalty(&self) -> f64 {
        self.penalty
    }

    /// The encoded problem.
    pub fn problem(&self) -> &PlacementProblem {
        &self.problem
    }

    /// The encoder configuration.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Index of the variable "VM `vm` on host `host`".
    pub fn vm_host_variable(&self, vm: usize, host: usize) -> usize {
        vm * self.problem.hosts.len() + host
    }

    /// Number of slack variables (capacity constraints as equalities).
    pub fn num_slack_variables(&self) -> usize {
        self.slack.iter().map(|r| r.len()).sum()
    }

    /// The state that encodes a placement: its VM-host bits, the open bits of
    /// the hosts in use and the slack bits of the free capacity. For a
    /// feasible placement every penalty vanishes and the energy equals
    /// [`PlacementProblem::objective`] (warm starts, checks).
    pub fn encode_placement(&self, placement: &Placement) -> Result<Vec<i8>, Error> {
        let p = &self.problem;
        let (nv, nh, nr) = (p.vms.len(), p.hosts.len(), p.num_resources());
        if placement.host_of.len() != nv || placement.host_of.iter().any(|&h| h >= nh) {
            return Err(Error::InvalidState {
                reason: "the placement does not match the problem".into(),
            });
        }
        let mut state = vec![0i8; self.bqm.num_variables()];
        let mut load = vec![vec![0u64; nr]; nh];
        for (v, &h) in placement.host_of.iter().enumerate() {
            state[self.vm_host_variable(v, h)] = 1;
            if self.config.host_costs {
                state[nv * nh + h] = 1;
            }
            for (l, d) in load[h].iter_mut().zip(&p.vms[v].demand) {
                *l = l.saturating_add(*d);
            }
        }
        for (h, (host, host_load)) in p.hosts.iter().zip(&load).enumerate() {
            for (r, ((&capacity, &used), &g)) in host
                .capacity
                .iter()
                .zip(host_load)
                .zip(&self.gcd)
                .enumerate()
            {
                let range = self.slack[h * nr + r].clone();
                let cap = capacity / g;
                let mut free = cap.saturating_sub(used / g);
                // Largest weight first: the bounded expansion covers 0..=cap.
                let weights = slack_weights(cap);
                for (bit, w) in range.zip(weights).rev() {
                    if w <= free {
                        state[bit] = 1;
                        free -= w;
                    }
                }
            }
        }
        Ok(state)
    }

    /// Reads the assignment out of a sample and lists every violated constraint.
    pub fn decode(&self, state: &[i8]) -> Result<Decoded, Error> {
        self.bqm.check_state(state)?;
        let nh = self.problem.hosts.len();
        let mut host_of = Vec::with_capacity(self.problem.vms.len());
        let mut violations = Vec::new();
        for vm in 0..self.problem.vms.len() {
            let hosts: Vec<usize> = (0..nh)
                .filter(|&h| state[self.vm_host_variable(vm, h)] == 1)
                .collect();
            host_of.push(hosts.first().copied());
            if hosts.len() > 1 {
                violations.push(Violation::MultiplyPlaced { vm, hosts });
            }
        }
        violations.extend(self.problem.violations_unchecked(&host_of));
        if self.config.host_costs {
            let y0 = self.problem.vms.len() * nh;
            for host in 0..nh {
                if state[y0 + host] == 0 && host_of.contains(&Some(host)) {
                    violations.push(Violation::HostClosed { host });
                }
            }
        }
        Ok(Decoded {
            host_of,
            violations,
        })
    }

    /// Turns a decoded (possibly infeasible) assignment into a feasible
    /// placement: VMs that are unplaced, on overloaded hosts, split from
    /// their affinity group or sharing a host with an anti-affine VM are
    /// lifted out (largest first) and re-placed first-fit, preferring hosts
    /// already in use. Feasible assignments come back unchanged.
    pub fn repair(&self, decoded: &Decoded) -> Result<Placement, Error> {
        let p = &self.problem;
        let groups = p.groups();
        let mut host_of = decoded.host_of.clone();
        if host_of.len() != p.vms.len() {
            return Err(Error::InvalidState {
                reason: "the decoded assignment has the wrong length".into(),
            });
        }
        // A host that does not exist places nothing.
        for h in &mut host_of {
            if h.is_some_and(|h| h >= p.hosts.len()) {
                *h = None;
            }
        }
        // Whole groups stay together: a split group is lifted out.
        let mut lifted = vec![false; groups.members.len()];
        for (g, members) in groups.members.iter().enumerate() {
            let first = host_of[members[0]];
            if first.is_none() || members.iter().any(|&v| host_of[v] != first) {
                lifted[g] = true;
            }
        }
        for &(a, b) in &p.anti_affinity {
            if host_of[a].is_some() && host_of[a] == host_of[b] {
                lifted[groups.of[b]] = true;
            }
        }
        for (g, &l) in lifted.iter().enumerate() {
            if l {
                for &v in &groups.members[g] {
                    host_of[v] = None;
                }
            }
        }
        // Loads in u128: a decoded assignment may stack demands past u64.
        let mut wide = vec![vec![0u128; p.num_resources()]; p.hosts.len()];
        for (v, h) in host_of.iter().enumerate() {
            if let Some(h) = *h {
                for (l, &d) in wide[h].iter_mut().zip(&p.vms[v].demand) {
                    *l += u128::from(d);
                }
            }
        }
        let over = |l: &[u128], h: usize| {
            l.iter()
                .zip(&p.hosts[h].capacity)
                .any(|(&l, &c)| l > u128::from(c))
        };
        // Overloaded hosts shed their largest groups until they fit.
        for g in groups.by_size(p) {
            let Some(h) = host_of[groups.members[g][0]].filter(|_| !lifted[g]) else {
                continue;
            };
            if over(&wide[h], h) {
                for &v in &groups.members[g] {
                    host_of[v] = None;
                    for (l, &d) in wide[h].iter_mut().zip(&p.vms[v].demand) {
                        *l -= u128::from(d);
                    }
                }
                lifted[g] = true;
            }
        }
        // Every load now fits its capacity, hence u64.
        let mut load: Vec<Vec<u64>> = wide
            .iter()
            .map(|l| {
                l.iter()
                    .map(|&l| u64::try_from(l).unwrap_or(u64::MAX))
                    .collect()
            })
            .collect();
        let order = p.host_order();
        for g in groups.by_size(p).into_iter().filter(|&g| lifted[g]) {
            let in_use: Vec<bool> = (0..p.hosts.len())
                .map(|h| load[h].iter().any(|&l| l > 0))
                .collect();
            let h = p
                .first_fit(&groups, g, &order, &load, &host_of, |h| in_use[h])
                .or_else(|| p.first_fit(&groups, g, &order, &load, &host_of, |_| true))
                .ok_or_else(|| p.no_room(&groups.members[g]))?;
            groups.assign(p, g, h, &mut load, &mut host_of);
        }
        Ok(p.placement(host_of.into_iter().map(|h| h.unwrap_or(0)).collect()))
    }
}

impl Validator for Encoding {
    fn violations(&self, state: &[i8]) -> Vec<String> {
        match self.decode(state) {
            Ok(d) => d.violations.iter().map(ToString::to_string).collect(),
            Err(e) => vec![e.to_string()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_bits_counts_the_weights_slack_weights_returns() {
        let edges = [
            0,
            1,
            2,
            3,
            5,
            7,
            8,
            1000,
            u64::MAX / 2,
            u64::MAX - 1,
            u64::MAX,
        ];
        for cap in edges.into_iter().chain(0..300) {
            assert_eq!(
                slack_bits(cap) as usize,
                slack_weights(cap).len(),
                "cap {cap}"
            );
        }
    }
}
