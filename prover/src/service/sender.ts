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
import { commitFill as commitOpenFill } from "../chain/fulfil.js";
import type { Logger } from "../util/logger.js";
import type { Locker } from "./market.js";
import { RequestStatus } from "./policy.js";
import type { ServiceMetrics } from "./metrics.js";
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

  const revertName = (e: unknown): string | undefined => {
    if (!(e instanceof BaseError)) return undefined;
    const r = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (!(r instanceof ContractFunctionRevertedError)) return undefined;
    if (r.data) return r.data.errorName;
    // An error that bubbled up from the route or the registry is not in the coordinator's ABI.
    try {
      return r.raw ? decodeErrorResult({ abi: zkinferErrorsAbi, data: r.raw }).errorName : "unknown revert";
    } catch {
      return `unknown revert ${r.raw?.slice(0, 10)}`;
    }
  };

  async function judge(job: Job, committed = false): Promise<Verdict> {
    const r = job.result!;
    try {
      const gas = await ctx.client.estimateContractGas({
        account,
        address: ctx.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "fulfill",
        args: [BigInt(job.requestId!), r.proof, r.instances.map(BigInt)],
        blockTag: "pending", // a commitment mined in the latest block counts for the next one
      });
      return { kind: "send", gas };
    } catch (e) {
      const name = revertName(e);
      if (name === undefined) throw e; // RPC trouble: retry later
      if (/AlreadyFulfilled/.test(name)) return { kind: "done", note: "already fulfilled on-chain" };
      // An open fill (no lock, or a lapsed one): commit to it first, a block ahead (see market.ts).
      if (name === "CoordinatorFillNotCommitted" && !committed) {
        await commitFill(job);
        return judge(job, true);
      }
      if (name === "CoordinatorCommitmentTooRecent") throw new Error("commitment mined in this block; retry in the next");
      return { kind: "fail", reason: `the coordinator rejects the fulfilment: ${name}` };
    }
  }

  /** The live lock another prover holds on the job's request, if any, and how long until it lapses. */
  async function foreignLock(job: Job): Promise<{ locker: Address; delayMs: number } | undefined> {
    const [r, head] = await Promise.all([
      ctx.client.readContract({
        address: ctx.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "request",
        args: [BigInt(job.requestId!)],
      }),
      ctx.client.getBlock({ blockTag: "latest" }),
    ]);
    const now = Math.max(Number(head.timestamp), Math.floor(Date.now() / 1000));
    if (Number(r.status) !== RequestStatus.Locked || r.locker.toLowerCase() === account.address.toLowerCase()) return undefined;
    if (Number(r.lockDeadline) < now) return undefined;
    return { locker: r.locker, delayMs: (Number(r.lockDeadline) - now + 2) * 1000 };
  }

  /** Commits to this prover's open fill of the job's request with its proof (IInferenceCoordinator.commit). */
  async function commitFill(job: Job): Promise<void> {
    const receipt = await serial(() =>
      commitOpenFill(ctx.wallet, ctx.client, ctx.coordinator, BigInt(job.requestId!), job.result!.proof),
    );
    logger.info({ job: job.id, requestId: job.requestId, hash: receipt.transactionHash }, "committed to an open fill");
  }

  async function submit(job: Job, gas: bigint): Promise<void> {
    let nonce = -1;
    let fees = await ctx.client.estimateFeesPerGas();
    const data = encodeFunctionData({
      abi: inferenceCoordinatorAbi,
      functionName: "fulfill",
      args: [BigInt(job.requestId!), job.result!.proof, job.result!.instances.map(BigInt)],
    });
    const gasLimit = (gas * 12n) / 10n;
    const sent: Hex[] = [];
    const finish = async (hash: Hex, receipt: { status: string; gasUsed: bigint }) => {
      if (receipt.status === "success") {
        await ctx.store.fulfilled(job.id, hash);
        released(job);
        ctx.metrics.feesEarnedWei.inc({}, Number(job.fee ?? 0));
        ctx.metrics.fulfilTxs.inc({ result: "success" });
        ctx.metrics.requestToFulfilledSeconds.observe({ model: job.model }, (Date.now() - job.createdAt) / 1000);
        logger.info({ job: job.id, requestId: job.requestId, hash, gasUsed: String(receipt.gasUsed) }, "request fulfilled");
      } else {
        ctx.metrics.fulfilTxs.inc({ result: "reverted" });
        await ctx.store.requeueProved(job.id, `fulfilment ${hash} reverted`);
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
        await ctx.store.submitting(job.id, hash, nonce);
        sent.push(hash);
        try {
          await ctx.client.sendRawTransaction({ serializedTransaction: signed });
        } catch (e) {
          const msg = (e as Error).message ?? "";
          if (!/already known|nonce too low|replacement/i.test(msg)) throw e;
          logger.debug({ job: job.id, msg: msg.split("\n")[0] }, "broadcast answered; checking the chain");
        }
        return hash;
      };
      const hash = attempt === 0 ? await serial(broadcast) : await broadcast();
      logger.info({ job: job.id, requestId: job.requestId, hash, nonce, attempt }, "fulfilment sent");
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
        await ctx.store.requeueProved(job.id, `nonce ${nonce} was used by another transaction`);
        return;
      }
      // Still pending: replace it (same nonce) with fees raised by 25% (nodes need >= 10%).
      const bump = (v: bigint | undefined) => ((v ?? 0n) * 125n) / 100n + 1n;
      fees = { maxFeePerGas: bump(fees.maxFeePerGas), maxPriorityFeePerGas: bump(fees.maxPriorityFeePerGas) } as typeof fees;
      ctx.metrics.fulfilTxs.inc({ result: "replaced" });
      logger.warn({ job: job.id, hash, nonce }, "fulfilment not mined in time; replacing it with higher fees");
    }
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
    try {
      // A job a follower proved before any lock: lock it now if it still can be (else judge commits an open fill).
      await ctx.locker?.lockPending(BigInt(next.requestId!));
      // Another prover locked it meanwhile: a fulfilment now would pay that locker. Hold the proof until its lock lapses.
      const held = await foreignLock(next);
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
      const verdict = await judge(next);
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
        await submit(next, verdict.gas);
      }
    } catch (e) {
      // No verdict for this job (RPC trouble, a node's odd answer): it waits with a backoff and the
      // jobs behind it go on; after maxSendAttempts it fails with the last error.
      ctx.metrics.rpcErrors.inc({ component: "sender" });
      const err = (e as Error).message?.split("\n")[0] ?? String(e);
      const current = await ctx.store.get(next.id);
      if (current?.state !== "proved") throw e; // in flight: settle() resolves it from the chain
      const attempts = current.sendAttempts + 1;
      if (attempts >= ctx.maxSendAttempts) {
        ctx.metrics.jobsFailed.inc({ reason: "send" });
        await ctx.store.fail(next.id, `fulfilment failed ${attempts} times; last error: ${err}`, "send");
        logger.warn({ job: next.id, requestId: next.requestId, attempts, err }, "fulfilment given up");
      } else {
        const delayMs = Math.min(60_000, 1000 * 2 ** attempts);
        await ctx.store.requeueProved(next.id, err, { delayMs, countAttempt: true });
        logger.warn(
          { job: next.id, requestId: next.requestId, attempts, retryInMs: delayMs, err },
          "fulfilment failed; retrying later",
        );
      }
    }
    return true;
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
