//! The VM-placement encoder: exact optimum on small cases, FFD on large ones, errors.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod common;

use novacron_qubo_solver::{
    EncoderConfig, Error, ExactSolver, HostSpec, Placement, PlacementProblem, SimulatedAnnealing,
    TabuSearch, Violation, VmDemand,
};
use rand::RngExt;

fn vm(cpu: u64, mem: u64) -> VmDemand {
    VmDemand {
        demand: vec![cpu, mem],
    }
}

fn host(cpu: u64, mem: u64, cost: f64) -> HostSpec {
    HostSpec {
        capacity: vec![cpu, mem],
        cost,
    }
}

fn random_problem(n_vms: usize, n_hosts: usize, seed: u64) -> PlacementProblem {
    let mut r = common::rng(seed);
    let vms = (0..n_vms)
        .map(|_| {
            vm(
                1 << r.random_range(0..3),
                1024 * (1 << r.random_range(0..4)),
            )
        })
        .collect();
    let hosts = (0..n_hosts)
        .map(|_| {
            let size = r.random_range(1..=3u64);
            host(
                8 * size,
                16384 * size,
                size as f64 * r.random_range(0.8..1.2),
            )
        })
        .collect();
    PlacementProblem {
        vms,
        hosts,
        affinity: Vec::new(),
        anti_affinity: Vec::new(),
    }
}

/// The best feasible placement and its objective, by enumerating all H^V assignments.
fn brute_force(p: &PlacementProblem, config: &EncoderConfig) -> Option<(f64, Placement)> {
    let (nv, nh) = (p.vms.len(), p.hosts.len());
    let mut best: Option<(f64, Placement)> = None;
    for k in 0..nh.pow(nv as u32) {
        let host_of: Vec<usize> = (0..nv).map(|v| k / nh.pow(v as u32) % nh).collect();
        let as_opt: Vec<Option<usize>> = host_of.iter().map(|&h| Some(h)).collect();
        if p.violations(&as_opt).unwrap().is_empty() {
            let placement = p.placement(host_of);
            let value = p.objective(&placement, config).unwrap();
            if best.as_ref().is_none_or(|(b, _)| value < *b) {
                best = Some((value, placement));
            }
        }
    }
    best
}

/// A one-resource problem: VM demands, and hosts as (capacity, cost).
fn one_resource(vms: &[u64], hosts: &[(u64, f64)]) -> PlacementProblem {
    PlacementProblem {
        vms: vms.iter().map(|&d| VmDemand { demand: vec![d] }).collect(),
        hosts: hosts
            .iter()
            .map(|&(c, cost)| HostSpec {
                capacity: vec![c],
                cost,
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn decoded_best_sample_is_feasible_and_optimal_on_small_cases() {
    let mut infeasible = 0;
    for seed in 0..6 {
        let mut p = random_problem(5, 3, seed);
        if seed % 2 == 1 {
            p.anti_affinity.push((0, 1));
            p.affinity.push((2, 3));
        }
        let config = EncoderConfig::default().balance_weight(if seed % 3 == 0 { 0.5 } else { 0.0 });
        let Some((optimum, optimal)) = brute_force(&p, &config) else {
            // Infeasible by enumeration: the heuristics must say so too.
            assert!(p.first_fit_decreasing().is_err(), "seed {seed}");
            infeasible += 1;
            continue;
        };
        let enc = p.encode(&config).unwrap();
        // Stops as soon as the optimum's energy is reached (the energy of a
        // feasible state is its objective); otherwise runs the whole budget.
        let set = TabuSearch::new()
            .seed(seed)
            .num_reads(4)
            .iterations(2_000_000)
            .energy_target(optimum)
            .sample(enc.bqm())
            .unwrap();
        let best = set.first().unwrap();
        let decoded = enc.decode(&best.state).unwrap();
        assert!(
            decoded.is_feasible(),
            "seed {seed}: {:?}",
            decoded.violations
        );
        let placement = enc.repair(&decoded).unwrap();
        let value = p.objective(&placement, &config).unwrap();
        let optimal_state = enc.encode_placement(&optimal).unwrap();
        assert!((enc.bqm().energy(&optimal_state).unwrap() - optimum).abs() < 1e-6);
        assert!(
            (value - optimum).abs() < 1e-9,
            "seed {seed}: {value} vs optimum {optimum}"
        );
        // The energy of a feasible state is its objective (penalties vanish).
        assert!(
            (best.energy - value).abs() < 1e-6,
            "energy {} vs objective {value}",
            best.energy
        );
    }
    assert!(
        infeasible <= 2,
        "{infeasible} of 6 seeds gave infeasible problems"
    );
}

#[test]
fn exact_ground_state_of_a_tiny_encoding_is_the_optimum() {
    let mut p = one_resource(&[2, 1, 1], &[(2, 1.0), (3, 1.5)]);
    p.anti_affinity.push((1, 2));
    let config = EncoderConfig::default();
    let enc = p.encode(&config).unwrap();
    assert!(enc.bqm().num_variables() <= ExactSolver::MAX_VARIABLES);
    let set = ExactSolver::new().sample(enc.bqm()).unwrap();
    let decoded = enc.decode(&set.first().unwrap().state).unwrap();
    assert!(decoded.is_feasible());
    let placement = enc.repair(&decoded).unwrap();
    let (optimum, _) = brute_force(&p, &config).unwrap();
    assert_eq!(p.objective(&placement, &config).unwrap(), optimum);
    assert_eq!(placement.cost, 2.5);
}

#[test]
fn every_infeasible_state_costs_more_than_every_feasible_one() {
    let p = one_resource(&[1, 2], &[(2, 3.0), (3, 0.5)]);
    let config = EncoderConfig::default().balance_weight(0.3);
    let enc = p.encode(&config).unwrap();
    // The same encoding with the penalty doubled separates every state's
    // energy into objective + P · violation, without trusting the decoder:
    // E(P) = obj + P·v and E(2P) = obj + 2P·v.
    let doubled = p
        .encode(&config.clone().penalty(Some(2.0 * enc.penalty())))
        .unwrap();
    let n = enc.bqm().num_variables();
    let (mut worst_feasible, mut best_infeasible) = (f64::NEG_INFINITY, f64::INFINITY);
    let (mut n_feasible, mut n_infeasible) = (0, 0);
    for k in 0..1u64 << n {
        let s = common::state(k, n, enc.bqm().vartype());
        let e = enc.bqm().energy(&s).unwrap();
        let violation = (doubled.bqm().energy(&s).unwrap() - e) / enc.penalty();
        if violation.abs() < 1e-9 {
            worst_feasible = worst_feasible.max(e);
            n_feasible += 1;
            assert!(enc.decode(&s).unwrap().is_feasible());
        } else {
            assert!(
                violation >= 1.0 - 1e-9,
                "a violation costs at least the penalty"
            );
            best_infeasible = best_infeasible.min(e);
            n_infeasible += 1;
        }
    }
    assert!(n_feasible > 0 && n_infeasible > 0);
    assert!(
        worst_feasible < best_infeasible,
        "{worst_feasible} vs {best_infeasible}"
    );
}

#[test]
fn cold_qubo_placements_are_feasible_and_near_ffd_and_warm_starts_keep_ffd_on_large_cases() {
    for seed in 0..3 {
        let p = random_problem(40, 10, 100 + seed);
        let ffd = p.first_fit_decreasing().unwrap();
        let feasible = |host_of: &[usize]| {
            p.violations(&host_of.iter().map(|&h| Some(h)).collect::<Vec<_>>())
                .unwrap()
                .is_empty()
        };
        assert!(feasible(&ffd.host_of));
        let config = EncoderConfig::default();
        let enc = p.encode(&config).unwrap();
        let ffd_state = enc.encode_placement(&ffd).unwrap();
        assert!((enc.bqm().energy(&ffd_state).unwrap() - ffd.cost).abs() < 1e-6);

        // Cold start: annealing from random states, decoded and repaired.
        let cold = SimulatedAnnealing::new()
            .seed(seed)
            .num_sweeps(5000)
            .sample(enc.bqm())
            .unwrap();
        let cold = enc
            .repair(&enc.decode(&cold.first().unwrap().state).unwrap())
            .unwrap();
        assert!(feasible(&cold.host_of));
        // Quality from a cold start: with host-level local search on both,
        // the QUBO path lands within 25 % of first-fit decreasing.
        let (cold_better, ffd_better) = (p.improve(&cold).unwrap(), p.improve(&ffd).unwrap());
        assert!(
            cold_better.cost <= 1.25 * ffd_better.cost,
            "seed {seed}: cold qubo + improve {} vs ffd + improve {}",
            cold_better.cost,
            ffd_better.cost
        );

        // Warm start from FFD: tabu can only improve on it.
        let warm = TabuSearch::new()
            .seed(seed)
            .num_reads(2)
            .iterations(200_000)
            .initial_states(vec![ffd_state])
            .sample(enc.bqm())
            .unwrap();
        let decoded = enc.decode(&warm.first().unwrap().state).unwrap();
        assert!(decoded.is_feasible(), "{:?}", decoded.violations);
        let warm = enc.repair(&decoded).unwrap();
        assert!(feasible(&warm.host_of));
        assert!(
            warm.cost <= ffd.cost + 1e-9,
            "warm {} vs ffd {}",
            warm.cost,
            ffd.cost
        );
        println!(
            "seed {seed}: ffd {:.3} ({} hosts), qubo cold {:.3} ({} hosts), qubo warm {:.3} ({} hosts)",
            ffd.cost, ffd.hosts_used, cold.cost, cold.hosts_used, warm.cost, warm.hosts_used
        );
    }
}

#[test]
fn repair_fixes_every_kind_of_violation() {
    let p = PlacementProblem {
        vms: vec![vm(4, 4), vm(4, 4), vm(2, 2), vm(2, 2)],
        hosts: vec![host(8, 8, 1.0), host(8, 8, 1.0)],
        affinity: vec![(2, 3)],
        anti_affinity: vec![(0, 1)],
    };
    let enc = p.encode(&EncoderConfig::default()).unwrap();
    // All on host 0 but VM 3 unplaced: overload, anti-affinity, split affinity.
    let decoded = novacron_qubo_solver::Decoded {
        host_of: vec![Some(0), Some(0), Some(0), None],
        violations: p.violations(&[Some(0), Some(0), Some(0), None]).unwrap(),
    };
    assert!(decoded.violations.contains(&Violation::Unplaced { vm: 3 }));
    assert!(
        decoded
            .violations
            .iter()
            .any(|v| matches!(v, Violation::OverCapacity { host: 0, .. }))
    );
    assert!(decoded.violations.contains(&Violation::AntiAffinity {
        a: 0,
        b: 1,
        host: 0
    }));
    let fixed = enc.repair(&decoded).unwrap();
    let as_opt: Vec<Option<usize>> = fixed.host_of.iter().map(|&h| Some(h)).collect();
    assert_eq!(p.violations(&as_opt).unwrap(), vec![]);
}

#[test]
fn infeasible_and_malformed_problems_are_errors() {
    let too_much = PlacementProblem {
        vms: vec![vm(10, 1)],
        hosts: vec![host(4, 8, 1.0), host(4, 8, 1.0)],
        ..Default::default()
    };
    assert!(matches!(
        too_much.encode(&EncoderConfig::default()),
        Err(Error::Infeasible { .. })
    ));
    assert!(matches!(
        too_much.first_fit_decreasing(),
        Err(Error::Infeasible { .. })
    ));
    let total = PlacementProblem {
        vms: vec![vm(3, 1), vm(3, 1), vm(3, 1)],
        hosts: vec![host(4, 8, 1.0), host(4, 8, 1.0)],
        ..Default::default()
    };
    let err = total.encode(&EncoderConfig::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("total demand 9 exceeds total capacity 8"),
        "{err}"
    );
    let mismatch = PlacementProblem {
        vms: vec![VmDemand { demand: vec![1] }],
        hosts: vec![host(4, 8, 1.0)],
        ..Default::default()
    };
    assert!(matches!(
        mismatch.encode(&EncoderConfig::default()),
        Err(Error::InvalidProblem { .. })
    ));
    let bad_pair = PlacementProblem {
        vms: vec![vm(1, 1)],
        hosts: vec![host(4, 8, 1.0)],
        anti_affinity: vec![(0, 5)],
        ..Default::default()
    };
    assert!(matches!(
        bad_pair.encode(&EncoderConfig::default()),
        Err(Error::InvalidProblem { .. })
    ));
    let tied = PlacementProblem {
        vms: vec![vm(1, 1), vm(1, 1)],
        hosts: vec![host(4, 8, 1.0)],
        affinity: vec![(0, 1)],
        anti_affinity: vec![(1, 0)],
    };
    assert!(matches!(
        tied.encode(&EncoderConfig::default()),
        Err(Error::Infeasible { .. })
    ));
    let nan_cost = PlacementProblem {
        vms: vec![vm(1, 1)],
        hosts: vec![host(4, 8, f64::NAN)],
        ..Default::default()
    };
    assert!(matches!(
        nan_cost.encode(&EncoderConfig::default()),
        Err(Error::InvalidProblem { .. })
    ));
    let ok = random_problem(3, 2, 1);
    let bad_weight = EncoderConfig::default().balance_weight(-1.0);
    assert!(matches!(
        ok.encode(&bad_weight),
        Err(Error::InvalidParameter {
            name: "balance_weight",
            ..
        })
    ));
    let bad_penalty = EncoderConfig::default().penalty(Some(f64::INFINITY));
    assert!(matches!(
        ok.encode(&bad_penalty),
        Err(Error::InvalidParameter {
            name: "penalty",
            ..
        })
    ));
    let enc = ok.encode(&EncoderConfig::default()).unwrap();
    assert!(matches!(
        enc.decode(&[0, 1]),
        Err(Error::InvalidState { .. })
    ));
}

#[test]
fn an_empty_problem_encodes_to_an_empty_model() {
    let p = PlacementProblem {
        hosts: vec![host(4, 8, 1.0)],
        ..Default::default()
    };
    let enc = p
        .encode(&EncoderConfig::default().host_costs(false))
        .unwrap();
    let set = TabuSearch::new().seed(1).sample(enc.bqm()).unwrap();
    let placement = enc
        .repair(&enc.decode(&set.first().unwrap().state).unwrap())
        .unwrap();
    assert!(placement.host_of.is_empty());
    assert_eq!(placement.cost, 0.0);
}

fn is_feasible(p: &PlacementProblem, placement: &Placement) -> bool {
    let as_opt: Vec<Option<usize>> = placement.host_of.iter().map(|&h| Some(h)).collect();
    p.violations(&as_opt).unwrap().is_empty()
}

#[test]
fn improve_keeps_every_constraint_never_costs_more_and_is_a_fixed_point() {
    let mut lowered = 0;
    // Seeds whose random pair constraints leave FFD no placement.
    let mut skipped = 0;
    for seed in 0..40 {
        let mut p = random_problem(14, 6, seed);
        let mut r = common::rng(seed + 1000);
        for _ in 0..3 {
            let (a, b) = (r.random_range(0..14), r.random_range(0..14));
            if a != b {
                if r.random_bool(0.5) {
                    p.anti_affinity.push((a, b));
                } else {
                    p.affinity.push((a, b));
                }
            }
        }
        let Ok(ffd) = p.first_fit_decreasing() else {
            skipped += 1;
            continue;
        };
        // A second, poorer start: every group alone on a host where possible
        // (repair of "everything on its own host").
        let enc = p.encode(&EncoderConfig::default()).unwrap();
        let spread: Vec<Option<usize>> = (0..14).map(|v| Some(v % 6)).collect();
        let spread = enc
            .repair(&novacron_qubo_solver::Decoded {
                violations: p.violations(&spread).unwrap(),
                host_of: spread,
            })
            .unwrap();
        for start in [ffd, spread] {
            let better = p.improve(&start).unwrap();
            assert!(is_feasible(&p, &better), "seed {seed}: {better:?}");
            assert!(better.cost <= start.cost + 1e-9, "seed {seed}");
            assert_eq!(
                p.placement(better.host_of.clone()),
                better,
                "seed {seed}: cost"
            );
            assert_eq!(
                p.improve(&better).unwrap(),
                better,
                "seed {seed}: not a fixed point"
            );
            if better.cost < start.cost - 1e-9 {
                lowered += 1;
            }
        }
    }
    assert!(
        lowered >= 10,
        "improve lowered only {lowered} of the starts"
    );
    assert!(skipped <= 10, "{skipped} of 40 seeds had no FFD placement");
}

#[test]
fn improve_merges_two_hosts_into_one_cheaper_host() {
    // FFD fills the cheaper-per-unit hosts 0 and 1 (cost 6); host 2 alone
    // holds all three VMs for 5.5.
    let p = one_resource(&[6, 6, 6], &[(12, 3.0), (12, 3.0), (18, 5.5)]);
    let ffd = p.first_fit_decreasing().unwrap();
    assert_eq!(ffd.cost, 6.0);
    let better = p.improve(&ffd).unwrap();
    assert_eq!(better.host_of, vec![2, 2, 2]);
    assert_eq!(better.cost, 5.5);
}

#[test]
fn improve_empties_a_host_and_moves_to_a_cheaper_one() {
    let p = one_resource(&[3, 3], &[(10, 1.0), (10, 2.0), (10, 0.5)]);
    // Emptying host 1 into host 0 (3.0 → 1.0), then host 0 to host 2 (0.5).
    let better = p.improve(&p.placement(vec![0, 1])).unwrap();
    assert_eq!(better.host_of, vec![2, 2]);
    assert_eq!(better.cost, 0.5);
}

#[test]
fn improve_never_joins_anti_affine_vms() {
    let mut p = one_resource(&[3, 3], &[(10, 1.0), (10, 1.0), (10, 1.5)]);
    p.anti_affinity.push((0, 1));
    let start = p.placement(vec![0, 1]);
    assert_eq!(p.improve(&start).unwrap(), start);
    // Without the constraint the two share one host.
    p.anti_affinity.clear();
    assert_eq!(p.improve(&start).unwrap().hosts_used, 1);
}

#[test]
fn improve_rejects_malformed_and_infeasible_placements() {
    let p = one_resource(&[3, 3], &[(4, 1.0), (10, 1.0)]);
    let wrong_length = p.placement(vec![0]);
    let overloaded = p.placement(vec![0, 0]);
    let no_such_host = Placement {
        host_of: vec![0, 7],
        cost: 1.0,
        hosts_used: 2,
    };
    for (bad, what) in [
        (wrong_length, "entries"),
        (overloaded, "repair it first"),
        (no_such_host, "repair it first"),
    ] {
        match p.improve(&bad) {
            Err(Error::InvalidState { reason }) => assert!(reason.contains(what), "{reason}"),
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// Repairs `host_of` through the problem's default encoding.
fn repaired(p: &PlacementProblem, host_of: Vec<Option<usize>>) -> Placement {
    let enc = p.encode(&EncoderConfig::default()).unwrap();
    let decoded = novacron_qubo_solver::Decoded {
        violations: p.violations(&host_of).unwrap(),
        host_of,
    };
    enc.repair(&decoded).unwrap()
}

#[test]
fn repair_takes_hosts_that_do_not_exist_and_demands_that_overflow_u64() {
    // Found by the `qubo_placement` fuzz target: `Decoded` has public
    // fields, so a caller can name host 5 of 2.
    let p = one_resource(&[3, 4], &[(10, 1.0), (10, 1.0)]);
    assert!(is_feasible(&p, &repaired(&p, vec![Some(5), Some(1)])));
    // Two demands whose sum passes u64::MAX on one host: the encoder refuses
    // such capacities (f64 could not keep the objective), so there is no
    // encoding to repair with.
    let big = u64::MAX - 10;
    let p = one_resource(&[big, big], &[(u64::MAX, 1.0), (u64::MAX, 1.0)]);
    assert!(p.violations(&[Some(0), Some(0)]).unwrap().len() == 1);
    // FFD and improve must not stack them either (a saturating sum would
    // "fit" under a capacity of u64::MAX), nor merge them onto a cheaper host.
    let p = one_resource(
        &[big, big],
        &[(u64::MAX, 1.0), (u64::MAX, 1.0), (u64::MAX, 0.5)],
    );
    let ffd = p.first_fit_decreasing().unwrap();
    assert!(is_feasible(&p, &ffd));
    let better = p.improve(&ffd).unwrap();
    assert!(is_feasible(&p, &better));
    assert_eq!(better.hosts_used, 2);
    match p.encode(&EncoderConfig::default()) {
        Err(Error::InvalidProblem { reason }) => {
            assert!(reason.contains("coarser units"), "{reason}")
        }
        other => panic!("capacities of u64::MAX must be refused: {other:?}"),
    }
}

#[test]
fn feasible_energy_is_the_objective_at_realistic_capacities() {
    // A fleet in real units: cores and memory in MiB (hosts of 256 and 512
    // GiB, VMs of 1 to 64 GiB, with 1.5 GiB shapes so the divisor stays small).
    let mem = [1536, 2048, 4096, 8192, 16384, 65536, 1536, 3072];
    let cores = [1, 2, 2, 4, 8, 16, 1, 2];
    let vms: Vec<VmDemand> = (0..24)
        .map(|v| VmDemand {
            demand: vec![cores[v % 8], mem[v % 8]],
        })
        .collect();
    let hosts: Vec<HostSpec> = (0..6)
        .map(|h| HostSpec {
            capacity: vec![
                if h % 2 == 0 { 32 } else { 64 },
                if h % 2 == 0 { 262_144 } else { 524_288 },
            ],
            cost: 1.37 + 0.61 * h as f64,
        })
        .collect();
    let p = PlacementProblem {
        vms,
        hosts,
        ..Default::default()
    };
    let config = EncoderConfig::default();
    let enc = p.encode(&config).unwrap();
    for placement in [
        p.first_fit_decreasing().unwrap(),
        p.improve(&p.first_fit_decreasing().unwrap()).unwrap(),
    ] {
        let objective = p.objective(&placement, &config).unwrap();
        let energy = enc
            .bqm()
            .energy(&enc.encode_placement(&placement).unwrap())
            .unwrap();
        assert!(
            (energy - objective).abs() <= 1e-6 * objective.abs().max(1.0),
            "energy {energy} vs objective {objective}"
        );
    }
    // The same fleet in bytes with a 1-byte divisor: refused, with the limit named.
    let mut bytes = p.clone();
    for v in &mut bytes.vms {
        v.demand[1] = v.demand[1] * 1_048_576 + 1;
    }
    for h in &mut bytes.hosts {
        h.capacity[1] *= 1_048_576;
    }
    match bytes.encode(&config) {
        Err(Error::InvalidProblem { reason }) => assert!(reason.contains("4.295e9"), "{reason}"),
        other => panic!("byte capacities must be refused: {other:?}"),
    }
}

#[test]
fn fleets_too_large_to_encode_are_refused_before_building() {
    // 5,000 VMs on 600 hosts: ~10¹⁰ quadratic terms.
    let p = PlacementProblem {
        vms: (0..5000)
            .map(|_| VmDemand {
                demand: vec![1, 1024],
            })
            .collect(),
        hosts: (0..600)
            .map(|_| HostSpec {
                capacity: vec![64, 524_288],
                cost: 1.0,
            })
            .collect(),
        ..Default::default()
    };
    match p.encode(&EncoderConfig::default()) {
        Err(Error::TooLarge { size, limit, .. }) => {
            assert!(size > limit && limit == PlacementProblem::MAX_ENCODED_INTERACTIONS)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn violations_and_objective_refuse_malformed_inputs() {
    let mut p = one_resource(&[3, 4], &[(10, 1.0), (10, 1.0)]);
    assert!(matches!(
        p.violations(&[Some(0)]),
        Err(Error::InvalidState { .. })
    ));
    let outside = Placement {
        host_of: vec![0, 9],
        cost: 0.0,
        hosts_used: 1,
    };
    assert!(matches!(
        p.objective(&outside, &EncoderConfig::default()),
        Err(Error::InvalidState { .. })
    ));
    p.affinity.push((0, 17));
    assert!(matches!(
        p.violations(&[Some(0), Some(1)]),
        Err(Error::InvalidProblem { .. })
    ));
    p.affinity.clear();
    p.vms[1].demand.push(1);
    assert!(matches!(
        p.objective(&p.placement(vec![0, 1]), &EncoderConfig::default()),
        Err(Error::InvalidProblem { .. })
    ));
}

#[test]
fn best_fit_puts_a_vm_on_the_tightest_host_in_use_where_first_fit_takes_the_first() {
    // One resource. Host 0 (capacity 12, cost 1.2) and host 1 (10, 1.0) cost
    // the same per unit, so both orders list host 0 first. VMs of 8, 7, 3:
    // 8 → host 0 (4 left), 7 → host 1 (3 left); then first-fit puts 3 on
    // host 0, the first with room, and best-fit on host 1, where it leaves
    // nothing.
    let p = PlacementProblem {
        vms: [8, 7, 3].map(|d| VmDemand { demand: vec![d] }).to_vec(),
        hosts: vec![
            HostSpec {
                capacity: vec![12],
                cost: 1.2,
            },
            HostSpec {
                capacity: vec![10],
                cost: 1.0,
            },
        ],
        affinity: Vec::new(),
        anti_affinity: Vec::new(),
    };
    assert_eq!(p.first_fit_decreasing().unwrap().host_of, vec![0, 1, 0]);
    assert_eq!(p.best_fit_decreasing().unwrap().host_of, vec![0, 1, 1]);
    // Anti-affinity between the 7 and the 3 sends the 3 back to host 0.
    let apart = PlacementProblem {
        anti_affinity: vec![(1, 2)],
        ..p.clone()
    };
    assert_eq!(apart.best_fit_decreasing().unwrap().host_of, vec![0, 1, 0]);
    // No room anywhere: an error naming the VM, as first-fit's.
    let full = PlacementProblem {
        vms: [8, 7, 9].map(|d| VmDemand { demand: vec![d] }).to_vec(),
        ..p
    };
    assert!(matches!(
        full.best_fit_decreasing(),
        Err(Error::Infeasible { .. })
    ));
}

/// Best-fit decreasing written from its documentation, without affinity:
/// VMs by decreasing largest share of the largest capacity, each on the host
/// in use with the least summed room left, else the first unused host (by
/// cost per unit of capacity) with room.
fn reference_bfd(p: &PlacementProblem) -> Option<Vec<usize>> {
    let nr = p.hosts[0].capacity.len();
    let max_cap: Vec<f64> = (0..nr)
        .map(|r| p.hosts.iter().map(|h| h.capacity[r]).max().unwrap_or(1) as f64)
        .collect();
    let share = |v: usize| {
        (0..nr)
            .map(|r| p.vms[v].demand[r] as f64 / max_cap[r])
            .fold(0.0, f64::max)
    };
    let mut vms: Vec<usize> = (0..p.vms.len()).collect();
    vms.sort_by(|&a, &b| share(b).total_cmp(&share(a)).then(a.cmp(&b)));
    let unit = |h: usize| {
        let size: f64 = (0..nr)
            .map(|r| p.hosts[h].capacity[r] as f64 / max_cap[r])
            .sum();
        p.hosts[h].cost / size.max(1e-12)
    };
    let mut hosts: Vec<usize> = (0..p.hosts.len()).collect();
    hosts.sort_by(|&a, &b| unit(a).total_cmp(&unit(b)).then(a.cmp(&b)));
    let mut load = vec![vec![0u64; nr]; p.hosts.len()];
    let mut used = vec![false; p.hosts.len()];
    let mut host_of = vec![0; p.vms.len()];
    for v in vms {
        let d = &p.vms[v].demand;
        let fits = |h: usize, load: &[Vec<u64>]| {
            (0..nr).all(|r| load[h][r] + d[r] <= p.hosts[h].capacity[r])
        };
        let left = |h: usize, load: &[Vec<u64>]| -> f64 {
            (0..nr)
                .map(|r| (p.hosts[h].capacity[r] - load[h][r] - d[r]) as f64 / max_cap[r])
                .sum()
        };
        let mut best: Option<usize> = None;
        for &h in &hosts {
            if used[h] && fits(h, &load) {
                best = match best {
                    Some(b)
                        if left(b, &load) < left(h, &load)
                            || (left(b, &load) == left(h, &load) && b < h) =>
                    {
                        Some(b)
                    }
                    _ => Some(h),
                };
            }
        }
        let h = match best {
            Some(h) => h,
            None => *hosts.iter().find(|&&h| !used[h] && fits(h, &load))?,
        };
        used[h] = true;
        host_of[v] = h;
        for r in 0..nr {
            load[h][r] += d[r];
        }
    }
    Some(host_of)
}

#[test]
fn best_fit_matches_its_reference_and_is_feasible_with_affinity() {
    let (mut compared, mut differs_from_ffd) = (0, 0);
    for seed in 0..40 {
        let mut p = random_problem(30, 12, 500 + seed);
        match (p.best_fit_decreasing(), reference_bfd(&p)) {
            (Ok(bfd), Some(reference)) => {
                assert_eq!(bfd.host_of, reference, "seed {seed}");
                compared += 1;
                differs_from_ffd +=
                    usize::from(p.first_fit_decreasing().unwrap().host_of != bfd.host_of);
            }
            (Err(Error::Infeasible { .. }), None) => {}
            (ours, reference) => panic!("seed {seed}: {ours:?} vs {reference:?}"),
        }
        // With affinity and anti-affinity: feasible whenever it answers.
        p.affinity = vec![(0, 1), (2, 3)];
        p.anti_affinity = vec![(0, 4), (5, 6)];
        if let Ok(bfd) = p.best_fit_decreasing() {
            let host_of: Vec<Option<usize>> = bfd.host_of.iter().map(|&h| Some(h)).collect();
            assert!(p.violations(&host_of).unwrap().is_empty(), "seed {seed}");
            assert_eq!(bfd.host_of[0], bfd.host_of[1]);
            assert_ne!(bfd.host_of[0], bfd.host_of[4]);
        }
    }
    // The comparison ran, on cases where best-fit is not just first-fit.
    assert!(
        compared >= 30 && differs_from_ffd >= 5,
        "{compared} compared, {differs_from_ffd} differ"
    );
}
