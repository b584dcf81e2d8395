import { offerFor } from "../prover/src/sdk/inference.js";
import { fork } from "node:child_process";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import { inferenceCoordinatorAbi } from "../prover/src/chain/abis.js";
import type { ChainClients } from "../prover/src/chain/clients.js";
import type { ServiceConfig } from "../prover/src/service/service.js";
import type { Job } from "../prover/src/service/store.js";
import { projectRoot } from "../prover/src/util/paths.js";
import { FEE, requestIdOf, type Registered, type Suite } from "./chain.js";
import { descendants, mib, peakRssKiB } from "./machine.js";
import type { ChildReply, ChildRequest } from "./service-child.js";
import { summarize, type Summary } from "./stats.js";

/** The service settings the bench uses on its automining local chain (recorded in the results). */
export const SERVICE_SETTINGS = { confirmations: 0, pollMs: 200, replaceAfterMs: 30_000, maxAttempts: 3 } as const;
/** The bench's services take its warm-up jobs with this API token. */
export const BENCH_API_TOKEN = "zkinfer-bench-api-token";

export interface ServiceHandle {
  url: string;
  pid: number;
  /** The service's last log lines (for error messages). */
  log(): string;
  /** Peak RSS (MiB) of the service's node process and of each of its EZKL worker processes, now. */
  peakRss(): { nodeMiB: number | null; workersMiB: (number | null)[] };
  stop(): Promise<void>;
}

/** `startService` (prover/src/service/service.ts) in a child process of its own: see service-child.ts. */
export async function startServiceChild(config: ServiceConfig): Promise<ServiceHandle> {
  const child = fork(join(projectRoot, "bench/service-child.ts"), [], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "advanced", // bigints in the config
  });
  let log = "";
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-8000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const next = () =>
    new Promise<ChildReply>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the service process exited (${code}):\n${log}`));
      child.once("exit", onExit);
      child.once("message", (m: ChildReply) => {
        child.off("exit", onExit);
        resolve(m);
      });
    });
  const send = (m: ChildRequest) => child.send(m);
  const ready = next();
  send({ start: config });
  const r = await ready;
  if (!("ready" in r)) throw new Error(`the service did not start: ${"error" in r ? r.error : JSON.stringify(r)}\n${log}`);
  const pid = child.pid!;
  return {
    url: r.ready.url,
    pid,
    log: () => log,
    peakRss() {
      const workers = descendants(pid).filter((p) => p.cmdline.includes("worker.py"));
      return { nodeMiB: mib(peakRssKiB(pid)), workersMiB: workers.map((w) => mib(peakRssKiB(w.pid))) };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const stopped = next().catch(() => undefined);
      send({ stop: true });
      await stopped;
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Requester {
  clients: ChainClients;
  suite: Suite;
}

interface Sent {
  requestId: bigint;
  /** Date.now() just before the request was sent, and when its receipt came back. */
  sentAt: number;
  minedAt: number;
}

export async function sendRequest(r: Requester, reg: Registered, input: bigint[]): Promise<Hex> {
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
  return r.clients.walletClient.writeContract({
    address: r.suite.coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "requestInference",
    args: [reg.modelId, reg.version, input, offerFor(deadline, { fee: FEE })],
    value: FEE,
    gas: 3_000_000n,
    account: r.clients.account,
    chain: r.clients.chain,
  });
}

export async function mined(r: Requester, hash: Hex, sentAt: number): Promise<Sent> {
  const receipt = await r.clients.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (receipt.status !== "success") throw new Error(`requestInference reverted (${hash})`);
  return { requestId: requestIdOf(receipt.logs), sentAt, minedAt: Date.now() };
}

const FULFILLED = 2; // IInferenceCoordinator.RequestStatus.Fulfilled

/**
 * Poll the coordinator (every 100 ms) until every request is fulfilled; returns when each was first
 * seen fulfilled (Date.now()). A job the service failed ends the wait with its reason.
 */
export async function waitFulfilled(
  r: Requester,
  svc: ServiceHandle,
  ids: bigint[],
  timeoutMs: number,
): Promise<Map<bigint, number>> {
  const done = new Map<bigint, number>();
  const started = Date.now();
  let lastJobCheck = started;
  while (done.size < ids.length) {
    const open = ids.filter((id) => !done.has(id));
    const states = await Promise.all(
      open.map((id) =>
        r.clients.publicClient.readContract({
          address: r.suite.coordinator,
          abi: inferenceCoordinatorAbi,
          functionName: "requestState",
          args: [id],
        }),
      ),
    );
    const now = Date.now();
    for (const [i, [status]] of states.entries()) if (Number(status) === FULFILLED) done.set(open[i]!, now);
    if (done.size === ids.length) break;
    if (now - lastJobCheck > 2000) {
      lastJobCheck = now;
      const failed = (await jobs(svc)).find((j) => j.state === "failed" && open.some((id) => String(id) === j.requestId));
      if (failed) throw new Error(`the service failed request ${failed.requestId}: ${failed.error}\n${svc.log()}`);
    }
    if (now - started > timeoutMs)
      throw new Error(`${open.length} request(s) not fulfilled within ${timeoutMs / 1000} s\n${svc.log()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  return done;
}

async function jobs(svc: ServiceHandle): Promise<Job[]> {
  return (await (await fetch(`${svc.url}/jobs?kind=chain&limit=1000`)).json()) as Job[];
}

export interface LatencyFigures {
  /** From sending requestInference to seeing the request fulfilled on-chain (client clock). */
  requestToFulfilled: Summary;
  /** The service's share, from its job store: request mined -> job stored; proof; proof -> fulfilment mined. */
  breakdown: { pickup: Summary; prove: Summary; submit: Summary };
}

/** `n` requests one after another, each waiting for its fulfilment: the latency of an idle service. */
export async function measureLatency(
  r: Requester,
  svc: ServiceHandle,
  reg: Registered,
  inputs: bigint[][],
  n: number,
  onEach: (i: number, ms: number) => void,
): Promise<LatencyFigures> {
  const sent: Sent[] = [];
  const fulfilledAt: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = Date.now();
    const s = await mined(r, await sendRequest(r, reg, inputs[i % inputs.length]!), t0);
    const done = await waitFulfilled(r, svc, [s.requestId], 600_000);
    sent.push(s);
    fulfilledAt.push(done.get(s.requestId)!);
    onEach(i, fulfilledAt[i]! - t0);
  }
  // The client can see a fulfilment before the service has recorded its receipt: wait for the record.
  let js: Job[] = [];
  for (const until = Date.now() + 60_000; ; await new Promise((res) => setTimeout(res, 200))) {
    const byId = new Map((await jobs(svc)).map((j) => [j.requestId, j]));
    js = sent.map((s) => byId.get(String(s.requestId))!);
    if (js.every((j) => j?.state === "fulfilled" && j.finishedAt !== null && j.provedAt !== null && j.result)) break;
    if (Date.now() > until) throw new Error(`the service has not recorded its fulfilments:\n${JSON.stringify(js)}`);
  }
  return {
    requestToFulfilled: summarize(sent.map((s, i) => fulfilledAt[i]! - s.sentAt)),
    breakdown: {
      pickup: summarize(js.map((j, i) => j.createdAt - sent[i]!.minedAt)),
      prove: summarize(js.map((j) => j.result!.proveMs)),
      submit: summarize(js.map((j) => j.finishedAt! - j.provedAt!)),
    },
  };
}

export interface BurstFigures {
  requests: number;
  workers: number;
  /** From sending the first request to seeing the last one fulfilled. */
  makespanMs: number;
  perMinute: number;
  requestToFulfilled: Summary;
}

/** `k` requests sent back to back; throughput is k over the time until the last is fulfilled. */
export async function measureBurst(
  r: Requester,
  svc: ServiceHandle,
  reg: Registered,
  inputs: bigint[][],
  k: number,
  workers: number,
): Promise<BurstFigures> {
  const t0 = Date.now();
  const pending: { hash: Hex; sentAt: number }[] = [];
  for (let i = 0; i < k; i++) {
    const sentAt = Date.now();
    pending.push({ hash: await sendRequest(r, reg, inputs[i % inputs.length]!), sentAt });
  }
  const sent = await Promise.all(pending.map((p) => mined(r, p.hash, p.sentAt)));
  const done = await waitFulfilled(
    r,
    svc,
    sent.map((s) => s.requestId),
    1_200_000,
  );
  const end = Math.max(...done.values());
  return {
    requests: k,
    workers,
    makespanMs: end - t0,
    perMinute: Math.round((k / ((end - t0) / 60_000)) * 10) / 10,
    requestToFulfilled: summarize(sent.map((s) => done.get(s.requestId)! - s.sentAt)),
  };
}

export function serviceConfig(opts: {
  models: string[];
  dbPath: string;
  workers: number;
  rpcUrl: string;
  privateKey: Hex;
  suite: Suite;
  startBlock: bigint;
  /** `--batch-window-ms` (default 0: batch only what is already pending). */
  batchWindowMs?: number;
}): ServiceConfig {
  const coordinator: Address = opts.suite.coordinator;
  return {
    models: opts.models,
    dbPath: opts.dbPath,
    host: "127.0.0.1",
    port: 0,
    workers: opts.workers,
    maxAttempts: SERVICE_SETTINGS.maxAttempts,
    apiToken: BENCH_API_TOKEN,
    chain: {
      config: {
        rpcUrl: opts.rpcUrl,
        privateKey: opts.privateKey,
        registry: opts.suite.registry,
        verifierRoute: opts.suite.verifierRoute,
        coordinator,
        source: "bench",
      },
      coordinator,
      startBlock: opts.startBlock,
      confirmations: SERVICE_SETTINGS.confirmations,
      pollMs: SERVICE_SETTINGS.pollMs,
      replaceAfterMs: SERVICE_SETTINGS.replaceAfterMs,
      ...(opts.batchWindowMs !== undefined ? { batchWindowMs: opts.batchWindowMs } : {}),
    },
  };
}

/** One off-chain job per input, waited for: each worker proves once before any measured request. */
export async function warmUpJobs(svc: ServiceHandle, model: string, inputs: number[][]): Promise<void> {
  const ids: string[] = [];
  for (const input of inputs) {
    const res = await fetch(`${svc.url}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${BENCH_API_TOKEN}` },
      body: JSON.stringify({ model, input }),
    });
    if (res.status !== 202) throw new Error(`warm-up job refused (${res.status}): ${await res.text()}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  const deadline = Date.now() + 300_000;
  for (;;) {
    const states = await Promise.all(
      ids.map(async (id) => ((await (await fetch(`${svc.url}/jobs/${id}`)).json()) as { state: string }).state),
    );
    if (states.every((s) => s === "done")) return;
    if (states.includes("failed") || Date.now() > deadline) throw new Error(`warm-up jobs: ${states.join(", ")}\n${svc.log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
