import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserInputError } from "../errors.js";
import { buildModel, BUILD_STEPS } from "../models/build.js";
import { resolveModelSource } from "../models/source.js";
import { findBuiltByName, loadArtifact, type LoadedModel } from "../models/store.js";
import { consoleProgress } from "../util/progress.js";
import type { CliContext } from "./context.js";

/**
 * A model named on the command line: a built artifact directory (holds manifest.json), a model
 * source (directory or .onnx — built first, a cache hit when unchanged), or the name of a model
 * built before.
 */
export async function resolveModelRef(ref: string, ctx: CliContext): Promise<LoadedModel> {
  const path = resolve(ref);
  if (existsSync(join(path, "manifest.json"))) return loadArtifact(path);
  if (existsSync(path)) {
    const source = await resolveModelSource(ref);
    return buildModel(source, {
      engine: ctx.engine(),
      progress: consoleProgress(`build ${source.name}`, BUILD_STEPS),
      logger: ctx.logger,
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
