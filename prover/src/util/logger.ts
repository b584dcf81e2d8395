import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout is for a command's own output). The level comes from
 * ZKINFER_LOG_LEVEL; commands default to "warn" so a user sees results, and `serve` to "info".
 */
export function createLogger(defaultLevel: pino.Level = "warn", bindings: Record<string, unknown> = {}): Logger {
  const level = process.env.ZKINFER_LOG_LEVEL ?? defaultLevel;
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for library callers that pass none. */
export const silentLogger: Logger = pino({ level: "silent" });
