import { resolveModelRef as resolveRef } from "../models/resolve.js";
import type { LoadedModel } from "../models/store.js";
import type { CliContext } from "./context.js";

/** A model named on the command line (see models/resolve.ts), building it with progress if needed. */
export function resolveModelRef(ref: string, ctx: CliContext): Promise<LoadedModel> {
  return resolveRef(ref, { engine: () => ctx.engine(), logger: ctx.logger });
}
