#!/usr/bin/env python3
"""Builds the crate's test models and their onnxruntime reference outputs.

    pip install onnx==1.23.2 onnxruntime==1.32.0 numpy
    python3 crates/ml-inference/models/make_models.py

Writes `cnn1d.onnx`, `lstm_forecaster.onnx`, `attention.onnx` and `mlp_wide.onnx`
next to this script (opset 17, ir_version 8, f32 weights drawn from a standard
normal x 0.1 with seed 0, each checked by `onnx.checker`), and one fixture per
model in `../tests/fixtures/<model>.json`: inputs at several batch sizes (odd
ones pad up to a batch class; the LSTM's 300 splits above the largest, 256)
with onnxruntime's outputs (CPU EP, one thread).

Also `unsupported_op.onnx` (an operator tract lacks), `int_input.onnx` (an
int64 input) and `constant_bomb.onnx` (a tiny file that would materialize
4 TiB while loading), for the error tests; they have no fixtures.

The trained anomaly scorer is made by `train_anomaly.py` (it needs features
computed by the crate from the fleet simulator).
"""
import json
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "fixtures"
RNG = np.random.default_rng(0)


def weight(name, *shape, scale=0.1):
    return numpy_helper.from_array((RNG.standard_normal(shape) * scale).astype(np.float32), name)


def save(graph, name):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="novacron")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, HERE / f"{name}.onnx")
    return HERE / f"{name}.onnx"


def cnn1d():
    """A 1-D CNN scorer over one hour of five metrics: x[N,5,60] -> y[N,1] in (0, 1)."""
    inits = [
        weight("w1", 16, 5, 5), weight("b1", 16),
        weight("w2", 16, 16, 3), weight("b2", 16),
        weight("w3", 16, 1), weight("b3", 1),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[5], pads=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[3], pads=[1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["y"]),
    ]
    g = helper.make_graph(
        nodes, "cnn1d",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5, 60])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        inits,
    )
    return save(g, "cnn1d"), lambda n: {"x": RNG.standard_normal((n, 5, 60)).astype(np.float32)}


def lstm_forecaster():
    """An LSTM forecaster: x[T,N,5] (time-major) -> next sample y[N,5].

    No initial_h / initial_c and a symbolic batch: the shape that makes tract
    panic unless the loader pins the batch."""
    h = 16
    inits = [
        weight("W", 1, 4 * h, 5), weight("R", 1, 4 * h, h), weight("B", 1, 8 * h),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axes0"),
        weight("wo", h, 5), weight("bo", 5),
    ]
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R", "B"], ["", "Y_h"], hidden_size=h),
        helper.make_node("Squeeze", ["Y_h", "axes0"], ["hN"]),
        helper.make_node("MatMul", ["hN", "wo"], ["m"]),
        helper.make_node("Add", ["m", "bo"], ["y"]),
    ]
    g = helper.make_graph(
        nodes, "lstm_forecaster",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", "N", 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
        inits,
    )
    return save(g, "lstm_forecaster"), lambda n: {"x": RNG.standard_normal((12, n, 5)).astype(np.float32)}


def attention():
    """One self-attention block: x[N,S,32] -> y[N,S,32] (LayerNorm, Q/K/V, softmax(QK^T/sqrt d) V, output projection)."""
    d = 32
    inits = [
        numpy_helper.from_array((1.0 + 0.1 * RNG.standard_normal(d)).astype(np.float32), "ln_s"),
        weight("ln_b", d),
        weight("wq", d, d), weight("wk", d, d), weight("wv", d, d), weight("wo", d, d),
        numpy_helper.from_array(np.array(1.0 / np.sqrt(d), dtype=np.float32), "scale"),
    ]
    nodes = [
        helper.make_node("LayerNormalization", ["x", "ln_s", "ln_b"], ["n"], axis=-1),
        helper.make_node("MatMul", ["n", "wq"], ["q"]),
        helper.make_node("MatMul", ["n", "wk"], ["k"]),
        helper.make_node("MatMul", ["n", "wv"], ["v"]),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["s"]),
        helper.make_node("Mul", ["s", "scale"], ["ss"]),
        helper.make_node("Softmax", ["ss"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["a"]),
        helper.make_node("MatMul", ["a", "wo"], ["o"]),
        helper.make_node("Add", ["o", "x"], ["y"]),
    ]
    g = helper.make_graph(
        nodes, "attention",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16, d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 16, d])],
        inits,
    )
    return save(g, "attention"), lambda n: {"x": RNG.standard_normal((n, 16, d)).astype(np.float32)}


def mlp_wide():
    """A feed-forward classifier big enough for GEMM to matter: x[N,256] -> softmax y[N,10] (~0.33 MB of weights)."""
    inits = [weight("w1", 256, 256), weight("b1", 256), weight("w2", 256, 64), weight("b2", 64),
             weight("w3", 64, 10), weight("b3", 10)]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"]), helper.make_node("Relu", ["h1"], ["r1"]),
        helper.make_node("Gemm", ["r1", "w2", "b2"], ["h2"]), helper.make_node("Relu", ["h2"], ["r2"]),
        helper.make_node("Gemm", ["r2", "w3", "b3"], ["z"]), helper.make_node("Softmax", ["z"], ["y"], axis=-1),
    ]
    g = helper.make_graph(
        nodes, "mlp_wide",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 256])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    return save(g, "mlp_wide"), lambda n: {"x": RNG.standard_normal((n, 256)).astype(np.float32)}


def unsupported():
    """A graph with `Unique`, which tract does not implement: x[N] -> y[?]."""
    g = helper.make_graph(
        [helper.make_node("Unique", ["x"], ["y"])], "unsupported",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M"])],
    )
    return save(g, "unsupported_op")


def int_input():
    """An int64 input (token ids): x[N,4] -> Cast -> y[N,4] f32."""
    g = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)], "int_input",
        [helper.make_tensor_value_info("x", TensorProto.INT64, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
    )
    return save(g, "int_input")


def constant_bomb():
    """A 300-byte graph whose ConstantOfShape asks for 2^40 floats (4 TiB) at load."""
    shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20], dtype=np.int64), "s")
    one = numpy_helper.from_array(np.array([1.0], dtype=np.float32))
    g = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["s"], ["c"], value=one), helper.make_node("Add", ["x", "c"], ["y"])],
        "constant_bomb",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1 << 20])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1 << 20])],
        [shape],
    )
    return save(g, "constant_bomb")


def compact(a):
    """f32 values as the shortest decimal strings that round-trip (JSON numbers)."""
    return [float(np.format_float_positional(x, unique=True)) for x in a.ravel()]


def fixture(path, make_inputs, batches):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    cases = []
    for n in batches:
        inputs = make_inputs(n)
        outs = sess.run(None, inputs)
        cases.append({
            "batch": n,
            "inputs": {k: {"shape": list(v.shape), "data": compact(v)} for k, v in inputs.items()},
            "outputs": [{"name": o.name, "shape": list(r.shape), "data": compact(r)}
                        for o, r in zip(sess.get_outputs(), outs)],
        })
    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / f"{path.stem}.json").write_text(json.dumps({"model": path.name, "cases": cases}))


if __name__ == "__main__":
    # 300 > the largest batch class (256): the LSTM fixture checks splitting.
    for make, batches in ((cnn1d, (1, 3, 37)), (lstm_forecaster, (1, 3, 8, 37, 300)),
                          (attention, (1, 3, 9)), (mlp_wide, (1, 3, 64))):
        p, gen = make()
        fixture(p, gen, batches)
        print(p.name, p.stat().st_size, "bytes")
    for make in (unsupported, int_input, constant_bomb):
        print(make().name)
