import { join } from "node:path";
import { parseEventLogs, type Hex } from "viem";
import { inferenceCoordinatorAbi } from "../prover/src/chain/abis.js";
import type { ChainClients } from "../prover/src/chain/clients.js";
import { DEV_KEYS } from "../prover/src/chain/local-node.js";
import { parseInput } from "../prover/src/models/input.js";
import type { LoadedModel } from "../prover/src/models/store.js";
import type { Progress } from "../prover/src/util/progress.js";
import type { BatchSuite } from "./batch-fulfil.js";
import { mined, sendRequest, serviceConfig, startServiceChild, waitFulfilled, warmUpJobs } from "./service.js";
import { summarize, type Summary } from "./stats.js";

/** How the requests of one trial arrive: one every `spacingMs` (a stream), or all at once (a burst). */
export type Arrival = "stream" | "burst";

/** One fulfilment transaction the service sent for a trial's requests. */
export interface WindowFulfilment {
  /** The circuit's batch size (`BatchFulfilled.batchSize`; 1: `fulfill`). */
  batch: number;
  /** How many of the trial's requests it settled. */
  requests: number;
  gasUsed: number;
}

/** One service started with `--batch-window-ms windowMs`, `requests` requests, until all are fulfilled. */
export interface WindowTrial {
  windowMs: number;
  arrival: Arrival;
  round: number;
  /** Per request, in sending order: its requestInference receipt back -> seen fulfilled (client clock, 100 ms polls). */
  latencyMs: number[];
  fulfilments: WindowFulfilment[];
  /** Every transaction the prover account sent during the trial (fulfilments and any `lock`), and their gas. */
  proverTxs: number;
  proverGas: number;
}

/** Per (arrival, window), pooled over the rounds. */
export interface WindowPoint {
  windowMs: number;
  arrival: Arrival;
  rounds: number;
  latency: Summary;
  /** latency.median − the same arrival's median at window 0. */
  addedMs: number | null;
  /** Per round: the fulfilment transactions (circuit batch size, requests settled), in the order mined. */
  fulfilments: { batch: number; requests: number }[][];
  /** Fulfilment gas (the InferenceFulfilled transactions) / requests, per round. */
  fulfilGasPerRequest: number[];
  /** All of the prover's gas (fulfilments + locks) / requests, per round. */
  proverGasPerRequest: number[];
}

export interface WindowFigures {
  model: string;
  version: number;
  variants: number[];
  requests: number;
  spacingMs: number;
  windows: number[];
  rounds: number;
  burstRounds: number;
  trials: WindowTrial[];
  points: WindowPoint[];
}

/**
 * The latency the batching window adds: for each window W, a `zkinfer serve` (startService in its own process, one
 * worker, --batch-window-ms W) on the batch suite, where the model's version has its variants, started fresh for
 * each trial and warmed up with one off-chain proof; then `requests` requests from an EOA, one every `spacingMs`
 * (or all at once for the burst), until all are fulfilled. Rounds go over every W, the order reversed every other
 * round, so each W sees the same load.
 */
export async function measureWindow(a: {
  model: LoadedModel;
  heldout: number[][];
  setUp: BatchSuite;
  requester: ChainClients;
  /** The account the services send from (DEV_KEYS[1]). */
  prover: ChainClients;
  rpcUrl: string;
  windows: number[];
  rounds: number;
  burstRounds: number;
  requests: number;
  spacingMs: number;
  work: string;
  progress: Progress;
}): Promise<WindowFigures> {
  const { model, setUp, requester, progress } = a;
  const r = { clients: requester, suite: setUp.suite };
  const c = requester.publicClient;
  const proverAddress = a.prover.account.address.toLowerCase();
  let next = 200; // held-out samples from here on (the batch fulfilment takes 100..)

  const trial = async (windowMs: number, arrival: Arrival, round: number): Promise<WindowTrial> => {
    const startBlock = (await c.getBlockNumber({ cacheTime: 0 })) + 1n;
    const svc = await startServiceChild({
      ...serviceConfig({
        models: [model.dir],
        dbPath: join(a.work, `window-${arrival}-${windowMs}-${round}.sqlite`),
        workers: 1,
        rpcUrl: a.rpcUrl,
        privateKey: DEV_KEYS[1]!,
        suite: setUp.suite,
        startBlock,
        batchWindowMs: windowMs,
      }),
    });
    try {
      await warmUpJobs(svc, model.manifest.name, [a.heldout[0]!]);
      const t0 = Date.now();
      const pending: Promise<{ requestId: bigint; minedAt: number }>[] = [];
      for (let i = 0; i < a.requests; i++) {
        if (arrival === "stream") await sleep(t0 + i * a.spacingMs - Date.now());
        const input = parseInput(a.heldout[next++ % a.heldout.length]!, model.manifest).fixed;
        const sentAt = Date.now();
        const hash: Hex = await sendRequest(r, setUp.registered, input);
        pending.push(mined(r, hash, sentAt));
      }
      const sent = await Promise.all(pending);
      const ids = sent.map((s) => s.requestId);
      const done = await waitFulfilled(r, svc, ids, 600_000);
      const end = await c.getBlockNumber({ cacheTime: 0 });
      const fulfilments = await fulfilmentsOf(c, setUp.suite.coordinator, ids, startBlock, end);
      let proverTxs = 0;
      let proverGas = 0;
      for (let b = startBlock; b <= end; b++) {
        for (const tx of (await c.getBlock({ blockNumber: b, includeTransactions: true })).transactions) {
          if (tx.from.toLowerCase() !== proverAddress) continue;
          proverTxs++;
          proverGas += Number((await c.getTransactionReceipt({ hash: tx.hash })).gasUsed);
        }
      }
      return {
        windowMs,
        arrival,
        round,
        latencyMs: sent.map((s) => done.get(s.requestId)! - s.minedAt),
        fulfilments,
        proverTxs,
        proverGas,
      };
    } finally {
      await svc.stop();
    }
  };

  const trials: WindowTrial[] = [];
  const run = async (arrival: Arrival, rounds: number) => {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...a.windows].reverse() : a.windows;
      for (const w of order) {
        const t = await progress.step(
          `window ${w} ms, ${a.requests} requests ${arrival === "stream" ? `one every ${a.spacingMs} ms` : "at once"}, round ${round + 1}/${rounds}`,
          () => trial(w, arrival, round),
        );
        progress.note(
          `window ${w} ms (${arrival}): median ${(summarize(t.latencyMs).median / 1000).toFixed(2)} s, ` +
            `fulfilments of batch ${t.fulfilments.map((f) => `${f.batch} (${f.requests})`).join(", ")}`,
        );
        trials.push(t);
      }
    }
  };
  await run("stream", a.rounds);
  await run("burst", a.burstRounds);

  const points: WindowPoint[] = [];
  for (const arrival of ["stream", "burst"] as const) {
    for (const windowMs of a.windows) {
      const ts = trials.filter((t) => t.arrival === arrival && t.windowMs === windowMs);
      if (!ts.length) continue;
      const perRequest = (g: number) => Math.round(g / a.requests);
      points.push({
        windowMs,
        arrival,
        rounds: ts.length,
        latency: summarize(ts.flatMap((t) => t.latencyMs)),
        addedMs: null,
        fulfilments: ts.map((t) => t.fulfilments.map((f) => ({ batch: f.batch, requests: f.requests }))),
        fulfilGasPerRequest: ts.map((t) => perRequest(t.fulfilments.reduce((s, f) => s + f.gasUsed, 0))),
        proverGasPerRequest: ts.map((t) => perRequest(t.proverGas)),
      });
    }
  }
  for (const p of points) {
    const zero = points.find((q) => q.arrival === p.arrival && q.windowMs === 0);
    if (zero) p.addedMs = Math.round((p.latency.median - zero.latency.median) * 10) / 10;
  }
  return {
    model: model.manifest.name,
    version: setUp.registered.version,
    variants: setUp.registered.variants.map((v) => v.batchSize),
    requests: a.requests,
    spacingMs: a.spacingMs,
    windows: a.windows,
    rounds: a.rounds,
    burstRounds: a.burstRounds,
    trials,
    points,
  };
}

/** The transactions that emitted `InferenceFulfilled` for `ids` between two blocks, in block order. */
async function fulfilmentsOf(
  c: ChainClients["publicClient"],
  coordinator: Hex,
  ids: bigint[],
  fromBlock: bigint,
  toBlock: bigint,
): Promise<WindowFulfilment[]> {
  const events = await c.getContractEvents({
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    eventName: "InferenceFulfilled",
    fromBlock,
    toBlock,
    strict: true,
  });
  const mine = new Set(ids);
  const txs = [...new Set(events.filter((e) => mine.has(e.args.requestId)).map((e) => e.transactionHash))];
  const out: WindowFulfilment[] = [];
  for (const hash of txs) {
    const receipt = await c.getTransactionReceipt({ hash });
    const fulfilled = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: receipt.logs, eventName: "InferenceFulfilled" });
    const [batch] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: receipt.logs, eventName: "BatchFulfilled" });
    out.push({
      batch: batch ? Number(batch.args.batchSize) : 1,
      requests: fulfilled.filter((e) => mine.has(e.args.requestId)).length,
      gasUsed: Number(receipt.gasUsed),
    });
  }
  return out;
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, Math.max(0, ms)));
