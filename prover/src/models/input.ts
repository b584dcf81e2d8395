import { InputShapeError, InvalidInputError } from "../errors.js";
import { fixedToFloat, floatToFixed } from "../engine/felt.js";
import { readJson } from "./source.js";
import type { Manifest } from "./manifest.js";

/**
 * An inference input. Accepted file forms: EZKL's {"input_data": [[...]]} (one array per input tensor),
 * {"input": [...]}, a plain (possibly nested) array of numbers, or named tensors
 * {"inputs": {"<name>": [...], ...}}. It is flattened (input tensors one after another, in the model's
 * order) and checked against the model's input shapes; `fixed` is what goes on-chain
 * (value * 2^inputScale, rounded as EZKL rounds).
 */
export interface ModelInput {
  values: number[];
  fixed: bigint[];
}

function flatten(value: unknown, out: number[], where: string): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) flatten(v, out, `${where}[${i}]`);
    return;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new InvalidInputError(`input element ${where} is ${JSON.stringify(value)}, not a finite number`, {
      hint: 'an input is an array of numbers, e.g. {"input_data": [[0.1, 0.2, ...]]}',
    });
  }
  out.push(value);
}

/** What parsing an input needs to know of a model (from a manifest, or from the registry on-chain). */
export interface InputSpec {
  model: string;
  /** All input values, every tensor's. */
  count: number;
  scale: number;
  /** For messages only. */
  shape?: number[];
  /** The circuit's input range: |fixed-point value| <= this (manifest.json inputRange.maxAbsFixed). */
  maxAbsFixed?: bigint;
  /** The input tensors, in order (from a manifest; the chain knows only the total count). */
  tensors?: { name: string; count: number }[];
}

export function inputSpecOf(manifest: Manifest): InputSpec {
  const inputs = manifest.circuit.instanceLayout.inputs;
  return {
    model: manifest.name,
    count: inputs.reduce((n, t) => n + t.count, 0),
    scale: inputs[0]!.scale, // EZKL quantises every input at the one input scale
    shape: inputs.length === 1 ? inputs[0]!.shape : undefined,
    tensors: inputs.map((t) => ({ name: t.name, count: t.count })),
    ...(manifest.inputRange ? { maxAbsFixed: BigInt(manifest.inputRange.maxAbsFixed) } : {}),
  };
}

/**
 * Refuse an input the circuit cannot hold: every element within the range the build measured. The one check
 * behind `zkinfer prove`, the HTTP API, the watcher and the SDK, so an input outside it never reaches EZKL
 * (whose own message is "General synthesis error").
 */
export function checkInputRange(spec: InputSpec, fixed: readonly bigint[]): void {
  const bound = spec.maxAbsFixed;
  if (bound === undefined) return;
  const i = fixed.findIndex((v) => v > bound || v < -bound);
  if (i < 0) return;
  const limit = fixedToFloat(bound, spec.scale);
  throw new InvalidInputError(
    `input element ${i} (${fixedToFloat(fixed[i]!, spec.scale)}) is outside the circuit's range (|x| <= ${limit})`,
    {
      hint: `model '${spec.model}' was built for inputs with |x| <= ${limit}; scale the input into that range, or rebuild the model with calibration data that covers it`,
    },
  );
}

/** {"inputs": {"a": [...], "b": [...]}} -> the tensors' values in the model's order. */
function fromNamed(named: Record<string, unknown>, spec: InputSpec, source: string): unknown[] {
  const tensors = spec.tensors ?? [];
  const names = tensors.map((t) => t.name);
  const unknown = Object.keys(named).filter((k) => !names.includes(k));
  const missing = names.filter((n) => !(n in named));
  if (!tensors.length || unknown.length || missing.length) {
    throw new InvalidInputError(
      `${source} names ${unknown.length ? `unknown tensor(s) ${unknown.map((n) => `'${n}'`).join(", ")}` : `no value for ${missing.map((n) => `'${n}'`).join(", ") || "any tensor"}`}`,
      { hint: `model '${spec.model}' takes ${names.map((n) => `'${n}'`).join(", ") || "its input as an array"}` },
    );
  }
  return tensors.map((t) => named[t.name]);
}

export function parseInput(json: unknown, model: Manifest | InputSpec, source = "input"): ModelInput {
  const spec = "circuit" in model ? inputSpecOf(model) : model;
  let body: unknown = json;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const o = body as Record<string, unknown>;
    if ("input_data" in o) body = o.input_data;
    else if ("input" in o) body = o.input;
    else if ("inputs" in o && o.inputs && typeof o.inputs === "object" && !Array.isArray(o.inputs)) {
      body = fromNamed(o.inputs as Record<string, unknown>, spec, source);
    } else {
      throw new InvalidInputError(`${source} has neither "input_data", "input" nor named "inputs"`, {
        hint: 'write the input as {"input_data": [[...]]} (EZKL\'s form), {"input": [...]}, a plain array or {"inputs": {"<tensor>": [...]}}',
      });
    }
  }
  const values: number[] = [];
  flatten(body, values, "");
  // One array per tensor (EZKL's form with several inputs, or named tensors): check each tensor's length.
  const tensors = spec.tensors ?? [];
  if (tensors.length > 1 && Array.isArray(body) && body.length === tensors.length) {
    for (const [i, t] of tensors.entries()) {
      const part: number[] = [];
      flatten(body[i], part, `[${i}]`);
      if (part.length !== t.count) {
        throw new InputShapeError(
          `${source}: tensor '${t.name}' has ${part.length} values but model '${spec.model}' takes ${t.count}`,
          {
            hint: `give ${tensors.map((x) => `${x.count} for '${x.name}'`).join(", ")}`,
          },
        );
      }
    }
  }
  if (values.length !== spec.count) {
    throw new InputShapeError(
      `${source} has ${values.length} values but model '${spec.model}' takes ${spec.count}${spec.shape ? ` (shape [${spec.shape.join(", ")}])` : ""}`,
      { hint: `give exactly ${spec.count} numbers, in row-major order` },
    );
  }
  const fixed = values.map((v) => floatToFixed(v, spec.scale));
  checkInputRange(spec, fixed);
  return { values, fixed };
}

export async function readInputFile(path: string, model: Manifest | InputSpec): Promise<ModelInput> {
  return parseInput(await readJson<unknown>(path, "input file"), model, path);
}
