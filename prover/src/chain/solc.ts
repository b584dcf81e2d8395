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

/** The project's own contracts: runs 200 keeps the coordinator under EIP-170's 24,576 bytes. */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
} as const;

/**
 * EZKL's generated verifiers (the suite verifier and each build's single-model verifier): deployed once, run on
 * every fulfilment, so the optimizer is told they run many times; they need the optimizer (otherwise "stack too
 * deep"), and `viaIR` cannot compile the single-model one ("too deep in the stack"). Measured on the example
 * models' real proofs, one run each (gas is deterministic), `verifyProof` transactions at runs 200 -> 1,000,000:
 * the reusable verifier 622,900 -> 584,608 (digits-mlp) and 702,768 -> 677,207 (diabetes-mlp); the single-model
 * verifiers 474,414 -> 457,930 and 547,216 -> 532,864. Runs 10,000 gains under 4k; 2^32 - 1 is the same code as
 * 1,000,000. The suite verifier's code grows from 10,945 to 14,145 bytes (deployment 2.41M -> 3.10M gas, once).
 */
export const VERIFIER_SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 1_000_000 },
  evmVersion: "cancun",
} as const;

/** The source file of the suite verifier, as Hardhat names it (compiled with `VERIFIER_SOLC_SETTINGS`). */
export const SUITE_VERIFIER_SOURCE_NAME = "contracts/generated/Halo2VerifierReusable.sol";

/** EIP-170: the largest runtime code a contract may have. */
export const EIP170_CODE_LIMIT = 24_576;
