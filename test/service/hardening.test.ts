import { expect } from "chai";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startService, type RunningService, type ServiceConfig } from "../../prover/src/service/service.js";
import { cacheDir } from "../../prover/src/util/paths.js";
import { silentLogger } from "../../prover/src/util/logger.js";
import { builtExample } from "../helpers/models.js";
import { waitFor } from "../helpers/wait.js";

const TOKEN = "hardening-token-0123456789";

/** The HTTP API under abuse, and provers whose EZKL call stalls: in-process services, no chain. */
describe("prover service: hardening (HTTP abuse, quotas, stalled EZKL)", function () {
  let dir: string;
  const services: RunningService[] = [];
  let diabetesDir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-hardening-"));
    diabetesDir = (await builtExample("diabetes-mlp")).dir;
  });
  after(async () => {
    for (const s of services) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (over: Partial<ServiceConfig> = {}) => {
    const svc = await startService(
      {
        models: [diabetesDir],
        dbPath: join(dir, `jobs-${services.length}.sqlite`),
        host: "127.0.0.1",
        port: 0,
        workers: 0,
        maxAttempts: 3,
        ...over,
      },
      silentLogger,
    );
    services.push(svc);
    return svc;
  };
  const zeros = Array(10).fill(0);
  const post = (svc: RunningService, token?: string, localAddress = "127.0.0.1") =>
    new Promise<{ status: number; body: { error?: string; id?: string } }>((resolve, reject) => {
      const u = new URL("/jobs", svc.url);
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: "/jobs",
          method: "POST",
          localAddress,
          headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        },
        (res) => {
          let text = "";
          res.on("data", (d: Buffer) => (text += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) as { error?: string } }));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ model: "diabetes-mlp", input: zeros }));
    });
  const raw = (svc: RunningService, text: string) =>
    new Promise<string>((resolve, reject) => {
      const u = new URL(svc.url);
      const s = connect(Number(u.port), u.hostname, () => s.write(text));
      let got = "";
      s.on("data", (d) => (got += d.toString()));
      s.on("end", () => resolve(got));
      s.on("error", reject);
    });

  it("answers the request line `GET //[` with 400 and keeps serving", async () => {
    const svc = await start();
    const answer = await raw(svc, "GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(answer).to.match(/^HTTP\/1\.1 400/);
    expect(answer).to.match(/the request target is not a valid path/);
    expect(await raw(svc, "GARBAGE\r\n\r\n")).to.match(/^HTTP\/1\.1 400/);
    expect((await fetch(`${svc.url}/jobs/%E0%A4%A`)).status).to.equal(400);
    expect((await fetch(`${svc.url}/health`)).status).to.equal(200);
  });

  it("turns off-chain jobs off without a token, and requires the token once one is set", async () => {
    const open = await start();
    const off = await post(open);
    expect([off.status, off.body.error]).to.deep.equal([403, "off-chain jobs are off: this service has no API token"]);
    const svc = await start({ apiToken: TOKEN });
    expect((await post(svc)).status).to.equal(401);
    expect((await post(svc, "wrong-token-0123456789abc")).status).to.equal(401);
    const ok = await post(svc, TOKEN);
    expect(ok.status).to.equal(202);
    // Without the token, an off-chain job's input and result stay private.
    const seen = (await (await fetch(`${svc.url}/jobs/${ok.body.id}`)).json()) as { inputFixed: unknown; state: string };
    expect(seen.inputFixed).to.equal(null);
    const mine = (await (
      await fetch(`${svc.url}/jobs/${ok.body.id}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as {
      inputFixed: string[];
    };
    expect(mine.inputFixed).to.have.length(10);
  });

  it("refuses to bind beyond loopback without a token", async () => {
    const e = await start({ host: "0.0.0.0" }).then(
      () => undefined,
      (err: Error & { shortMessage?: string }) => err,
    );
    expect(e?.name).to.equal("ConfigError");
    expect(e?.shortMessage).to.equal("--host 0.0.0.0 exposes the HTTP API beyond this machine, and no API token is set");
  });

  it("caps the off-chain queue (503) and each client's pending jobs (429)", async () => {
    const svc = await start({ apiToken: TOKEN, http: { maxQueued: 3, clientQuota: 2 } });
    expect((await post(svc, TOKEN)).status).to.equal(202);
    expect((await post(svc, TOKEN)).status).to.equal(202);
    const quota = await post(svc, TOKEN);
    expect([quota.status, quota.body.error]).to.deep.equal([429, "client 127.0.0.1 has 2 off-chain jobs pending (quota 2)"]);
    expect((await post(svc, TOKEN, "127.0.0.2")).status).to.equal(202);
    const full = await post(svc, TOKEN, "127.0.0.3");
    expect([full.status, full.body.error]).to.deep.equal([503, "the off-chain queue is full (3 jobs)"]);
  });

  it("caps open connections and closes a connection whose headers do not arrive in time", async () => {
    const svc = await start({ http: { maxConnections: 2, headersTimeoutMs: 1000 } });
    const u = new URL(svc.url);
    const open = (): Promise<Socket> =>
      new Promise((resolve) => {
        const s = connect(Number(u.port), u.hostname, () => resolve(s));
        s.on("error", () => undefined).resume(); // read, or 'close' never comes
      });
    const closed = (s: Socket) =>
      new Promise<number>((resolve) => {
        const t0 = Date.now();
        if (s.destroyed) return resolve(0);
        s.once("close", () => resolve(Date.now() - t0));
      });
    const [a, b] = [await open(), await open()];
    a.write("GET /health HTTP/1.1\r\n"); // and never the rest
    const c = connect(Number(u.port), u.hostname); // over the cap: closed at once
    c.on("error", () => undefined).resume();
    expect(await closed(c)).to.be.below(1000);
    const slow = await closed(a);
    expect(slow).to.be.below(5000); // headers timeout, not the default minute
    b.destroy();
    expect((await fetch(`${svc.url}/health`)).status).to.equal(200);
  });

  it("stops a stalled EZKL call after 10x the measured proof time (at least 30 s), retries the job, and deletes proof files", async function () {
    const svc = await start({ apiToken: TOKEN, workers: 1, proveTimeoutMs: 40_000 });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const job = async (id: string) =>
      (await (await fetch(`${svc.url}/jobs/${id}`, { headers: auth })).json()) as {
        state: string;
        attempts: number;
        error: string;
      };
    const first = (await post(svc, TOKEN)).body.id!;
    await waitFor("the first proof (measures the proof time)", async () => (await job(first)).state === "done", 300_000);
    const second = (await post(svc, TOKEN)).body.id!;
    const pid = await waitFor(
      "the second job to be proving",
      async () => (await job(second)).state === "proving" && svc.enginePids()[0],
      60_000,
    );
    process.kill(pid, "SIGSTOP"); // EZKL hangs
    const t0 = Date.now();
    const done = await waitFor(
      "the retried job",
      async () => {
        const j = await job(second);
        return j.state === "done" || j.state === "failed" ? j : undefined;
      },
      300_000,
    );
    expect(done.state, done.error).to.equal("done");
    expect(done.attempts).to.equal(2);
    expect(Date.now() - t0).to.be.below(120_000);
    const proofs = join(cacheDir(), "service", "proofs", svc.nodeId.replace(/[^\w.-]/g, "_"));
    expect(readdirSync(proofs)).to.deep.equal([]);
  });
});
