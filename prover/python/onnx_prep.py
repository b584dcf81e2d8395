"""Prepare an ONNX file as exporters write it for EZKL, which takes one self-contained graph of plain
tensors with standard ops. Used by the worker's `prepare_onnx` op at the first build step, before any
setting or key is made.

What it does, each change reported as a note (a model owner should know what was proved):
- external data (torch.onnx.export and onnx.save_as_external_data write weights to `<name>.data`):
  loaded and embedded, so one file carries the whole model and its hash covers the weights;
- a symbolic leading (batch) axis under any name ("batch", "N", "?"): renamed to EZKL's `batch_size`
  variable, which the circuit fixes; a symbolic axis elsewhere is refused (no static shape to prove);
- skl2onnx's classifier tail: ZipMap (a sequence of maps, not a tensor) is removed and the probability
  tensor it wraps becomes the output; integer label outputs are dropped when a probability tensor
  remains; then nodes that no output needs are removed;
- ai.onnx.ml LinearClassifier / LinearRegressor / Normalizer: rewritten to the standard ops they
  define (MatMul + Add, then Sigmoid / Softmax / an L1, L2 or max normalisation), and the rewrite is
  checked against the original with onnxruntime on the given samples;
- any other ai.onnx.ml op (tree ensembles, SVMs, ...) is refused, naming the op and what to do.

A file that needs none of this is left byte-for-byte as it is (`changed: false`), so the model hash of
an existing build does not move.
"""

from __future__ import annotations

import os

ML_DOMAIN = "ai.onnx.ml"
BATCH_SYMBOL = "batch_size"

# What to do about ai.onnx.ml ops that have no tensor-op equivalent EZKL can prove.
_UNSUPPORTED_HINTS = {
    "TreeEnsembleRegressor": "tree ensembles have no EZKL circuit: convert the trees to tensor ops "
    "(hummingbird-ml, backend 'onnx', GEMM strategy) or train an MLP/linear model instead",
    "TreeEnsembleClassifier": "tree ensembles have no EZKL circuit: convert the trees to tensor ops "
    "(hummingbird-ml, backend 'onnx', GEMM strategy) or train an MLP/linear model instead",
    "TreeEnsemble": "tree ensembles have no EZKL circuit: convert the trees to tensor ops "
    "(hummingbird-ml, backend 'onnx', GEMM strategy) or train an MLP/linear model instead",
    "SVMClassifier": "EZKL has no SVM op: export a linear SVM as MatMul + Add, or train an MLP",
    "SVMRegressor": "EZKL has no SVM op: export a linear SVM as MatMul + Add, or train an MLP",
}
_GENERIC_HINT = (
    "EZKL proves standard ONNX tensor ops only: export this step as tensor ops (or leave it out of the "
    "exported graph and apply it outside the proof)"
)


class PrepError(Exception):
    """A model zkinfer cannot prepare; the message names the problem, `hint` says what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def _uses_external_data(model) -> bool:
    from onnx.external_data_helper import uses_external_data

    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                tensors.append(attr.t)
    return any(uses_external_data(t) for t in tensors)


def _load(path: str):
    import onnx

    try:
        bare = onnx.load(path, load_external_data=False)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PrepError(f"{path} is not a valid ONNX model ({first[:300]})", "check that the file is an ONNX export")
    external = _uses_external_data(bare)
    if not external:
        return bare, False
    try:
        model = onnx.load(path, load_external_data=True)
    except Exception as exc:  # a missing or short .data file
        raise PrepError(
            f"{path} keeps its weights in external data that could not be read ({str(exc).splitlines()[0][:200]})",
            "keep the .data file(s) the exporter wrote next to the .onnx file, under the names it gave them",
        )
    return model, True


def _tensor_ok(value_info) -> bool:
    return value_info.type.HasField("tensor_type")


def _rename_batch_axes(model, notes: list[str]) -> None:
    """Rename a symbolic leading axis to EZKL's `batch_size`; refuse symbolic axes elsewhere."""
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    symbols: set[str] = set()
    for v in list(graph.input) + list(graph.output):
        if v.name in inits or not _tensor_ok(v):
            continue
        for axis, d in enumerate(v.type.tensor_type.shape.dim):
            if d.HasField("dim_value"):
                continue
            if axis != 0:
                raise PrepError(
                    f"tensor '{v.name}' has a symbolic dimension '{d.dim_param or '?'}' at axis {axis}; "
                    "a circuit needs a fixed shape there",
                    "export with a fixed size for every axis but the first (the batch axis)",
                )
            symbols.add(d.dim_param)
    renamed = sorted(symbols - {BATCH_SYMBOL})
    if not renamed:
        return
    for v in list(graph.input) + list(graph.output) + list(graph.value_info):
        if not _tensor_ok(v):
            continue
        for d in v.type.tensor_type.shape.dim:
            if not d.HasField("dim_value") and d.dim_param in symbols:
                d.dim_param = BATCH_SYMBOL
    given = [s for s in renamed if s and not s.startswith("unk__")]  # unk__N: names ONNX's inference made up
    label = f"'{given[0]}'" if len(given) == 1 else "(unnamed)" if not given else "/".join(f"'{g}'" for g in given)
    notes.append(f"symbolic batch axis {label} mapped to EZKL's batch_size (1 per proof)")


def symbolic_batch(path: str, out: str, samples=None) -> dict:
    """The graph of a batch variant: the prepared (version's) ONNX with its leading axis symbolic, so that
    EZKL's `batch_size` variable sets it. A static leading axis of 1 on every graph input and output becomes
    `batch_size`; intermediate shape annotations (value_info) are dropped, since they would pin a batch of 1.
    Deterministic: the same input file gives the same bytes (protobuf serialises a message in field order),
    so `zkinfer model audit` repeats it and compares the hash. A graph whose axis is already `batch_size` is
    copied byte for byte. Refused: a leading axis other than 1, and a graph that mixes samples across its
    leading axis (checked with onnxruntime: two samples run together must give each one's own outputs)."""
    import onnx

    model, _ = _load(path)
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    tensors = [v for v in list(graph.input) + list(graph.output) if v.name not in inits and _tensor_ok(v)]
    changed = False
    for v in tensors:
        dims = v.type.tensor_type.shape.dim
        if len(dims) == 0:
            raise PrepError(
                f"tensor '{v.name}' has no axes; a batch variant needs a leading batch axis",
                "export with a leading batch axis of 1 (e.g. shape [1, n]) or a symbolic one",
            )
        d = dims[0]
        if d.HasField("dim_value"):
            if d.dim_value != 1:
                raise PrepError(
                    f"the leading axis of tensor '{v.name}' is {d.dim_value}; a batch variant starts from batch 1",
                    "export with a leading batch axis of 1 or a symbolic one (torch.onnx.export dynamic_axes)",
                )
            d.Clear()
            d.dim_param = BATCH_SYMBOL
            changed = True
        elif d.dim_param != BATCH_SYMBOL:
            raise PrepError(
                f"the leading axis of tensor '{v.name}' is '{d.dim_param}', not EZKL's batch_size",
                "build from the prepared network.onnx that `zkinfer model build` wrote",
            )
    if not changed:
        with open(path, "rb") as src:
            data = src.read()
        _check_rows_independent(path, data, samples)
        with open(out, "wb") as dst:
            dst.write(data)
        return {"changed": False, "notes": []}
    del graph.value_info[:]
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise PrepError(
            f"the batch-variant graph does not pass ONNX's checker ({str(exc).splitlines()[0][:200]})",
            "export with a symbolic batch axis (torch.onnx.export dynamic_axes) and rebuild",
        )
    data = model.SerializeToString(deterministic=True)
    _check_rows_independent(path, data, samples)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    return {"changed": True, "notes": [f"leading axis of {len(tensors)} tensors made symbolic (batch_size)"]}


def _check_rows_independent(batch1_path: str, variant: bytes, samples) -> None:
    """Run two samples through the variant together and each alone through the batch-1 graph: the rows must
    match, or the graph mixes samples (a Reshape to [1, -1], a reduction over the batch axis, ...)."""
    import numpy as np
    import onnxruntime as ort

    a = ort.InferenceSession(batch1_path, providers=["CPUExecutionProvider"])
    try:
        b = ort.InferenceSession(variant, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise PrepError(
            f"onnxruntime cannot load the batch-variant graph ({str(exc).splitlines()[0][:200]})",
            "export with a symbolic batch axis (torch.onnx.export dynamic_axes) and rebuild",
        )
    shapes = [[d if isinstance(d, int) else 1 for d in inp.shape] for inp in a.get_inputs()]  # batch 1
    sizes = [int(np.prod(s)) for s in shapes]
    rng = np.random.default_rng(0)
    rows = [np.asarray(s, dtype=np.float32).reshape(-1) for s in (samples or [])[:2]]
    while len(rows) < 2:
        rows.append(rng.uniform(-1, 1, sum(sizes)).astype(np.float32))

    def feeds(batch):
        out, at = {}, 0
        for inp, shape, size in zip(a.get_inputs(), shapes, sizes):
            out[inp.name] = np.stack([r[at : at + size].reshape(shape[1:]) for r in batch])
            at += size
        return out

    try:
        together = b.run(None, feeds(rows))
    except Exception as exc:
        raise PrepError(
            f"the graph does not run at batch 2 ({str(exc).splitlines()[0][:200]}): it fixes its batch of 1 inside",
            "export with a symbolic batch axis and no batch-1 constants (a Reshape to [1, -1]: use [-1, n] or Flatten)",
        )
    for i, r in enumerate(rows):
        alone = a.run(None, feeds([r]))
        for t, (x, y) in enumerate(zip(alone, together)):
            if np.asarray(y).shape[0] != 2 or np.max(np.abs(np.asarray(x)[0] - np.asarray(y)[i])) > 1e-5:
                raise PrepError(
                    f"output {t} of sample {i} run in a batch of 2 differs from the same sample alone: the graph mixes "
                    "samples across its leading axis",
                    "a batch variant needs a graph whose rows are independent; build this model at batch 1 only",
                )


def _infer_output_shapes(model) -> None:
    """Give outputs that lost their type (a ZipMap's replacement) the shape ONNX infers for them."""
    import onnx

    graph = model.graph
    if all(o.type.tensor_type.HasField("shape") for o in graph.output):
        return
    inferred = onnx.shape_inference.infer_shapes(model)
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for o in graph.output:
        if not o.type.tensor_type.HasField("shape") and o.name in known and known[o.name].type.tensor_type.HasField("shape"):
            o.type.CopyFrom(known[o.name].type)
    for o in graph.output:
        if not o.type.tensor_type.HasField("shape"):
            raise PrepError(f"the shape of output '{o.name}' cannot be inferred", "export with static output shapes")


def _producer(graph, name: str):
    for node in graph.node:
        if name in node.output:
            return node
    return None


def _strip_classifier_tail(model, notes: list[str]) -> dict[str, str]:
    """skl2onnx classifiers: [label, ZipMap(probabilities)] -> [probabilities]. Returns {new output: the
    ZipMap output it replaces}, for the comparison with the exported graph."""
    import onnx
    from onnx import TensorProto

    graph = model.graph
    replaced: dict[str, str] = {}
    for out in list(graph.output):
        if _tensor_ok(out):
            continue
        node = _producer(graph, out.name)
        if node is None or node.op_type != "ZipMap" or node.domain != ML_DOMAIN:
            raise PrepError(
                f"output '{out.name}' is not a plain tensor",
                "EZKL needs tensor outputs: export without sequence/map outputs",
            )
        src = node.input[0]
        graph.node.remove(node)
        index = list(graph.output).index(out)
        graph.output.remove(out)
        graph.output.insert(index, onnx.helper.make_tensor_value_info(src, TensorProto.FLOAT, None))
        replaced[src] = out.name
        notes.append(f"removed ZipMap: output '{out.name}' is now the probability tensor '{src}'")
    outputs = list(graph.output)
    floats = [o for o in outputs if o.type.tensor_type.elem_type == TensorProto.FLOAT]
    if floats and len(floats) < len(outputs):
        for o in outputs:
            if o.type.tensor_type.elem_type in (TensorProto.INT64, TensorProto.INT32, TensorProto.STRING):
                graph.output.remove(o)
                notes.append(f"dropped the label output '{o.name}' (the argmax of the probabilities; compute it from them)")
    return replaced


def _prune(graph) -> None:
    """Remove nodes no graph output depends on."""
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    used = {i for n in graph.node for i in n.input}
    kept_inits = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_inits)


def _attr(node, name, default=None):
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            v = helper.get_attribute_value(a)
            return v.decode() if isinstance(v, bytes) else v
    return default


def _linear_nodes(node, n_features: int | None, post: str, prefix: str):
    """MatMul + Add (+ post transform) for LinearClassifier/LinearRegressor's scores."""
    import numpy as np
    from onnx import helper, numpy_helper

    coef = np.asarray(_attr(node, "coefficients"), dtype=np.float32)
    intercepts = _attr(node, "intercepts", None)
    n_out = len(intercepts) if intercepts else int(_attr(node, "targets", 1))
    coef = coef.reshape(n_out, -1)
    if n_features is not None and coef.shape[1] != n_features:
        raise PrepError(
            f"{node.op_type} '{node.name}' has {coef.shape[1]} coefficients per output for {n_features} features",
            "re-export the model",
        )
    b = np.asarray(intercepts if intercepts else [0.0] * n_out, dtype=np.float32)
    w_name, b_name, mm, lin = f"{prefix}_W", f"{prefix}_b", f"{prefix}_mm", f"{prefix}_lin"
    inits = [numpy_helper.from_array(coef.T.copy(), w_name), numpy_helper.from_array(b, b_name)]
    nodes = [
        helper.make_node("MatMul", [node.input[0], w_name], [mm], name=f"{prefix}_matmul"),
        helper.make_node("Add", [mm, b_name], [lin], name=f"{prefix}_add"),
    ]
    return nodes, inits, lin, post


def _rewrite_ml_ops(model, notes: list[str]) -> None:
    from onnx import helper

    graph = model.graph
    new_nodes = []
    for i, node in enumerate(list(graph.node)):
        if node.domain != ML_DOMAIN:
            new_nodes.append(node)
            continue
        prefix = f"zkinfer_{i}"
        if node.op_type in ("LinearClassifier", "LinearRegressor"):
            post = _attr(node, "post_transform", "NONE")
            nodes, inits, lin, post = _linear_nodes(node, None, post, prefix)
            scores = node.output[1] if node.op_type == "LinearClassifier" else node.output[0]
            if post == "NONE":
                nodes.append(helper.make_node("Identity", [lin], [scores], name=f"{prefix}_out"))
            elif post == "LOGISTIC":
                nodes.append(helper.make_node("Sigmoid", [lin], [scores], name=f"{prefix}_sigmoid"))
            elif post == "SOFTMAX":
                nodes.append(helper.make_node("Softmax", [lin], [scores], axis=-1, name=f"{prefix}_softmax"))
            else:
                raise PrepError(
                    f"{node.op_type} '{node.name}' uses post_transform {post}, which zkinfer cannot rewrite",
                    "export the raw scores (post_transform NONE) and apply the transform outside the proof",
                )
            new_nodes.extend(nodes)
            graph.initializer.extend(inits)
            tail = {"NONE": "", "LOGISTIC": " + Sigmoid", "SOFTMAX": " + Softmax"}[post]
            notes.append(f"rewrote ai.onnx.ml {node.op_type} as MatMul + Add{tail}")
            # The label output (LinearClassifier's first) is left dangling; the label output was dropped.
            continue
        if node.op_type == "Normalizer":
            norm = _attr(node, "norm", "MAX")
            x, y = node.input[0], node.output[0]
            if norm not in ("L1", "L2", "MAX"):
                raise PrepError(f"Normalizer '{node.name}' uses norm {norm}", _GENERIC_HINT)
            first = {"L1": "Abs", "L2": "Abs", "MAX": "Abs"}[norm]
            nodes = [helper.make_node(first, [x], [f"{prefix}_abs"])]
            src = f"{prefix}_abs"
            if norm == "L2":
                nodes.append(helper.make_node("Mul", [src, src], [f"{prefix}_sq"]))
                src = f"{prefix}_sq"
            reduce_op = "ReduceMax" if norm == "MAX" else "ReduceSum"
            r_nodes, r_inits = _reduce_last_axis(model, reduce_op, src, f"{prefix}_red", prefix)
            nodes.extend(r_nodes)
            graph.initializer.extend(r_inits)
            denom = f"{prefix}_red"
            if norm == "L2":
                nodes.append(helper.make_node("Sqrt", [denom], [f"{prefix}_norm"]))
                denom = f"{prefix}_norm"
            nodes.append(helper.make_node("Div", [x, denom], [y]))
            new_nodes.extend(nodes)
            notes.append(f"rewrote ai.onnx.ml Normalizer ({norm}) as standard ops")
            continue
        raise PrepError(
            f"the model uses {node.op_type} (domain {ML_DOMAIN}), which EZKL cannot prove",
            _UNSUPPORTED_HINTS.get(node.op_type, _GENERIC_HINT),
        )
    del graph.node[:]
    graph.node.extend(new_nodes)
    if not any(n.domain == ML_DOMAIN for n in graph.node):
        kept = [o for o in model.opset_import if o.domain != ML_DOMAIN]
        del model.opset_import[:]
        model.opset_import.extend(kept)


def _opset(model) -> int:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return int(o.version)
    return 1


def _reduce_last_axis(model, op: str, x: str, y: str, prefix: str):
    """`op` over the last axis, keepdims: axes as an input from opset 13 (ReduceSum) / 18 (ReduceMax)."""
    import numpy as np
    from onnx import helper, numpy_helper

    axes_as_input = _opset(model) >= (13 if op == "ReduceSum" else 18)
    if axes_as_input:
        name = f"{prefix}_axes"
        return [helper.make_node(op, [x, name], [y], keepdims=1)], [numpy_helper.from_array(np.array([-1], dtype=np.int64), name)]
    return [helper.make_node(op, [x], [y], axes=[-1], keepdims=1)], []


def _as_array(value):
    """onnxruntime's ZipMap output (a list of {class: probability}) as a 2-D array in class order."""
    import numpy as np

    if isinstance(value, list) and value and isinstance(value[0], dict):
        return np.asarray([list(row.values()) for row in value], dtype=np.float64)
    return np.asarray(value, dtype=np.float64)


def _check_same_outputs(original_path: str, prepared_bytes: bytes, samples, replaced, notes: list[str]) -> None:
    """The rewritten graph must compute what the exported one did (onnxruntime, float32)."""
    import numpy as np
    import onnxruntime as ort

    if not samples:
        return
    a = ort.InferenceSession(original_path, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(prepared_bytes, providers=["CPUExecutionProvider"])
    a_in = a.get_inputs()
    shapes = [[d if isinstance(d, int) else 1 for d in inp.shape] for inp in a_in]
    b_outs = [o.name for o in b.get_outputs()]
    worst = 0.0
    for sample in samples:
        # A sample is flat: the input tensors one after another.
        flat, feeds, at = np.asarray(sample, dtype=np.float32).reshape(-1), {}, 0
        for inp, shape in zip(a_in, shapes):
            size = int(np.prod(shape))
            feeds[inp.name] = flat[at : at + size].reshape(shape)
            at += size
        ra = dict(zip([o.name for o in a.get_outputs()], a.run(None, feeds)))
        rb = dict(zip(b_outs, b.run(None, feeds)))
        for name, vb in rb.items():
            va = ra.get(replaced.get(name, name))
            if va is None:
                raise PrepError(f"output '{name}' of the rewritten graph has no counterpart in the export", _GENERIC_HINT)
            a_arr, b_arr = _as_array(va), _as_array(vb)
            worst = max(worst, float(np.max(np.abs(a_arr.reshape(-1) - b_arr.reshape(-1)))))
    if worst > 1e-4:
        raise PrepError(
            f"the rewritten graph differs from the exported one by up to {worst:.3g} on the sample inputs",
            "export the model as standard tensor ops (skl2onnx: options={'zipmap': False}) and report this model",
        )
    notes.append(f"checked the rewrite against the exported graph with onnxruntime on {len(samples)} samples (max diff {worst:.2g})")


def prepare(path: str, out: str, samples=None) -> dict:
    """Prepare `path` for EZKL into `out`. Returns {changed, notes}. Raises PrepError."""
    import onnx

    model, external = _load(path)
    notes: list[str] = []
    if external:
        notes.append("embedded the external weight data (.data) into one file")
    had_ml_ops = any(n.domain == ML_DOMAIN for n in model.graph.node)
    replaced = _strip_classifier_tail(model, notes)
    _prune(model.graph)  # first, so that ops only the dropped outputs needed are not refused
    _rewrite_ml_ops(model, notes)
    _prune(model.graph)
    _infer_output_shapes(model)
    _rename_batch_axes(model, notes)
    if not notes:
        with open(path, "rb") as src, open(out, "wb") as dst:
            dst.write(src.read())
        return {"changed": False, "notes": []}
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise PrepError(
            f"the prepared graph does not pass ONNX's checker ({str(exc).splitlines()[0][:200]})",
            "export the model as standard tensor ops and report this model",
        )
    data = model.SerializeToString()
    if len(data) > 2_000_000_000:
        raise PrepError(f"{path} is over 2 GB with its weights embedded", "a model that large is far beyond what EZKL proves")
    if had_ml_ops:
        _check_same_outputs(path, data, samples, replaced, notes)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    return {"changed": True, "notes": notes}
