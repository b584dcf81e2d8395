import { chainNow, viewRequest, type ViewContext } from "./requests.js";
import type { FailCode, Job, NewJob } from "./store.js";

/**
 * What the service asks before it spends a proof on a job. The watcher admits requests (see
 * watcher.ts); this hook runs on the prover node just before proving, so a request settled or expired
 * meanwhile (fulfilled by another prover, refunded) costs no proof. Other policies (locks, prices)
 * wrap this one.
 */
export type ProveVerdict =
  | { kind: "prove" }
  | { kind: "fulfilled"; note: string }
  | { kind: "fail"; reason: string; code: FailCode }
  /** Not now: back in the queue for `delayMs` (e.g. another prover's lock until it lapses); not a failed attempt. */
  | { kind: "wait"; reason: string; delayMs: number };

export interface JobPolicy {
  /**
   * Called by the watcher for a request that passed the built-in checks (served, input in range,
   * deadline long enough), before it is stored: return the job to queue, or the job with
   * `failedReason` set to refuse it (e.g. a fee below the operator's price).
   */
  admit?(job: NewJob): Promise<NewJob>;
  beforeProve(job: Job): Promise<ProveVerdict>;
  /**
   * The same for jobs about to be proved together (one batch), one verdict per job in order; the market locks
   * their requests in one transaction. Without it, each job is asked `beforeProve` in turn.
   */
  beforeProveGroup?(jobs: readonly Job[]): Promise<ProveVerdict[]>;
}

export const proveEverything: JobPolicy = { beforeProve: async () => ({ kind: "prove" }) };

/** The coordinator's view of a request: settled, open, or past its deadline (on the chain's clock). */
export async function onChainVerdict(ctx: ViewContext, job: Job): Promise<ProveVerdict> {
  const [r, now] = await Promise.all([viewRequest(ctx, job), chainNow(ctx.client)]);
  if (r.status === "fulfilled") return { kind: "fulfilled", note: "already fulfilled on-chain" };
  if (r.status === "refunded") return { kind: "fail", reason: "the request was refunded on-chain", code: "expired" };
  if (r.status === "cancelled") return { kind: "fail", reason: "the requester cancelled the request", code: "expired" };
  if (r.terms.deadline < now)
    return {
      kind: "fail",
      reason: `the request's deadline (${new Date(Number(r.terms.deadline) * 1000).toISOString()}) passed before proving`,
      code: "expired",
    };
  return { kind: "prove" };
}

/** The chain policy: chain jobs are proved only while their request is open on-chain. */
export function chainPolicy(ctx: ViewContext): JobPolicy {
  return {
    beforeProve: async (job) => (job.kind === "chain" && job.requestId ? onChainVerdict(ctx, job) : { kind: "prove" }),
  };
}
