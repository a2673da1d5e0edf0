//! Criterion suite of novacron-qubo-solver on the OR-Library dev instances:
//!
//! - `sweeps/{simulated_annealing, parallel_tempering}/{instance}`: one read of
//!   1,000 Metropolis sweeps (tempering: 1,000 sweeps over 4 replicas),
//!   single-threaded; throughput is in sweeps (one sweep = n flip attempts).
//!   dwave-samplers' `SimulatedAnnealingSampler` at the same sweeps is timed
//!   by `benches/scripts/dwave_qubo.py`.
//! - `time_to_target/{tabu, simulated_annealing, parallel_tempering}/{instance}`:
//!   two parallel reads until the best-known value is reached.
//! - `tabu_iterations/tabu/{instance}`: 100,000 tabu iterations, one read.
//!
//! Run: `cargo bench --bench qubo` (add `-- sweeps` to run one group).

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use novacron_qubo_solver::{Bqm, ParallelTempering, SimulatedAnnealing, TabuSearch, read_beasley};

const INSTANCES: [(&str, usize, i64); 3] = [
    ("bqp100", 1, 7970),
    ("bqp250", 1, 45607),
    ("bqp250", 5, 47961),
];

fn instance(stem: &str, k: usize) -> Bqm<i64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("data/qubo/{stem}.txt"));
    let file = std::fs::File::open(&path).expect("the OR-Library files live in data/qubo");
    let mut models = read_beasley(std::io::BufReader::new(file)).expect("a valid instance file");
    models.swap_remove(k - 1)
}

fn sweeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweeps");
    for &(stem, k, _) in &INSTANCES {
        let bqm = instance(stem, k);
        let name = format!("{stem}-{k}");
        group.throughput(Throughput::Elements(1000));
        let sa = SimulatedAnnealing::new()
            .num_reads(1)
            .num_sweeps(1000)
            .descend(false)
            .seed(1);
        group.bench_function(BenchmarkId::new("simulated_annealing", &name), |b| {
            b.iter(|| black_box(sa.sample(&bqm).expect("valid parameters")))
        });
        group.throughput(Throughput::Elements(4000));
        let pt = ParallelTempering::new()
            .num_reads(1)
            .num_replicas(4)
            .num_sweeps(1000)
            .seed(1);
        group.bench_function(BenchmarkId::new("parallel_tempering", &name), |b| {
            b.iter(|| black_box(pt.sample(&bqm).expect("valid parameters")))
        });
    }
    group.finish();
}

fn tabu_iterations(c: &mut Criterion) {
    let mut group = c.benchmark_group("tabu_iterations");
    for &(stem, k, _) in &INSTANCES {
        let bqm = instance(stem, k);
        group.throughput(Throughput::Elements(100_000));
        let tabu = TabuSearch::new().num_reads(1).iterations(100_000).seed(1);
        group.bench_function(BenchmarkId::new("tabu", format!("{stem}-{k}")), |b| {
            b.iter(|| black_box(tabu.sample(&bqm).expect("valid parameters")))
        });
    }
    group.finish();
}

fn time_to_target(c: &mut Criterion) {
    let mut group = c.benchmark_group("time_to_target");
    for &(stem, k, best) in &INSTANCES {
        let bqm = instance(stem, k);
        let name = format!("{stem}-{k}");
        let target = -best as f64;
        let mut seed = 0u64;
        let check = |energy: Option<i64>| {
            assert_eq!(energy, Some(-best), "{name} missed its best-known value")
        };
        group.bench_function(BenchmarkId::new("tabu", &name), |b| {
            b.iter(|| {
                seed += 1;
                let s = TabuSearch::new()
                    .num_reads(2)
                    .iterations(u64::MAX)
                    .energy_target(target)
                    .seed(seed);
                let set = s.sample(&bqm).expect("valid parameters");
                check(set.lowest_energy());
            })
        });
        group.bench_function(BenchmarkId::new("simulated_annealing", &name), |b| {
            b.iter(|| {
                seed += 1;
                let s = SimulatedAnnealing::new()
                    .num_reads(64)
                    .energy_target(target)
                    .seed(seed);
                let set = s.sample(&bqm).expect("valid parameters");
                check(set.lowest_energy());
            })
        });
        group.bench_function(BenchmarkId::new("parallel_tempering", &name), |b| {
            b.iter(|| {
                seed += 1;
                let s = ParallelTempering::new()
                    .num_reads(16)
                    .energy_target(target)
                    .seed(seed);
                let set = s.sample(&bqm).expect("valid parameters");
                check(set.lowest_energy());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sweeps, tabu_iterations, time_to_target);
criterion_main!(benches);
