//! The samplers: exact = brute force, heuristics reach ground states,

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.
//! reproducibility, stopping rules, hybrid flow and bad parameters.

mod common;

use std::time::Duration;

use common::{brute_force_min, random_f64, random_int};
use novacron_qubo_solver::{
    Backend, Bqm, CancelToken, Error, ExactSolver, HybridSolver, ParallelTempering, SampleSet,
    Sampler, Schedule, SimulatedAnnealing, StopReason, TabuSearch, Validator, Vartype,
};
use proptest::prelude::*;

/// The best sample of a default tabu search, seed 1.
fn tabu_best(bqm: &Bqm<i64>) -> novacron_qubo_solver::Sample<i64> {
    TabuSearch::new()
        .seed(1)
        .sample(bqm)
        .unwrap()
        .first()
        .unwrap()
        .clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn exact_solver_equals_brute_force(n in 0usize..=12, density in 0.0f64..1.0, seed: u64, spin: bool) {
        let vartype = if spin { Vartype::Spin } else { Vartype::Binary };
        let bqm = random_int(n, density, vartype, seed);
        let set = ExactSolver::new().keep(4).sample(&bqm).unwrap();
        prop_assert_eq!(set.first().unwrap().energy, brute_force_min(&bqm));
        prop_assert_eq!(set.len(), 4usize.min(1 << n));
        for w in set.samples().windows(2) {
            prop_assert!(w[0].energy <= w[1].energy);
        }
        for s in &set {
            prop_assert_eq!(s.energy, bqm.energy(&s.state).unwrap());
        }
        let floats = random_f64(n, density, vartype, seed);
        let best = ExactSolver::new().sample(&floats).unwrap().first().unwrap().energy;
        prop_assert!((best - brute_force_min(&floats)).abs() < 1e-9);
    }
}

fn check_ground_state<S: Sampler<i64>>(sampler: &S) {
    for (k, &(n, density)) in [(12, 0.5), (18, 0.2), (20, 0.9), (22, 0.1)]
        .iter()
        .enumerate()
    {
        for vartype in [Vartype::Binary, Vartype::Spin] {
            let bqm = random_int(n, density, vartype, 1000 + k as u64);
            let ground = ExactSolver::new()
                .sample(&bqm)
                .unwrap()
                .first()
                .unwrap()
                .energy;
            let set = sampler.sample(&bqm).unwrap();
            assert_eq!(
                set.first().unwrap().energy,
                ground,
                "{} on n={n} density={density} {vartype}",
                sampler.name()
            );
            assert_eq!(set.vartype(), vartype);
            assert!(set.iter().all(|s| bqm.check_state(&s.state).is_ok()));
        }
    }
}

#[test]
fn annealing_reaches_the_exact_ground_state() {
    check_ground_state(&SimulatedAnnealing::new().seed(3));
}

#[test]
fn tempering_reaches_the_exact_ground_state() {
    check_ground_state(&ParallelTempering::new().seed(3));
}

#[test]
fn tabu_reaches_the_exact_ground_state() {
    check_ground_state(&TabuSearch::new().seed(3));
}

#[test]
fn float_models_reach_the_ground_state_too() {
    let bqm = random_f64(20, 0.3, Vartype::Spin, 9);
    let ground = ExactSolver::new()
        .sample(&bqm)
        .unwrap()
        .first()
        .unwrap()
        .energy;
    for set in [
        SimulatedAnnealing::new().seed(1).sample(&bqm).unwrap(),
        TabuSearch::new().seed(1).sample(&bqm).unwrap(),
        ParallelTempering::new().seed(1).sample(&bqm).unwrap(),
    ] {
        assert!(
            (set.first().unwrap().energy - ground).abs() < 1e-9,
            "{}",
            set.info().solver
        );
    }
}

fn states(set: &SampleSet<i64>) -> Vec<(Vec<i8>, i64)> {
    set.iter().map(|s| (s.state.clone(), s.energy)).collect()
}

#[test]
fn equal_seeds_give_equal_results_and_reads_differ() {
    let bqm = random_int(60, 0.2, Vartype::Binary, 5);
    let sa = SimulatedAnnealing::new()
        .num_sweeps(3)
        .num_reads(8)
        .descend(false);
    let a = sa.clone().seed(11).sample(&bqm).unwrap();
    let b = sa.clone().seed(11).sample(&bqm).unwrap();
    let c = sa.seed(12).sample(&bqm).unwrap();
    assert_eq!(states(&a), states(&b));
    assert_ne!(states(&a), states(&c));
    // Three hot sweeps from random starts: distinct reads give distinct states.
    assert_eq!(a.clone().aggregate().len(), 8);
    assert_eq!(a.info().seed, Some(11));

    let tabu = TabuSearch::new().iterations(500).num_reads(3);
    assert_eq!(
        states(&tabu.clone().seed(4).sample(&bqm).unwrap()),
        states(&tabu.seed(4).sample(&bqm).unwrap())
    );
    let pt = ParallelTempering::new().num_sweeps(20).num_reads(3);
    assert_eq!(
        states(&pt.clone().seed(4).sample(&bqm).unwrap()),
        states(&pt.seed(4).sample(&bqm).unwrap())
    );
}

#[test]
fn annealing_returns_the_best_state_seen_not_the_last() {
    // Cold sweeps reach a local minimum, then hot sweeps randomize the state:
    // the last state is poor, the best seen is the cold phase's.
    let bqm = random_int(40, 0.3, Vartype::Binary, 8);
    let run = |betas: Vec<f64>| {
        SimulatedAnnealing::new()
            .seed(2)
            .num_reads(1)
            .descend(false)
            .schedule(Schedule::Custom(betas))
            .sample(&bqm)
            .unwrap()
    };
    let cold = vec![10.0; 50];
    // Hot enough to accept most uphill moves, not all (β → 0 would flip
    // every variable each sweep and alternate between two states).
    let hot = vec![0.01; 201];
    let cold_only = run(cold.clone()).lowest_energy().unwrap();
    let cold_then_hot = run([cold, hot.clone()].concat());
    let hot_only = run(hot).lowest_energy().unwrap();
    // Same seed, same prefix: the cold phase is replayed exactly, so the
    // best seen can only be as good or better.
    assert!(cold_then_hot.lowest_energy().unwrap() <= cold_only);
    // The premise: a hot phase alone ends far above the cold minimum.
    assert!(cold_only < hot_only, "{cold_only} vs {hot_only}");
    assert_eq!(cold_then_hot.info().work, 251);
}

#[test]
fn sample_sets_are_sorted_and_aggregate() {
    let bqm = random_int(10, 0.5, Vartype::Binary, 2);
    let set = SimulatedAnnealing::new()
        .seed(1)
        .num_reads(32)
        .sample(&bqm)
        .unwrap();
    assert_eq!(set.len(), 32);
    assert!(set.samples().windows(2).all(|w| w[0].energy <= w[1].energy));
    let total: usize = set.iter().map(|s| s.num_occurrences).sum();
    let agg = set.clone().aggregate();
    assert!(agg.len() < 32);
    assert_eq!(agg.iter().map(|s| s.num_occurrences).sum::<usize>(), total);
    assert_eq!(agg.first().unwrap().energy, set.lowest_energy().unwrap());
    let info = set.info();
    assert_eq!(info.solver, "simulated_annealing");
    assert_eq!(info.parameters["num_sweeps"], "1000");
    assert!(info.parameters.contains_key("beta_min") && info.parameters.contains_key("beta_max"));
    assert_eq!(info.work, 32 * 1000);
    assert_eq!(info.stop_reason, StopReason::Budget);
    assert!(info.time_to_best.is_some());
}

#[test]
fn an_energy_target_stops_early() {
    let bqm = random_int(30, 0.3, Vartype::Binary, 4);
    let ground = tabu_best(&bqm).energy;
    let set = TabuSearch::new()
        .seed(2)
        .num_reads(2)
        .iterations(50_000_000)
        .energy_target(ground as f64)
        .sample(&bqm)
        .unwrap();
    assert_eq!(set.info().stop_reason, StopReason::EnergyTarget);
    assert_eq!(set.first().unwrap().energy, ground);
    assert!(set.info().work < 2 * 50_000_000);
}

#[test]
fn time_limits_and_cancellation_stop_the_reads() {
    let bqm = random_int(200, 0.1, Vartype::Binary, 4);
    let set = TabuSearch::new()
        .seed(1)
        .iterations(u64::MAX)
        .time_limit(Duration::from_millis(50))
        .sample(&bqm)
        .unwrap();
    assert_eq!(set.info().stop_reason, StopReason::TimeLimit);
    assert!(set.info().timing.sampling < Duration::from_secs(5));
    assert_eq!(set.len(), 4);

    let token = CancelToken::new();
    token.cancel();
    let set = SimulatedAnnealing::new()
        .seed(1)
        .num_sweeps(1_000_000)
        .cancel_token(token.clone())
        .sample(&bqm)
        .unwrap();
    assert_eq!(set.info().stop_reason, StopReason::Cancelled);
    assert!(token.is_cancelled());
    assert_eq!(set.len(), 16);

    let token = CancelToken::new();
    let canceller = token.clone();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        canceller.cancel();
    });
    let set = ParallelTempering::new()
        .seed(1)
        .num_sweeps(100_000_000)
        .cancel_token(token)
        .sample(&bqm)
        .unwrap();
    handle.join().unwrap();
    assert_eq!(set.info().stop_reason, StopReason::Cancelled);
}

#[test]
fn zero_variable_models_are_trivial() {
    let mut bqm = Bqm::<i64>::new(Vartype::Spin);
    bqm.add_offset(7).unwrap();
    for set in [
        SimulatedAnnealing::new()
            .seed(1)
            .num_reads(2)
            .sample(&bqm)
            .unwrap(),
        ParallelTempering::new()
            .seed(1)
            .num_reads(2)
            .sample(&bqm)
            .unwrap(),
        TabuSearch::new().seed(1).num_reads(2).sample(&bqm).unwrap(),
        ExactSolver::new().sample(&bqm).unwrap(),
    ] {
        assert_eq!(set.first().unwrap().state, Vec::<i8>::new());
        assert_eq!(set.first().unwrap().energy, 7);
    }
}

#[test]
fn bad_parameters_are_errors() {
    let bqm = random_int(5, 0.5, Vartype::Binary, 1);
    let name = |r: Result<SampleSet<i64>, Error>| match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    };
    let cases = [
        (
            SimulatedAnnealing::new().num_reads(0).sample(&bqm),
            "num_reads",
        ),
        (
            SimulatedAnnealing::new().num_sweeps(0).sample(&bqm),
            "num_sweeps",
        ),
        (
            SimulatedAnnealing::new().beta_range(2.0, 1.0).sample(&bqm),
            "beta_max",
        ),
        (
            SimulatedAnnealing::new().beta_range(0.0, 1.0).sample(&bqm),
            "beta_min",
        ),
        (
            SimulatedAnnealing::new()
                .beta_range(f64::NAN, 1.0)
                .sample(&bqm),
            "beta_min",
        ),
        (
            SimulatedAnnealing::new()
                .schedule(Schedule::Custom(vec![]))
                .sample(&bqm),
            "schedule",
        ),
        (
            SimulatedAnnealing::new()
                .schedule(Schedule::Custom(vec![1.0, -1.0]))
                .sample(&bqm),
            "schedule",
        ),
        (
            SimulatedAnnealing::new()
                .energy_target(f64::NAN)
                .sample(&bqm),
            "energy_target",
        ),
        (
            ParallelTempering::new().num_replicas(1).sample(&bqm),
            "num_replicas",
        ),
        (
            ParallelTempering::new().beta_range(3.0, 1.0).sample(&bqm),
            "beta_max",
        ),
        (TabuSearch::new().tenure(5).sample(&bqm), "tenure"),
        (TabuSearch::new().iterations(0).sample(&bqm), "iterations"),
        (TabuSearch::new().stagnation(0).sample(&bqm), "stagnation"),
        (ExactSolver::new().keep(0).sample(&bqm), "keep"),
    ];
    for (result, expected) in cases {
        assert_eq!(name(result), expected);
    }
    assert!(matches!(
        TabuSearch::new()
            .initial_states(vec![vec![0, 1]])
            .sample(&bqm),
        Err(Error::InvalidState { .. })
    ));
    let big = Bqm::<f64>::with_variables(31, Vartype::Binary).unwrap();
    assert_eq!(
        ExactSolver::new().sample(&big).unwrap_err(),
        Error::TooManyVariables {
            num_variables: 31,
            limit: ExactSolver::MAX_VARIABLES
        }
    );
    let msg = SimulatedAnnealing::new()
        .beta_range(2.0, 1.0)
        .sample(&bqm)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("beta_max = 1 is invalid"), "{msg}");
}

#[test]
fn tabu_reads_begin_at_their_warm_starts() {
    // Two different one-flip local minima as warm starts; one tabu move and
    // the descent polish cannot leave a local minimum's basin, so read k
    // returns start k % 2. A sampler that ignored the warm starts would
    // return whatever its random starts descend to (checked: a cold start
    // with the same budget does not find the good state).
    let bqm = random_int(80, 0.2, Vartype::Spin, 6);
    let good = tabu_best(&bqm);
    let other = TabuSearch::new()
        .seed(77)
        .iterations(3)
        .sample(&bqm)
        .unwrap();
    let other = other.first().unwrap().clone();
    assert_ne!(other.state, good.state, "two distinct local minima");
    let warm = TabuSearch::new()
        .seed(9)
        .iterations(1)
        .num_reads(4)
        .initial_states(vec![good.state.clone(), other.state.clone()])
        .sample(&bqm)
        .unwrap();
    let states: Vec<&Vec<i8>> = warm.iter().map(|s| &s.state).collect();
    assert!(
        states.contains(&&good.state) && states.contains(&&other.state),
        "{states:?}"
    );
    assert_eq!(warm.first().unwrap().energy, good.energy);
    let cold = TabuSearch::new()
        .seed(9)
        .iterations(1)
        .num_reads(4)
        .sample(&bqm)
        .unwrap();
    assert!(cold.first().unwrap().energy > good.energy);
}

/// A backend that always fails, standing in for an unreachable remote annealer.
struct Unreachable;

impl Sampler<i64> for Unreachable {
    fn name(&self) -> &str {
        "remote"
    }
    fn sample(&self, _bqm: &Bqm<i64>) -> Result<SampleSet<i64>, Error> {
        Err(Error::Backend {
            backend: "remote".into(),
            message: "connection refused".into(),
        })
    }
}

/// Accepts only states whose first variable is 1.
struct FirstIsOne;

impl Validator for FirstIsOne {
    fn violations(&self, state: &[i8]) -> Vec<String> {
        if state.first() == Some(&1) {
            Vec::new()
        } else {
            vec!["variable 0 must be 1".into()]
        }
    }
}

#[test]
fn hybrid_falls_back_when_the_primary_fails_or_is_invalid() {
    let mut bqm = random_int(12, 0.5, Vartype::Binary, 3);
    let hybrid = HybridSolver::new(Box::new(Unreachable), Box::new(TabuSearch::new().seed(1)));
    let out = hybrid
        .sample_validated(&bqm, &novacron_qubo_solver::AcceptAll)
        .unwrap();
    assert_eq!(out.backend, Backend::Fallback);
    assert!(matches!(out.primary_error, Some(Error::Backend { .. })));
    assert_eq!(out.best_valid.unwrap().energy, brute_force_min(&bqm));

    // Variable 0 strongly prefers 0, so the primary's samples fail validation.
    bqm.add_linear(0, 1000).unwrap();
    let primary_exact = HybridSolver::new(
        Box::new(ExactSolver::new().keep(1)),
        Box::new(ExactSolver::new().keep(4096)),
    );
    let out = primary_exact.sample_validated(&bqm, &FirstIsOne).unwrap();
    assert_eq!(out.backend, Backend::Fallback);
    assert_eq!(
        out.primary_violations,
        vec!["variable 0 must be 1".to_string()]
    );
    assert_eq!(out.best_valid.unwrap().state[0], 1);

    let classical = HybridSolver::<i64>::classical();
    let out = classical
        .sample_validated(&bqm, &novacron_qubo_solver::AcceptAll)
        .unwrap();
    assert_eq!(out.backend, Backend::Primary);
    assert_eq!(
        classical.sample(&bqm).unwrap().first().unwrap().energy,
        brute_force_min(&bqm)
    );

    let both_fail = HybridSolver::new(Box::new(Unreachable), Box::new(Unreachable));
    assert!(matches!(
        both_fail.sample_validated(&bqm, &FirstIsOne),
        Err(Error::Backend { .. })
    ));
}
