import {
  encodeAbiParameters,
  keccak256,
  parseEventLogs,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { inferenceCoordinatorAbi, modelRegistryAbi } from "../chain/abis.js";
import { fixedToFloat } from "../engine/felt.js";
import { ZkinferError } from "../errors.js";
import type { InputSpec } from "../models/input.js";
import { CALLBACK_STATUS, findFulfilledEvent, readReceipt, type CallbackStatus, type Receipt } from "./receipt.js";
import { fulfilledOutputs, packInput, requestArgs, requestsInLogs, type Terms } from "./terms.js";

/**
 * What a dApp developer needs in TypeScript: ask for a verified inference, wait for it, decode it.
 * Pure viem: no EZKL, no Python.
 */
export class InferenceTimeoutError extends ZkinferError {
  readonly code = "INFERENCE_TIMEOUT";
  override readonly retryable = true;
}

export class NoActiveVersionError extends ZkinferError {
  readonly code = "NO_ACTIVE_VERSION";
  constructor(readonly modelId: Hex) {
    super(`model ${modelId} has no active version`, { hint: "register a version, or reactivate one" });
  }
}

/** The id ModelRegistry gives the model `name` registered by `owner`. */
export function modelIdOf(owner: Address, name: string): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "string" }], [owner, name]));
}

export interface RegisteredVersion {
  modelId: Hex;
  version: number;
  /** What `encodeInput` needs (the chain knows the total count and the scale, not the tensors' names). */
  input: InputSpec;
  /** Fixed-point bits of every input value: x is sent as round(x * 2^inputScale). */
  inputScale: number;
  /** Input values in all, every tensor's. */
  inputCount: number;
  /** Fixed-point bits of every output value (`decodeOutputs(outputs, outputScale)`). */
  outputScale: number;
  outputCount: number;
  /** The suite verifier that checks the version's proofs. */
  verifier: Address;
  vkaDigest: Hex;
  /** "ceremony" when the version's VKA carries the public ceremony SRS's G2 points, else "dev". */
  srs: "ceremony" | "dev";
  status: VersionStatus;
  /** Whether requests can name it now (active, suite verifier running). */
  requestable: boolean;
}

export const VERSION_STATUS = ["none", "active", "deprecated", "revoked"] as const;
export type VersionStatus = (typeof VERSION_STATUS)[number];

/** A registered version (0 = latest active) with what a client needs to encode inputs and decode outputs. */
export async function getRegisteredVersion(
  client: PublicClient,
  registry: Address,
  modelId: Hex,
  version = 0,
): Promise<RegisteredVersion> {
  const v =
    version === 0
      ? await client.readContract({
          address: registry,
          abi: modelRegistryAbi,
          functionName: "latestActiveVersion",
          args: [modelId],
        })
      : version;
  if (v === 0) throw new NoActiveVersionError(modelId);
  const [info, ver, target] = await Promise.all([
    client.readContract({ address: registry, abi: modelRegistryAbi, functionName: "getModel", args: [modelId] }),
    client.readContract({ address: registry, abi: modelRegistryAbi, functionName: "getVersion", args: [modelId, v] }),
    client.readContract({ address: registry, abi: modelRegistryAbi, functionName: "verificationTarget", args: [modelId, v] }),
  ]);
  const status = VERSION_STATUS[ver.status] ?? "none";
  return {
    modelId,
    version: v,
    input: { model: info.name, count: ver.layout.inputCount, scale: ver.inputScale },
    inputScale: ver.inputScale,
    inputCount: ver.layout.inputCount,
    outputScale: ver.outputScale,
    outputCount: ver.layout.outputCount,
    verifier: target.verifier,
    vkaDigest: ver.vkaDigest,
    srs: ver.ceremonySrs ? "ceremony" : "dev",
    status,
    requestable: status === "active" && !target.verifierStopped,
  };
}

/**
 * A deadline `seconds` from now on the chain's clock. The coordinator compares deadlines with
 * block.timestamp, and a chain that mines several blocks a second (an automining dev node) runs
 * ahead of the wall clock — about a second per block — so this takes the later of the two.
 */
export async function deadlineIn(client: PublicClient, seconds: number): Promise<bigint> {
  const head = await client.getBlock({ blockTag: "latest" });
  return BigInt(Math.max(Math.floor(Date.now() / 1000), Number(head.timestamp)) + Math.ceil(seconds));
}

export interface RequestParams {
  coordinator: Address;
  modelId: Hex;
  /**
   * The version to pin. Omitted: the model's latest active version now, read from the registry and
   * pinned (a version registered later never applies to the request). 0 = an explicit opt-in to
   * whatever version is latest when the request is mined.
   */
  version?: number;
  /** The input as fixed-point integers at the version's input scale. */
  input: readonly bigint[];
  /** The maximum price in wei (escrowed as the request's value); the price paid when nothing else is said. */
  fee?: bigint;
  /**
   * The price at the request's block (a reverse Dutch auction rising to `fee` over `rampPeriod`); default `fee`
   * (a fixed price). The coordinator requires it to cover `callbackGasLimit` x 2 x the block's base fee.
   */
  minPrice?: bigint;
  /** Seconds over which the price rises from `minPrice` to `fee`; default 0 (fixed at `fee`). */
  rampPeriod?: number;
  /** Seconds from the request during which a prover may lock it and alone be paid; default half the time to the deadline. */
  lockTimeout?: number;
  /** Wei a locker puts up from its coordinator balance, lost if it has not fulfilled by the lock deadline; default 0. */
  lockCollateral?: bigint;
  /** Gas for the requester's callback (0 = none; an EOA gets none anyway). */
  callbackGasLimit?: number;
  /** Unix seconds, compared with block.timestamp; default deadlineIn(client, 600). */
  deadline?: bigint;
}

export interface SubmittedRequest {
  requestId: bigint;
  version: number;
  inputCommitment: Hex;
  /**
   * The request's terms as `InferenceRequested` logged them: every call on the request (`cancel`, `refund`, `lock`,
   * `fulfill`) takes them back, and the receipt is rebuilt from them (pass them to `waitForInference`,
   * `settleRequest`, `readReceipt` to skip reading them from the chain).
   */
  terms: Terms;
  txHash: Hex;
  blockNumber: bigint;
  gasUsed: bigint;
}

export async function requestInference(
  wallet: WalletClient<Transport, Chain, Account>,
  client: PublicClient,
  p: RequestParams,
): Promise<SubmittedRequest> {
  const deadline = p.deadline ?? (await deadlineIn(client, 600));
  const version = p.version ?? (await latestActiveVersion(client, p.coordinator, p.modelId));
  const packed = packInput(p.input);
  const { request } = await client.simulateContract({
    account: wallet.account,
    address: p.coordinator,
    abi: inferenceCoordinatorAbi,
    // The packed form: a request's calldata is then a few bytes per element instead of a 32-byte word each.
    functionName: "requestInferencePacked",
    args: [p.modelId, version, packed.width, packed.packed, await requestOffer(client, p, deadline)],
    value: p.fee ?? 0n,
  });
  const txHash = await wallet.writeContract(request);
  const receipt = await client.waitForTransactionReceipt({ hash: txHash });
  const [event] = requestsInLogs(receipt.logs);
  if (!event) throw new Error(`requestInference ${txHash} emitted no InferenceRequested`);
  return {
    requestId: event.requestId,
    version: event.terms.version,
    inputCommitment: event.terms.inputCommitment,
    terms: event.terms,
    txHash,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
  };
}

/** The terms of a request (the coordinator's `Offer`), from `RequestParams`' price/lock/callback fields. */
export type OfferTerms = Pick<
  RequestParams,
  "fee" | "minPrice" | "rampPeriod" | "lockTimeout" | "lockCollateral" | "callbackGasLimit"
>;

/**
 * The coordinator's `Offer` for a request with `deadline`, sent at `now` (unix seconds): a fixed price of `fee`
 * unless `minPrice`/`rampPeriod` say otherwise, lockable for a third of the time left (so a chain clock a little
 * ahead of `now` still accepts it), no collateral unless `lockCollateral` is given.
 */
export function offerFor(deadline: bigint, t: OfferTerms = {}, now = BigInt(Math.floor(Date.now() / 1000))) {
  const window = Math.max(1, Number(deadline - now));
  return {
    minPrice: t.minPrice ?? t.fee ?? 0n,
    rampPeriod: t.rampPeriod ?? 0,
    lockTimeout: t.lockTimeout ?? Math.max(1, Math.floor(window / 3)),
    lockCollateral: t.lockCollateral ?? 0n,
    callbackGasLimit: t.callbackGasLimit ?? 0,
    deadline,
  };
}

/** `offerFor` measured from the later of the wall clock and the head block (see `deadlineIn`). */
export async function requestOffer(client: PublicClient, t: OfferTerms, deadline: bigint) {
  const head = await client.getBlock({ blockTag: "latest" });
  const now = BigInt(Math.max(Math.floor(Date.now() / 1000), Number(head.timestamp)));
  return offerFor(deadline, t, now);
}

/** The model's latest active version now (what a request pins by default); throws when it has none. */
async function latestActiveVersion(client: PublicClient, coordinator: Address, modelId: Hex): Promise<number> {
  const registry = await client.readContract({ address: coordinator, abi: inferenceCoordinatorAbi, functionName: "registry" });
  const v = await client.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "latestActiveVersion",
    args: [modelId],
  });
  if (v === 0) throw new NoActiveVersionError(modelId);
  return v;
}

export interface InferenceResult {
  requestId: bigint;
  modelId: Hex;
  version: number;
  /** Fixed-point outputs exactly as the chain handed them to the consumer. */
  outputs: bigint[];
  proofHash: Hex;
  fulfiller: Address;
  txHash: Hex;
  blockNumber: bigint;
  /** What happened to the requester's callback (from the confirmed receipt: `failed` iff `CallbackFailed`). */
  callback: CallbackStatus;
  /** The receipt, rebuilt from the logs and confirmed on-chain (`checkReceipt`); what `settleFromReceipt` takes. */
  receipt: Receipt;
}

/**
 * Wait (polling, bounded by timeoutMs) for a request's InferenceFulfilled event; then its receipt is rebuilt and
 * confirmed on-chain (see `readReceipt`). `fromBlock` (at or before the request's block) bounds the log searches;
 * `terms` (from `requestInference`) saves reading them.
 */
export async function waitForInference(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint; terms?: Terms; timeoutMs?: number; pollMs?: number },
): Promise<InferenceResult> {
  const end = Date.now() + (p.timeoutMs ?? 600_000);
  for (;;) {
    const log = await findFulfilledEvent(client, p);
    if (log) {
      const r = await readReceipt(client, p);
      return {
        requestId: p.requestId,
        modelId: r.modelId, // from the request's terms: the event does not repeat them
        version: r.version,
        outputs: fulfilledOutputs(log.args),
        proofHash: log.args.proofHash,
        fulfiller: log.args.fulfiller,
        txHash: log.transactionHash,
        blockNumber: log.blockNumber,
        callback: CALLBACK_STATUS[r.callback] ?? "none",
        receipt: r,
      };
    }
    if (Date.now() > end) {
      throw new InferenceTimeoutError(
        `request ${p.requestId} was not fulfilled within ${Math.round((p.timeoutMs ?? 600_000) / 1000)} s`,
        {
          hint: 'is a prover serving this model? After the deadline the fee can be refunded: settleRequest(..., { action: "refund" }) or `zkinfer request refund <id>`',
        },
      );
    }
    await new Promise((r) => setTimeout(r, p.pollMs ?? 1000));
  }
}

/** Fixed-point outputs as floats. */
export function decodeOutputs(outputs: readonly bigint[], outputScale: number): number[] {
  return outputs.map((v) => fixedToFloat(v, outputScale));
}

export interface SettledRequest {
  requestId: bigint;
  txHash: Hex;
  /** The requester credited. */
  requester: Address;
  /** The escrow credited back to the requester's coordinator balance (withdraw it with `withdraw`). */
  amount: bigint;
}

/**
 * Cancel a request that is not locked (only its requester may), or refund one past its deadline (or
 * while fulfilments are paused; anyone may): the escrow goes back to the requester's coordinator balance.
 * The call takes the request's terms back (and, for a refund of a locked request, its lock): read from the chain
 * (`requestArgs`), the terms unless given. Reverts as the coordinator does (CoordinatorRequestLocked,
 * CoordinatorNotRequester, CoordinatorRequestNotExpired, ...).
 */
export async function settleRequest(
  wallet: WalletClient<Transport, Chain, Account>,
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; action: "cancel" | "refund"; terms?: Terms; fromBlock?: bigint },
): Promise<SettledRequest> {
  const { terms, held } = await requestArgs(client, p);
  const base = { account: wallet.account, address: p.coordinator, abi: inferenceCoordinatorAbi } as const;
  const txHash =
    p.action === "cancel"
      ? await wallet.writeContract(
          (await client.simulateContract({ ...base, functionName: "cancel", args: [p.requestId, terms] })).request,
        )
      : await wallet.writeContract(
          (await client.simulateContract({ ...base, functionName: "refund", args: [p.requestId, terms, held] })).request,
        );
  const receipt = await client.waitForTransactionReceipt({ hash: txHash });
  const [event] = parseEventLogs({
    abi: inferenceCoordinatorAbi,
    logs: receipt.logs,
    eventName: p.action === "cancel" ? "InferenceCancelled" : "InferenceRefunded",
  });
  if (!event) throw new Error(`${p.action} ${txHash} emitted no event`);
  return { requestId: p.requestId, txHash, requester: event.args.requester, amount: event.args.amount };
}

/** Withdraw the account's whole coordinator balance (refunds, earnings); returns the amount (0: nothing to withdraw). */
export async function withdrawCredit(
  wallet: WalletClient<Transport, Chain, Account>,
  client: PublicClient,
  coordinator: Address,
): Promise<{ amount: bigint; txHash?: Hex }> {
  const amount = await client.readContract({
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "credits",
    args: [wallet.account.address],
  });
  if (amount === 0n) return { amount };
  const { request } = await client.simulateContract({
    account: wallet.account,
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "withdraw",
  });
  const txHash = await wallet.writeContract(request);
  await client.waitForTransactionReceipt({ hash: txHash });
  return { amount, txHash };
}
