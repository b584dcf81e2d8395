import { InputShapeError, InvalidInputError } from "../errors.js";
import { floatToFixed } from "../engine/felt.js";
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

export function parseInput(json: unknown, manifest: Manifest, source = "input"): ModelInput {
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
  const layout = manifest.circuit.instanceLayout.inputs;
  const expected = layout.reduce((n, t) => n + t.count, 0);
  if (values.length !== expected) {
    const shapes = layout.map((t) => `[${t.shape.join(", ")}]`).join(" + ");
    throw new InputShapeError(
      `${source} has ${values.length} values but model '${manifest.name}' takes ${expected} (shape ${shapes})`,
      {
        hint: `give exactly ${expected} numbers, in row-major order`,
      },
    );
  }
  const scale = manifest.circuit.inputScale;
  const fixed = values.map((v) => floatToFixed(v, scale));
  const [lo, hi] = manifest.circuit.lookupRange;
  const bound = 2n ** 120n; // far beyond any calibrated range: an obviously broken input
  for (const [i, f] of fixed.entries()) {
    if (f > bound || f < -bound) {
      throw new InvalidInputError(`${source} element ${i} (${values[i]}) is far outside the circuit's range`, {
        hint: `model '${manifest.name}' was calibrated for inputs of the size in its calibration data (lookup range ${lo}..${hi})`,
      });
    }
  }
  return { values, fixed };
}

export async function readInputFile(path: string, manifest: Manifest): Promise<ModelInput> {
  return parseInput(await readJson<unknown>(path, "input file"), manifest, path);
}
