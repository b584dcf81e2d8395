"""Helpers shared by the example models' train.py scripts (examples/models/<name>/train.py).

Each script trains its own model and builds its own ONNX nodes; this module holds what every
example writes the same way: the ONNX model wrapper, the onnxruntime cross-check, and the files the
zkinfer build pipeline reads (network.onnx, calibration.json, input.json, heldout.json, model.json).

A script imports it by putting its parent directory (examples/models/) on sys.path, so
`.venv/bin/python examples/models/<name>/train.py` works from any working directory.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

OPSET = 13
IR_VERSION = 8
N_CALIBRATION = 32  # rows of the training split written to calibration.json
N_HELDOUT = 50      # rows of the test split written to heldout.json


def dump(here, name, obj, indent=None):
    """Write obj as JSON to here/name: compact unless indent is given, with a trailing newline."""
    with open(os.path.join(here, name), "w") as f:
        json.dump(obj, f, indent=indent, separators=None if indent else (",", ":"))
        f.write("\n")


def floats(a):
    """Flatten a to a row-major list of Python floats, going through float32 (the ONNX input type)."""
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def make_model(graph_name, nodes, initializers, input_shape, output_name, output_shape):
    """Wrap hand-built nodes in a checked ONNX model: one float32 input called "input", one float32 output."""
    graph = helper.make_graph(
        nodes,
        graph_name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, output_shape)],
        initializer=initializers,
    )
    model = helper.make_model(graph, producer_name="zkinfer", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def save_and_run(here, model, inputs):
    """Save model as here/network.onnx, then run it in onnxruntime on each row of inputs, one at a time
    (each reshaped to the model's batch-1 input shape). Returns the outputs stacked along axis 0."""
    path = os.path.join(here, "network.onnx")
    onnx.save(model, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    shape = sess.get_inputs()[0].shape
    return np.concatenate([sess.run(None, {"input": np.reshape(x, shape)})[0] for x in inputs])


def max_abs_diff(onnx_out, ref_out, limit, what):
    """Largest |onnx_out - ref_out|; fails unless it is below limit. what names the reference in the message."""
    diff = float(np.max(np.abs(onnx_out - ref_out)))
    assert diff < limit, f"onnxruntime vs {what} differ by {diff}"
    return diff


def write_data(here, x_train, x_test, y_test, float_outputs, label):
    """Write calibration.json (first N_CALIBRATION training inputs), input.json (first test input) and
    heldout.json (first N_HELDOUT test inputs, their labels converted with label(), e.g. int or float,
    and the float model's outputs for them)."""
    dump(here, "calibration.json", {"input_data": [floats(x_train[:N_CALIBRATION])]})
    dump(here, "input.json", {"input_data": [floats(x_test[0])]})
    dump(here, "heldout.json", {
        "inputs": [floats(x) for x in x_test[:N_HELDOUT]],
        "labels": [label(v) for v in y_test[:N_HELDOUT]],
        "float_outputs": [floats(o) for o in float_outputs[:N_HELDOUT]],
    })


def write_model_json(here, meta):
    """Write the model's metadata (name, title, shapes, tolerance, float metric, notes, ...) to model.json."""
    dump(here, "model.json", meta, indent=2)
