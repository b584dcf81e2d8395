import type { WindowFigures } from "./window.js";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeFunctionData, hexToBytes, type Address, type Hex } from "viem";
import { halo2VerifierReusableAbi } from "../prover/src/chain/abis.js";
import type { ChainClients } from "../prover/src/chain/clients.js";
import type { Engine } from "../prover/src/engine/engine.js";
import { parseInput, type ModelInput } from "../prover/src/models/input.js";
import { proveBatch, proveInference, type InferenceProof } from "../prover/src/models/inference.js";
import { loadArtifact, type LoadedModel } from "../prover/src/models/store.js";
import { buildVariants, variantModel } from "../prover/src/models/variants.js";
import { readVka } from "../prover/src/models/vka.js";
import type { Progress } from "../prover/src/util/progress.js";
import type { BatchFulfilFigures } from "./batch-fulfil.js";
import { leastSquares, summarize, type Summary } from "./stats.js";

/** One batch size of a model: its circuit, its prove time and the gas of verifying one proof of it. */
export interface BatchPoint {
  batch: number;
  logrows: number;
  numRows: number;
  numInnerCols: number;
  instances: number;
  pkBytes: number;
  vkaWords: number;
  proofBytes: number;
  /** ms per proof of a full batch, n runs after one warm-up, interleaved with the other batch sizes. */
  prove: Summary;
  provePerInferenceMs: number;
  /** gasUsed of the suite verifier's verifyProof (VKA in calldata), a mined transaction; null without a chain. */
  verifyGas: number | null;
  verifyGasPerInference: number | null;
  /** Calldata of that transaction: bytes and its gas (16 a non-zero byte, 4 a zero byte). */
  calldataBytes: number;
  calldataGas: number;
}

export interface BatchFigures {
  model: string;
  runs: number;
  points: BatchPoint[];
  /**
   * Where the gas goes: a least-squares line gas = fixed + perInstance * instances through the variants
   * (batch > 1: the same VKA size and columns, so only the instances grow), and the same for calldata alone.
   */
  fit: { fixed: number; perInstance: number; calldataPerInstance: number; points: number } | null;
  /** The variant at batch `batch` built with 2 inner columns instead (fewer rows): derived vs searched layout. */
  alternative: (BatchPoint & { objective: string; ownProve: Summary }) | null;
  /** Registered with the version and fulfilled end to end through the coordinator (on a chain only). */
  fulfilment?: BatchFulfilFigures | null;
  /** The latency a service's batching window adds, with its fulfilments (on a chain only). */
  window?: WindowFigures | null;
}

/**
 * Prove and verify digits-mlp (or any example) at every batch size, through the suite verifier on the bench's
 * chain. Proves round-robin over the batch sizes (one warm-up each), so every size sees the same load.
 */
export async function measureBatches(a: {
  engine: Engine;
  model: LoadedModel;
  heldout: number[][];
  batches: number[];
  runs: number;
  work: string;
  progress: Progress;
  chain?: { clients: ChainClients; suiteVerifier: Address };
  /** Also measure this batch size with 2 inner columns, beside the build's own (derived vs searched layout). */
  alternativeAt?: number;
}): Promise<BatchFigures> {
  const { engine, model, progress } = a;
  const m = model.manifest;
  const inputsFor = (n: number, from: number): ModelInput[] =>
    Array.from({ length: n }, (_, i) => parseInput(a.heldout[(from + i) % a.heldout.length]!, m));
  const prove = (batch: number, from: number, out: string): Promise<InferenceProof> =>
    batch === 1
      ? proveInference(engine, model, inputsFor(1, from)[0]!, { out })
      : proveBatch(engine, model, batch, inputsFor(batch, from), { out });
  mkdirSync(a.work, { recursive: true });
  const times = new Map<number, number[]>(a.batches.map((b) => [b, []]));
  const last = new Map<number, InferenceProof>();
  for (let run = 0; run <= a.runs; run++) {
    await progress.step(
      `batch proofs, round ${run === 0 ? "0 (warm-up)" : `${run}/${a.runs}`}: ${a.batches.join(", ")}`,
      async () => {
        for (const batch of run % 2 ? [...a.batches].reverse() : a.batches) {
          const p = await prove(batch, run * 16, join(a.work, `b${batch}-r${run}.proof.json`));
          if (run > 0) times.get(batch)!.push(p.timingsMs.prove);
          last.set(batch, p);
        }
      },
    );
  }
  const points: BatchPoint[] = [];
  for (const batch of a.batches) {
    const v = variantModel(model, batch);
    points.push(await point(v, batch, summarize(times.get(batch)!), last.get(batch)!, a.chain));
  }
  let alternative: BatchFigures["alternative"] = null;
  if (a.alternativeAt) {
    alternative = await progress.step(
      `batch ${a.alternativeAt} with 2 inner columns, ${a.runs} proofs interleaved with the derived layout`,
      () => measureAlternative(a, a.alternativeAt!, inputsFor(a.alternativeAt!, 0)),
    );
  }
  return { model: m.name, runs: a.runs, points, fit: fit(points.filter((p) => p.batch > 1)), alternative };
}

async function point(
  v: LoadedModel,
  batch: number,
  prove: Summary,
  proof: InferenceProof,
  chain: { clients: ChainClients; suiteVerifier: Address } | undefined,
): Promise<BatchPoint> {
  const words = (await readVka(v.file("vka"))).words;
  const data = verifyProofData(proof.proof, proof.instances, words);
  const verifyGas = chain ? await suiteVerifyGas(chain.clients, chain.suiteVerifier, words, data) : null;
  const layout = JSON.parse(readFileSync(v.file("settings"), "utf8")) as { run_args: { num_inner_cols: number } };
  return {
    batch,
    logrows: v.manifest.circuit.logrows,
    numRows: v.manifest.circuit.numRows,
    numInnerCols: layout.run_args.num_inner_cols,
    instances: v.manifest.circuit.numInstances,
    pkBytes: v.manifest.sizes.pk!,
    vkaWords: words.length,
    proofBytes: (proof.proof.length - 2) / 2,
    prove,
    provePerInferenceMs: Math.round((prove.median / batch) * 10) / 10,
    verifyGas,
    verifyGasPerInference: verifyGas === null ? null : Math.round(verifyGas / batch),
    calldataBytes: (data.length - 2) / 2,
    calldataGas: calldataGas(data),
  };
}

/** The calldata gas of a transaction's data: 16 a non-zero byte, 4 a zero byte (EIP-2028). */
export function calldataGas(data: Hex): number {
  return hexToBytes(data).reduce((g, b) => g + (b === 0 ? 4 : 16), 0);
}

/** `verifyProof(proof, instances, vka)` of the suite verifier, as calldata. */
export function verifyProofData(proof: Hex, instances: readonly bigint[], vka: readonly Hex[]): Hex {
  return encodeFunctionData({
    abi: halo2VerifierReusableAbi,
    functionName: "verifyProof",
    args: [proof, [...instances], [...vka]],
  });
}

/** Register the VKA with the suite verifier (anyone may), then send verifyProof as a transaction: its gasUsed. */
export async function suiteVerifyGas(clients: ChainClients, verifier: Address, words: Hex[], data: Hex): Promise<number> {
  const send = async (d: Hex, what: string) => {
    const hash = await clients.walletClient.sendTransaction({
      to: verifier,
      data: d,
      gas: 15_000_000n,
      account: clients.account,
      chain: clients.chain,
    });
    const r = await clients.publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== "success") throw new Error(`suite verifier: ${what} reverted (${hash})`);
    return Number(r.gasUsed);
  };
  await send(encodeFunctionData({ abi: halo2VerifierReusableAbi, functionName: "registerVka", args: [words] }), "registerVka");
  return send(data, "verifyProof");
}

/** Least squares gas = fixed + perInstance * instances (and calldata gas alone), over points of one VKA shape. */
function fit(points: BatchPoint[]): BatchFigures["fit"] {
  const pts = points.filter((p) => p.verifyGas !== null);
  if (pts.length < 2 || new Set(pts.map((p) => `${p.vkaWords}/${p.numInnerCols}`)).size > 1) return null;
  const line = (ys: number[]) =>
    leastSquares(
      pts.map((p) => p.instances),
      ys,
    );
  const gas = line(pts.map((p) => p.verifyGas!));
  const cd = line(pts.map((p) => p.calldataGas));
  return {
    fixed: Math.round(gas.intercept),
    perInstance: Math.round(gas.slope * 10) / 10,
    calldataPerInstance: Math.round(cd.slope * 10) / 10,
    points: pts.length,
  };
}

/** The alternative layout: twice batch 1's inner column, so about half the rows (one logrows less). */
const ALTERNATIVE_COLUMNS = 2;

/**
 * The same batch size built with 2 inner columns (half the rows, one logrows less: what a settings search at
 * batch N would try first) in a copy of the artifact directory, proved `runs` times interleaved with the
 * build's own variant: does deriving the layout from batch 1 cost prove time, and what does the other layout
 * cost in gas?
 */
async function measureAlternative(
  a: Parameters<typeof measureBatches>[0],
  batch: number,
  inputs: ModelInput[],
): Promise<NonNullable<BatchFigures["alternative"]>> {
  const dir = mkdtempSync(join(tmpdir(), "zkinfer-bench-variant-"));
  try {
    const m = a.model.manifest;
    for (const f of Object.values(m.files)) copyFileSync(join(a.model.dir, f), join(dir, f));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...m, variants: [] }, null, 2));
    const copy = await buildVariants(await loadArtifact(dir), [1, batch], {
      engine: a.engine,
      samples: inputs.map((i) => i.values),
      objective: "proveTime",
      numInnerCols: ALTERNATIVE_COLUMNS,
    });
    const times: number[] = [];
    const own: number[] = [];
    let proof: InferenceProof | undefined;
    for (let run = 0; run <= a.runs; run++) {
      // Interleaved with the build's own variant, alternating which goes first.
      for (const side of run % 2 ? ["own", "alt"] : ["alt", "own"]) {
        const p = await proveBatch(a.engine, side === "alt" ? copy : a.model, batch, inputs, {
          out: join(dir, `${side}-${run}.proof.json`),
        });
        if (run > 0) (side === "alt" ? times : own).push(p.timingsMs.prove);
        if (side === "alt") proof = p;
      }
    }
    const pt = await point(variantModel(copy, batch), batch, summarize(times), proof!, a.chain);
    return { ...pt, objective: "proveTime", ownProve: summarize(own) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
