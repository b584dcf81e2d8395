import { join } from "node:path";
import { EzklEngine } from "../engine/engine.js";
import { fixedToFloat } from "../engine/felt.js";
import { isZkinferError } from "../errors.js";
import { proveInference } from "../models/inference.js";
import type { Logger } from "../util/logger.js";
import type { ModelCatalog } from "./catalog.js";
import type { ServiceMetrics } from "./metrics.js";
import type { Job, JobStore } from "./store.js";

export interface WorkerContext {
  store: JobStore;
  catalog: ModelCatalog;
  logger: Logger;
  metrics: ServiceMetrics;
  signal: AbortSignal;
  proofsDir: string;
  /** Wakes idle workers when a job is queued. */
  wake: EventTarget;
  maxAttempts: number;
  /** Per-model proof time (ms, moving average), for rejecting deadlines shorter than a proof. */
  proofTimes: Map<string, number>;
}

/**
 * A prover: one EZKL worker process of its own, taking queued jobs one at a time. Retryable failures
 * (the EZKL process died, a timeout) put the job back until maxAttempts; anything else fails the job
 * with its reason. A job is never lost: it is in 'proving' in the store while this runs, and
 * start-up recovery requeues it if the service dies here.
 */
export function createWorker(ctx: WorkerContext, index: number) {
  const logger = ctx.logger.child({ component: "worker", worker: index });
  const engine = new EzklEngine({ logger: logger.child({ component: "engine" }) });
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
    if (!served) return ctx.store.fail(job.id, `model '${job.model}' is not served here`);
    if (job.deadline !== null && job.deadline * 1000 <= Date.now()) {
      return ctx.store.fail(
        job.id,
        `the request's deadline (${new Date(job.deadline * 1000).toISOString()}) passed before proving`,
      );
    }
    const scale = served.model.manifest.circuit.inputScale;
    const fixed = job.inputFixed.map(BigInt);
    const values = fixed.map((v) => fixedToFloat(v, scale));
    const t0 = performance.now();
    const r = await proveInference(engine, served.model, { values, fixed }, { out: join(ctx.proofsDir, `${job.id}.proof.json`) });
    const ms = performance.now() - t0;
    ctx.metrics.proofSeconds.observe({ model: job.model }, ms / 1000);
    const prev = ctx.proofTimes.get(job.model);
    ctx.proofTimes.set(job.model, prev === undefined ? ms : 0.7 * prev + 0.3 * ms);
    ctx.store.proved(
      job.id,
      {
        outputsFixed: r.outputs.fixed.map(String),
        outputsFloat: r.outputs.float,
        proof: r.proof,
        instances: r.instances.map(String),
        proveMs: Math.round(ms),
      },
      job.kind === "chain" ? "proved" : "done",
    );
    logger.info({ job: job.id, requestId: job.requestId, model: job.model, ms: Math.round(ms) }, "proved");
    ctx.wake.dispatchEvent(new Event("proved"));
  }

  async function loop(): Promise<void> {
    while (!ctx.signal.aborted) {
      const job = ctx.store.claimNext(ctx.catalog.names());
      if (!job) {
        await idle();
        continue;
      }
      try {
        await prove(job);
      } catch (e) {
        const reason = isZkinferError(e) ? e.shortMessage : String((e as Error)?.message ?? e);
        const retry = isZkinferError(e) && e.retryable && job.attempts < ctx.maxAttempts;
        logger.warn({ job: job.id, requestId: job.requestId, attempt: job.attempts, retry, err: reason }, "proof failed");
        if (retry) ctx.store.requeue(job.id, reason);
        else {
          ctx.metrics.jobsFailed.inc({ reason: "prove" });
          ctx.store.fail(job.id, describeProveError(reason));
        }
      }
    }
  }

  return {
    start() {
      running = loop();
      return running;
    },
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
