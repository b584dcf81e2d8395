#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { isZkinferError } from "../errors.js";
import { createCliContext } from "./context.js";
import { registerModelBuild } from "./commands/model-build.js";
import { registerModelRegister } from "./commands/model-register.js";
import { registerProve } from "./commands/prove.js";
import { registerVerify } from "./commands/verify.js";
import { registerDemo } from "./commands/demo.js";
import { registerServe } from "./commands/serve.js";
import { registerRequest } from "./commands/request.js";
import { registerDeploy } from "./commands/deploy.js";

/** The `zkinfer` command. User mistakes print one line and a hint; bugs print a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const ctx = createCliContext();
  const program = new Command("zkinfer")
    .description("verified ML inference on EVM chains: EZKL circuits from ONNX models, proofs checked on-chain")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");
  const model = program.command("model").description("build model circuits and register them on-chain");
  registerModelBuild(model, ctx);
  registerModelRegister(model, ctx);
  registerProve(program, ctx);
  registerVerify(program, ctx);
  registerDeploy(program, ctx);
  registerRequest(program, ctx);
  registerServe(program, ctx);
  registerDemo(program, ctx);

  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isZkinferError(e)) {
      process.stderr.write(`error: ${e.shortMessage}\n${e.hint ? `hint: ${e.hint}\n` : ""}`);
      ctx.logger.debug({ err: e }, "command failed");
      return 1;
    }
    process.stderr.write(`zkinfer: unexpected error (a bug; please report it)\n${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  } finally {
    await ctx.close();
  }
}

process.exitCode = await main(process.argv);
