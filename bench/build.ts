import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../prover/src/engine/engine.js";
import { buildModel, type BuildResult } from "../prover/src/models/build.js";
import { resolveModelSource } from "../prover/src/models/source.js";
import { cacheDir, projectRoot } from "../prover/src/util/paths.js";
import type { Progress } from "../prover/src/util/progress.js";

export interface BuildFigures {
  /** True when this run built the model from scratch in a fresh cache; false with --reuse-builds. */
  measured: boolean;
  /** Wall time of `buildModel` (ms): the nine steps, including the dev SRS when it was generated. */
  totalMs: number | null;
  /** Whether this build generated the dev SRS for its logrows (the first model at a logrows does). */
  srsGenerated: boolean | null;
  /** The SRS step (ms): generating the dev SRS, or linking the cached one. */
  srsMs: number | null;
  /** Key setup (ms). */
  setupMs: number | null;
  /** Every step as the manifest records it (ms). */
  stepsMs: Record<string, number>;
  logrows: number;
  sizes: { pkBytes: number; vkBytes: number; circuitBytes: number; srsBytes: number; verifierRuntimeBytes: number };
}

const chosenSetupMs = (m: BuildResult["manifest"]): number | undefined => {
  const t = m.tuning;
  return t.mode === "on" ? t.candidates.find((c) => c.id === t.chosen)?.setupMs : undefined;
};

export const exampleDir = (name: string): string => join(projectRoot, "examples/models", name);

/**
 * Build one example model. With `cold`, the caller has pointed ZKINFER_CACHE_DIR at a fresh, empty
 * directory, so nothing is cached except the dev SRS a previous model of this run may have generated
 * for the same logrows — which is recorded (srsGenerated). The engine is started before timing.
 */
export async function buildExample(
  name: string,
  engine: Engine,
  progress: Progress,
  cold: boolean,
): Promise<{ model: BuildResult; figures: BuildFigures }> {
  const source = await resolveModelSource(exampleDir(name));
  const srsDir = join(cacheDir(), "srs");
  const srsBefore = new Set(existsSync(srsDir) ? readdirSync(srsDir) : []);
  const t0 = performance.now();
  const model = await progress.step(`${name}: ${cold ? "cold build (fresh cache)" : "load the cached build"}`, () =>
    buildModel(source, { engine }),
  );
  const totalMs = performance.now() - t0;
  const m = model.manifest;
  if (cold && model.cacheHit) throw new Error(`${name}: expected a cold build in ${cacheDir()}, got a cache hit`);
  // Only a build into a fresh cache is a measurement; with --reuse-builds a missing build is still made, but not reported.
  const measured = cold;
  const size = (key: keyof typeof m.files) => statSync(model.file(key)).size;
  return {
    model,
    figures: {
      measured,
      totalMs: measured ? Math.round(totalMs) : null,
      srsGenerated: measured ? !srsBefore.has(`dev-k${m.circuit.logrows}.srs`) : null,
      srsMs: measured ? (m.timingsMs.srs ?? null) : null,
      // A tuned build sets up keys inside the settings search: the chosen candidate's setup.
      setupMs: measured ? (m.timingsMs.setup ?? chosenSetupMs(m) ?? null) : null,
      stepsMs: m.timingsMs,
      logrows: m.circuit.logrows,
      sizes: {
        pkBytes: size("pk"),
        vkBytes: size("vk"),
        circuitBytes: size("circuit"),
        srsBytes: size("srs"),
        verifierRuntimeBytes: m.verifier.deployedSize,
      },
    },
  };
}
