import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is prover/src/util/paths.ts). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where built artifacts, SRS files and proofs live, keyed by content hash (git-ignored). */
export function cacheDir(): string {
  return resolve(process.env.ZKINFER_CACHE_DIR ?? resolve(projectRoot, ".zkinfer"));
}
