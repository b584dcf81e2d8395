import type { Command } from "commander";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { UserInputError } from "../../errors.js";
import { buildModel, BUILD_STEPS } from "../../models/build.js";
import { resolveModelSource } from "../../models/source.js";
import { consoleProgress } from "../../util/progress.js";
import type { CliContext } from "../context.js";
import { fmtBytes, fmtMs, table, toJson } from "../format.js";

export function registerModelBuild(model: Command, ctx: CliContext): void {
  model
    .command("build")
    .description(
      "compile ONNX models into EZKL circuits: settings, keys, Solidity verifier and manifest.json (cached by content)",
    )
    .argument("<model...>", "model directory (network.onnx [+ calibration.json, heldout.json, model.json]) or .onnx file")
    .option("--srs <file>", "KZG ceremony SRS file (production); without it a dev SRS is generated — for tests only")
    .option("--target <target>", "calibration target: resources | accuracy", "resources")
    .option("--force", "rebuild even when a finished build of the same inputs exists")
    .option("--json", "print the manifests as JSON")
    .action(async (paths: string[], opts: { srs?: string; target: string; force?: boolean; json?: boolean }) => {
      if (opts.target !== "resources" && opts.target !== "accuracy") {
        throw new UserInputError(`--target must be 'resources' or 'accuracy', not '${opts.target}'`);
      }
      if (opts.srs && !existsSync(opts.srs))
        throw new UserInputError(`SRS file not found: ${opts.srs}`, { hint: "give a KZG ceremony SRS file, or omit --srs" });
      const results = [];
      for (const p of paths) {
        const source = await resolveModelSource(p);
        const built = await buildModel(source, {
          engine: ctx.engine(),
          calibrationTarget: opts.target,
          ...(opts.srs ? { srsFile: resolve(opts.srs) } : {}),
          force: opts.force ?? false,
          progress: consoleProgress(`build ${source.name}`, BUILD_STEPS),
          logger: ctx.logger,
        });
        results.push(built);
        if (!opts.json) {
          const m = built.manifest;
          const acc = m.accuracy;
          console.log(
            table([
              ["model", `${m.name}${built.cacheHit ? " (cache hit)" : ""}`],
              ["artifacts", built.dir],
              ["ezkl", m.ezklVersion],
              ...(m.source.prepared.length ? [["prepared", m.source.prepared.join("; ")] as [string, string]] : []),
              ["logrows", String(m.circuit.logrows)],
              ["scales", `input ${m.circuit.inputScale}, output ${m.circuit.outputScale}`],
              [
                "instances",
                `${m.circuit.numInstances} (inputs ${tensorList(m.circuit.instanceLayout.inputs)}; outputs ${tensorList(m.circuit.instanceLayout.outputs)})`,
              ],
              ["sizes", `pk ${fmtBytes(m.sizes.pk ?? 0)}, vk ${fmtBytes(m.sizes.vk ?? 0)}, srs ${fmtBytes(m.sizes.srs ?? 0)}`],
              [
                "verifier",
                `${m.verifier.deployedSize} bytes of ${m.verifier.sizeLimit} (${m.verifier.withinSizeLimit ? "deployable" : "TOO LARGE"}), codehash ${m.verifier.codeHash}`,
              ],
              [
                "accuracy",
                acc
                  ? `${acc.float === null || acc.circuit === null ? "no labels:" : `${acc.metric} float ${acc.float.toFixed(4)} vs circuit ${acc.circuit.toFixed(4)}`} on ${acc.samples} held-out; max |diff| ${acc.maxAbsError.toExponential(2)}`
                  : "no heldout.json",
              ],
              [
                "sha256",
                `onnx ${m.hashes.model.slice(0, 16)}… vk ${m.hashes.vk.slice(0, 16)}… srs ${m.hashes.srs.slice(0, 16)}…`,
              ],
              ["build time", built.cacheHit ? "0 (cached)" : fmtMs(Object.values(m.timingsMs).reduce((a, b) => a + b, 0))],
            ]) + "\n",
          );
        }
      }
      if (opts.json) console.log(toJson(results.map((r) => ({ dir: r.dir, cacheHit: r.cacheHit, manifest: r.manifest }))));
    });
}

/** "x: 64" for one tensor, "a: 3, b: 2" for several. */
function tensorList(tensors: readonly { name: string; count: number }[]): string {
  return tensors.map((t) => `${t.name}: ${t.count}`).join(", ");
}
