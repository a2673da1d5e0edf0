//! An encoded problem: the model to sample, decoding a sample into a
//! placement with its violations, and the greedy repair.

use super::encode::{EncoderConfig, slack_weights};
use super::{Decoded, Placement, PlacementProblem, Violation};
use crate::sampler::Validator;
use crate::{Bqm, Error};

/// A placement problem encoded as a QUBO, with its decoder and repair.
#[derive(Debug, Clone)]
pub struct Encoding {
    pub(super) problem: PlacementProblem,
    pub(super) config: EncoderConfig,
    pub(super) bqm: Bqm<f64>,
    pub(super) penalty: f64,
    pub(super) slack: Vec<std::ops::Range<usize>>,
    pub(super) gcd: Vec<u64>,
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
