"""credit-logreg: the probability that a borrower defaults, from the repayment record a lending pool keeps
on-chain (examples/LendingPool.sol computes these five features from its own ledger, so a borrower cannot
choose them). A scikit-learn LogisticRegression, exported exactly as a user would with skl2onnx's
`to_onnx` defaults — ZipMap, a label output and the ai.onnx.ml LinearClassifier included — to show that
`zkinfer model build` takes such an export as it is (it keeps the probability tensor and says so).

The data is synthetic (seeded): scikit-learn bundles no credit data set, and the example's point is the
pipeline and the contract, not the model. Each borrower's default follows a logistic "ground truth" of
the features plus noise; the fitted model recovers it.

Features (each scaled to about [0, 1], the same way the contract scales them):
  repaid      loans repaid on time, capped at 10, / 10
  late        loans repaid late, capped at 10, / 10
  defaults    loans defaulted, capped at 5, / 5
  leverage    requested amount / (total repaid + requested), in [0, 1)
  tenure      days since the first loan, capped at 730, / 730

Needs skl2onnx (in prover/python/requirements.txt). Run: .venv/bin/python examples/models/credit-logreg/train.py
"""
import os
import sys

# OpenBLAS picks its kernels by CPU model and splits sums across threads: either changes the trained weights
# in their last float bits. One kernel (Haswell's: any x86-64 CPU with AVX2) and one thread make every file
# this script writes byte-reproducible. Set before numpy is imported, which is when OpenBLAS reads them.
os.environ["OPENBLAS_CORETYPE"] = "Haswell"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from skl2onnx import to_onnx  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from _shared import max_abs_diff, write_data, write_model_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = ["repaid", "late", "defaults", "leverage", "tenure"]


def synthesize(n, rng):
    repaid = np.minimum(rng.poisson(3.0, n), 10) / 10
    late = np.minimum(rng.poisson(0.8, n), 10) / 10
    defaults = np.minimum(rng.poisson(0.2, n), 5) / 5
    leverage = rng.beta(2, 3, n)
    tenure = np.minimum(rng.exponential(250, n), 730) / 730
    x = np.stack([repaid, late, defaults, leverage, tenure], axis=1).astype(np.float32)
    logit = -1.2 - 2.5 * repaid + 3.0 * late + 4.0 * defaults + 2.5 * leverage - 1.5 * tenure
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit + rng.normal(0, 0.5, n))))).astype(np.int64)
    return x, y


def main():
    rng = np.random.default_rng(2026)
    x, y = synthesize(4000, rng)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    clf = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    accuracy = float(clf.score(x_test, y_test))

    # Exactly as a user would export it: skl2onnx's defaults (ZipMap on, label output kept).
    model = to_onnx(clf, x_train[:1], target_opset={"": 13, "ai.onnx.ml": 3})
    # skl2onnx lists the opsets in set order, which Python's string hashing varies run to run: fix the order so
    # that the file (and its hash) is reproducible.
    opsets = sorted(model.opset_import, key=lambda o: o.domain)
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    path = os.path.join(HERE, "network.onnx")
    onnx.save(model, path)

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    probs = np.array([[row[k] for k in sorted(row)] for x1 in x_test for row in sess.run(None, {"X": x1[None, :]})[1]])
    diff = max_abs_diff(probs, clf.predict_proba(x_test), 1e-5, "scikit-learn")

    write_data(HERE, x_train, x_test, y_test, probs, int)
    write_model_json(HERE, {
        "name": "credit-logreg",
        "title": "Borrower default risk (logistic regression, skl2onnx export)",
        "description": "The probability that a borrower defaults, from the repayment record a lending pool keeps on-chain.",
        "task": "classification",
        "dataset": "synthetic, seeded (see train.py): 4,000 borrowers, a logistic ground truth plus noise",
        "inputShape": [1, len(FEATURES)],
        "outputShape": [1, 2],
        "outputLabels": ["repays", "defaults"],
        "inputFeatures": FEATURES,
        "exporter": "skl2onnx to_onnx with its defaults (ZipMap and label output; zkinfer model build keeps the probability tensor)",
        "tolerance": 0.01,
        # proofSize, not proveTime: deterministic (a timed proof is noisy), so every build of this example picks
        # the same layout, and the smallest proof is the cheapest to verify on-chain.
        "objective": "proofSize",
        "floatMetric": {"name": "accuracy", "value": round(accuracy, 4), "samples": len(y_test)},
        "notes": f"onnxruntime vs scikit-learn predict_proba: max |diff| {diff:.2e} over the test split.",
    })
    print(f"accuracy {accuracy:.4f} on {len(y_test)} test borrowers; onnxruntime vs sklearn {diff:.2e}")


if __name__ == "__main__":
    main()
