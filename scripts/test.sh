#!/usr/bin/env bash
# The test suite, run through `npm test` (which sets up the toolchain first):
#   PostgreSQL's server binaries (installed when missing, for the job store's tests), formatting + lint, generated ABIs and README's CLI reference up to date, Solidity tests (unit, fuzz, invariants), then the
#   mocha suites (TypeScript units, real EZKL proofs, real EVM, CLI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node --import tsx scripts/gen-suite-verifier.ts # contracts/generated/: the suite verifier, a git-ignored EZKL artifact
bash scripts/ensure-postgres.sh
bash scripts/lint.sh
hardhat compile
node --import tsx scripts/gen-abis.ts --check
node --import tsx scripts/gen-cli-reference.ts --check
tsc --noEmit -p tsconfig.json
hardhat test solidity
hardhat test mocha
