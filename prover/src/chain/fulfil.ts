import {
  encodeAbiParameters,
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

/** `keccak256(abi.encode(prover, requestId, keccak256(proof)))`, as IInferenceCoordinator.fillCommitment. */
export function fillCommitment(prover: Address, requestId: bigint, proof: Hex): Hex {
  return keccak256(
    encodeAbiParameters([{ type: "address" }, { type: "uint256" }, { type: "bytes32" }], [prover, requestId, keccak256(proof)]),
  );
}

/** Locks `requestIds` in one transaction (collateral from the wallet's coordinator balance). */
export async function lockRequests(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  requestIds: readonly bigint[],
): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({
    account: wallet.account,
    chain: wallet.chain,
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "lock",
    args: [[...requestIds]],
  });
  return mined(client, hash, `lock(${requestIds.join(",")})`);
}

/** Commits to the wallet's open fill of `requestId` with `proof`; the fill may be sent from the next block. */
export async function commitFill(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  requestId: bigint,
  proof: Hex,
): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({
    account: wallet.account,
    chain: wallet.chain,
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "commit",
    args: [fillCommitment(wallet.account.address, requestId, proof)],
  });
  return mined(client, hash, `commit for request ${requestId}`);
}

/** Sends `fulfill` and waits for it to be mined; throws if it reverted. */
export async function fulfil(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  requestId: bigint,
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
    args: [requestId, proof, [...instances]],
    ...(opts.gas ? { gas: opts.gas } : {}),
  });
  return mined(client, hash, `fulfill(${requestId})`);
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
  opts: { gas?: bigint } = {},
): Promise<{ lock?: TransactionReceipt; commit?: TransactionReceipt; fulfil: TransactionReceipt }> {
  const [r, head] = await Promise.all([
    client.readContract({ address: coordinator, abi: inferenceCoordinatorAbi, functionName: "request", args: [requestId] }),
    client.getBlock({ blockTag: "latest" }),
  ]);
  const mine = r.locker.toLowerCase() === wallet.account.address.toLowerCase();
  let lock: TransactionReceipt | undefined;
  let commit: TransactionReceipt | undefined;
  if (Number(r.status) === 1 && BigInt(r.lockDeadline) > head.timestamp) {
    lock = await lockRequests(wallet, client, coordinator, [requestId]);
  } else if (!(mine && BigInt(r.lockDeadline) > head.timestamp)) {
    commit = await commitFill(wallet, client, coordinator, requestId, proof);
  }
  const f = await fulfil(wallet, client, coordinator, requestId, proof, instances, opts);
  return { ...(lock ? { lock } : {}), ...(commit ? { commit } : {}), fulfil: f };
}

/**
 * Sends `fulfillBatch` (request `requestIds[i]` is block i of the batch proof; ids ascending) and waits for it
 * to be mined; throws if it reverted. The requests should be locked by the wallet first (`lockRequests`), or
 * each committed for an open fill (`commitFill` with the batch proof).
 */
export async function fulfilBatch(
  wallet: Wallet,
  client: PublicClient,
  coordinator: Address,
  requestIds: readonly bigint[],
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
    args: [[...requestIds], proof, [...instances]],
    ...(opts.gas ? { gas: opts.gas } : {}),
  });
  return mined(client, hash, `fulfillBatch(${requestIds.join(",")})`);
}
