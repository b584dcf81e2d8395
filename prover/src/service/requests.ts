import type { Address, PublicClient } from "viem";
import {
  NO_LOCK,
  fetchLock,
  fetchRequest,
  hashLocked,
  requestState,
  sameState,
  type LockState,
  type RequestStatus,
  type Terms,
} from "../sdk/terms.js";
import type { Job, JobStore } from "./store.js";

/**
 * A chain job's request as the coordinator holds it now. The coordinator keeps one word per request (a hash and a
 * status), so the terms come from the job (the watcher stored them from `InferenceRequested`) and the lock from the
 * job too when the state's hash is that lock's (this service's own lock, recorded from its lock transaction's
 * `RequestLocked`, or any prover's, recorded by the watcher); only a lock the watcher has not reached yet (it runs
 * `--confirmations` behind) is read from the chain's logs, once, and recorded for the fleet.
 */
export interface RequestView {
  requestId: bigint;
  status: RequestStatus;
  terms: Terms;
  /** The request's lock when `locked` (checked against its state); `NO_LOCK` otherwise. */
  held: LockState;
}

export interface ViewContext {
  client: PublicClient;
  coordinator: Address;
  store: JobStore;
}

/** The job's terms: stored by the watcher, or (a job stored before the store kept them) read from its log once. */
export async function termsOfJob(ctx: ViewContext, job: Job): Promise<Terms> {
  if (job.terms) return job.terms;
  const r = await fetchRequest(ctx.client, {
    coordinator: ctx.coordinator,
    requestId: BigInt(job.requestId!),
    ...(job.blockNumber !== null ? { fromBlock: BigInt(job.blockNumber) } : {}),
  });
  await ctx.store.setTerms(job.id, r.terms);
  job.terms = r.terms;
  return r.terms;
}

export async function viewRequest(ctx: ViewContext, job: Job): Promise<RequestView> {
  const requestId = BigInt(job.requestId!);
  const [terms, { status, stateHash }] = await Promise.all([
    termsOfJob(ctx, job),
    requestState(ctx.client, ctx.coordinator, requestId),
  ]);
  if (status !== "locked") return { requestId, status, terms, held: NO_LOCK };
  // The job in the store may know the lock (another node of the fleet may have recorded it since `job` was read).
  const known = job.held ?? (await ctx.store.byRequestId(job.requestId!))?.held ?? null;
  if (known && sameState(stateHash, hashLocked(terms, known))) return { requestId, status, terms, held: known };
  const held = await fetchLock(ctx.client, {
    coordinator: ctx.coordinator,
    requestId,
    ...(job.blockNumber !== null ? { fromBlock: BigInt(job.blockNumber) } : {}),
  });
  if (!held || !sameState(stateHash, hashLocked(terms, held)))
    throw new Error(`request ${requestId} is locked, but no RequestLocked log matches its state`);
  await ctx.store.setHeld(job.requestId!, held);
  job.held = held;
  return { requestId, status, terms, held };
}

/** The chain's clock (unix seconds): the later of the head block's timestamp and this machine's. */
export async function chainNow(client: PublicClient): Promise<bigint> {
  const head = await client.getBlock({ blockTag: "latest" });
  return BigInt(Math.max(Number(head.timestamp), Math.floor(Date.now() / 1000)));
}
