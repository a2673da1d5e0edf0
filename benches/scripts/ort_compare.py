#!/usr/bin/env python3
"""onnxruntime against novacron-ml-inference (tract), alternately on the
same models and inputs in one invocation (see peer.py): per model, batch 1,
8, 64 and 256, single thread each side.

    python3 -m pip install numpy onnxruntime==1.32.0
    python3 benches/scripts/ort_compare.py [--rounds 11]

Ours is `Model::run` (default batch classes 1/8/32/128/256: 8, 64 and 256
run on a concrete plan of that size or a split into them) timed inside the
Rust process; the peer is `InferenceSession.run` with
`intra_op_num_threads=1`, `inter_op_num_threads=1`, timed inside Python, so
its batch-1 time includes the Python call (about a microsecond or two of
binding overhead on this machine). Prints CSV (peer.HEADER); size is the
batch; ratio > 1: ours is faster.
"""
import argparse
from pathlib import Path

import numpy as np
import onnxruntime as ort

from peer import HEADER, ROOT, Ours, interleave, median_call, row

MODELS = ROOT / "crates" / "ml-inference" / "models"
# name -> (shape with N for the batch)
SHAPES = {
    "anomaly_scorer": ("N", 110),
    "mlp_wide": ("N", 256),
    "cnn1d": ("N", 5, 60),
    "lstm_forecaster": (12, "N", 5),
    "attention": ("N", 16, 32),
}
BATCHES = [1, 8, 64, 256]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--models", default=",".join(SHAPES))
    args = ap.parse_args()
    ours = Ours()
    print(f"# onnxruntime {ort.__version__}, numpy {np.__version__}")
    print(HEADER)
    rng = np.random.default_rng(7)
    for name in args.models.split(","):
        path = MODELS / f"{name}.onnx"
        ours.ask(f"model {name} {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        input_name = sess.get_inputs()[0].name
        for n in BATCHES:
            shape = tuple(n if d == "N" else d for d in SHAPES[name])
            x = rng.standard_normal(shape).astype(np.float32)
            ours.load("x", x)
            dims = ",".join(str(d) for d in shape)
            reps = max(1, min(2000, 20000 // n))
            feed = {input_name: x}
            s = interleave(
                args.rounds,
                lambda: ours.time(f"infer {name} x {dims} {reps}"),
                lambda: median_call(lambda: sess.run(None, feed), reps),
            )
            row(f"infer_{name}", "onnxruntime", n, s)
    ours.close()


if __name__ == "__main__":
    main()
