#!/usr/bin/env python3
"""digits-mlp: a 64 -> 16 -> 10 MLP on scikit-learn's bundled 8x8 handwritten digits.

Trains with scikit-learn (fixed seeds), exports the weights by hand as an ONNX graph
(Gemm -> Relu -> Gemm, plain float32 logits, no softmax) and writes the files the zkinfer
build pipeline reads: network.onnx, calibration.json, input.json, heldout.json, model.json.

Run from anywhere:  .venv/bin/python examples/models/digits-mlp/train.py
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
from onnx import helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # examples/models/, for _shared.py
from _shared import make_model, max_abs_diff, save_and_run, write_data, write_model_json  # noqa: E402

NAME = "digits-mlp"
SEED = 0
HIDDEN = 16
# Max abs difference accepted per logit between the EZKL circuit's decoded outputs and the float
# outputs; chosen after measuring the calibrated circuit (see README.md).
TOLERANCE = 0.01
NOTES = (
    "Float metric is test accuracy on the held-out 25% split (450 images; stratified, "
    "random_state=0). EZKL 23.0.5, calibrate target resources: logrows 15, input/param/output "
    "scale 13; over all 450 test images the circuit's decoded logits differ from onnxruntime by "
    "at most 0.0020 (mean 0.0004) and give the same predicted class every time, so tolerance 0.01"
    " leaves a 5x margin."
)


def build_onnx(mlp):
    w1, w2 = (np.asarray(w, dtype=np.float32) for w in mlp.coefs_)  # [64,16], [16,10]
    b1, b2 = (np.asarray(b, dtype=np.float32) for b in mlp.intercepts_)
    inits = [
        numpy_helper.from_array(w1, "W1"),
        numpy_helper.from_array(b1, "B1"),
        numpy_helper.from_array(w2, "W2"),
        numpy_helper.from_array(b2, "B2"),
    ]
    nodes = [
        helper.make_node("Gemm", ["input", "W1", "B1"], ["hidden_pre"], name="fc1"),
        helper.make_node("Relu", ["hidden_pre"], ["hidden"], name="relu1"),
        helper.make_node("Gemm", ["hidden", "W2", "B2"], ["logits"], name="fc2"),
    ]
    return make_model("digits_mlp", nodes, inits, [1, 64], "logits", [1, 10])


def main():
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)  # pixel intensities 0..16 -> [0, 1]
    y = digits.target.astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)

    mlp = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", alpha=1e-3,
                        max_iter=600, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X_tr, y_tr)
    acc_train = float(mlp.score(X_tr, y_tr))
    acc_test = float(mlp.score(X_te, y_te))

    # Writes network.onnx; onnxruntime must agree with scikit-learn's forward pass.
    ort_logits = save_and_run(HERE, build_onnx(mlp), X_te)
    # MLPClassifier.predict_proba = softmax(logits); compare the logits directly.
    sk_logits = np.maximum(X_te @ mlp.coefs_[0] + mlp.intercepts_[0], 0) @ mlp.coefs_[1] + mlp.intercepts_[1]
    diff = max_abs_diff(ort_logits, sk_logits, 1e-4, "scikit-learn logits")
    assert np.array_equal(ort_logits.argmax(1), mlp.predict(X_te)), "onnxruntime vs scikit-learn predictions differ"
    acc_onnx = float(np.mean(ort_logits.argmax(1) == y_te))

    write_data(HERE, X_tr, X_te, y_te, ort_logits, label=int)
    meta = {
        "name": NAME,
        "title": "Handwritten digit classifier (MLP)",
        "description": "Recognises a handwritten digit 0-9 from an 8x8 grey-scale image "
                       "with a small two-layer neural network.",
        "task": "classification",
        "dataset": "scikit-learn load_digits (UCI optical recognition of handwritten digits, 1797 8x8 images)",
        "inputShape": [1, 64],
        "outputShape": [1, 10],
        "outputLabels": [str(d) for d in range(10)],
        "tolerance": TOLERANCE,
        # proofSize, not proveTime: deterministic (a timed proof is noisy), so every build of this example picks
        # the same layout, and the smallest proof is the cheapest to verify on-chain.
        "objective": "proofSize",
        "floatMetric": {"name": "accuracy", "value": round(acc_onnx, 4), "samples": int(len(y_te))},
        "notes": NOTES,
    }
    write_model_json(HERE, meta)

    print(f"[{NAME}] train acc {acc_train:.4f}  test acc {acc_test:.4f} (onnx {acc_onnx:.4f}, n={len(y_te)})  "
          f"max |onnx - sklearn| = {diff:.2e}")


if __name__ == "__main__":
    main()
