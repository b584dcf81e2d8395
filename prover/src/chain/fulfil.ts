import {
  keccak256,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { inferenceCoordinatorAbi } from "./abis.js";
import {
  NO_LOCK,
  fillCommitment,
  locksInLogs,
  requestArgs,
  type LockState,
  type RequestStatus,
  type Terms,
} from "../sdk/terms.js";

/**
 * A prover's side of the coordinator's market on viem (see IInferenceCoordinator's rules): lock
 * requests, commit to an open fill, fulfil. Used by the bench, the tests and any script that
 * fulfils by hand; `zkinfer serve` does the same through its market policy and sender.
 */
type Wallet = WalletClient<Transport, Chain | undefined, Account>;

async function mined(client: PublicClient, hash: Hex, what: string): Promise<TransactionReceipt> {
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${what} reverted (${hash})`);
  return receipt;
}

/** A request as the calls on it take it back: its id, its terms and its lock (`NO_LOCK` while open). */
export interface Claim {
  requestId: bigint;
  terms: Terms;
  held: LockState;
}

/** A request's claim now, read from the chain (its terms from `InferenceRequested` unless given). */
export async function claimOf(
  client: PublicClient,
  coordinator: Address,
  requestId: bigint,
  terms?: Terms,
): Promise<Claim & { status: RequestStatus }> {
  const a = await requestArgs(client, { coordinator, requestId, ...(terms ? { terms } : {}) });
  return { requestId, ...a };
}

/**
 * Locks requests in one transaction (collateral from the wallet's coordinator balance); returns the receipt and
 * the claims as they now stand, each with its new lock.
 */
export async function lockRequests(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  requests: readonly { requestId: bigint; terms: Terms }[],
): Promise<{ receipt: TransactionReceipt; claims: Claim[] }> {
  const hash = await wallet.writeContract({
    account: wallet.account,
    chain: wallet.chain,
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "lock",
    args: [requests.map((r) => r.requestId), requests.map((r) => r.terms)],
  });
  const receipt = await mined(client, hash, `lock(${requests.map((r) => r.requestId).join(",")})`);
  const locks = locksInLogs(receipt.logs);
  return {
    receipt,
    claims: requests.map((r) => ({ requestId: r.requestId, terms: r.terms, held: locks.get(r.requestId) ?? NO_LOCK })),
  };
}

/** Commits to the wallet's open fill of `requestIds` (in the order the fill lists them) with `proof`; the fill may be sent from the next block. */
export async function commitFill(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  requestIds: readonly bigint[],
  proof: Hex,
): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({
    account: wallet.account,
    chain: wallet.chain,
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "commit",
    args: [fillCommitment(wallet.account.address, requestIds, keccak256(proof))],
  });
  return mined(client, hash, `commit for request(s) ${requestIds.join(",")}`);
}

/** Sends `fulfill` and waits for it to be mined; throws if it reverted. */
export async function fulfil(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  claim: Claim,
  proof: Hex,
  instances: readonly bigint[],
  opts: { gas?: bigint } = {},
): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({
    account: wallet.account,
    chain: wallet.chain,
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "fulfill",
    args: [claim.requestId, claim.terms, claim.held, proof, [...instances]],
    ...(opts.gas ? { gas: opts.gas } : {}),
  });
  return mined(client, hash, `fulfill(${claim.requestId})`);
}

/**
 * Fulfils `requestId` the way the market pays for it: locks it first (if it is still open and
 * lockable), else — past its lock deadline — commits a block ahead for an open fill.
 */
export async function lockAndFulfil(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  requestId: bigint,
  proof: Hex,
  instances: readonly bigint[],
  opts: { gas?: bigint; terms?: Terms } = {},
): Promise<{ lock?: TransactionReceipt; commit?: TransactionReceipt; fulfil: TransactionReceipt }> {
  const [c, head] = await Promise.all([
    claimOf(client, coordinator, requestId, opts.terms),
    client.getBlock({ blockTag: "latest" }),
  ]);
  let claim: Claim = c;
  const live = c.terms.lockDeadline > head.timestamp;
  const mine = c.status === "locked" && c.held.locker.toLowerCase() === wallet.account.address.toLowerCase();
  let lock: TransactionReceipt | undefined;
  let commit: TransactionReceipt | undefined;
  if (c.status === "open" && live) {
    const locked = await lockRequests(wallet, client, coordinator, [c]);
    lock = locked.receipt;
    claim = locked.claims[0]!;
  } else if (!(mine && live)) {
    commit = await commitFill(wallet, client, coordinator, [requestId], proof);
  }
  const f = await fulfil(wallet, client, coordinator, claim, proof, instances, opts.gas ? { gas: opts.gas } : {});
  return { ...(lock ? { lock } : {}), ...(commit ? { commit } : {}), fulfil: f };
}

/**
 * Sends `fulfillBatch` (request `claims[i]` is block i of the batch proof; ids ascending) and waits for it
 * to be mined; throws if it reverted. The requests should be locked by the wallet first (`lockRequests`), or
 * committed for an open fill (`commitFill` with the batch's ids and proof).
 */
export async function fulfilBatch(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  claims: readonly Claim[],
  proof: Hex,
  instances: readonly bigint[],
  opts: { gas?: bigint } = {},
): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({
    account: wallet.account,
    chain: wallet.chain,
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "fulfillBatch",
    args: [claims.map((c) => c.requestId), claims.map((c) => c.terms), claims.map((c) => c.held), proof, [...instances]],
    ...(opts.gas ? { gas: opts.gas } : {}),
  });
  return mined(client, hash, `fulfillBatch(${claims.map((c) => c.requestId).join(",")})`);
}
