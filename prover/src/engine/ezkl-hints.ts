/**
 * What to do about an EZKL failure, from the text EZKL gives. EZKL's messages name its internals
 * ("Translating proto model", "Undetermined symbol", "General synthesis error"); a model owner needs the
 * step that fixes it. Matched in order; the last entry is the fallback, so every EZKL failure that reaches
 * a user carries a hint line.
 */
const HINTS: { when: RegExp; hint: string }[] = [
  {
    when: /Undetermined symbol|symbol.*not.*(found|defined)/i,
    hint: "the graph has a symbolic dimension EZKL cannot fix: export with static shapes (or a leading batch axis only; `zkinfer model build` maps that one)",
  },
  {
    when: /Translating proto model|Failed analyse|Unimplemented\(|unsupported (op|operation)/i,
    hint: "EZKL cannot translate an op of this graph: check the op it names against EZKL's supported ONNX ops, re-export with opset 13-18 and plain tensor ops (no ai.onnx.ml ops, no loops), or leave that step out of the graph",
  },
  {
    when: /decomposition error|too large to be represented/i,
    hint: "a value in the circuit is outside the range its decomposition covers: calibrate on data like the real inputs (calibration.json), or keep inputs within the range the build recorded",
  },
  {
    when: /General synthesis error|synthesis/i,
    hint: "the witness does not fit the circuit (usually an input outside the calibrated range): check the input against the model's recorded input range",
  },
  {
    when: /out of memory|memory allocation|Cannot allocate/i,
    hint: "the circuit needs more memory than is free: use a smaller model or fewer logrows (see `zkinfer model build --help`)",
  },
];

const FALLBACK =
  "run with ZKINFER_LOG_LEVEL=debug for EZKL's full output; if the model is new, check that it exports plain tensors with standard ONNX ops";

export function ezklHint(op: string, message: string): string {
  const match = HINTS.find((h) => h.when.test(message));
  return match ? match.hint : `in '${op}': ${FALLBACK}`;
}
