import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

/**
 * The one place that says how Solidity is compiled: Hardhat (hardhat.config.ts) and zkinfer's own
 * compile of generated verifiers use these settings and this compiler, so the code hash predicted at
 * build time is the code hash a deployment has. The compiler is the npm `solc` (soljson): no compiler
 * download is possible on our machines.
 */
const require = createRequire(import.meta.url);

export const SOLC_PATH: string = require.resolve("solc/soljson.js");
export const SOLC_VERSION: string = JSON.parse(readFileSync(require.resolve("solc/package.json"), "utf8")).version;

export const SOLC_SETTINGS = {
  // EZKL's generated verifiers need the optimizer (otherwise "stack too deep").
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
} as const;

/** EIP-170: the largest runtime code a contract may have. */
export const EIP170_CODE_LIMIT = 24_576;
