import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { CalibrationTarget, CircuitSettings, Engine, PreparedOnnx } from "../engine/engine.js";
import { feltToInt, fixedToFloat } from "../engine/felt.js";
import { ArtifactError, EzklError, InvalidModelError, UserInputError } from "../errors.js";
import { sha256, sha256File } from "../util/hash.js";
import { silentLogger, type Logger } from "../util/logger.js";
import { projectRoot } from "../util/paths.js";
import { silentProgress, type Progress } from "../util/progress.js";
import { EIP170_CODE_LIMIT } from "../chain/solc.js";
import { compileVerifier } from "./compile-verifier.js";
import { MANIFEST_SCHEMA_VERSION, type Manifest, type TensorLayout } from "./manifest.js";
import { readJson, type Heldout, type ModelSource } from "./source.js";
import { ensureDevSrs, importedCeremonyLogrows, srsFileForLogrows, srsProvenance } from "./srs.js";
import { buildVka } from "./vka.js";
import { inputSpan } from "./tensors.js";
import { buildVariants, parseBatchList } from "./variants.js";
import { artifactDirFor, loadArtifact, modelsDir, placeFile, sweepAbandonedBuilds, type LoadedModel } from "./store.js";
import {
  circuitWarnings,
  DEFAULT_TUNE,
  measureInputRange,
  ownerInputs,
  probeWitnesses,
  TUNE_OBJECTIVES,
  tuneCircuit,
  type TuneObjective,
  type TuneOptions,
} from "./tune.js";

/** Bump when the pipeline's output changes for the same inputs, so old builds are not reused. */
// 2: VKA and SRS provenance in the manifest; 3: the settings search; 4: the ONNX prepared for EZKL; 5: the
// single-model verifier compiled with VERIFIER_SOLC_SETTINGS (optimizer runs 1,000,000)
const PIPELINE_VERSION = 5;
export const BUILD_STEPS = 10;

export interface BuildOptions {
  engine: Engine;
  calibrationTarget?: CalibrationTarget;
  /** A ceremony SRS file (production). Without it a dev SRS is generated — fine for tests only. */
  srsFile?: string;
  /** Rebuild even if a finished build with the same inputs exists. */
  force?: boolean;
  /** The settings search (default on; `mode: "off"` keeps EZKL's own calibration). */
  tune?: Partial<TuneOptions>;
  /** Batch sizes to build variants at (1 is the build itself); default: model.json's "batch", else [1]. */
  batch?: number[];
  progress?: Progress;
  logger?: Logger;
}

export interface BuildResult extends LoadedModel {
  cacheHit: boolean;
}

/** The build key: a hash of everything that determines the artifacts. */
async function buildKey(
  source: ModelSource,
  opts: BuildOptions,
  ezklVersion: string,
  preparedOnnx: string,
): Promise<{ key: string; modelHash: string; calibrationHash: string | null; srsHash: string | null }> {
  // The prepared file: it embeds external weight data, so the key covers the weights wherever the export
  // kept them. For an export that needed no preparation it is the source file, byte for byte.
  const modelHash = await sha256File(preparedOnnx);
  const calibrationHash = source.calibration ? await sha256File(source.calibration) : null;
  const srsHash = opts.srsFile ? await sha256File(opts.srsFile) : null;
  const key = sha256(
    JSON.stringify({
      pipeline: PIPELINE_VERSION,
      ezklVersion,
      modelHash,
      calibrationHash,
      heldout: source.heldout ? await sha256File(source.heldout) : null,
      // model.json's "batch" list is not part of the batch-1 build: variants are added beside it (variants.ts).
      meta: source.meta ? sha256(JSON.stringify(withoutBatch(source.meta))) : null,
      sample: source.sampleInput ? await sha256File(source.sampleInput) : null,
      tune: resolveTune(source, opts),
      target: opts.calibrationTarget ?? "resources",
      // Without --srs: which ceremony SRS files `zkinfer srs import` has placed (a build after an import must
      // not be a cache hit of the dev-SRS build before it).
      srs: srsHash ?? (importedCeremonyLogrows().join(",") || "dev"),
    }),
  );
  return { key, modelHash, calibrationHash, srsHash };
}

/**
 * `zkinfer model build`: ONNX (+ calibration data) -> settings, compiled circuit, SRS, keys, Solidity
 * verifier and manifest.json in a content-addressed directory. A second build of unchanged inputs
 * returns the finished directory without running anything (no key setup). Batch variants
 * (`--batch`, model.json "batch") are added beside it, each derived from the batch-1 build (variants.ts).
 */
export async function buildModel(source: ModelSource, opts: BuildOptions): Promise<BuildResult> {
  const batches = resolveBatches(source, opts);
  const built = await buildBatch1(source, opts);
  if (batches.length === 1) return built;
  const samples = probeInputs(
    await ownerInputs(
      { sample: source.sampleInput, heldout: source.heldout, calibration: source.calibration },
      inputSpan(built.manifest).count,
    ),
  );
  const model = await buildVariants(built, batches, {
    engine: opts.engine,
    ...(opts.srsFile ? { srsFile: opts.srsFile } : {}),
    samples: samples.length ? samples : [new Array<number>(inputSpan(built.manifest).count).fill(0)],
    objective: resolveTune(source, opts).objective,
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return { ...model, cacheHit: built.cacheHit && model === built };
}

/** The batch sizes of a build: the caller's, else model.json's "batch", else [1]. */
export function resolveBatches(source: ModelSource, opts: Pick<BuildOptions, "batch">): number[] {
  if (opts.batch) return parseBatchList(opts.batch, "--batch");
  if (source.meta?.batch !== undefined) return parseBatchList(source.meta.batch, `${source.dir}/model.json "batch"`);
  return [1];
}

async function buildBatch1(source: ModelSource, opts: BuildOptions): Promise<BuildResult> {
  const engine = opts.engine;
  const progress = opts.progress ?? silentProgress;
  const logger = opts.logger ?? silentLogger;
  const target = opts.calibrationTarget ?? "resources";
  if (opts.srsFile && !existsSync(opts.srsFile)) {
    throw new UserInputError(`SRS file not found: ${opts.srsFile}`, {
      hint: "give the path of a KZG ceremony SRS file (or omit --srs for a dev SRS)",
    });
  }

  // The SRS for a logrows: --srs, else the ceremony file `zkinfer srs import` placed for it, else none (dev).
  const srsFileFor = (k: number) => srsFileForLogrows(k, opts.srsFile);
  const info = await engine.info();
  mkdirSync(modelsDir(), { recursive: true });
  const swept = sweepAbandonedBuilds();
  if (swept.length) logger.info({ swept }, "removed directories of builds that died");
  const tmp = join(modelsDir(), `.tmp-${source.name}-p${process.pid}-${randomBytes(4).toString("hex")}`);
  mkdirSync(tmp);
  // 1. Refuse a bad model file before anything is generated, and make an export EZKL-ready (external data,
  //    batch axis, skl2onnx's classifier tail): cheap, and its output is what the build key hashes.
  const t0 = performance.now();
  let prepared: PreparedOnnx;
  let key: string, modelHash: string, calibrationHash: string | null;
  try {
    prepared = await progress.step("check and prepare the ONNX model", async () =>
      engine.prepareOnnx({ model: source.onnx, out: join(tmp, "network.onnx"), samples: await referenceSamples(source) }),
    );
    ({ key, modelHash, calibrationHash } = await buildKey(source, opts, info.ezklVersion, join(tmp, "network.onnx")));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const note of prepared.notes) progress.note(`prepared: ${note}`);
  const finalDir = artifactDirFor(source.name, key);
  if (!opts.force && existsSync(join(finalDir, "manifest.json"))) {
    rmSync(tmp, { recursive: true, force: true });
    logger.info({ model: source.name, dir: finalDir }, "build cache hit");
    progress.note(`cache hit: ${relative(process.cwd(), finalDir) || finalDir} (nothing to do)`);
    return { ...(await loadArtifact(finalDir)), cacheHit: true };
  }
  const f = {
    onnx: "network.onnx",
    settings: "settings.json",
    circuit: "network.ezkl",
    srs: "kzg.srs",
    vk: "vk.key",
    pk: "pk.key",
    verifierSource: "Verifier.sol",
    verifierArtifact: "verifier.json",
    vka: "vka.bin",
  } as const;
  const p = (name: string) => join(tmp, name);
  const timings: Record<string, number> = { prepare: Math.round(performance.now() - t0) };
  const timed = async <T>(label: string, key: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await progress.step(label, work);
    timings[key] = Math.round(performance.now() - t0);
    return r;
  };

  try {
    const onnxInfo = await timed("read the model's tensors", "inspect", () => engine.inspectOnnx(p(f.onnx)));
    const staticShape = (t: { name: string; shape: (number | string)[] }) => {
      const bad = t.shape.findIndex((d, i) => typeof d !== "number" && i !== 0);
      if (bad >= 0) {
        throw new InvalidModelError(`tensor '${t.name}' of ${source.onnx} has a symbolic dimension at axis ${bad}`, {
          hint: "export with a fixed size for every axis but the first (the batch axis)",
        });
      }
    };
    [...onnxInfo.inputs, ...onnxInfo.outputs].forEach(staticShape);

    // 2-3. Settings with explicit visibilities, then EZKL's calibration on the owner's data.
    await timed("circuit settings (input public, output public, params fixed)", "settings", () =>
      engine.genSettings({ model: p(f.onnx), settings: p(f.settings) }),
    );
    // Every input tensor's values, one after another: the form of an owner's row (sample, held-out, calibration).
    const tensorCounts = onnxInfo.inputs.map((t) =>
      t.shape.reduce<number>((n, d) => n * (typeof d === "number" && d > 0 ? d : 1), 1),
    );
    const inputCount = tensorCounts.reduce((a, b) => a + b, 0);
    const multi = tensorCounts.length > 1 ? tensorCounts : undefined; // how owner rows split into EZKL's tensors
    const owner = await ownerInputs(
      { sample: source.sampleInput, heldout: source.heldout, calibration: source.calibration },
      inputCount,
    );
    const calibration = await calibrationData(
      source,
      owner,
      tmp,
      onnxInfo.inputs.map((t) => t.shape),
      tensorCounts,
      progress,
    );
    let settings: CircuitSettings = await timed(`calibrate (target: ${target})`, "calibrate", () =>
      engine.calibrate({ data: calibration, model: p(f.onnx), settings: p(f.settings), target }).catch((e: unknown) => {
        throw explainCalibrationError(e, calibration);
      }),
    );
    const ezklSettings = settings;
    // Costly constructs are named before any key is made.
    for (const w of circuitWarnings(onnxInfo, settings)) {
      logger.warn({ model: source.name, warning: w }, "circuit cost");
      progress.note(`warning: ${w}`);
    }
    // The inputs every circuit must hold: the sample first, then the owner's rows with the largest values.
    // Without any data of the owner's, the random calibration rows stand in (the build said so).
    const probes = probeInputs(
      owner.sample || owner.heldout.length || owner.calibration.length
        ? owner
        : await ownerInputs({ sample: null, heldout: null, calibration }, inputCount),
    );
    const tune = resolveTune(source, opts);
    let tuning: Extract<Manifest["tuning"], { mode: "on" }> | null = null;
    let ranked: Awaited<ReturnType<typeof tuneCircuit>>["ranked"] = [];

    if (tune.mode === "on" && probes.length > 0) {
      // 4-6. The settings search: compile, key setup and a real proof per measured layout.
      const result = await timed("settings search (layouts screened, the best proved)", "tune", () =>
        tuneCircuit({
          engine,
          onnx: p(f.onnx),
          onnxInfo,
          calibration,
          target,
          baseline: ezklSettings,
          probes,
          sampleInput: probes[0]!,
          ...(multi ? { inputCounts: multi } : {}),
          dir: join(tmp, "tune"),
          options: tune,
          srsFor: (k) => {
            const file = srsFileFor(k);
            return file ? Promise.resolve(file) : ensureDevSrs(engine, k);
          },
          progress,
          logger,
        }),
      );
      ranked = result.ranked;
      tuning = {
        mode: "on",
        objective: tune.objective,
        budget: { maxMeasured: tune.maxMeasured, budgetMs: tune.budgetMs },
        searchMs: result.searchMs,
        rangeBits: result.rangeBits,
        ezkl: layoutOf(ezklSettings),
        chosen: null,
        candidates: result.candidates,
      };
    } else {
      // 4. Compile.
      await timed("compile the circuit", "compile", () =>
        engine.compile({ model: p(f.onnx), compiled: p(f.circuit), settings: p(f.settings) }),
      );
    }

    // The accuracy gate: the best measured layout whose held-out outputs stay within the tolerance.
    let accuracy: Manifest["accuracy"] = null;
    const layoutFor = (s: CircuitSettings) =>
      instanceLayout(
        s,
        onnxInfo.inputs.map((t) => t.name),
        onnxInfo.outputs.map((t) => t.name),
      );
    for (const m of ranked) {
      const acc = await timed(`accuracy of ${m.candidate.id} on held-out data`, "accuracy", () =>
        measureAccuracy(engine, source, p(f.onnx), m.files.circuit, m.files.dir, layoutFor(m.settings)),
      );
      if (!withinTolerance(acc)) {
        m.candidate.status = "rejected";
        m.candidate.reason = `held-out outputs off by up to ${acc!.maxAbsError.toExponential(2)} (tolerance ${acc!.tolerance}) or ${acc!.metric} ${acc!.circuit} vs float ${acc!.float}`;
        progress.note(`${m.candidate.id}: ${m.candidate.reason}`);
        continue;
      }
      accuracy = acc;
      settings = m.settings;
      for (const [from, to] of [
        [m.files.settings, f.settings],
        [m.files.circuit, f.circuit],
        [m.files.vk, f.vk],
        [m.files.pk, f.pk],
      ] as const)
        renameSync(from, p(to));
      placeFile(m.files.srs, p(f.srs));
      tuning!.chosen = m.candidate.id;
      progress.note(
        `chosen: ${m.candidate.id} (logrows ${m.candidate.logrows} vs EZKL's ${ezklSettings.run_args.logrows}; prove ${m.candidate.proveMs} ms)`,
      );
      break;
    }
    if (tuning && !tuning.chosen) {
      progress.note(
        ranked.length
          ? "no measured layout met the tolerance: keeping EZKL's calibration"
          : "keeping EZKL's calibration (no layout predicted cheaper)",
      );
      ranked = [];
    }
    rmSync(join(tmp, "tune"), { recursive: true, force: true });
    const logrows = settings.run_args.logrows;
    progress.note(
      `logrows ${logrows}, input scale ${settings.model_input_scales.join(",")}, output scale ${settings.model_output_scales.join(",")}`,
    );

    if (!tuning?.chosen) {
      if (tuning) {
        await timed("compile the circuit", "compile", () =>
          engine.compile({ model: p(f.onnx), compiled: p(f.circuit), settings: p(f.settings) }),
        );
      }
      // After calibration the owner's own inputs must stay inside the circuit's range.
      const outOfRange = probes.length ? await probeWitnesses(engine, p(f.circuit), probes, join(tmp, "probe"), multi) : null;
      if (outOfRange) {
        throw new InvalidModelError(`after calibration, the model's own inputs leave the circuit's range: ${outOfRange}`, {
          hint: "give calibration.json rows that cover the real inputs (input.json, heldout.json), or build with --tune on to widen the decomposition",
        });
      }
      // 5. SRS: a given file, the ceremony SRS `zkinfer srs import` placed for this logrows, or a cached dev SRS.
      const srsFile = srsFileFor(logrows);
      await timed(srsFile ? `SRS from ${relOrAbs(srsFile)}` : `dev SRS (2^${logrows})`, "srs", async () => {
        const src = srsFile ?? (await ensureDevSrs(engine, logrows));
        placeFile(src, p(f.srs));
      });

      // 6. Keys.
      await timed(`key setup (2^${logrows} rows)`, "setup", () =>
        engine.setup({ compiled: p(f.circuit), vk: p(f.vk), pk: p(f.pk), srs: p(f.srs) }),
      );
    }
    const srsSha = await sha256File(p(f.srs));
    const srs = { provenance: srsProvenance(srsSha, logrows), sha256: srsSha, logrows };
    if (srs.provenance === "dev") {
      progress.note(
        `dev SRS: generated on this machine, not the public ceremony; fine for tests and the local chain only (import the ceremony file: zkinfer srs import <file> --logrows ${logrows})`,
      );
    }
    const inputRange = await timed(
      "input range (the owner's inputs scaled up until the circuit's range gives out)",
      "inputRange",
      () =>
        probes.length
          ? measureInputRange(engine, p(f.circuit), settings, probes, join(tmp, "range"), multi)
          : Promise.resolve(null),
    );

    // 7. Solidity verifier: EZKL writes it, the project's solc compiles it.
    const verifier = await timed("Solidity verifier (generate + compile)", "verifier", async () => {
      const gen = await engine.createEvmVerifier({
        vk: p(f.vk),
        settings: p(f.settings),
        sol: p(f.verifierSource),
        abi: p("verifier.abi.json"),
        srs: p(f.srs),
      });
      if (gen.note) logger.debug({ note: gen.note }, "create_evm_verifier");
      const compiled = compileVerifier(await readFile(p(f.verifierSource), "utf8"));
      await writeFile(p(f.verifierArtifact), JSON.stringify(compiled, null, 2));
      return compiled;
    });
    // 7b. The verifying-key artifact the suite verifier takes: the version's on-chain data.
    const vka = await timed("verifying-key artifact (VKA) for the suite verifier", "vka", () =>
      buildVka(engine, { vk: p(f.vk), settings: p(f.settings), srs: p(f.srs), vka: p(f.vka) }),
    );
    if (verifier.deployedSize > EIP170_CODE_LIMIT) {
      progress.note(
        `warning: the verifier's runtime code is ${verifier.deployedSize} bytes, over the ${EIP170_CODE_LIMIT}-byte EIP-170 limit; it cannot be deployed`,
      );
    }

    // Instance layout: EZKL flattens public inputs then public outputs.
    const layout = instanceLayout(
      settings,
      onnxInfo.inputs.map((t) => t.name),
      onnxInfo.outputs.map((t) => t.name),
    );
    const outputScales = [...new Set(layout.outputs.map((t) => t.scale))];
    if (outputScales.length > 1) {
      progress.note(
        `warning: the output tensors have different scales (${layout.outputs.map((t) => `${t.name} 2^${t.scale}`).join(", ")}); ` +
          "a consumer on-chain sees one output scale, so `model register` refuses this build: rescale the outputs to one scale in the export",
      );
    }

    // 8. The circuit's accuracy against the float model, on held-out data (measured in the search when tuned).
    if (!tuning?.chosen) {
      accuracy = await timed("accuracy: circuit vs float model on held-out data", "accuracy", () =>
        measureAccuracy(engine, source, p(f.onnx), p(f.circuit), tmp, layout),
      );
    }

    // 9. Hashes and the manifest, written last.
    const manifest: Manifest = await timed("hashes and manifest", "manifest", async () => {
      const [settingsH, circuitH, srsH, vkH, pkH, solH] = await Promise.all(
        [f.settings, f.circuit, f.srs, f.vk, f.pk, f.verifierSource].map((n) => sha256File(p(n))),
      );
      const sizes: Record<string, number> = {};
      for (const [k, n] of Object.entries(f)) sizes[k] = statSync(p(n)).size;
      return {
        schema: MANIFEST_SCHEMA_VERSION,
        name: source.name,
        buildKey: key,
        createdAt: new Date().toISOString(),
        ezklVersion: info.ezklVersion,
        source: {
          onnx: relOrAbs(source.onnx),
          prepared: prepared.notes,
          calibration: source.calibration ? relOrAbs(source.calibration) : null,
          meta: source.meta,
        },
        options: { calibrationTarget: target, srs: opts.srsFile ? "file" : "dev", tune: tune.mode },
        hashes: {
          model: modelHash,
          calibration: calibrationHash,
          settings: settingsH!,
          circuit: circuitH!,
          srs: srsH!,
          vk: vkH!,
          pk: pkH!,
          verifierSource: solH!,
        },
        files: { ...f },
        sizes,
        circuit: {
          logrows,
          numRows: settings.num_rows,
          visibility: {
            input: settings.run_args.input_visibility,
            output: settings.run_args.output_visibility,
            params: settings.run_args.param_visibility,
          },
          inputScale: layout.inputs[0]!.scale,
          outputScale: layout.outputs[0]!.scale,
          lookupRange: settings.run_args.lookup_range,
          numInstances: layout.outputs.at(-1)!.offset + layout.outputs.at(-1)!.count,
          instanceLayout: layout,
        },
        verifier: {
          contractName: verifier.contractName,
          compiler: verifier.compiler,
          deployedSize: verifier.deployedSize,
          sizeLimit: EIP170_CODE_LIMIT,
          withinSizeLimit: verifier.deployedSize <= EIP170_CODE_LIMIT,
          codeHash: verifier.codeHash,
        },
        vka: { file: f.vka, digest: vka.digest, words: vka.words.length, ceremonySrs: vka.ceremonySrs },
        srs,
        accuracy,
        layout: layoutOf(settings),
        inputRange,
        tuning: tuning ?? { mode: "off", ezkl: layoutOf(ezklSettings) },
        warnings: circuitWarnings(onnxInfo, settings),
        timingsMs: timings,
        variants: [],
      };
    });
    rmSync(p("verifier.abi.json"), { force: true });
    await writeFile(p("manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

    if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true }); // --force rebuild
    renameSync(tmp, finalDir);
    logger.info({ model: source.name, dir: finalDir, timings }, "model built");
    return { ...(await loadArtifact(finalDir)), cacheHit: false };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function instanceLayout(
  settings: CircuitSettings,
  inputNames: string[],
  outputNames: string[],
): { inputs: TensorLayout[]; outputs: TensorLayout[] } {
  const vis = settings.run_args;
  if (String(vis.input_visibility).toLowerCase() !== "public" || String(vis.output_visibility).toLowerCase() !== "public") {
    throw new ArtifactError(
      `settings have input ${vis.input_visibility} / output ${vis.output_visibility}; zkinfer needs both public`,
    );
  }
  const shapes = settings.model_instance_shapes;
  if (shapes.length !== inputNames.length + outputNames.length) {
    throw new ArtifactError(
      `expected ${inputNames.length + outputNames.length} instance tensors (${inputNames.length} inputs, ${outputNames.length} outputs), EZKL reports ${shapes.length}`,
    );
  }
  const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
  let offset = 0;
  const tensor = (name: string, i: number, scale: number): TensorLayout => {
    const t = { name, shape: shapes[i]!, offset, count: count(shapes[i]!), scale };
    offset += t.count;
    return t;
  };
  const inputs = inputNames.map((n, i) => tensor(n, i, settings.model_input_scales[i] ?? settings.model_input_scales[0]!));
  const outputs = outputNames.map((n, j) => tensor(n, inputNames.length + j, settings.model_output_scales[j]!));
  return { inputs, outputs };
}

async function measureAccuracy(
  engine: Engine,
  source: ModelSource,
  onnx: string,
  circuit: string,
  tmp: string,
  layout: { inputs: TensorLayout[]; outputs: TensorLayout[] },
): Promise<Manifest["accuracy"]> {
  if (!source.heldout) return null;
  const heldout = await readJson<Heldout>(source.heldout, "heldout.json");
  if (!Array.isArray(heldout.inputs) || heldout.inputs.length === 0) {
    throw new UserInputError(`${source.heldout} has no "inputs"`, { hint: "heldout.json holds {inputs, labels}" });
  }
  // Held-out samples are flat (input tensors one after another); outputs likewise, every output tensor.
  const floatOut = await engine.runOnnx(onnx, heldout.inputs);
  const witnesses = await engine.witnessBatch({
    inputs: heldout.inputs,
    inputCounts: layout.inputs.map((t) => t.count),
    compiled: circuit,
    scratch: join(tmp, "heldout"),
  });
  const circuitOut = witnesses.map((w) =>
    w.outputs.flatMap((tensor, k) => tensor.map((fe) => fixedToFloat(feltToInt(fe), layout.outputs[k]!.scale))),
  );
  let maxAbs = 0;
  let sumAbs = 0;
  let n = 0;
  for (const [i, row] of circuitOut.entries()) {
    for (const [j, v] of row.entries()) {
      const d = Math.abs(v - floatOut[i]![j]!);
      maxAbs = Math.max(maxAbs, d);
      sumAbs += d;
      n += 1;
    }
  }
  const task = source.meta?.task ?? (floatOut[0]!.length > 1 ? "classification" : "regression");
  const labels = heldout.labels ?? [];
  const metric = task === "classification" ? "accuracy" : "mae";
  // The task's metric is of the first output tensor (a multi-output model's other heads count in the errors).
  const firstCount = layout.outputs[0]!.count;
  const score = (all: number[][]) => {
    const outs = all.map((o) => o.slice(0, firstCount));
    if (labels.length !== outs.length) return null; // no labels (or not one per sample): errors only
    if (metric === "accuracy") return outs.filter((o, i) => argmax(o) === labels[i]).length / outs.length;
    return outs.reduce((s, o, i) => s + Math.abs(o[0]! - labels[i]!), 0) / outs.length;
  };
  return {
    samples: heldout.inputs.length,
    metric,
    float: score(floatOut),
    circuit: score(circuitOut),
    maxAbsError: maxAbs,
    meanAbsError: n ? sumAbs / n : 0,
    tolerance: typeof source.meta?.tolerance === "number" ? source.meta.tolerance : null,
  };
}

const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

/** Without calibration data, calibrate on uniform random inputs in [-1, 1] and say so. */
async function writeRandomCalibration(tmp: string, shapes: (number | string)[][], progress: Progress): Promise<string> {
  const samples = 20;
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const data = shapes.map((shape) => {
    const count = shape.reduce<number>((n, d) => n * (typeof d === "number" && d > 0 ? d : 1), 1);
    return Array.from({ length: count * samples }, rand);
  });
  const path = join(tmp, "calibration.random.json");
  await writeFile(path, JSON.stringify({ input_data: data }));
  progress.note(
    "no calibration.json: calibrating on random inputs in [-1, 1]; give real calibration data for a faithful circuit",
  );
  return path;
}

/** Inputs to check a rewritten graph against its export on: the sample input and a few held-out ones. */
async function referenceSamples(source: ModelSource): Promise<number[][]> {
  const samples: number[][] = [];
  if (source.sampleInput) {
    const json = await readJson<{ input_data?: unknown }>(source.sampleInput, "input.json");
    const data = Array.isArray(json.input_data) ? json.input_data[0] : undefined;
    if (Array.isArray(data) && data.every((v) => typeof v === "number")) samples.push(data as number[]);
  }
  if (source.heldout) {
    const heldout = await readJson<Heldout>(source.heldout, "heldout.json");
    if (Array.isArray(heldout.inputs)) samples.push(...heldout.inputs.slice(0, 10));
  }
  return samples;
}

function withoutBatch(meta: Record<string, unknown>): Record<string, unknown> {
  const { batch: _batch, ...rest } = meta;
  return rest;
}

function relOrAbs(path: string): string {
  const r = relative(projectRoot, path);
  return r.startsWith("..") ? path : r;
}

/** The tuning options of a build: the caller's, then model.json's "objective", then the defaults. */
function resolveTune(source: ModelSource, opts: BuildOptions): TuneOptions {
  const metaObjective = source.meta?.objective;
  if (metaObjective !== undefined && !TUNE_OBJECTIVES.includes(metaObjective as TuneObjective)) {
    throw new UserInputError(`model.json "objective" is ${JSON.stringify(metaObjective)}`, {
      hint: `use one of ${TUNE_OBJECTIVES.join(", ")}`,
    });
  }
  return {
    ...DEFAULT_TUNE,
    ...(metaObjective ? { objective: metaObjective as TuneObjective } : {}),
    ...opts.tune,
  };
}

/** EZKL's layout knobs as the manifest records them. */
function layoutOf(s: CircuitSettings): Manifest["layout"] {
  const ra = s.run_args as CircuitSettings["run_args"] & { decomp_base: number; decomp_legs: number; num_inner_cols: number };
  return {
    logrows: ra.logrows,
    numRows: s.num_rows,
    decompBase: ra.decomp_base,
    decompLegs: ra.decomp_legs,
    numInnerCols: ra.num_inner_cols,
    inputScale: ra.input_scale,
    paramScale: ra.param_scale,
  };
}

/** Held-out outputs within the model's tolerance, and no classification sample lost against the float model. */
function withinTolerance(acc: Manifest["accuracy"]): boolean {
  if (!acc) return true;
  if (acc.tolerance !== null && acc.maxAbsError > acc.tolerance) return false;
  if (acc.circuit === null || acc.float === null) return true; // no labels: the per-element tolerance decides
  if (acc.metric === "accuracy") return acc.circuit >= acc.float - 1 / acc.samples - 1e-12;
  return acc.tolerance === null || Math.abs(acc.circuit - acc.float) <= acc.tolerance;
}

/**
 * The data EZKL calibrates on: the owner's calibration.json; without it, the sample and held-out inputs;
 * random inputs in [-1, 1] only when the owner gave no data at all.
 */
async function calibrationData(
  source: ModelSource,
  owner: { sample: number[] | null; heldout: number[][] },
  tmp: string,
  shapes: (number | string)[][],
  tensorCounts: number[],
  progress: Progress,
): Promise<string> {
  if (source.calibration) return source.calibration;
  const rows = [...(owner.sample ? [owner.sample] : []), ...owner.heldout];
  if (rows.length) {
    const path = join(tmp, "calibration.owner.json");
    // EZKL's calibration file: per input tensor, that tensor's part of every row, concatenated.
    let at = 0;
    const perTensor = tensorCounts.map((n) => {
      const part = rows.flatMap((r) => r.slice(at, at + n));
      at += n;
      return part;
    });
    await writeFile(path, JSON.stringify({ input_data: perTensor }));
    progress.note(`no calibration.json: calibrating on the sample and held-out inputs (${rows.length} rows)`);
    return path;
  }
  return writeRandomCalibration(tmp, shapes, progress);
}

/** The sample input, then the two held-out and two calibration rows with the largest |x| (witnesses cost ~1 s on a CNN). */
function probeInputs(owner: { sample: number[] | null; heldout: number[][]; calibration: number[][] }): number[][] {
  const peak = (r: number[]) => Math.max(...r.map(Math.abs));
  const top = (rows: number[][]) => [...rows].sort((a, b) => peak(b) - peak(a)).slice(0, 2);
  return [...(owner.sample ? [owner.sample] : []), ...top(owner.heldout), ...top(owner.calibration)];
}

/** EZKL's range errors during calibration ("decomposition error: integer ... too large ...") with what to do. */
function explainCalibrationError(e: unknown, data: string): unknown {
  if (!(e instanceof EzklError) || !/decomposition error|too large to be represented|General synthesis error/.test(e.message))
    return e;
  return new InvalidModelError(`EZKL's calibration on ${relOrAbs(data)} left the circuit's range: ${e.message.slice(0, 200)}`, {
    hint: "give calibration.json rows like the real inputs (no outliers), or a smaller scale (--target resources)",
    cause: e,
  });
}
