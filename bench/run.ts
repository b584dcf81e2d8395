/**
 * `npm run bench`: build, prove, verify, gas, service latency and throughput of the example models,
 * in one run, written to bench/results/<YYYY-MM-DD>.json and .md. A benchmark, not a test: nothing
 * here passes or fails on a timing. Progress goes to stderr; the markdown table to stdout at the end.
 */
import { Command, InvalidArgumentError } from "commander";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { connectChain, type ChainClients } from "../prover/src/chain/clients.js";
import { DEV_KEYS, startLocalNode, type LocalNode } from "../prover/src/chain/local-node.js";
import { EzklEngine } from "../prover/src/engine/engine.js";
import { parseInput } from "../prover/src/models/input.js";
import type { InferenceProof } from "../prover/src/models/inference.js";
import { readJson, resolveModelSource, type Heldout } from "../prover/src/models/source.js";
import type { LoadedModel } from "../prover/src/models/store.js";
import { cacheDir, projectRoot } from "../prover/src/util/paths.js";
import { consoleProgress, type Progress } from "../prover/src/util/progress.js";
import { buildModel } from "../prover/src/models/build.js";
import { parseBatchList } from "../prover/src/models/variants.js";
import { measureBatches } from "./batch.js";
import { measureBatchFulfilment, setUpBatchSuite } from "./batch-fulfil.js";
import { buildExample, exampleDir, type BuildFigures } from "./build.js";
import { deploySuite, measureGas, type GasFigures, type Registered, type Suite } from "./chain.js";
import { registerModelVersion } from "../prover/src/chain/register.js";
import { machineInfo, round2, sampleLoad } from "./machine.js";
import { measureProving, type ProvingFigures } from "./prove.js";
import { buildDefault, measureTuning, verifyGas, type TuneFigures } from "./tune.js";
import { renderMarkdown, type BenchResults, type ModelResults } from "./report.js";
import { measureQueueCosts } from "./fleet.js";
import { measureWindow } from "./window.js";
import { startPostgres } from "../test/helpers/postgres.js";
import {
  measureBurst,
  measureLatency,
  SERVICE_SETTINGS,
  warmUpJobs,
  serviceConfig,
  startServiceChild,
  type BurstFigures,
  type LatencyFigures,
  type Requester,
  type ServiceHandle,
} from "./service.js";

const ALL_MODELS = ["digits-mlp", "diabetes-mlp", "digits-cnn"];
/** The window figures' requests per trial, and the spacing of the spread-out ones. */
const WINDOW_REQUESTS = 8;
const WINDOW_SPACING_MS = 500;
const DEFAULT_RUNS = 5;

const positive = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number ≥ 1`);
  return n;
};

interface Options {
  models: string;
  runs?: number;
  requests?: number;
  burst?: number;
  workers: string;
  quick?: boolean;
  reuseBuilds?: boolean;
  chain: boolean;
  out: string;
  keepCache?: boolean;
  fleet: boolean;
  fleetBurst?: number;
  batches: string;
  batchModel: string;
  batch: boolean;
  batchOnly?: boolean;
  window: boolean;
  windows: string;
  windowRounds: number;
}

const program = new Command("npm run bench --")
  .description(
    "Benchmark zkinfer on the example models in one run: cold build time and artifact sizes; witness, prove and " +
      "off-chain verify latency through zkinfer (the TypeScript engine over its Python worker) against bare EZKL " +
      "Python calls on the same artifacts; gas of the bare verifier, the route and the coordinator's fulfil " +
      "(mined gasUsed on a local `hardhat node`); request → fulfilled latency and throughput through the prover " +
      "service with 1 and 2 workers; batch variants and batched fulfilment, and the latency the service's batching " +
      "window adds; peak RSS. Writes <out>/<YYYY-MM-DD>.json and .md (UTC date; a later run on " +
      "the same day writes <YYYY-MM-DD>-2, -3, ..., never replacing one). Progress goes to stderr.",
  )
  .option("--models <names>", `comma-separated example models (examples/models/<name>)`, ALL_MODELS.join(","))
  .option("--runs <n>", "witness/prove/verify runs per model and side, after 1 warm-up (default 5)", positive("--runs"))
  .option("--requests <n>", "sequential requests per model for request → fulfilled latency (default 3)", positive("--requests"))
  .option("--burst <k>", "requests per throughput burst, per model and worker count (default 4)", positive("--burst"))
  .option("--workers <list>", "worker counts to measure throughput with", "1,2")
  .option(
    "--quick",
    "a fast pass for trying the bench out: --runs 2 --requests 1 --burst 2 and --reuse-builds (explicit flags win)",
  )
  .option(
    "--reuse-builds",
    "reuse the builds in .zkinfer/ (or ZKINFER_CACHE_DIR) instead of cold builds; build time is then not measured",
  )
  .option("--no-chain", "skip everything on-chain: gas, service latency and throughput")
  .option(
    "--fleet-burst <k>",
    "requests per burst through 1 and 3 service processes on PostgreSQL (default 9)",
    positive("--fleet-burst"),
  )
  .option("--no-fleet", "skip the fleet figures (PostgreSQL queue cost, throughput with 1 and 3 processes)")
  .option(
    "--batches <list>",
    "batch sizes to build, prove and verify through the suite verifier and (with a chain) to fulfil end to end: " +
      "N requests, one lock, one proof, fulfillBatch; all-in gas per verified inference",
    "1,4,8,16",
  )
  .option("--batch-model <name>", "the example model of the batch figures", "digits-mlp")
  .option("--no-batch", "skip the batch figures")
  .option(
    "--windows <list>",
    `the service's --batch-window-ms values (ms) to measure the latency they add with (with a chain): ${WINDOW_REQUESTS} requests of the batch model, one every ${WINDOW_SPACING_MS} ms, then ${WINDOW_REQUESTS} at once`,
    "0,2000,5000",
  )
  .option(
    "--window-rounds <n>",
    "rounds of the spread-out requests per window, interleaved (the burst: 1)",
    positive("--window-rounds"),
    2,
  )
  .option("--no-window", "skip the batching-window latency")
  .option(
    "--batch-only",
    "only the batch figures (cached builds; results in <out>/<date>-batch.json and .md, beside a full run's)",
  )
  .option("--out <dir>", "where to write the results", "bench/results")
  .option("--keep-cache", "keep the fresh cache directory the cold builds went to (about 0.8 GB) and print its path")
  .addHelpText(
    "after",
    "\nExamples:\n  npm run bench\n  npm run bench -- --quick\n  npm run bench -- --models digits-mlp --runs 3 --no-chain\n  npm run bench -- --batch-only --runs 3",
  );

async function main(): Promise<void> {
  program.parse(process.argv);
  const o = program.opts<Options>();
  const started = new Date();
  const stopLoad = sampleLoad();
  const models = o.models
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of models) {
    if (!existsSync(join(exampleDir(name), "network.onnx")))
      program.error(`error: no example model '${name}' (examples/models/${name}/network.onnx); known: ${ALL_MODELS.join(", ")}`);
  }
  const workerCounts = o.workers.split(",").map((s) => positive("--workers")(s.trim()));
  const runs = o.runs ?? (o.quick ? 2 : DEFAULT_RUNS);
  const requests = o.requests ?? (o.quick ? 1 : 3);
  const burst = o.burst ?? (o.quick ? 2 : 4);
  const cold = !(o.reuseBuilds ?? o.quick ?? false);
  const outDir = resolve(projectRoot, o.out);
  const batchSizes = parseBatchList(o.batches, "--batches");
  const windows = o.window ? parseWindows(o.windows) : [];
  if (o.batchOnly) return batchOnly(o, batchSizes, runs, windows, outDir, started, stopLoad);

  // Temporary directories: the fresh cache (cold builds, service proofs) and scratch for proofs.
  const temp: string[] = [];
  const work = mkdtempSync(join(tmpdir(), "zkinfer-bench-work-"));
  temp.push(work);
  if (cold) {
    const cache = mkdtempSync(join(tmpdir(), "zkinfer-bench-cache-"));
    process.env.ZKINFER_CACHE_DIR = cache;
    if (!o.keepCache) temp.push(cache);
  }
  let node: LocalNode | undefined;
  const services: ServiceHandle[] = [];
  const cleanup = () => {
    if (node) {
      try {
        process.kill(node.pid, "SIGKILL"); // interrupted before the node was stopped
      } catch {
        // already gone
      }
    }
    for (const d of temp) rmSync(d, { recursive: true, force: true });
  };
  process.once("exit", cleanup); // also after a crash that skips the finally below
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      process.stderr.write(`[bench] ${sig}: cleaning up\n`);
      cleanup();
      process.exit(130);
    });
  }

  const M = models.length;
  const steps =
    M +
    M +
    M +
    M +
    (o.chain ? 2 + M + M + workerCounts.reduce((s, w, i) => s + 2 + M + (i === 0 ? M : 0), 0) : 0) +
    (o.chain && o.fleet ? 6 : 0) + // PostgreSQL, the queue cost, then start + burst for 1 and for 3 processes
    (o.chain && o.batch && models.includes(o.batchModel) ? batchSteps(batchSizes, runs, true, windows, o.windowRounds) : 0);
  const progress = consoleProgress("bench", steps);
  progress.note(
    `models ${models.join(", ")}; ${runs} runs; ${cold ? `cold builds in ${process.env.ZKINFER_CACHE_DIR}` : "cached builds"}` +
      (o.chain
        ? `; ${requests} latency requests, bursts of ${burst} with ${workerCounts.join(" and ")} worker(s)`
        : "; no chain"),
  );

  const built = new Map<string, LoadedModel>();
  const builds = new Map<string, BuildFigures>();
  const proving = new Map<string, ProvingFigures>();
  const gas = new Map<string, GasFigures>();
  const latency = new Map<string, LatencyFigures>();
  const bursts = new Map<string, BurstFigures[]>(models.map((n) => [n, []]));
  const proofs = new Map<string, InferenceProof>();
  const defaults = new Map<string, { model: LoadedModel; ms: number }>();
  const tuning = new Map<string, { figures: TuneFigures; proofs: { tuned: InferenceProof; ezkl: InferenceProof } }>();
  const heldout = new Map<string, number[][]>();
  let machine: BenchResults["machine"];
  let serviceResults: BenchResults["service"] = null;
  let fleetResults: BenchResults["fleet"] = null;
  let batchResults: BenchResults["batch"] = null;
  const fleetBurst = o.fleetBurst ?? (o.quick ? 3 : 9);

  try {
    // 1. Builds (one engine, started before timing).
    const engine = new EzklEngine();
    try {
      const info = await engine.info();
      machine = machineInfo({ python: info.python, ezklVersion: info.ezklVersion });
      for (const name of models) {
        const { model, figures } = await buildExample(name, engine, progress, cold);
        built.set(name, model);
        builds.set(name, figures);
        const source = await resolveModelSource(exampleDir(name));
        heldout.set(name, (await readJson<Heldout>(source.heldout!, "heldout.json")).inputs);
      }
      // EZKL's default calibration of the same models, for the tuned-vs-default comparison. With reused builds it
      // goes to a cache of its own (sharing the SRS files): in the user's cache it would be the model's newest
      // build, which `zkinfer model register <name>` and `serve -m <name>` then pick.
      const shared = cacheDir();
      if (!cold) {
        const own = mkdtempSync(join(tmpdir(), "zkinfer-bench-default-"));
        temp.push(own);
        mkdirSync(join(shared, "srs"), { recursive: true });
        symlinkSync(join(shared, "srs"), join(own, "srs"));
        process.env.ZKINFER_CACHE_DIR = own;
      }
      try {
        for (const name of models) defaults.set(name, await buildDefault(name, engine, progress));
      } finally {
        process.env.ZKINFER_CACHE_DIR = shared;
      }
    } finally {
      await engine.close();
    }

    // 2a. Tuned against default: prove time, sizes, peak RSS, interleaved.
    for (const name of models) {
      const d = defaults.get(name)!;
      const figures = await progress.step(`${name}: tuned vs EZKL's default, ${runs} interleaved proofs each`, () =>
        measureTuning(built.get(name)!, d.model, heldout.get(name)!, runs, join(work, `${name}-tune`), {
          tunedMs: builds.get(name)!.totalMs,
          ezklMs: cold ? d.ms : null,
        }),
      );
      progress.note(
        `${name}: prove ${figures.figures.speedup.prove}x faster, pk ${figures.figures.speedup.pk}x smaller (logrows ${figures.figures.tuned.logrows} vs ${figures.figures.ezkl.logrows})`,
      );
      tuning.set(name, figures);
    }

    // 2. Witness / prove / verify: zkinfer and bare EZKL, alternating.
    for (const name of models) {
      const { figures, proof } = await measureProving(built.get(name)!, heldout.get(name)!, runs, join(work, name), progress);
      proving.set(name, figures);
      proofs.set(name, proof);
    }

    // 3. On-chain: a `hardhat node` on 127.0.0.1, the suite, the models registered, then gas.
    if (o.chain) {
      const clients = async (key: `0x${string}`, suite?: Suite): Promise<ChainClients> =>
        connectChain({
          rpcUrl: node!.url,
          privateKey: key,
          registry: suite?.registry,
          verifierRoute: suite?.verifierRoute,
          coordinator: suite?.coordinator,
          source: "bench",
        });
      const registered = new Map<string, Registered>();
      const suite = await progress.step(
        "hardhat node on 127.0.0.1, deploy the suite (Ignition), register the models",
        async () => {
          node = await startLocalNode();
          const s = await deploySuite(node.url, DEV_KEYS[0]!);
          const admin = await clients(DEV_KEYS[0]!, s);
          for (const name of models) registered.set(name, await registerModelVersion(admin, s.registry, built.get(name)!));
          return s;
        },
      );
      const prover = await clients(DEV_KEYS[1]!, suite);
      const admin = await clients(DEV_KEYS[0]!, suite);
      const requester = await clients(DEV_KEYS[2]!, suite);
      await progress.step("one fulfilment first, not counted (the prover's fee-credit slot then exists)", () =>
        measureGas(prover, requester, suite, built.get(models[0]!)!, registered.get(models[0]!)!, proofs.get(models[0]!)!),
      );
      for (const name of models) {
        const tf = tuning.get(name)!;
        await progress.step(`${name}: gas of the tuned and the default verifier's verifyProof`, async () => {
          tf.figures.tuned.verifyGas = await verifyGas(admin, built.get(name)!, tf.proofs.tuned);
          tf.figures.ezkl.verifyGas = await verifyGas(admin, defaults.get(name)!.model, tf.proofs.ezkl);
        });
      }
      for (const name of models) {
        const g = await progress.step(`${name}: gas of verifyProof, route verify, requestInference, fulfill`, () =>
          measureGas(prover, requester, suite, built.get(name)!, registered.get(name)!, proofs.get(name)!),
        );
        gas.set(name, g);
      }

      // 3b. Batch variants through the suite verifier.
      if (o.batch && models.includes(o.batchModel)) {
        batchResults = await measureBatchFigures(o.batchModel, batchSizes, runs, join(work, "batch"), progress, {
          rpcUrl: node!.url,
          connect: (key) => clients(key),
          windows,
          windowRounds: o.windowRounds,
        });
      }

      // 4. The prover service: latency with 1 worker, then a burst per model for each worker count.
      const r: Requester = { clients: requester, suite };
      const fixedInputs = (name: string, from: number) => {
        const manifest = built.get(name)!.manifest;
        const all = heldout.get(name)!;
        return Array.from({ length: all.length }, (_, i) => parseInput(all[(from + i) % all.length]!, manifest).fixed);
      };
      serviceResults = { settings: { ...SERVICE_SETTINGS }, peakRss: [] };
      for (const [wi, workers] of workerCounts.entries()) {
        const svc = await progress.step(`start the prover service with ${workers} worker(s), warm up each worker`, async () => {
          const config = serviceConfig({
            models: models.map((n) => built.get(n)!.dir),
            dbPath: join(work, `jobs-${workers}w.sqlite`),
            workers,
            rpcUrl: node!.url,
            privateKey: DEV_KEYS[1]!,
            suite,
            startBlock: (await requester.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n,
          });
          const s = await startServiceChild(config);
          services.push(s);
          await warmUp(s, models, built, heldout, workers);
          return s;
        });
        if (wi === 0) {
          for (const name of models) {
            const l = await progress.step(`${name}: request → fulfilled, ${requests} sequential requests`, () =>
              measureLatency(r, svc, registered.get(name)!, fixedInputs(name, 10), requests, (i, t) =>
                progress.note(`${name} request ${i + 1}/${requests}: fulfilled after ${(t / 1000).toFixed(2)} s`),
              ),
            );
            latency.set(name, l);
          }
        }
        for (const name of models) {
          const b = await progress.step(`${name}: burst of ${burst} requests, ${workers} worker(s)`, () =>
            measureBurst(r, svc, registered.get(name)!, fixedInputs(name, 20 + wi * burst), burst, workers),
          );
          progress.note(
            `${name}, ${workers} worker(s): ${burst} requests in ${(b.makespanMs / 1000).toFixed(1)} s = ${b.perMinute} /min`,
          );
          bursts.get(name)!.push(b);
        }
        await progress.step(`stop the service (${workers} worker(s)); read peak RSS`, async () => {
          serviceResults!.peakRss.push({ workers, ...svc.peakRss() });
          await svc.stop();
        });
      }

      // 5. A fleet on PostgreSQL: the queue's own cost per job, then throughput with 1 and 3 processes.
      if (o.fleet) {
        const pg = await progress.step("start PostgreSQL on 127.0.0.1 (a temporary cluster)", () => startPostgres());
        try {
          const queueCost = await progress.step(`queue cost per job: ${QUEUE_JOBS} jobs x 2 rounds per backend`, () =>
            measureQueueCosts(pg, QUEUE_JOBS),
          );
          for (const q of queueCost)
            progress.note(`queue cost per job, ${q.backend}: median ${q.perJob.median} ms (n=${q.perJob.n})`);
          const fleetFigures: NonNullable<BenchResults["fleet"]> = { queueCost, throughput: [] };
          fleetResults = fleetFigures;
          const name = smallestModel(models, built);
          for (const processes of [1, 3]) {
            const db = pg.createDatabase(`bench_fleet_${process.pid}_${processes}`);
            const fleet = await progress.step(
              `start ${processes} service process(es) on one PostgreSQL store, warm up`,
              async () => {
                const start = (await requester.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
                const started = await Promise.all(
                  Array.from({ length: processes }, () =>
                    startServiceChild(
                      serviceConfig({
                        models: [built.get(name)!.dir],
                        dbPath: db,
                        workers: 1,
                        rpcUrl: node!.url,
                        privateKey: DEV_KEYS[1]!,
                        suite,
                        startBlock: start,
                      }),
                    ),
                  ),
                );
                services.push(...started);
                for (const s of started) await warmUp(s, [name], built, heldout, 1);
                return started;
              },
            );
            const b = await progress.step(`${name}: burst of ${fleetBurst} requests, ${processes} process(es)`, () =>
              measureBurst(r, fleet[0]!, registered.get(name)!, fixedInputs(name, 40 + processes * fleetBurst), fleetBurst, 1),
            );
            progress.note(
              `${name}, ${processes} process(es): ${fleetBurst} requests in ${(b.makespanMs / 1000).toFixed(1)} s = ${b.perMinute} /min`,
            );
            fleetFigures.throughput.push({ processes, ...b });
            for (const s of fleet) await s.stop();
          }
        } finally {
          await pg.stop();
        }
      }
    }
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
    await node?.stop();
    node = undefined;
    cleanup();
    if (cold && o.keepCache) progress.note(`kept the cold-build cache: ${process.env.ZKINFER_CACHE_DIR}`);
  }

  const finished = new Date();
  machine!.loadAverage.end = loadavg().map(round2);
  machine!.loadAverage.during = stopLoad();
  const date = started.toISOString().slice(0, 10);
  const results: Record<string, ModelResults> = {};
  for (const name of models) {
    const b = builds.get(name)!;
    results[name] = {
      logrows: b.logrows,
      instances: built.get(name)!.manifest.circuit.numInstances,
      build: b,
      proving: proving.get(name)!,
      gas: gas.get(name) ?? null,
      latency: latency.get(name) ?? null,
      bursts: bursts.get(name)!,
      tuning: tuning.get(name)?.figures ?? null,
    };
  }
  const report: BenchResults = {
    schema: 1,
    date,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    wallTimeMs: finished.getTime() - started.getTime(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    options: {
      models,
      runs,
      requests,
      burst,
      workers: workerCounts,
      coldBuilds: cold,
      chain: o.chain,
    },
    machine: machine!,
    method: METHOD,
    models: results,
    service: serviceResults,
    fleet: fleetResults,
    batch: batchResults,
  };
  writeResults(report, join(outDir, date), progress);
}

/**
 * The JSON first (a figure the markdown cannot render never loses the run), then the markdown, to stdout too. A
 * later run on the same day (a --quick pass, one model) writes `<base>-2`, `-3`, ..., never replacing a fuller one.
 */
function writeResults(report: BenchResults, wanted: string, progress: Progress): void {
  mkdirSync(dirname(wanted), { recursive: true });
  let base = wanted;
  for (let i = 2; existsSync(`${base}.json`) || existsSync(`${base}.md`); i++) base = `${wanted}-${i}`;
  const write = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  write(`${base}.json`, JSON.stringify(report, null, 2) + "\n");
  const markdown = renderMarkdown(report);
  write(`${base}.md`, markdown);
  progress.note(`wrote ${relative(process.cwd(), base)}.json and .md; wall time ${(report.wallTimeMs / 60_000).toFixed(1)} min`);
  process.stdout.write(markdown);
}

/** The accounts and chain the batch figures run on: fresh suites deployed there (see `setUpBatchSuite`). */
interface BatchChain {
  rpcUrl: string;
  connect: (key: `0x${string}`) => Promise<ChainClients>;
  /** The service's batching windows to measure (empty: none), and the rounds of the spread-out requests. */
  windows: number[];
  windowRounds: number;
}

/**
 * The batch figures: the model's variants built (cached when they exist), proved round-robin and verified through
 * the suite verifier; on a chain also registered with the version through the real registry and fulfilled end to end
 * (requests, one lock, one proof, fulfillBatch) at every batch size.
 */
async function measureBatchFigures(
  name: string,
  batches: number[],
  runs: number,
  work: string,
  progress: Progress,
  chain: BatchChain | undefined,
): Promise<NonNullable<BenchResults["batch"]>> {
  const engine = new EzklEngine();
  try {
    const source = await resolveModelSource(exampleDir(name));
    const model = await progress.step(`${name}: build the batch variants ${batches.join(", ")} (cached when built)`, () =>
      buildModel(source, { engine, batch: batches }),
    );
    const heldout = (await readJson<Heldout>(source.heldout!, "heldout.json")).inputs;
    const alternativeAt = batches.includes(8) ? 8 : undefined;
    const accounts = chain
      ? {
          owner: await chain.connect(DEV_KEYS[0]!),
          prover: await chain.connect(DEV_KEYS[1]!),
          requester: await chain.connect(DEV_KEYS[2]!),
        }
      : undefined;
    const setUp =
      chain && accounts
        ? await progress.step(
            `two fresh suites; ${name} registered with variants ${model.manifest.variants.map((v) => v.batch).join(", ")} on one, without on the other`,
            () => setUpBatchSuite({ rpcUrl: chain.rpcUrl, deployerKey: DEV_KEYS[0]!, owner: accounts.owner, model }),
          )
        : undefined;
    const figures = await measureBatches({
      engine,
      model,
      heldout,
      batches,
      runs,
      work,
      progress,
      ...(setUp && accounts ? { chain: { clients: accounts.owner, suiteVerifier: setUp.suite.suiteVerifier } } : {}),
      ...(alternativeAt ? { alternativeAt } : {}),
    });
    if (setUp && accounts) {
      figures.fulfilment = await measureBatchFulfilment({
        engine,
        model,
        heldout,
        batches,
        setUp,
        ...accounts,
        work: join(work, "fulfil"),
        progress,
      });
      if (chain?.windows.length) {
        figures.window = await measureWindow({
          model,
          heldout,
          setUp,
          requester: accounts.requester,
          prover: accounts.prover,
          rpcUrl: chain.rpcUrl,
          windows: chain.windows,
          rounds: chain.windowRounds,
          burstRounds: 1,
          requests: WINDOW_REQUESTS,
          spacingMs: WINDOW_SPACING_MS,
          work: join(work, "window"),
          progress,
        });
      }
    }
    return figures;
  } finally {
    await engine.close();
  }
}

/** The progress steps of `measureBatchFigures` (see there and in batch.ts / batch-fulfil.ts). */
function batchSteps(batches: number[], runs: number, chain: boolean, windows: number[], windowRounds: number): number {
  const proving = 1 + runs + 1 + (batches.includes(8) ? 1 : 0); // build, warm-up + rounds, the alternative layout
  const window = windows.length * (windowRounds + 1); // the spread-out rounds and one burst per window
  return proving + (chain ? 1 + 1 + (batches.includes(1) ? 1 : 0) + batches.length + window : 0); // suites, first fulfilment
}

function parseWindows(list: string): number[] {
  const ws = list.split(",").map((s) => Number(s.trim()));
  if (!ws.length || ws.some((w) => !Number.isInteger(w) || w < 0))
    program.error(`error: --windows takes comma-separated whole numbers of ms ≥ 0 (got '${list}')`);
  return [...new Set(ws)];
}

/** `--batch-only`: the batch figures alone, on their own `hardhat node`, in <out>/<date>-batch.json and .md. */
async function batchOnly(
  o: Options,
  batches: number[],
  runs: number,
  windows: number[],
  outDir: string,
  started: Date,
  stopLoad: ReturnType<typeof sampleLoad>,
): Promise<void> {
  const progress = consoleProgress("bench", (o.chain ? 1 : 0) + batchSteps(batches, runs, o.chain, windows, o.windowRounds));
  const work = mkdtempSync(join(tmpdir(), "zkinfer-bench-batch-"));
  const engine = new EzklEngine();
  const info = await engine.info();
  await engine.close();
  const machine = machineInfo({ python: info.python, ezklVersion: info.ezklVersion });
  let node: LocalNode | undefined;
  let batch: NonNullable<BenchResults["batch"]>;
  try {
    const chain = o.chain
      ? await progress.step("hardhat node on 127.0.0.1", async () => {
          const url = (node = await startLocalNode()).url;
          return {
            rpcUrl: url,
            connect: (key: `0x${string}`) =>
              connectChain({
                rpcUrl: url,
                privateKey: key,
                registry: undefined,
                verifierRoute: undefined,
                coordinator: undefined,
                source: "bench",
              }),
            windows,
            windowRounds: o.windowRounds,
          };
        })
      : undefined;
    batch = await measureBatchFigures(o.batchModel, batches, runs, work, progress, chain);
  } finally {
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const finished = new Date();
  machine.loadAverage.end = loadavg().map(round2);
  machine.loadAverage.during = stopLoad();
  const report: BenchResults = {
    schema: 1,
    date: started.toISOString().slice(0, 10),
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    wallTimeMs: finished.getTime() - started.getTime(),
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`,
    options: { models: [], runs, requests: 0, burst: 0, workers: [], coldBuilds: false, chain: o.chain },
    machine,
    method: {
      batch: METHOD.batch!,
      ...(o.chain ? { batchFulfilment: METHOD.batchFulfilment! } : {}),
      ...(batch.window ? { window: METHOD.window! } : {}),
    },
    models: {},
    service: null,
    fleet: null,
    batch,
  };
  writeResults(report, join(outDir, `${report.date}-batch`), progress);
}

/** Jobs per round of the queue-cost figure. */
const QUEUE_JOBS = 200;

function smallestModel(models: string[], built: Map<string, LoadedModel>): string {
  return [...models].sort((a, b) => built.get(a)!.manifest.circuit.logrows - built.get(b)!.manifest.circuit.logrows)[0]!;
}

/** One off-chain proof per worker of the smallest model, so no measured request pays for a worker's start. */
async function warmUp(
  svc: ServiceHandle,
  models: string[],
  built: Map<string, LoadedModel>,
  heldout: Map<string, number[][]>,
  workers: number,
): Promise<void> {
  const name = smallestModel(models, built);
  await warmUpJobs(svc, name, heldout.get(name)!.slice(0, workers));
}

/** How each figure is measured (written into both result files). */
const METHOD: Record<string, string> = {
  tuning:
    "Tuned vs EZKL's default: the same model built twice in this run's cache, with the settings search (the default) and with `--tune off` (EZKL's own calibration on the same data); one EZKL worker per side (so each side's peak RSS, VmHWM, is its own), one warm-up proof each, then n proofs of held-out samples alternating which side goes first; the speed-up is the ratio of the medians. Verify gas: each build's own Solidity verifier deployed on `hardhat node` and `verifyProof` sent as a mined transaction with its proof.",
  build:
    "Build: `buildModel` wall time, cold: a fresh, empty ZKINFER_CACHE_DIR, models built in the order listed, the EZKL worker already started. The first model at a logrows generates the dev SRS (said in the cell); later ones at the same logrows reuse it.",
  proving:
    "Witness / prove / verify, zkinfer: `proveInference` and `verifyProofFile` (the TypeScript engine over its long-lived Python worker; the witness and prove figures are the engine calls proveInference times itself). Bare EZKL: `bench/bare_ezkl.py` calling `ezkl.gen_witness` / `ezkl.prove` / `ezkl.verify` directly on the same artifacts and inputs, each timed with time.perf_counter. Both processes are started first; each side runs one warm-up round (kept in the JSON as `first`), then n rounds on held-out samples 0..n-1, alternating zkinfer and bare round by round (and which goes first), so both see the same background load.",
  rss: "Peak RSS: VmHWM from /proc/<pid>/status of the Python process that ran EZKL, over its warm-up and runs (zkinfer's engine worker; the bare script itself).",
  gas: "Gas: gasUsed of mined transactions on `hardhat node` (not estimateGas): the build's single-model EZKL verifier's `verifyProof` called directly (deployed for the bench only: the baseline), the suite verifier's (EZKL's reusable verifier) `verifyProof` with the VKA in calldata, the route's `verify` sent as a transaction, and `fulfill` of a request from an EOA (no callback, VKA read from its on-chain store), all with the same proof; `requestInference` of that request (pinned version); registration = registerModel + addVersion as `zkinfer model register` sends them. Steady state: before measuring, the prover account fulfils one request (not counted), so its fee-credit slot already exists, as for a prover that has been running.",
  latency:
    "Request → fulfilled: the prover service (`startService`, in its own process) following the coordinator on `hardhat node` (automine) with --confirmations 0 and --poll-ms 200; one request at a time, timed from sending `requestInference` to reading the request as Fulfilled (polled every 100 ms). Pickup / prove / submit come from the service's job store: request mined → job stored; the proof; proof → fulfilment mined. Each worker first proves one off-chain job (warm-up, not counted).",
  throughput:
    "Throughput: a burst of k requests sent back to back; k divided by the time from the first send until the last request is seen fulfilled.",
  batch:
    "Batch variants: the model built with `--batches` (each variant derived from the batch-1 build: batch 1's run arguments with EZKL's batch_size = N, the inner columns chosen by the build's objective, logrows from the rows). Prove: `proveBatch` of N held-out inputs (`proveInference` at batch 1), one warm-up round, then n rounds over every batch size round-robin (the order reversed every other round), so all sizes see the same load; per inference = median / N. Gas: the variant's VKA registered with the suite verifier (`registerVka`, not counted), then `verifyProof(proof, instances, vka)` sent as a mined transaction on `hardhat node` (gasUsed, the 21,000 intrinsic included). The fit is least squares over the variants with batch > 1 (one VKA shape). The alternative: the same batch size built in a copy of the artifact directory with 2 inner columns (about half the rows, one logrows less: what a settings search at batch N would try first), proved n times interleaved with the build's own variant.",
  batchFulfilment:
    "Batched fulfilment: two fresh suites deployed with Ignition on the same `hardhat node`; the model registered through the real registry (`registerModelVersion`: registerModel + addVersion) with every variant of its manifest in one version on the first, and the same build without variants on the second (each the first registration of its VKAs, so the two compare). Then, on the first suite, from one requester EOA (no callback, fixed price 0.001 ETH, no collateral) and one prover account: one request fulfilled first and not counted (the prover's credit slot then exists); at batch 1 a request locked and fulfilled with `fulfill`, a second request of the same input committed (`commit`, a block ahead) and fulfilled openly with the same proof, and that proof sent to the build's single-model EZKL verifier (deployed for this) as the bare baseline; at each batch size N, N `requestInference` of held-out inputs (sorted by request id, the order `fulfillBatch` takes: ids are hashes of the terms), one `lock` of all N, one `proveBatch` of those inputs in that order (`proveInference` at batch 1), one `fulfillBatch` with the terms and locks passed back; then the open path: N more requests, one `commit` of `fillCommitment(prover, ids, proofHash)` for the whole batch, their own proof, one `fulfillBatch` a block later; for every request the stored receipt is checked with `checkReceipt` against the one built from its terms, the prover, the block's time and the outputs its block of the proof decodes to, and its `InferenceFulfilled` outputs and the `BatchFulfilled` list against the proof's blocks; then the same proof sent to the suite verifier's `verifyProof` directly (VKA in calldata). All-in per inference = (the N requests + the lock + the fulfilment) / N, mined gasUsed; open path: (the N requests + the commit + the open fulfilment) / N. The split: least-squares lines through the batch sizes of the bare verifier's gas against its public instances, of fulfillBatch − verifyProof against N and of the lock against N; the residual is what the lines miss. The latency a service's batching window adds is the window figure.",
  window:
    "Batching window: for each `--batch-window-ms` W, a prover service (`startService` in its own process, as `zkinfer serve` runs it; 1 worker, --confirmations 0, --poll-ms 200, --max-batch unset: the largest registered variant) following the batch figures' first suite, where the version has its variants; started fresh for each trial from the chain's head (one off-chain batch-1 proof first, not counted), stopped after it. A trial: 8 `requestInference` of held-out inputs from one EOA (fixed price 0.001 ETH, deadline 1 h), one every 500 ms (the stream) or back to back (the burst); latency per request = from its receipt coming back (automine: mined) to the bench seeing it Fulfilled (coordinator polled every 100 ms, client clock). The stream's rounds go over every W, the order reversed every other round; then one burst per W. Medians and maxima are over all requests of all rounds of a W; added latency = median(W) − median(0) of the same arrival. Fulfilments: the transactions that emitted the trial's `InferenceFulfilled` (batch size from `BatchFulfilled`; none: `fulfill`), their mined gasUsed / 8; prover gas: every transaction the prover account sent in the trial's blocks (fulfilments and any `lock`) / 8. Each service's first proof at a batch size loads that variant's proving key (the worker starts fresh), in the latency.",
  fleet:
    "Fleet: `startService` processes (1 worker each) sharing one PostgreSQL job store (a temporary cluster on 127.0.0.1, fsync off), the smallest model, a burst of k requests as for throughput; first 1 process, then 3. On 2 cores three processes cannot prove faster than the cores allow: the gain is bounded by the cores, not the queue. Queue cost: per job, `claimNext` (with its lease) + one `heartbeat` + `proved` on one connection, no proving, 200 jobs x 2 rounds per backend, SQLite and PostgreSQL interleaved round by round.",
};

main().catch((e: unknown) => {
  process.stderr.write(`[bench] failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
