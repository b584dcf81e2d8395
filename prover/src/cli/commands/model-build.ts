import type { Command } from "commander";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { UserInputError } from "../../errors.js";
import { buildModel, BUILD_STEPS, resolveBatches } from "../../models/build.js";
import { parseBatchList, VARIANT_STEPS } from "../../models/variants.js";
import { resolveModelSource } from "../../models/source.js";
import { consoleProgress } from "../../util/progress.js";
import type { CliContext } from "../context.js";
import { fmtBytes, fmtMs, table, toJson } from "../format.js";
import type { Manifest } from "../../models/manifest.js";
import { DEFAULT_TUNE, type TuneOptions } from "../../models/tune.js";

interface BuildCliOptions {
  srs?: string;
  target: string;
  tune: string;
  tuneCandidates: string;
  tuneBudget: string;
  batch?: string;
  force?: boolean;
  json?: boolean;
}

function parseTuneOptions(opts: BuildCliOptions): Partial<TuneOptions> {
  if (opts.tune !== "on" && opts.tune !== "off")
    throw new UserInputError(`--tune must be 'on' or 'off', not '${opts.tune}'`, {
      hint: "--tune off keeps EZKL's own calibration",
    });
  const n = Number(opts.tuneCandidates);
  const s = Number(opts.tuneBudget);
  if (!Number.isInteger(n) || n < 1)
    throw new UserInputError(`--tune-candidates must be a whole number >= 1, not '${opts.tuneCandidates}'`);
  if (!Number.isFinite(s) || s <= 0)
    throw new UserInputError(`--tune-budget must be a number of seconds > 0, not '${opts.tuneBudget}'`);
  return { mode: opts.tune, maxMeasured: n, budgetMs: Math.round(s * 1000) };
}

function fmtLayout(m: Manifest): string {
  const l = m.layout;
  const layout = `decomposition ${l.decompBase}^${l.decompLegs}, ${l.numInnerCols} inner column${l.numInnerCols === 1 ? "" : "s"}, ${l.numRows} rows`;
  if (m.tuning.mode === "off") return `${layout} (EZKL's calibration, --tune off)`;
  const measured = m.tuning.candidates.filter((c) => c.status === "measured").length;
  return `${layout} (tuned: ${m.tuning.candidates.length} layouts screened, ${measured} proved; EZKL's: logrows ${m.tuning.ezkl.logrows})`;
}

export function registerModelBuild(model: Command, ctx: CliContext): void {
  model
    .command("build")
    .description(
      "compile ONNX models into EZKL circuits: settings, keys, Solidity verifier and manifest.json (cached by content)",
    )
    .argument("<model...>", "model directory (network.onnx [+ calibration.json, heldout.json, model.json]) or .onnx file")
    .option(
      "--srs <file>",
      "SRS file to use (default: the ceremony SRS `zkinfer srs import` placed for the logrows, else a dev SRS generated here — for tests only)",
    )
    .option("--target <target>", "calibration target: resources | accuracy", "resources")
    .option(
      "--tune <on|off>",
      "settings search: on measures layouts (decomposition, columns, logrows) and keeps the fastest within the model's tolerance; off keeps EZKL's own calibration",
      "on",
    )
    .option(
      "--tune-candidates <n>",
      "layouts the search proves for real (the rest are only screened)",
      String(DEFAULT_TUNE.maxMeasured),
    )
    .option("--tune-budget <seconds>", "stop starting new measurements after this long", String(DEFAULT_TUNE.budgetMs / 1000))
    .option(
      "--batch <sizes>",
      'batch variants to build beside batch 1, e.g. 1,4,8,16 (default: model.json "batch", else 1): the same ONNX and weights, one proof per N inferences',
    )
    .option("--force", "rebuild even when a finished build of the same inputs exists")
    .option("--json", "print the manifests as JSON")
    .action(async (paths: string[], opts: BuildCliOptions) => {
      if (opts.target !== "resources" && opts.target !== "accuracy") {
        throw new UserInputError(`--target must be 'resources' or 'accuracy', not '${opts.target}'`);
      }
      const tune = parseTuneOptions(opts);
      if (opts.srs && !existsSync(opts.srs))
        throw new UserInputError(`SRS file not found: ${opts.srs}`, { hint: "give a KZG ceremony SRS file, or omit --srs" });
      const batch = opts.batch !== undefined ? parseBatchList(opts.batch, "--batch") : undefined;
      const results = [];
      for (const p of paths) {
        const source = await resolveModelSource(p);
        const batches = resolveBatches(source, batch ? { batch } : {});
        const built = await buildModel(source, {
          batch: batches,
          engine: ctx.engine(),
          calibrationTarget: opts.target,
          ...(opts.srs ? { srsFile: resolve(opts.srs) } : {}),
          force: opts.force ?? false,
          tune,
          progress: consoleProgress(`build ${source.name}`, BUILD_STEPS + VARIANT_STEPS * (batches.length - 1)),
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
              ["layout", fmtLayout(m)],
              [
                "input range",
                m.inputRange
                  ? `|x| <= ${m.inputRange.maxAbs} (${m.inputRange.headroom}x the largest |x| in the model's data)`
                  : "no sample input",
              ],
              ["scales", `input ${m.circuit.inputScale}, output ${m.circuit.outputScale}`],
              [
                "instances",
                `${m.circuit.numInstances} (inputs ${tensorList(m.circuit.instanceLayout.inputs)}; outputs ${tensorList(m.circuit.instanceLayout.outputs)})`,
              ],
              ["sizes", `pk ${fmtBytes(m.sizes.pk ?? 0)}, vk ${fmtBytes(m.sizes.vk ?? 0)}, srs ${fmtBytes(m.sizes.srs ?? 0)}`],
              [
                "SRS",
                `${m.srs.provenance}${m.srs.provenance === "dev" ? " (generated here: tests and the local chain only)" : " (public ceremony)"}`,
              ],
              ["VKA", `${m.vka.words} words (${m.vka.words * 32} bytes), digest ${m.vka.digest}`],
              [
                "single-model verifier",
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
              ...m.variants.map((v): [string, string] => [
                `batch ${v.batch}`,
                `logrows ${v.circuit.logrows}, ${v.circuit.numRows} rows, ${v.circuit.numInstances} instances (a block: ${v.block.inputs.map((t) => t.count).join("+")} in, ${v.block.outputs.map((t) => t.count).join("+")} out), pk ${fmtBytes(v.sizes.pk ?? 0)}, VKA ${v.vka.words} words, digest ${v.vka.digest}`,
              ]),
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
