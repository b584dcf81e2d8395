import type { Account, Address, Chain, PublicClient, Transport, WalletClient } from "viem";
import { inferenceCoordinatorAbi } from "../chain/abis.js";
import type { Logger } from "../util/logger.js";
import type { ServiceMetrics } from "./metrics.js";
import { RequestStatus, type JobPolicy, type ProveVerdict } from "./policy.js";
import type { Job, JobStore } from "./store.js";

/**
 * The market side of proving (see IInferenceCoordinator's rules). Before a chain job is proved, the
 * request must pay (its price covers the operator's `--min-price` and its callback's gas at today's
 * gas price, with a margin; each refusal is logged with its reason) and nobody else may hold a live
 * lock on it: a request another prover has locked waits until that lock's deadline (then, if still
 * unfulfilled, it is proved for an open fill, which the slashed collateral pays for). An open,
 * lockable request is locked by this prover first: the locker (the leader's signer, which owns the
 * key's nonces) locks every pending request it can in one transaction, up to `maxLocks` live locks.
 */
export interface MarketOptions {
  client: PublicClient;
  wallet: WalletClient<Transport, Chain, Account>;
  coordinator: Address;
  logger: Logger;
  /** The least price (wei) this operator proves for; 0: any price that covers the callback. */
  minPriceWei?: bigint;
}

/** Margin over the callback's gas at the current gas price that a request's price must cover (percent). */
const CALLBACK_MARGIN_PCT = 110n;

type OnChainRequest = Awaited<ReturnType<typeof readRequest>>;

function readRequest(o: Pick<MarketOptions, "client" | "coordinator">, id: bigint) {
  return o.client.readContract({ address: o.coordinator, abi: inferenceCoordinatorAbi, functionName: "request", args: [id] });
}

async function chainNow(client: PublicClient): Promise<bigint> {
  const head = await client.getBlock({ blockTag: "latest" });
  return BigInt(Math.max(Number(head.timestamp), Math.floor(Date.now() / 1000)));
}

/**
 * Why this operator will not prove `r` for `price` (wei) at `gasPrice`, or undefined when it pays. `price` is what
 * a lock or fill would fix now (`priceAt`); for a locked request, or a fixed price, the escrow `r.fee`.
 */
export function priceProblem(r: OnChainRequest, gasPrice: bigint, minPriceWei = 0n, price: bigint = r.fee): string | undefined {
  if (price < minPriceWei) return `price ${price} wei is below --min-price ${minPriceWei} wei`;
  const callbackCost = (BigInt(r.callbackGasLimit) * gasPrice * CALLBACK_MARGIN_PCT) / 100n;
  if (price < callbackCost)
    return `price ${price} wei does not cover the callback's ${r.callbackGasLimit} gas at ${gasPrice} wei/gas (+10%: ${callbackCost} wei)`;
  return undefined;
}

/** The price a lock or an open fill in the next block would fix (a reverse Dutch auction rises over its ramp). */
function priceNow(o: Pick<MarketOptions, "client" | "coordinator">, id: bigint, now: bigint): Promise<bigint> {
  return o.client.readContract({
    address: o.coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "priceAt",
    args: [id, now + 1n],
  });
}

const iso = (sec: bigint | number) => new Date(Number(sec) * 1000).toISOString();

/** Takes locks for this prover: the one place (on the leader) that sends `lock`. */
export interface Locker {
  /**
   * Lock `first` (if open and lockable: one request, or a batch's every request, locked whatever --max-locks
   * says, as they are about to be proved) and other pending chain jobs' requests, in one transaction.
   */
  lockPending(first?: bigint | readonly bigint[]): Promise<void>;
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
    store: JobStore;
    metrics: ServiceMetrics;
    serial: <T>(fn: () => Promise<T>) => Promise<T>;
    /** Live locks this prover holds at most (so that two provers share a burst); default 4. */
    maxLocks?: number;
  },
): Locker {
  const logger = o.logger.child({ component: "locker" });
  /** Request id -> its lock deadline (unix seconds), for the locks this prover took and has not settled. */
  const held = new Map<string, bigint>();
  const deadlines = new Map<string, bigint>();
  const maxLocks = o.maxLocks ?? 4;
  const setMetric = () => o.metrics.locksHeld.set({}, held.size);
  /** A lock past its deadline is no longer live (it is slashable): it stops counting against --max-locks, so a
   *  job that failed for good after its lock was taken cannot keep the capacity until a restart. */
  const prune = (now: bigint) => {
    for (const [id, deadline] of held) if (deadline < now) held.delete(id);
    setMetric();
  };

  async function lockable(ids: bigint[], must: ReadonlySet<bigint>): Promise<bigint[]> {
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
    const out: bigint[] = [];
    for (const id of ids) {
      // The jobs about to be proved are always locked; the others up to maxLocks live locks.
      if (!must.has(id) && held.size + out.length >= maxLocks) continue;
      const r = await readRequest(o, id);
      // Lockable now, with a second to spare for the next block; a price this operator proves for.
      if (Number(r.status) !== RequestStatus.Open || BigInt(r.lockDeadline) <= now + 1n) continue;
      if (priceProblem(r, gasPrice, o.minPriceWei, await priceNow(o, id, now))) continue;
      if (r.lockCollateral > left) {
        logger.warn(
          { requestId: String(id), collateral: String(r.lockCollateral), balance: String(left) },
          "cannot lock: the coordinator balance does not cover the collateral (zkinfer prover deposit)",
        );
        continue;
      }
      left -= r.lockCollateral;
      deadlines.set(String(id), BigInt(r.lockDeadline));
      out.push(id);
    }
    return out;
  }

  async function send(ids: bigint[]): Promise<boolean> {
    try {
      const { request } = await o.client.simulateContract({
        account: o.wallet.account,
        address: o.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "lock",
        args: [ids],
      });
      const hash = await o.wallet.writeContract(request);
      const receipt = await o.client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") return false;
      for (const id of ids) held.set(String(id), deadlines.get(String(id)) ?? 0n);
      deadlines.clear();
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
        const firsts = first === undefined ? [] : typeof first === "bigint" ? [first] : [...first];
        const must = new Set(firsts.filter((id) => !held.has(String(id))));
        if (!must.size && maxLocks - held.size < Math.ceil(maxLocks / 2)) return;
        const pending = [
          ...(await o.store.list({ state: "proving", kind: "chain", limit: 50 })),
          ...(await o.store.list({ state: "queued", kind: "chain", limit: 50 })),
        ]
          // In the order workers claim them (soonest deadline first), so that the locks taken are the next proofs.
          .sort((a, b) => (a.deadline ?? Infinity) - (b.deadline ?? Infinity) || a.createdAt - b.createdAt)
          .map((j) => j.requestId)
          .filter((id): id is string => !!id && !held.has(id) && !must.has(BigInt(id)));
        const candidates = [...must, ...pending.map(BigInt)];
        if (!candidates.length) return;
        const ids = await lockable(candidates, must);
        if (!ids.length || (await send(ids))) return;
        // Someone locked one of them first (a lock is all or nothing): lock what is still open.
        const again = await lockable(ids, must);
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
      .map((job, i) => ({ job, i, id: job.requestId ? BigInt(job.requestId) : undefined }))
      .filter((x): x is { job: Job; i: number; id: bigint } => x.id !== undefined && x.job.kind === "chain")
      .filter((x) => verdicts[x.i]!.kind === "prove");
    if (!chainJobs.length) return verdicts;
    const [gasPrice, now] = await Promise.all([o.client.getGasPrice(), chainNow(o.client)]);
    const requests = new Map<number, OnChainRequest>();
    const toLock: bigint[] = [];
    for (const { job, i, id } of chainJobs) {
      const r = await readRequest(o, id);
      const open = Number(r.status) === RequestStatus.Open;
      const problem = priceProblem(r, gasPrice, o.minPriceWei, open ? await priceNow(o, id, now) : r.fee);
      if (problem) {
        // An auction that has not risen far enough yet, but will pay at its maximum: come back in a while.
        if (open && !priceProblem(r, gasPrice, o.minPriceWei) && BigInt(r.lockDeadline) > now + 10n)
          verdicts[i] = { kind: "wait", reason: `${problem}; the price is still rising`, delayMs: 10_000 };
        else verdicts[i] = refuse(job.requestId!, problem);
        continue;
      }
      requests.set(i, r);
      if (open && BigInt(r.lockDeadline) > now + 1n) toLock.push(id);
    }
    if (toLock.length) {
      await o.locker()?.lockPending(toLock);
      for (const { i, id } of chainJobs) if (requests.has(i) && toLock.includes(id)) requests.set(i, await readRequest(o, id));
    }
    for (const { job, i } of chainJobs) {
      const r = requests.get(i);
      if (!r) continue;
      if (Number(r.status) === RequestStatus.Locked && r.locker.toLowerCase() !== me && BigInt(r.lockDeadline) >= now) {
        // Another prover's live lock: proving now would only race it. Come back once it lapses.
        const delayMs = (Number(BigInt(r.lockDeadline) - now) + 2) * 1000;
        logger.info(
          { requestId: job.requestId, locker: r.locker, lockDeadline: iso(r.lockDeadline) },
          "locked by another prover: waiting for its lock to lapse",
        );
        verdicts[i] = { kind: "wait", reason: `locked by ${r.locker} until ${iso(r.lockDeadline)}`, delayMs };
      } else if (Number(r.status) === RequestStatus.Locked && r.locker.toLowerCase() !== me)
        logger.info({ requestId: job.requestId, locker: r.locker }, "lock lapsed: proving for an open fill");
    }
    return verdicts;
  }

  return {
    ...(base.admit ? { admit: base.admit.bind(base) } : {}),
    beforeProve: async (job) => (await beforeProveGroup([job]))[0]!,
    beforeProveGroup,
  };
}
