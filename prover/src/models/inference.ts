import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Hex } from "viem";
import type { Engine } from "../engine/engine.js";
import { feltFromLeHex, feltToInt } from "../engine/felt.js";
import { ArtifactError, EzklError, InvalidInputError, UserInputError } from "../errors.js";
import { cacheDir } from "../util/paths.js";
import { silentProgress, type Progress } from "../util/progress.js";
import type { Manifest } from "./manifest.js";
import { parseInput, type ModelInput } from "./input.js";
import type { LoadedModel } from "./store.js";
import { inputSpan, namedTensors, outputSpan, splitByTensor, type NamedTensor } from "./tensors.js";
import { stackRows, variantModel } from "./variants.js";

export interface DecodedOutputs {
  /** Fixed-point integers (value * 2^scale), as the chain hands them to a consumer: every output tensor,
   *  one after another in layout order. */
  fixed: bigint[];
  float: number[];
  /** The first output tensor's scale (every output's, for a model with one output). */
  scale: number;
  /** The same values per output tensor, by name, each at its own scale. */
  tensors: NamedTensor[];
}

export interface InferenceProof {
  model: string;
  proofPath: string;
  proof: Hex;
  /** Public instances as the verifier takes them (uint256 field elements): inputs, then outputs. */
  instances: bigint[];
  input: ModelInput;
  outputs: DecodedOutputs;
  timingsMs: { witness: number; prove: number };
}

/** The output part of a proof's public instances, decoded with the model's layout and scale. */
export function decodeOutputs(manifest: Manifest, instances: readonly bigint[]): DecodedOutputs {
  const out = outputSpan(manifest);
  if (instances.length !== manifest.circuit.numInstances) {
    throw new ArtifactError(
      `the proof has ${instances.length} public instances; model '${manifest.name}' has ${manifest.circuit.numInstances}`,
      {
        hint: "this proof is of another model",
      },
    );
  }
  const fixed = instances.slice(out.offset, out.offset + out.count).map(feltToInt);
  const tensors = namedTensors(manifest.circuit.instanceLayout.outputs, fixed);
  return { fixed, float: tensors.flatMap((t) => t.float), scale: tensors[0]!.scale, tensors };
}

/** The input part of a proof's public instances as signed fixed-point integers. */
export function decodeInputs(manifest: Manifest, instances: readonly bigint[]): bigint[] {
  const inp = inputSpan(manifest);
  return instances.slice(inp.offset, inp.offset + inp.count).map(feltToInt);
}

function workDir(): string {
  const dir = join(cacheDir(), "work");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Witness + proof for one input; the proof file is EZKL's proof JSON (so bare EZKL can verify it). */
export async function proveInference(
  engine: Engine,
  model: LoadedModel,
  input: ModelInput,
  opts: { out: string; progress?: Progress },
): Promise<InferenceProof> {
  const progress = opts.progress ?? silentProgress;
  const tag = `${model.manifest.name}-${randomBytes(6).toString("hex")}`;
  const data = join(workDir(), `${tag}.input.json`);
  const witnessPath = join(workDir(), `${tag}.witness.json`);
  try {
    // EZKL's input file holds one flat array per input tensor.
    await writeFile(
      data,
      JSON.stringify({ input_data: splitByTensor(model.manifest.circuit.instanceLayout.inputs, input.values) }),
    );
    let t0 = performance.now();
    const witness = await progress
      .step("witness (run the circuit)", () => engine.witness({ data, compiled: model.file("circuit"), witness: witnessPath }))
      .catch((e: unknown) => {
        throw explainRangeError(e, model.manifest);
      });
    const witnessMs = performance.now() - t0;
    const quantized = witness.inputs.flat().map(feltToInt);
    const mismatch = quantized.findIndex((v, i) => v !== input.fixed[i]);
    if (mismatch >= 0) {
      throw new ArtifactError(
        `input element ${mismatch} quantizes to ${quantized[mismatch]} in EZKL but ${input.fixed[mismatch]} in zkinfer`,
        { hint: "a rounding disagreement between zkinfer and this EZKL version; report it" },
      );
    }
    mkdirSync(dirname(opts.out), { recursive: true });
    t0 = performance.now();
    const result = await progress.step(`prove (2^${model.manifest.circuit.logrows} rows)`, () =>
      engine.prove({
        witness: witnessPath,
        compiled: model.file("circuit"),
        pk: model.file("pk"),
        proof: opts.out,
        srs: model.file("srs"),
      }),
    );
    const proveMs = performance.now() - t0;
    return {
      model: model.manifest.name,
      proofPath: opts.out,
      proof: result.proof,
      instances: result.instances,
      input,
      outputs: decodeOutputs(model.manifest, result.instances),
      timingsMs: { witness: witnessMs, prove: proveMs },
    };
  } finally {
    rmSync(data, { force: true });
    rmSync(witnessPath, { force: true });
  }
}

export interface BatchProof extends InferenceProof {
  batch: number;
  /** Blocks that hold a caller's input (the first `claimed`); the rest are zero padding. */
  claimed: number;
  /** Each claimed block's outputs, decoded with the batch-1 layout: what that request's consumer receives. */
  blocks: DecodedOutputs[];
}

/**
 * One proof of up to `batch` inputs with the model's batch-`batch` variant: the inputs fill the first blocks,
 * the rest are zero padding. Each input is one request's (the batch-1 form: the tensors one after another).
 */
export async function proveBatch(
  engine: Engine,
  model: LoadedModel,
  batch: number,
  inputs: readonly ModelInput[],
  opts: { out: string; progress?: Progress },
): Promise<BatchProof> {
  const variant = variantModel(model, batch);
  const values = stackRows(
    model.manifest.circuit.instanceLayout.inputs,
    inputs.map((i) => i.values),
    batch,
  );
  const proof = await proveInference(engine, variant, parseInput(values, variant.manifest, "batch input"), opts);
  return {
    ...proof,
    batch,
    claimed: inputs.length,
    blocks: decodeBlocks(model.manifest, batch, proof.instances).slice(0, inputs.length),
  };
}

/** Every block's outputs of a batch proof's instances, decoded as the batch-1 model's (block i: request i). */
export function decodeBlocks(manifest: Manifest, batch: number, instances: readonly bigint[]): DecodedOutputs[] {
  const v = manifest.variants.find((x) => x.batch === batch);
  if (!v) throw new ArtifactError(`model '${manifest.name}' has no batch-${batch} variant`);
  if (instances.length !== v.circuit.numInstances) {
    throw new ArtifactError(
      `the proof has ${instances.length} public instances; the batch-${batch} variant has ${v.circuit.numInstances}`,
      {
        hint: "this proof is of another model or batch size",
      },
    );
  }
  return Array.from({ length: batch }, (_, i) => {
    const fixed = v.block.outputs.flatMap((t) =>
      instances.slice(t.offset + i * t.count, t.offset + (i + 1) * t.count).map(feltToInt),
    );
    const tensors = namedTensors(manifest.circuit.instanceLayout.outputs, fixed);
    return { fixed, float: tensors.flatMap((t) => t.float), scale: tensors[0]!.scale, tensors };
  });
}

/**
 * EZKL reports a value that leaves the circuit's range as "General synthesis error" or "decomposition error:
 * integer ... too large to be represented by base ... and n ...". Say what that means for this model.
 */
export function explainRangeError(e: unknown, manifest: Manifest): unknown {
  if (!(e instanceof EzklError) || !/General synthesis error|decomposition error|too large to be represented/.test(e.message))
    return e;
  const range = manifest.inputRange;
  return new InvalidInputError(`model '${manifest.name}' cannot hold this input: a value inside the circuit leaves its range`, {
    hint: range
      ? `the circuit was shown to hold inputs like the model's own data up to |x| <= ${range.maxAbs}; an input far from that data can overflow an intermediate value — bring it closer to the calibration data, or rebuild with calibration data like it`
      : "rebuild the model with calibration data that covers such inputs",
    details: e.message,
    cause: e,
  });
}

/** The parts of EZKL's proof JSON zkinfer reads. */
export interface EzklProofFile {
  instances: string[][];
  proof: number[] | string;
  hex_proof?: string;
  [key: string]: unknown;
}

export async function readProofFile(path: string): Promise<EzklProofFile> {
  let parsed: EzklProofFile;
  try {
    parsed = JSON.parse(await readFile(path, "utf8")) as EzklProofFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw new UserInputError(`proof file not found: ${path}`, { hint: "give the path `zkinfer prove` printed" });
    throw new UserInputError(`${path} is not a JSON proof file`, { hint: "give a proof file written by `zkinfer prove`" });
  }
  if (!Array.isArray(parsed.instances) || !parsed.proof) {
    throw new UserInputError(`${path} is not an EZKL proof (no "instances" or "proof")`, {
      hint: "give a proof file written by `zkinfer prove`",
    });
  }
  return parsed;
}

export interface VerifyResult {
  valid: boolean;
  reason: string | null;
  instances: bigint[];
  outputs: DecodedOutputs | null;
}

/** Verify a proof file off-chain against a model's verifying key. */
export async function verifyProofFile(engine: Engine, model: LoadedModel, proofPath: string): Promise<VerifyResult> {
  const proof = await readProofFile(proofPath);
  const instances = proof.instances.flat().map(feltFromLeHex);
  const result = await engine.verify({
    proof: proofPath,
    settings: model.file("settings"),
    vk: model.file("vk"),
    srs: model.file("srs"),
  });
  let outputs: DecodedOutputs | null = null;
  if (instances.length === model.manifest.circuit.numInstances) outputs = decodeOutputs(model.manifest, instances);
  const reason =
    result.valid || instances.length === model.manifest.circuit.numInstances
      ? result.reason
      : `the proof has ${instances.length} public instances; model '${model.manifest.name}' has ${model.manifest.circuit.numInstances} (a proof of another model?)`;
  return { valid: result.valid, reason, instances, outputs };
}
