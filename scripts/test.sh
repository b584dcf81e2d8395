#!/usr/bin/env bash
# The test suite: Solidity tests (unit + fuzz) and the mocha suites (TypeScript units, real EZKL,
# real EVM). Run through `npm test`, which sets up the toolchain first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hardhat test solidity
hardhat test mocha
