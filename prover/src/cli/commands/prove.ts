import type { Command } from "commander";
import { join, resolve } from "node:path";
import { readInputFile } from "../../models/input.js";
import { proveInference } from "../../models/inference.js";
import { sha256 } from "../../util/hash.js";
import { cacheDir } from "../../util/paths.js";
import { consoleProgress } from "../../util/progress.js";
import type { CliContext } from "../context.js";
import { fmtFloats, fmtMs, table, toJson } from "../format.js";
import { resolveModelRef } from "../resolve-model.js";

export function registerProve(program: Command, ctx: CliContext): void {
  program
    .command("prove")
    .description("prove one inference off-chain: a proof file plus the outputs decoded from its public instances")
    .argument("<model>", "built artifact directory, model directory / .onnx (built if needed), or a built model's name")
    .argument("<input>", 'input JSON: {"input_data": [[...]]}, {"input": [...]} or a plain array')
    .option(
      "-o, --out <file>",
      "where to write the proof (EZKL's proof JSON); default .zkinfer/proofs/<model>/<input hash>.proof.json",
    )
    .option("--json", "print the result as JSON")
    .action(async (modelRef: string, inputPath: string, opts: { out?: string; json?: boolean }) => {
      const model = await resolveModelRef(modelRef, ctx);
      const input = await readInputFile(inputPath, model.manifest);
      const out = resolve(
        opts.out ?? join(cacheDir(), "proofs", model.manifest.name, `${sha256(input.fixed.join(",")).slice(0, 16)}.proof.json`),
      );
      const r = await proveInference(ctx.engine(), model, input, {
        out,
        progress: consoleProgress(`prove ${model.manifest.name}`, 2),
      });
      if (opts.json) {
        console.log(
          toJson({
            model: r.model,
            proofPath: r.proofPath,
            input: r.input,
            outputs: r.outputs,
            instances: r.instances,
            proof: r.proof,
            timingsMs: r.timingsMs,
          }),
        );
        return;
      }
      const labels = (model.manifest.source.meta?.outputLabels as string[] | undefined) ?? [];
      const rows: [string, string][] = [
        ["model", `${r.model} (vk sha256 ${model.manifest.hashes.vk.slice(0, 16)}…)`],
        ["proof", `${r.proofPath} (${(r.proof.length - 2) / 2} bytes)`],
      ];
      const multi = r.outputs.tensors.length > 1;
      for (const t of r.outputs.tensors) {
        rows.push([multi ? `outputs '${t.name}'` : "outputs", fmtFloats(t.float)]);
        rows.push([`${multi ? "  " : ""}fixed (scale ${t.scale})`, `[${t.fixed.join(", ")}]`]);
      }
      const first = r.outputs.tensors[0]!.float;
      if (model.manifest.source.meta?.task === "classification" && first.length > 1) {
        const best = first.indexOf(Math.max(...first));
        rows.push(["class", labels[best] ?? String(best)]);
      }
      rows.push(["time", `witness ${fmtMs(r.timingsMs.witness)}, prove ${fmtMs(r.timingsMs.prove)}`]);
      console.log(table(rows));
    });
}
