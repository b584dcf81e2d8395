import { rmSync } from "node:fs";
import { join } from "node:path";
import { EzklEngine } from "../engine/engine.js";
import { fixedToFloat } from "../engine/felt.js";
import { isZkinferError } from "../errors.js";
import { proveInference } from "../models/inference.js";
import type { Logger } from "../util/logger.js";
import type { ModelCatalog } from "./catalog.js";
import type { ServiceMetrics } from "./metrics.js";
import type { JobPolicy } from "./policy.js";
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

  async function prove(job: Job): Promise<void> {
    const served = ctx.catalog.get(job.model);
    if (!served) return ctx.store.fail(job.id, `model '${job.model}' is not served here`, "not_served");
    const verdict = await ctx.policy.beforeProve(job);
    if (verdict.kind === "fulfilled") {
      logger.info({ job: job.id, requestId: job.requestId, note: verdict.note }, "not proving: already settled on-chain");
      return ctx.store.fulfilled(job.id, null, verdict.note);
    }
    if (verdict.kind === "wait") {
      await ctx.store.requeue(job.id, owner, verdict.reason, verdict.delayMs, { uncount: true });
      return;
    }
    if (verdict.kind === "fail") {
      logger.info({ job: job.id, requestId: job.requestId, reason: verdict.reason }, "not proving");
      ctx.metrics.jobsFailed.inc({ reason: verdict.code });
      return ctx.store.fail(job.id, verdict.reason, verdict.code);
    }
    const scale = served.model.manifest.circuit.inputScale;
    const fixed = job.inputFixed.map(BigInt);
    const values = fixed.map((v) => fixedToFloat(v, scale));
    const out = join(ctx.proofsDir, `${job.id}.proof.json`);
    // The heartbeat keeps the lease while EZKL works; a node that stops (SIGKILL, power) stops renewing.
    let leaseLost = false;
    const beat = setInterval(
      () => {
        ctx.store.heartbeat(job.id, owner, ctx.leaseMs).then(
          (held) => {
            if (!held && !leaseLost) {
              leaseLost = true;
              logger.warn({ job: job.id }, "lost the job's lease (another node took it); its result will be discarded");
            }
          },
          (e: Error) => logger.warn({ job: job.id, err: e.message }, "heartbeat failed"),
        );
      },
      Math.max(200, Math.floor(ctx.leaseMs / 3)),
    );
    const t0 = performance.now();
    engine.timeoutMs = ctx.proveTimeoutMs(job.model);
    try {
      const r = await proveInference(engine, served.model, { values, fixed }, { out });
      const ms = performance.now() - t0;
      ctx.metrics.proofSeconds.observe({ model: job.model }, ms / 1000);
      ctx.metrics.proofsMade.inc({ model: job.model });
      const prev = ctx.proofTimes.get(job.model);
      ctx.proofTimes.set(job.model, prev === undefined ? ms : 0.7 * prev + 0.3 * ms);
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
      clearInterval(beat);
      rmSync(out, { force: true });
    }
  }

  async function loop(): Promise<void> {
    while (!ctx.signal.aborted) {
      let job: Job | undefined;
      try {
        job = await ctx.store.claimNext(owner, ctx.leaseMs, ctx.catalog.names());
      } catch (e) {
        logger.warn({ err: (e as Error).message }, "cannot claim a job from the store; retrying");
        await idle();
        continue;
      }
      if (!job) {
        await idle();
        continue;
      }
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
        continue;
      }
      try {
        await prove(job);
      } catch (e) {
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
