#!/usr/bin/env bash
# The PostgreSQL job store's tests start a real server (test/helpers/postgres.ts) from Debian's
# `postgresql` package. Installs it when missing (as root, with apt-get); otherwise says how.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[setup] installing PostgreSQL (Debian package postgresql) for the job store's tests" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  exit 0
fi
echo "[setup] error: the PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/postgres) are missing" >&2
echo "[setup] hint: install them with 'sudo apt-get install postgresql' (the tests start and stop their own server on 127.0.0.1)" >&2
exit 1
