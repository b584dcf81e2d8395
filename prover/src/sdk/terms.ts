import { encodeAbiParameters, keccak256, parseEventLogs, type Address, type Hex, type Log, type PublicClient } from "viem";
import { inferenceCoordinatorAbi } from "../chain/abis.js";
import { ZkinferError } from "../errors.js";

/**
 * A request as the coordinator keeps it: one storage word, the hash of its terms (then of its lock, then of its
 * receipt) and its status. The terms themselves are in `InferenceRequested`, and every call that acts on the
 * request (`lock`, `fulfill`, `fulfillBatch`, `cancel`, `refund`) takes them back. This module reads them from the
 * chain's logs and builds the arguments those calls take.
 */

/** The coordinator's `Terms` struct, as `InferenceRequested` carries it and the calls take it back. */
export interface Terms {
  requester: Address;
  modelId: Hex;
  version: number;
  inputCommitment: Hex;
  maxPrice: bigint;
  minPrice: bigint;
  requestedAt: bigint;
  rampPeriod: number;
  lockDeadline: bigint;
  lockCollateral: bigint;
  callbackGasLimit: number;
  deadline: bigint;
}

/** The coordinator's `LockState` struct, as `RequestLocked` logged it. */
export interface LockState {
  locker: Address;
  lockedAt: bigint;
  price: bigint;
}

/** The lock passed with an `Open` request (the coordinator ignores it). */
export const NO_LOCK: LockState = {
  locker: "0x0000000000000000000000000000000000000000",
  lockedAt: 0n,
  price: 0n,
};

export const REQUEST_STATUS = ["none", "open", "fulfilled", "refunded", "locked", "cancelled"] as const;
export type RequestStatus = (typeof REQUEST_STATUS)[number];

/** A request read back from the chain: its terms, its input and where it was made. */
export interface RequestRecord {
  requestId: bigint;
  terms: Terms;
  /** The input as fixed-point integers, unpacked from the event. */
  input: bigint[];
  blockNumber: bigint;
  txHash: Hex;
}

export class RequestNotFoundError extends ZkinferError {
  readonly code = "REQUEST_NOT_FOUND";
}

const TERMS_TUPLE = inferenceCoordinatorAbi.find(
  (x): x is Extract<typeof x, { type: "function"; name: "hashTerms" }> => x.type === "function" && x.name === "hashTerms",
)!.inputs[0]!;

/**
 * Packs an input as `requestInferencePacked` takes it (and `InferenceRequested` logs it): each element as `width`
 * big-endian bytes of its two's complement, `width` the fewest bytes that hold every element with its sign.
 */
export function packInput(input: readonly bigint[]): { width: number; packed: Hex } {
  let width = 1;
  for (const x of input) {
    const magnitude = x < 0n ? -x - 1n : x; // the bits besides the sign
    while (width < 32 && magnitude >> BigInt(width * 8 - 1) !== 0n) width++;
  }
  const bits = BigInt(width * 8);
  const mask = (1n << bits) - 1n;
  const hex = input.map((x) => (x & mask).toString(16).padStart(width * 2, "0")).join("");
  return { width, packed: `0x${hex}` };
}

/** Unpacks `InferenceRequested`'s input: `width` big-endian two's-complement bytes per element. */
export function unpackInput(width: number, packed: Hex): bigint[] {
  return unpack(width, packed, "input");
}

/**
 * `InferenceFulfilled`'s outputs as fixed-point integers: the event packs them like a request's input (`outputWidth`
 * big-endian two's-complement bytes each, the narrowest width that holds them all). They are the outputs the consumer
 * was called back with, and `outputsHashOf` of them is the receipt's `outputsHash`. Takes the event's args as viem
 * or ethers decode them.
 */
export function fulfilledOutputs(args: { outputWidth: number | bigint; outputs: string }): bigint[] {
  return unpack(Number(args.outputWidth), args.outputs, "outputs");
}

function unpack(width: number, packed: string, what: string): bigint[] {
  const hex = packed.slice(2);
  const n = hex.length / 2 / width;
  if (!Number.isInteger(n) || width < 1 || width > 32)
    throw new Error(`packed ${what} of ${hex.length / 2} bytes is not a whole number of ${width}-byte elements`);
  const bits = BigInt(width * 8);
  const half = 1n << (bits - 1n);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const v = BigInt(`0x${hex.slice(i * width * 2, (i + 1) * width * 2)}`);
    out.push(v >= half ? v - (1n << bits) : v);
  }
  return out;
}

/** The terms as viem returns them from a log (the same shape), copied with their small integers as plain numbers. */
export function termsOf(t: Terms): Terms {
  return { ...t, version: Number(t.version), rampPeriod: Number(t.rampPeriod), callbackGasLimit: Number(t.callbackGasLimit) };
}

/** A request from its `InferenceRequested` log. */
export function requestFromLog(log: {
  args: { requestId: bigint; terms: Parameters<typeof termsOf>[0]; inputWidth: number; input: Hex };
  blockNumber: bigint;
  transactionHash: Hex;
}): RequestRecord {
  return {
    requestId: log.args.requestId,
    terms: termsOf(log.args.terms),
    input: unpackInput(Number(log.args.inputWidth), log.args.input),
    blockNumber: log.blockNumber,
    txHash: log.transactionHash,
  };
}

/** The requests (`InferenceRequested`) of a transaction's logs, in order. */
export function requestsInLogs(logs: Log[]): RequestRecord[] {
  return parseEventLogs({ abi: inferenceCoordinatorAbi, logs, eventName: "InferenceRequested", strict: true }).map((l) =>
    requestFromLog({ args: l.args, blockNumber: l.blockNumber!, transactionHash: l.transactionHash! }),
  );
}

/** A request's terms and input, from its `InferenceRequested` log (searched from `fromBlock`, default 0). */
export async function fetchRequest(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint },
): Promise<RequestRecord> {
  const [log] = await client.getContractEvents({
    address: p.coordinator,
    abi: inferenceCoordinatorAbi,
    eventName: "InferenceRequested",
    args: { requestId: p.requestId },
    fromBlock: p.fromBlock ?? 0n,
    strict: true,
  });
  if (!log) {
    throw new RequestNotFoundError(`request ${p.requestId} was never made on coordinator ${p.coordinator}`, {
      hint: "check the request id and the coordinator address (and --from-block, if given)",
    });
  }
  return requestFromLog(log);
}

/** A request's status and stored hash (`requestState`). */
export async function requestState(
  client: PublicClient,
  coordinator: Address,
  requestId: bigint,
): Promise<{ status: RequestStatus; stateHash: Hex }> {
  const [status, stateHash] = await client.readContract({
    address: coordinator,
    abi: inferenceCoordinatorAbi,
    functionName: "requestState",
    args: [requestId],
  });
  return { status: REQUEST_STATUS[Number(status)] ?? "none", stateHash };
}

/** A locked request's lock, from its `RequestLocked` log (the last one: a request is locked at most once). */
export async function fetchLock(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint },
): Promise<LockState | undefined> {
  const logs = await client.getContractEvents({
    address: p.coordinator,
    abi: inferenceCoordinatorAbi,
    eventName: "RequestLocked",
    args: { requestId: p.requestId },
    fromBlock: p.fromBlock ?? 0n,
    strict: true,
  });
  const log = logs.at(-1);
  return log && { locker: log.args.locker, lockedAt: log.args.lockedAt, price: log.args.price };
}

/** The locks (`RequestLocked`) of a transaction's logs, by request id. */
export function locksInLogs(logs: Log[]): Map<bigint, LockState> {
  const out = new Map<bigint, LockState>();
  for (const l of parseEventLogs({ abi: inferenceCoordinatorAbi, logs, eventName: "RequestLocked", strict: true })) {
    out.set(l.args.requestId, { locker: l.args.locker, lockedAt: l.args.lockedAt, price: l.args.price });
  }
  return out;
}

/**
 * What a call on a request takes back: its terms and, when it is locked, its lock (`NO_LOCK` otherwise), with its
 * status now. Reads the request's log, its state and (when locked) its lock log.
 */
export async function requestArgs(
  client: PublicClient,
  p: { coordinator: Address; requestId: bigint; fromBlock?: bigint; terms?: Terms },
): Promise<{ terms: Terms; held: LockState; status: RequestStatus }> {
  const [{ status }, terms] = await Promise.all([
    requestState(client, p.coordinator, p.requestId),
    p.terms ?? fetchRequest(client, p).then((r) => r.terms),
  ]);
  const held = status === "locked" ? ((await fetchLock(client, p)) ?? NO_LOCK) : NO_LOCK;
  return { terms, held, status };
}

/** `keccak256(abi.encode(terms))`, as the coordinator computes it (not truncated). */
export function hashTerms(terms: Terms): Hex {
  return keccak256(encodeAbiParameters([TERMS_TUPLE], [terms]));
}

/** The price a lock or an open fill fixes at `timestamp` (the coordinator's `priceAt`). */
export function priceAt(terms: Terms, timestamp: bigint): bigint {
  const ramp = BigInt(terms.rampPeriod);
  if (ramp === 0n || timestamp >= terms.requestedAt + ramp) return terms.maxPrice;
  if (timestamp <= terms.requestedAt) return terms.minPrice;
  return terms.minPrice + ((terms.maxPrice - terms.minPrice) * (timestamp - terms.requestedAt)) / ramp;
}

/** The open-fill commitment of `prover` to fulfil `requestIds` with a proof hashing to `proofHash`. */
export function fillCommitment(prover: Address, requestIds: readonly bigint[], proofHash: Hex): Hex {
  return keccak256(
    encodeAbiParameters([{ type: "address" }, { type: "uint256[]" }, { type: "bytes32" }], [prover, [...requestIds], proofHash]),
  );
}

/** `keccak256(abi.encode(hashTerms(terms), locker, lockedAt, price))`: a locked request's state (not truncated). */
export function hashLocked(terms: Terms, held: LockState): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "address" }, { type: "uint64" }, { type: "uint256" }],
      [hashTerms(terms), held.locker, held.lockedAt, held.price],
    ),
  );
}

/** Whether `stateHash` (as `requestState` returns it: its low byte cleared) is `hash`'s. */
export function sameState(stateHash: Hex, hash: Hex): boolean {
  return (BigInt(stateHash) & ~0xffn) === (BigInt(hash) & ~0xffn);
}

/** Terms as JSON (integers as decimal strings), and back: for stores and `--json` output. */
export function termsToJson(t: Terms): Record<string, string | number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
}
export function termsFromJson(j: Record<string, string | number>): Terms {
  const big = (k: keyof Terms) => BigInt(j[k] as string);
  return {
    requester: j.requester as Address,
    modelId: j.modelId as Hex,
    version: Number(j.version),
    inputCommitment: j.inputCommitment as Hex,
    maxPrice: big("maxPrice"),
    minPrice: big("minPrice"),
    requestedAt: big("requestedAt"),
    rampPeriod: Number(j.rampPeriod),
    lockDeadline: big("lockDeadline"),
    lockCollateral: big("lockCollateral"),
    callbackGasLimit: Number(j.callbackGasLimit),
    deadline: big("deadline"),
  };
}
