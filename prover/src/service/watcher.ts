import { BaseError, HttpRequestError, RpcError, type Address, type Hex, type PublicClient } from "viem";
import { inferenceCoordinatorAbi } from "../chain/abis.js";
import { isZkinferError } from "../errors.js";
import { requestFromLog, requestState, type LockState, type RequestRecord } from "../sdk/terms.js";
import type { Logger } from "../util/logger.js";
import { ModelCatalog } from "./catalog.js";
import type { ServiceMetrics } from "./metrics.js";
import type { JobPolicy } from "./policy.js";
import type { FailCode, JobStore, NewJob } from "./store.js";

export interface WatcherContext {
  store: JobStore;
  catalog: ModelCatalog;
  logger: Logger;
  metrics: ServiceMetrics;
  signal: AbortSignal;
  wake: EventTarget;
  client: PublicClient;
  coordinator: Address;
  registry: Address;
  confirmations: number;
  startBlock: bigint;
  pollMs: number;
  /** Blocks per eth_getLogs call at most; a range the RPC refuses is split until it is accepted. */
  chunk: bigint;
  proofTimes: Map<string, number>;
  /** Extra time a fulfilment needs beyond the proof (sending, mining), in seconds. */
  deadlineMarginSec: number;
  /** The operator's admission policy (see policy.ts), after the built-in checks. */
  policy?: JobPolicy;
}

const LAST_BLOCK = "watcher.lastBlock";

/** What the watcher follows: requests (its jobs) and locks (each request's lock, which the calls on it take back). */
const WATCHED_EVENTS = inferenceCoordinatorAbi.filter(
  (x): x is Extract<(typeof inferenceCoordinatorAbi)[number], { type: "event"; name: "InferenceRequested" | "RequestLocked" }> =>
    x.type === "event" && (x.name === "InferenceRequested" || x.name === "RequestLocked"),
);

/**
 * Follows InferenceRequested from `startBlock`, `confirmations` blocks behind the head, and turns
 * each request into a durable job (with its terms, which every call on the request takes back), recording each
 * RequestLocked's lock with its job. The jobs and the new last-processed block are written in one
 * transaction, so a restart (or the next leader of a fleet) resumes exactly where the previous one
 * stopped and inserts nothing twice (a request id is unique in the store). A getLogs range the RPC
 * refuses (too many results, range limits) is halved until it is accepted, and grows back after.
 * RPC failures are retried with backoff, forever, and counted.
 */
export function createWatcher(ctx: WatcherContext) {
  const logger = ctx.logger.child({ component: "watcher" });
  let lastPollOk = 0;
  let head = 0n;
  /** The head block's timestamp (s): the chain's clock, which can run ahead of this machine's. */
  let headTime = 0;
  let chunk = ctx.chunk;

  const lastProcessed = async (): Promise<bigint> => {
    const v = await ctx.store.getKv(LAST_BLOCK);
    return v === undefined ? ctx.startBlock - 1n : BigInt(v);
  };

  /**
   * The requests and locks in [from, to], or in a prefix of it when the RPC refuses the whole: returns the logs and
   * the range's end.
   */
  async function logsIn(from: bigint, to: bigint) {
    for (;;) {
      try {
        const logs = await ctx.client.getLogs({
          address: ctx.coordinator,
          events: WATCHED_EVENTS,
          fromBlock: from,
          toBlock: to,
          strict: true,
        });
        return { logs, to };
      } catch (e) {
        if (to <= from || ctx.signal.aborted || !refusedByRpc(e)) throw e;
        ctx.metrics.rpcErrors.inc({ component: "watcher" });
        const half = (to - from + 1n) / 2n;
        logger.warn(
          { from: String(from), to: String(to), nextBlocks: String(half), err: (e as Error).message?.split("\n")[0] },
          "getLogs refused; splitting the range",
        );
        chunk = half;
        to = from + half - 1n;
      }
    }
  }

  async function poll(): Promise<boolean> {
    // The head block itself, not getBlockNumber: viem serves that from a 4 s cache, and --poll-ms
    // below it would not see new requests any sooner (the bench measured 2.6-2.9 s pickup at 200 ms).
    // Its timestamp is the chain's clock, which deadlines are checked against.
    const headBlock = await ctx.client.getBlock({ blockTag: "latest" });
    head = headBlock.number;
    headTime = Number(headBlock.timestamp);
    const target = head - BigInt(ctx.confirmations);
    let from = (await lastProcessed()) + 1n;
    let progressed = false;
    while (from <= target && !ctx.signal.aborted) {
      const to = from + chunk - 1n < target ? from + chunk - 1n : target;
      const { logs, to: done } = await logsIn(from, to);
      const jobs: NewJob[] = [];
      const locks: [string, LockState][] = [];
      for (const log of logs) {
        if (log.eventName === "InferenceRequested") jobs.push(await toJob(requestFromLog(log)));
        else {
          // Any prover's lock, kept with the job so that calls on the request can pass it back (see requests.ts).
          const { requestId, locker, lockedAt, price } = log.args;
          locks.push([String(requestId), { locker, lockedAt, price }]);
        }
      }
      const inserted = await ctx.store.insertAll(jobs, [LAST_BLOCK, done.toString()], locks);
      if (inserted) {
        logger.info({ from: String(from), to: String(done), requests: jobs.length, inserted }, "requests seen");
        ctx.wake.dispatchEvent(new Event("job"));
      }
      from = done + 1n;
      progressed = true;
      if (chunk < ctx.chunk) chunk = chunk * 2n > ctx.chunk ? ctx.chunk : chunk * 2n;
    }
    ctx.metrics.chainLagBlocks.set({}, Number(head - (await lastProcessed())));
    return progressed;
  }

  /** Failed "not served here" jobs whose request is still open: served now (a restart added the build)? Requeue them. */
  async function reviveNotServed(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    for (const job of await ctx.store.list({ state: "failed", failCode: "not_served", limit: 1000 })) {
      if (!job.modelId || job.version === null || (job.deadline ?? 0) <= now) continue;
      const r = await ctx.catalog.resolveOnChain(ctx.client, ctx.registry, job.modelId as Hex, job.version);
      if (!("served" in r)) continue;
      await ctx.store.revive(job.id, r.served.model.manifest.name);
      logger.info(
        { job: job.id, requestId: job.requestId, model: r.served.model.manifest.name },
        "now served: requeued a request failed as not served",
      );
      ctx.wake.dispatchEvent(new Event("job"));
    }
  }

  /** A request, from its `InferenceRequested` log (its terms and its unpacked input), as a job to store. */
  async function toJob(req: RequestRecord): Promise<NewJob> {
    const { terms, input } = req;
    const base = {
      kind: "chain" as const,
      requestId: req.requestId.toString(),
      modelId: terms.modelId,
      version: terms.version,
      inputFixed: input.map(String),
      deadline: Number(terms.deadline),
      fee: terms.maxPrice.toString(),
      blockNumber: Number(req.blockNumber),
      terms,
    };
    // The coordinator's own record first: a fresh store re-reading old blocks must not re-prove settled requests.
    const { status } = await requestState(ctx.client, ctx.coordinator, req.requestId);
    if (status === "fulfilled") return { ...base, model: "unknown", fulfilledNote: "already fulfilled on-chain" };
    const args = { modelId: terms.modelId, version: terms.version, input, deadline: terms.deadline };
    const resolved = await ctx.catalog.resolveOnChain(ctx.client, ctx.registry, args.modelId, Number(args.version));
    const served = "served" in resolved ? resolved.served : undefined;
    const fail = (reason: string, failCode: FailCode = "unservable") => {
      logger.warn({ requestId: base.requestId, reason }, "request cannot be served");
      ctx.metrics.jobsFailed.inc({ reason: failCode });
      return {
        ...base,
        model: served?.model.manifest.name ?? ("model" in resolved ? resolved.model : undefined) ?? "unknown",
        failedReason: reason,
        failCode,
      };
    };
    if (status === "refunded") return fail("the request was refunded on-chain", "expired");
    if (status === "cancelled") return fail("the requester cancelled the request", "expired");
    if (Number(args.deadline) < Math.max(Date.now() / 1000, headTime))
      return fail(
        `the request's deadline (${new Date(Number(args.deadline) * 1000).toISOString()}) passed before it was seen`,
        "expired",
      );
    if (!served) return fail((resolved as { reason: string }).reason, (resolved as { code: FailCode }).code);
    try {
      ModelCatalog.validateInput(served, args.input);
    } catch (e) {
      return fail(isZkinferError(e) ? e.shortMessage : String(e));
    }
    const expectedMs = ctx.proofTimes.get(served.model.manifest.name);
    if (expectedMs !== undefined) {
      // The coordinator compares the deadline with block.timestamp. A chain that mines many blocks
      // a second (an automining dev node) runs ahead of the wall clock, so take the later of the two.
      const left = Number(args.deadline) - Math.max(Date.now() / 1000, headTime);
      const need = expectedMs / 1000 + ctx.deadlineMarginSec;
      if (left < need)
        return fail(
          `deadline is ${Math.max(0, Math.round(left))} s away; a proof of this model takes ~${Math.round(need)} s here`,
        );
    }
    const job = { ...base, model: served.model.manifest.name };
    return ctx.policy?.admit ? ctx.policy.admit(job) : job;
  }

  async function loop(): Promise<void> {
    let backoff = ctx.pollMs;
    await reviveNotServed().catch((e: Error) =>
      logger.warn({ err: e.message?.split("\n")[0] }, "cannot re-check requests failed as not served"),
    );
    while (!ctx.signal.aborted) {
      try {
        await poll();
        lastPollOk = Date.now();
        backoff = ctx.pollMs;
      } catch (e) {
        ctx.metrics.rpcErrors.inc({ component: "watcher" });
        logger.warn({ err: (e as Error).message?.split("\n")[0], retryInMs: backoff }, "watcher RPC call failed; retrying");
        backoff = Math.min(backoff * 2, 10_000);
      }
      await sleep(backoff, ctx.signal);
    }
  }

  return {
    start: () => loop(),
    /** Not ready when the last good poll is older than this many ms. */
    staleFor: () => (lastPollOk ? Date.now() - lastPollOk : Infinity),
    lastProcessed,
  };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}

/** The RPC answered with an error (a range or result limit), as opposed to not answering at all. */
function refusedByRpc(e: unknown): boolean {
  if (!(e instanceof BaseError)) return false;
  return !!e.walk((x) => x instanceof RpcError || (x instanceof HttpRequestError && x.status !== undefined));
}
