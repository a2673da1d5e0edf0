#!/usr/bin/env python3
"""Trains the shipped anomaly scorer on the fleet simulator's windows.

    cargo run --release --example anomaly_dataset -- --seeds 1,2,3 --out /tmp/anomaly
    pip install onnx==1.23.2 onnxruntime==1.32.0 numpy
    python3 crates/ml-inference/models/train_anomaly.py --data /tmp/anomaly

The features come from the crate itself (FeatureExtractor, default config,
5 metrics x 60 samples), so the model sees exactly what it will be fed. The
model: standardization by the training mean and std, folded into the first
layer's weights (W' = W / std, b' = b - (mean / std) W: tract 0.23's
broadcast Sub/Div took 30 of a 72 us batch-64 run, measured), a 110 -> 16
ReLU layer, one sigmoid output `score[N,1]` = P(incident). Trained
in plain numpy (Adam, full batch, class-weighted log loss, L2 1e-4, seed 0,
400 steps) on seeds 1-3; held-out seeds are judged by the Rust tests.
Writes `anomaly_scorer.onnx` and the fixture `../tests/fixtures/anomaly_scorer.json`
(onnxruntime's outputs on 37 training rows).
"""
import argparse
import json
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import make_models

HERE = pathlib.Path(__file__).resolve().parent


def load(data):
    meta = json.loads((data / "meta.json").read_text())
    f = meta["n_features"]
    x = np.fromfile(data / "features.f32", dtype="<f4").reshape(-1, f).astype(np.float64)
    y = np.fromfile(data / "labels.u8", dtype=np.uint8).astype(np.float64)
    return x, y, meta


def train(x, y, hidden=16, steps=400, lr=0.01, l2=1e-4):
    rng = np.random.default_rng(0)
    mu, sd = x.mean(0), x.std(0)
    sd[sd < 1e-9] = 1.0
    z = (x - mu) / sd
    n, f = z.shape
    w1 = rng.standard_normal((f, hidden)) * np.sqrt(2.0 / f)
    b1 = np.zeros(hidden)
    w2 = rng.standard_normal((hidden, 1)) * np.sqrt(1.0 / hidden)
    b2 = np.zeros(1)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    pos = y.mean()
    weight = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos))
    for t in range(1, steps + 1):
        h = np.maximum(z @ w1 + b1, 0)
        p = 1 / (1 + np.exp(-(h @ w2 + b2)[:, 0]))
        g = (p - y) * weight / n
        gw2 = h.T @ g[:, None] + l2 * w2
        gb2 = g.sum(keepdims=True)
        gh = g[:, None] @ w2.T * (h > 0)
        gw1 = z.T @ gh + l2 * w1
        gb1 = gh.sum(0)
        for i, gr in enumerate((gw1, gb1, gw2, gb2)):
            m[i] = 0.9 * m[i] + 0.1 * gr
            v[i] = 0.999 * v[i] + 0.001 * gr * gr
            params[i] -= lr * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
        if t % 100 == 0:
            loss = -(weight * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))).sum() / n
            print(f"step {t}: weighted log loss {loss:.4f}")
    return mu, sd, params


def export(mu, sd, params, n_features):
    w1, b1, w2, b2 = params
    w1f = (w1 / sd[:, None]).astype(np.float32)
    b1f = (b1 - (mu / sd) @ w1).astype(np.float32)
    inits = [
        numpy_helper.from_array(w1f, "w1"), numpy_helper.from_array(b1f, "b1"),
        numpy_helper.from_array(w2.astype(np.float32), "w2"), numpy_helper.from_array(b2.astype(np.float32), "b2"),
    ]
    nodes = [
        helper.make_node("Gemm", ["features", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["score"]),
    ]
    g = helper.make_graph(
        nodes, "anomaly_scorer",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", n_features])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        inits,
    )
    return make_models.save(g, "anomaly_scorer")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=pathlib.Path, required=True)
    args = ap.parse_args()
    x, y, meta = load(args.data)
    print(f"{len(y)} rows, {int(y.sum())} incident, {meta['n_features']} features, seeds {meta['seeds']}")
    mu, sd, params = train(x, y)
    path = export(mu, sd, params, meta["n_features"])
    rows = x[:37].astype(np.float32)
    make_models.fixture(path, lambda n: {"features": rows[:n]}, (1, 37))
    print(path.name, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
