import { Command } from "commander";
import type { CliContext } from "./context.js";
import { registerModelBuild } from "./commands/model-build.js";
import { registerModelRegister } from "./commands/model-register.js";
import { registerModelAudit } from "./commands/model-audit.js";
import { registerProve } from "./commands/prove.js";
import { registerVerify } from "./commands/verify.js";
import { registerDemo } from "./commands/demo.js";
import { registerServe } from "./commands/serve.js";
import { registerStatus } from "./commands/status.js";
import { registerRequest } from "./commands/request.js";
import { registerProver } from "./commands/prover.js";
import { registerDeploy } from "./commands/deploy.js";
import { registerSrs } from "./commands/srs.js";

/** Help text is wrapped at this width everywhere, so README's CLI reference is the same text as `--help`. */
export const HELP_WIDTH = 100;

/** The `zkinfer` command tree (no parsing, no side effects: README's CLI reference is generated from it). */
export function createProgram(ctx: CliContext): Command {
  const program = new Command("zkinfer")
    .description("verified ML inference on EVM chains: EZKL circuits from ONNX models, proofs checked on-chain")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ helpWidth: HELP_WIDTH });
  const model = program.command("model").description("build model circuits and register them on-chain");
  registerModelBuild(model, ctx);
  registerModelRegister(model, ctx);
  registerModelAudit(model, ctx);
  registerProve(program, ctx);
  registerVerify(program, ctx);
  registerDeploy(program, ctx);
  registerSrs(program, ctx);
  registerRequest(program, ctx);
  registerProver(program, ctx);
  registerServe(program, ctx);
  registerStatus(program, ctx);
  registerDemo(program, ctx);
  // Subcommands inherit the help width and the error handling.
  for (const c of allCommands(program)) c.configureHelp({ helpWidth: HELP_WIDTH }).exitOverride();
  return program;
}

/** Every command in the tree, depth first, the root first. */
export function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => allCommands(c))];
}
