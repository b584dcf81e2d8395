import type { Command } from "commander";
import { join } from "node:path";
import { buildModel, BUILD_STEPS } from "../../models/build.js";
import { readInputFile } from "../../models/input.js";
import { proveInference, verifyProofFile } from "../../models/inference.js";
import { resolveModelSource } from "../../models/source.js";
import { cacheDir, projectRoot } from "../../util/paths.js";
import { consoleProgress } from "../../util/progress.js";
import type { CliContext } from "../context.js";
import { fmtBytes, fmtFloats, fmtMs, table } from "../format.js";

const DEMO_MODELS = ["digits-mlp", "diabetes-mlp"];

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command("demo")
    .description("end-to-end demo: build the example models, prove a sample inference of each and verify it")
    .option("--model <name...>", "example models to run (examples/models/<name>)", DEMO_MODELS)
    .action(async (opts: { model: string[] }) => {
      const engine = ctx.engine();
      const info = await engine.info();
      console.log(`zkinfer demo — EZKL ${info.ezklVersion} (Python ${info.python}); artifacts in ${cacheDir()}\n`);
      for (const name of opts.model) {
        const source = await resolveModelSource(join(projectRoot, "examples/models", name));
        const title = (source.meta?.title as string | undefined) ?? name;
        console.log(`== ${title} ==`);
        if (source.meta?.description) console.log(`${source.meta.description as string}\n`);
        const model = await buildModel(source, {
          engine,
          progress: consoleProgress(`build ${name}`, BUILD_STEPS),
          logger: ctx.logger,
        });
        const m = model.manifest;
        const input = await readInputFile(source.sampleInput ?? join(source.dir, "input.json"), m);
        const [floatOut] = await engine.runOnnx(model.file("onnx"), [input.values]);
        const proof = await proveInference(engine, model, input, {
          out: join(cacheDir(), "proofs", name, "demo.proof.json"),
          progress: consoleProgress(`prove ${name}`, 2),
        });
        const t0 = performance.now();
        const verified = await verifyProofFile(engine, model, proof.proofPath);
        const verifyMs = performance.now() - t0;
        const acc = m.accuracy;
        const rows: [string, string][] = [
          ["model sha256", m.hashes.model],
          ["vk sha256", m.hashes.vk],
          [
            "circuit",
            `logrows ${m.circuit.logrows}, input scale ${m.circuit.inputScale}, output scale ${m.circuit.outputScale}${model.cacheHit ? " (cached build)" : ""}`,
          ],
          ["keys", `pk ${fmtBytes(m.sizes.pk ?? 0)}, vk ${fmtBytes(m.sizes.vk ?? 0)}`],
          [
            "verifier",
            `${m.verifier.deployedSize} bytes (limit ${m.verifier.sizeLimit}), codehash ${m.verifier.codeHash.slice(0, 18)}…`,
          ],
          [
            "input",
            input.values.length > 12
              ? `${input.values.length} values, first ${fmtFloats(input.values.slice(0, 6), 3)}…`
              : fmtFloats(input.values, 3),
          ],
          ["float model", fmtFloats(floatOut ?? [])],
          ["verified output", fmtFloats(proof.outputs.float)],
          ["proof", `${(proof.proof.length - 2) / 2} bytes, prove ${fmtMs(proof.timingsMs.prove)}, verify ${fmtMs(verifyMs)}`],
          ["off-chain verify", verified.valid ? "VALID" : `INVALID: ${verified.reason}`],
        ];
        if (acc)
          rows.push([
            `held-out ${acc.metric}`,
            `float ${acc.float.toFixed(4)}, circuit ${acc.circuit.toFixed(4)} (${acc.samples} samples)`,
          ]);
        console.log(table(rows) + "\n");
        if (!verified.valid) process.exitCode = 1;
      }
    });
}
