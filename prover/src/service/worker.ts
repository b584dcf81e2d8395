import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { EzklEngine } from "../engine/engine.js";
import { fixedToFloat } from "../engine/felt.js";
import { isZkinferError } from "../errors.js";
import { proveBatch, proveInference } from "../models/inference.js";
import { chooseBatch, estimateProveMs, proofTimeKey } from "./batching.js";
import type { Logger } from "../util/logger.js";
import type { ModelCatalog, ServedModel } from "./catalog.js";
import type { ServiceMetrics } from "./metrics.js";
import type { JobPolicy, ProveVerdict } from "./policy.js";
import type { Job, JobStore } from "./store.js";

export interface WorkerContext {
  store: JobStore;
  catalog: ModelCatalog;
  logger: Logger;
  metrics: ServiceMetrics;
  signal: AbortSignal;
  /** Scratch directory for proof files (each deleted once its proof is in the store). */
  proofsDir: string;
  /** Wakes idle workers when a job is queued. */
  wake: EventTarget;
  maxAttempts: number;
  /** Per-model proof time (ms, moving average), for rejecting deadlines shorter than a proof. */
  proofTimes: Map<string, number>;
  /** This node's name in leases. */
  nodeId: string;
  /** A claim's lease; the heartbeat renews it every third of this. */
  leaseMs: number;
  /** An EZKL call running longer than this is stopped (the process is killed) and the job retried. */
  proveTimeoutMs: (model: string) => number;
  /** Decides, just before proving, whether the job is still worth a proof. */
  policy: JobPolicy;
  /** Batching of chain requests (on-chain mode); undefined: every job is proved alone. */
  batching?: BatchingContext;
}

export interface BatchingContext {
  /** How long (ms) a group's first pending request waits for more to arrive before the group is proved. */
  windowMs: number;
  /** Requests per batch at most (`--max-batch`); undefined: the largest usable variant. */
  maxBatch?: number;
  /** The batch sizes above 1 usable for a job's (model, version): registered on-chain and built here. */
  sizes(served: ServedModel, job: Job): Promise<number[]>;
  /** Seconds a fulfilment needs after its proof (sending, mining), kept free before a request's deadline. */
  sendMarginSec: number;
  /** The chain's clock (unix seconds): the later of the head block's timestamp and this machine's. */
  chainNow(): Promise<number>;
}

/** Backoff before a failed proof is tried again: 2 s, 4 s, 8 s ... at most 1 min. */
export const retryDelayMs = (attempt: number) => Math.min(60_000, 1000 * 2 ** Math.max(1, attempt));

/**
 * A prover: one EZKL worker process of its own, taking jobs one at a time under a lease it renews
 * while it proves. Retryable failures (the EZKL process died or stalled past its timeout) put the job
 * back with a backoff until maxAttempts; anything else fails the job with its reason. A job is never
 * lost: if this node dies, its lease lapses and any node of the fleet claims the job again.
 */
export function createWorker(ctx: WorkerContext, index: number) {
  const logger = ctx.logger.child({ component: "worker", worker: index });
  const engine = new EzklEngine({ logger: logger.child({ component: "engine" }) });
  const owner = `${ctx.nodeId}/w${index}`;
  let running: Promise<void> | undefined;

  async function idle(): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        ctx.wake.removeEventListener("job", done);
        ctx.signal.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, 1000);
      ctx.wake.addEventListener("job", done);
      ctx.signal.addEventListener("abort", done);
    });
  }

  /** Carries out a verdict other than "prove"; true when the job is to be proved. */
  async function apply(job: Job, verdict: ProveVerdict): Promise<boolean> {
    if (verdict.kind === "fulfilled") {
      logger.info({ job: job.id, requestId: job.requestId, note: verdict.note }, "not proving: already settled on-chain");
      await ctx.store.fulfilled(job.id, null, verdict.note);
      return false;
    }
    if (verdict.kind === "wait") {
      await ctx.store.requeue(job.id, owner, verdict.reason, verdict.delayMs, { uncount: true });
      return false;
    }
    if (verdict.kind === "fail") {
      logger.info({ job: job.id, requestId: job.requestId, reason: verdict.reason }, "not proving");
      ctx.metrics.jobsFailed.inc({ reason: verdict.code });
      await ctx.store.fail(job.id, verdict.reason, verdict.code);
      return false;
    }
    return true;
  }

  /** The heartbeat keeps the jobs' leases while EZKL works; a node that stops (SIGKILL, power) stops renewing. */
  function keepLeases(jobs: readonly Job[]): () => void {
    const lost = new Set<string>();
    const beat = setInterval(
      () => {
        for (const job of jobs)
          ctx.store.heartbeat(job.id, owner, ctx.leaseMs).then(
            (held) => {
              if (!held && !lost.has(job.id)) {
                lost.add(job.id);
                logger.warn(
                  { job: job.id, requestId: job.requestId },
                  "lost the job's lease (another node took it); its result will be discarded",
                );
              }
            },
            (e: Error) => logger.warn({ job: job.id, err: e.message }, "heartbeat failed"),
          );
      },
      Math.max(200, Math.floor(ctx.leaseMs / 3)),
    );
    return () => clearInterval(beat);
  }

  const recordTime = (key: string, ms: number) => {
    const prev = ctx.proofTimes.get(key);
    ctx.proofTimes.set(key, prev === undefined ? ms : 0.7 * prev + 0.3 * ms);
  };

  async function prove(job: Job): Promise<void> {
    const served = ctx.catalog.get(job.model);
    if (!served) return ctx.store.fail(job.id, `model '${job.model}' is not served here`, "not_served");
    if (await apply(job, await ctx.policy.beforeProve(job))) await proveOne(job, served);
  }

  async function proveOne(job: Job, served: ServedModel): Promise<void> {
    const scale = served.model.manifest.circuit.inputScale;
    const fixed = job.inputFixed.map(BigInt);
    const values = fixed.map((v) => fixedToFloat(v, scale));
    const out = join(ctx.proofsDir, `${job.id}.proof.json`);
    const stopBeat = keepLeases([job]);
    const t0 = performance.now();
    engine.timeoutMs = ctx.proveTimeoutMs(job.model);
    try {
      const r = await proveInference(engine, served.model, { values, fixed }, { out });
      const ms = performance.now() - t0;
      ctx.metrics.proofSeconds.observe({ model: job.model }, ms / 1000);
      ctx.metrics.proofsMade.inc({ model: job.model });
      recordTime(job.model, ms);
      const stored = await ctx.store.proved(
        job.id,
        owner,
        {
          outputsFixed: r.outputs.fixed.map(String),
          outputsFloat: r.outputs.float,
          proof: r.proof,
          instances: r.instances.map(String),
          proveMs: Math.round(ms),
        },
        job.kind === "chain" ? "proved" : "done",
      );
      if (!stored) {
        logger.warn(
          { job: job.id, requestId: job.requestId },
          "proved, but the lease had passed to another node: result discarded",
        );
        return;
      }
      logger.info({ job: job.id, requestId: job.requestId, model: job.model, ms: Math.round(ms) }, "proved");
      ctx.wake.dispatchEvent(new Event("proved"));
    } finally {
      stopBeat();
      rmSync(out, { force: true });
    }
  }

  /**
   * A claimed group of chain jobs of one (model, version): the policy's verdicts (their requests locked in one
   * transaction), then the batch chosen for those still to prove (batching.ts); jobs the batch does not take go
   * back to the queue at once, uncounted. A batch of one is proved alone (the `fulfill` path).
   */
  async function proveGroup(jobs: Job[], served: ServedModel, sizes: number[]): Promise<void> {
    const verdicts = ctx.policy.beforeProveGroup
      ? await ctx.policy.beforeProveGroup(jobs)
      : await jobs.reduce<Promise<ProveVerdict[]>>(
          async (acc, job) => [...(await acc), await ctx.policy.beforeProve(job)],
          Promise.resolve([]),
        );
    const live: Job[] = [];
    for (const [i, job] of jobs.entries()) if (await apply(job, verdicts[i]!)) live.push(job);
    if (!live.length) return;
    const b = ctx.batching!;
    const m = served.model.manifest;
    const job0 = live[0]!;
    const urgent = Math.min(...live.map((j) => j.deadline ?? Infinity));
    const choice = chooseBatch({
      pending: live.length,
      sizes,
      instancesPerInference: m.circuit.numInstances,
      estimateMs: (size) => estimateProveMs(ctx.proofTimes, job0.model, size),
      secondsLeft: urgent - (await b.chainNow()) - b.sendMarginSec,
    });
    const taken = live.slice(0, choice.take);
    for (const job of live.slice(choice.take))
      await ctx.store.requeue(job.id, owner, "left for the next batch", 0, { uncount: true });
    if (choice.take < live.length) ctx.wake.dispatchEvent(new Event("job"));
    logger.info(
      {
        model: job0.model,
        version: job0.version,
        pending: live.length,
        variant: choice.size,
        requests: taken.map((j) => j.requestId),
        gasPerRequest: choice.gasPerRequest,
        plan: choice.plan.map((p) => `${p.take}/${p.size}`).join(" + "),
        ...(choice.tooSlow.length ? { tooSlowForDeadline: choice.tooSlow } : {}),
      },
      "batch chosen",
    );
    if (choice.size === 1) {
      for (const job of taken) await runGuarded(job, () => proveOne(job, served));
      return;
    }
    await proveBatchOf(taken, served, choice.size);
  }

  async function proveBatchOf(jobs: Job[], served: ServedModel, size: number): Promise<void> {
    // Block i is the i-th request in ascending id order, the order fulfillBatch takes them in.
    const sorted = [...jobs].sort((x, y) => (BigInt(x.requestId!) < BigInt(y.requestId!) ? -1 : 1));
    const batchId = randomUUID();
    const scale = served.model.manifest.circuit.inputScale;
    const inputs = sorted.map((job) => {
      const fixed = job.inputFixed.map(BigInt);
      return { fixed, values: fixed.map((v) => fixedToFloat(v, scale)) };
    });
    const out = join(ctx.proofsDir, `${batchId}.proof.json`);
    const stopBeat = keepLeases(sorted);
    const t0 = performance.now();
    const key = proofTimeKey(served.model.manifest.name, size);
    engine.timeoutMs = ctx.proveTimeoutMs(key);
    try {
      const r = await proveBatch(engine, served.model, size, inputs, { out });
      const ms = performance.now() - t0;
      ctx.metrics.proofSeconds.observe({ model: key }, ms / 1000);
      ctx.metrics.proofsMade.inc({ model: key });
      recordTime(key, ms);
      const requestIds = sorted.map((j) => j.requestId!);
      const stored = await ctx.store.provedBatch(
        owner,
        sorted.map((job, index) => ({
          id: job.id,
          result: {
            outputsFixed: r.blocks[index]!.fixed.map(String),
            outputsFloat: r.blocks[index]!.float,
            proof: r.proof,
            instances: r.instances.map(String),
            proveMs: Math.round(ms),
            batch: { id: batchId, size, index, requestIds },
          },
        })),
      );
      if (!stored) {
        // Another node holds one of the requests now: this proof cannot be sent; the others are proved again.
        for (const job of sorted) await ctx.store.requeue(job.id, owner, "a batch-mate's lease was lost", 0, { uncount: true });
        logger.warn({ batch: batchId, requestIds }, "proved a batch, but a lease had passed to another node: result discarded");
        return;
      }
      logger.info(
        { batch: batchId, model: served.model.manifest.name, variant: size, requests: requestIds, ms: Math.round(ms) },
        "proved a batch",
      );
      ctx.wake.dispatchEvent(new Event("proved"));
    } finally {
      stopBeat();
      rmSync(out, { force: true });
    }
  }

  /** Runs one job's work; a failure is recorded on the job (retried with a backoff, or failed), never lost. */
  async function runGuarded(job: Job, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      await onProveError(job, e);
    }
  }

  async function onProveError(job: Job, e: unknown): Promise<void> {
    const reason = isZkinferError(e) ? e.shortMessage : String((e as Error)?.message ?? e);
    const retry = !isZkinferError(e) || e.retryable ? job.attempts < ctx.maxAttempts : false;
    logger.warn({ job: job.id, requestId: job.requestId, attempt: job.attempts, retry, err: reason }, "proof failed");
    try {
      if (retry) await ctx.store.requeue(job.id, owner, reason, retryDelayMs(job.attempts));
      else {
        ctx.metrics.jobsFailed.inc({ reason: "prove" });
        await ctx.store.fail(job.id, describeProveError(reason), "prove");
      }
    } catch (storeErr) {
      // The lease lapses and another claim retries the job.
      logger.warn({ job: job.id, err: (storeErr as Error).message }, "cannot record the failure in the store");
    }
  }

  /** Jobs claimed again too often fail here; the rest are returned. */
  async function admitAttempts(jobs: Job[]): Promise<Job[]> {
    const ok: Job[] = [];
    for (const job of jobs) {
      if (job.attempts > 1)
        logger.warn(
          { job: job.id, requestId: job.requestId, attempt: job.attempts },
          "claimed a job again (an earlier attempt failed or its prover stopped)",
        );
      if (job.attempts > ctx.maxAttempts) {
        ctx.metrics.jobsFailed.inc({ reason: "prove" });
        await ctx.store.fail(
          job.id,
          `proving was attempted ${job.attempts - 1} times without a result (${job.error ?? "the prover stopped"})`,
          "prove",
        );
      } else ok.push(job);
    }
    return ok;
  }

  /**
   * With batching: the next job's group, claimed once its window has passed (or it is full, or its most urgent
   * request cannot wait); "wait" while the window is open; undefined when the next job is not batchable.
   */
  async function claimBatchable(): Promise<{ jobs: Job[]; served: ServedModel; sizes: number[] } | "wait" | undefined> {
    const b = ctx.batching;
    if (!b) return undefined;
    const next = await ctx.store.peekNext(ctx.catalog.names());
    if (!next || next.job.kind !== "chain") return undefined;
    const served = ctx.catalog.get(next.job.model);
    if (!served) return undefined;
    const sizes = (await b.sizes(served, next.job)).filter((s) => b.maxBatch === undefined || s <= b.maxBatch);
    if (!sizes.length) return undefined;
    const max = sizes.at(-1)!;
    const secondsLeft = (next.job.deadline ?? Infinity) - (await b.chainNow()) - b.sendMarginSec;
    // The window closes early when waiting longer would make the largest batch too late for the most urgent request.
    const slack = secondsLeft * 1000 - estimateProveMs(ctx.proofTimes, next.job.model, max);
    const waitMs = Math.min(b.windowMs - next.ageMs, slack);
    if (next.group < max && waitMs > 0) return "wait";
    const jobs = await admitAttempts(await ctx.store.claimGroup(owner, ctx.leaseMs, next.job, max));
    return { jobs, served, sizes };
  }

  async function loop(): Promise<void> {
    while (!ctx.signal.aborted) {
      let job: Job | undefined;
      try {
        const group = await claimBatchable();
        if (group === "wait") {
          await idle();
          continue;
        }
        if (group) {
          if (group.jobs.length > 1) {
            await proveGroup(group.jobs, group.served, group.sizes).catch((e: unknown) => onGroupError(group.jobs, e));
            continue;
          }
          job = group.jobs[0];
          if (!job) continue; // taken by another claimer, or failed for its attempts
        } else {
          job = await ctx.store.claimNext(owner, ctx.leaseMs, ctx.catalog.names());
          if (job) job = (await admitAttempts([job]))[0];
          else {
            await idle();
            continue;
          }
          if (!job) continue;
        }
      } catch (e) {
        logger.warn(
          { err: (e as Error).message },
          "cannot claim a job (the store, or the chain for a batch's sizes and deadlines); retrying",
        );
        await idle();
        continue;
      }
      await runGuarded(job, () => prove(job));
    }
  }

  /** A group's work failed: each of its jobs this worker still holds is retried or failed as a single proof would be. */
  async function onGroupError(jobs: readonly Job[], e: unknown): Promise<void> {
    for (const job of jobs) {
      const now = await ctx.store.get(job.id);
      if (now?.state === "proving" && now.leaseOwner === owner) await onProveError(job, e);
    }
  }

  return {
    start() {
      running = loop();
      return running;
    },
    /** The EZKL worker's process id (tests and the bench look at it). */
    enginePid: () => engine.worker.pid,
    async stop() {
      await running;
      await engine.close();
    },
  };
}

function describeProveError(reason: string): string {
  if (/decomposition error|too large to be represented/.test(reason)) {
    return `a value in the circuit is outside its range (the input is too large for this model's calibration): ${reason}`;
  }
  return reason;
}
