import type { TensorLayout } from "../models/manifest.js";
import { parseInput, type InputSpec } from "../models/input.js";
import { namedTensors, type NamedTensor } from "../models/tensors.js";

/**
 * Floats to the fixed-point integers a request carries, and back: what a dApp's TypeScript needs around
 * `requestInference`. `input` takes every form `zkinfer prove` takes: a flat or nested array, EZKL's
 * {"input_data": [[...]]}, or named tensors {"inputs": {"<tensor>": [...]}} (names need `spec.tensors`,
 * which a build's manifest has and the chain does not). Each value becomes round(x * 2^scale) as EZKL
 * rounds it; a value outside the circuit's recorded range is refused before anything is sent.
 */
export function encodeInput(input: unknown, spec: InputSpec): bigint[] {
  return parseInput(input, spec, "input").fixed;
}

/** A fulfilment's outputs (fixed point, every output tensor in layout order) per named tensor, as floats. */
export function decodeOutputTensors(outputs: readonly bigint[], tensors: readonly TensorLayout[]): NamedTensor[] {
  return namedTensors(tensors, outputs);
}
