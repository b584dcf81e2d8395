import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CircuitSettings, Engine } from "../engine/engine.js";
import { ArtifactError, InvalidModelError, UserInputError } from "../errors.js";
import { sha256File } from "../util/hash.js";
import { silentLogger, type Logger } from "../util/logger.js";
import { silentProgress, type Progress } from "../util/progress.js";
import { readManifest, type BatchVariant, type Manifest, type TensorLayout } from "./manifest.js";
import { ensureDevSrs, srsFileForLogrows, srsProvenance } from "./srs.js";
import { loadArtifact, placeFile, sweepAbandonedBuilds, type LoadedModel } from "./store.js";
import { INNER_COLS, predictedCost, predictLogrows, type TuneObjective } from "./tune.js";
import { buildVka } from "./vka.js";

/**
 * Batch variants (`zkinfer model build --batch 1,4,8,16`): one circuit proves N inferences of the same model
 * version, so one on-chain verification serves N requests. EZKL 23 has no proof aggregation; its
 * `batch_size` variable sets the leading axis of a symbolic-batch graph, and the circuit is the batch-1 one
 * repeated N times over the same fixed weights.
 *
 * A variant derives from the batch-1 build, never from a search of its own:
 * - its graph is network.onnx (the version's ONNX, the model hash) with the leading axis made symbolic, a
 *   deterministic rewrite (prover/python/onnx_prep.py `symbolic_batch`) the audit repeats and compares;
 * - its settings are the batch-1 settings' run arguments — scales, decomposition, inner columns, lookup
 *   range, visibilities — with batch_size = N and the smallest logrows that holds its rows. The layout
 *   changes how a circuit is laid out, not what it computes, so at the same scales every block's outputs are
 *   bit-identical to a batch-1 proof of that input; the build witnesses N inputs both ways and refuses the
 *   variant otherwise (`check` in the manifest);
 * - its own circuit, SRS (for its logrows), keys and VKA, in `batch-<N>/` of the artifact directory.
 *
 * Each variant is built in a .tmp-* directory and renamed into place when complete; manifest.json is then
 * rewritten (read afresh, the entry added, renamed over) so that a crash never leaves a half-built variant.
 */
export const MAX_BATCH = 64;
export const VARIANT_STEPS = 5;

/** Parse "1,4,8,16" (the CLI) or [1, 4, 8, 16] (model.json "batch"); always includes 1, sorted, unique. */
export function parseBatchList(spec: unknown, where: string): number[] {
  const parts = typeof spec === "string" ? spec.split(",").map((p) => p.trim()) : spec;
  const hint = `give batch sizes from 1 to ${MAX_BATCH}, e.g. ${where === "--batch" ? "--batch 1,4,8,16" : '"batch": [1, 4, 8, 16]'}`;
  if (!Array.isArray(parts) || parts.length === 0)
    throw new UserInputError(`${where} must be a list of batch sizes, not ${JSON.stringify(spec)}`, { hint });
  const sizes = parts.map((p: unknown) => (typeof p === "string" && /^\d+$/.test(p) ? Number(p) : p));
  const bad = sizes.find((n) => !Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_BATCH);
  if (bad !== undefined)
    throw new UserInputError(`${where}: ${JSON.stringify(bad)} is not a batch size from 1 to ${MAX_BATCH}`, { hint });
  return [...new Set([1, ...(sizes as number[])])].sort((a, b) => a - b);
}

/**
 * The variant's settings: batch 1's run arguments with batch_size = N; the inner columns are screened (EZKL's
 * gen_settings counts the rows in milliseconds): N times the rows may fit fewer rows in more columns. The
 * build's objective picks: proveTime and memory by the settings search's cost model (prove work ~ 2^logrows x
 * the columns' weight), proofSize by the fewest columns (each column adds commitments and evaluations to the
 * proof and the VKA, so verification gas), then the fewest rows.
 *
 * Every variant turns EZKL's Freivalds check of matrix products off. At batch 1 a product has one row and EZKL
 * does not use it; at batch N it checks each product against a random challenge, which adds a second proving
 * phase. Measured on digits-mlp at batch 8 (one inner column, k15): with it, a 220-word VKA, a 3,360-byte proof,
 * a 174 MiB proving key and 8.5 s a proof; without, 126 words and 1,952 bytes (batch 1's shape), 90 MiB and
 * 5.7 s (interleaved, n=3), for 41% more rows. Both are sound; off, a product is constrained row by row, as at
 * batch 1. Layout and this switch change how the circuit is proved, not the values: the check against batch 1
 * shows it for every build.
 */
async function variantSettings(
  engine: Engine,
  args: { model: string; base: string; settings: string; batch: number },
  base: CircuitSettings,
  objective: TuneObjective,
  only?: number,
): Promise<{ settings: CircuitSettings; screened: BatchVariant["screened"] }> {
  const screened: BatchVariant["screened"] = [];
  for (const numInnerCols of only ? [only] : INNER_COLS) {
    const s = await engine.variantSettings({ ...args, logrows: base.run_args.logrows, numInnerCols });
    const logrows = neededLogrows(base, s);
    screened.push({ numInnerCols, numRows: s.num_rows, logrows, predictedCost: predictedCost({ logrows, numInnerCols }) });
  }
  const key = (c: (typeof screened)[number]) =>
    objective === "proofSize" ? c.numInnerCols * 2 ** 40 + c.predictedCost : c.predictedCost;
  const best = screened.reduce((a, b) => (key(b) < key(a) ? b : a));
  const settings = await engine.variantSettings({
    ...args,
    logrows: best.logrows,
    numInnerCols: best.numInnerCols,
  });
  return { settings, screened };
}

/** The smallest logrows that holds a variant's rows, its range table and lookups (never below batch 1's). */
const neededLogrows = (base: CircuitSettings, v: CircuitSettings) =>
  Math.max(base.run_args.logrows, predictLogrows(v.num_rows, decompBase(v), v.run_args.lookup_range));

/** Block layout: one request's part of each tensor at batch N (each tensor's leading axis is the batch). */
function blockOf(tensors: readonly TensorLayout[], batch: number) {
  return tensors.map((t) => ({ name: t.name, offset: t.offset, count: t.count / batch }));
}

/** The variant's instance layout: the batch-1 layout with every tensor's leading axis N. */
export function variantLayout(base: Manifest["circuit"]["instanceLayout"], batch: number) {
  let offset = 0;
  const grow = (t: TensorLayout): TensorLayout => {
    const g = { ...t, shape: [t.shape[0]! * batch, ...t.shape.slice(1)], offset, count: t.count * batch };
    offset += g.count;
    return g;
  };
  const inputs = base.inputs.map(grow);
  const outputs = base.outputs.map(grow);
  return { inputs, outputs };
}

/**
 * What must hold between a variant's settings and the batch-1 settings it derives from; null when it does.
 * The audit runs the same check on the published files.
 */
export function derivationProblem(base: CircuitSettings, v: CircuitSettings, batch: number): string | null {
  const { variables: _v, logrows: _l, num_inner_cols: _c, disable_freivalds: _f, ...baseArgs } = base.run_args;
  const { variables, logrows, num_inner_cols: cols, disable_freivalds: freivalds, ...args } = v.run_args;
  if (freivalds !== true)
    return `disable_freivalds is ${JSON.stringify(freivalds)}: a variant proves products row by row, as batch 1`;
  if (!INNER_COLS.includes(Number(cols))) return `num_inner_cols is ${JSON.stringify(cols)}, not one of ${INNER_COLS.join(", ")}`;
  for (const [k, value] of Object.entries(baseArgs)) {
    if (JSON.stringify(args[k]) !== JSON.stringify(value))
      return `run argument ${k} is ${JSON.stringify(args[k])}, batch 1 has ${JSON.stringify(value)}`;
  }
  if (Object.keys(args).length !== Object.keys(baseArgs).length) return "the run arguments differ from batch 1's";
  if (JSON.stringify(variables) !== JSON.stringify([["batch_size", batch]]))
    return `variables are ${JSON.stringify(variables)}, not [["batch_size", ${batch}]]`;
  const needed = neededLogrows(base, v);
  if (logrows !== needed) return `logrows ${logrows}, but ${v.num_rows} rows at batch ${batch} need ${needed}`;
  if (JSON.stringify(v.model_input_scales) !== JSON.stringify(base.model_input_scales))
    return "the input scales differ from batch 1's";
  if (JSON.stringify(v.model_output_scales) !== JSON.stringify(base.model_output_scales))
    return "the output scales differ from batch 1's";
  return null;
}

const decompBase = (s: CircuitSettings) => Number((s.run_args as { decomp_base?: number }).decomp_base ?? 1);

export interface VariantOptions {
  engine: Engine;
  srsFile?: string;
  progress?: Progress;
  logger?: Logger;
  /** Inputs for the check against batch 1 (flat rows, the input tensors one after another). */
  samples: number[][];
  /** The build's objective (model.json "objective"): how the variant's inner columns are chosen. */
  objective: TuneObjective;
  /** Use this many inner columns instead of screening (the bench's derived-vs-searched comparison). */
  numInnerCols?: number;
}

/** Build the batch variants `batches` lacks in `model`'s artifact directory; returns the model reloaded. */
export async function buildVariants(model: LoadedModel, batches: readonly number[], opts: VariantOptions): Promise<LoadedModel> {
  const progress = opts.progress ?? silentProgress;
  const logger = opts.logger ?? silentLogger;
  const have = new Set(model.manifest.variants.map((v) => v.batch));
  const todo = batches.filter((n) => n > 1 && !have.has(n));
  if (todo.length === 0) {
    if (batches.some((n) => n > 1)) progress.note(`batch variants ${batches.filter((n) => n > 1).join(", ")}: cached`);
    return model;
  }
  sweepAbandonedBuilds(model.dir);
  for (const batch of todo) {
    const entry = await buildVariant(model, batch, opts, progress);
    logger.info(
      { model: model.manifest.name, batch, logrows: entry.circuit.logrows, timings: entry.timingsMs },
      "batch variant built",
    );
    progress.note(
      `batch ${batch}: logrows ${entry.circuit.logrows}, ${entry.circuit.numRows} rows, ${entry.circuit.numInstances} instances, pk ${(entry.sizes.pk! / 2 ** 20).toFixed(1)} MiB, VKA ${entry.vka.digest.slice(0, 18)}…`,
    );
  }
  return loadArtifact(model.dir);
}

async function buildVariant(model: LoadedModel, batch: number, opts: VariantOptions, progress: Progress): Promise<BatchVariant> {
  const { engine } = opts;
  const dirName = `batch-${batch}`;
  const tmp = join(model.dir, `.tmp-${dirName}-p${process.pid}-${randomBytes(4).toString("hex")}`);
  mkdirSync(tmp);
  const p = (n: string) => join(tmp, n);
  const timings: Record<string, number> = {};
  const timed = async <T>(label: string, key: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await progress.step(`batch ${batch}: ${label}`, work);
    timings[key] = Math.round(performance.now() - t0);
    return r;
  };
  try {
    const rewrite = await timed("the graph with a symbolic batch axis (from network.onnx)", "onnx", () =>
      engine.batchOnnx({ model: model.file("onnx"), out: p("network.onnx"), samples: opts.samples.slice(0, 2) }),
    );
    const baseSettings = JSON.parse(await readFile(model.file("settings"), "utf8")) as CircuitSettings;
    const { settings, screened } = await timed("settings (batch 1's run arguments; inner columns screened)", "settings", () =>
      variantSettings(
        engine,
        { model: p("network.onnx"), base: model.file("settings"), settings: p("settings.json"), batch },
        baseSettings,
        opts.objective,
        opts.numInnerCols,
      ),
    );
    const problem = derivationProblem(baseSettings, settings, batch);
    if (problem) throw new ArtifactError(`batch ${batch}: the variant's settings do not derive from batch 1's: ${problem}`);
    const layout = variantLayout(model.manifest.circuit.instanceLayout, batch);
    const shapes = settings.model_instance_shapes;
    const expected = [...layout.inputs, ...layout.outputs].map((t) => t.shape);
    if (JSON.stringify(shapes) !== JSON.stringify(expected)) {
      throw new InvalidModelError(
        `batch ${batch}: EZKL lays the variant's tensors out as ${JSON.stringify(shapes)}, not ${JSON.stringify(expected)}`,
        {
          hint: "a batch variant needs every input and output to carry the batch on its leading axis; build this model at batch 1 only",
        },
      );
    }
    const logrows = settings.run_args.logrows;
    await timed("compile the circuit", "compile", () =>
      engine.compile({ model: p("network.onnx"), compiled: p("network.ezkl"), settings: p("settings.json") }),
    );
    // --srs names one file, made for batch 1's logrows; a larger variant takes the ceremony file imported for its own.
    const srsFile = srsFileForLogrows(logrows, logrows === model.manifest.srs.logrows ? opts.srsFile : undefined);
    if (!srsFile && (opts.srsFile || model.manifest.srs.provenance === "ceremony")) {
      throw new UserInputError(
        `batch ${batch} needs an SRS for 2^${logrows} rows; batch 1's is for 2^${model.manifest.srs.logrows}`,
        {
          hint: `import the ceremony SRS for it first: zkinfer srs import perpetual-powers-of-tau-raw-${logrows} --logrows ${logrows}`,
        },
      );
    }
    placeFile(srsFile ?? (await ensureDevSrs(engine, logrows)), p("kzg.srs"));
    await timed(`key setup (2^${logrows} rows)`, "setup", () =>
      engine.setup({ compiled: p("network.ezkl"), vk: p("vk.key"), pk: p("pk.key"), srs: p("kzg.srs") }),
    );
    const vka = await buildVka(engine, { vk: p("vk.key"), settings: p("settings.json"), srs: p("kzg.srs"), vka: p("vka.bin") });
    const check = await timed(`every block's outputs vs batch 1 (${batch} inputs)`, "check", () =>
      checkAgainstBatch1(engine, model, p("network.ezkl"), batch, opts.samples, tmp),
    );
    const [settingsH, circuitH, srsH, vkH, pkH, onnxH] = await Promise.all(
      ["settings.json", "network.ezkl", "kzg.srs", "vk.key", "pk.key", "network.onnx"].map((n) => sha256File(p(n))),
    );
    const sizes: Record<string, number> = {};
    for (const [k, n] of Object.entries(VARIANT_FILES)) sizes[k] = statSync(p(n)).size;
    const entry: BatchVariant = {
      batch,
      dir: dirName,
      onnx: { sha256: onnxH!, changed: rewrite.changed },
      hashes: { settings: settingsH!, circuit: circuitH!, srs: srsH!, vk: vkH!, pk: pkH! },
      sizes,
      circuit: {
        logrows,
        numRows: settings.num_rows,
        numInstances: layout.outputs.at(-1)!.offset + layout.outputs.at(-1)!.count,
        instanceLayout: layout,
      },
      block: { inputs: blockOf(layout.inputs, batch), outputs: blockOf(layout.outputs, batch) },
      vka: { file: VARIANT_FILES.vka, digest: vka.digest, words: vka.words.length, ceremonySrs: vka.ceremonySrs },
      srs: { provenance: srsProvenance(srsH!, logrows), sha256: srsH!, logrows },
      numInnerCols: Number(settings.run_args.num_inner_cols),
      objective: opts.objective,
      screened,
      check,
      timingsMs: timings,
    };
    rmSync(p("check"), { recursive: true, force: true });
    const finalDir = join(model.dir, dirName);
    rmSync(finalDir, { recursive: true, force: true }); // a variant directory no manifest names (a crash between rename and manifest)
    renameSync(tmp, finalDir);
    await addToManifest(model.dir, entry);
    return entry;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** The files of a variant directory (the manifest's `files` keys a LoadedModel view of it resolves). */
const VARIANT_FILES = {
  onnx: "network.onnx",
  settings: "settings.json",
  circuit: "network.ezkl",
  srs: "kzg.srs",
  vk: "vk.key",
  pk: "pk.key",
  vka: "vka.bin",
} as const;

async function addToManifest(dir: string, entry: BatchVariant): Promise<void> {
  const current = await readManifest(dir);
  const variants = [...current.variants.filter((v) => v.batch !== entry.batch), entry].sort((a, b) => a.batch - b.batch);
  const tmp = join(dir, `.manifest.json.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  await writeFile(tmp, JSON.stringify({ ...current, variants }, null, 2) + "\n");
  renameSync(tmp, join(dir, "manifest.json"));
}

/**
 * Witness `batch` inputs together in the variant and one by one in the batch-1 circuit: every block's input
 * and output field elements must be identical. Fewer samples than the batch are cycled.
 */
async function checkAgainstBatch1(
  engine: Engine,
  model: LoadedModel,
  circuit: string,
  batch: number,
  samples: number[][],
  tmp: string,
): Promise<BatchVariant["check"]> {
  if (samples.length === 0) throw new ArtifactError("no inputs to check a batch variant with");
  const rows = Array.from({ length: batch }, (_, i) => samples[i % samples.length]!);
  const base = model.manifest.circuit.instanceLayout;
  const counts = base.inputs.map((t) => t.count);
  const alone = await engine.witnessBatch({
    inputs: rows,
    inputCounts: counts,
    compiled: model.file("circuit"),
    scratch: join(tmp, "check-1"),
  });
  const [together] = await engine.witnessBatch({
    inputs: [stackRows(base.inputs, rows, batch)],
    inputCounts: counts.map((c) => c * batch),
    compiled: circuit,
    scratch: join(tmp, "check-n"),
  });
  for (const [kind, tensorsOf] of [
    ["input", (w: { inputs: bigint[][] }) => w.inputs],
    ["output", (w: { outputs: bigint[][] }) => w.outputs],
  ] as const) {
    const all = tensorsOf(together!);
    for (const [i, w] of alone.entries()) {
      for (const [t, tensor] of tensorsOf(w).entries()) {
        const block = all[t]!.slice(i * tensor.length, (i + 1) * tensor.length);
        const at = block.findIndex((v, j) => v !== tensor[j]);
        if (at >= 0) {
          throw new InvalidModelError(
            `batch ${batch}: ${kind} tensor ${t} of block ${i} differs from the same input proved at batch 1 (element ${at})`,
            { hint: "the graph mixes samples across its leading axis, so it has no batch variant: build it at batch 1 only" },
          );
        }
      }
    }
  }
  return { samples: batch, identical: true };
}

/**
 * The flat input of a batch: `rows` (each one request's input, the tensors one after another) stacked per
 * tensor, as EZKL's instances hold them (tensor A of every block, then tensor B of every block). Fewer rows
 * than the batch are padded with zeros: blocks no request claims.
 */
export function stackRows(tensors: readonly TensorLayout[], rows: readonly (readonly number[])[], batch: number): number[] {
  const per = tensors.map((t) => t.count);
  const size = per.reduce((a, b) => a + b, 0);
  if (rows.length === 0 || rows.length > batch)
    throw new UserInputError(`${rows.length} inputs for a batch of ${batch}`, { hint: `give 1 to ${batch} inputs` });
  const bad = rows.findIndex((r) => r.length !== size);
  if (bad >= 0) throw new UserInputError(`input ${bad} has ${rows[bad]!.length} values, the model takes ${size}`);
  const out: number[] = [];
  let at = 0;
  for (const n of per) {
    for (let i = 0; i < batch; i++) out.push(...(rows[i]?.slice(at, at + n) ?? new Array<number>(n).fill(0)));
    at += n;
  }
  return out;
}

/**
 * Why the block layout the registry derives for a version's variants (block i's inputs at i·inputCount, its
 * outputs at N·inputCount + i·outputCount: one input and one output range) would not be this model's; null when
 * it is. With several tensors a side, each tensor's blocks sit tensor by tensor, so the registry would hand a
 * consumer mixed-up outputs: `model register` refuses such variants, and the audit flags them if registered anyway.
 */
export function registeredBlockLayoutProblem(layout: { inputs: readonly unknown[]; outputs: readonly unknown[] }): string | null {
  if (layout.inputs.length === 1 && layout.outputs.length === 1) return null;
  return `${layout.inputs.length} input and ${layout.outputs.length} output tensors`;
}

/**
 * A batch variant as a LoadedModel: the manifest with the variant's hashes, circuit, layout and VKA, its files
 * in the variant directory. Proving, decoding and registering code takes it as it takes the batch-1 model.
 * The variant has no single-model Solidity verifier (batch-8's would exceed EIP-170): the suite verifier checks it.
 */
export function variantModel(model: LoadedModel, batch: number): LoadedModel {
  if (batch === 1) return model;
  const v = model.manifest.variants.find((x) => x.batch === batch);
  if (!v) {
    const have = [1, ...model.manifest.variants.map((x) => x.batch)].join(", ");
    throw new UserInputError(`model '${model.manifest.name}' has no batch-${batch} variant (built: ${have})`, {
      hint: `build it: zkinfer model build <model> --batch ${have},${batch}`,
    });
  }
  const m = model.manifest;
  const manifest: Manifest = {
    ...m,
    hashes: { ...m.hashes, ...v.hashes },
    files: { ...m.files, ...VARIANT_FILES },
    sizes: v.sizes,
    circuit: {
      ...m.circuit,
      logrows: v.circuit.logrows,
      numRows: v.circuit.numRows,
      numInstances: v.circuit.numInstances,
      instanceLayout: v.circuit.instanceLayout,
    },
    vka: v.vka,
    srs: v.srs,
    layout: { ...m.layout, logrows: v.circuit.logrows, numRows: v.circuit.numRows },
    variants: [],
  };
  const dir = join(model.dir, v.dir);
  return {
    dir,
    manifest,
    file(key) {
      if (key === "verifierSource" || key === "verifierArtifact")
        throw new ArtifactError(`batch variants have no single-model verifier (${key}): the suite verifier checks their proofs`);
      return join(dir, manifest.files[key]);
    },
  };
}
