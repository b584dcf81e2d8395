import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseInput } from "../../prover/src/models/input.js";
import { proveInference, type InferenceProof } from "../../prover/src/models/inference.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { EzklEngine } from "../../prover/src/engine/engine.js";
import { buildModel, type BuildResult } from "../../prover/src/models/build.js";
import { resolveModelSource, type ModelSource } from "../../prover/src/models/source.js";
import { projectRoot } from "../../prover/src/util/paths.js";

/**
 * Shared fixture for tests that need built example models: one engine and one build per model for
 * the whole mocha run (builds are content-addressed in .zkinfer, so a later run is a cache hit).
 */
export const EXAMPLE_MODELS = ["digits-mlp", "diabetes-mlp"] as const;
/** digits-cnn has the same instance count as digits-mlp (64 + 10): used for cross-model tests. */
export type ExampleModel = (typeof EXAMPLE_MODELS)[number] | "digits-cnn" | "credit-logreg" | "linnerud-mlp";

let engine: EzklEngine | undefined;
const builds = new Map<string, Promise<BuildResult>>();

export function sharedEngine(): EzklEngine {
  engine ??= new EzklEngine();
  return engine;
}

export function exampleSource(name: ExampleModel): Promise<ModelSource> {
  return resolveModelSource(join(projectRoot, "examples/models", name));
}

export function builtExample(name: ExampleModel): Promise<BuildResult> {
  let b = builds.get(name);
  if (!b) {
    b = exampleSource(name).then((source) => buildModel(source, { engine: sharedEngine() }));
    builds.set(name, b);
  }
  return b;
}

const variantBuilds = new Map<string, Promise<BuildResult>>();

/**
 * An example model with its batch variants (`model build --batch`), built once per run after its batch-1
 * build (the same directory: the base is a cache hit, only the missing variants get keys). Batch 4 and 8 of
 * digits-mlp: key setup at 2^14 and 2^15 rows, about 40 s the first time.
 */
export function builtExampleBatches(name: ExampleModel, batch: readonly number[] = EXAMPLE_BATCHES): Promise<BuildResult> {
  const key = `${name}@${batch.join(",")}`;
  let b = variantBuilds.get(key);
  if (!b) {
    // Only the sizes asked for: the cache may hold more (the bench builds 16), and a test registering every
    // variant of the manifest would then batch at sizes it did not expect.
    b = builtExample(name)
      .then(async () => buildModel(await exampleSource(name), { engine: sharedEngine(), batch: [...batch] }))
      .then((r) => ({
        ...r,
        manifest: { ...r.manifest, variants: r.manifest.variants.filter((v) => batch.includes(v.batch)) },
      }));
    variantBuilds.set(key, b);
  }
  return b;
}
export const EXAMPLE_BATCHES = [1, 4, 8] as const;

const proofs = new Map<string, Promise<InferenceProof>>();
let proofDir: string | undefined;

/** One real proof per example model (held-out sample 0), shared by every test of the run. */
export function exampleProof(name: ExampleModel): Promise<InferenceProof> {
  let p = proofs.get(name);
  if (!p) {
    p = (async () => {
      const model = await builtExample(name);
      const heldout = await readJson<Heldout>((await exampleSource(name)).heldout!, "heldout.json");
      proofDir ??= mkdtempSync(join(tmpdir(), "zkinfer-test-proofs-"));
      return proveInference(sharedEngine(), model, parseInput(heldout.inputs[0], model.manifest), {
        out: join(proofDir, `${name}.proof.json`),
      });
    })();
    proofs.set(name, p);
  }
  return p;
}

after(async () => {
  await engine?.close();
  if (proofDir) rmSync(proofDir, { recursive: true, force: true });
});
