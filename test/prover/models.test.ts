import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EzklEngine } from "../../prover/src/engine/engine.js";
import { feltToLeHex, intToFelt } from "../../prover/src/engine/felt.js";
import { buildModel } from "../../prover/src/models/build.js";
import { parseInput } from "../../prover/src/models/input.js";
import { proveInference, verifyProofFile, type EzklProofFile } from "../../prover/src/models/inference.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { EIP170_CODE_LIMIT } from "../../prover/src/chain/solc.js";
import { builtExample, EXAMPLE_MODELS, exampleSource, sharedEngine } from "../helpers/models.js";

describe("model build, prove and verify (real EZKL)", function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-proofs-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of EXAMPLE_MODELS) {
    describe(name, () => {
      it("builds a manifest with every hash, the instance layout and a deployable verifier", async () => {
        const { manifest: m } = await builtExample(name);
        expect(m.ezklVersion).to.equal("23.0.5");
        for (const h of Object.values(m.hashes)) if (h !== null) expect(h).to.match(/^[0-9a-f]{64}$/);
        expect(m.circuit.visibility).to.deep.equal({
          input: "Public",
          output: "Public",
          params: "Fixed",
        });
        const [inp, out] = [m.circuit.instanceLayout.inputs[0]!, m.circuit.instanceLayout.outputs[0]!];
        expect(inp.offset).to.equal(0);
        expect(out.offset).to.equal(inp.count);
        expect(m.circuit.numInstances).to.equal(inp.count + out.count);
        expect(m.verifier.deployedSize).to.be.greaterThan(0).and.at.most(EIP170_CODE_LIMIT);
        expect(m.verifier.codeHash).to.match(/^0x[0-9a-f]{64}$/);
        expect(m.accuracy).to.not.equal(null);
        expect(m.accuracy!.samples).to.be.at.least(50);
      });

      it("proves held-out inputs whose decoded outputs match the float model within the stated tolerance", async () => {
        const model = await builtExample(name);
        const source = await exampleSource(name);
        const tolerance = source.meta?.tolerance;
        expect(tolerance, "model.json states a tolerance").to.be.a("number");
        const heldout = await readJson<Heldout>(source.heldout!, "heldout.json");
        const engine = sharedEngine();
        const samples = heldout.inputs.slice(0, 2);
        const floats = await engine.runOnnx(model.file("onnx"), samples);
        for (const [i, sample] of samples.entries()) {
          const input = parseInput(sample, model.manifest);
          const r = await proveInference(engine, model, input, {
            out: join(dir, `${name}-${i}.json`),
          });
          expect(r.outputs.float).to.have.length(floats[i]!.length);
          r.outputs.float.forEach((v, j) => expect(Math.abs(v - floats[i]![j]!)).to.be.at.most(tolerance as number));
          expect(r.instances.slice(0, input.fixed.length).map((f, k) => f === intToFelt(input.fixed[k]!))).to.not.include(false);
          const v = await verifyProofFile(engine, model, r.proofPath);
          expect(v.valid, v.reason ?? "").to.equal(true);
          expect(v.outputs!.fixed).to.deep.equal(r.outputs.fixed);
        }
      });

      it("rejects a proof with one flipped byte, and one with a changed output instance", async () => {
        const model = await builtExample(name);
        const engine = sharedEngine();
        const path = join(dir, `${name}-0.json`);
        const original = JSON.parse(readFileSync(path, "utf8")) as EzklProofFile & { proof: number[] };

        const flipped = structuredClone(original);
        const at = Math.floor(flipped.proof.length / 2);
        flipped.proof[at] = flipped.proof[at]! ^ 0x01;
        delete flipped.hex_proof;
        writeFileSync(join(dir, "flipped.json"), JSON.stringify(flipped));
        const r1 = await verifyProofFile(engine, model, join(dir, "flipped.json"));
        expect(r1.valid).to.equal(false);

        const changed = structuredClone(original);
        const inst = changed.instances[0]!;
        const last = inst.length - 1;
        const bumped = BigInt("0x" + Buffer.from(inst[last]!, "hex").reverse().toString("hex")) + 1n;
        inst[last] = feltToLeHex(bumped);
        writeFileSync(join(dir, "changed.json"), JSON.stringify(changed));
        const r2 = await verifyProofFile(engine, model, join(dir, "changed.json"));
        expect(r2.valid).to.equal(false);
        // The untouched proof still verifies: the failures above are the tampering, nothing else.
        expect((await verifyProofFile(engine, model, path)).valid).to.equal(true);
      });
    });
  }

  describe("across models", () => {
    it("rejects a proof of one model presented as another", async () => {
      const digits = await builtExample("digits-mlp");
      const diabetes = await builtExample("diabetes-mlp");
      const r = await verifyProofFile(sharedEngine(), diabetes, join(dir, "digits-mlp-0.json"));
      expect(r.valid).to.equal(false);
      expect(r.reason).to.match(/public instances/);
      expect(digits.manifest.hashes.vk).to.not.equal(diabetes.manifest.hashes.vk);
    });

    it("reuses a finished build: the second build runs no key setup", async () => {
      await builtExample("digits-mlp");
      const engine = new EzklEngine();
      try {
        const again = await buildModel(await exampleSource("digits-mlp"), {
          engine,
        });
        expect(again.cacheHit).to.equal(true);
        expect(engine.calls.get("setup") ?? 0).to.equal(0);
        expect(engine.calls.get("calibrate") ?? 0).to.equal(0);
      } finally {
        await engine.close();
      }
    });
  });
});
