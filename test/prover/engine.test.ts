import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EzklEngine } from "../../prover/src/engine/engine.js";
import { EngineCrashedError, EngineTimeoutError, InvalidModelError } from "../../prover/src/errors.js";
import { parseInput } from "../../prover/src/models/input.js";
import { proveInference } from "../../prover/src/models/inference.js";
import { builtExample, exampleSource } from "../helpers/models.js";
import { isAlive, waitFor } from "../helpers/wait.js";

describe("EZKL engine (real worker)", () => {
  it("reports the EZKL version it hosts", async () => {
    const engine = new EzklEngine();
    try {
      const info = await engine.info();
      expect(info.ezklVersion).to.equal("23.0.5");
      expect(info.protocol).to.equal(1);
    } finally {
      await engine.close();
    }
  });

  it("refuses a malformed ONNX file with a typed error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zkinfer-"));
    const engine = new EzklEngine();
    try {
      writeFileSync(join(dir, "bad.onnx"), Buffer.from("this is not a protobuf"));
      const err = await engine.inspectOnnx(join(dir, "bad.onnx")).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidModelError);
      expect((err as InvalidModelError).shortMessage).to.match(/is not a valid ONNX model/);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a worker killed in the middle of a proof, and the next call succeeds", async () => {
    const model = await builtExample("digits-mlp");
    const engine = new EzklEngine();
    const dir = mkdtempSync(join(tmpdir(), "zkinfer-"));
    try {
      const heldout = JSON.parse(readFileSync((await exampleSource("digits-mlp")).heldout!, "utf8")) as { inputs: number[][] };
      const input = parseInput(heldout.inputs[0], model.manifest);
      await engine.info();
      const firstPid = engine.worker.pid!;
      const proving = proveInference(engine, model, input, { out: join(dir, "p1.json") });
      // Kill once the prove call is in flight (witness takes a few ms; proving takes seconds).
      await waitFor("the prove call", async () => engine.calls.get("prove") === 1, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(firstPid, "SIGKILL");
      const err = await proving.catch((e: unknown) => e);
      expect(err).to.be.instanceOf(EngineCrashedError);
      expect((err as EngineCrashedError).op).to.equal("prove");
      expect((err as EngineCrashedError).signal).to.equal("SIGKILL");
      expect((err as EngineCrashedError).retryable).to.equal(true);
      expect(existsSync(join(dir, "p1.json"))).to.equal(false);

      const again = await proveInference(engine, model, input, { out: join(dir, "p2.json") });
      expect(engine.worker.pid).to.not.equal(firstPid);
      expect(engine.worker.starts).to.equal(2);
      const ok = await engine.verify({
        proof: again.proofPath,
        settings: model.file("settings"),
        vk: model.file("vk"),
        srs: model.file("srs"),
      });
      expect(ok.valid).to.equal(true);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("times out a call, stops the worker (no orphan) and serves the next call", async () => {
    const engine = new EzklEngine({ timeoutMs: 1500 });
    try {
      await engine.info();
      const pid = engine.worker.pid!;
      const err = await engine.worker.call("sleep", { seconds: 30 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(EngineTimeoutError);
      await waitFor("the timed-out worker to exit", async () => !isAlive(pid), 5000);
      const info = await engine.info();
      expect(info.pid).to.not.equal(pid);
    } finally {
      await engine.close();
    }
  });
});
