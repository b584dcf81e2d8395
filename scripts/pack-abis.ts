/**
 * Writes contracts/abi/<Contract>.json (plain ABI arrays) for the @zkinfer/contracts package, from the generated
 * prover/src/chain/abis.ts (itself generated from Hardhat's artifacts by scripts/gen-abis.ts), so the package's
 * JSON ABIs and the SDK's typed ones are the same data. Run by the package's `prepack`; contracts/abi/ is
 * git-ignored.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  halo2VerifierReusableAbi,
  inferenceConsumerAbi,
  inferenceCoordinatorAbi,
  inferenceVerifierAbi,
  modelRegistryAbi,
  zkinferErrorsAbi,
} from "../prover/src/chain/abis.js";

const ABIS: Record<string, readonly unknown[]> = {
  ModelRegistry: modelRegistryAbi,
  InferenceVerifier: inferenceVerifierAbi,
  InferenceCoordinator: inferenceCoordinatorAbi,
  InferenceConsumer: inferenceConsumerAbi,
  IHalo2VerifierReusable: halo2VerifierReusableAbi,
  ZkinferErrors: zkinferErrorsAbi,
};

const dir = join(import.meta.dirname, "../contracts/abi");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (const [name, abi] of Object.entries(ABIS)) writeFileSync(join(dir, `${name}.json`), JSON.stringify(abi, null, 2) + "\n");
console.log(`wrote ${Object.keys(ABIS).length} ABIs to ${dir}`);
