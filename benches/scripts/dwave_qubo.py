#!/usr/bin/env python3
"""D-Wave's dwave-samplers on the same OR-Library instances as benches/qubo.rs
and examples/qubo_bench.rs, for side-by-side ratios in one session.

    pip install dwave-samplers          # dimod 0.12, dwave-samplers 1.8 measured
    python3 benches/scripts/dwave_qubo.py [--dir data/qubo] [--time-ms 20]

Prints two tables:

* sweep throughput: SimulatedAnnealingSampler, one read of 10,000 geometric
  sweeps (single-threaded C++), median of 5 runs, in sweeps/s. Compare with
  `sweeps/simulated_annealing/<instance>` of `cargo bench --bench qubo`.
* equal wall time: TabuSampler (one read, `timeout` = --time-ms) and
  SimulatedAnnealingSampler (reads of 1,000 sweeps repeated until the same
  time is used) on all 30 instances: value = maximized x^T Q x of the best
  sample. Compare with
  `cargo run --release --example qubo_bench -- --no-target --time-limit-s 0.02 --csv`.

The instance reader mirrors novacron_qubo_solver::io::read_beasley: a line
`i j q` with i != j contributes 2q x_i x_j (see data/qubo/README.md).
"""

import argparse
import statistics
import time
from pathlib import Path

import dimod
from dwave.samplers import SimulatedAnnealingSampler, TabuSampler


def read_beasley(path):
    tokens = path.read_text().split()
    pos = 0

    def take():
        nonlocal pos
        pos += 1
        return int(tokens[pos - 1])

    out = []
    for _ in range(take()):
        n, m = take(), take()
        linear = {i: 0 for i in range(n)}
        quadratic = {}
        for _ in range(m):
            i, j, q = take() - 1, take() - 1, take()
            if i == j:
                linear[i] -= q
            else:
                quadratic[(i, j)] = quadratic.get((i, j), 0) - 2 * q
        out.append(dimod.BinaryQuadraticModel(linear, quadratic, 0.0, dimod.BINARY))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="data/qubo")
    ap.add_argument("--time-ms", type=int, default=20)
    args = ap.parse_args()
    d = Path(args.dir)
    instances = []
    for stem in ["bqp50", "bqp100", "bqp250"]:
        for k, bqm in enumerate(read_beasley(d / f"{stem}.txt")):
            instances.append((f"{stem}-{k + 1}", bqm))
    best_known = {}
    for line in (d / "best_known.csv").read_text().splitlines()[1:]:
        name, value = line.split(",")[:2]
        best_known[name] = int(value)

    sa = SimulatedAnnealingSampler()
    tabu = TabuSampler()
    print("# sweep throughput (one read, 10,000 sweeps, median of 5)")
    print("instance,dwave_sa_sweeps_per_s")
    for name, bqm in instances:
        if name not in ("bqp100-1", "bqp250-1", "bqp250-5"):
            continue
        times = []
        for r in range(5):
            t = time.perf_counter()
            sa.sample(bqm, num_reads=1, num_sweeps=10_000, beta_schedule_type="geometric", seed=r + 1)
            times.append(time.perf_counter() - t)
        print(f"{name},{10_000 / statistics.median(times):.0f}")

    print(f"# equal wall time: {args.time_ms} ms per instance and solver")
    print("instance,solver,value,best_known,gap_pct")
    limit = args.time_ms / 1000
    for name, bqm in instances:
        known = best_known[name]
        res = tabu.sample(bqm, num_reads=1, timeout=args.time_ms, seed=1)
        value = -int(round(res.first.energy))
        print(f"{name},dwave_tabu,{value},{known},{100 * (known - value) / abs(known):.4f}")
        t = time.perf_counter()
        best = None
        seed = 1
        while time.perf_counter() - t < limit:
            res = sa.sample(bqm, num_reads=1, num_sweeps=1000, seed=seed)
            seed += 1
            e = res.first.energy
            best = e if best is None else min(best, e)
        value = -int(round(best))
        print(f"{name},dwave_sa,{value},{known},{100 * (known - value) / abs(known):.4f}")


if __name__ == "__main__":
    main()
