import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ArtifactError } from "../errors.js";

/** manifest.json: every hash of the trust chain, the circuit's shape, and how the build went. */
export const MANIFEST_SCHEMA_VERSION = 2;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const tensorLayout = z.object({
  name: z.string(),
  shape: z.array(z.number().int()),
  /** Index of the tensor's first element in the flattened public instances. */
  offset: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  /** Fixed-point scale: value = integer / 2^scale. */
  scale: z.number().int(),
});

const layout = z.object({
  logrows: z.number().int(),
  numRows: z.number().int(),
  decompBase: z.number().int(),
  decompLegs: z.number().int(),
  numInnerCols: z.number().int(),
  inputScale: z.number().int(),
  paramScale: z.number().int(),
});
const optInt = z.number().int().optional();
const candidate = z.object({
  id: z.string(),
  decompBase: z.number().int(),
  decompLegs: z.number().int(),
  numInnerCols: z.number().int(),
  inputScale: z.number().int(),
  paramScale: z.number().int(),
  numRows: z.number().int(),
  logrows: z.number().int(),
  status: z.enum(["screened", "measured", "rejected"]),
  reason: z.string().optional(),
  proveMs: optInt,
  setupMs: optInt,
  pkBytes: optInt,
  vkBytes: optInt,
  proofBytes: optInt,
  peakRssBytes: optInt,
});

/** Where one request's tensor sits in a batch variant's instances: block i starts at offset + i * count. */
const blockTensor = z.object({ name: z.string(), offset: z.number().int().nonnegative(), count: z.number().int().positive() });

/** A build's verifying-key artifact (VKA): what the suite verifier checks proofs against. */
const vkaSchema = z.object({
  file: z.string(),
  digest: z.string().regex(/^0x[0-9a-f]{64}$/),
  words: z.number().int().positive(),
  /** Whether its SRS G2 points are the public ceremony's (what the registry records on-chain). */
  ceremonySrs: z.boolean(),
});

/** Where an SRS came from: the public ceremony (SHA-256 = EZKL's pinned hash for k) or generated here. */
const srsSchema = z.object({ provenance: z.enum(["ceremony", "dev"]), sha256: hex64, logrows: z.number().int() });

/**
 * A batch variant: the version's ONNX (the same model hash) with its leading axis made symbolic, compiled at
 * EZKL batch_size = `batch` with the batch-1 settings' run arguments (scales, decomposition, columns) and the
 * logrows its rows need. Its own settings, keys and VKA; files in `dir` (relative to the artifact directory).
 */
const variant = z.object({
  batch: z.number().int().min(2),
  dir: z.string(),
  /** sha256 of the variant's graph: the deterministic symbolic-batch rewrite of network.onnx. */
  onnx: z.object({ sha256: hex64, changed: z.boolean() }),
  hashes: z.object({ settings: hex64, circuit: hex64, srs: hex64, vk: hex64, pk: hex64 }),
  sizes: z.record(z.number().int()),
  circuit: z.object({
    logrows: z.number().int(),
    numRows: z.number().int(),
    numInstances: z.number().int(),
    instanceLayout: z.object({ inputs: z.array(tensorLayout), outputs: z.array(tensorLayout) }),
  }),
  /** One request's part of each tensor: block i of a tensor starts at offset + i * count. */
  block: z.object({ inputs: z.array(blockTensor), outputs: z.array(blockTensor) }),
  vka: vkaSchema,
  srs: srsSchema,
  /** Inner columns of the variant's layout, chosen by screening each (rows counted, cost predicted). */
  numInnerCols: z.number().int(),
  objective: z.enum(["proveTime", "memory", "proofSize"]),
  screened: z.array(
    z.object({ numInnerCols: z.number().int(), numRows: z.number().int(), logrows: z.number().int(), predictedCost: z.number() }),
  ),
  /** The build witnessed `samples` inputs in one batch and alone at batch 1: every block's outputs identical. */
  check: z.object({ samples: z.number().int(), identical: z.literal(true) }),
  timingsMs: z.record(z.number()),
});

export const manifestSchema = z.object({
  schema: z.literal(MANIFEST_SCHEMA_VERSION),
  name: z.string(),
  buildKey: hex64,
  createdAt: z.string(),
  ezklVersion: z.string(),
  source: z.object({
    onnx: z.string(),
    /** What `model build` changed in the export to make it EZKL-ready (empty: nothing; see onnx_prep.py). */
    prepared: z.array(z.string()).default([]),
    calibration: z.string().nullable(),
    meta: z.record(z.unknown()).nullable(),
  }),
  options: z.object({
    calibrationTarget: z.enum(["resources", "accuracy"]),
    srs: z.enum(["dev", "file"]),
    tune: z.enum(["on", "off"]),
  }),
  hashes: z.object({
    model: hex64,
    calibration: hex64.nullable(),
    settings: hex64,
    circuit: hex64,
    srs: hex64,
    vk: hex64,
    pk: hex64,
    verifierSource: hex64,
  }),
  files: z.object({
    onnx: z.string(),
    settings: z.string(),
    circuit: z.string(),
    srs: z.string(),
    vk: z.string(),
    pk: z.string(),
    verifierSource: z.string(),
    verifierArtifact: z.string(),
    vka: z.string(),
  }),
  sizes: z.record(z.number().int()),
  circuit: z.object({
    logrows: z.number().int(),
    numRows: z.number().int(),
    visibility: z.object({ input: z.string(), output: z.string(), params: z.string() }),
    inputScale: z.number().int(),
    outputScale: z.number().int(),
    lookupRange: z.tuple([z.number(), z.number()]),
    numInstances: z.number().int(),
    instanceLayout: z.object({ inputs: z.array(tensorLayout), outputs: z.array(tensorLayout) }),
  }),
  verifier: z.object({
    contractName: z.string(),
    compiler: z.string(),
    deployedSize: z.number().int(),
    sizeLimit: z.number().int(),
    withinSizeLimit: z.boolean(),
    codeHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  }),
  /** The verifying-key artifact the suite verifier checks proofs against: what `model register` registers. */
  vka: vkaSchema,
  /** Where the SRS came from: the public ceremony (SHA-256 = EZKL's pinned hash for k) or generated here. */
  srs: srsSchema,
  accuracy: z
    .object({
      samples: z.number().int(),
      metric: z.string(),
      /** The metric of the float model and of the circuit; null when heldout.json has no labels. */
      float: z.number().nullable(),
      circuit: z.number().nullable(),
      maxAbsError: z.number(),
      meanAbsError: z.number(),
      tolerance: z.number().nullable(),
    })
    .nullable(),
  /** EZKL's layout knobs of the built circuit (also in settings.json, which the hashes pin). */
  layout,
  /** The input range the circuit holds, measured with witnesses at build; inputs beyond it are refused. */
  inputRange: z
    .object({
      maxAbs: z.number(),
      maxAbsFixed: z.string().regex(/^\d+$/),
      dataMaxAbs: z.number(),
      headroom: z.number(),
      decompositionBound: z.string().regex(/^\d+$/),
    })
    .nullable(),
  /** The settings search: EZKL's own layout, every candidate looked at, and the one chosen. */
  tuning: z.union([
    z.object({ mode: z.literal("off"), ezkl: layout }),
    z.object({
      mode: z.literal("on"),
      objective: z.enum(["proveTime", "memory", "proofSize"]),
      budget: z.object({ maxMeasured: z.number().int(), budgetMs: z.number().int() }),
      searchMs: z.number(),
      rangeBits: z.number(),
      ezkl: layout,
      /** The chosen candidate's id; null when none met the tolerance and EZKL's calibration was kept. */
      chosen: z.string().nullable(),
      candidates: z.array(candidate),
    }),
  ]),
  /** One line per construct that makes the circuit large (softmax/exp, large lookups, large scales). */
  warnings: z.array(z.string()),
  timingsMs: z.record(z.number()),
  /** Batch variants (`model build --batch`), by batch size; batch 1 is the manifest itself. */
  variants: z.array(variant).default([]),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type TensorLayout = z.infer<typeof tensorLayout>;
export type BatchVariant = z.infer<typeof variant>;

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, "manifest.json");
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch {
    throw new ArtifactError(`no manifest.json in ${dir}`, { hint: "build the model first: zkinfer model build <dir|file.onnx>" });
  }
  const parsed = manifestSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw new ArtifactError(`manifest.json in ${dir} is not a zkinfer manifest (schema ${MANIFEST_SCHEMA_VERSION})`, {
      hint: "rebuild the model: zkinfer model build --force <source>",
      details: parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; "),
    });
  }
  return parsed.data;
}
