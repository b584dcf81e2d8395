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
  /** The proof and public instances exactly as `fulfill` received them. */
  proof: Hex;
  instances: bigint[];
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
  const log = await findFulfilledEvent(client, p);
  if (!log)
    throw new FulfilmentNotFoundError(`request ${p.requestId} has no InferenceFulfilled event on ${p.coordinator}`, {
      hint: "it is not fulfilled yet (or fromBlock is past it); wait with waitForInference first",
    });
  const tx = await client.getTransaction({ hash: log.transactionHash });
  let proof: Hex;
  let instances: bigint[];
  try {
    if (tx.to?.toLowerCase() !== p.coordinator.toLowerCase()) throw new Error("not sent to the coordinator");
    const call = decodeFunctionData({ abi: inferenceCoordinatorAbi, data: tx.input });
    if (call.functionName !== "fulfill") throw new Error(`the transaction calls ${call.functionName}`);
    const [requestId, proofArg, instancesArg] = call.args;
    if (requestId !== p.requestId) throw new Error(`the transaction fulfils request ${requestId}`);
    proof = proofArg;
    instances = [...instancesArg];
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
  return {
    requestId: p.requestId,
    modelId: log.args.modelId,
    version: Number(log.args.version),
    fulfiller: log.args.fulfiller,
    txHash: log.transactionHash,
    blockNumber: log.blockNumber,
    proof,
    instances,
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
  const f = await fetchFulfilment(client, p);
  const registry = await client.readContract({ address: p.coordinator, abi: inferenceCoordinatorAbi, functionName: "registry" });
  const v = await client.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "getVersion",
    args: [f.receipt.modelId, f.receipt.version],
  });
  const { inputOffset, inputCount, outputOffset, outputCount } = v.layout;
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
  const target = await client.readContract({
    address: registry,
    abi: modelRegistryAbi,
    functionName: "verificationTarget",
    args: [f.receipt.modelId, f.receipt.version],
  });
  const words = await readStoredVka(client, v.vka);
  const storedDigest = vkaDigest(words);
  check(
    "VKA",
    storedDigest === v.vkaDigest,
    `keccak256 of the VKA stored at ${v.vka} ${storedDigest}, registered ${v.vkaDigest}`,
  );
  const answer = await callSuiteVerifier(client, target.verifier, f.proof, f.instances, words);
  const accepted = answer.accepted && answer.digest === v.vkaDigest;
  let detail = `the suite verifier ${target.verifier} accepts the proof against the version's VKA (eth_call verifyProof)`;
  if (!answer.accepted) detail = `the suite verifier rejected the proof: ${answer.error ?? "returned false"}`;
  else if (!accepted) detail = `the suite verifier checked another VKA (digest ${answer.digest})`;
  check("proof", accepted, detail);
  return {
    valid: checks.every((c) => c.ok),
    checks,
    fulfilment: f,
    input: inputSlice.map(feltToInt),
    verifier: target.verifier,
  };
}

/** keccak256 input: the field elements as consecutive 32-byte words (FieldElement.commit's preimage). */
function packWords(words: readonly bigint[]): Hex {
  return `0x${words.map((w) => w.toString(16).padStart(64, "0")).join("")}`;
}
