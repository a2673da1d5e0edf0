#!/usr/bin/env python3
"""numpy and simsimd against novacron-simd-kernels (free functions, best
level), alternately on the same data in one invocation (see peer.py): f32 sum,
dot and squared L2, f64 fused statistics (numpy: mean, var, min, max),
a 64-bin f32 histogram, at the sizes of benches/simd.rs (bytes of all inputs).

    python3 -m pip install numpy simsimd
    python3 benches/scripts/numpy_simd.py [--rounds 11]

Prints CSV (peer.HEADER); size is the bytes read. OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, where the machine sets them, slow numpy's dot: unset both
for this command only (see the env notes) to measure numpy at its best.
"""
import argparse

import numpy as np

from peer import HEADER, Ours, interleave, median_call, row

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    args = ap.parse_args()
    ours = Ours()
    print(f"# numpy {np.__version__}, simsimd {getattr(simsimd, '__version__', 'absent')}")
    print(HEADER)
    for nbytes in SIZES_BYTES:
        reps = max(1, min(2000, (16 << 20) // nbytes))
        x = data(nbytes // 4, 1)
        a, b = data(nbytes // 8, 1), data(nbytes // 8, 2)
        d = data(nbytes // 8, 3).astype(np.float64)
        for name, arr in [("x", x), ("a", a), ("b", b), ("d", d)]:
            ours.load(name, arr)
        cases = [
            ("sum_f32", "numpy", f"sum x {reps}", lambda: x.sum()),
            ("dot_f32", "numpy", f"dot a b {reps}", lambda: np.dot(a, b)),
            ("l2_f32", "numpy", f"l2 a b {reps}", lambda: np.dot(a - b, a - b)),
            ("stats_f64", "numpy", f"stats d {reps}", lambda: (d.mean(), d.var(), d.min(), d.max())),
            (
                "histogram_f32",
                "numpy",
                f"histogram x 64 -500 1200 {reps}",
                lambda: np.histogram(x, bins=64, range=(-500.0, 1200.0)),
            ),
        ]
        if simsimd is not None:
            cases += [
                ("dot_f32", "simsimd", f"dot a b {reps}", lambda: simsimd.dot(a, b)),
                ("l2_f32", "simsimd", f"l2 a b {reps}", lambda: simsimd.sqeuclidean(a, b)),
            ]
        for bench, peer, command, fn in cases:
            s = interleave(args.rounds, lambda: ours.time(command), lambda: median_call(fn, reps))
            row(bench, peer, nbytes, s)
    ours.close()


if __name__ == "__main__":
    main()
