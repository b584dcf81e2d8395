#!/usr/bin/env bash
# zkinfer set-up: idempotent, and quick when nothing is missing.
#   1. Node >= 22 (Hardhat 3 needs it). Where the system's Node is older, Node 22 comes from the npm
#      registry's `node` package into .tools/node, and npm itself is run under that Node while
#      installing (under Node 20 npm silently skips Hardhat's native EDR package).
#   2. npm dependencies (re-installed when package-lock.json changes, or when EDR is missing).
#   3. EZKL and the Python tools from prover/python/requirements.txt into a project-local .venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
log() { printf '[setup] %s\n' "$*" >&2; }
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

NODE_PKG_VERSION=22.23.3
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# --- 1. Node 22 ------------------------------------------------------------------------------
NODE_BIN=$(command -v node || true)
if [ -z "$NODE_BIN" ] || [ "$(node_major "$NODE_BIN")" -lt 22 ]; then
  NODE_BIN=$ROOT/.tools/node/node_modules/node/bin/node
  if [ ! -x "$NODE_BIN" ] || [ "$(node_major "$NODE_BIN")" -lt 22 ]; then
    log "system Node is $(node --version 2>/dev/null || echo 'absent'); installing Node $NODE_PKG_VERSION from the npm registry into .tools/node"
    mkdir -p .tools/node
    (cd .tools/node && [ -f package.json ] || echo '{"private":true}' > package.json)
    npm install --prefix .tools/node --no-save --no-audit --no-fund --loglevel=error "node@$NODE_PKG_VERSION" >&2
    [ "$(node_major "$NODE_BIN")" -ge 22 ] || { log "Node 22 install failed: $NODE_BIN does not run"; exit 1; }
  fi
  mkdir -p .tools/bin
  ln -sf "$NODE_BIN" .tools/bin/node
fi
NODE_DIR=$(dirname "$NODE_BIN")

# npm's own CLI script, run under Node 22 (the system npm is a link to it).
NPM_CLI=$(readlink -f "$(command -v npm)")
case "$NPM_CLI" in *.js) ;; *) NPM_CLI=$(dirname "$NPM_CLI")/../lib/node_modules/npm/bin/npm-cli.js ;; esac
[ -f "$NPM_CLI" ] || { log "cannot find npm's npm-cli.js (looked at $NPM_CLI); install npm"; exit 1; }
run_npm() { PATH="$NODE_DIR:$PATH" "$NODE_BIN" "$NPM_CLI" "$@"; }

# --- 2. npm dependencies ---------------------------------------------------------------------
want=$(hash_of package.json package-lock.json)-$("$NODE_BIN" --version)
edr_ok() { "$NODE_BIN" -e 'require.resolve("@nomicfoundation/edr-linux-x64-gnu")' >/dev/null 2>&1 ||
  "$NODE_BIN" -e 'require("@nomicfoundation/edr")' >/dev/null 2>&1; }
if ! stamp_ok node_modules/.zkinfer-stamp "$want" || ! edr_ok; then
  log "installing npm dependencies under Node $("$NODE_BIN" --version)"
  if [ -f package-lock.json ]; then
    run_npm ci --no-audit --no-fund --loglevel=error >&2
  else
    run_npm install --no-audit --no-fund --loglevel=error >&2
  fi
  edr_ok || { log "Hardhat's native EDR package is missing after install; remove node_modules and rerun"; exit 1; }
  want=$(hash_of package.json package-lock.json)-$("$NODE_BIN" --version)
  echo "$want" > node_modules/.zkinfer-stamp
fi

# --- 3. Python .venv with EZKL ---------------------------------------------------------------
REQ=prover/python/requirements.txt
want_py=$(hash_of "$REQ")
if ! stamp_ok .venv/.zkinfer-stamp "$want_py"; then
  PY=${ZKINFER_BASE_PYTHON:-$(command -v python3 || true)}
  [ -n "$PY" ] || { log "python3 (>= 3.9) is required to host EZKL; install it (apt-get install python3 python3-venv)"; exit 1; }
  log "creating .venv with $($PY --version) and installing $REQ"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2
  echo "$want_py" > .venv/.zkinfer-stamp
fi
