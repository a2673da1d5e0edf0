//! Shared helpers: random models, brute force, instance paths.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use novacron_qubo_solver::{Bqm, Coefficient, Vartype};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// A random integer model with about `density` of the pairs set.
pub fn random_int(n: usize, density: f64, vartype: Vartype, seed: u64) -> Bqm<i64> {
    let mut r = rng(seed);
    let mut bqm = Bqm::with_variables(n, vartype).unwrap();
    for i in 0..n {
        bqm.set_linear(i, r.random_range(-20..=20)).unwrap();
        for j in i + 1..n {
            if r.random_bool(density) {
                bqm.set_quadratic(i, j, r.random_range(-20..=20)).unwrap();
            }
        }
    }
    bqm.add_offset(r.random_range(-50..=50)).unwrap();
    bqm
}

/// A random float model.
pub fn random_f64(n: usize, density: f64, vartype: Vartype, seed: u64) -> Bqm<f64> {
    let mut r = rng(seed);
    let mut bqm = Bqm::with_variables(n, vartype).unwrap();
    for i in 0..n {
        bqm.set_linear(i, r.random_range(-1.0..1.0)).unwrap();
        for j in i + 1..n {
            if r.random_bool(density) {
                bqm.set_quadratic(i, j, r.random_range(-1.0..1.0)).unwrap();
            }
        }
    }
    bqm.add_offset(r.random_range(-1.0..1.0)).unwrap();
    bqm
}

/// State number `k` of `n` variables in the vartype (bit i of k is variable i).
pub fn state(k: u64, n: usize, vartype: Vartype) -> Vec<i8> {
    (0..n)
        .map(|i| {
            let bit = (k >> i & 1) as i8;
            match vartype {
                Vartype::Spin => 2 * bit - 1,
                // Binary, and any vartype added later counts from 0.
                _ => bit,
            }
        })
        .collect()
}

/// The lowest energy over all 2ⁿ states, by plain enumeration with `Bqm::energy`.
pub fn brute_force_min<T: Coefficient>(bqm: &Bqm<T>) -> T {
    let n = bqm.num_variables();
    let mut best = bqm.energy(&state(0, n, bqm.vartype())).unwrap();
    for k in 1..1u64 << n {
        let e = bqm.energy(&state(k, n, bqm.vartype())).unwrap();
        if e < best {
            best = e;
        }
    }
    best
}

/// `data/qubo` at the workspace root.
pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/qubo")
}
