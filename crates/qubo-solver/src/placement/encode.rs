//! The QUBO encoder: one-hot per VM, slack bits per host capacity,
//! host-open variables, pair and balance terms, a derived penalty.

use super::PlacementProblem;
use super::decode::Encoding;
use crate::error::check_size;
use crate::{Bqm, Error, Vartype};

/// What the encoder optimizes, and how hard it penalizes violations.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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

impl EncoderConfig {
    /// Whether host-open variables and host costs are encoded (default true).
    #[must_use]
    pub fn host_costs(mut self, on: bool) -> Self {
        self.host_costs = on;
        self
    }

    /// Weight of the balance term (default 0: off). A negative or
    /// non-finite weight is refused by [`PlacementProblem::encode`].
    #[must_use]
    pub fn balance_weight(mut self, weight: f64) -> Self {
        self.balance_weight = weight;
        self
    }

    /// A fixed penalty weight, or `None` to derive it (the default). A
    /// penalty that is not finite and positive is refused by
    /// [`PlacementProblem::encode`].
    #[must_use]
    pub fn penalty(mut self, penalty: impl Into<Option<f64>>) -> Self {
        self.penalty = penalty.into();
        self
    }
}

impl PlacementProblem {
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
    pub(super) fn encoded_interactions(&self, config: &EncoderConfig, gcd: &[u64]) -> u128 {
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
}

pub(super) fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Number of bits [`slack_weights`] returns for `cap`, without allocating.
pub(super) fn slack_bits(cap: u64) -> u32 {
    // 2^k - 1 <= cap for the k powers of two, plus one bit for any remainder.
    let k = (cap.saturating_add(1)).ilog2();
    let full = if k >= 64 { u64::MAX } else { (1u64 << k) - 1 };
    k + u32::from(full < cap)
}

/// Weights 1, 2, 4, … and a last weight so that the bits sum to exactly
/// `cap` and every value in `0..=cap` is representable.
pub(super) fn slack_weights(cap: u64) -> Vec<u64> {
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
pub(super) fn add_square(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn slack_bits_counts_the_weights_slack_weights_returns() {
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
