import { EzklEngine, type Engine } from "../engine/engine.js";
import { createLogger, type Logger } from "../util/logger.js";

/** What every command gets: explicit, no globals. The engine starts on first use. */
export interface CliContext {
  logger: Logger;
  engine(): Engine;
  close(): Promise<void>;
}

export function createCliContext(defaultLogLevel: "warn" | "info" = "warn"): CliContext {
  const logger = createLogger(defaultLogLevel);
  let engine: EzklEngine | undefined;
  return {
    logger,
    engine() {
      engine ??= new EzklEngine({ logger: logger.child({ component: "engine" }) });
      return engine;
    },
    async close() {
      await engine?.close();
    },
  };
}
