#!/usr/bin/env node
import { CommanderError } from "commander";
import { isZkinferError } from "../errors.js";
import { createCliContext } from "./context.js";
import { createProgram } from "./program.js";

/** The `zkinfer` command. User mistakes print one line and a hint; bugs print a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const ctx = createCliContext();
  const program = createProgram(ctx);
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
