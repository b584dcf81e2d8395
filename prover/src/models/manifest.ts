import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ArtifactError } from "../errors.js";

/** manifest.json: every hash of the trust chain, the circuit's shape, and how the build went. */
export const MANIFEST_SCHEMA_VERSION = 1;

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
  options: z.object({ calibrationTarget: z.enum(["resources", "accuracy"]), srs: z.enum(["dev", "file"]) }),
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
  timingsMs: z.record(z.number()),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type TensorLayout = z.infer<typeof tensorLayout>;

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
