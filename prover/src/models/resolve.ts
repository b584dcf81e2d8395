import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Engine } from "../engine/engine.js";
import { UserInputError } from "../errors.js";
import { silentLogger, type Logger } from "../util/logger.js";
import { consoleProgress, silentProgress } from "../util/progress.js";
import { buildModel, BUILD_STEPS } from "./build.js";
import { resolveModelSource } from "./source.js";
import { findBuiltByName, loadArtifact, type LoadedModel } from "./store.js";

/**
 * A model reference as users write it: a built artifact directory (holds manifest.json), a model
 * source (directory or .onnx — built first, a cache hit when unchanged), or the name of a model
 * built before.
 */
export async function resolveModelRef(
  ref: string,
  opts: { engine: () => Engine; logger?: Logger; showProgress?: boolean },
): Promise<LoadedModel> {
  const path = resolve(ref);
  if (existsSync(join(path, "manifest.json"))) return loadArtifact(path);
  if (existsSync(path)) {
    const source = await resolveModelSource(ref);
    return buildModel(source, {
      engine: opts.engine(),
      progress: opts.showProgress === false ? silentProgress : consoleProgress(`build ${source.name}`, BUILD_STEPS),
      logger: opts.logger ?? silentLogger,
    });
  }
  if (/^[a-z0-9._-]+$/i.test(ref)) {
    const built = await findBuiltByName(ref.toLowerCase());
    if (built) return built;
  }
  throw new UserInputError(`no model '${ref}': not a path, and no model of that name has been built`, {
    hint: "pass a model directory (e.g. examples/models/digits-mlp), an .onnx file, or build it first with `zkinfer model build`",
  });
}
