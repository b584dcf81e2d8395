#!/usr/bin/env bash
# Formatting and lint: prettier (TypeScript, Solidity via prettier-plugin-solidity), eslint, solhint.
# Generated EZKL verifiers are left exactly as EZKL wrote them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
prettier --check --log-level warn --no-error-on-unmatched-pattern "prover/src/**/*.ts" "test/**/*.ts" "deploy/**/*.ts" "bench/**/*.ts" "contracts/**/*.sol" "scripts/**/*.ts" hardhat.config.ts
eslint --max-warnings 0 prover/src test scripts deploy bench hardhat.config.ts
solhint --max-warnings 0 "contracts/**/*.sol"
