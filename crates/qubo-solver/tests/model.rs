//! The model: energies, conversions, incremental deltas and bad input.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod common;

use common::{random_f64, random_int, state};
use novacron_qubo_solver::{Bqm, Error, FlipState, Storage, Vartype};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn conversions_preserve_the_energy_of_every_state(n in 0usize..=12, density in 0.0f64..1.0, seed: u64) {
        let binary = random_f64(n, density, Vartype::Binary, seed);
        let spin = binary.to_ising().unwrap();
        let back = spin.to_qubo().unwrap();
        for k in 0..1u64 << n {
            let e = binary.energy(&state(k, n, Vartype::Binary)).unwrap();
            let es = spin.energy(&state(k, n, Vartype::Spin)).unwrap();
            let eb = back.energy(&state(k, n, Vartype::Binary)).unwrap();
            prop_assert!((e - es).abs() <= 1e-9 * (1.0 + e.abs()), "{e} vs {es}");
            prop_assert!((e - eb).abs() <= 1e-9 * (1.0 + e.abs()));
        }
    }

    #[test]
    fn integer_spin_to_binary_is_exact(n in 0usize..=12, density in 0.0f64..1.0, seed: u64) {
        let spin = random_int(n, density, Vartype::Spin, seed);
        let binary = spin.to_qubo().unwrap();
        for k in 0..1u64 << n {
            prop_assert_eq!(
                spin.energy(&state(k, n, Vartype::Spin)).unwrap(),
                binary.energy(&state(k, n, Vartype::Binary)).unwrap()
            );
        }
        // And back, since every binary coefficient of a converted spin model is even enough.
        let again = binary.to_ising().unwrap();
        for k in 0..1u64 << n {
            prop_assert_eq!(
                spin.energy(&state(k, n, Vartype::Spin)).unwrap(),
                again.energy(&state(k, n, Vartype::Spin)).unwrap()
            );
        }
    }

    #[test]
    fn flip_deltas_equal_energy_differences(n in 1usize..=16, density in 0.0f64..1.0, seed: u64, flips in proptest::collection::vec(0usize..16, 0..40), spin: bool) {
        let vartype = if spin { Vartype::Spin } else { Vartype::Binary };
        let bqm = random_int(n, density, vartype, seed);
        let mut s = FlipState::new(&bqm, state(seed, n, vartype)).unwrap();
        for i in flips.into_iter().map(|i| i % n) {
            let before = s.energy();
            let delta = s.delta(i).unwrap();
            s.flip(i).unwrap();
            prop_assert_eq!(s.energy(), before + delta);
            prop_assert_eq!(s.energy(), bqm.energy(s.state()).unwrap());
        }
    }
}

#[test]
fn terms_accumulate_and_are_symmetric() {
    let mut bqm = Bqm::<i64>::with_variables(3, Vartype::Binary).unwrap();
    bqm.add_quadratic(0, 2, 3).unwrap();
    bqm.add_quadratic(2, 0, 4).unwrap();
    bqm.add_linear(1, -2).unwrap();
    bqm.add_offset(5).unwrap();
    assert_eq!(bqm.quadratic(0, 2).unwrap(), Some(7));
    assert_eq!(bqm.quadratic(2, 0).unwrap(), Some(7));
    assert_eq!(bqm.quadratic(0, 1).unwrap(), None);
    assert_eq!(bqm.num_interactions(), 1);
    assert_eq!(bqm.interactions().collect::<Vec<_>>(), vec![(0, 2, 7)]);
    assert_eq!(bqm.energy(&[1, 1, 1]).unwrap(), 7 - 2 + 5);
    bqm.set_quadratic(0, 2, -1).unwrap();
    assert_eq!(bqm.energy(&[1, 0, 1]).unwrap(), -1 + 5);
    assert_eq!(bqm.add_variable().unwrap(), 3);
    assert_eq!(bqm.num_variables(), 4);
}

#[test]
fn storage_follows_density() {
    assert_eq!(
        random_f64(40, 0.05, Vartype::Binary, 1).preferred_storage(),
        Storage::Sparse
    );
    assert_eq!(
        random_f64(40, 0.9, Vartype::Binary, 1).preferred_storage(),
        Storage::Dense
    );
}

#[test]
fn bad_terms_are_errors() {
    let mut bqm = Bqm::<f64>::with_variables(2, Vartype::Binary).unwrap();
    assert_eq!(
        bqm.add_linear(2, 1.0),
        Err(Error::IndexOutOfRange {
            index: 2,
            num_variables: 2
        })
    );
    assert_eq!(
        bqm.add_quadratic(0, 5, 1.0),
        Err(Error::IndexOutOfRange {
            index: 5,
            num_variables: 2
        })
    );
    assert_eq!(
        bqm.add_quadratic(1, 1, 1.0),
        Err(Error::SelfLoop { index: 1 })
    );
    assert!(matches!(
        bqm.add_linear(0, f64::NAN),
        Err(Error::NonFiniteCoefficient { .. })
    ));
    assert!(matches!(
        bqm.add_quadratic(0, 1, f64::INFINITY),
        Err(Error::NonFiniteCoefficient { .. })
    ));
    assert!(matches!(
        bqm.add_offset(f64::NEG_INFINITY),
        Err(Error::NonFiniteCoefficient { .. })
    ));
    bqm.add_linear(0, f64::MAX).unwrap();
    assert!(matches!(
        bqm.add_linear(0, f64::MAX),
        Err(Error::NonFiniteCoefficient { .. })
    ));
    // Nothing was changed by the failed calls.
    assert_eq!(bqm.num_interactions(), 0);
    assert_eq!(bqm.linear(0).unwrap(), f64::MAX);
}

#[test]
fn integer_overflow_is_an_error_not_a_wrap() {
    let mut bqm = Bqm::<i64>::with_variables(2, Vartype::Binary).unwrap();
    bqm.add_linear(0, i64::MAX).unwrap();
    assert_eq!(
        bqm.add_linear(0, 1),
        Err(Error::Overflow {
            what: "a linear bias"
        })
    );
    bqm.add_linear(1, 1).unwrap();
    assert_eq!(
        bqm.energy(&[1, 1]),
        Err(Error::Overflow { what: "the energy" })
    );
    assert_eq!(bqm.energy(&[1, 0]).unwrap(), i64::MAX);
    let mut spin = Bqm::<i64>::with_variables(1, Vartype::Spin).unwrap();
    spin.add_linear(0, i64::MAX).unwrap();
    assert!(matches!(spin.to_qubo(), Err(Error::Overflow { .. })));
}

#[test]
fn integer_binary_to_spin_needs_quarters() {
    let mut bqm = Bqm::<i64>::with_variables(2, Vartype::Binary).unwrap();
    bqm.add_quadratic(0, 1, 2).unwrap();
    assert_eq!(bqm.to_ising(), Err(Error::InexactConversion));
    let spin = bqm.to_f64().to_ising().unwrap();
    assert_eq!(spin.quadratic(0, 1).unwrap(), Some(0.5));
    bqm.set_quadratic(0, 1, 4).unwrap();
    bqm.add_linear(0, 2).unwrap();
    bqm.add_linear(1, 2).unwrap();
    let exact = bqm.to_ising().unwrap();
    for k in 0..4 {
        assert_eq!(
            exact.energy(&state(k, 2, Vartype::Spin)).unwrap(),
            bqm.energy(&state(k, 2, Vartype::Binary)).unwrap()
        );
    }
}

#[test]
fn bad_states_are_errors() {
    let bqm = Bqm::<f64>::with_variables(2, Vartype::Spin).unwrap();
    assert!(matches!(bqm.energy(&[1]), Err(Error::InvalidState { .. })));
    let err = bqm.energy(&[1, 0]).unwrap_err();
    assert!(
        err.to_string()
            .contains("value 0 of variable 1 is not SPIN"),
        "{err}"
    );
    assert!(matches!(
        FlipState::new(&bqm, vec![1, 1]).unwrap().flip(2),
        Err(Error::IndexOutOfRange { .. })
    ));
}

#[test]
fn an_empty_model_has_its_offset_as_energy() {
    let mut bqm = Bqm::<i64>::new(Vartype::Binary);
    bqm.add_offset(-3).unwrap();
    assert_eq!(bqm.energy(&[]).unwrap(), -3);
    assert_eq!(bqm.to_ising().unwrap().energy(&[]).unwrap(), -3);
    assert_eq!(bqm.density(), 0.0);
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Bqm<f64>>();
    check::<Bqm<i64>>();
    check::<novacron_qubo_solver::SampleSet<i64>>();
    check::<novacron_qubo_solver::SimulatedAnnealing>();
    check::<novacron_qubo_solver::TabuSearch>();
    check::<novacron_qubo_solver::HybridSolver<f64>>();
    check::<novacron_qubo_solver::Encoding>();
    check::<Error>();
}
