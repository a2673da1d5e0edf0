//! First-fit and best-fit decreasing by affinity group, and the union-find
//! that forms the groups.

use super::{HostSpec, Placement, PlacementProblem};
use crate::Error;

impl PlacementProblem {
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

    /// Best-fit decreasing, the other classic baseline: groups in the same
    /// order as [`first_fit_decreasing`](Self::first_fit_decreasing), each
    /// on the host already in use where it leaves the least room (summed
    /// over resources, each as a share of the largest capacity); a new host
    /// (the cheapest per unit of capacity that fits) only when no host in
    /// use has room. Anti-affinity is kept as in first-fit.
    ///
    /// # Errors
    ///
    /// As [`first_fit_decreasing`](Self::first_fit_decreasing):
    /// [`Error::InvalidProblem`] for a malformed problem,
    /// [`Error::Infeasible`] naming the VMs that fit nowhere.
    pub fn best_fit_decreasing(&self) -> Result<Placement, Error> {
        self.validate()?;
        let groups = self.groups();
        let order = self.host_order();
        let mut load = vec![vec![0u64; self.num_resources()]; self.hosts.len()];
        let mut host_of = vec![None; self.vms.len()];
        let mut used = vec![false; self.hosts.len()];
        for g in groups.by_size(self) {
            let demand = groups
                .demand(self, g)
                .ok_or_else(|| self.no_room(&groups.members[g]))?;
            let room_left = |h: usize| {
                (0..self.num_resources())
                    .map(|r| {
                        let left = self.hosts[h].capacity[r] - load[h][r] - demand[r];
                        left as f64 / self.max_capacity(r)
                    })
                    .sum::<f64>()
            };
            let tightest = order
                .iter()
                .copied()
                .filter(|&h| used[h] && self.can_take(&groups, g, h, &demand, &load, &host_of))
                .min_by(|&a, &b| room_left(a).total_cmp(&room_left(b)).then(a.cmp(&b)));
            let h = match tightest {
                Some(h) => h,
                None => self
                    .first_fit(&groups, g, &order, &load, &host_of, |h| !used[h])
                    .ok_or_else(|| self.no_room(&groups.members[g]))?,
            };
            used[h] = true;
            groups.assign(self, g, h, &mut load, &mut host_of);
        }
        Ok(self.placement(host_of.into_iter().map(|h| h.unwrap_or(0)).collect()))
    }

    pub(super) fn groups(&self) -> Groups {
        Groups::new(self.vms.len(), &self.affinity)
    }

    pub(super) fn host_order(&self) -> Vec<usize> {
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

    pub(super) fn first_fit(
        &self,
        groups: &Groups,
        g: usize,
        order: &[usize],
        load: &[Vec<u64>],
        host_of: &[Option<usize>],
        allowed: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let demand = groups.demand(self, g)?;
        order
            .iter()
            .copied()
            .find(|&h| allowed(h) && self.can_take(groups, g, h, &demand, load, host_of))
    }

    /// Whether group `g` (of summed `demand`) fits on host `h` without
    /// breaking an anti-affinity pair with a VM already there.
    fn can_take(
        &self,
        groups: &Groups,
        g: usize,
        h: usize,
        demand: &[u64],
        load: &[Vec<u64>],
        host_of: &[Option<usize>],
    ) -> bool {
        fits(demand, &load[h], &self.hosts[h].capacity)
            && !self.anti_affinity.iter().any(|&(a, b)| {
                let other = match (groups.of[a] == g, groups.of[b] == g) {
                    (true, false) => b,
                    (false, true) => a,
                    _ => return false,
                };
                host_of[other] == Some(h)
            })
    }

    pub(super) fn no_room(&self, members: &[usize]) -> Error {
        Error::Infeasible {
            reason: format!("no host has room for vms {members:?}"),
        }
    }
}

/// Affinity groups: connected components of the affinity pairs.
pub(super) struct Groups {
    pub(super) of: Vec<usize>,
    pub(super) members: Vec<Vec<usize>>,
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
    pub(super) fn demand(&self, p: &PlacementProblem, g: usize) -> Option<Vec<u64>> {
        let mut d = vec![0u64; p.num_resources()];
        for &v in &self.members[g] {
            for (a, b) in d.iter_mut().zip(&p.vms[v].demand) {
                *a = a.checked_add(*b)?;
            }
        }
        Some(d)
    }

    /// Groups by decreasing largest share of the largest host capacity.
    pub(super) fn by_size(&self, p: &PlacementProblem) -> Vec<usize> {
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

    pub(super) fn assign(
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
pub(super) fn fits(demand: &[u64], load: &[u64], capacity: &[u64]) -> bool {
    demand
        .iter()
        .zip(load)
        .zip(capacity)
        .all(|((&d, &l), &c)| l.checked_add(d).is_some_and(|sum| sum <= c))
}
