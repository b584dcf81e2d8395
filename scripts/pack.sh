#!/usr/bin/env bash
# npm run pack: the three npm packages as installable tarballs in packages/ (git-ignored):
#   @zkinfer/contracts (contracts/), @zkinfer/sdk (prover/sdk/, compiled by its prepack) and @zkinfer/prover (prover/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p packages
for dir in contracts prover/sdk prover; do
  (cd "$dir" && npm pack --silent --pack-destination "$OLDPWD/packages")
done
ls -l packages/*.tgz
