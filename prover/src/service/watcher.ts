import type { Address, Hex, PublicClient } from "viem";
import { inferenceCoordinatorAbi } from "../chain/abis.js";
import { isZkinferError } from "../errors.js";
import type { Logger } from "../util/logger.js";
import { ModelCatalog } from "./catalog.js";
import type { ServiceMetrics } from "./metrics.js";
import type { JobStore, NewJob } from "./store.js";

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
  /** Blocks per eth_getLogs call. */
  chunk: bigint;
  proofTimes: Map<string, number>;
  /** Extra time a fulfilment needs beyond the proof (sending, mining), in seconds. */
  deadlineMarginSec: number;
}

const LAST_BLOCK = "watcher.lastBlock";

/**
 * Follows InferenceRequested from `startBlock`, `confirmations` blocks behind the head, and turns
 * each request into a durable job. The jobs and the new last-processed block are written in one
 * transaction, so a restart resumes exactly where the previous run stopped and inserts nothing twice
 * (a request id is unique in the store). RPC failures are retried with backoff, forever, and counted.
 */
export function createWatcher(ctx: WatcherContext) {
  const logger = ctx.logger.child({ component: "watcher" });
  let lastPollOk = 0;
  let head = 0n;
  /** The head block's timestamp (s): the chain's clock, which can run ahead of this machine's. */
  let headTime = 0;

  const lastProcessed = (): bigint => {
    const v = ctx.store.getKv(LAST_BLOCK);
    return v === undefined ? ctx.startBlock - 1n : BigInt(v);
  };

  async function poll(): Promise<boolean> {
    // The head block itself, not getBlockNumber: viem serves that from a 4 s cache, and --poll-ms
    // below it would not see new requests any sooner (the bench measured 2.6-2.9 s pickup at 200 ms).
    // Its timestamp is the chain's clock, which deadlines are checked against.
    const headBlock = await ctx.client.getBlock({ blockTag: "latest" });
    head = headBlock.number;
    headTime = Number(headBlock.timestamp);
    const target = head - BigInt(ctx.confirmations);
    let from = lastProcessed() + 1n;
    let progressed = false;
    while (from <= target && !ctx.signal.aborted) {
      const to = from + ctx.chunk - 1n < target ? from + ctx.chunk - 1n : target;
      const logs = await ctx.client.getContractEvents({
        address: ctx.coordinator,
        abi: inferenceCoordinatorAbi,
        eventName: "InferenceRequested",
        fromBlock: from,
        toBlock: to,
        strict: true,
      });
      const jobs: NewJob[] = [];
      for (const log of logs) jobs.push(await toJob(log.args, log.blockNumber));
      const inserted = ctx.store.transaction(() => {
        let n = 0;
        for (const j of jobs) if (ctx.store.insert(j).created) n += 1;
        ctx.store.setKv(LAST_BLOCK, to.toString());
        return n;
      });
      if (inserted) {
        logger.info({ from: String(from), to: String(to), requests: logs.length, inserted }, "requests seen");
        ctx.wake.dispatchEvent(new Event("job"));
      }
      from = to + 1n;
      progressed = true;
    }
    ctx.metrics.chainLagBlocks.set({}, Number(head - lastProcessed()));
    return progressed;
  }

  type RequestArgs = {
    requestId: bigint;
    modelId: Hex;
    version: number;
    input: readonly bigint[];
    deadline: bigint;
    fee: bigint;
  };

  async function toJob(args: RequestArgs, blockNumber: bigint): Promise<NewJob> {
    const base = {
      kind: "chain" as const,
      requestId: args.requestId.toString(),
      modelId: args.modelId,
      version: Number(args.version),
      inputFixed: args.input.map(String),
      deadline: Number(args.deadline),
      fee: args.fee.toString(),
      blockNumber: Number(blockNumber),
    };
    const served = await ctx.catalog.resolveOnChain(ctx.client, ctx.registry, args.modelId, Number(args.version));
    const fail = (reason: string) => {
      logger.warn({ requestId: base.requestId, reason }, "request cannot be served");
      ctx.metrics.jobsFailed.inc({ reason: "unservable" });
      return { ...base, model: served?.model.manifest.name ?? "unknown", failedReason: reason };
    };
    if (!served)
      return fail(`model ${args.modelId} version ${args.version} is not served here (no served build has its vk and verifier)`);
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
    return { ...base, model: served.model.manifest.name };
  }

  async function loop(): Promise<void> {
    let backoff = ctx.pollMs;
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
