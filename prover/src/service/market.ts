import type { Account, Address, Chain, PublicClient, Transport, WalletClient } from "viem";
import { inferenceCoordinatorAbi } from "../chain/abis.js";
import { locksInLogs, priceAt, type Terms } from "../sdk/terms.js";
import type { Logger } from "../util/logger.js";
import type { ServiceMetrics } from "./metrics.js";
import type { JobPolicy, ProveVerdict } from "./policy.js";
import { chainNow, viewRequest, type RequestView } from "./requests.js";
import type { Job, JobStore } from "./store.js";

/**
 * The market side of proving (see IInferenceCoordinator's rules). Before a chain job is proved, the
 * request must pay (its price covers the operator's `--min-price` and its callback's gas at today's
 * gas price, with a margin; each refusal is logged with its reason) and nobody else may hold a live
 * lock on it: a request another prover has locked waits until that lock's deadline (then, if still
 * unfulfilled, it is proved for an open fill, which the slashed collateral pays for). An open,
 * lockable request is locked by this prover first: the locker (the leader's signer, which owns the
 * key's nonces) locks every pending request it can in one transaction, up to `maxLocks` live locks.
 * The coordinator keeps only a hash of each request: the terms come from the job store (see requests.ts), prices
 * from the terms (`priceAt`), and this prover's locks from its lock transactions' `RequestLocked` logs.
 */
export interface MarketOptions {
  client: PublicClient;
  wallet: WalletClient<Transport, Chain, Account>;
  coordinator: Address;
  logger: Logger;
  store: JobStore;
  /** The least price (wei) this operator proves for; 0: any price that covers the callback. */
  minPriceWei?: bigint;
}

/** Margin over the callback's gas at the current gas price that a request's price must cover (percent). */
const CALLBACK_MARGIN_PCT = 110n;

/**
 * Why this operator will not prove a request on `terms` for `price` (wei) at `gasPrice`, or undefined when it pays.
 * `price` is what a lock or fill would fix now (`priceAt`); for a locked request, the lock's price.
 */
export function priceProblem(terms: Terms, gasPrice: bigint, minPriceWei: bigint, price: bigint): string | undefined {
  if (price < minPriceWei) return `price ${price} wei is below --min-price ${minPriceWei} wei`;
  const callbackCost = (BigInt(terms.callbackGasLimit) * gasPrice * CALLBACK_MARGIN_PCT) / 100n;
  if (price < callbackCost)
    return `price ${price} wei does not cover the callback's ${terms.callbackGasLimit} gas at ${gasPrice} wei/gas (+10%: ${callbackCost} wei)`;
  return undefined;
}

/** The price a lock or an open fill in the next block would fix (a reverse Dutch auction rises over its ramp). */
const priceNext = (terms: Terms, now: bigint) => priceAt(terms, now + 1n);

const iso = (sec: bigint | number) => new Date(Number(sec) * 1000).toISOString();

/** Takes locks for this prover: the one place (on the leader) that sends `lock`. */
export interface Locker {
  /**
   * Lock `first` (if open and lockable: one job's request, or a batch's every request, locked whatever --max-locks
   * says, as they are about to be proved) and other pending chain jobs' requests, in one transaction.
   */
  lockPending(first?: Job | readonly Job[]): Promise<void>;
  /** A request this prover locked was settled (fulfilled, refunded): it no longer counts as a live lock. */
  released(requestId: bigint): void;
}

/**
 * Runs `fn` after every earlier call has finished: the signer's transactions (locks, commits,
 * fulfilments) take their nonces one at a time.
 */
export function serialize(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

export function createLocker(
  o: MarketOptions & {
    metrics: ServiceMetrics;
    serial: <T>(fn: () => Promise<T>) => Promise<T>;
    /** Live locks this prover holds at most (so that two provers share a burst); default 4. */
    maxLocks?: number;
  },
): Locker {
  const logger = o.logger.child({ component: "locker" });
  /** Request id -> its lock deadline (unix seconds), for the locks this prover took and has not settled. */
  const held = new Map<string, bigint>();
  const maxLocks = o.maxLocks ?? 4;
  const setMetric = () => o.metrics.locksHeld.set({}, held.size);
  /** A lock past its deadline is no longer live (it is slashable): it stops counting against --max-locks, so a
   *  job that failed for good after its lock was taken cannot keep the capacity until a restart. */
  const prune = (now: bigint) => {
    for (const [id, deadline] of held) if (deadline < now) held.delete(id);
    setMetric();
  };

  async function lockable(jobs: readonly Job[], must: ReadonlySet<string>): Promise<RequestView[]> {
    const [now, gasPrice, balance] = await Promise.all([
      chainNow(o.client),
      o.client.getGasPrice(),
      o.client.readContract({
        address: o.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "credits",
        args: [o.wallet.account.address],
      }),
    ]);
    let left = balance;
    const out: RequestView[] = [];
    for (const job of jobs) {
      // The jobs about to be proved are always locked; the others up to maxLocks live locks.
      if (!must.has(job.requestId!) && held.size + out.length >= maxLocks) continue;
      const r = await viewRequest(o, job);
      // Lockable now, with a second to spare for the next block; a price this operator proves for.
      if (r.status !== "open" || r.terms.lockDeadline <= now + 1n) continue;
      if (priceProblem(r.terms, gasPrice, o.minPriceWei ?? 0n, priceNext(r.terms, now))) continue;
      if (r.terms.lockCollateral > left) {
        logger.warn(
          { requestId: String(r.requestId), collateral: String(r.terms.lockCollateral), balance: String(left) },
          "cannot lock: the coordinator balance does not cover the collateral (zkinfer prover deposit)",
        );
        continue;
      }
      left -= r.terms.lockCollateral;
      out.push(r);
    }
    return out;
  }

  async function send(requests: readonly RequestView[]): Promise<boolean> {
    const ids = requests.map((r) => r.requestId);
    try {
      const { request } = await o.client.simulateContract({
        account: o.wallet.account,
        address: o.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "lock",
        args: [ids, requests.map((r) => r.terms)],
      });
      const hash = await o.wallet.writeContract(request);
      const receipt = await o.client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") return false;
      // The locks as the coordinator recorded them: every later call on these requests passes them back.
      const locks = locksInLogs(receipt.logs);
      for (const r of requests) {
        const lock = locks.get(r.requestId);
        if (lock) await o.store.setHeld(String(r.requestId), lock);
        held.set(String(r.requestId), r.terms.lockDeadline);
      }
      setMetric();
      logger.info({ requestIds: ids.map(String), hash, gasUsed: String(receipt.gasUsed) }, "requests locked");
      return true;
    } catch (e) {
      logger.info({ requestIds: ids.map(String), err: (e as Error).message.split("\n")[0] }, "lock failed (taken first?)");
      return false;
    }
  }

  return {
    lockPending: (first) =>
      o.serial(async () => {
        // A lock transaction costs 21k whatever it carries: without a job that must be locked now, wait until half
        // the --max-locks are free, so that locks go out several at a time.
        prune(await chainNow(o.client));
        const firsts = first === undefined ? [] : "id" in first ? [first as Job] : [...(first as readonly Job[])];
        const mustJobs = firsts.filter((j) => j.requestId && !held.has(j.requestId));
        const must = new Set(mustJobs.map((j) => j.requestId!));
        if (!must.size && maxLocks - held.size < Math.ceil(maxLocks / 2)) return;
        const pending = [
          ...(await o.store.list({ state: "proving", kind: "chain", limit: 50 })),
          ...(await o.store.list({ state: "queued", kind: "chain", limit: 50 })),
        ]
          // In the order workers claim them (soonest deadline first), so that the locks taken are the next proofs.
          .sort((a, b) => (a.deadline ?? Infinity) - (b.deadline ?? Infinity) || a.createdAt - b.createdAt)
          .filter((j) => !!j.requestId && !held.has(j.requestId) && !must.has(j.requestId));
        const candidates = [...mustJobs, ...pending];
        if (!candidates.length) return;
        const requests = await lockable(candidates, must);
        if (!requests.length || (await send(requests))) return;
        // Someone locked one of them first (a lock is all or nothing): lock what is still open.
        const again = await lockable(
          candidates.filter((j) => requests.some((r) => String(r.requestId) === j.requestId)),
          must,
        );
        if (again.length) await send(again);
      }),
    released(requestId) {
      if (held.delete(String(requestId))) setMetric();
    },
  };
}

/**
 * The chain job policy with the market's rules on top (see the module comment). `locker()` is the
 * leader's locker, or undefined on a node that does not sign (a fleet's follower proves what the
 * leader locks, or locks while it proves).
 */
export function marketPolicy(base: JobPolicy, o: MarketOptions & { locker: () => Locker | undefined }): JobPolicy {
  const logger = o.logger.child({ component: "market" });
  const me = o.wallet.account.address.toLowerCase();
  const refuse = (requestId: string, reason: string): ProveVerdict => {
    logger.warn({ requestId, reason }, "request refused");
    return { kind: "fail", reason, code: "rejected" };
  };

  /** The verdicts for jobs about to be proved together: their open, lockable requests are locked in one transaction. */
  async function beforeProveGroup(jobs: readonly Job[]): Promise<ProveVerdict[]> {
    const verdicts: ProveVerdict[] = [];
    for (const job of jobs) verdicts.push(await base.beforeProve(job));
    const chainJobs = jobs
      .map((job, i) => ({ job, i }))
      .filter(({ job, i }) => !!job.requestId && job.kind === "chain" && verdicts[i]!.kind === "prove");
    if (!chainJobs.length) return verdicts;
    const [gasPrice, now] = await Promise.all([o.client.getGasPrice(), chainNow(o.client)]);
    const requests = new Map<number, RequestView>();
    const toLock: Job[] = [];
    for (const { job, i } of chainJobs) {
      const r = await viewRequest(o, job);
      const open = r.status === "open";
      const minPrice = o.minPriceWei ?? 0n;
      const problem = priceProblem(r.terms, gasPrice, minPrice, open ? priceNext(r.terms, now) : r.held.price);
      if (problem) {
        // An auction that has not risen far enough yet, but will pay at its maximum: come back in a while.
        if (open && !priceProblem(r.terms, gasPrice, minPrice, r.terms.maxPrice) && r.terms.lockDeadline > now + 10n)
          verdicts[i] = { kind: "wait", reason: `${problem}; the price is still rising`, delayMs: 10_000 };
        else verdicts[i] = refuse(job.requestId!, problem);
        continue;
      }
      requests.set(i, r);
      if (open && r.terms.lockDeadline > now + 1n) toLock.push(job);
    }
    if (toLock.length) {
      await o.locker()?.lockPending(toLock);
      for (const { job, i } of chainJobs) if (requests.has(i) && toLock.includes(job)) requests.set(i, await viewRequest(o, job));
    }
    for (const { job, i } of chainJobs) {
      const r = requests.get(i);
      if (!r || r.status !== "locked" || r.held.locker.toLowerCase() === me) continue;
      if (r.terms.lockDeadline >= now) {
        // Another prover's live lock: proving now would only race it. Come back once it lapses.
        const delayMs = (Number(r.terms.lockDeadline - now) + 2) * 1000;
        logger.info(
          { requestId: job.requestId, locker: r.held.locker, lockDeadline: iso(r.terms.lockDeadline) },
          "locked by another prover: waiting for its lock to lapse",
        );
        verdicts[i] = { kind: "wait", reason: `locked by ${r.held.locker} until ${iso(r.terms.lockDeadline)}`, delayMs };
      } else logger.info({ requestId: job.requestId, locker: r.held.locker }, "lock lapsed: proving for an open fill");
    }
    return verdicts;
  }

  return {
    ...(base.admit ? { admit: base.admit.bind(base) } : {}),
    beforeProve: async (job) => (await beforeProveGroup([job]))[0]!,
    beforeProveGroup,
  };
}
