import { spawn } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { EzklEngine } from "../prover/src/engine/engine.js";
import { parseInput } from "../prover/src/models/input.js";
import { proveInference, verifyProofFile, type InferenceProof } from "../prover/src/models/inference.js";
import type { LoadedModel } from "../prover/src/models/store.js";
import { projectRoot } from "../prover/src/util/paths.js";
import type { Progress } from "../prover/src/util/progress.js";
import { peakRssKiB } from "./machine.js";
import { ratio, summarize, type Summary } from "./stats.js";

interface Round {
  witness: number;
  prove: number;
  verify: number;
}

interface Side {
  witness: Summary;
  prove: Summary;
  verify: Summary;
  /** The warm-up round (ms), not in the summaries. Both processes are started before it. */
  first: Round;
  /** Peak RSS (VmHWM) of the Python process that ran EZKL, over the warm-up and all runs. */
  peakRssKiB: number | null;
}

export interface ProvingFigures {
  runs: number;
  zkinfer: Side;
  bare: Side & { importEzklMs: number };
  /** zkinfer median / bare median. */
  ratio: { witness: number; prove: number; verify: number };
  /** The proof as the verifier takes it (bytes of `proof`), and EZKL's proof JSON file. */
  proofBytes: number;
  proofFileBytes: number;
  instances: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const roundAll = (r: Round): Round => ({ witness: round1(r.witness), prove: round1(r.prove), verify: round1(r.verify) });
const describe = (r: Round) =>
  `witness ${(r.witness / 1000).toFixed(3)} s, prove ${(r.prove / 1000).toFixed(2)} s, verify ${(r.verify / 1000).toFixed(3)} s`;

/**
 * Witness, prove and verify for one model, through zkinfer (proveInference and verifyProofFile: the
 * TypeScript API over the long-lived Python worker) and with bare EZKL calls in a standalone Python
 * process (bench/bare_ezkl.py) on the same artifacts and inputs. Both processes are started first;
 * then one warm-up round each, then `runs` rounds alternating zkinfer and bare (which goes first
 * alternates too), so both sides see the same background load. Returns the last zkinfer proof.
 */
export async function measureProving(
  model: LoadedModel,
  inputs: number[][],
  runs: number,
  work: string,
  progress: Progress,
): Promise<{ figures: ProvingFigures; proof: InferenceProof }> {
  const name = model.manifest.name;
  mkdirSync(work, { recursive: true });
  const inputFiles = inputs.slice(0, Math.max(1, Math.min(runs, inputs.length))).map((values, i) => {
    const file = join(work, `bare-input-${i}.json`);
    writeFileSync(file, JSON.stringify({ input_data: [values] }));
    return file;
  });

  const engine = new EzklEngine();
  const bare = startBare(model.dir, inputFiles, join(work, "bare"));
  let last: InferenceProof | undefined;
  const zkRound = async (i: number): Promise<Round> => {
    const input = parseInput(inputs[i % inputs.length], model.manifest);
    const proof = await proveInference(engine, model, input, { out: join(work, `zkinfer-${i}.proof.json`) });
    const t0 = performance.now();
    const v = await verifyProofFile(engine, model, proof.proofPath);
    const verifyMs = performance.now() - t0;
    if (!v.valid) throw new Error(`${name}: zkinfer's proof of round ${i} does not verify: ${v.reason}`);
    last = proof;
    return { witness: proof.timingsMs.witness, prove: proof.timingsMs.prove, verify: verifyMs };
  };

  try {
    const r = await progress.step(
      `${name}: witness + prove + verify, zkinfer and bare EZKL alternating, 1 warm-up + ${runs} runs each`,
      async () => {
        await engine.info();
        const ready = await bare.ready;
        const first = { zk: await zkRound(0), bare: await bare.round(0) };
        const zk: Round[] = [];
        const br: Round[] = [];
        for (let i = 0; i < runs; i++) {
          if (i % 2 === 0) {
            zk.push(await zkRound(i));
            br.push(await bare.round(i));
          } else {
            br.push(await bare.round(i));
            zk.push(await zkRound(i));
          }
          progress.note(`${name} run ${i + 1}/${runs}: zkinfer ${describe(zk.at(-1)!)} | bare ${describe(br.at(-1)!)}`);
        }
        const zkRss = peakRssKiB(engine.worker.pid) ?? null;
        const bareRss = await bare.finish();
        return { ready, first, zk, br, zkRss, bareRss };
      },
    );
    const side = (rounds: Round[], first: Round, rss: number | null): Side => ({
      witness: summarize(rounds.map((x) => x.witness)),
      prove: summarize(rounds.map((x) => x.prove)),
      verify: summarize(rounds.map((x) => x.verify)),
      first: roundAll(first),
      peakRssKiB: rss,
    });
    const zk = side(r.zk, r.first.zk, r.zkRss);
    const b = { ...side(r.br, r.first.bare, r.bareRss), importEzklMs: round1(r.ready.importMs) };
    const proof = last!;
    return {
      proof,
      figures: {
        runs,
        zkinfer: zk,
        bare: b,
        ratio: {
          witness: ratio(zk.witness.median, b.witness.median),
          prove: ratio(zk.prove.median, b.prove.median),
          verify: ratio(zk.verify.median, b.verify.median),
        },
        proofBytes: (proof.proof.length - 2) / 2,
        proofFileBytes: statSync(proof.proofPath).size,
        instances: proof.instances.length,
      },
    };
  } finally {
    await engine.close();
    bare.kill();
  }
}

/** bench/bare_ezkl.py in stepped mode: one round per line sent, one JSON line back. */
function startBare(artifacts: string, inputs: string[], work: string) {
  const python = process.env.ZKINFER_PYTHON ?? join(projectRoot, ".venv/bin/python");
  const args = [join(projectRoot, "bench/bare_ezkl.py"), "--artifacts", artifacts, "--work", work, "--inputs", ...inputs];
  // The same environment zkinfer's worker gets (RUST_LOG=error unless set).
  const child = spawn(python, args, {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1", RUST_LOG: process.env.RUST_LOG ?? "error" },
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const w = waiting.shift();
    try {
      w?.resolve(JSON.parse(line));
    } catch {
      w?.reject(new Error(`bench/bare_ezkl.py printed a line that is not JSON: ${line}`));
    }
  });
  child.once("exit", (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`bench/bare_ezkl.py exited (${code}):\n${err}`));
  });
  const next = <T>() => new Promise<T>((resolve, reject) => waiting.push({ resolve: resolve as (v: unknown) => void, reject }));
  const ready = next<{ ready: { importMs: number } }>().then((r) => r.ready);
  ready.catch(() => undefined); // awaited later; an early exit must not count as an unhandled rejection
  return {
    ready,
    round(i: number): Promise<Round> {
      const p = next<Round>();
      child.stdin.write(`${i}\n`);
      return p;
    },
    async finish(): Promise<number | null> {
      const p = next<{ peakRssKiB: number | null }>();
      child.stdin.end();
      return (await p).peakRssKiB;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
