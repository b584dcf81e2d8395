import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { inferenceCoordinatorAbi } from "../chain/abis.js";
import type { Logger } from "../util/logger.js";
import { RequestStatus, type JobPolicy, type ProveVerdict } from "./policy.js";

/**
 * The market side of proving (see IInferenceCoordinator's rules): before a chain job is proved, the
 * request must pay (its price covers the operator's minimum and its callback's gas at today's gas
 * price, with a margin) and this prover must hold its lock — it locks an open request itself, with
 * collateral from its coordinator balance — or the lock must have lapsed (then the fill is open and
 * the sender commits first). A request another prover holds a live lock on is never proved.
 */
export interface MarketOptions {
  client: PublicClient;
  wallet: WalletClient<Transport, Chain, Account>;
  coordinator: Address;
  logger: Logger;
  /** The least price (wei) this operator proves for; 0: any price that covers the callback. */
  minPriceWei?: bigint;
}

/** Margin over the callback's gas at the current gas price that a request's price must cover. */
const CALLBACK_MARGIN_PCT = 110n;

export function marketPolicy(base: JobPolicy, o: MarketOptions): JobPolicy {
  const logger = o.logger.child({ component: "market" });
  const me = o.wallet.account.address.toLowerCase();
  const refuse = (requestId: string, reason: string): ProveVerdict => {
    logger.warn({ requestId, reason }, "request refused");
    return { kind: "fail", reason, code: "rejected" };
  };
  return {
    ...(base.admit ? { admit: base.admit.bind(base) } : {}),
    async beforeProve(job) {
      const verdict = await base.beforeProve(job);
      if (verdict.kind !== "prove" || job.kind !== "chain" || !job.requestId) return verdict;
      const id = BigInt(job.requestId);
      const read = () =>
        o.client.readContract({ address: o.coordinator, abi: inferenceCoordinatorAbi, functionName: "request", args: [id] });
      let r = await read();
      const head = await o.client.getBlock({ blockTag: "latest" });
      const now = BigInt(Math.max(Number(head.timestamp), Math.floor(Date.now() / 1000)));
      const price = r.fee;
      if (price < (o.minPriceWei ?? 0n))
        return refuse(job.requestId, `price ${price} wei is below --min-price ${o.minPriceWei} wei`);
      const gasPrice = await o.client.getGasPrice();
      const callbackCost = (BigInt(r.callbackGasLimit) * gasPrice * CALLBACK_MARGIN_PCT) / 100n;
      if (price < callbackCost)
        return refuse(
          job.requestId,
          `price ${price} wei does not cover the callback's ${r.callbackGasLimit} gas at ${gasPrice} wei/gas (+10%: ${callbackCost} wei)`,
        );
      if (Number(r.status) === RequestStatus.Locked) {
        if (r.locker.toLowerCase() === me) return verdict;
        if (BigInt(r.lockDeadline) >= now)
          return refuse(job.requestId, `locked by ${r.locker} until ${new Date(Number(r.lockDeadline) * 1000).toISOString()}`);
        logger.info({ requestId: job.requestId, locker: r.locker }, "lock lapsed: proving for an open fill");
        return verdict;
      }
      if (Number(r.status) !== RequestStatus.Open) return verdict;
      if (BigInt(r.lockDeadline) < now) return verdict; // past its lock window: an open fill
      const balance = await o.client.readContract({
        address: o.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "credits",
        args: [o.wallet.account.address],
      });
      if (balance < r.lockCollateral)
        return refuse(
          job.requestId,
          `lock needs ${r.lockCollateral} wei collateral, the balance is ${balance} wei (zkinfer prover deposit)`,
        );
      try {
        const { request } = await o.client.simulateContract({
          account: o.wallet.account,
          address: o.coordinator,
          abi: inferenceCoordinatorAbi,
          functionName: "lock",
          args: [[id]],
        });
        const hash: Hex = await o.wallet.writeContract(request);
        const receipt = await o.client.waitForTransactionReceipt({ hash });
        if (receipt.status === "success") {
          logger.info({ requestId: job.requestId, hash, collateral: String(r.lockCollateral) }, "request locked");
          return verdict;
        }
      } catch (e) {
        logger.info(
          { requestId: job.requestId, err: (e as Error).message.split("\n")[0] },
          "lock failed; re-reading the request",
        );
      }
      r = await read();
      if (Number(r.status) === RequestStatus.Locked && r.locker.toLowerCase() !== me)
        return refuse(job.requestId, `locked by ${r.locker} first`);
      return base.beforeProve(job);
    },
  };
}
