import { decodeFunctionData, encodeAbiParameters, keccak256, type Address, type Hex, type PublicClient } from "viem";
import { inferenceCoordinatorAbi, modelRegistryAbi } from "../chain/abis.js";
import { callSuiteVerifier, readStoredVka, vkaDigest } from "../chain/suite-verifier.js";
import { feltToInt } from "../engine/felt.js";
import { ZkinferError } from "../errors.js";
import { findFulfilledEvent, readReceipt } from "./inference.js";

/**
 * Checking a verified receipt after the fact, from nothing but a chain RPC: fetch the proof and the
 * public instances the fulfilment carried, and check that they are the ones the receipt records and
 * that the model's registered verifier accepts them. Pure viem. Checking the proof with EZKL on this
 * machine instead of the chain's verifier is `verifyReceiptLocally` in ./verify-local.ts (it needs
 * the model's artifacts and the EZKL engine).
 */
export class FulfilmentNotFoundError extends ZkinferError {
  readonly code = "FULFILMENT_NOT_FOUND";
}

export interface Fulfilment {
  requestId: bigint;
  modelId: Hex;
  version: number;
  fulfiller: Address;
  txHash: Hex;
  blockNumber: bigint;
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
  /** The receipt as stored by the coordinator. */
  receipt: {
    modelId: Hex;
    version: number;
    inputCommitment: Hex;
    outputsHash: Hex;
    proofHash: Hex;
    fulfiller: Address;
  };
}

/** Find a request's fulfilment and read the proof out of the fulfilling transaction's calldata. */
export async function fetchFulfilment(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint },
): Promise<Fulfilment> {
  return (await fetchWithVersion(client, p)).fulfilment;
}

/** `fetchFulfilment`, with the registry and the registered version it read on the way (for `verifyReceipt`). */
async function fetchWithVersion(client: PublicClient, p: { coordinator: Address; requestId: bigint; fromBlock?: bigint }) {
  const log = await findFulfilledEvent(client, p);
  if (!log)
    throw new FulfilmentNotFoundError(`request ${p.requestId} has no InferenceFulfilled event on ${p.coordinator}`, {
      hint: "it is not fulfilled yet (or fromBlock is past it); wait with waitForInference first",
    });
  const tx = await client.getTransaction({ hash: log.transactionHash });
  let proof: Hex;
  let instances: bigint[];
  let index = 0;
  try {
    if (tx.to?.toLowerCase() !== p.coordinator.toLowerCase()) throw new Error("not sent to the coordinator");
    const call = decodeFunctionData({ abi: inferenceCoordinatorAbi, data: tx.input });
    if (call.functionName === "fulfill") {
      const [requestId, proofArg, instancesArg] = call.args;
      if (requestId !== p.requestId) throw new Error(`the transaction fulfils request ${requestId}`);
      proof = proofArg;
      instances = [...instancesArg];
    } else if (call.functionName === "fulfillBatch") {
      const [requestIds, proofArg, instancesArg] = call.args;
      index = requestIds.indexOf(p.requestId);
      if (index < 0) throw new Error(`the batch fulfils requests ${requestIds.join(", ")}`);
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
  const r = await readReceipt(client, p.coordinator, p.requestId);
  const registry = await client.readContract({ address: p.coordinator, abi: inferenceCoordinatorAbi, functionName: "registry" });
  const v = await client.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "getVersion",
    args: [r.modelId, r.version],
  });
  const fulfilment: Fulfilment = {
    requestId: p.requestId,
    modelId: log.args.modelId,
    version: Number(log.args.version),
    fulfiller: log.args.fulfiller,
    txHash: log.transactionHash,
    blockNumber: log.blockNumber,
    proof,
    instances,
    // The coordinator accepted the instances, so they are a whole number of the version's blocks.
    batch: { size: instances.length / v.layout.instanceCount, index },
    outputs: [...log.args.outputs],
    receipt: {
      modelId: r.modelId,
      version: Number(r.version),
      inputCommitment: r.inputCommitment,
      outputsHash: r.outputsHash,
      proofHash: r.proofHash,
      fulfiller: r.fulfiller,
    },
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
 * Re-check a fulfilled request: the stored receipt's proof hash, input commitment and outputs hash
 * must match the proof and instances the fulfilment carried; the VKA stored on-chain must have the
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

  const proofHash = keccak256(f.proof);
  check("proof hash", proofHash === f.receipt.proofHash, `keccak256(proof) ${proofHash}, receipt ${f.receipt.proofHash}`);
  const commitment = keccak256(packWords(inputSlice));
  check(
    "input commitment",
    commitment === f.receipt.inputCommitment,
    `keccak256 of the proof's ${inputCount} input instances ${commitment}, receipt ${f.receipt.inputCommitment}`,
  );
  const outputsHash = keccak256(encodeAbiParameters([{ type: "int256[]" }], [outputs]));
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
  const words = await readStoredVka(client, circuitVka);
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
