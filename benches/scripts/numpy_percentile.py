#!/usr/bin/env python3
"""numpy.percentile(a, [50, 90, 95, 99]) against novacron-percentile
(`Percentiles::percentiles`, method linear, single thread below 2e6 values),
alternately on the same data in one invocation (see peer.py): splitmix64
uniform f64 in [-300, 700), seed 42, the data of the criterion group
`quantiles` of benches/percentile.rs.

    python3 -m pip install numpy
    python3 benches/scripts/numpy_percentile.py [--rounds 11]

Prints CSV (peer.HEADER): ratio = numpy time / our time per round; its median
and spread over the rounds.
"""
import argparse

import numpy as np

from peer import HEADER, Ours, interleave, median_call, row


def uniform(n, seed):
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53 * 1000.0 - 300.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    args = ap.parse_args()
    ours = Ours()
    print(f"# numpy {np.__version__}")
    print(HEADER)
    for n in [1_000, 10_000, 100_000, 1_000_000, 10_000_000]:
        a = uniform(n, 42)
        ours.load("a", a)
        reps = max(1, min(100, 1_000_000 // n))
        s = interleave(
            args.rounds,
            lambda: ours.time(f"percentile a {reps}"),
            lambda: median_call(lambda: np.percentile(a, [50, 90, 95, 99]), reps),
        )
        row("percentile_4q", "numpy", n, s)
    ours.close()


if __name__ == "__main__":
    main()
