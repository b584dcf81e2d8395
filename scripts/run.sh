#!/usr/bin/env bash
# Runs a command with the project's toolchain: set-up first (idempotent), then Node >= 22 and
# node_modules/.bin first on PATH.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
if [ -x "$ROOT/.tools/bin/node" ]; then PATH="$ROOT/.tools/bin:$PATH"; fi
export PATH="$ROOT/node_modules/.bin:$PATH"
exec "$@"
