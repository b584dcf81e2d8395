import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UserInputError } from "../errors.js";

/**
 * The prover package's own root (this file is src/util/paths.ts in it): prover/ in a checkout, the installed
 * @zkinfer/prover otherwise. The EZKL worker and its pinned requirements live here.
 */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Whether this is a zkinfer checkout (the repository, with its contracts and Hardhat), not an installed package. */
export const inCheckout =
  existsSync(join(packageRoot, "..", "hardhat.config.ts")) && existsSync(join(packageRoot, "..", "contracts"));

/**
 * The repository root in a checkout; for an installed @zkinfer/prover, the working directory: where `.zkinfer/`,
 * `.venv/` and `deploy/deployments/` are looked for.
 */
export const projectRoot = inCheckout ? resolve(packageRoot, "..") : process.cwd();

/** Where built artifacts, SRS files and proofs live, keyed by content hash (git-ignored). */
export function cacheDir(): string {
  return resolve(process.env.ZKINFER_CACHE_DIR ?? resolve(projectRoot, ".zkinfer"));
}

/** Refuses a command that needs the repository (Hardhat, Ignition, the contracts) when run from the installed package. */
export function requireCheckout(command: string): void {
  if (!inCheckout)
    throw new UserInputError(
      `\`zkinfer ${command}\` needs a zkinfer checkout: it compiles and deploys the contracts with Hardhat`,
      {
        hint:
          "run it from a clone of the zkinfer repository (`./bin/zkinfer " +
          command +
          "`); the installed package serves, proves, builds, registers and requests",
      },
    );
}
