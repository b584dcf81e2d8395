"""Bare EZKL timings for `npm run bench`: the baseline zkinfer is compared against.

Calls ezkl.gen_witness / ezkl.prove / ezkl.verify directly on a built model's artifacts (the same
files zkinfer uses), timing each call with time.perf_counter. No zkinfer code is involved. Round i
proves input file i (cycled) and verifies that proof.

Standalone:  .venv/bin/python bench/bare_ezkl.py --artifacts <dir> --inputs a.json ... --work <dir> --runs 5
    one warm-up round ("first"), then --runs rounds; prints one JSON object.
Stepped (what bench/prove.ts uses, so it can alternate zkinfer and bare rounds under the same load):
    without --runs: prints {"ready": ...} once EZKL is imported, then runs one round per line read on
    stdin (the line is the round index) and prints its timings as one JSON line; at end of input it
    prints {"peakRssKiB": ...} and exits.
"""

import argparse
import json
import os
import sys
import time


def peak_rss_kib():
    """VmHWM (peak resident set size, KiB) of this process, from /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifacts", required=True, help="a zkinfer build directory (manifest.json, network.ezkl, pk.key, ...)")
    ap.add_argument("--inputs", required=True, nargs="+", help='input files in EZKL\'s form {"input_data": [[...]]}')
    ap.add_argument("--work", required=True, help="scratch directory for witnesses and proofs")
    ap.add_argument("--runs", type=int, help="standalone mode: a warm-up round, then this many")
    args = ap.parse_args()
    # EZKL (Rust) may print on its own; keep stdout for our JSON, as zkinfer's worker does.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(obj) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    t0 = time.perf_counter()
    import ezkl

    import_ms = (time.perf_counter() - t0) * 1000

    with open(os.path.join(args.artifacts, "manifest.json")) as f:
        files = json.load(f)["files"]
    path = lambda key: os.path.join(args.artifacts, files[key])  # noqa: E731
    compiled, pk, vk, srs, settings = path("circuit"), path("pk"), path("vk"), path("srs"), path("settings")
    os.makedirs(args.work, exist_ok=True)

    def one_round(i: int) -> dict:
        data = args.inputs[i % len(args.inputs)]
        witness = os.path.join(args.work, f"bare-{i}.witness.json")
        proof = os.path.join(args.work, f"bare-{i}.proof.json")
        t = time.perf_counter()
        ezkl.gen_witness(data, compiled, witness)
        witness_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        ezkl.prove(witness, compiled, pk, proof, srs_path=srs)
        prove_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        ok = ezkl.verify(proof, settings, vk, srs_path=srs)
        verify_ms = (time.perf_counter() - t) * 1000
        if not ok:
            raise SystemExit(f"bare EZKL: the proof of round {i} does not verify")
        return {"witness": witness_ms, "prove": prove_ms, "verify": verify_ms}

    info = {"ezklVersion": getattr(ezkl, "__version__", "unknown"), "python": sys.version.split()[0], "importMs": import_ms}
    if args.runs is not None:
        first = one_round(0)
        rounds = [one_round(i) for i in range(args.runs)]
        emit({**info, "first": first, "runs": rounds, "peakRssKiB": peak_rss_kib()})
        return 0

    emit({"ready": info})
    for line in sys.stdin:
        if line.strip():
            emit(one_round(int(line)))
    emit({"peakRssKiB": peak_rss_kib()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
