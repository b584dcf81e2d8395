import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  encodeFunctionData,
  keccak256,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { inferenceCoordinatorAbi, zkinferErrorsAbi } from "../chain/abis.js";
import { commitFill as commitOpenFill, type Claim } from "../chain/fulfil.js";
import { priceAt } from "../sdk/terms.js";
import type { Logger } from "../util/logger.js";
import type { Locker } from "./market.js";
import type { ServiceMetrics } from "./metrics.js";
import { viewRequest, type RequestView } from "./requests.js";
import type { Job, JobStore } from "./store.js";
import { sleep } from "./watcher.js";

export interface SenderContext {
  store: JobStore;
  logger: Logger;
  metrics: ServiceMetrics;
  signal: AbortSignal;
  wake: EventTarget;
  client: PublicClient<Transport, Chain>;
  wallet: WalletClient<Transport, Chain, Account>;
  coordinator: Address;
  /** Replace a fulfilment not mined within this long with the same nonce and higher fees. */
  replaceAfterMs: number;
  pollMs: number;
  /** Fulfilment attempts that end without a verdict (RPC errors) before a job fails. */
  maxSendAttempts: number;
  /** Whether this node still leads the fleet: checked before every signature (a deposed leader sends nothing). */
  isLeader: () => boolean;
  /** Set when the account cannot pay for a fulfilment (a reason for /ready), cleared once it can. */
  onFunds: (problem: string | undefined) => void;
  /** The market's locker: locks pending requests (also those a follower proves) and is told of settled ones. */
  locker?: Locker;
  /** The signer's nonce queue, shared with the locker (see market.ts `serialize`). */
  serial?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** Gas a fulfilment is assumed to need before one has been estimated (for the balance check). */
const TYPICAL_FULFIL_GAS = 1_500_000n;

/** What the chain says about submitting a fulfilment now. */
type Verdict = { kind: "send"; gas: bigint } | { kind: "done"; note: string } | { kind: "fail"; reason: string };

/**
 * Submits each proved request's fulfilment exactly once. One sender owns the signing account's
 * nonces: in a fleet, only the leader's sender runs (and it checks its leadership before each
 * signature), so nodes sharing one key never race for a nonce. A transaction is signed locally and its hash stored *before* it is broadcast, so a restart
 * knows what may be in flight. "Already fulfilled" (by us before a crash, or by another prover) is
 * success, not an error — the coordinator, not this service, guarantees a request is fulfilled once.
 */
export function createSender(ctx: SenderContext) {
  const logger = ctx.logger.child({ component: "sender" });
  const account = ctx.wallet.account;
  const serial = ctx.serial ?? (<T>(fn: () => Promise<T>) => fn());
  const released = (job: Job) => job.requestId && ctx.locker?.released(BigInt(job.requestId));
  /** What a fulfilment in a block at `at` pays this prover for `claim`: its own lock's price, else today's price. */
  const earned = (claim: Claim, at: bigint) =>
    claim.held.locker.toLowerCase() === account.address.toLowerCase() && at <= claim.terms.lockDeadline
      ? claim.held.price
      : priceAt(claim.terms, at);

  const revertOf = (e: unknown): { name: string; args: readonly unknown[] } | undefined => {
    if (!(e instanceof BaseError)) return undefined;
    const r = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (!(r instanceof ContractFunctionRevertedError)) return undefined;
    if (r.data) return { name: r.data.errorName, args: r.data.args ?? [] };
    // An error that bubbled up from the route or the registry is not in the coordinator's ABI.
    try {
      if (!r.raw) return { name: "unknown revert", args: [] };
      const d = decodeErrorResult({ abi: zkinferErrorsAbi, data: r.raw });
      return { name: d.errorName, args: d.args ?? [] };
    } catch {
      return { name: `unknown revert ${r.raw?.slice(0, 10)}`, args: [] };
    }
  };
  const revertName = (e: unknown): string | undefined => revertOf(e)?.name;

  async function judge(job: Job, claim: Claim, committed = false): Promise<Verdict> {
    const r = job.result!;
    try {
      const gas = await ctx.client.estimateContractGas({
        account,
        address: ctx.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "fulfill",
        args: [claim.requestId, claim.terms, claim.held, r.proof, r.instances.map(BigInt)],
        blockTag: "pending", // a commitment mined in the latest block counts for the next one
      });
      return { kind: "send", gas };
    } catch (e) {
      const name = revertName(e);
      if (name === undefined) throw e; // RPC trouble: retry later
      if (/AlreadyFulfilled/.test(name)) return { kind: "done", note: "already fulfilled on-chain" };
      // An open fill (no lock, or a lapsed one): commit to it first, a block ahead (see market.ts).
      if (name === "CoordinatorFillNotCommitted" && !committed) {
        await commitFill([job], r.proof);
        return judge(job, claim, true);
      }
      if (name === "CoordinatorCommitmentTooRecent") throw new Error("commitment mined in this block; retry in the next");
      // The request changed state since it was read (locked or settled meanwhile): judged again, as an RPC error is.
      if (name === "CoordinatorTermsMismatch") throw new Error("the request's state changed while it was judged; retrying");
      return { kind: "fail", reason: `the coordinator rejects the fulfilment: ${name}` };
    }
  }

  /** The job's request as the coordinator holds it (requests.ts), and the time to judge it at (the later of the chain's and ours). */
  async function requestNow(job: Job): Promise<{ r: RequestView; now: number }> {
    const [r, head] = await Promise.all([viewRequest(ctx, job), ctx.client.getBlock({ blockTag: "latest" })]);
    return { r, now: Math.max(Number(head.timestamp), Math.floor(Date.now() / 1000)) };
  }

  /** The live lock another prover holds on the request `r`, if any, and how long until it lapses. */
  function foreignLock(r: RequestView, now: number): { locker: Address; delayMs: number } | undefined {
    if (r.status !== "locked" || r.held.locker.toLowerCase() === account.address.toLowerCase()) return undefined;
    if (Number(r.terms.lockDeadline) < now) return undefined;
    return { locker: r.held.locker, delayMs: (Number(r.terms.lockDeadline) - now + 2) * 1000 };
  }

  /**
   * Commits to this prover's open fill of the jobs' requests (one, or a batch's, in the order the fulfilment lists
   * them) with their proof (IInferenceCoordinator.commit): one commitment per fulfilment.
   */
  async function commitFill(jobs: readonly Job[], proof: Hex): Promise<void> {
    const ids = jobs.map((j) => BigInt(j.requestId!));
    const receipt = await serial(() => commitOpenFill(ctx.wallet, ctx.client, ctx.coordinator, ids, proof));
    logger.info(
      { requestIds: ids.map(String), batch: jobs[0]!.batchId ?? undefined, hash: receipt.transactionHash },
      "committed to an open fill",
    );
  }

  async function submit(job: Job, claim: Claim, gas: bigint): Promise<void> {
    const data = encodeFunctionData({
      abi: inferenceCoordinatorAbi,
      functionName: "fulfill",
      args: [claim.requestId, claim.terms, claim.held, job.result!.proof, job.result!.instances.map(BigInt)],
    });
    return send([job], [claim], gas, data, (hash, receipt) =>
      logger.info({ job: job.id, requestId: job.requestId, hash, gasUsed: String(receipt.gasUsed) }, "request fulfilled"),
    );
  }

  /**
   * Signs and sends one fulfilment (`data`) that settles `jobs` (one, or a batch's), stores its hash on each job
   * before it is broadcast, replaces it with higher fees while it is not mined, and settles every job from the
   * receipt: each fulfilled exactly once, or all back to 'proved' to be judged again if it reverted.
   */
  async function send(
    jobs: readonly Job[],
    claims: readonly Claim[],
    gas: bigint,
    data: Hex,
    onSuccess: (hash: Hex, receipt: { gasUsed: bigint }) => void,
  ): Promise<void> {
    const first = jobs[0]!;
    let nonce = -1;
    let fees = await ctx.client.estimateFeesPerGas();
    const gasLimit = (gas * 12n) / 10n;
    const sent: Hex[] = [];
    const ids = jobs.map((j) => j.requestId);
    const finish = async (hash: Hex, receipt: { status: string; gasUsed: bigint; blockNumber: bigint }) => {
      if (receipt.status === "success") {
        const at = (await ctx.client.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
        for (const [i, job] of jobs.entries()) {
          await ctx.store.fulfilled(job.id, hash);
          released(job);
          ctx.metrics.feesEarnedWei.inc({}, Number(earned(claims[i]!, at)));
          ctx.metrics.requestToFulfilledSeconds.observe({ model: job.model }, (Date.now() - job.createdAt) / 1000);
        }
        ctx.metrics.fulfilTxs.inc({ result: "success" });
        onSuccess(hash, receipt);
      } else {
        ctx.metrics.fulfilTxs.inc({ result: "reverted" });
        for (const job of jobs) await ctx.store.requeueProved(job.id, `fulfilment ${hash} reverted`);
        logger.warn({ requestIds: ids, hash }, "fulfilment reverted; it is judged again");
      }
    };
    for (let attempt = 0; !ctx.signal.aborted; attempt++) {
      if (!ctx.isLeader()) throw new Error("no longer the fleet's leader; the next leader settles this fulfilment");
      // The first broadcast takes the next nonce in the signer's queue; replacements reuse it.
      const broadcast = async () => {
        if (nonce < 0) nonce = await ctx.client.getTransactionCount({ address: account.address, blockTag: "pending" });
        const signed = await ctx.wallet.signTransaction({
          account,
          chain: ctx.client.chain,
          to: ctx.coordinator,
          data,
          gas: gasLimit,
          nonce,
          maxFeePerGas: fees.maxFeePerGas,
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        });
        const hash = keccak256(signed);
        for (const job of jobs) await ctx.store.submitting(job.id, hash, nonce);
        sent.push(hash);
        try {
          await ctx.client.sendRawTransaction({ serializedTransaction: signed });
        } catch (e) {
          const msg = (e as Error).message ?? "";
          if (!/already known|nonce too low|replacement/i.test(msg)) throw e;
          logger.debug({ job: first.id, msg: msg.split("\n")[0] }, "broadcast answered; checking the chain");
        }
        return hash;
      };
      const hash = attempt === 0 ? await serial(broadcast) : await broadcast();
      logger.info(
        jobs.length === 1 && !first.batchId
          ? { job: first.id, requestId: first.requestId, hash, nonce, attempt }
          : { batch: first.batchId, requestIds: ids, hash, nonce, attempt },
        "fulfilment sent",
      );
      const receipt = await ctx.client
        .waitForTransactionReceipt({ hash, timeout: ctx.replaceAfterMs, pollingInterval: 250 })
        .catch(() => undefined);
      if (receipt) return finish(hash, receipt);
      // Not mined in time. If the nonce has been used meanwhile, one of our versions (or another
      // transaction of this account) was mined: settle from the chain instead of sending again.
      if ((await ctx.client.getTransactionCount({ address: account.address, blockTag: "latest" })) > nonce) {
        for (const h of sent) {
          const r = await ctx.client.getTransactionReceipt({ hash: h }).catch(() => undefined);
          if (r) return finish(h, r);
        }
        for (const job of jobs) await ctx.store.requeueProved(job.id, `nonce ${nonce} was used by another transaction`);
        return;
      }
      // Still pending: replace it (same nonce) with fees raised by 25% (nodes need >= 10%).
      const bump = (v: bigint | undefined) => ((v ?? 0n) * 125n) / 100n + 1n;
      fees = { maxFeePerGas: bump(fees.maxFeePerGas), maxPriorityFeePerGas: bump(fees.maxPriorityFeePerGas) } as typeof fees;
      ctx.metrics.fulfilTxs.inc({ result: "replaced" });
      logger.warn({ requestIds: ids, hash, nonce }, "fulfilment not mined in time; replacing it with higher fees");
    }
  }

  /**
   * A batch's proved jobs (see worker.ts): each request checked on-chain first — settled or expired ones leave the
   * batch, one locked by another prover waits for its lock — then `fulfillBatch` for the requests left, with the
   * same proof while they are the first blocks (the blocks after them become padding), else the requests left are
   * proved again in a new batch. A revert naming one request (estimated before sending) drops that request the
   * same way; the rest are never lost.
   */
  async function sendBatch(batchId: string): Promise<void> {
    const committed = new Set<string>();
    for (let round = 0; round < 70 && !ctx.signal.aborted; round++) {
      const jobs = (await ctx.store.byBatch(batchId)).filter((j) => j.state === "proved" && j.result?.batch?.id === batchId);
      if (!jobs.length) return;
      const batch = jobs[0]!.result!.batch!;
      // Which of them still go: the coordinator's view of each request.
      const going: Job[] = [];
      for (const job of jobs) {
        const verdict = await requestVerdict(job);
        if (verdict === "go") going.push(job);
      }
      if (!going.length) return;
      // fulfillBatch's request i is block i: the same proof serves the requests left only if they are its first blocks.
      if (going.some((j, i) => j.result!.batch!.index !== i)) {
        for (const job of going) await ctx.store.reprove(job.id, "a batch-mate dropped out; proving it again");
        logger.info({ batch: batchId, requestIds: going.map((j) => j.requestId) }, "batch broken up: proving the rest again");
        ctx.wake.dispatchEvent(new Event("job"));
        return;
      }
      // Ascending ids (the worker proved the blocks in that order): the order fulfillBatch takes them in.
      const ids = going.map((j) => BigInt(j.requestId!));
      const { proof, instances } = jobs[0]!.result!;
      await ctx.locker?.lockPending(going);
      // The claims as they stand now, this prover's new locks included.
      const claims = await Promise.all(going.map((job) => viewRequest(ctx, job)));
      const args = [ids, claims.map((c) => c.terms), claims.map((c) => c.held), proof, instances.map(BigInt)] as const;
      let gas: bigint;
      try {
        gas = await ctx.client.estimateContractGas({
          account,
          address: ctx.coordinator,
          abi: inferenceCoordinatorAbi,
          functionName: "fulfillBatch",
          args,
          blockTag: "pending",
        });
      } catch (e) {
        const r = revertOf(e);
        if (r === undefined) throw e; // RPC trouble: retry later
        if (r.name === "CoordinatorCommitmentTooRecent") throw new Error("commitment mined in this block; retry in the next");
        if (r.name === "CoordinatorTermsMismatch")
          throw new Error("a request's state changed while the batch was judged; retrying");
        const culprit = going.find((j) => typeof r.args[0] === "bigint" && BigInt(j.requestId!) === r.args[0]);
        const key = ids.join(",");
        if (r.name === "CoordinatorFillNotCommitted" && culprit && !committed.has(key)) {
          // An open fill (no lock, or a lapsed one) in the batch: one commitment to the whole batch and its proof,
          // a block ahead (a batch that loses a request later needs a new one).
          committed.add(key);
          await commitFill(going, proof);
          continue;
        }
        if (!culprit) {
          // Nothing names one request (e.g. the batch size is not registered): the batch as a whole is refused.
          for (const job of going) {
            ctx.metrics.jobsFailed.inc({ reason: "rejected" });
            await ctx.store.fail(job.id, `the coordinator rejects the batched fulfilment: ${r.name}`, "rejected");
            released(job);
          }
          logger.warn({ batch: batchId, requestIds: ids.map(String), reason: r.name }, "batched fulfilment rejected");
          return;
        }
        if (/AlreadyFulfilled/.test(r.name)) await ctx.store.fulfilled(culprit.id, null, "already fulfilled on-chain");
        else {
          ctx.metrics.jobsFailed.inc({ reason: "rejected" });
          await ctx.store.fail(culprit.id, `the coordinator rejects its block of the batch: ${r.name}`, "rejected");
        }
        released(culprit);
        logger.warn(
          { batch: batchId, requestId: culprit.requestId, reason: r.name },
          "a request dropped out of its batch; sending the rest",
        );
        continue;
      }
      lastGas = gas;
      if (!(await checkFunds(true))) return;
      const data = encodeFunctionData({ abi: inferenceCoordinatorAbi, functionName: "fulfillBatch", args });
      return send(going, claims, gas, data, (hash, receipt) => {
        const model = going[0]!.model;
        const perRequest = Number(receipt.gasUsed) / going.length;
        ctx.metrics.batchesTotal.inc({ model, size: String(batch.size) });
        ctx.metrics.batchRequests.observe({ model }, going.length);
        ctx.metrics.batchGasPerRequest.set({ model, size: String(batch.size) }, Math.round(perRequest));
        logger.info(
          {
            batch: batchId,
            model,
            variant: batch.size,
            batchSize: going.length,
            requestIds: ids.map(String),
            hash,
            gasUsed: String(receipt.gasUsed),
            gasPerRequest: Math.round(perRequest),
          },
          "batch fulfilled",
        );
      });
    }
  }

  /** Whether a batch job's request still goes in the batch; otherwise the job is settled or set aside here. */
  async function requestVerdict(job: Job): Promise<"go" | "out"> {
    const { r, now } = await requestNow(job);
    const out = async (how: () => Promise<void>, note: string) => {
      await how();
      released(job);
      logger.info({ job: job.id, requestId: job.requestId, batch: job.batchId, note }, "request left its batch");
      return "out" as const;
    };
    if (r.status === "fulfilled")
      return out(() => ctx.store.fulfilled(job.id, null, "already fulfilled on-chain"), "already fulfilled on-chain");
    if (r.status === "refunded" || r.status === "cancelled" || Number(r.terms.deadline) < now) {
      const reason =
        r.status === "cancelled"
          ? "the requester cancelled the request"
          : r.status === "refunded"
            ? "the request was refunded on-chain"
            : "the request's deadline passed before its batch was sent";
      ctx.metrics.jobsFailed.inc({ reason: "expired" });
      return out(() => ctx.store.fail(job.id, reason, "expired"), reason);
    }
    const foreign = foreignLock(r, now);
    if (foreign) {
      // Another prover's live lock: fulfilling it now would pay that prover. Proved again once its lock lapses.
      return out(
        () => ctx.store.reprove(job.id, `locked by ${foreign.locker}; waiting for the lock to lapse`, foreign.delayMs),
        `locked by ${foreign.locker}`,
      );
    }
    return "go";
  }

  /** After a restart: a job left 'submitting' is resolved from the chain, never blindly re-sent. */
  async function settle(job: Job): Promise<void> {
    const receipt = job.txHash
      ? await ctx.client.getTransactionReceipt({ hash: job.txHash as Hex }).catch(() => undefined)
      : undefined;
    if (receipt?.status === "success") return ctx.store.fulfilled(job.id, job.txHash);
    await ctx.store.requeueProved(
      job.id,
      receipt ? `fulfilment ${job.txHash} reverted` : "fulfilment was not mined before a restart",
    );
  }

  let lastGas = TYPICAL_FULFIL_GAS;
  let fundsCheckedAt = 0;
  let funded = true;
  /** Whether the account can pay for one fulfilment now (read at most every 5 s); also the balance metrics. */
  async function checkFunds(force = false): Promise<boolean> {
    if (!force && Date.now() - fundsCheckedAt < 5000) return funded;
    fundsCheckedAt = Date.now();
    const [balance, fees, credits] = await Promise.all([
      ctx.client.getBalance({ address: account.address }),
      ctx.client.estimateFeesPerGas(),
      ctx.client.readContract({
        address: ctx.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "credits",
        args: [account.address],
      }),
    ]);
    ctx.metrics.proverBalanceWei.set({ account: account.address }, Number(balance));
    ctx.metrics.proverCreditsWei.set({ account: account.address }, Number(credits));
    const need = ((lastGas * 12n) / 10n) * (fees.maxFeePerGas ?? 0n);
    const now = balance >= need;
    if (now !== funded) {
      if (now) logger.info({ account: account.address, balance: String(balance) }, "the prover account is funded again; sending");
      else
        logger.warn(
          { account: account.address, balanceWei: String(balance), needWei: String(need) },
          "the prover account cannot pay for a fulfilment; proved jobs wait until it is funded",
        );
    }
    funded = now;
    ctx.onFunds(
      now ? undefined : `prover account ${account.address} holds ${balance} wei; a fulfilment needs ~${need} wei of gas`,
    );
    return funded;
  }

  let lockedAt = 0;
  async function step(): Promise<boolean> {
    // Lock what is pending (a follower's jobs too) at most every 2 s; the workers lock theirs before proving.
    if (ctx.locker && Date.now() - lockedAt > 2000) {
      lockedAt = Date.now();
      await ctx.locker.lockPending();
    }
    const pending = await ctx.store.list({ state: "submitting", kind: "chain", limit: 50 });
    for (const job of pending) await settle(job);
    const next = await ctx.store.nextProvedChainJob();
    if (!next) {
      await checkFunds();
      return pending.length > 0;
    }
    if (!(await checkFunds())) return false;
    if (next.batchId && next.result?.batch?.id === next.batchId) {
      try {
        await sendBatch(next.batchId);
      } catch (e) {
        await sendFailed(await ctx.store.byBatch(next.batchId), e);
      }
      return true;
    }
    try {
      // A job a follower proved before any lock: lock it now if it still can be (else judge commits an open fill).
      await ctx.locker?.lockPending(next);
      // Another prover locked it meanwhile: a fulfilment now would pay that locker. Hold the proof until its lock lapses.
      const { r: claim, now } = await requestNow(next);
      const held = foreignLock(claim, now);
      if (held) {
        await ctx.store.requeueProved(next.id, `locked by ${held.locker}; waiting for the lock to lapse`, {
          delayMs: held.delayMs,
        });
        logger.info(
          { job: next.id, requestId: next.requestId, locker: held.locker },
          "proved, but locked by another prover: waiting",
        );
        return true;
      }
      const verdict = await judge(next, claim);
      if (verdict.kind === "done") {
        await ctx.store.fulfilled(next.id, null, verdict.note);
        released(next);
        logger.info({ job: next.id, requestId: next.requestId }, verdict.note);
      } else if (verdict.kind === "fail") {
        ctx.metrics.jobsFailed.inc({ reason: "rejected" });
        await ctx.store.fail(next.id, verdict.reason, "rejected");
        released(next);
        logger.warn({ job: next.id, requestId: next.requestId, reason: verdict.reason }, "fulfilment rejected");
      } else {
        lastGas = verdict.gas;
        if (!(await checkFunds(true))) return false;
        await submit(next, claim, verdict.gas);
      }
    } catch (e) {
      await sendFailed([next], e);
    }
    return true;
  }

  /**
   * No verdict for these jobs (one, or a batch's: RPC trouble, a node's odd answer): they wait with a backoff and
   * the jobs behind them go on; after maxSendAttempts they fail with the last error.
   */
  async function sendFailed(jobs: readonly Job[], e: unknown): Promise<void> {
    ctx.metrics.rpcErrors.inc({ component: "sender" });
    const err = (e as Error).message?.split("\n")[0] ?? String(e);
    let inFlight = false;
    let waiting = 0;
    for (const job of jobs) {
      const current = await ctx.store.get(job.id);
      if (current?.state === "submitting") inFlight = true;
      if (current?.state !== "proved") continue;
      waiting += 1;
      const attempts = current.sendAttempts + 1;
      if (attempts >= ctx.maxSendAttempts) {
        ctx.metrics.jobsFailed.inc({ reason: "send" });
        await ctx.store.fail(job.id, `fulfilment failed ${attempts} times; last error: ${err}`, "send");
        logger.warn({ job: job.id, requestId: job.requestId, attempts, err }, "fulfilment given up");
      } else {
        const delayMs = Math.min(60_000, 1000 * 2 ** attempts);
        await ctx.store.requeueProved(job.id, err, { delayMs, countAttempt: true });
        logger.warn(
          { job: job.id, requestId: job.requestId, batch: job.batchId, attempts, retryInMs: delayMs, err },
          "fulfilment failed; retrying later",
        );
      }
    }
    // In flight: settle() resolves it from the chain. None left to retry: the loop logs the error and backs off.
    if (inFlight || waiting === 0) throw e;
  }

  async function loop(): Promise<void> {
    let backoff = ctx.pollMs;
    while (!ctx.signal.aborted) {
      try {
        if (await step()) {
          backoff = ctx.pollMs;
          continue;
        }
      } catch (e) {
        ctx.metrics.rpcErrors.inc({ component: "sender" });
        logger.warn({ err: (e as Error).message?.split("\n")[0], retryInMs: backoff }, "sender RPC call failed; retrying");
        backoff = Math.min(backoff * 2, 10_000);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          ctx.wake.removeEventListener("proved", done);
          resolve();
        };
        ctx.wake.addEventListener("proved", done);
        void sleep(backoff, ctx.signal).then(done);
      });
    }
  }

  return { start: () => loop() };
}
