#!/usr/bin/env python3
"""Reference features from numpy/scipy for `tests/features.rs`.

    pip install numpy scipy
    python3 crates/ml-inference/models/make_feature_fixture.py

Random windows (seed 1) of 60 and 37 samples (an odd length for the FFT),
five metric rows each; features per row in the crate's order with its default
configuration: mean, std, min, max, quantiles 0.05/0.5/0.95 (np.quantile,
linear), skew, kurtosis (scipy biased, Fisher), lags 1/5/15, last diff, mean
|diff|, rolling mean/std of the last 10, max rolling mean, slope
(np.polyfit), 4 band energies of rfft(x - mean) (|X|^2 / n over bins
1..=n/2, np.array_split).
"""
import json
import pathlib

import numpy as np
from scipy import stats

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "features.json"
LAGS, ROLL, QS, BANDS = (1, 5, 15), 10, (0.05, 0.5, 0.95), 4


def row_features(x):
    n = len(x)
    f = [x.mean(), x.std(), x.min(), x.max()]
    f += [np.quantile(x, q) for q in QS]
    f += [stats.skew(x), stats.kurtosis(x)]
    f += [x[n - 1 - k] for k in LAGS]
    d = np.diff(x)
    f += [d[-1], np.abs(d).mean()]
    tail = x[-ROLL:]
    f += [tail.mean(), tail.std()]
    roll = np.convolve(x, np.ones(ROLL), "valid") / ROLL
    f += [roll.max()]
    f += [np.polyfit(np.arange(n, dtype=np.float64), x, 1)[0]]
    power = np.abs(np.fft.rfft(x - x.mean())) ** 2 / n
    bins = np.arange(1, n // 2 + 1)
    f += [power[b].sum() for b in np.array_split(bins, BANDS)]
    return [float(v) for v in f]


def main():
    rng = np.random.default_rng(1)
    cases = []
    for n in (60, 37):
        for _ in range(12):
            t = np.arange(n)
            rows = [
                40 + 20 * np.sin(t / rng.uniform(2, 9)) + rng.normal(0, 3, n),
                rng.uniform(0, 100, n),
                50 + np.cumsum(rng.normal(0, 1, n)),
                rng.lognormal(2, 0.9, n),
                np.where(rng.random(n) < 0.1, 95.0, 20.0) + rng.normal(0, 0.5, n),
            ]
            window = np.array(rows)
            cases.append({
                "n_samples": n,
                "window": window.ravel().tolist(),
                "features": [v for r in window for v in row_features(r)],
            })
    OUT.write_text(json.dumps({"cases": cases}))


if __name__ == "__main__":
    main()
