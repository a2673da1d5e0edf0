#!/usr/bin/env python3
"""Times numpy (sum, dot, a fused-stats equivalent, histogram, squared L2)
and simsimd (dot, sqeuclidean) on the sizes of benches/simd.rs, for the
side-by-side in docs/benchmarks.md. Bytes are the bytes of all inputs read.

    python3 -m pip install numpy simsimd
    python3 benches/scripts/numpy_simd.py

Prints CSV: kernel,implementation,elements,bytes,median_seconds,gb_per_s
"""
import time

import numpy as np

try:
    import simsimd
except ImportError:  # simsimd is optional: numpy rows still print
    simsimd = None

SIZES_BYTES = [4 << 10, 256 << 10, 4 << 20, 256 << 20]


def data(n, seed):
    i = np.arange(n, dtype=np.uint32)
    with np.errstate(over="ignore"):
        v = (i * np.uint32(2654435761) + np.uint32(seed)) >> np.uint32(8)
    return (v.astype(np.float32) * np.float32(1e-4) - np.float32(500.0)).astype(np.float32)


def median_time(fn, budget_s=1.0):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget_s and len(times) < 10_000):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def row(kernel, impl, n, nbytes, fn):
    t = median_time(fn)
    print(f"{kernel},{impl},{n},{nbytes},{t:.9f},{nbytes / t / 1e9:.2f}", flush=True)


def main():
    print(f"# numpy {np.__version__}, simsimd {getattr(simsimd, '__version__', 'absent')}")
    print("kernel,implementation,elements,bytes,median_seconds,gb_per_s")
    for nbytes in SIZES_BYTES:
        x = data(nbytes // 4, 1)
        row("sum_f32", "numpy", x.size, nbytes, lambda: x.sum())
        a, b = data(nbytes // 8, 1), data(nbytes // 8, 2)
        row("dot_f32", "numpy", a.size, nbytes, lambda: np.dot(a, b))
        if simsimd is not None:
            row("dot_f32", "simsimd", a.size, nbytes, lambda: simsimd.dot(a, b))
            row("l2_f32", "simsimd", a.size, nbytes, lambda: simsimd.sqeuclidean(a, b))
        row("l2_f32", "numpy", a.size, nbytes, lambda: np.dot(a - b, a - b))
        d = data(nbytes // 8, 3).astype(np.float64)
        row("stats_f64", "numpy", d.size, nbytes, lambda: (d.mean(), d.var(), d.min(), d.max()))
        row("histogram", "numpy", x.size, nbytes, lambda: np.histogram(x, bins=64, range=(-500.0, 1200.0)))


if __name__ == "__main__":
    main()
