import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CircuitSettings } from "../../prover/src/engine/engine.js";
import { InvalidInputError } from "../../prover/src/errors.js";
import { buildModel } from "../../prover/src/models/build.js";
import { parseInput } from "../../prover/src/models/input.js";
import { circuitWarnings, predictLogrows } from "../../prover/src/models/tune.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { builtExample, exampleSource, sharedEngine } from "../helpers/models.js";

const settingsOf = (dir: string) => JSON.parse(readFileSync(join(dir, "settings.json"), "utf8")) as CircuitSettings;

describe("settings search in model build (real EZKL)", function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-tune-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of ["digits-mlp", "diabetes-mlp"] as const) {
    it(`${name}: keeps a smaller circuit than EZKL's calibration, records every candidate, and settings.json holds the winner`, async () => {
      const { manifest: m, dir: built } = await builtExample(name);
      const t = m.tuning;
      expect(t.mode).to.equal("on");
      if (t.mode !== "on") return;
      expect(t.chosen).to.be.a("string");
      expect(m.layout.logrows).to.be.below(t.ezkl.logrows);
      const chosen = t.candidates.find((c) => c.id === t.chosen)!;
      expect(chosen.status).to.equal("measured");
      expect(chosen.proveMs).to.be.greaterThan(0);
      expect(chosen.pkBytes).to.equal(m.sizes.pk);
      const measured = t.candidates.filter((c) => c.status === "measured");
      expect(measured.length).to.be.at.least(1).and.at.most(t.budget.maxMeasured);
      expect(t.candidates.filter((c) => c.status === "screened").length).to.be.greaterThan(measured.length);
      // The decomposition is never narrower than EZKL's own.
      expect(t.rangeBits).to.be.at.least(t.ezkl.decompLegs * Math.log2(t.ezkl.decompBase));
      const ra = settingsOf(built).run_args as Record<string, unknown>;
      expect([ra.logrows, ra.decomp_base, ra.decomp_legs, ra.num_inner_cols]).to.deep.equal([
        m.layout.logrows,
        m.layout.decompBase,
        m.layout.decompLegs,
        m.layout.numInnerCols,
      ]);
      expect(m.circuit.logrows).to.equal(m.layout.logrows);
      // Logrows follows from the rows and the range table as predicted.
      expect(predictLogrows(m.layout.numRows, m.layout.decompBase, settingsOf(built).run_args.lookup_range)).to.equal(
        m.layout.logrows,
      );
      expect(m.accuracy!.maxAbsError).to.be.at.most(m.accuracy!.tolerance!);
      expect(m.inputRange!.maxAbs).to.be.at.least(m.inputRange!.dataMaxAbs);
      expect(BigInt(m.inputRange!.maxAbsFixed) < BigInt(m.inputRange!.decompositionBound)).to.equal(true);
    });
  }

  it("--tune off yields EZKL's own calibration, on the same data", async () => {
    const engine = sharedEngine();
    const source = await exampleSource("diabetes-mlp");
    const off = await buildModel(source, { engine, tune: { mode: "off" } });
    const bare = join(dir, "bare.json");
    await engine.genSettings({ model: source.onnx, settings: bare });
    const ezkl = await engine.calibrate({ data: source.calibration!, model: source.onnx, settings: bare, target: "resources" });
    const mine = settingsOf(off.dir);
    expect(off.manifest.tuning).to.deep.include({ mode: "off" });
    for (const k of ["logrows", "decomp_base", "decomp_legs", "num_inner_cols", "input_scale", "param_scale", "lookup_range"])
      expect(mine.run_args[k], k).to.deep.equal(ezkl.run_args[k]);
    expect(mine.num_rows).to.equal(ezkl.num_rows);
    expect(off.manifest.layout.logrows).to.equal(15);
    // The tuned build of the same model is a different artifact (the tuning options are in the build key).
    expect(off.manifest.buildKey).to.not.equal((await builtExample("diabetes-mlp")).manifest.buildKey);
  });

  it("refuses an input outside the measured range before it reaches EZKL, naming the bound", async () => {
    const { manifest: m } = await builtExample("diabetes-mlp");
    const over = m.inputRange!.maxAbs * 2;
    const err = (() => {
      try {
        parseInput([0, 0, over, 0, 0, 0, 0, 0, 0, 0], m);
      } catch (e) {
        return e;
      }
    })();
    expect(err).to.be.instanceOf(InvalidInputError);
    expect((err as InvalidInputError).shortMessage).to.equal(
      `input element 2 (${over}) is outside the circuit's range (|x| <= ${m.inputRange!.maxAbs})`,
    );
    expect((err as InvalidInputError).hint).to.match(/was built for inputs with \|x\| <= /);
    expect(parseInput([0, 0, m.inputRange!.maxAbs, 0, 0, 0, 0, 0, 0, 0], m).fixed[2]).to.equal(BigInt(m.inputRange!.maxAbsFixed));
  });

  it("warns about a Softmax output with its measured cost before any key is made", async () => {
    const onnx = join(dir, "softmax.onnx");
    // A 4->3 logistic regression exported with its Softmax (what a new user would export).
    const py = `
import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
rng = np.random.default_rng(0)
W = rng.normal(size=(4, 3)).astype(np.float32); b = rng.normal(size=(3,)).astype(np.float32)
nodes = [helper.make_node("Gemm", ["input", "W", "b"], ["logits"]), helper.make_node("Softmax", ["logits"], ["output"], axis=1)]
g = helper.make_graph(nodes, "lr", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3])],
    initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8
onnx.save(m, ${JSON.stringify(onnx)})
`;
    const r = spawnSync(join(projectRoot, ".venv/bin/python"), ["-c", py], { encoding: "utf8" });
    expect(r.status, r.stderr).to.equal(0);
    const engine = sharedEngine();
    const info = await engine.inspectOnnx(onnx);
    expect(info.opTypes).to.deep.equal({ Gemm: 1, Softmax: 1 });
    const data = join(dir, "softmax.data.json");
    writeFileSync(data, JSON.stringify({ input_data: [[0.5, -0.2, 0.1, 0.9, -1, 1, 0.3, 0]] }));
    const s = join(dir, "softmax.settings.json");
    await engine.genSettings({ model: onnx, settings: s });
    const settings = await engine.calibrate({ data, model: onnx, settings: s, target: "resources" });
    const warnings = circuitWarnings(info, settings);
    expect(warnings).to.have.length(1);
    const span = settings.run_args.lookup_range[1] - settings.run_args.lookup_range[0];
    expect(warnings[0]).to.equal(
      `Softmax in the model: its lookup table spans ${span} values (2^${Math.ceil(Math.log2(span + 32))} rows) and sets logrows to ${settings.run_args.logrows}; ` +
        "export the logits instead (drop the final Softmax: argmax is unchanged) or compute it outside the circuit",
    );
    // The example models (no exp/softmax, small lookups) build without a warning.
    expect((await builtExample("digits-mlp")).manifest.warnings).to.deep.equal([]);
  });
});
