import { createPublicClient, http, type Hex } from "viem";
import type { ChainClients } from "../prover/src/chain/clients.js";
import { calldataGas } from "./batch.js";

/**
 * Where a mined transaction's gas went, from the node's `debug_traceTransaction` (the struct logger, re-executing
 * it): the intrinsic gas, its calldata, the storage writes and the events (every frame). The rest is execution:
 * storage reads, hashing, calls and their code, net of refunds (gasUsed is after them).
 */
export interface GasBreakdown {
  gasUsed: number;
  intrinsic: number;
  calldata: number;
  sstore: { count: number; gas: number };
  log: { count: number; gas: number };
  rest: number;
  /**
   * The outermost frame (the contract called) step by step: each opcode class's gas there, as the gas left before
   * the step minus the gas left before the frame's next step (so a call's figure is all it cost, its callee's work
   * included), and every call it made, in order. `other` is the frame's remaining execution (stack, memory,
   * arithmetic, jumps). Absent from results written before it existed.
   */
  top?: {
    sload: { count: number; gas: number };
    sstore: { count: number; gas: number };
    keccak: { count: number; gas: number };
    log: { count: number; gas: number };
    copy: { count: number; gas: number };
    /** Each CALL / STATICCALL / DELEGATECALL of the frame, in order: all it cost, callee included. */
    calls: number[];
    other: number;
  };
}

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
}

const CALLS = new Set(["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"]);
const COPIES = new Set(["EXTCODECOPY", "CALLDATACOPY", "CODECOPY", "RETURNDATACOPY", "MCOPY"]);

/** The outermost frame's gas by opcode class (see `GasBreakdown.top`). */
function topFrame(logs: StructLog[]): NonNullable<GasBreakdown["top"]> {
  const top: NonNullable<GasBreakdown["top"]> = {
    sload: { count: 0, gas: 0 },
    sstore: { count: 0, gas: 0 },
    keccak: { count: 0, gas: 0 },
    log: { count: 0, gas: 0 },
    copy: { count: 0, gas: 0 },
    calls: [],
    other: 0,
  };
  const depth = logs[0]?.depth ?? 1;
  let prev: StructLog | undefined;
  const add = (l: StructLog, cost: number) => {
    const c = (k: "sload" | "sstore" | "keccak" | "log" | "copy") => {
      top[k].count++;
      top[k].gas += cost;
    };
    if (l.op === "SLOAD") c("sload");
    else if (l.op === "SSTORE") c("sstore");
    else if (l.op === "KECCAK256" || l.op === "SHA3") c("keccak");
    else if (l.op.startsWith("LOG")) c("log");
    else if (COPIES.has(l.op)) c("copy");
    else if (CALLS.has(l.op)) top.calls.push(cost);
    else top.other += cost;
  };
  for (const l of logs) {
    if (l.depth !== depth) continue;
    if (prev) add(prev, prev.gas - l.gas);
    prev = l;
  }
  if (prev) add(prev, prev.gasCost); // the frame's last step (STOP / RETURN)
  return top;
}

export async function traceGas(clients: ChainClients, hash: Hex): Promise<GasBreakdown> {
  const [receipt, tx] = await Promise.all([
    clients.publicClient.getTransactionReceipt({ hash }),
    clients.publicClient.getTransaction({ hash }),
  ]);
  // A trace of a large batch's verifier runs to hundreds of MB: a transport of its own, without viem's size limit.
  const url = clients.publicClient.transport.url as string | undefined;
  if (!url) throw new Error("traceGas: the chain client has no HTTP URL");
  const tracer = createPublicClient({ transport: http(url, { maxResponseBodySize: false, timeout: 600_000 }) });
  const trace = (await tracer.request({
    method: "debug_traceTransaction" as never,
    params: [hash, { disableStack: true, disableMemory: true, disableStorage: true }] as never,
  })) as { gas: number; failed: boolean; structLogs: StructLog[] };
  if (trace.failed) throw new Error(`debug_traceTransaction(${hash}): the traced execution failed`);
  const sstore = { count: 0, gas: 0 };
  const log = { count: 0, gas: 0 };
  for (const s of trace.structLogs) {
    if (s.op === "SSTORE") {
      sstore.count++;
      sstore.gas += s.gasCost;
    } else if (s.op.startsWith("LOG")) {
      log.count++;
      log.gas += s.gasCost;
    }
  }
  const gasUsed = Number(receipt.gasUsed);
  const intrinsic = tx.to === null ? 53_000 : 21_000;
  const calldata = calldataGas(tx.input);
  return {
    gasUsed,
    intrinsic,
    calldata,
    sstore,
    log,
    rest: gasUsed - intrinsic - calldata - sstore.gas - log.gas,
    top: topFrame(trace.structLogs),
  };
}
