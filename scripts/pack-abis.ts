/**
 * Writes contracts/abi/<Contract>.json (plain ABI arrays) for the @zkinfer/contracts package, from the generated
 * prover/src/chain/abis.ts (itself generated from Hardhat's artifacts by scripts/gen-abis.ts), so the package's
 * JSON ABIs and the SDK's typed ones are the same data: `inferenceCoordinatorAbi` becomes InferenceCoordinator.json.
 * Run by the package's `prepack`; contracts/abi/ is git-ignored.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as abis from "../prover/src/chain/abis.js";

const dir = join(import.meta.dirname, "../contracts/abi");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const names = Object.entries(abis).map(([exportName, abi]) => {
  const name = exportName.replace(/Abi$/, "").replace(/^./, (c) => c.toUpperCase());
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(abi, null, 2) + "\n");
  return name;
});
console.log(`wrote ${names.join(", ")} to ${dir}`);
