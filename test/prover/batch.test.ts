import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CircuitSettings } from "../../prover/src/engine/engine.js";
import { InvalidModelError, UserInputError } from "../../prover/src/errors.js";
import { auditVariants } from "../../prover/src/models/audit.js";
import { buildModel } from "../../prover/src/models/build.js";
import { loadArtifact } from "../../prover/src/models/store.js";
import {
  derivationProblem,
  parseBatchList,
  registeredBlockLayoutProblem,
  stackRows,
  variantModel,
} from "../../prover/src/models/variants.js";
import { RegistrationRefusedError, variantParams } from "../../prover/src/chain/register.js";
import { sha256File } from "../../prover/src/util/hash.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { zkinfer } from "../helpers/cli.js";
import { builtExample, builtExampleBatches, exampleSource, sharedEngine } from "../helpers/models.js";

/**
 * Batch variants of digits-mlp (`model build --batch 1,4,8`): built once per run and shared
 * (test/helpers/models.ts), real EZKL key setup at each batch. The proofs are in
 * test/contracts/batch.real.test.ts.
 */
describe("batch variants (model build --batch)", function () {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "zkinfer-batch-test-"));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("compiles the same ONNX at batch 4 and 8: one model hash, each variant its own settings, keys, VKA and block layout", async () => {
    const base = await builtExample("digits-mlp");
    const model = await builtExampleBatches("digits-mlp");
    expect(model.dir).to.equal(base.dir);
    const m = model.manifest;
    expect(m.hashes.model).to.equal(base.manifest.hashes.model);
    // A cache from an earlier `--batch 1,4,8,16` may hold more variants: the build adds, never drops.
    expect(m.variants.map((v) => v.batch)).to.include.members([4, 8]);
    const baseSettings = JSON.parse(readFileSync(model.file("settings"), "utf8")) as CircuitSettings;
    const [v4, v8] = [4, 8].map((n) => m.variants.find((v) => v.batch === n)!);
    for (const v of [v4!, v8!]) {
      const view = variantModel(model, v.batch);
      expect(view.manifest.hashes.model).to.equal(m.hashes.model); // one model hash: the version's ONNX
      expect(v.circuit.numInstances).to.equal(74 * v.batch);
      // One request's block: 64 inputs at 64·i, 10 outputs at 64·N + 10·i.
      expect(v.block).to.deep.equal({
        inputs: [{ name: "input", offset: 0, count: 64 }],
        outputs: [{ name: "logits", offset: 64 * v.batch, count: 10 }],
      });
      expect(v.circuit.instanceLayout.inputs[0]!.shape).to.deep.equal([v.batch, 64]);
      expect(v.circuit.logrows).to.be.greaterThan(m.circuit.logrows);
      expect(v.check).to.deep.equal({ samples: v.batch, identical: true });
      // The files are what the manifest says, and the settings derive from batch 1's.
      expect(await sha256File(view.file("vk"))).to.equal(v.hashes.vk);
      expect(await sha256File(view.file("settings"))).to.equal(v.hashes.settings);
      const settings = JSON.parse(readFileSync(view.file("settings"), "utf8")) as CircuitSettings;
      expect(derivationProblem(baseSettings, settings, v.batch)).to.equal(null);
      expect(settings.run_args.variables).to.deep.equal([["batch_size", v.batch]]);
      expect(settings.model_output_scales).to.deep.equal(baseSettings.model_output_scales);
      // digits-mlp's objective is proofSize: the fewest inner columns, whatever the screen predicts for time; with no
      // Freivalds phase (every variant) the proof and VKA keep batch 1's shape (the suite verifier's fixed cost).
      expect(v.objective).to.equal("proofSize");
      expect(v.numInnerCols).to.equal(1);
      expect(settings.run_args.disable_freivalds).to.equal(true);
      expect(v.vka.words).to.equal(m.vka.words);
      expect(() => view.file("verifierSource")).to.throw(/no single-model verifier/);
    }
    expect(v4!.onnx.sha256).to.equal(v8!.onnx.sha256); // the one symbolic-batch graph
    expect(new Set([m.vka.digest, v4!.vka.digest, v8!.vka.digest]).size).to.equal(3);
  });

  it("builds again as a cache hit: no key setup for a variant that exists", async () => {
    const model = await builtExampleBatches("digits-mlp");
    const pkBefore = await sha256File(variantModel(model, 8).file("pk"));
    const started = performance.now();
    const again = await buildModel(await exampleSource("digits-mlp"), { engine: sharedEngine(), batch: [8, 4] });
    expect(performance.now() - started).to.be.below(5_000); // key setup at batch 8 takes 10-30 s here
    expect(again.cacheHit).to.equal(true);
    expect(again.manifest.variants).to.deep.equal(model.manifest.variants);
    expect(await sha256File(variantModel(again, 8).file("pk"))).to.equal(pkBefore);
  });

  it("rewrites a static batch-1 graph to a symbolic batch axis deterministically; a symbolic graph is kept byte for byte", async () => {
    const engine = sharedEngine();
    const model = await builtExampleBatches("digits-mlp");
    const a = join(scratch, "a.onnx");
    const b = join(scratch, "b.onnx");
    const again = join(scratch, "again.onnx");
    expect((await engine.batchOnnx({ model: model.file("onnx"), out: a })).changed).to.equal(true);
    expect((await engine.batchOnnx({ model: model.file("onnx"), out: b })).changed).to.equal(true);
    expect(readFileSync(a).equals(readFileSync(b))).to.equal(true);
    expect(await sha256File(a)).to.equal(model.manifest.variants[0]!.onnx.sha256); // what the build compiled, and the audit repeats
    const info = await engine.inspectOnnx(a);
    expect(info.inputs.map((t) => t.shape)).to.deep.equal([["batch_size", 64]]);
    expect(info.outputs.map((t) => t.shape)).to.deep.equal([["batch_size", 10]]);
    expect((await engine.batchOnnx({ model: a, out: again })).changed).to.equal(false);
    expect(readFileSync(again).equals(readFileSync(a))).to.equal(true);
  });

  it("refuses graphs that have no batch variant, each with a hint: rows mixed, a batch of 1 fixed inside, a static batch of 2", async () => {
    const dir = join(scratch, "graphs");
    execFileSync(join(projectRoot, ".venv/bin/python"), [join(projectRoot, "test/fixtures/batch_graphs.py"), dir]);
    const expected: Record<string, RegExp> = {
      "mixes-rows": /differs from the same sample alone: the graph mixes samples/,
      "fixed-one": /does not run at batch 2/,
      "batch-two": /leading axis of tensor 'x' is 2; a batch variant starts from batch 1/,
    };
    expect(readdirSync(dir).sort()).to.deep.equal(Object.keys(expected).sort());
    for (const [name, message] of Object.entries(expected)) {
      const err = await sharedEngine()
        .batchOnnx({ model: join(dir, name, "network.onnx"), out: join(dir, name, "variant.onnx") })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err, name).to.be.instanceOf(InvalidModelError);
      expect((err as InvalidModelError).message, name).to.match(message);
      expect((err as InvalidModelError).hint, name)
        .to.be.a("string")
        .and.not.equal("");
    }
  });

  it("refuses a bad batch list with one error and a hint (CLI and model.json)", async () => {
    for (const bad of ["0", "4,x", "65", ""]) {
      expect(() => parseBatchList(bad, "--batch"), bad).to.throw(UserInputError, /batch/);
    }
    expect(() => parseBatchList([4, 2.5], 'model.json "batch"')).to.throw(UserInputError, /2\.5 is not a batch size/);
    expect(parseBatchList("16,4,4,8", "--batch")).to.deep.equal([1, 4, 8, 16]);
    const r = await zkinfer(["model", "build", join(projectRoot, "examples/models/digits-mlp"), "--batch", "4,abc"]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^error: --batch: "abc" is not a batch size from 1 to 64$/m);
    expect(r.stderr).to.match(/^hint: give batch sizes from 1 to 64, e\.g\. --batch 1,4,8,16$/m);
    expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace
  });

  it("stacks requests' inputs per tensor and pads the unclaimed blocks with zeros", () => {
    const tensors = [
      { name: "a", shape: [1, 2], offset: 0, count: 2, scale: 0 },
      { name: "b", shape: [1, 1], offset: 2, count: 1, scale: 0 },
    ];
    expect(
      stackRows(
        tensors,
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        3,
      ),
    ).to.deep.equal([1, 2, 4, 5, 0, 0, 3, 6, 0]);
    expect(() => stackRows(tensors, [[1, 2, 3]], 0)).to.throw(UserInputError);
    expect(() => stackRows(tensors, [[1, 2]], 2)).to.throw(UserInputError, /input 0 has 2 values, the model takes 3/);
  });

  describe("model audit of the variants", () => {
    /** A copy of the artifact directory with batch 4 only (files copied, never hard-linked: the test edits them). */
    async function copyWithBatch4(): Promise<string> {
      const model = await builtExampleBatches("digits-mlp");
      const dir = mkdtempSync(join(scratch, "audit-"));
      for (const f of Object.values(model.manifest.files)) copyFileSync(join(model.dir, f), join(dir, f));
      mkdirSync(join(dir, "batch-4"));
      for (const f of readdirSync(join(model.dir, "batch-4")))
        copyFileSync(join(model.dir, "batch-4", f), join(dir, "batch-4", f));
      const v4 = model.manifest.variants.find((v) => v.batch === 4)!;
      writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...model.manifest, variants: [v4] }, null, 2));
      return dir;
    }
    const results = (checks: { link: string; result: string }[]) => Object.fromEntries(checks.map((c) => [c.link, c.result]));

    it("catches a variant whose VKA is not the one its graph and settings give (the digest of another circuit)", async () => {
      const model = await builtExampleBatches("digits-mlp");
      const dir = await copyWithBatch4();
      const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
      m.variants[0].vka.digest = model.manifest.variants.find((v) => v.batch === 8)!.vka.digest;
      writeFileSync(join(dir, "manifest.json"), JSON.stringify(m, null, 2));
      const audit = await auditVariants(sharedEngine(), await loadArtifact(dir));
      expect(audit.ok).to.equal(false);
      expect(results(audit.checks)).to.deep.equal({
        "batch 4: graph (rewrite of network.onnx, sha256)": "match",
        "batch 4: settings.json (sha256)": "match",
        "batch 4: settings derive from batch 1's": "match",
        "batch 4: SRS (sha256)": "match",
        "batch 4: SRS provenance": "match",
        "batch 4: verifying key (sha256)": "match",
        "batch 4: VKA digest (keccak256)": "MISMATCH",
      });
    });

    it("catches variant settings that do not derive from batch 1's (another input scale), even with the manifest updated to match", async () => {
      const dir = await copyWithBatch4();
      const path = join(dir, "batch-4", "settings.json");
      const s = JSON.parse(readFileSync(path, "utf8")) as CircuitSettings;
      s.run_args.input_scale = s.run_args.input_scale - 1;
      writeFileSync(path, JSON.stringify(s));
      const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
      m.variants[0].hashes.settings = await sha256File(path); // the attacker republishes a consistent manifest
      writeFileSync(join(dir, "manifest.json"), JSON.stringify(m, null, 2));
      const audit = await auditVariants(sharedEngine(), await loadArtifact(dir));
      expect(audit.ok).to.equal(false);
      const derive = audit.checks.find((c) => c.link === "batch 4: settings derive from batch 1's")!;
      expect(derive.result).to.equal("MISMATCH");
      expect(derive.actual).to.match(/^run argument input_scale is 12, batch 1 has 13$/);
      expect(results(audit.checks)["batch 4: settings.json (sha256)"]).to.equal("match");
    });

    it("against the variants registered with the version: the list, each registered and stored digest", async () => {
      const model = await builtExampleBatches("digits-mlp");
      const dir = await copyWithBatch4();
      const v4 = model.manifest.variants.find((v) => v.batch === 4)!;
      const other = model.manifest.variants.find((v) => v.batch === 8)!.vka.digest;
      // The registry holds batch 4 with another circuit's digest, and also a batch 8 the published files lack.
      const audit = await auditVariants(sharedEngine(), await loadArtifact(dir), {
        registered: [
          { batchSize: 4, vkaDigest: other, storedVkaDigest: other },
          { batchSize: 8, vkaDigest: other, storedVkaDigest: other },
        ],
      });
      expect(audit.ok).to.equal(false);
      const r = results(audit.checks);
      expect(r["batch variants registered with the version"]).to.equal("MISMATCH");
      expect(r["batch 4: VKA digest (keccak256)"]).to.equal("match");
      expect(r["batch 4: VKA digest registered with the version"]).to.equal("MISMATCH");
      expect(r["batch 4: VKA stored on-chain (keccak256)"]).to.equal("match");
      const good = await auditVariants(sharedEngine(), await loadArtifact(dir), {
        registered: [{ batchSize: 4, vkaDigest: v4.vka.digest, storedVkaDigest: v4.vka.digest }],
      });
      expect(good.checks.filter((c) => c.result === "MISMATCH")).to.deep.equal([]);
    });
  });

  it("the registry's block layout holds for one input and one output tensor only: register refuses others' variants", async () => {
    const model = await builtExampleBatches("digits-mlp");
    const { inputs, outputs } = model.manifest.circuit.instanceLayout;
    expect(registeredBlockLayoutProblem({ inputs, outputs })).to.equal(null);
    const split = [
      { ...outputs[0]!, name: "a", count: 5, shape: [1, 5] },
      { ...outputs[0]!, name: "b", offset: outputs[0]!.offset + 5, count: 5, shape: [1, 5] },
    ];
    expect(registeredBlockLayoutProblem({ inputs, outputs: split })).to.equal("1 input and 2 output tensors");
    const twoOutputs = {
      ...model,
      manifest: { ...model.manifest, circuit: { ...model.manifest.circuit, instanceLayout: { inputs, outputs: split } } },
    };
    let refused: unknown;
    await variantParams(twoOutputs).catch((e: unknown) => (refused = e));
    expect(refused).to.be.instanceOf(RegistrationRefusedError);
    expect((refused as Error).message).to.match(/has 1 input and 2 output tensors; batch variants can be registered only/);
  });
});
