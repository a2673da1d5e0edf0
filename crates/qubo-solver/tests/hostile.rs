//! Every public entry point driven with arbitrary and extreme values
//! (indices out of range, NaN and infinite coefficients, i64 extremes,
//! `usize::MAX` sizes, `Duration::MAX`, states of the wrong length): each
//! returns `Ok` or a typed `Err`, never panics, and never allocates what the
//! input does not justify. The instance readers and the placement encoder
//! are driven the same way by the `qubo_parsers` and `qubo_placement` fuzz
//! targets (`fuzz/`).

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::time::Duration;

use novacron_qubo_solver::{
    Bqm, EncoderConfig, Error, ExactSolver, FlipState, HostSpec, HybridSolver, ParallelTempering,
    PlacementProblem, Schedule, SimulatedAnnealing, TabuSearch, Vartype, VmDemand,
};
use proptest::prelude::*;

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        Just(2),
        3usize..40,
        Just(1 << 26),
        Just((1 << 26) + 1),
        Just(usize::MAX),
        any::<usize>(),
    ]
}

fn coefficient() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0f64..10.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::MAX),
        1 => Just(5e-324),
        1 => any::<f64>(),
    ]
}

fn int_coefficient() -> impl Strategy<Value = i64> {
    prop_oneof![4 => -10i64..10, 1 => Just(i64::MAX), 1 => Just(i64::MIN), 1 => any::<i64>()]
}

fn vartype() -> impl Strategy<Value = Vartype> {
    prop_oneof![Just(Vartype::Binary), Just(Vartype::Spin)]
}

type Terms<T> = Vec<(usize, usize, T)>;

/// A model with up to 12 variables and terms at any index (out of range
/// ones are refused one by one).
fn model<T: novacron_qubo_solver::Coefficient + std::fmt::Debug>(
    vartype: Vartype,
    n: usize,
    terms: &Terms<T>,
) -> Bqm<T> {
    let mut bqm = Bqm::with_variables(n, vartype).expect("small");
    for &(i, j, b) in terms {
        let _ = if i == j {
            bqm.add_linear(i, b)
        } else {
            bqm.add_quadratic(i, j, b)
        };
        let _ = bqm.set_linear(j, b);
        let _ = bqm.quadratic(i, j);
        let _ = bqm.linear(i);
        let _ = bqm.add_offset(b);
    }
    bqm
}

fn terms_f64() -> impl Strategy<Value = Terms<f64>> {
    prop::collection::vec((0usize..14, 0usize..14, coefficient()), 0..30)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn models_refuse_bad_indices_sizes_and_coefficients(
        vartype in vartype(),
        n in size(),
        terms in terms_f64(),
        int_terms in prop::collection::vec((0usize..14, 0usize..14, int_coefficient()), 0..30),
        state in prop::collection::vec(any::<i8>(), 0..14),
    ) {
        match Bqm::<f64>::with_variables(n, vartype) {
            Ok(b) => prop_assert!(n <= Bqm::<f64>::MAX_VARIABLES && b.num_variables() == n),
            Err(e) => prop_assert!(matches!(e, Error::TooLarge { .. }), "{e}"),
        }
        let bqm = model(vartype, 12, &terms);
        let _ = (bqm.energy(&state), bqm.check_state(&state), bqm.density(), bqm.neighbors(13).is_err());
        let _ = (bqm.to_ising(), bqm.to_qubo(), bqm.to_f64(), bqm.change_vartype(Vartype::Spin));
        let ints = model(vartype, 12, &int_terms);
        let _ = (ints.energy(&state), ints.to_ising().and_then(|m| m.to_qubo()), ints.to_f64());
        if let Ok(mut flip) = FlipState::new(&ints, state.clone()) {
            for i in [0, 5, 11, 12, usize::MAX] {
                let _ = flip.delta(i);
                let _ = flip.flip(i);
            }
            let _ = flip.energy();
        }
    }

    #[test]
    fn samplers_refuse_extreme_parameters_or_stop_in_time(
        terms in terms_f64(),
        reads in size(),
        sweeps in size(),
        replicas in size(),
        tenure in size(),
        keep in size(),
        beta in (coefficient(), coefficient()),
        target in coefficient(),
        iterations in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
        limit in prop_oneof![Just(Duration::MAX), Just(Duration::ZERO), Just(Duration::from_millis(3))],
        wrong_state in prop::collection::vec(any::<i8>(), 0..20),
    ) {
        let bqm = model(Vartype::Binary, 12, &terms);
        // Every run stops by itself within milliseconds: huge budgets meet a
        // short time limit, and a limit of Duration::MAX never overflows.
        let short = Duration::from_millis(3);
        let ok_or_typed = |r: Result<novacron_qubo_solver::SampleSet<f64>, Error>| match r {
            Ok(set) => assert!(!set.is_empty()),
            Err(e) => assert!(!e.to_string().is_empty()),
        };
        ok_or_typed(SimulatedAnnealing::new().num_reads(reads).num_sweeps(sweeps).time_limit(short).sample(&bqm));
        ok_or_typed(SimulatedAnnealing::new().num_reads(2).num_sweeps(50).beta_range(beta.0, beta.1).energy_target(target).time_limit(limit).sample(&bqm));
        ok_or_typed(SimulatedAnnealing::new().num_reads(1).schedule(Schedule::Custom(vec![beta.0, beta.1])).sample(&bqm));
        ok_or_typed(ParallelTempering::new().num_reads(2).num_replicas(replicas).num_sweeps(sweeps).time_limit(short).sample(&bqm));
        ok_or_typed(TabuSearch::new().num_reads(2).tenure(tenure).iterations(iterations).stagnation(iterations).time_limit(short).sample(&bqm));
        ok_or_typed(TabuSearch::new().num_reads(1).iterations(100).initial_states(vec![wrong_state.clone()]).sample(&bqm));
        ok_or_typed(ExactSolver::new().keep(keep).sample(&bqm));
        ok_or_typed(ExactSolver::new().sample(&model(Vartype::Spin, 31, &terms)));
        let _ = HybridSolver::<f64>::classical();
    }

    #[test]
    fn placement_entry_points_refuse_malformed_problems_and_configs(
        demands in prop::collection::vec(prop::collection::vec(prop_oneof![0u64..8, Just(u64::MAX)], 0..3), 0..6),
        hosts in prop::collection::vec((prop::collection::vec(prop_oneof![0u64..16, Just(u64::MAX)], 0..3), coefficient()), 0..4),
        pairs in prop::collection::vec((0usize..8, 0usize..8), 0..3),
        balance in coefficient(),
        penalty in prop::option::of(coefficient()),
        host_of in prop::collection::vec(prop::option::of(0usize..6), 0..8),
    ) {
        let p = PlacementProblem {
            vms: demands.into_iter().map(|demand| VmDemand { demand }).collect(),
            hosts: hosts.into_iter().map(|(capacity, cost)| HostSpec { capacity, cost }).collect(),
            affinity: pairs.clone(),
            anti_affinity: pairs.into_iter().rev().collect(),
        };
        let config = EncoderConfig::default().host_costs(balance > 0.0).balance_weight(balance).penalty(penalty);
        let _ = p.validate();
        let _ = p.violations(&host_of);
        let placement = p.placement(host_of.iter().map(|h| h.unwrap_or(usize::MAX)).collect());
        let _ = p.objective(&placement, &config);
        let _ = p.improve(&placement);
        let _ = p.first_fit_decreasing();
        let _ = p.best_fit_decreasing();
        if let Ok(enc) = p.encode(&config) {
            let zeros = vec![0i8; enc.bqm().num_variables()];
            if let Ok(decoded) = enc.decode(&zeros) {
                let _ = enc.repair(&decoded);
            }
            let _ = enc.decode(&[1, 2, 3]);
            let _ = enc.encode_placement(&placement);
        }
    }
}
