import { decodeFunctionData, encodeAbiParameters, keccak256, type Address, type Hex, type PublicClient } from "viem";
import { inferenceCoordinatorAbi, modelRegistryAbi } from "../chain/abis.js";
import { callSuiteVerifier, readStoredVka, VARIANT_VKA_OFFSET, VERSION_VKA_OFFSET, vkaDigest } from "../chain/suite-verifier.js";
import { feltToInt } from "../engine/felt.js";
import { ZkinferError } from "../errors.js";
import { fetchRequest, fulfilledOutputs, termsOf, type Terms } from "./terms.js";

/**
 * A fulfilled request's receipt, and checking it after the fact, from nothing but a chain RPC. The coordinator
 * stores only the receipt's hash: the receipt is rebuilt from `InferenceFulfilled` (and `CallbackFailed`), the
 * request's terms and the fulfilment's block, and `checkReceipt` confirms it is the stored one. `verifyReceipt`
 * then fetches the proof and the public instances the fulfilment carried, and checks that they are the ones the
 * receipt records and that the model's registered verifier accepts them. Pure viem. Checking the proof with EZKL on
 * this machine instead of the chain's verifier is `verifyReceiptLocally` in ./verify-local.ts (it needs the model's
 * artifacts and the EZKL engine).
 */
export class FulfilmentNotFoundError extends ZkinferError {
  readonly code = "FULFILMENT_NOT_FOUND";
}

/** The receipt rebuilt from the logs is not the one the coordinator stored (another coordinator, or forged terms). */
export class ReceiptMismatchError extends ZkinferError {
  readonly code = "RECEIPT_MISMATCH";
}

export const CALLBACK_STATUS = ["none", "succeeded", "failed"] as const;
export type CallbackStatus = (typeof CALLBACK_STATUS)[number];

/**
 * The coordinator's `Receipt` struct, as `checkReceipt` and the example dApps' `settleFromReceipt` take it;
 * `callback` is the `CallbackStatus` number (`CALLBACK_STATUS[callback]` names it).
 */
export interface Receipt {
  modelId: Hex;
  version: number;
  inputCommitment: Hex;
  /** `keccak256(abi.encode(outputs))` of the decoded outputs. */
  outputsHash: Hex;
  /** `keccak256(proof)`. */
  proofHash: Hex;
  /** Who was paid (the locker within its lock, else the proof's sender). */
  fulfiller: Address;
  /** The fulfilment block's timestamp. */
  fulfilledAt: bigint;
  /** 0 none (an EOA requester, or no callback gas), 1 succeeded, 2 failed (`CallbackFailed`). */
  callback: number;
}

/** A request's InferenceFulfilled event, or undefined while it is not fulfilled. */
export async function findFulfilledEvent(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint },
) {
  const [log] = await client.getContractEvents({
    address: p.coordinator,
    abi: inferenceCoordinatorAbi,
    eventName: "InferenceFulfilled",
    args: { requestId: p.requestId },
    fromBlock: p.fromBlock ?? 0n,
    strict: true,
  });
  return log;
}

type FulfilledLog = NonNullable<Awaited<ReturnType<typeof findFulfilledEvent>>>;

/** `keccak256(abi.encode(outputs))`, the receipt's `outputsHash`. */
export function outputsHashOf(outputs: readonly bigint[]): Hex {
  return keccak256(encodeAbiParameters([{ type: "int256[]" }], [[...outputs]]));
}

/**
 * The receipt of a fulfilment from its log and the request's terms, confirmed with `checkReceipt`. The callback's
 * status is `failed` iff the transaction logged `CallbackFailed` for the request; otherwise `succeeded` when a
 * callback was made (callback gas asked for, and the requester had code), else `none`: which of the two is what the
 * coordinator stored, so both are checked (the requester's code at the time is not asked of the RPC).
 */
async function rebuildReceipt(
  client: PublicClient,
  coordinator: Address,
  log: FulfilledLog,
  terms: Terms,
): Promise<{ receipt: Receipt; stored: boolean }> {
  const requestId = log.args.requestId;
  const [block, failed, code] = await Promise.all([
    client.getBlock({ blockNumber: log.blockNumber }),
    client.getContractEvents({
      address: coordinator,
      abi: inferenceCoordinatorAbi,
      eventName: "CallbackFailed",
      args: { requestId },
      fromBlock: log.blockNumber,
      toBlock: log.blockNumber,
      strict: true,
    }),
    terms.callbackGasLimit === 0 ? Promise.resolve(undefined) : client.getCode({ address: terms.requester }),
  ]);
  const base = {
    modelId: terms.modelId,
    version: terms.version,
    inputCommitment: terms.inputCommitment,
    outputsHash: outputsHashOf(fulfilledOutputs(log.args)),
    proofHash: log.args.proofHash,
    fulfiller: log.args.fulfiller,
    fulfilledAt: block.timestamp,
  };
  const hasCode = code !== undefined && code !== "0x";
  // Most likely first: failed when logged; else a callback when one was asked for and the requester has code now.
  const candidates = failed.length > 0 ? [2] : terms.callbackGasLimit === 0 ? [0] : hasCode ? [1, 0] : [0, 1];
  for (const callback of candidates) {
    const receipt = { ...base, callback };
    const stored = await client.readContract({
      address: coordinator,
      abi: inferenceCoordinatorAbi,
      functionName: "checkReceipt",
      args: [requestId, receipt],
    });
    if (stored) return { receipt, stored };
  }
  return { receipt: { ...base, callback: candidates[0]! }, stored: false };
}

/**
 * A fulfilled request's receipt, rebuilt from its `InferenceFulfilled` (and `CallbackFailed`) log and its terms
 * (from `InferenceRequested` unless given), and confirmed on-chain with `checkReceipt`. Throws
 * `FulfilmentNotFoundError` while the request is not fulfilled and `ReceiptMismatchError` if the coordinator does not
 * confirm the receipt (e.g. `terms` that are not the request's).
 */
export async function readReceipt(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint; terms?: Terms },
): Promise<Receipt> {
  const log = await findFulfilledEvent(client, p);
  if (!log) throw notFulfilled(p);
  return (await confirmedReceipt(client, p, log)).receipt;
}

/** The receipt of a fulfilment's log; throws ReceiptMismatchError unless the coordinator confirms it. */
async function confirmedReceipt(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint; terms?: Terms },
  log: FulfilledLog,
): Promise<{ receipt: Receipt; terms: Terms }> {
  const terms = p.terms ?? (await fetchRequest(client, p)).terms;
  const { receipt, stored } = await rebuildReceipt(client, p.coordinator, log, terms);
  if (!stored)
    throw new ReceiptMismatchError(
      `the receipt of request ${p.requestId} rebuilt from its logs is not the one coordinator ${p.coordinator} stored`,
      { hint: "pass the request's own terms (from its InferenceRequested event), or none to have them read from the chain" },
    );
  return { receipt, terms };
}

function notFulfilled(p: { coordinator: Address; requestId: bigint }): FulfilmentNotFoundError {
  return new FulfilmentNotFoundError(`request ${p.requestId} has no InferenceFulfilled event on ${p.coordinator}`, {
    hint: "it is not fulfilled yet (or fromBlock is past it); wait with waitForInference first",
  });
}

export interface Fulfilment {
  requestId: bigint;
  modelId: Hex;
  version: number;
  fulfiller: Address;
  txHash: Hex;
  blockNumber: bigint;
  /** The request's terms, as the fulfilment passed them back (the coordinator checked them against its hash). */
  terms: Terms;
  /** The proof and public instances exactly as `fulfill` (or `fulfillBatch`) received them. */
  proof: Hex;
  instances: bigint[];
  /**
   * Where the request sits in the proof: batch size 1 and block 0 for `fulfill`; for `fulfillBatch`, the
   * circuit's batch size (a variant registered with the version) and the request's block.
   */
  batch: { size: number; index: number };
  /** The outputs the coordinator decoded and handed to the consumer (from the event). */
  outputs: bigint[];
  /** The receipt, rebuilt from the event and the terms (see `readReceipt`). */
  receipt: Receipt;
  /** Whether the coordinator confirmed `receipt` as the one it stored (`checkReceipt`). */
  receiptStored: boolean;
}

/** Find a request's fulfilment and read the proof (and the request's terms) out of the fulfilling transaction's calldata. */
export async function fetchFulfilment(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint },
): Promise<Fulfilment> {
  return (await fetchWithVersion(client, p)).fulfilment;
}

/** `fetchFulfilment`, with the registry and the registered version it read on the way (for `verifyReceipt`). */
async function fetchWithVersion(client: PublicClient, p: { coordinator: Address; requestId: bigint; fromBlock?: bigint }) {
  const log = await findFulfilledEvent(client, p);
  if (!log) throw notFulfilled(p);
  const tx = await client.getTransaction({ hash: log.transactionHash });
  let proof: Hex;
  let instances: bigint[];
  let terms: Terms;
  let index = 0;
  try {
    if (tx.to?.toLowerCase() !== p.coordinator.toLowerCase()) throw new Error("not sent to the coordinator");
    const call = decodeFunctionData({ abi: inferenceCoordinatorAbi, data: tx.input });
    if (call.functionName === "fulfill") {
      const [requestId, termsArg, , proofArg, instancesArg] = call.args;
      if (requestId !== p.requestId) throw new Error(`the transaction fulfils request ${requestId}`);
      terms = termsOf(termsArg);
      proof = proofArg;
      instances = [...instancesArg];
    } else if (call.functionName === "fulfillBatch") {
      const [requestIds, termsArg, , proofArg, instancesArg] = call.args;
      index = requestIds.indexOf(p.requestId);
      if (index < 0) throw new Error(`the batch fulfils requests ${requestIds.join(", ")}`);
      terms = termsOf(termsArg[index]!);
      proof = proofArg;
      instances = [...instancesArg];
    } else {
      throw new Error(`the transaction calls ${call.functionName}`);
    }
  } catch (e) {
    throw new FulfilmentNotFoundError(
      `cannot read the proof of request ${p.requestId} from transaction ${log.transactionHash}: ${(e as Error).message}`,
      {
        hint: "the fulfilment was relayed through another contract; read the proof from that contract's call instead",
        cause: e,
      },
    );
  }
  const [{ receipt, stored }, registry] = await Promise.all([
    rebuildReceipt(client, p.coordinator, log, terms),
    client.readContract({ address: p.coordinator, abi: inferenceCoordinatorAbi, functionName: "registry" }),
  ]);
  const v = await client.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "getVersion",
    args: [terms.modelId, terms.version],
  });
  const fulfilment: Fulfilment = {
    requestId: p.requestId,
    modelId: terms.modelId, // the event leaves the model and version to the terms
    version: terms.version,
    fulfiller: log.args.fulfiller,
    txHash: log.transactionHash,
    blockNumber: log.blockNumber,
    terms,
    proof,
    instances,
    // The coordinator accepted the instances, so they are a whole number of the version's blocks.
    batch: { size: instances.length / v.layout.instanceCount, index },
    outputs: fulfilledOutputs(log.args),
    receipt,
    receiptStored: stored,
  };
  return { fulfilment, registry, v };
}

export interface ReceiptCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ReceiptVerification {
  valid: boolean;
  checks: ReceiptCheck[];
  fulfilment: Fulfilment;
  /** The fixed-point input the proof is about, from its public instances. */
  input: bigint[];
  verifier: Address;
}

/**
 * Re-check a fulfilled request: the receipt rebuilt from the logs must be the one the coordinator stored; its proof
 * hash, input commitment and outputs hash must match the proof and instances the fulfilment carried; the VKA stored on-chain must have the
 * version's digest; and the suite verifier must accept the proof against it and report that digest
 * (an eth_call, nothing sent).
 * Returns every check with its result rather than stopping at the first failure.
 */
export async function verifyReceipt(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint },
): Promise<ReceiptVerification> {
  const { fulfilment: f, registry, v } = await fetchWithVersion(client, p);
  // The request's block (see IModelRegistry.Variant): every range of the layout scaled by the batch size, then
  // the block's own part of it. At batch size 1 this is the version's layout.
  const { size, index } = f.batch;
  const { inputCount, outputCount } = v.layout;
  const inputOffset = size * v.layout.inputOffset + index * inputCount;
  const outputOffset = size * v.layout.outputOffset + index * outputCount;
  const inputSlice = f.instances.slice(inputOffset, inputOffset + inputCount);
  const outputs = f.instances.slice(outputOffset, outputOffset + outputCount).map(feltToInt);
  const checks: ReceiptCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  check(
    "receipt",
    f.receiptStored,
    f.receiptStored
      ? "the receipt rebuilt from InferenceFulfilled and the request's terms is the one the coordinator stores (checkReceipt)"
      : "the receipt rebuilt from InferenceFulfilled and the request's terms is NOT the one the coordinator stores",
  );
  const proofHash = keccak256(f.proof);
  check("proof hash", proofHash === f.receipt.proofHash, `keccak256(proof) ${proofHash}, receipt ${f.receipt.proofHash}`);
  const commitment = keccak256(packWords(inputSlice));
  check(
    "input commitment",
    commitment === f.receipt.inputCommitment,
    `keccak256 of the proof's ${inputCount} input instances ${commitment}, receipt ${f.receipt.inputCommitment}`,
  );
  const outputsHash = outputsHashOf(outputs);
  check(
    "outputs",
    outputsHash === f.receipt.outputsHash && outputs.length === f.outputs.length && outputs.every((o, i) => o === f.outputs[i]),
    `the proof's ${outputCount} output instances decode to the event's outputs, hash ${outputsHash}`,
  );
  check(
    "model version",
    f.receipt.modelId === f.modelId && f.receipt.version === f.version,
    `receipt ${f.receipt.modelId} v${f.receipt.version}`,
  );
  // The circuit the proof is of (the version's own, or the batch variant registered with it) and its suite verifier.
  const [, verifier, , circuitVka, circuitDigest] = await client.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "batchTarget",
    args: [f.receipt.modelId, f.receipt.version, size],
  });
  const circuit = size === 1 ? "the version's VKA" : `the version's batch-${size} variant's VKA (block ${index})`;
  // A version's store holds its description before the VKA; a variant's holds the VKA only.
  const words = await readStoredVka(client, circuitVka, size === 1 ? VERSION_VKA_OFFSET : VARIANT_VKA_OFFSET);
  const storedDigest = vkaDigest(words);
  check(
    "VKA",
    storedDigest === circuitDigest,
    `keccak256 of ${circuit} stored at ${circuitVka} ${storedDigest}, registered ${circuitDigest}`,
  );
  const answer = await callSuiteVerifier(client, verifier, f.proof, f.instances, words);
  const accepted = answer.accepted && answer.digest === circuitDigest;
  let detail = `the suite verifier ${verifier} accepts the proof against ${circuit} (eth_call verifyProof)`;
  if (!answer.accepted) detail = `the suite verifier rejected the proof: ${answer.error ?? "returned false"}`;
  else if (!accepted) detail = `the suite verifier checked another VKA (digest ${answer.digest})`;
  check("proof", accepted, detail);
  return {
    valid: checks.every((c) => c.ok),
    checks,
    fulfilment: f,
    input: inputSlice.map(feltToInt),
    verifier,
  };
}

/** keccak256 input: the field elements as consecutive 32-byte words (FieldElement.commit's preimage). */
function packWords(words: readonly bigint[]): Hex {
  return `0x${words.map((w) => w.toString(16).padStart(64, "0")).join("")}`;
}
