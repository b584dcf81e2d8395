import type { Command } from "commander";
import { verifyProofFile } from "../../models/inference.js";
import type { CliContext } from "../context.js";
import { fmtFloats, table, toJson } from "../format.js";
import { resolveModelRef } from "../resolve-model.js";

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command("verify")
    .description("verify a proof file off-chain against a model's verifying key (exit code 1 if it does not verify)")
    .argument("<model>", "built artifact directory, model directory / .onnx, or a built model's name")
    .argument("<proof>", "proof file written by `zkinfer prove`")
    .option("--json", "print the result as JSON")
    .action(async (modelRef: string, proofPath: string, opts: { json?: boolean }) => {
      const model = await resolveModelRef(modelRef, ctx);
      const r = await verifyProofFile(ctx.engine(), model, proofPath);
      if (opts.json) console.log(toJson({ model: model.manifest.name, valid: r.valid, reason: r.reason, outputs: r.outputs }));
      else {
        const rows: [string, string][] = [
          ["model", model.manifest.name],
          ["proof", proofPath],
          ["result", r.valid ? "VALID" : `INVALID: ${r.reason ?? "rejected"}`],
        ];
        if (r.valid && r.outputs) rows.push(["outputs", fmtFloats(r.outputs.float)]);
        console.log(table(rows));
      }
      if (!r.valid) process.exitCode = 1;
    });
}
