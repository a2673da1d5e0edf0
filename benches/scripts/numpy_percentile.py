#!/usr/bin/env python3
"""Times numpy.percentile(a, [50, 90, 95, 99]) on the same data as the
criterion group `quantiles` of benches/percentile.rs (splitmix64 uniform
f64 in [-300, 700), seed 42), for the side-by-side in docs/benchmarks.md.

    python3 -m pip install numpy
    python3 benches/scripts/numpy_percentile.py

Prints one line per size: n, median seconds per call (numpy.percentile,
default method 'linear', a fresh copy each call as numpy makes), and the same
with overwrite_input=True on a pre-made copy.
"""
import time

import numpy as np


def uniform(n, seed):
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53 * 1000.0 - 300.0


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def main():
    print(f"numpy {np.__version__}")
    print("n,percentile_s,percentile_overwrite_s")
    for n in [1_000, 10_000, 100_000, 1_000_000, 10_000_000]:
        a = uniform(n, 42)
        repeat = max(5, min(200, 20_000_000 // n))
        t = median_time(lambda: np.percentile(a, [50, 90, 95, 99]), repeat)
        scratch = a.copy()

        def overwrite():
            np.copyto(scratch, a)
            np.percentile(scratch, [50, 90, 95, 99], overwrite_input=True)

        t2 = median_time(overwrite, repeat)
        print(f"{n},{t:.9f},{t2:.9f}")


if __name__ == "__main__":
    main()
