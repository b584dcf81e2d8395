import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../prover/src/util/logger.js";
import { startService, type RunningService } from "../../prover/src/service/service.js";
import { builtExample, exampleSource, sharedEngine } from "../helpers/models.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { waitFor } from "../helpers/wait.js";

const TOKEN = "test-token-0123456789abcdef";

describe("prover service: HTTP API and off-chain jobs (real EZKL)", () => {
  let dir: string;
  let svc: RunningService;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-svc-"));
    const [digits, diabetes] = [await builtExample("digits-mlp"), await builtExample("diabetes-mlp")];
    svc = await startService(
      {
        models: [digits.dir, diabetes.dir],
        dbPath: join(dir, "jobs.sqlite"),
        host: "127.0.0.1",
        port: 0,
        workers: 1,
        maxAttempts: 2,
        apiToken: TOKEN,
      },
      silentLogger,
    );
  });
  after(async () => {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = (path: string, init?: RequestInit) => fetch(`${svc.url}${path}`, init);
  const post = (body: unknown) =>
    api("/jobs", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });

  it("listens on loopback and answers /health, /ready and /openapi.json", async () => {
    expect(svc.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await api("/health")).status).to.equal(200);
    const ready = await api("/ready");
    expect(ready.status).to.equal(200);
    const doc = (await (await api("/openapi.json")).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).to.equal("3.1.0");
    expect(Object.keys(doc.paths)).to.include.members(["/jobs", "/jobs/{id}", "/health", "/ready", "/metrics"]);
  });

  it("proves a submitted job; its outputs match the float model within the model's tolerance", async () => {
    const source = await exampleSource("diabetes-mlp");
    const heldout = await readJson<Heldout>(source.heldout!, "heldout.json");
    const res = await post({ model: "diabetes-mlp", input: heldout.inputs[1] });
    expect(res.status).to.equal(202);
    const { id } = (await res.json()) as { id: string };
    const job = await waitFor(
      "the job to finish",
      async () => {
        const j = (await (await api(`/jobs/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
          state: string;
          result: { outputsFloat: number[]; proof: string } | null;
          error: string | null;
        };
        return j.state === "done" || j.state === "failed" ? j : undefined;
      },
      120_000,
    );
    expect(job.state, job.error ?? "").to.equal("done");
    const [float] = await sharedEngine().runOnnx((await builtExample("diabetes-mlp")).file("onnx"), [heldout.inputs[1]!]);
    expect(Math.abs(job.result!.outputsFloat[0]! - float![0]!)).to.be.at.most(source.meta!.tolerance as number);
    expect(job.result!.proof).to.match(/^0x[0-9a-f]+$/);
  });

  it("answers bad jobs with 400 and a reason, without queueing them", async () => {
    const before = (await svc.store.list({ limit: 1000 })).length;
    const cases: [unknown, RegExp][] = [
      [{ model: "nope", input: [1] }, /model 'nope' is not served here/],
      [{ model: "diabetes-mlp", input: [1, 2, 3] }, /has 3 values but model 'diabetes-mlp' takes 10/],
      [{ model: "diabetes-mlp", input: [1e9, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, /outside the circuit's range/],
      [{ model: "diabetes-mlp", input: ["x", 0, 0, 0, 0, 0, 0, 0, 0, 0] }, /not a finite number/],
      [{ input: [1] }, /"model" is required/],
    ];
    for (const [body, pattern] of cases) {
      const res = await post(body);
      expect(res.status).to.equal(400);
      const err = (await res.json()) as { error: string };
      expect(err.error).to.match(pattern);
    }
    const bad = await api("/jobs", { method: "POST", body: "{not json", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).to.equal(400);
    expect((await svc.store.list({ limit: 1000 })).length).to.equal(before);
    expect((await api("/jobs/00000000-0000-0000-0000-000000000000")).status).to.equal(404);
  });

  it("exposes Prometheus metrics: jobs by state and the proof latency histogram", async () => {
    const text = await (await api("/metrics")).text();
    expect(text).to.match(/^zkinfer_jobs\{state="done"\} [1-9]/m);
    expect(text).to.match(/^zkinfer_proof_seconds_count\{model="diabetes-mlp"\} [1-9]/m);
    expect(text).to.match(/^# TYPE zkinfer_proof_seconds histogram$/m);
  });
});
