#!/usr/bin/env python3
"""linnerud-mlp: a multi-output model, 3 -> 8 -> (2, 1), on scikit-learn's bundled Linnerud data.

Two output tensors from one shared hidden layer: "body" (weight / 100 lbs, waist / 10 in) and "pulse"
(resting pulse / 100), predicted from three exercise counts (chins, sit-ups, jumps; z-scores). Trains a
scikit-learn MLPRegressor on the three targets (fixed seeds), splits its last layer into the two heads and
writes the ONNX graph by hand (Gemm -> Relu -> Gemm / Gemm), then the files the zkinfer build reads:
network.onnx, calibration.json, input.json, heldout.json, model.json.

Run from anywhere:  .venv/bin/python examples/models/linnerud-mlp/train.py
"""
import os
import sys
import warnings

# OpenBLAS picks its kernels by CPU model and splits sums across threads: either changes the trained weights
# in their last float bits. One kernel (Haswell's: any x86-64 CPU with AVX2) and one thread make every file
# this script writes byte-reproducible. Set before numpy is imported, which is when OpenBLAS reads them.
os.environ["OPENBLAS_CORETYPE"] = "Haswell"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_linnerud
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # examples/models/, for _shared.py
from _shared import IR_VERSION, OPSET, dump, floats, max_abs_diff, write_model_json  # noqa: E402

NAME = "linnerud-mlp"
SEED = 0
HIDDEN = 8
TARGET_SCALE = np.array([100.0, 10.0, 100.0], dtype=np.float32)  # weight/100, waist/10, pulse/100
# Max abs difference accepted per output element between the EZKL circuit and the float model (output units).
TOLERANCE = 0.01
N_TEST = 5  # of Linnerud's 20 participants: 15 train, 5 held out


def build_onnx(reg):
    w1, w2 = (np.asarray(w, dtype=np.float32) for w in reg.coefs_)  # [3,8], [8,3]
    b1, b2 = (np.asarray(b, dtype=np.float32) for b in reg.intercepts_)
    inits = [
        numpy_helper.from_array(w1, "W1"),
        numpy_helper.from_array(b1, "B1"),
        numpy_helper.from_array(np.ascontiguousarray(w2[:, :2]), "W_body"),
        numpy_helper.from_array(b2[:2].copy(), "B_body"),
        numpy_helper.from_array(np.ascontiguousarray(w2[:, 2:]), "W_pulse"),
        numpy_helper.from_array(b2[2:].copy(), "B_pulse"),
    ]
    nodes = [
        helper.make_node("Gemm", ["exercise", "W1", "B1"], ["hidden_pre"], name="fc1"),
        helper.make_node("Relu", ["hidden_pre"], ["hidden"], name="relu1"),
        helper.make_node("Gemm", ["hidden", "W_body", "B_body"], ["body"], name="head_body"),
        helper.make_node("Gemm", ["hidden", "W_pulse", "B_pulse"], ["pulse"], name="head_pulse"),
    ]
    graph = helper.make_graph(
        nodes,
        "linnerud_mlp",
        [helper.make_tensor_value_info("exercise", TensorProto.FLOAT, [1, 3])],
        [
            helper.make_tensor_value_info("body", TensorProto.FLOAT, [1, 2]),
            helper.make_tensor_value_info("pulse", TensorProto.FLOAT, [1, 1]),
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="zkinfer", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    data = load_linnerud()
    x = data.data.astype(np.float32)
    mean, std = x.mean(axis=0), x.std(axis=0)
    X = ((x - mean) / std).astype(np.float32)
    Y = (data.target.astype(np.float32) / TARGET_SCALE).astype(np.float32)
    order = np.random.default_rng(SEED).permutation(len(X))
    te, tr = order[:N_TEST], order[N_TEST:]

    reg = MLPRegressor(hidden_layer_sizes=(HIDDEN,), activation="relu", alpha=1.0,
                       learning_rate_init=1e-2, max_iter=3000, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X[tr], Y[tr])

    path = os.path.join(HERE, "network.onnx")
    onnx.save(build_onnx(reg), path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ort_out = np.stack([np.concatenate([o.reshape(-1) for o in sess.run(None, {"exercise": X[i:i + 1]})]) for i in te])
    diff = max_abs_diff(ort_out, reg.predict(X[te]), 1e-4, "scikit-learn outputs")
    mae = float(np.mean(np.abs(ort_out - Y[te]), axis=0)[0])
    mae_mean = float(np.mean(np.abs(Y[tr].mean(axis=0)[0] - Y[te][:, 0])))

    dump(HERE, "calibration.json", {"input_data": [floats(X[tr])]})
    dump(HERE, "input.json", {"input_data": [floats(X[te[0]])]})
    dump(HERE, "heldout.json", {
        "inputs": [floats(X[i]) for i in te],
        "labels": [float(Y[i][0]) for i in te],
        "float_outputs": [floats(o) for o in ort_out],
    })
    write_model_json(HERE, {
        "name": NAME,
        "title": "Linnerud body measurements from exercise (multi-output MLP)",
        "description": "Predicts weight and waist (one output tensor) and resting pulse (another) from the number "
                       "of chin-ups, sit-ups and jumps a participant did: a model with two output tensors.",
        "task": "regression",
        "dataset": "scikit-learn load_linnerud (Tenenhaus 1998, 20 middle-aged men, 3 exercises, 3 physiological measurements)",
        "inputShape": [1, 3],
        "outputShape": [[1, 2], [1, 1]],
        "outputLabels": ["weight/100 lbs", "waist/10 in", "pulse/100"],
        "inputFeatures": ["chins", "situps", "jumps"],
        "inputTransform": "z-score per exercise with the dataset's mean and standard deviation: "
                          + ", ".join(f"{m:.2f}±{s:.2f}" for m, s in zip(mean, std)),
        "outputTransform": "body = [weight / 100, waist / 10]; pulse = [pulse / 100]",
        "tolerance": TOLERANCE,
        # proofSize, not proveTime: deterministic (a timed proof is noisy), so every build picks the same layout.
        "objective": "proofSize",
        "floatMetric": {"name": "mae", "value": round(mae, 4), "samples": int(len(te))},
        "notes": "A demonstration of a model with two output tensors on a tiny public dataset (20 participants): "
                 f"held-out MAE of weight/100 {mae:.3f} against {mae_mean:.3f} for predicting the training mean.",
    })
    print(f"[{NAME}] held-out MAE weight/100 {mae:.4f} (mean predictor {mae_mean:.4f}), n={len(te)}, "
          f"max |onnx - sklearn| = {diff:.2e}")


if __name__ == "__main__":
    main()
