import { join } from "node:path";
import { cacheDir } from "../util/paths.js";

/** Defaults of `zkinfer serve` (kept apart from service.ts so the CLI can show them without loading it). */
export const SERVICE_DEFAULTS = {
  dbPath: join(cacheDir(), "service", "jobs.sqlite"),
  host: "127.0.0.1",
  port: 8790,
  workers: 1,
  maxAttempts: 3,
  leaseMs: 15_000,
  proveTimeoutMs: 5 * 60_000,
  maxQueued: 100,
  clientQuota: 10,
  maxConnections: 256,
} as const;

/** Whether a --db value is a PostgreSQL URL (else it is a SQLite file). */
export const isPostgresUrl = (s: string) => /^postgres(ql)?:\/\//.test(s);
