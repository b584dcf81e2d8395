import { existsSync, mkdirSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CalibrationTarget, CircuitSettings, Engine, LayoutArgs, OnnxInfo } from "../engine/engine.js";
import { floatToFixed } from "../engine/felt.js";
import { InvalidModelError, isZkinferError, ZkinferError } from "../errors.js";
import type { Logger } from "../util/logger.js";
import type { Progress } from "../util/progress.js";

/**
 * The settings search behind `zkinfer model build`: EZKL's calibration leaves small models in circuits many
 * times larger than they need (its decomposition base 16384 needs a 2^14-row range table, so digits-mlp's
 * 1,756 rows land at logrows 15). The layout knobs — decomposition base and legs, inner columns, and the
 * logrows they imply — change how the circuit is laid out, not what it computes: at the same scales the
 * outputs are bit-identical. So the search keeps EZKL's scales (calibrated on the owner's data) and its
 * decomposition range (base^legs never narrower than EZKL's, widened when the data needs it), screens every
 * layout cheaply (EZKL's gen_settings counts the rows in milliseconds; logrows follows analytically from the
 * rows, the range table and the lookup tables), and measures only the few predicted best for real: EZKL's
 * calibration with the layout fixed, key setup, a proof of the sample input (time, peak memory, proof size),
 * off-chain verification, and the data's witnesses staying in range. The winner is the best measured
 * candidate by the objective; the accuracy check on held-out data follows in the build, and a candidate that
 * fails it gives way to the next.
 */

export type TuneMode = "on" | "off";
/** What "best" means: prove time (default), the prover's peak memory, or the proof's size (calldata, gas). */
export type TuneObjective = "proveTime" | "memory" | "proofSize";
export const TUNE_OBJECTIVES: readonly TuneObjective[] = ["proveTime", "memory", "proofSize"];

export interface TuneOptions {
  mode: TuneMode;
  /** Candidates measured with a real proof (the rest are only screened). */
  maxMeasured: number;
  /** Stop starting new measurements once the search has run this long. */
  budgetMs: number;
  objective: TuneObjective;
}

export const DEFAULT_TUNE: TuneOptions = { mode: "on", maxMeasured: 2, budgetMs: 30_000, objective: "proveTime" };

/** One layout the search looked at (manifest.json's tuning.candidates). */
export interface Candidate {
  id: string;
  decompBase: number;
  decompLegs: number;
  numInnerCols: number;
  inputScale: number;
  paramScale: number;
  numRows: number;
  logrows: number;
  /** screened: rows counted, logrows predicted; measured: proved; rejected: failed a check (reason). */
  status: "screened" | "measured" | "rejected";
  reason?: string;
  proveMs?: number;
  setupMs?: number;
  pkBytes?: number;
  vkBytes?: number;
  proofBytes?: number;
  peakRssBytes?: number;
}

/** Rows EZKL keeps back from 2^logrows for blinding factors (measured: 4,046 rows fit 2^12; a 2^12 table does not). */
const RESERVED_ROWS = 32;
/** The decomposition bases tried (powers of two: the range table has `base` rows). */
const BASES = [16384, 8192, 4096, 2048, 1024, 512, 256, 128, 64, 32];
export const INNER_COLS = [1, 2, 4, 8];
/** Never widen the decomposition by more than this many bits over EZKL's when the data needs it. */
const MAX_WIDEN_BITS = 16;

const log2ceil = (n: number) => Math.ceil(Math.log2(Math.max(2, n)));

/** The smallest logrows that holds the circuit's rows, the decomposition's range table and the lookup tables. */
export function predictLogrows(numRows: number, decompBase: number, lookupRange: [number, number]): number {
  const lookup = lookupRange[1] - lookupRange[0];
  return log2ceil(Math.max(numRows, decompBase, lookup) + RESERVED_ROWS);
}

/** The decomposition's range in bits: a value's magnitude must stay below base^legs. */
export const rangeBits = (base: number, legs: number) => legs * Math.log2(base);

/** The files of one measured layout, in its own directory. */
export interface CandidateFiles {
  dir: string;
  settings: string;
  circuit: string;
  vk: string;
  pk: string;
  srs: string;
}

export interface MeasuredCandidate {
  candidate: Candidate;
  files: CandidateFiles;
  settings: CircuitSettings;
}

export interface TuneContext {
  engine: Engine;
  onnx: string;
  onnxInfo: OnnxInfo;
  calibration: string;
  target: CalibrationTarget;
  /** EZKL's own calibration: the scales and the decomposition range the search starts from. */
  baseline: CircuitSettings;
  /** The owner's inputs (sample first): each measured layout must witness all of them in range. */
  probes: number[][];
  sampleInput: number[];
  /** The input tensors' sizes: each owner row is these tensors one after another (one tensor: undefined). */
  inputCounts?: number[];
  dir: string;
  options: TuneOptions;
  /** The SRS for a logrows (a cached dev SRS or the ceremony file). */
  srsFor(logrows: number): Promise<string>;
  progress: Progress;
  logger: Logger;
}

const idOf = (b: number, l: number, c: number, s: number) => `b${b}-l${l}-c${c}-s${s}`;

/**
 * Screen the layouts at one decomposition range (bits): rows from gen_settings, logrows predicted. Rows grow as
 * the base shrinks (more legs), so the largest base gives a number of inner columns its fewest rows: when even
 * those cannot beat `maxCost`, the smaller bases at that column count are not asked about (a CNN's
 * gen_settings takes ~0.2 s a call).
 */
async function screen(ctx: TuneContext, minBits: number, maxCost: number): Promise<Candidate[]> {
  const scale = ctx.baseline.run_args.input_scale;
  const paramScale = ctx.baseline.run_args.param_scale;
  const lookupRange = ctx.baseline.run_args.lookup_range;
  const out: Candidate[] = [];
  mkdirSync(join(ctx.dir, "screen"), { recursive: true });
  for (const cols of INNER_COLS) {
    for (const [i, base] of BASES.entries()) {
      const legs = Math.ceil(minBits / Math.log2(base) - 1e-9);
      const layout: LayoutArgs = { decompBase: base, decompLegs: legs, numInnerCols: cols, inputScale: scale, paramScale };
      const id = idOf(base, legs, cols, scale);
      const s = await ctx.engine.genSettings({ model: ctx.onnx, settings: join(ctx.dir, "screen", `${id}.json`), layout });
      const c: Candidate = {
        id,
        decompBase: base,
        decompLegs: legs,
        numInnerCols: cols,
        inputScale: scale,
        paramScale,
        numRows: s.num_rows,
        logrows: predictLogrows(s.num_rows, base, lookupRange),
        status: "screened",
      };
      out.push(c);
      if (i === 0 && predictedCost({ ...c, logrows: predictLogrows(s.num_rows, 1, lookupRange) }) >= maxCost) break;
    }
  }
  return out;
}

/**
 * Predicted proving cost: the prover commits to every column over 2^logrows rows, and inner columns add
 * advice and lookup columns. The weights are the proving key's bytes per row measured here on digits-mlp
 * (2.9 KB at 1 inner column, 4.2 KB at 2, 10.7 KB at 4, 34 KB at 8); prove time tracked them.
 */
const COLUMN_WEIGHT: Record<number, number> = { 1: 2.9, 2: 4.2, 4: 10.7, 8: 34 };
export const predictedCost = (c: Pick<Candidate, "logrows" | "numInnerCols">) =>
  2 ** c.logrows * (COLUMN_WEIGHT[c.numInnerCols] ?? 4 * c.numInnerCols);

/** The best few layouts, one per (logrows, inner columns) shape: the fewest rows, then the widest range. */
export function shortlist(cands: Candidate[], n: number): Candidate[] {
  const byShape = new Map<string, Candidate>();
  const better = (a: Candidate, b: Candidate) =>
    a.numRows !== b.numRows
      ? a.numRows < b.numRows
      : rangeBits(a.decompBase, a.decompLegs) > rangeBits(b.decompBase, b.decompLegs);
  for (const c of cands) {
    const k = `${c.logrows}/${c.numInnerCols}`;
    const cur = byShape.get(k);
    if (!cur || better(c, cur)) byShape.set(k, c);
  }
  return [...byShape.values()].sort((a, b) => predictedCost(a) - predictedCost(b) || a.numInnerCols - b.numInnerCols).slice(0, n);
}

/** Witness every probe input; the first failure, or null when all stay in range. */
export async function probeWitnesses(
  engine: Engine,
  compiled: string,
  probes: number[][],
  scratch: string,
  inputCounts?: number[],
): Promise<string | null> {
  try {
    await engine.witnessBatch({ inputs: probes, compiled, scratch, ...(inputCounts ? { inputCounts } : {}) });
    return null;
  } catch (e) {
    if (isZkinferError(e)) return e.shortMessage;
    throw e;
  }
}

async function measure(ctx: TuneContext, c: Candidate): Promise<MeasuredCandidate> {
  const dir = join(ctx.dir, c.id);
  mkdirSync(dir, { recursive: true });
  const files: CandidateFiles = {
    dir,
    settings: join(dir, "settings.json"),
    circuit: join(dir, "network.ezkl"),
    vk: join(dir, "vk.key"),
    pk: join(dir, "pk.key"),
    srs: "",
  };
  const e = ctx.engine;
  await e.genSettings({
    model: ctx.onnx,
    settings: files.settings,
    layout: {
      decompBase: c.decompBase,
      decompLegs: c.decompLegs,
      numInnerCols: c.numInnerCols,
      inputScale: c.inputScale,
      paramScale: c.paramScale,
    },
  });
  // EZKL's own calibration with the layout fixed: the authoritative logrows and lookup ranges on the owner's data.
  const settings = await e.calibrate({
    data: ctx.calibration,
    model: ctx.onnx,
    settings: files.settings,
    target: ctx.target,
    scales: [c.inputScale],
  });
  c.logrows = settings.run_args.logrows;
  c.numRows = settings.num_rows;
  await e.compile({ model: ctx.onnx, compiled: files.circuit, settings: files.settings });
  const outOfRange = await probeWitnesses(e, files.circuit, ctx.probes, join(dir, "probe"), ctx.inputCounts);
  if (outOfRange) throw new CandidateRejected(`the owner's data leaves the circuit's range (${outOfRange})`);
  files.srs = await ctx.srsFor(c.logrows);
  let t0 = performance.now();
  await e.setup({ compiled: files.circuit, vk: files.vk, pk: files.pk, srs: files.srs });
  c.setupMs = Math.round(performance.now() - t0);
  const data = join(dir, "sample.json");
  await writeFile(data, JSON.stringify({ input_data: splitRow(ctx.sampleInput, ctx.inputCounts) }));
  await e.witness({ data, compiled: files.circuit, witness: join(dir, "sample.witness.json") });
  t0 = performance.now();
  const proof = await e.prove({
    witness: join(dir, "sample.witness.json"),
    compiled: files.circuit,
    pk: files.pk,
    proof: join(dir, "sample.proof.json"),
    srs: files.srs,
    measurePeak: true,
  });
  c.proveMs = Math.round(performance.now() - t0);
  const v = await e.verify({ proof: join(dir, "sample.proof.json"), settings: files.settings, vk: files.vk, srs: files.srs });
  if (!v.valid) throw new CandidateRejected(`its proof of the sample input does not verify (${v.reason})`);
  c.pkBytes = statSync(files.pk).size;
  c.vkBytes = statSync(files.vk).size;
  c.proofBytes = (proof.proof.length - 2) / 2;
  if (proof.peakRssBytes !== undefined) c.peakRssBytes = proof.peakRssBytes;
  c.status = "measured";
  return { candidate: c, files, settings };
}

class CandidateRejected extends Error {}

const objectiveValue = (c: Candidate, o: TuneObjective): number =>
  o === "memory"
    ? (c.peakRssBytes ?? c.pkBytes ?? Infinity)
    : o === "proofSize"
      ? (c.proofBytes ?? Infinity)
      : (c.proveMs ?? Infinity);

export interface TuneResult {
  /** Measured candidates, best first by the objective. */
  ranked: MeasuredCandidate[];
  /** Every candidate looked at (screened, measured, rejected). */
  candidates: Candidate[];
  /** The decomposition range (bits) the measured candidates cover. */
  rangeBits: number;
  searchMs: number;
}

/** Run the search. Throws only when no layout holds the owner's data even after widening. */
export async function tuneCircuit(ctx: TuneContext): Promise<TuneResult> {
  const started = performance.now();
  const base = ctx.baseline.run_args as CircuitSettings["run_args"] & { decomp_base: number; decomp_legs: number };
  const ezklBits = rangeBits(base.decomp_base, base.decomp_legs);
  const all: Candidate[] = [];
  const ezklCost = predictedCost({
    logrows: base.logrows,
    numInnerCols: (base as { num_inner_cols?: number }).num_inner_cols ?? 2,
  } as Candidate);
  for (let widen = 0; widen <= MAX_WIDEN_BITS; widen += 4) {
    const bits = ezklBits + widen;
    const screened = await screen(ctx, bits, widen === 0 ? ezklCost : Infinity);
    all.push(...screened);
    // At EZKL's own range, only layouts predicted cheaper than EZKL's are worth a proof: EZKL's stays the fallback.
    const best = shortlist(widen === 0 ? screened.filter((c) => predictedCost(c) < ezklCost) : screened, ctx.options.maxMeasured);
    if (best.length === 0) {
      ctx.progress.note(`screened ${screened.length} layouts: none is predicted cheaper than EZKL's (logrows ${base.logrows})`);
      return { ranked: [], candidates: all, rangeBits: bits, searchMs: Math.round(performance.now() - started) };
    }
    ctx.logger.info(
      { rangeBits: bits, screened: screened.length, shortlist: best.map((c) => `${c.id}@k${c.logrows}`) },
      "tune: screened layouts",
    );
    ctx.progress.note(
      `screened ${screened.length} layouts at a 2^${Math.round(bits)} range; measuring ${best.map((c) => `${c.id} (k${c.logrows})`).join(", ")}`,
    );
    const measured: MeasuredCandidate[] = [];
    for (const c of best) {
      if (measured.length > 0 && performance.now() - started > ctx.options.budgetMs) {
        c.reason = "not measured: the search's time budget ran out";
        continue;
      }
      ctx.progress.note(`  ${c.id}: calibrate, compile, key setup (2^${c.logrows} rows predicted), prove the sample input ...`);
      try {
        const m = await measure(ctx, c);
        measured.push(m);
        ctx.logger.info({ candidate: c }, "tune: measured");
        ctx.progress.note(
          `  ${c.id}: logrows ${c.logrows}, ${c.numRows} rows, prove ${c.proveMs} ms, pk ${(c.pkBytes! / 1e6).toFixed(1)} MB` +
            (c.peakRssBytes ? `, peak RSS ${(c.peakRssBytes / 1e6).toFixed(0)} MB` : ""),
        );
      } catch (e) {
        if (!(e instanceof CandidateRejected) && !(e instanceof ZkinferError)) throw e;
        c.status = "rejected";
        c.reason = e instanceof ZkinferError ? e.shortMessage : e.message;
        ctx.logger.info({ candidate: c }, "tune: rejected");
        ctx.progress.note(`  ${c.id}: rejected (${c.reason})`);
      }
    }
    if (measured.length) {
      measured.sort(
        (a, b) => objectiveValue(a.candidate, ctx.options.objective) - objectiveValue(b.candidate, ctx.options.objective),
      );
      // One proof's time on a shared machine is noisy: within 20%, the layout predicted cheaper wins.
      const [first, second] = measured;
      if (
        ctx.options.objective === "proveTime" &&
        first &&
        second &&
        objectiveValue(second.candidate, "proveTime") <= 1.2 * objectiveValue(first.candidate, "proveTime") &&
        predictedCost(second.candidate) < predictedCost(first.candidate)
      )
        measured.splice(0, 2, second, first);
      return { ranked: measured, candidates: all, rangeBits: bits, searchMs: Math.round(performance.now() - started) };
    }
    ctx.progress.note(`no layout at a 2^${Math.round(bits)} range holds the owner's data: widening the decomposition`);
  }
  throw new InvalidModelError(
    `no circuit layout holds the model's own data: the sample or calibration inputs leave every decomposition range up to 2^${Math.round(ezklBits + MAX_WIDEN_BITS)}`,
    {
      hint: "check the calibration data and input.json for outliers, or lower the scales (a smaller --target resources circuit)",
      details: all
        .filter((c) => c.reason)
        .map((c) => `${c.id}: ${c.reason}`)
        .slice(0, 3)
        .join("; "),
    },
  );
}

/** Read the owner's inputs: the sample input, held-out inputs and calibration rows (split by the input size). */
export async function ownerInputs(
  files: { sample: string | null; heldout: string | null; calibration: string | null },
  count: number,
): Promise<{ sample: number[] | null; heldout: number[][]; calibration: number[][] }> {
  const read = async (p: string | null) => (p && existsSync(p) ? (JSON.parse(await readFile(p, "utf8")) as unknown) : null);
  const flat = (v: unknown): number[] =>
    Array.isArray(v) ? v.flat(Infinity as 1).filter((x): x is number => typeof x === "number") : [];
  const rows = (xs: number[]) => {
    const out: number[][] = [];
    for (let i = 0; i + count <= xs.length; i += count) out.push(xs.slice(i, i + count));
    return out;
  };
  const sampleJson = (await read(files.sample)) as { input_data?: unknown; input?: unknown } | unknown[] | null;
  const sampleFlat = flat(Array.isArray(sampleJson) ? sampleJson : (sampleJson?.input_data ?? sampleJson?.input));
  const heldoutJson = (await read(files.heldout)) as { inputs?: unknown[] } | null;
  const calJson = (await read(files.calibration)) as { input_data?: unknown[] } | null;
  return {
    sample: sampleFlat.length === count ? sampleFlat : null,
    heldout: (heldoutJson?.inputs ?? []).map(flat).filter((r) => r.length === count),
    calibration: (calJson?.input_data ?? []).flatMap((t) => rows(flat(t))),
  };
}

/** The input range a compiled circuit supports, found with real witnesses. */
export interface InputRange {
  /** |x| (float) up to which every element of an input is accepted. */
  maxAbs: number;
  /** The same bound as a fixed-point integer at the input scale (what is checked on-chain inputs). */
  maxAbsFixed: string;
  /** The largest |x| in the owner's data (calibration, sample, held-out). */
  dataMaxAbs: number;
  /** maxAbs / dataMaxAbs: how far beyond the owner's data the circuit was shown to hold. */
  headroom: number;
  /** The decomposition's bound base^legs on any fixed-point value in the circuit. */
  decompositionBound: string;
}

const HEADROOM_STEP = 4;
const MAX_HEADROOM = 4 ** 10;

/**
 * Scale the owner's inputs up by 4x at a time and witness them until the circuit's range gives out; the last
 * factor that held, times the data's largest |x|, is the recorded input range. Every element of an accepted
 * input is at most that, so inputs like the owner's up to that magnitude stay in range (an adversarial input
 * inside the box can still overflow an intermediate value: the witness then fails with a clear error).
 */
export async function measureInputRange(
  engine: Engine,
  compiled: string,
  settings: CircuitSettings,
  probes: number[][],
  scratch: string,
  inputCounts?: number[],
): Promise<InputRange> {
  const ra = settings.run_args as CircuitSettings["run_args"] & { decomp_base: number; decomp_legs: number };
  const bound = BigInt(ra.decomp_base) ** BigInt(ra.decomp_legs);
  const scale = settings.model_input_scales[0]!;
  const dataMaxAbs = Math.max(...probes.flat().map(Math.abs));
  if (!(dataMaxAbs > 0)) {
    const maxAbs = Number(bound - 1n) / 2 ** scale;
    return {
      maxAbs,
      maxAbsFixed: (bound - 1n).toString(),
      dataMaxAbs: 0,
      headroom: Infinity,
      decompositionBound: bound.toString(),
    };
  }
  // The sample and the rows holding the data's extremes stress the range the most.
  const extreme = probes.reduce((best, r) => (Math.max(...r.map(Math.abs)) > Math.max(...best.map(Math.abs)) ? r : best));
  const set = probes[0] === extreme ? [extreme] : [probes[0]!, extreme];
  let ok = 1;
  for (let h = HEADROOM_STEP; h <= MAX_HEADROOM; h *= HEADROOM_STEP) {
    const fixedMax = floatToFixed(dataMaxAbs * h, scale);
    if (fixedMax >= bound) break;
    const fail = await probeWitnesses(
      engine,
      compiled,
      set.map((r) => r.map((v) => v * h)),
      scratch,
      inputCounts,
    );
    if (fail) break;
    ok = h;
  }
  const maxAbs = dataMaxAbs * ok;
  return {
    maxAbs,
    maxAbsFixed: floatToFixed(maxAbs, scale).toString(),
    dataMaxAbs,
    headroom: ok,
    decompositionBound: bound.toString(),
  };
}

/** One warning line per construct that makes the circuit large, with its measured cost and what to do. */
export function circuitWarnings(onnxInfo: OnnxInfo, settings: CircuitSettings): string[] {
  const w: string[] = [];
  const ra = settings.run_args;
  const k = ra.logrows;
  const lookupSpan = ra.lookup_range[1] - ra.lookup_range[0];
  const lookups = ((settings.required_lookups ?? []) as unknown[]).map((l) =>
    typeof l === "string" ? l : Object.keys(l as object)[0]!,
  );
  const ops = onnxInfo.opTypes ?? {};
  const exp = ["Softmax", "LogSoftmax", "Exp", "Sigmoid", "Tanh", "Erf", "Log", "Pow"].filter((op) => ops[op]);
  const tableBits = log2ceil(lookupSpan + RESERVED_ROWS);
  if (exp.length && lookupSpan > 0) {
    w.push(
      `${exp.join("/")} in the model: its lookup table spans ${lookupSpan} values (2^${tableBits} rows) and sets logrows to ${k}; ` +
        `export the logits instead (drop the final ${exp[0]}: argmax is unchanged) or compute it outside the circuit`,
    );
  } else if (lookupSpan >= 2 ** 16) {
    w.push(
      `lookups (${lookups.join(", ") || "non-linear ops"}) span ${lookupSpan} values (2^${tableBits} rows), which sets logrows to ${k}; ` +
        "replace the non-linear op or narrow its input range (lower scales)",
    );
  }
  if (ra.input_scale > 16 || ra.param_scale > 16) {
    w.push(
      `very large scales (input ${ra.input_scale}, params ${ra.param_scale}): intermediate values need 2^${ra.input_scale + ra.param_scale} and more; ` +
        "calibrate with --target resources or give calibration data of the real input range",
    );
  }
  if (k >= 18) {
    w.push(`the circuit needs 2^${k} rows (${settings.num_rows} used): expect a proving key of GBs and proofs of minutes`);
  }
  return w;
}

/** EZKL's input file form of one flat row: one array per input tensor. */
function splitRow(row: number[], inputCounts?: number[]): number[][] {
  if (!inputCounts) return [row];
  let at = 0;
  return inputCounts.map((n) => row.slice(at, (at += n)));
}
