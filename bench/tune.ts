import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { encodeFunctionData } from "viem";
import type { ChainClients } from "../prover/src/chain/clients.js";
import { readCompiledVerifier } from "../prover/src/models/compile-verifier.js";
import { EzklEngine, type Engine } from "../prover/src/engine/engine.js";
import { buildModel } from "../prover/src/models/build.js";
import { parseInput } from "../prover/src/models/input.js";
import { proveInference, verifyProofFile, type InferenceProof } from "../prover/src/models/inference.js";
import type { Manifest } from "../prover/src/models/manifest.js";
import { resolveModelSource } from "../prover/src/models/source.js";
import type { LoadedModel } from "../prover/src/models/store.js";
import type { Progress } from "../prover/src/util/progress.js";
import { exampleDir } from "./build.js";
import { peakRssKiB } from "./machine.js";
import { ratio, summarize, type Summary } from "./stats.js";

/** One side of the comparison: the tuned build, or EZKL's default calibration (`--tune off`). */
export interface TuneSide {
  logrows: number;
  layout: Manifest["layout"];
  /** Cold build wall time (ms) in this run's fresh cache, or null when builds were reused. */
  buildMs: number | null;
  prove: Summary;
  pkBytes: number;
  vkBytes: number;
  proofBytes: number;
  /** Peak RSS (VmHWM) of the EZKL worker that proved only this side, over its warm-up and runs. */
  peakRssKiB: number | null;
  heldout: Manifest["accuracy"];
  /** gasUsed of the model's own verifier's verifyProof, mined on `hardhat node` (null without --chain). */
  verifyGas: number | null;
}

export interface TuneFigures {
  runs: number;
  tuned: TuneSide;
  ezkl: TuneSide;
  /** ezkl / tuned: how many times faster, smaller, lighter the tuned circuit is. */
  speedup: { prove: number; pk: number; peakRss: number | null };
  /** Largest |tuned - default| over the decoded outputs of the same inputs (both proofs), against the tolerance. */
  maxOutputDiff: number;
  tolerance: number | null;
  /** Candidates the search screened / proved, and its wall time (ms). */
  search: { screened: number; measured: number; searchMs: number } | null;
}

/** The default-calibration build of an example model (`--tune off`), in the current cache. */
export async function buildDefault(
  name: string,
  engine: Engine,
  progress: Progress,
): Promise<{ model: LoadedModel; ms: number }> {
  const source = await resolveModelSource(exampleDir(name));
  const t0 = performance.now();
  const model = await progress.step(`${name}: build with EZKL's default calibration (--tune off)`, () =>
    buildModel(source, { engine, tune: { mode: "off" } }),
  );
  return { model, ms: Math.round(performance.now() - t0) };
}

/**
 * Tuned against default, interleaved: one EZKL worker per side (so each side's peak RSS is its own), one
 * warm-up proof each, then `runs` rounds on held-out samples, alternating which side goes first.
 */
export async function measureTuning(
  tuned: LoadedModel,
  ezkl: LoadedModel,
  inputs: number[][],
  runs: number,
  work: string,
  build: { tunedMs: number | null; ezklMs: number | null },
): Promise<{ figures: TuneFigures; proofs: { tuned: InferenceProof; ezkl: InferenceProof } }> {
  mkdirSync(work, { recursive: true });
  const sides = [
    { model: tuned, engine: new EzklEngine(), times: [] as number[], last: undefined as InferenceProof | undefined },
    { model: ezkl, engine: new EzklEngine(), times: [] as number[], last: undefined as InferenceProof | undefined },
  ];
  let maxOutputDiff = 0;
  try {
    const round = async (i: number, record: boolean) => {
      const order = i % 2 === 0 ? sides : [...sides].reverse();
      const outs: number[][] = [];
      for (const s of order) {
        const input = parseInput(inputs[i % inputs.length], s.model.manifest);
        const p = await proveInference(s.engine, s.model, input, {
          out: join(work, `${s.model.manifest.buildKey.slice(0, 8)}-${i}.json`),
        });
        const v = await verifyProofFile(s.engine, s.model, p.proofPath);
        if (!v.valid) throw new Error(`${s.model.manifest.name}: proof ${i} does not verify: ${v.reason}`);
        if (record) s.times.push(p.timingsMs.prove);
        s.last = p;
        outs.push(p.outputs.float);
      }
      outs[0]!.forEach((v, j) => (maxOutputDiff = Math.max(maxOutputDiff, Math.abs(v - outs[1]![j]!))));
    };
    await round(0, false);
    for (let i = 1; i <= runs; i++) await round(i, true);
    const side = (s: (typeof sides)[number], buildMs: number | null): TuneSide => {
      const m = s.model.manifest;
      return {
        logrows: m.circuit.logrows,
        layout: m.layout,
        buildMs,
        prove: summarize(s.times),
        pkBytes: statSync(s.model.file("pk")).size,
        vkBytes: statSync(s.model.file("vk")).size,
        proofBytes: (s.last!.proof.length - 2) / 2,
        peakRssKiB: peakRssKiB(s.engine.worker.pid) ?? null,
        heldout: m.accuracy,
        verifyGas: null,
      };
    };
    const t = side(sides[0]!, build.tunedMs);
    const e = side(sides[1]!, build.ezklMs);
    const tm = tuned.manifest.tuning;
    return {
      figures: {
        runs,
        tuned: t,
        ezkl: e,
        speedup: {
          prove: ratio(e.prove.median, t.prove.median),
          pk: ratio(e.pkBytes, t.pkBytes),
          peakRss: t.peakRssKiB && e.peakRssKiB ? ratio(e.peakRssKiB, t.peakRssKiB) : null,
        },
        maxOutputDiff,
        tolerance: tuned.manifest.accuracy?.tolerance ?? null,
        search:
          tm.mode === "on"
            ? {
                screened: tm.candidates.length,
                measured: tm.candidates.filter((c) => c.status === "measured").length,
                searchMs: tm.searchMs,
              }
            : null,
      },
      proofs: { tuned: sides[0]!.last!, ezkl: sides[1]!.last! },
    };
  } finally {
    for (const s of sides) await s.engine.close();
  }
}

/**
 * gasUsed of a model's own single-model verifier's verifyProof (the build still compiles it as the gas baseline;
 * registration no longer deploys it), deployed fresh and called in a mined transaction.
 */
export async function verifyGas(clients: ChainClients, model: LoadedModel, proof: InferenceProof): Promise<number> {
  const single = await readCompiledVerifier(model);
  const deployed = await clients.publicClient.waitForTransactionReceipt({
    hash: await clients.walletClient.deployContract({
      abi: single.abi,
      bytecode: single.bytecode,
      account: clients.account,
      chain: clients.chain,
    }),
  });
  if (!deployed.contractAddress) throw new Error(`${model.manifest.name}: the verifier deployment created no contract`);
  const hash = await clients.walletClient.sendTransaction({
    to: deployed.contractAddress,
    data: encodeFunctionData({ abi: single.abi, functionName: "verifyProof", args: [proof.proof, [...proof.instances]] }),
    gas: 5_000_000n,
    account: clients.account,
    chain: clients.chain,
  });
  const r = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (r.status !== "success") throw new Error(`${model.manifest.name}: verifyProof reverted (${hash})`);
  return Number(r.gasUsed);
}
