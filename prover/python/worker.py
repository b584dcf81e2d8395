"""zkinfer's EZKL worker: the only Python in the product.

A long-lived process driven over stdio by prover/src/engine (TypeScript). One JSON object per line:

    request  {"id": 7, "op": "prove", "args": {...}}
    reply    {"id": 7, "ok": true, "result": {...}}
          or {"id": 7, "ok": false, "error": {"type": "EzklError", "message": "..."}}

Requests are handled one at a time, in order. EZKL (Rust) prints to stdout on its own (the
calibration report, for example), so the protocol runs on a private copy of the original stdout and
file descriptor 1 is pointed at stderr, where the client logs it. The worker dies with its parent
(PR_SET_PDEATHSIG) so a killed client never leaves a prover running.
"""

import asyncio
import ctypes
import json
import os
import signal
import sys
import time
import traceback

PROTOCOL_VERSION = 1


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass  # not Linux: the client still kills the worker on exit and on stdin EOF we stop


def _protocol_stream():
    proto_fd = os.dup(1)
    os.dup2(2, 1)  # anything EZKL or Python prints goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    return os.fdopen(proto_fd, "w", buffering=1, encoding="utf-8")


class RequestError(Exception):
    """An error the worker reports with a type name the client maps to a typed error."""

    def __init__(self, type_name: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.type_name = type_name
        self.hint = hint


def _require_file(path: str, what: str) -> None:
    if not isinstance(path, str) or not os.path.isfile(path):
        raise RequestError("FileNotFound", f"{what} not found: {path}")


def op_hello(args):
    import ezkl

    return {
        "protocol": PROTOCOL_VERSION,
        "ezklVersion": getattr(ezkl, "__version__", "unknown"),
        "python": sys.version.split()[0],
        "pid": os.getpid(),
    }


def op_inspect_onnx(args):
    """Parse and check an ONNX file; return its input and output tensors with static shapes."""
    import onnx

    path = args["model"]
    _require_file(path, "ONNX model")
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises DecodeError, ValidationError, ... ; all mean "bad file"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RequestError("InvalidModel", f"{path} is not a valid ONNX model ({first[:300]})")
    initializers = {i.name for i in model.graph.initializer}

    def describe(value_info):
        t = value_info.type
        if not t.HasField("tensor_type"):
            raise RequestError(
                "InvalidModel",
                f"{path}: '{value_info.name}' is not a plain tensor (EZKL needs tensor inputs and outputs; "
                "export without ZipMap / sequence / map outputs)",
            )
        dims = []
        for d in t.tensor_type.shape.dim:
            if d.HasField("dim_value"):
                dims.append(int(d.dim_value))
            else:
                dims.append(d.dim_param or "?")
        return {"name": value_info.name, "shape": dims, "elemType": int(t.tensor_type.elem_type)}

    inputs = [describe(v) for v in model.graph.input if v.name not in initializers]
    outputs = [describe(v) for v in model.graph.output]
    if not inputs or not outputs:
        raise RequestError("InvalidModel", f"{path}: the graph has no inputs or no outputs")
    return {
        "inputs": inputs,
        "outputs": outputs,
        "opset": [{"domain": o.domain, "version": int(o.version)} for o in model.opset_import],
        "nodes": len(model.graph.node),
        "opTypes": _count_ops(model.graph.node),
    }


def _count_ops(nodes):
    counts = {}
    for n in nodes:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return counts


def op_prepare_onnx(args):
    """Prepare an exported ONNX file for EZKL (external data, batch axis, skl2onnx's ZipMap/label outputs,
    ai.onnx.ml linear ops) into `out`; see onnx_prep.py. Refuses what EZKL cannot prove, with a hint."""
    return _onnx_prep("prepare", args)


def op_batch_onnx(args):
    """The graph of a batch variant: the version's ONNX with a symbolic leading axis (see onnx_prep.py)."""
    return _onnx_prep("symbolic_batch", args)


def _onnx_prep(name, args):
    """Runs onnx_prep.<name>(model, out, samples=...) on a request's args; its refusals become InvalidModel errors."""
    import onnx_prep

    _require_file(args["model"], "ONNX model")
    try:
        return getattr(onnx_prep, name)(args["model"], args["out"], samples=args.get("samples") or None)
    except onnx_prep.PrepError as exc:
        raise RequestError("InvalidModel", str(exc), hint=exc.hint)


def op_variant_settings(args):
    """Settings of a batch variant: every run argument of the batch-1 settings (`base`: scales, decomposition,
    lookup range, visibilities, ...), with EZKL's batch_size variable set to `batch`, and `logrows` and
    `numInnerCols` as given (the rows grow with the batch: more columns can hold them in fewer rows), and EZKL's
    random-challenge (Freivalds) check of matrix products off: batch 1 never uses it, and at batch N it adds a
    proving phase (see prover/src/models/variants.ts); gen_settings then lays out the variant's graph (`model`)."""
    import ezkl

    _require_file(args["model"], "ONNX model")
    _require_file(args["base"], "batch-1 settings")
    base = _read_json(args["base"])["run_args"]
    ra = ezkl.PyRunArgs()
    for key, value in base.items():
        if key in ("variables", "logrows") or value is None:
            continue
        setattr(ra, key, tuple(value) if isinstance(value, list) else value)
    ra.variables = [("batch_size", int(args["batch"]))]
    ra.logrows = int(args["logrows"])
    ra.num_inner_cols = int(args["numInnerCols"])
    ra.disable_freivalds = True
    if not ezkl.gen_settings(args["model"], args["settings"], py_run_args=ra):
        raise RequestError("EzklError", "gen_settings returned false for a batch variant")
    return {"settings": _read_json(args["settings"])}


def op_run_onnx(args):
    """Run the float model with onnxruntime (the reference the circuit is compared against)."""
    import numpy as np
    import onnxruntime as ort

    _require_file(args["model"], "ONNX model")
    sess = ort.InferenceSession(args["model"], providers=["CPUExecutionProvider"])
    inputs = sess.get_inputs()
    shapes = [[d if isinstance(d, int) else 1 for d in inp.shape] for inp in inputs]
    sizes = [int(np.prod(s)) for s in shapes]
    outs = []
    for sample in args["inputs"]:
        # A sample is flat: the input tensors one after another; so is the reply: every output tensor.
        flat = np.asarray(sample, dtype=np.float32).reshape(-1)
        feeds, at = {}, 0
        for inp, shape, size in zip(inputs, shapes, sizes):
            feeds[inp.name] = flat[at : at + size].reshape(shape)
            at += size
        result = sess.run(None, feeds)
        outs.append([float(v) for r in result for v in np.asarray(r).reshape(-1)])
    return {"outputs": outs}


def op_gen_settings(args):
    import ezkl

    _require_file(args["model"], "ONNX model")
    ra = ezkl.PyRunArgs()
    ra.input_visibility = args.get("inputVisibility", "public")
    ra.output_visibility = args.get("outputVisibility", "public")
    ra.param_visibility = args.get("paramVisibility", "fixed")
    if args.get("logrows") is not None:
        ra.logrows = int(args["logrows"])
    # The settings search (prover/src/models/tune.ts) sets EZKL's layout knobs per candidate.
    for key, attr in (
        ("decompBase", "decomp_base"),
        ("decompLegs", "decomp_legs"),
        ("numInnerCols", "num_inner_cols"),
        ("inputScale", "input_scale"),
        ("paramScale", "param_scale"),
    ):
        if args.get(key) is not None:
            setattr(ra, attr, int(args[key]))
    ok = ezkl.gen_settings(args["model"], args["settings"], py_run_args=ra)
    if not ok:
        raise RequestError("EzklError", "gen_settings returned false")
    return {"settings": _read_json(args["settings"])}


def op_calibrate(args):
    import ezkl

    _require_file(args["data"], "calibration data")
    kwargs = {}
    if args.get("maxLogrows") is not None:
        kwargs["max_logrows"] = int(args["maxLogrows"])
    if args.get("scales") is not None:
        kwargs["scales"] = [int(s) for s in args["scales"]]
    ok = ezkl.calibrate_settings(
        args["data"], args["model"], args["settings"], args.get("target", "resources"), **kwargs
    )
    if not ok:
        raise RequestError("EzklError", "calibrate_settings returned false")
    return {"settings": _read_json(args["settings"])}


def op_compile(args):
    import ezkl

    if not ezkl.compile_circuit(args["model"], args["compiled"], args["settings"]):
        raise RequestError("EzklError", "compile_circuit returned false")
    return {}


def op_gen_srs(args):
    import ezkl

    ezkl.gen_srs(args["srs"], int(args["logrows"]))
    return {}


def op_setup(args):
    import ezkl

    _require_file(args["srs"], "SRS")
    ok = ezkl.setup(args["compiled"], args["vk"], args["pk"], srs_path=args["srs"])
    if not ok:
        raise RequestError("EzklError", "setup returned false")
    return {}


def op_witness(args):
    import ezkl

    _require_file(args["data"], "input data")
    w = ezkl.gen_witness(args["data"], args["compiled"], args["witness"])
    return {"inputs": w["inputs"], "outputs": w["outputs"]}


def op_witness_batch(args):
    """Witnesses for many inputs in one round trip (used to measure the circuit's accuracy)."""
    import ezkl

    results = []
    tmp_data = args["scratch"] + ".data.json"
    tmp_wit = args["scratch"] + ".witness.json"
    counts = args.get("inputCounts") or None
    try:
        for sample in args["inputs"]:
            tensors, at = [], 0
            for n in counts or [len(sample)]:  # EZKL's input file holds one flat array per input tensor
                tensors.append(sample[at : at + n])
                at += n
            with open(tmp_data, "w") as f:
                json.dump({"input_data": tensors}, f)
            w = ezkl.gen_witness(tmp_data, args["compiled"], tmp_wit)
            results.append({"inputs": w["inputs"], "outputs": w["outputs"]})
    finally:
        for p in (tmp_data, tmp_wit):
            if os.path.exists(p):
                os.remove(p)
    return {"witnesses": results}


def op_prove(args):
    import ezkl

    for key, what in (("witness", "witness"), ("pk", "proving key"), ("srs", "SRS")):
        _require_file(args[key], what)
    measure_peak = bool(args.get("measurePeak"))
    if measure_peak:
        _reset_peak_rss()  # the settings search wants this proof's own peak, not the worker's lifetime peak
    proof = ezkl.prove(args["witness"], args["compiled"], args["pk"], args["proof"], srs_path=args["srs"])
    return {
        "instances": proof["instances"],
        "hexProof": proof["proof"],
        "peakRssBytes": _peak_rss() if measure_peak else None,
    }


def _reset_peak_rss() -> None:
    """Reset this process's peak RSS (Linux >= 4.0: write 5 to clear_refs) so the next reading is one op's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss():
    """Peak resident set size in bytes since the last reset (VmHWM), or None where /proc is absent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def op_verify(args):
    import ezkl

    try:
        ok = ezkl.verify(args["proof"], args["settings"], args["vk"], srs_path=args["srs"])
    except Exception as exc:
        # EZKL raises for a proof that does not verify; that is an answer, not a worker failure.
        return {"valid": False, "reason": str(exc)[:500]}
    return {"valid": bool(ok), "reason": None if ok else "verify returned false"}


def op_create_evm_verifier(args):
    """Write the Solidity verifier. EZKL writes the .sol first and then downloads solc to produce an
    ABI; offline that download fails. The .sol is what we need (the project compiles it with its own
    solc), so a failure after the file exists is reported as a note, not an error."""
    import ezkl

    sol = args["sol"]
    if os.path.exists(sol):
        os.remove(sol)
    note = None

    async def run():
        return await ezkl.create_evm_verifier(
            args["vk"], args["settings"], sol, args["abi"], srs_path=args["srs"], reusable=False
        )

    try:
        asyncio.run(run())
    except Exception as exc:
        if not (os.path.exists(sol) and os.path.getsize(sol) > 0):
            raise RequestError("EzklError", f"create_evm_verifier failed before writing {sol}: {exc}")
        note = f"EZKL's own solc step failed after writing the verifier (expected offline): {str(exc)[:200]}"
    return {"note": note}


def op_create_evm_vka(args):
    """Write the verifying-key artifact (VKA) the reusable verifier takes: bincode Vec<[u8; 32]> (an 8-byte
    little-endian length, then the words)."""
    import ezkl

    for key, what in (("vk", "verifying key"), ("settings", "settings"), ("srs", "SRS")):
        _require_file(args[key], what)

    async def run():
        r = ezkl.create_evm_vka(args["vk"], args["settings"], args["vka"], srs_path=args["srs"])
        return (await r) if hasattr(r, "__await__") else r

    asyncio.run(run())
    if not os.path.exists(args["vka"]):
        raise RequestError("EzklError", f"create_evm_vka wrote no {args['vka']}")
    return {}


def op_create_reusable_verifier(args):
    """Write EZKL's reusable verifier (`Halo2VerifierReusable`, one contract for every circuit). Its source does
    not depend on the circuit (verified byte-identical for several), so it is rendered from a throwaway
    two-element Add model built in `scratch`, on a throwaway dev SRS (the verifier embeds no SRS point: those
    travel in each VKA). As for the single-model verifier, EZKL's solc download fails offline after the .sol
    exists, which is reported as a note."""
    import ezkl
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    scratch, sol = args["scratch"], args["sol"]
    os.makedirs(scratch, exist_ok=True)
    p = lambda name: os.path.join(scratch, name)  # noqa: E731
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    c = numpy_helper.from_array(np.array([[1.0, 2.0]], dtype=np.float32), name="c")
    graph = helper.make_graph([helper.make_node("Add", ["x", "c"], ["y"])], "tiny", [x], [y], [c])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, p("tiny.onnx"))
    ra = ezkl.PyRunArgs()
    ra.input_visibility, ra.output_visibility, ra.param_visibility = "public", "public", "fixed"
    ra.logrows, ra.decomp_base, ra.decomp_legs, ra.num_inner_cols = 12, 1024, 3, 1
    ra.input_scale, ra.param_scale = 7, 7
    if not ezkl.gen_settings(p("tiny.onnx"), p("settings.json"), py_run_args=ra):
        raise RequestError("EzklError", "gen_settings failed for the reusable verifier's template circuit")
    ezkl.compile_circuit(p("tiny.onnx"), p("tiny.ezkl"), p("settings.json"))
    ezkl.gen_srs(p("tiny.srs"), 12)
    ezkl.setup(p("tiny.ezkl"), p("vk.key"), p("pk.key"), p("tiny.srs"))
    if os.path.exists(sol):
        os.remove(sol)
    note = None

    async def run():
        return await ezkl.create_evm_verifier(
            p("vk.key"), p("settings.json"), sol, p("verifier.abi"), srs_path=p("tiny.srs"), reusable=True
        )

    try:
        asyncio.run(run())
    except Exception as exc:
        if not (os.path.exists(sol) and os.path.getsize(sol) > 0):
            raise RequestError("EzklError", f"create_evm_verifier(reusable) failed before writing {sol}: {exc}")
        note = f"EZKL's own solc step failed after writing the verifier (expected offline): {str(exc)[:200]}"
    return {"note": note}


def op_sleep(args):
    """For tests of timeouts and crashes only: block like a long proof would."""
    time.sleep(float(args.get("seconds", 1)))
    return {}


def _read_json(path):
    with open(path) as f:
        return json.load(f)


OPS = {
    "hello": op_hello,
    "inspect_onnx": op_inspect_onnx,
    "prepare_onnx": op_prepare_onnx,
    "run_onnx": op_run_onnx,
    "batch_onnx": op_batch_onnx,
    "variant_settings": op_variant_settings,
    "gen_settings": op_gen_settings,
    "calibrate": op_calibrate,
    "compile": op_compile,
    "gen_srs": op_gen_srs,
    "setup": op_setup,
    "witness": op_witness,
    "witness_batch": op_witness_batch,
    "prove": op_prove,
    "verify": op_verify,
    "create_evm_verifier": op_create_evm_verifier,
    "create_evm_vka": op_create_evm_vka,
    "create_reusable_verifier": op_create_reusable_verifier,
    "sleep": op_sleep,
}


def main() -> int:
    _die_with_parent()
    out = _protocol_stream()

    def reply(obj):
        out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        out.flush()

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            op = OPS.get(req.get("op"))
            if op is None:
                raise RequestError("UnknownOp", f"unknown op {req.get('op')!r}")
            started = time.perf_counter()
            result = op(req.get("args") or {})
            reply({"id": req_id, "ok": True, "result": result, "ms": (time.perf_counter() - started) * 1000})
        except RequestError as exc:
            error = {"type": exc.type_name, "message": str(exc)}
            if exc.hint:
                error["hint"] = exc.hint
            reply({"id": req_id, "ok": False, "error": error})
        except Exception as exc:  # an EZKL failure: report it with its text, keep serving
            traceback.print_exc(file=sys.stderr)
            reply({"id": req_id, "ok": False, "error": {"type": "EzklError", "message": f"{type(exc).__name__}: {exc}"}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
