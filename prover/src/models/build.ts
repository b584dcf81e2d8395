import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { CalibrationTarget, CircuitSettings, Engine, PreparedOnnx } from "../engine/engine.js";
import { feltToInt, fixedToFloat } from "../engine/felt.js";
import { ArtifactError, InvalidModelError, UserInputError } from "../errors.js";
import { sha256, sha256File } from "../util/hash.js";
import { silentLogger, type Logger } from "../util/logger.js";
import { cacheDir, projectRoot } from "../util/paths.js";
import { silentProgress, type Progress } from "../util/progress.js";
import { EIP170_CODE_LIMIT } from "../chain/solc.js";
import { compileVerifier } from "./compile-verifier.js";
import { MANIFEST_SCHEMA_VERSION, type Manifest, type TensorLayout } from "./manifest.js";
import { readJson, type Heldout, type ModelSource } from "./source.js";
import { artifactDirFor, loadArtifact, modelsDir, sweepAbandonedBuilds, type LoadedModel } from "./store.js";

/** Bump when the pipeline's output changes for the same inputs, so old builds are not reused. */
const PIPELINE_VERSION = 1;
export const BUILD_STEPS = 10;

export interface BuildOptions {
  engine: Engine;
  calibrationTarget?: CalibrationTarget;
  /** A ceremony SRS file (production). Without it a dev SRS is generated — fine for tests only. */
  srsFile?: string;
  /** Rebuild even if a finished build with the same inputs exists. */
  force?: boolean;
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
      meta: source.meta ? sha256(JSON.stringify(source.meta)) : null,
      target: opts.calibrationTarget ?? "resources",
      srs: srsHash ?? "dev",
    }),
  );
  return { key, modelHash, calibrationHash, srsHash };
}

/**
 * `zkinfer model build`: ONNX (+ calibration data) -> settings, compiled circuit, SRS, keys, Solidity
 * verifier and manifest.json in a content-addressed directory. A second build of unchanged inputs
 * returns the finished directory without running anything (no key setup).
 */
export async function buildModel(source: ModelSource, opts: BuildOptions): Promise<BuildResult> {
  const engine = opts.engine;
  const progress = opts.progress ?? silentProgress;
  const logger = opts.logger ?? silentLogger;
  const target = opts.calibrationTarget ?? "resources";
  if (opts.srsFile && !existsSync(opts.srsFile)) {
    throw new UserInputError(`SRS file not found: ${opts.srsFile}`, {
      hint: "give the path of a KZG ceremony SRS file (or omit --srs for a dev SRS)",
    });
  }

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

    // 2-3. Settings with explicit visibilities, then calibration.
    await timed("circuit settings (input public, output public, params fixed)", "settings", () =>
      engine.genSettings({ model: p(f.onnx), settings: p(f.settings) }),
    );
    const calibration =
      source.calibration ??
      (await writeRandomCalibration(
        tmp,
        onnxInfo.inputs.map((t) => t.shape),
        progress,
      ));
    const settings: CircuitSettings = await timed(`calibrate (target: ${target})`, "calibrate", () =>
      engine.calibrate({ data: calibration, model: p(f.onnx), settings: p(f.settings), target }),
    );
    const logrows = settings.run_args.logrows;
    progress.note(
      `logrows ${logrows}, input scale ${settings.model_input_scales.join(",")}, output scale ${settings.model_output_scales.join(",")}`,
    );

    // 4. Compile.
    await timed("compile the circuit", "compile", () =>
      engine.compile({ model: p(f.onnx), compiled: p(f.circuit), settings: p(f.settings) }),
    );

    // 5. SRS: a ceremony file, or a cached dev SRS for this logrows.
    await timed(opts.srsFile ? "SRS from file" : `dev SRS (2^${logrows})`, "srs", async () => {
      const src = opts.srsFile ?? (await ensureDevSrs(engine, logrows));
      placeFile(src, p(f.srs));
    });

    // 6. Keys.
    await timed(`key setup (2^${logrows} rows)`, "setup", () =>
      engine.setup({ compiled: p(f.circuit), vk: p(f.vk), pk: p(f.pk), srs: p(f.srs) }),
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

    // 8. The circuit's accuracy against the float model, on held-out data.
    const accuracy = await timed("accuracy: circuit vs float model on held-out data", "accuracy", () =>
      measureAccuracy(engine, source, p(f.onnx), p(f.circuit), tmp, layout),
    );

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
        options: { calibrationTarget: target, srs: opts.srsFile ? "file" : "dev" },
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
        accuracy,
        timingsMs: timings,
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

/** A dev SRS per logrows, generated once and kept in .zkinfer/srs. Not for production. */
async function ensureDevSrs(engine: Engine, logrows: number): Promise<string> {
  const dir = join(cacheDir(), "srs");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `dev-k${logrows}.srs`);
  if (!existsSync(path)) {
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await engine.genSrs({ srs: tmp, logrows });
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  return path;
}

/** Hard-link when possible (SRS files are large and immutable), else copy. */
function placeFile(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

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

function relOrAbs(path: string): string {
  const r = relative(projectRoot, path);
  return r.startsWith("..") ? path : r;
}
