/**
 * Writes contracts/generated/Halo2VerifierReusable.sol (the suite verifier, EZKL's reusable
 * verifier) with the pinned EZKL, unless it is already there for that EZKL version. `--force`
 * regenerates it. Run before `hardhat compile` (npm test, npm run compile, zkinfer deploy do).
 */
import { EzklEngine } from "../prover/src/engine/engine.js";
import { ensureSuiteVerifierSource } from "../prover/src/models/suite-verifier.js";

const r = await ensureSuiteVerifierSource(() => new EzklEngine(), { force: process.argv.includes("--force") });
if (r.generated) console.log(`wrote ${r.path} (EZKL ${r.ezklVersion})`);
