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
}

interface StructLog {
  op: string;
  gasCost: number;
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
  return { gasUsed, intrinsic, calldata, sstore, log, rest: gasUsed - intrinsic - calldata - sstore.gas - log.gas };
}
