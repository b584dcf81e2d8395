import { fixedToFloat } from "../engine/felt.js";
import { InputShapeError } from "../errors.js";
import type { Manifest, TensorLayout } from "./manifest.js";

/**
 * A model's tensors in its public instances. EZKL flattens public inputs then public outputs, each tensor
 * after the one before: the inputs are one contiguous span and the outputs another, which is what the
 * chain sees (one input commitment, one output range); the manifest keeps each tensor's name, shape and
 * scale so that the off-chain side can take and return named tensors.
 */
export interface Span {
  offset: number;
  count: number;
}

const spanOf = (tensors: readonly TensorLayout[]): Span => ({
  offset: tensors[0]!.offset,
  count: tensors.reduce((n, t) => n + t.count, 0),
});

export const inputSpan = (m: Manifest): Span => spanOf(m.circuit.instanceLayout.inputs);
export const outputSpan = (m: Manifest): Span => spanOf(m.circuit.instanceLayout.outputs);

/** Cut a flat array (the tensors one after another, in layout order) into one array per tensor. */
export function splitByTensor<T>(tensors: readonly TensorLayout[], flat: readonly T[]): T[][] {
  const total = tensors.reduce((n, t) => n + t.count, 0);
  if (flat.length !== total) {
    throw new InputShapeError(`${flat.length} values for tensors of ${total} values in all`, {
      hint: `give ${tensors.map((t) => `${t.count} for '${t.name}'`).join(", ")}`,
    });
  }
  const parts: T[][] = [];
  let at = 0;
  for (const t of tensors) {
    parts.push(flat.slice(at, at + t.count));
    at += t.count;
  }
  return parts;
}

/** One decoded tensor: fixed-point integers as the chain holds them, and their real values. */
export interface NamedTensor {
  name: string;
  shape: number[];
  scale: number;
  fixed: bigint[];
  float: number[];
}

/** Name the parts of a flat fixed-point array by the layout's tensors, each at its own scale. */
export function namedTensors(tensors: readonly TensorLayout[], fixed: readonly bigint[]): NamedTensor[] {
  return splitByTensor(tensors, fixed).map((part, i) => {
    const t = tensors[i]!;
    return { name: t.name, shape: t.shape, scale: t.scale, fixed: part, float: part.map((v) => fixedToFloat(v, t.scale)) };
  });
}
