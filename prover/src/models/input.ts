import { InputShapeError, InvalidInputError } from "../errors.js";
import { fixedToFloat, floatToFixed } from "../engine/felt.js";
import { readJson } from "./source.js";
import type { Manifest } from "./manifest.js";

/**
 * An inference input. Accepted file forms: EZKL's {"input_data": [[...]]}, {"input": [...]} or a
 * plain (possibly nested) array of numbers. It is flattened and checked against the model's input
 * shape; `fixed` is what goes on-chain (value * 2^inputScale, rounded as EZKL rounds).
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
  count: number;
  scale: number;
  /** For messages only. */
  shape?: number[];
  /** The circuit's input range: |fixed-point value| <= this (manifest.json inputRange.maxAbsFixed). */
  maxAbsFixed?: bigint;
}

export function inputSpecOf(manifest: Manifest): InputSpec {
  const t = manifest.circuit.instanceLayout.inputs[0]!;
  return {
    model: manifest.name,
    count: t.count,
    scale: t.scale,
    shape: t.shape,
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

export function parseInput(json: unknown, model: Manifest | InputSpec, source = "input"): ModelInput {
  const spec = "circuit" in model ? inputSpecOf(model) : model;
  let body: unknown = json;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const o = body as Record<string, unknown>;
    if ("input_data" in o) body = o.input_data;
    else if ("input" in o) body = o.input;
    else {
      throw new InvalidInputError(`${source} has neither "input_data" nor "input"`, {
        hint: 'write the input as {"input_data": [[...]]} (EZKL\'s form), {"input": [...]} or a plain array',
      });
    }
  }
  const values: number[] = [];
  flatten(body, values, "");
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
