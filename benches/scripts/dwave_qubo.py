#!/usr/bin/env python3
"""D-Wave's dwave-samplers against novacron-qubo-solver on the OR-Library
instances of data/qubo/, alternately in one invocation (see peer.py).

    pip install dwave-samplers          # dimod 0.12, dwave-samplers 1.8 measured
    python3 benches/scripts/dwave_qubo.py [--dir data/qubo] [--time-ms 20] [--rounds 11]

Prints two tables:

* sweep time: one read of 10,000 geometric sweeps, single thread, no
  polish — ours (`SimulatedAnnealing`, descend off) and dwave's
  `SimulatedAnnealingSampler`, ABAB for --rounds rounds on bqp100-1,
  bqp250-1 and bqp250-5 (CSV as peer.HEADER; ratio = dwave time / ours).
* equal wall time: per instance, ours then dwave: tabu (one read under a
  time limit; dwave `timeout`) and SA (single-threaded reads of 1,000 sweeps
  until the time is used); value = maximized x^T Q x of the best sample.

The instance reader mirrors novacron_qubo_solver::read_beasley: a line
`i j q` with i != j contributes 2q x_i x_j (see data/qubo/README.md).
"""

import argparse
import time
from pathlib import Path

import dimod
from dwave.samplers import SimulatedAnnealingSampler, TabuSampler

from peer import HEADER, Ours, interleave, median_call, row


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
    ap.add_argument("--rounds", type=int, default=11)
    args = ap.parse_args()
    d = Path(args.dir).resolve()
    instances = []
    for stem in ["bqp50", "bqp100", "bqp250"]:
        for k, bqm in enumerate(read_beasley(d / f"{stem}.txt")):
            instances.append((f"{stem}-{k + 1}", d / f"{stem}.txt", k + 1, bqm))
    best_known = {}
    for line in (d / "best_known.csv").read_text().splitlines()[1:]:
        name, value = line.split(",")[:2]
        best_known[name] = int(value)

    ours = Ours()
    sa = SimulatedAnnealingSampler()
    tabu = TabuSampler()
    print("# sweep time: one read of 10,000 geometric sweeps, single thread")
    print(HEADER)
    for name, path, k, bqm in instances:
        if name not in ("bqp100-1", "bqp250-1", "bqp250-5"):
            continue

        def dwave():
            sa.sample(bqm, num_reads=1, num_sweeps=10_000, beta_schedule_type="geometric", seed=1)

        s = interleave(
            args.rounds,
            lambda: ours.time(f"sa {path} {k} 10000 3"),
            lambda: median_call(dwave, 3),
        )
        row("sa_10000_sweeps", "dwave-samplers", name, s)

    print(f"# equal wall time: {args.time_ms} ms per instance and solver, ours then dwave")
    print("instance,solver,ours_value,dwave_value,best_known")
    limit = args.time_ms / 1000
    for name, path, k, bqm in instances:
        known = best_known[name]
        mine = int(ours.ask(f"best {path} {k} tabu {args.time_ms}"))
        res = tabu.sample(bqm, num_reads=1, timeout=args.time_ms, seed=1)
        theirs = -int(round(res.first.energy))
        print(f"{name},tabu,{mine},{theirs},{known}", flush=True)
        mine = int(ours.ask(f"best {path} {k} sa {args.time_ms}"))
        t = time.perf_counter()
        best = None
        seed = 1
        while time.perf_counter() - t < limit:
            res = sa.sample(bqm, num_reads=1, num_sweeps=1000, seed=seed)
            seed += 1
            e = res.first.energy
            best = e if best is None else min(best, e)
        print(f"{name},sa,{mine},{-int(round(best))},{known}", flush=True)
    ours.close()


if __name__ == "__main__":
    main()
