import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EzklEngine } from "../../prover/src/engine/engine.js";
import { InputShapeError, InvalidModelError } from "../../prover/src/errors.js";
import { buildModel, type BuildResult } from "../../prover/src/models/build.js";
import { parseInput } from "../../prover/src/models/input.js";
import { proveInference } from "../../prover/src/models/inference.js";
import { resolveModelSource } from "../../prover/src/models/source.js";
import { sha256File } from "../../prover/src/util/hash.js";
import { cacheDir, projectRoot } from "../../prover/src/util/paths.js";
import { zkinfer } from "../helpers/cli.js";

/**
 * ONNX as exporters write it (test/fixtures/exports.py makes each case with the `onnx` package, shaped
 * as torch.onnx.export and skl2onnx write it), built and proved with real EZKL. Each build uses its own
 * cache directory, so nothing here is a cache hit from an earlier run.
 */
describe("model build: ONNX as exporters write it (real EZKL)", function () {
  let dir: string;
  let cache: string;
  let engine: EzklEngine;
  const saved = process.env.ZKINFER_CACHE_DIR;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-exports-"));
    cache = mkdtempSync(join(tmpdir(), "zkinfer-exports-cache-"));
    execFileSync(join(projectRoot, ".venv/bin/python"), [join(projectRoot, "test/fixtures/exports.py"), dir]);
    // The dev SRS per logrows is the same whatever the model: share the run's, do not generate it again.
    const devSrs = join(cacheDir(), "srs"); // the run's cache, before it is pointed elsewhere below
    if (existsSync(devSrs)) symlinkSync(devSrs, join(cache, "srs"));
    process.env.ZKINFER_CACHE_DIR = cache;
    engine = new EzklEngine();
  });
  after(async () => {
    await engine.close();
    if (saved === undefined) delete process.env.ZKINFER_CACHE_DIR;
    else process.env.ZKINFER_CACHE_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  // EZKL's own calibration (no settings search): these tests are about what the build takes, not how it tunes.
  const build = async (name: string): Promise<BuildResult> =>
    buildModel(await resolveModelSource(join(dir, name)), { engine, tune: { mode: "off" } });

  /** The circuit's outputs for the sample input against onnxruntime's, on the prepared graph. */
  async function expectProvedLikeOnnx(model: BuildResult, input: unknown, tolerance: number) {
    const parsed = parseInput(input, model.manifest);
    const proof = await proveInference(engine, model, parsed, { out: join(dir, `${model.manifest.name}.proof.json`) });
    const [reference] = await engine.runOnnx(model.file("onnx"), [parsed.values]);
    expect(proof.outputs.float).to.have.length(reference!.length);
    proof.outputs.float.forEach((v, i) => expect(Math.abs(v - reference![i]!), `output ${i}`).to.be.below(tolerance));
    expect(
      (
        await engine.verify({
          proof: proof.proofPath,
          settings: model.file("settings"),
          vk: model.file("vk"),
          srs: model.file("srs"),
        })
      ).valid,
    ).to.equal(true);
    return proof;
  }

  it("embeds external weight data, and the build key and model hash cover the weights", async () => {
    const first = await build("external");
    expect(first.manifest.source.prepared.join(" ")).to.match(/embedded the external weight data/);
    expect(first.manifest.hashes.model).to.equal(await sha256File(first.file("onnx")));
    expect(readdirSync(first.dir)).to.not.include("network.onnx.data");

    // New weights in the .data file alone: a different model, never a cache hit of the old one.
    expect((await build("external")).cacheHit).to.equal(true);
    execFileSync(join(projectRoot, ".venv/bin/python"), [
      "-c",
      "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[0]^=0x40; open(p,'wb').write(b)",
      join(dir, "external/network.onnx.data"),
    ]);
    const second = await build("external");
    expect(second.cacheHit).to.equal(false);
    expect(second.manifest.hashes.model).to.not.equal(first.manifest.hashes.model);
  });

  it("maps a symbolic batch axis named 'batch' to EZKL's batch_size", async () => {
    const m = await build("batch-axis");
    expect(m.manifest.source.prepared.join(" ")).to.match(/symbolic batch axis 'batch' mapped to EZKL's batch_size/);
    expect(m.manifest.circuit.instanceLayout.inputs[0]!.shape).to.deep.equal([1, 4]);
  });

  it("keeps skl2onnx's probability tensor, drops ZipMap and the label output, and says so", async () => {
    const m = await build("zipmap");
    const notes = m.manifest.source.prepared.join("\n");
    expect(notes).to.match(/removed ZipMap: output 'output_probability' is now the probability tensor 'probabilities'/);
    expect(notes).to.match(/dropped the label output 'output_label'/);
    expect(notes).to.match(/rewrote ai\.onnx\.ml LinearClassifier as MatMul \+ Add \+ Sigmoid/);
    expect(notes).to.match(/checked the rewrite against the exported graph with onnxruntime/);
    expect(m.manifest.circuit.instanceLayout.outputs.map((t) => [t.name, t.count])).to.deep.equal([["probabilities", 2]]);
    const proof = await expectProvedLikeOnnx(m, { input_data: [[0.3, -0.2, 0.5, 0.1]] }, 0.01);
    const [p0, p1] = proof.outputs.float;
    expect(p0! + p1!).to.be.closeTo(1, 0.01); // binary logistic: the two probabilities
  });

  it("takes a model with two inputs, as named tensors, and checks each tensor's length", async () => {
    const m = await build("two-inputs");
    expect(m.manifest.circuit.instanceLayout.inputs.map((t) => [t.name, t.offset, t.count])).to.deep.equal([
      ["a", 0, 3],
      ["b_in", 3, 2],
    ]);
    await expectProvedLikeOnnx(m, { inputs: { b_in: [0.5, -0.5], a: [0.1, -0.2, 0.3] } }, 0.01);
    expect(() => parseInput({ inputs: { a: [0.1, 0.2], b_in: [1, 2, 3] } }, m.manifest)).to.throw(
      InputShapeError,
      /tensor 'a' has 2 values but model 'two-inputs' takes 3/,
    );
    expect(() => parseInput({ inputs: { a: [0.1, 0.2, 0.3] } }, m.manifest)).to.throw(/no value for 'b_in'/);
  });

  it("returns a model's two outputs as named tensors, each at its own scale", async () => {
    const m = await build("two-outputs");
    const proof = await expectProvedLikeOnnx(m, { input_data: [[0.2, 0.4, -0.6, 0.8]] }, 0.01);
    expect(proof.outputs.tensors.map((t) => [t.name, t.float.length])).to.deep.equal([
      ["class_logits", 3],
      ["score", 1],
    ]);
    expect(proof.outputs.tensors.flatMap((t) => t.float)).to.deep.equal(proof.outputs.float);
  });

  it("refuses a tree ensemble at the first step, naming the op and what to do, before any key is made", async () => {
    const before = engine.calls.get("setup") ?? 0;
    const err = await build("tree").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidModelError);
    expect((err as InvalidModelError).shortMessage).to.match(
      /uses TreeEnsembleRegressor \(domain ai\.onnx\.ml\), which EZKL cannot prove/,
    );
    expect((err as InvalidModelError).hint).to.match(/hummingbird-ml/);
    expect(engine.calls.get("setup") ?? 0).to.equal(before);
    expect(readdirSync(join(cache, "models")).filter((d) => d.startsWith("tree"))).to.deep.equal([]);

    const cli = await zkinfer(["model", "build", join(dir, "tree")], { ZKINFER_CACHE_DIR: cache });
    expect(cli.status).to.equal(1);
    const errors = cli.stderr.split("\n").filter((l) => l.startsWith("error: "));
    expect(errors, cli.stderr).to.have.length(1);
    expect(errors[0]).to.match(/TreeEnsembleRegressor/);
    expect(cli.stderr).to.match(/^hint: .*hummingbird-ml/m);
    expect(cli.stderr).to.not.match(/^\s+at .+:\d+:\d+\)?$/m);
  });
});
