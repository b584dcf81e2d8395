import { join } from "node:path";
import { EzklEngine } from "../../prover/src/engine/engine.js";
import { buildModel, type BuildResult } from "../../prover/src/models/build.js";
import { resolveModelSource, type ModelSource } from "../../prover/src/models/source.js";
import { projectRoot } from "../../prover/src/util/paths.js";

/**
 * Shared fixture for tests that need built example models: one engine and one build per model for
 * the whole mocha run (builds are content-addressed in .zkinfer, so a later run is a cache hit).
 */
export const EXAMPLE_MODELS = ["digits-mlp", "diabetes-mlp"] as const;
export type ExampleModel = (typeof EXAMPLE_MODELS)[number];

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

after(async () => {
  await engine?.close();
});
